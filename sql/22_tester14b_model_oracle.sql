-- A portfolio's trained lead model is its own (lead_models has row-level
-- security; active_lead_model(other portfolio) answers the default model).
-- score_conversation(model => id) and lead_score(id, ...) must answer another
-- portfolio's model id exactly as a missing one: otherwise an app of one
-- portfolio scores with, and reads the term weights (reasons) of, another's.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
-- portfolio 100's own model (the default one's terms, its own weights)
INSERT INTO antiban.lead_models (portfolio_id, trained_at, feature_version, examples, won, train_examples,
    held_out_examples, params, metrics, intercept, platt_a, platt_b, features, weights, terms, held_out, note)
SELECT p.id, m.trained_at, m.feature_version, m.examples, m.won, m.train_examples, m.held_out_examples, m.params,
       m.metrics, m.intercept, m.platt_a, m.platt_b, m.features, (SELECT array_agg(w * 3) FROM unnest(m.weights) w),
       m.terms, m.held_out, 'portfolio 100 only'
FROM antiban.lead_models m, antiban.portfolios p WHERE m.portfolio_id IS NULL AND p.business_id = '100'
ORDER BY m.id LIMIT 1
RETURNING id AS private_model \gset
SELECT max(id) + 1000 AS missing_model FROM antiban.lead_models \gset
SET client_min_messages = warning;
DROP ROLE IF EXISTS tester14b_app;
RESET client_min_messages;
CREATE ROLE tester14b_app LOGIN IN ROLE antiban_app;
SELECT antiban.grant_portfolio('tester14b_app', '101') AS granted;
CREATE FUNCTION pg_temp.try_model(model bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM antiban.score_conversation(ARRAY['quero comprar'], model => model);
    RETURN 'scored';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || replace(SQLERRM, model::text, 'N');
END
$$;
CREATE FUNCTION pg_temp.try_score(model bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM antiban.lead_score(model, '{}'::int4[], '{}'::float4[], NULL, antiban.now());
    RETURN 'scored';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || replace(SQLERRM, model::text, 'N');
END
$$;
SET ROLE tester14b_app;
SELECT count(*) AS models_visible FROM antiban.lead_models WHERE id = :private_model;
-- the same answer for the other portfolio's model as for one that does not exist
SELECT pg_temp.try_model(:missing_model) AS missing_model, pg_temp.try_model(:private_model) AS other_portfolios_model;
SELECT pg_temp.try_score(:missing_model) AS missing_model, pg_temp.try_score(:private_model) AS other_portfolios_model;
RESET ROLE;
DROP ROLE tester14b_app;
