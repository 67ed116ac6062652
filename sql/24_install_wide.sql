-- What acts on the whole install (settings, rate cards, maintenance, the
-- lead queue, every backend's configuration) is refused to an administrator
-- mapped to portfolios, as a statement or a direct write; an unmapped one,
-- the superuser and the workers keep doing it.  Direct writes to a
-- portfolio's rows stay within its portfolios, new rows too.  A person's
-- export and erasure take their portfolio's decisions only.
\i regress/fixture.sql
SELECT id AS p100 FROM antiban.portfolios WHERE business_id = '100' \gset
-- the SQLSTATE and message of a statement, or done
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- ---- decisions of a request: a single portfolio takes those of no number too ----
INSERT INTO antiban.decisions (decided_at, recipient, category, priority, outcome, reason, phone_number_id, consumed, detail)
VALUES ('2030-01-01', '+5511987650009', 'marketing', 'normal', 'SEND', 'ok', '1001', true, 'sent from 100'),
       ('2030-01-01', '+5511987650009', 'marketing', 'normal', 'REJECT', 'no_number', NULL, false, 'no number');
SELECT antiban.link_identifiers(:p100, ARRAY['+5511987650009'], 'operator') IS NOT NULL AS person_in_100;
SELECT jsonb_array_length(antiban.export_person('+5511987650009', '1001') -> 'decisions') AS single_portfolio_decisions;

-- a second portfolio, with decisions about the same phone
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Other tenant');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Other' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT '3001', w.id, '+55 21 90000-3001', 95 FROM antiban.wabas w WHERE w.waba_id = '300';
SELECT id AS p101 FROM antiban.portfolios WHERE business_id = '101' \gset
INSERT INTO antiban.decisions (decided_at, recipient, category, priority, outcome, reason, phone_number_id, consumed, detail)
VALUES ('2030-01-01 00:01', '+5511987650009', 'marketing', 'normal', 'SEND', 'ok', '3001', true, 'sent from 101');
SELECT antiban.link_identifiers(:p101, ARRAY['+5511987650009'], 'operator') IS NOT NULL AS person_in_101;
-- each portfolio's export: its own number's decisions; none of no number (unattributable now)
SELECT p.number, (SELECT jsonb_agg(d ->> 'detail' ORDER BY d ->> 'detail')
                  FROM jsonb_array_elements(antiban.export_person('+5511987650009', p.number) -> 'decisions') d) AS exported
FROM (VALUES ('1001'), ('3001')) AS p(number) ORDER BY 1;
-- erasure in 101 deletes 101's decision only: 100's audit stays
SELECT antiban.erase_person('+5511987650009', '3001') ->> 'decisions_deleted' AS erased_in_101;
SELECT detail FROM antiban.decisions WHERE recipient = '+5511987650009' ORDER BY detail;

-- ---- install-wide actions ----
SET client_min_messages = warning;
DROP ROLE IF EXISTS wide_admin_b, wide_admin_g;
RESET client_min_messages;
CREATE ROLE wide_admin_b LOGIN IN ROLE antiban_admin;
CREATE ROLE wide_admin_g LOGIN IN ROLE antiban_admin;
SELECT antiban.grant_portfolio('wide_admin_b', '101') AS mapped;
INSERT INTO antiban.agents (portfolio_id, name) VALUES (:p100, 'Ana of 100') RETURNING id AS agent_100 \gset
-- (every portfolio has its lead_routing row from its creation)

SET ROLE wide_admin_b;
-- the whole message, once
\set VERBOSITY default
UPDATE antiban.settings SET value = '1 day' WHERE name = 'retention.decisions';
\set VERBOSITY terse
SELECT w.stmt, pg_temp.try(w.stmt) AS result
FROM (VALUES ($$UPDATE antiban.settings SET value = '1 day' WHERE name = 'retention.decisions'$$),
             ($$UPDATE antiban.settings SET value = value WHERE false$$),
             ($$SELECT antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,BRL,1,1,1\n', '2030-01-01', 'BRL')$$),
             ($$SELECT antiban.load_volume_tiers('', '2030-01-01', 'BRL')$$),
             ($$SELECT antiban.reprice_messages('2029-01-01')$$),
             ($$SELECT count(*) FROM antiban.apply_retention()$$),
             ($$SELECT antiban.roll_up_days()$$),
             ($$SELECT antiban.reconcile_unconfirmed()$$),
             ($$SELECT count(*) FROM antiban.schedule_maintenance()$$),
             ($$SELECT antiban.unschedule_maintenance()$$),
             ($$SELECT antiban.process_lead_events()$$),
             ($$SELECT antiban.reload_config()$$),
             ($$SELECT antiban.flush_journal()$$)) AS w(stmt);
-- a portfolio's rows by direct write: another portfolio's (or none), refused; its own, done
SELECT w.stmt, pg_temp.try(w.stmt) AS result
FROM (VALUES ($$INSERT INTO antiban.agents (portfolio_id, name) VALUES ($$ || :p100 || $$, 'planted in 100')$$),
             ($$INSERT INTO antiban.lead_routing (portfolio_id) VALUES ($$ || :p100 || $$) ON CONFLICT DO NOTHING$$),
             ($$INSERT INTO antiban.lead_training_examples (portfolio_id, source, example_key, won, observed_at) VALUES ($$ || :p100 || $$, 'import', 'k1', true, now())$$),
             ($$INSERT INTO antiban.lead_training_examples (source, example_key, won, observed_at) VALUES ('corpus', 'k2', true, now())$$),
             ($$INSERT INTO antiban.agent_shifts (agent_id, weekday, starts, ends) VALUES ($$ || :agent_100 || $$, 1, '09:00', '17:00')$$),
             ($$INSERT INTO antiban.portfolios (business_id, name) VALUES ('102', 'planted')$$),
             ($$INSERT INTO antiban.agents (portfolio_id, name) VALUES ($$ || :p101 || $$, 'Bia of 101')$$),
             ($$UPDATE antiban.agents SET portfolio_id = $$ || :p100 || $$ WHERE name = 'Bia of 101'$$),
             ($$INSERT INTO antiban.lead_routing (portfolio_id) VALUES ($$ || :p101 || $$) ON CONFLICT (portfolio_id) DO UPDATE SET first_response_sla = '2 minutes'$$),
             ($$UPDATE antiban.lead_routing SET portfolio_id = $$ || :p100 || $$$$),
             ($$UPDATE antiban.lead_routing SET first_response_sla = '1 minute'$$),
             ($$DELETE FROM antiban.agents$$)) AS w(stmt);
RESET ROLE;
SELECT name, value FROM antiban.settings WHERE name = 'retention.decisions';
SELECT p.business_id, (SELECT count(*) FROM antiban.agents a WHERE a.portfolio_id = p.id) AS agents,
       (SELECT first_response_sla FROM antiban.lead_routing r WHERE r.portfolio_id = p.id) AS sla,
       (SELECT count(*) FROM antiban.lead_training_examples e WHERE e.portfolio_id = p.id) AS examples
FROM antiban.portfolios p ORDER BY 1;
SELECT count(*) AS corpus_k2 FROM antiban.lead_training_examples WHERE example_key = 'k2';

-- an unmapped administrator and the superuser (as whom pg_cron's jobs and the workers run) still do
SET ROLE wide_admin_g;
SELECT pg_temp.try($$UPDATE antiban.settings SET value = '45 days' WHERE name = 'retention.decisions'$$) AS global_settings,
       pg_temp.try($$SELECT antiban.reload_config()$$) AS global_reload,
       pg_temp.try($$SELECT antiban.flush_journal()$$) AS global_flush,
       pg_temp.try($$SELECT antiban.process_lead_events()$$) AS global_lead_events;
RESET ROLE;
SELECT value AS retention_decisions FROM antiban.settings WHERE name = 'retention.decisions';
SELECT pg_temp.try($$SELECT count(*) FROM antiban.apply_retention()$$) AS retention,
       pg_temp.try($$SELECT antiban.roll_up_days()$$) AS rollups,
       pg_temp.try($$SELECT antiban.reconcile_unconfirmed()$$) AS leases,
       pg_temp.try($$SELECT antiban.reprice_messages('2029-01-01')$$) AS reprice;
DROP OWNED BY wide_admin_b, wide_admin_g;
DROP ROLE wide_admin_b, wide_admin_g;
