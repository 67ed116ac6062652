-- What tester14b found, the rest of its kind (README, Tenancy: "Ids are no
-- oracle"): an administrator mapped to portfolios activates, trains with and
-- rescores its own portfolios' models and leads only, and another
-- portfolio's model or portfolio id is answered exactly as a missing one;
-- event_order shows a mapped reader the subjects of its own WABAs, numbers,
-- templates and portfolios, and webhook_changes (not routed to a
-- portfolio, as webhook_events) none; a mapped reader's agent_on_shift,
-- business_deadline and business_time answer another portfolio's agent as a
-- missing one; journal_stats() (install-wide) is NULL for it.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT id AS portfolio_100 FROM antiban.portfolios WHERE business_id = '100' \gset
SELECT max(id) + 1000 AS missing_portfolio FROM antiban.portfolios \gset
-- portfolio 100's own model, and a conversation of portfolio 100 it scores
INSERT INTO antiban.lead_models (portfolio_id, trained_at, feature_version, examples, won, train_examples,
    held_out_examples, params, metrics, intercept, platt_a, platt_b, features, weights, terms, held_out, note)
SELECT :portfolio_100, m.trained_at, m.feature_version, m.examples, m.won, m.train_examples, m.held_out_examples,
       m.params, m.metrics, m.intercept, m.platt_a, m.platt_b, m.features, m.weights, m.terms, m.held_out,
       'portfolio 100 only'
FROM antiban.lead_models m WHERE m.portfolio_id IS NULL ORDER BY m.id LIMIT 1
RETURNING id AS private_model \gset
SELECT max(id) + 1000 AS missing_model FROM antiban.lead_models \gset
SELECT score IS NOT NULL AS scored_100 FROM antiban.note_lead_event(701, 'inbound', '2029-12-31 20:00+00',
    body => 'quero investir', portfolio => :portfolio_100);
-- what webhooks recorded about both portfolios
INSERT INTO antiban.event_order (subject, event_at, applied_at) VALUES
    ('waba 200 ban', '2030-01-01', '2030-01-01'), ('number 1001 quality', '2030-01-01', '2030-01-01'),
    ('template 200 segredo pt_BR status', '2030-01-01', '2030-01-01'),
    ('portfolio 100 messaging_limit', '2030-01-01', '2030-01-01'),
    ('waba 300 ban', '2030-01-01', '2030-01-01'), ('number 3001 quality', '2030-01-01', '2030-01-01'),
    ('template 300 oferta pt_BR status', '2030-01-01', '2030-01-01'),
    ('portfolio 101 messaging_limit', '2030-01-01', '2030-01-01');
-- an agent of portfolio 100, with its working hours
INSERT INTO antiban.agents (portfolio_id, name) VALUES (:portfolio_100, 'Ana') RETURNING id AS agent_100 \gset
SELECT max(id) + 1000 AS missing_agent FROM antiban.agents \gset
INSERT INTO antiban.webhook_changes (change_key, field, event_id, applied_at)
VALUES ('\x01', 'account_update', 1, '2030-01-01');
SET client_min_messages = warning;
DROP ROLE IF EXISTS fix14sec_admin;
DROP ROLE IF EXISTS fix14sec_reader;
RESET client_min_messages;
CREATE ROLE fix14sec_admin LOGIN IN ROLE antiban_admin;
CREATE ROLE fix14sec_reader LOGIN IN ROLE antiban_reader;
SELECT antiban.grant_portfolio('fix14sec_admin', '101') AND antiban.grant_portfolio('fix14sec_reader', '101') AS granted;
CREATE FUNCTION pg_temp.try(call text, id bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    answer text;
BEGIN
    EXECUTE format(call, id) INTO answer;
    RETURN coalesce(answer, 'done');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || replace(SQLERRM, id::text, 'N');
END
$$;
SET ROLE fix14sec_admin;
-- the same answer for the other portfolio's model or portfolio as for a missing one
SELECT pg_temp.try('SELECT antiban.activate_lead_model(%s)', :missing_model) AS missing_model,
       pg_temp.try('SELECT antiban.activate_lead_model(%s)', :private_model) AS other_portfolios_model;
SELECT pg_temp.try('SELECT antiban.train_lead_model(portfolio => %s)', :missing_portfolio) AS missing_portfolio,
       pg_temp.try('SELECT antiban.train_lead_model(portfolio => %s)', :portfolio_100) AS other_portfolio;
SELECT pg_temp.try('SELECT antiban.rescore_leads(portfolio => %s)', :missing_portfolio) AS missing_portfolio,
       pg_temp.try('SELECT antiban.rescore_leads(portfolio => %s)', :portfolio_100) AS other_portfolio;
-- and every portfolio means its own ones
SELECT antiban.rescore_leads() AS rescored_of_own_portfolios;
RESET ROLE;
SELECT active AS private_model_still_active FROM antiban.lead_models WHERE id = :private_model;
SET ROLE fix14sec_reader;
SELECT subject FROM antiban.event_order ORDER BY 1;
SELECT count(*) AS webhook_changes_seen FROM antiban.webhook_changes;
-- the decision journal counts every tenant's decisions: install-wide, not shown
SELECT j IS NULL AS journal_stats_hidden FROM antiban.journal_stats() j;
-- another portfolio's agent is answered as a missing one (its shifts and time zone)
SELECT pg_temp.try('SELECT antiban.agent_on_shift(%s)::text', :missing_agent) AS missing_agent,
       pg_temp.try('SELECT antiban.agent_on_shift(%s)::text', :agent_100) AS other_portfolios_agent;
SELECT pg_temp.try('SELECT antiban.business_deadline(%s, antiban.now(), ''1 hour'')::text', :agent_100) AS deadline,
       pg_temp.try('SELECT antiban.business_time(%s, antiban.now(), antiban.now() + ''1 day'')::text', :agent_100) AS elapsed;
RESET ROLE;
SELECT antiban.agent_on_shift(:agent_100) IS NOT NULL AS unmapped_asks_any_agent,
       (SELECT j IS NOT NULL FROM antiban.journal_stats() j) AS unmapped_reads_journal_stats;
-- an unmapped administrator still sees and uses everything
SELECT count(*) AS event_order_rows, (SELECT count(*) FROM antiban.webhook_changes) AS webhook_changes_rows
FROM antiban.event_order;
SELECT antiban.rescore_leads(portfolio => :portfolio_100) AS rescored_by_unmapped;
DROP ROLE fix14sec_admin;
DROP ROLE fix14sec_reader;
