-- Campaigns: creation and its errors (unknown template, bad or hostile
-- audiences, the caller's rights), the plan (eligible, excluded by reason,
-- budget, numbers, lint), the state machine, paced release exactly once per
-- person, and the funnel.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS antiban CASCADE;
CREATE EXTENSION antiban;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET antiban.pinned_now = '2030-03-04 08:00:00+00';
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('7100', 'TIER_250');
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('7200', 1);
INSERT INTO antiban.numbers (phone_number_id, waba_id) VALUES ('7001', 1), ('7002', 1);
INSERT INTO antiban.templates (waba_id, name, language, status, category, components) VALUES
    (1, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi {{1}}, novidades"}]'),
    (1, 'paused_promo', 'pt_BR', 'PAUSED', 'MARKETING', '[{"type": "BODY", "text": "Oi {{1}}"}]'),
    (1, 'receipt', 'pt_BR', 'APPROVED', 'UTILITY', '[{"type": "BODY", "text": "Recibo {{1}}"}]');
SELECT antiban.reload_config();

-- 40 shop_customers; one mistyped; one the same person as customer 1 (Brazil's
-- ninth digit: the audience's first row of a person wins); customer 2 asked
-- to stop.
CREATE TABLE shop_customers (phone text, first_name text, params jsonb);
INSERT INTO shop_customers
SELECT '+551198765' || lpad(i::text, 4, '0'), 'Cliente ' || i, jsonb_build_array('Cliente ' || i)
FROM generate_series(1, 40) i;
INSERT INTO shop_customers VALUES ('55 11 not a phone', 'Typo', '["Typo"]'),
                             ('+551187650001', 'Same as 1', '["Same"]');
SELECT antiban.recipient_key('+5511987650001') = antiban.recipient_key('+551187650001') AS ninth_digit_is_one_person;
SELECT antiban.set_marketing_opt_out('+5511987650002', '7001', true, NULL);

-- ---- creating, and what is refused ----
SELECT antiban.create_campaign('spring', 'no_such_template', 'pt_BR', 'shop_customers', recipient_column => 'phone');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'no_such_table', recipient_column => 'phone');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers', recipient_column => 'no_such_column');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers', category => 'service');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers', window_start => '18:00', window_end => '09:00');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers', time_zone => 'Mars/Olympus');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers', per_day_cap => 0);
-- injection attempts: a second statement, a way out of the subquery, a
-- writing WITH, SELECT INTO, row locks, a table name with a statement in it
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'SELECT phone AS recipient FROM shop_customers; DROP TABLE shop_customers');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'SELECT phone AS recipient FROM shop_customers) a; DROP TABLE shop_customers; --');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'WITH d AS (DELETE FROM shop_customers RETURNING phone) SELECT phone AS recipient FROM d');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'SELECT phone AS recipient INTO stolen FROM shop_customers');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'SELECT phone AS recipient FROM shop_customers FOR UPDATE');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers; DROP TABLE shop_customers');
SELECT count(*) AS shop_customers_still_there FROM shop_customers;
SELECT count(*) AS no_campaign_stored FROM antiban.campaigns;

-- the audience runs with the caller's rights, never antiban's
CREATE ROLE campaign_app_16 LOGIN IN ROLE antiban_app;
GRANT SELECT ON shop_customers TO campaign_app_16;
SET ROLE campaign_app_16;
SELECT antiban.create_campaign('steal', 'promo', 'pt_BR', 'SELECT value AS recipient FROM antiban.secrets');
SELECT antiban.create_campaign('steal_table', 'promo', 'pt_BR', 'antiban.secrets', recipient_column => 'value');
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR',
    'SELECT phone AS recipient, params FROM shop_customers ORDER BY phone;', params => 'params',
    window_start => '09:00', window_end => '18:00', per_hour_cap => 100, per_day_cap => 60);
RESET ROLE;
-- the same name twice
SELECT antiban.create_campaign('spring', 'promo', 'pt_BR', 'shop_customers', recipient_column => 'phone');
SELECT name, template_name, language, category, audience_kind, audience, created_by, state
FROM antiban.campaigns;
SELECT id AS spring FROM antiban.campaigns WHERE name = 'spring' \gset

-- ---- the plan ----
SELECT audience, eligible, held, excluded, needs, budget, budget_left, rate_per_hour, numbers, finishes_at,
       lint, summary
FROM antiban.plan_campaign(:spring);
-- a plan decides without journalling and takes nothing
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT count(*) AS decisions_before FROM antiban.decisions \gset
SELECT count(*) FROM antiban.decide_many(ARRAY['+5511987650003', '+5511987650004'], 'marketing', '7100');
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT count(*) - :decisions_before AS decisions_journalled, (SELECT used FROM antiban.portfolio_usage) AS used
FROM antiban.decisions;
-- a table audience without parameters for a template that takes one: every
-- row is excluded as invalid_params (send_template would refuse it)
SELECT antiban.create_campaign('no_params', 'promo', 'pt_BR', 'shop_customers', recipient_column => 'phone');
SELECT eligible, excluded FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'no_params'));
-- the same body for everyone: flagged by the lint
SELECT antiban.create_campaign('same_body', 'promo', 'pt_BR',
    'SELECT phone AS recipient, ''["Ana"]''::jsonb AS params FROM shop_customers', params => 'params');
SELECT lint FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'same_body'));
-- a utility campaign of a paused template: the lint refuses to start it
SELECT antiban.create_campaign('paused', 'paused_promo', 'pt_BR', 'shop_customers', recipient_column => 'phone',
                               category => 'utility');
SELECT id AS paused FROM antiban.campaigns WHERE name = 'paused' \gset
SELECT jsonb_path_query(lint, '$[*].rule') AS rule FROM antiban.plan_campaign(:paused);
SELECT antiban.start_campaign(:paused);
SELECT antiban.cancel_campaign(:paused);
SELECT antiban.start_campaign(:paused);
-- the score gate: only leads scoring 50+ that wrote within 7 days
SELECT antiban.link_identifiers(1, ARRAY['+5511987650010'], 'operator') AS p10,
       antiban.link_identifiers(1, ARRAY['+5511987650011'], 'operator') AS p11,
       antiban.link_identifiers(1, ARRAY['+5511987650012'], 'operator') AS p12 \gset
INSERT INTO antiban.leads (portfolio_id, person_id, score, last_inbound_at) VALUES
    (1, :p10, 80, '2030-03-03'), (1, :p11, 30, '2030-03-03'), (1, :p12, 90, '2030-01-01');
SELECT antiban.create_campaign('hot_leads', 'promo', 'pt_BR', 'shop_customers', recipient_column => 'phone',
                               params => 'params', min_score => 50, engaged_within => '7 days');
SELECT eligible, excluded FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'hot_leads'));
-- the same plan as an application role (identity tables are not its to read)
SET ROLE campaign_app_16;
SELECT eligible, excluded FROM antiban.plan_campaign((SELECT id FROM antiban.campaigns WHERE name = 'hot_leads'));
RESET ROLE;

-- ---- the life of a campaign ----
SELECT antiban.start_campaign(:spring);
SELECT antiban.start_campaign(:spring);
SELECT status, reason, count(*) FROM antiban.campaign_recipients WHERE campaign_id = :spring GROUP BY 1, 2 ORDER BY 1, 2;
SELECT antiban.pause_campaign(:spring);
SELECT antiban.pause_campaign(:spring);
SELECT antiban.resume_campaign(:spring);
SELECT from_state, to_state, detail ->> 'eligible' AS eligible, detail ->> 'excluded' AS excluded
FROM antiban.campaign_events WHERE campaign_id = :spring ORDER BY id;

-- ---- pacing: 60 a day (per_day_cap) over 09:00-18:00 is 6.67 an hour ----
SELECT * FROM antiban.pace_campaigns();                 -- 08:00: before the window
SET antiban.pinned_now = '2030-03-04 09:30:00+00';
SELECT * FROM antiban.pace_campaigns();                 -- ten minutes of catching up at most: 1.11
SELECT * FROM antiban.pace_campaigns();                 -- nothing new at the same instant
SET antiban.pinned_now = '2030-03-04 10:30:00+00';
SELECT * FROM antiban.pace_campaigns();                 -- 0.11 carried + 1.11
SET antiban.pinned_now = '2030-03-04 10:36:00+00';
SELECT * FROM antiban.pace_campaigns();                 -- 0.22 + 0.67: none
SET antiban.pinned_now = '2030-03-04 10:45:00+00';
SELECT * FROM antiban.pace_campaigns();                 -- 0.89 + 1.0
SELECT r.recipient, o.idempotency_key = format('campaign:%s:%s', r.campaign_id, r.person) AS keyed, o.category, o.priority, o.state, o.valid_until,
       o.payload -> 'template' -> 'components' -> 0 -> 'parameters' -> 0 ->> 'text' AS param,
       o.metadata - 'campaign_id' AS metadata
FROM antiban.campaign_recipients r JOIN antiban.outbox o ON o.id = r.outbox_id
WHERE r.campaign_id = :spring ORDER BY r.ord;
-- paused: nothing is released
SELECT antiban.pause_campaign(:spring);
SET antiban.pinned_now = '2030-03-04 12:00:00+00';
SELECT * FROM antiban.pace_campaigns();
SELECT antiban.resume_campaign(:spring);
SET antiban.pinned_now = '2030-03-04 12:10:00+00';
SELECT * FROM antiban.pace_campaigns();
-- after the window: nothing
SET antiban.pinned_now = '2030-03-04 18:00:00+00';
SELECT * FROM antiban.pace_campaigns();
-- a started campaign's plan is about what is still pending
SELECT audience, eligible, excluded, summary FROM antiban.plan_campaign(:spring);
-- a second release of the same person returns the same message
SELECT antiban.send_template(r.recipient, 'promo', 'pt_BR', r.params, 'marketing', 'low', NULL,
                             format('campaign:%s:%s', r.campaign_id, r.person)) = r.outbox_id AS same_message
FROM antiban.campaign_recipients r WHERE r.campaign_id = :spring AND r.status = 'released' ORDER BY r.ord LIMIT 1;
SELECT count(*) AS outbox_rows, count(DISTINCT recipient) AS recipients FROM antiban.outbox;

-- ---- the funnel, and cancelling ----
UPDATE antiban.outbox SET state = 'failed', error_code = 131026, failed_at = antiban.now()
WHERE id = (SELECT min(outbox_id) FROM antiban.campaign_recipients WHERE campaign_id = :spring);
SELECT name, state, audience, skipped, pending, queued, sent, failed, failed_by_code FROM antiban.campaign_funnel
WHERE campaign_id = :spring;
SELECT antiban.cancel_campaign(:spring);
SELECT antiban.resume_campaign(:spring);
SELECT antiban.start_campaign(:spring);
SELECT name, state, audience, skipped, pending, queued, failed, failed_by_code FROM antiban.campaign_funnel
WHERE campaign_id = :spring;
SELECT string_agg(to_state::text, ' -> ' ORDER BY id) AS states FROM antiban.campaign_events WHERE campaign_id = :spring;
SELECT * FROM antiban.pace_campaigns();

-- every public campaign function says what it does
SELECT p.oid::regprocedure AS undocumented FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace AND p.proname ~ 'campaign|audience|decide_many'
  AND obj_description(p.oid, 'pg_proc') IS NULL;
DROP OWNED BY campaign_app_16;
DROP ROLE campaign_app_16;
RESET antiban.pinned_now;
