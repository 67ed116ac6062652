-- Every function granted to antiban_admin (and the operator's, to
-- antiban_dashboard) works for a plain login that is a member of that role
-- only: not a superuser, not the owner of antiban's tables.  Before, the
-- install-wide ones (rate cards, repricing, retention, rollups, the
-- maintenance jobs) ran with the caller's rights and failed with permission
-- errors for every admin but the table owner.  A mapped admin (a tenant's)
-- is still refused what acts on the whole install.
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
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;
SET client_min_messages = warning;
DROP ROLE IF EXISTS admin26, admin26_mapped, operator26, app26;
RESET client_min_messages;
CREATE ROLE admin26 LOGIN IN ROLE antiban_admin;
CREATE ROLE admin26_mapped LOGIN IN ROLE antiban_admin;
CREATE ROLE operator26 LOGIN IN ROLE antiban_dashboard;
CREATE ROLE app26 LOGIN IN ROLE antiban_app;

-- what the calls need, made by the superuser: a message delivered and
-- priced, an old decision, a doubtful stop request, a lead, an agent, alerts
INSERT INTO antiban.outbox (recipient, category, message_type, payload, number_id, state, not_before, created_at,
                            sent_at, portfolio_id)
VALUES ('+5511987650001', 'marketing', 'template', '{}', 1, 'sent', '2029-12-31 10:00', '2029-12-31 10:00',
        '2029-12-31 10:00', :p100) RETURNING id AS message \gset
UPDATE antiban.outbox SET state = 'delivered', delivered_at = '2029-12-31 10:01', pricing_type = 'regular',
                          pricing_category = 'marketing'
WHERE id = :message;
SELECT currency, unit_price, card_effective FROM antiban.message_costs WHERE message_id = :message;
INSERT INTO antiban.decisions (decided_at, recipient, category, priority, outcome, reason, phone_number_id, consumed, detail)
VALUES ('2029-01-01', '+5511987650009', 'marketing', 'normal', 'SEND', 'ok', '1001', true, 'a year old');
INSERT INTO antiban.stop_reviews (phone_number_id, message, verdict, rule, explanation)
VALUES ('1001', 'para', 'doubtful', 'test', 'made by the test') RETURNING id AS review \gset
SELECT antiban.upsert_lead('+5511987650003', :p100) AS lead \gset
SELECT antiban.link_identifiers(:p100, ARRAY['+5511987650001'], 'operator') IS NOT NULL AS person_to_export,
       antiban.link_identifiers(:p100, ARRAY['+5511987650002'], 'operator') IS NOT NULL AS person_to_erase;
INSERT INTO antiban.agents (portfolio_id, name) VALUES (:p100, 'Ana') RETURNING id AS agent \gset
SELECT antiban.set_mode('1004', 'paused', 'made by the test');
SELECT max(id) AS alert FROM antiban.alerts \gset
SELECT antiban.grant_portfolio('admin26_mapped', '100') AS mapped;

-- ---- a plain admin login: each function, with valid arguments ----
SET SESSION AUTHORIZATION admin26;
SELECT rolsuper FROM pg_roles WHERE rolname = session_user;
SELECT w.call, pg_temp.try('SELECT ' || w.call) AS result
FROM (VALUES
    -- rates and costs
    ($$antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\nBrazil,USD,0.0625,0.0068,0.0068,n/a,0\n', '2029-10-01', 'USD', 'test 26')$$),
    ($$antiban.load_volume_tiers(E'Market,Currency,Category,From,To,Rate\nBrazil,USD,Utility,1,MAX,0.0068\n', '2029-10-01', 'USD')$$),
    ($$antiban.reprice_messages('2029-01-01')$$),
    -- maintenance (pg_cron is not created in this database yet)
    ($$count(*) FROM antiban.apply_retention()$$),
    ($$antiban.roll_up_days()$$),
    ($$antiban.reconcile_unconfirmed()$$),
    -- configuration
    ($$antiban.reload_config()$$),
    ($$antiban.flush_journal()$$),
    ($$antiban.refuse_install_wide('test')$$),
    ($$antiban.grant_portfolio('app26', '100')$$),
    ($$antiban.revoke_portfolio('app26', '100')$$),
    ($$antiban.forget_dropped_roles()$$),
    -- numbers
    ($$antiban.set_mode('1002', 'throttled', 'test 26')$$),
    ($$antiban.release_mode('1002', 'test 26')$$),
    ($$antiban.start_warmup('1003', 'test 26')$$),
    ($$count(*) FROM antiban.evaluate_health()$$),
    ($$antiban.lift_account_block('200', 'RESTRICTED_BIZ_INITIATED_MESSAGING', 'test 26')$$),
    -- people and consent
    ($$antiban.open_service_window('+5511987650004', '1001')$$),
    ($$antiban.set_marketing_opt_out('+5511987650005', '1001')$$),
    ($$antiban.set_marketing_opt_out('+5511987650006', '1001', true, '2029-12-31', 'operator')$$),
    ($$antiban.link_identifiers($$ || :p100 || $$, ARRAY['+5511987650007'], 'operator')$$),
    ($$antiban.export_person('+5511987650001', '1001')$$),
    ($$antiban.erase_person('+5511987650002', '1001')$$),
    ($$antiban.resolve_stop_review($$ || :review || $$, false)$$),
    ($$antiban.acknowledge_alert($$ || :alert || $$)$$),
    ($$antiban.requeue(ARRAY[]::bigint[])$$),
    -- leads and campaigns
    ($$antiban.set_working_hours($$ || :agent || $$, '{"mon-fri": "09:00-18:00"}')$$),
    ($$antiban.set_agent_presence($$ || :agent || $$, 'online')$$),
    ($$count(*) FROM antiban.check_sla()$$),
    ($$antiban.assign_queued()$$),
    ($$antiban.rescore_leads()$$),
    ($$antiban.request_lead_llm($$ || :lead || $$)$$),
    ($$antiban.process_lead_events()$$),
    ($$count(*) FROM antiban.pace_campaigns()$$)) AS w(call);
-- secrets (masked in messages about the statement, so alone)
SELECT pg_temp.try($$SELECT antiban.set_secret('access_token', 'EAAG-token-of-test-26', '200')$$) AS set_token,
       pg_temp.try($$SELECT antiban.clear_secret('access_token', '200')$$) AS clear_token;
-- its direct writes (the agents' trigger checks a zone as the admin)
INSERT INTO antiban.agents (portfolio_id, name, time_zone) VALUES (:p100, 'Bia', 'America/Sao_Paulo');
-- settings are the admin's to change
UPDATE antiban.settings SET value = '60 days' WHERE name = 'retention.decisions';
RESET SESSION AUTHORIZATION;
-- what they did
SELECT c.currency, c.effective_from, c.source, count(r.*) AS rates
FROM antiban.rate_cards c JOIN antiban.rates r ON r.card_id = c.id WHERE c.source = 'test 26' GROUP BY 1, 2, 3;
SELECT count(*) AS rollups FROM antiban.daily_rollups;
SELECT currency, unit_price, card_effective FROM antiban.message_costs WHERE message_id = :message;
SELECT count(*) AS decisions_a_year_old FROM antiban.decisions WHERE detail = 'a year old';
SELECT resolution, resolved_by FROM antiban.stop_reviews WHERE id = :review;
SELECT mode, mode_forced FROM antiban.numbers WHERE phone_number_id IN ('1002', '1003') ORDER BY phone_number_id;

-- ---- an old partition: only its owner drops it whole ----
-- (made after the install, as pg_partman makes them: without the parent's grants)
CREATE TABLE antiban.webhook_posts_2029_10 PARTITION OF antiban.webhook_posts
    FOR VALUES FROM ('2029-10-01') TO ('2029-11-01');
INSERT INTO antiban.webhook_events (received_at, body_raw, body_size, body_sha256, signature_valid, status)
SELECT at, '\x7b7d', 2, sha256(convert_to(at::text, 'UTF8')), true, 'applied'
FROM generate_series(timestamptz '2029-10-01', '2029-10-03', interval '1 day') at;
SET SESSION AUTHORIZATION admin26;
SELECT what, deleted, partitions_dropped FROM antiban.apply_retention() WHERE what = 'webhook_events';
RESET SESSION AUTHORIZATION;
SELECT to_regclass('antiban.webhook_posts_2029_10') IS NOT NULL AS kept_for_the_owner,
       (SELECT count(*) FROM antiban.webhook_posts_2029_10) AS rows_left;
SELECT what, partitions_dropped FROM antiban.apply_retention() WHERE what = 'webhook_events';
SELECT to_regclass('antiban.webhook_posts_2029_10') IS NULL AS dropped_by_the_owner;

-- ---- pg_cron: a clear error without it, the jobs with it ----
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_cron;
RESET client_min_messages;
SET SESSION AUTHORIZATION admin26;
\set VERBOSITY default
SELECT antiban.schedule_maintenance();
\set VERBOSITY terse
RESET SESSION AUTHORIZATION;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
RESET client_min_messages;
-- pg_cron's own rule: a role needs its schema to schedule jobs
SET SESSION AUTHORIZATION admin26;
\set VERBOSITY default
SELECT antiban.schedule_maintenance();
\set VERBOSITY terse
SELECT DISTINCT last_status FROM antiban.maintenance_runs;
RESET SESSION AUTHORIZATION;
GRANT USAGE ON SCHEMA cron TO admin26;
SET SESSION AUTHORIZATION admin26;
-- (antiban-partitions too when an earlier case left pg_partman in this database)
SELECT job_name, schedule FROM antiban.schedule_maintenance() WHERE job_name <> 'antiban-partitions' ORDER BY 1;
-- (a job may run meanwhile: its status is not shown)
SELECT job_name, schedule FROM antiban.maintenance_runs WHERE job_name <> 'antiban-partitions' ORDER BY 1;
SELECT antiban.unschedule_maintenance() >= 4 AS removed;
SELECT count(*) FILTER (WHERE schedule IS NOT NULL) AS left_scheduled FROM antiban.maintenance_runs;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS jobs_left FROM cron.job WHERE jobname LIKE 'antiban-%';

-- ---- the operator (antiban_dashboard): acknowledge_alert ----
SET SESSION AUTHORIZATION operator26;
SELECT pg_temp.try('SELECT antiban.acknowledge_alert(' || :alert || ')') AS operator_ack;
RESET SESSION AUTHORIZATION;

-- ---- a mapped admin: still refused what acts on the whole install ----
SET SESSION AUTHORIZATION admin26_mapped;
SELECT w.call, pg_temp.try('SELECT ' || w.call) AS result
FROM (VALUES
    ($$antiban.load_rate_card(E'Market,Currency,Marketing,Utility,Authentication\nBrazil,BRL,1,1,1\n', '2030-01-01', 'BRL')$$),
    ($$antiban.load_volume_tiers('', '2029-12-01', 'USD')$$),
    ($$antiban.reprice_messages('2029-01-01')$$),
    ($$count(*) FROM antiban.apply_retention()$$),
    ($$antiban.roll_up_days()$$),
    ($$antiban.reconcile_unconfirmed()$$),
    ($$count(*) FROM antiban.schedule_maintenance()$$),
    ($$antiban.unschedule_maintenance()$$)) AS w(call);
RESET SESSION AUTHORIZATION;

DROP OWNED BY admin26, admin26_mapped, operator26, app26;
DROP ROLE admin26, admin26_mapped, operator26, app26;
