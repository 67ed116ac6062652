-- Tenancy: two portfolios in one database. A role mapped to a portfolio
-- (antiban.role_portfolios) sends only from its numbers; a call that could
-- reach two portfolios without naming one is an error; a WABA without an
-- access token is out of rotation, with an alert.
\i regress/fixture.sql
INSERT INTO antiban.portfolios (business_id, name) VALUES ('101', 'Seguros BR');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name) SELECT '300', id, 'Seguros' FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, health)
SELECT v.pid, w.id, v.display, 95 FROM antiban.wabas w,
    (VALUES ('3001', '+55 21 90000-3001'), ('3002', '+55 21 90000-3002')) AS v(pid, display) WHERE w.waba_id = '300';

SET client_min_messages = warning;
DROP ROLE IF EXISTS tenancy_app_a, tenancy_app_b, tenancy_analyst, tenancy_admin;
RESET client_min_messages;
CREATE ROLE tenancy_app_a LOGIN IN ROLE antiban_app;
CREATE ROLE tenancy_app_b LOGIN IN ROLE antiban_app;
CREATE ROLE tenancy_analyst LOGIN IN ROLE antiban_analyst;
CREATE ROLE tenancy_admin LOGIN IN ROLE antiban_admin;

-- ==== 1. who may use what ====
SET ROLE tenancy_admin;
SELECT antiban.grant_portfolio('tenancy_app_a', '100') AS granted, antiban.grant_portfolio('tenancy_app_a', '100') AS again,
       antiban.grant_portfolio('tenancy_app_b', '101') AS b;
SELECT antiban.grant_portfolio('nobody_at_all', '100');
SELECT antiban.grant_portfolio('tenancy_app_a', '999');
SELECT role, p.business_id FROM antiban.role_portfolios r JOIN antiban.portfolios p ON p.id = r.portfolio_id ORDER BY 1, 2;
RESET ROLE;
SET ROLE tenancy_app_a;
SELECT p.business_id FROM antiban.portfolios p WHERE p.id = ANY (antiban.my_portfolios());
RESET ROLE;
SELECT antiban.my_portfolios() IS NULL AS superuser_unrestricted;

-- ==== 2. an unrestricted caller must say which portfolio ====
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR');
SELECT outcome FROM antiban.decide('+5511987650001', 'utility', consume => false);
SELECT antiban.send_template('+5511987650001', 'boas_vindas', 'pt_BR', portfolio => '101') AS named \gset
SELECT antiban.send_template('+5511987650002', 'boas_vindas', 'pt_BR', from_number => '1002') AS pinned \gset
SELECT o.id = :named AS named, p.business_id, o.phone_number_id FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.id IN (:named, :pinned) ORDER BY o.id;

-- ==== 3. the app of portfolio 100 never reaches 101's numbers ====
SET ROLE tenancy_app_a;
SELECT antiban.send_template('+5511987650003', 'boas_vindas', 'pt_BR', from_number => '3001');
SELECT antiban.send_template('+5511987650003', 'boas_vindas', 'pt_BR', portfolio => '101');
SELECT outcome FROM antiban.decide('+5511987650003', 'utility', from_number => '3001', consume => false);
SELECT antiban.send_text('+5511987650003', 'oi', from_number => '3002');
SELECT antiban.mark_read('wamid.X', '3001');
-- without from_number: always its own portfolio's numbers (3001/3002 have the best health)
SELECT count(*) AS sends, count(*) FILTER (WHERE id IS NOT NULL) AS queued
FROM (SELECT antiban.send_template('+55119876510' || lpad(i::text, 2, '0'), 'boas_vindas', 'pt_BR', valid_until => NULL) AS id
      FROM generate_series(10, 29) i) s;
SELECT DISTINCT d.phone_number_id LIKE '100%' AS own_number
FROM generate_series(10, 29) i, antiban.decide('+55119876520' || lpad(i::text, 2, '0'), 'utility', consume => false) d;
RESET ROLE;
SELECT p.business_id, count(*) AS messages, bool_and(o.phone_number_id IS NULL OR o.phone_number_id LIKE '100%') AS own_numbers
FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.recipient LIKE '+55119876510%' GROUP BY 1;
SET ROLE tenancy_app_b;
SELECT antiban.send_template('+5511987653001', 'boas_vindas', 'pt_BR') AS b_sent \gset
-- idempotency keys are per portfolio: B's key 'order-7' ...
SELECT antiban.send_template('+5511987653002', 'boas_vindas', 'pt_BR', idempotency_key => 'order-7') AS b_keyed \gset
RESET ROLE;
-- ... used by A is A's own message, never B's id; A's second call returns A's
SET ROLE tenancy_app_a;
SELECT antiban.send_template('+5511987653003', 'boas_vindas', 'pt_BR', idempotency_key => 'order-7') AS a_keyed \gset
SELECT :a_keyed <> :b_keyed AS not_b_message,
       antiban.send_template('+5511987653003', 'boas_vindas', 'pt_BR', idempotency_key => 'order-7') = :a_keyed AS same_again;
RESET ROLE;
SELECT p.business_id, o.recipient FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id
WHERE o.idempotency_key = 'order-7' ORDER BY o.id;
SELECT o.phone_number_id LIKE '300%' AS own_number FROM antiban.outbox o WHERE o.id = :b_sent;
-- A may not cancel B's message (it is "no outbox message" to A); B may
SET ROLE tenancy_app_a;
SELECT antiban.cancel(:b_sent);
RESET ROLE;
SELECT state FROM antiban.outbox WHERE id = :b_sent;
SET ROLE tenancy_app_b;
SELECT antiban.cancel(:b_sent) AS cancelled_by_b;
RESET ROLE;

-- ==== 4. a WABA without an access token is out of rotation, with an alert ====
SELECT antiban.set_secret('access_token', 'token-of-waba-200', '200');
SELECT outcome, reason, detail FROM antiban.decide('+5511987654001', 'utility', portfolio => '101', consume => false);
SELECT kind, waba_id, severity FROM antiban.alerts WHERE kind = 'no_access_token';
SELECT outcome, phone_number_id FROM antiban.decide('+5511987654001', 'utility', portfolio => '100', consume => false);
SELECT antiban.set_secret('access_token', 'token-of-waba-300', '300');
SELECT outcome, phone_number_id FROM antiban.decide('+5511987654001', 'utility', portfolio => '101', consume => false);

-- ==== 5. revoking the last grant leaves an app no portfolio while others are mapped (fail closed) ====
SET ROLE tenancy_admin;
SELECT antiban.revoke_portfolio('tenancy_app_b', '101') AS revoked, antiban.revoke_portfolio('tenancy_app_b', '101') AS again;
RESET ROLE;
SET ROLE tenancy_app_b;
SELECT antiban.my_portfolios() AS none, count(*) AS outbox_rows_seen FROM antiban.outbox;
SELECT antiban.send_template('+5511987653009', 'boas_vindas', 'pt_BR', portfolio => '101');
RESET ROLE;

-- ==== 6. row-level security: each app and reader sees its portfolios' rows ====
SET ROLE tenancy_admin;
SELECT antiban.grant_portfolio('tenancy_app_b', '101');
RESET ROLE;
INSERT INTO antiban.contacts (portfolio_id, wa_id, profile_name, last_phone_number_id)
SELECT p.id, v.wa, v.name, v.pid FROM antiban.portfolios p,
    (VALUES ('100', '5511987657001', 'Ana', '1001'), ('101', '5511987657002', 'Bruno', '3001')) AS v(b, wa, name, pid)
WHERE p.business_id = v.b;
INSERT INTO antiban.interactions (contact_id, direction, wamid, phone_number_id, message_type, body, payload, occurred_at)
SELECT c.id, 'in', 'wamid.' || c.wa_id, c.last_phone_number_id, 'text', 'oi, sou ' || c.profile_name, '{}', now()
FROM antiban.contacts c WHERE c.wa_id LIKE '551198765700%';
INSERT INTO antiban.webhook_events (body_raw, body_sha256, body, body_size, signature_valid, status)
VALUES (convert_to('{"object":"whatsapp_business_account","entry":[]}', 'UTF8'), '\x00', '{"object":"whatsapp_business_account","entry":[]}', 50, true, 'applied');
SELECT antiban.flush_journal() >= 0 AS flushed;
CREATE TEMP VIEW seen WITH (security_invoker = true) AS
SELECT (SELECT string_agg(DISTINCT p.business_id, ',' ORDER BY p.business_id) FROM antiban.portfolios p) AS portfolios,
       (SELECT string_agg(DISTINCT p.business_id, ',' ORDER BY p.business_id)
        FROM antiban.outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id) AS outbox,
       (SELECT string_agg(DISTINCT coalesce(o.phone_number_id, '-'), ',' ORDER BY coalesce(o.phone_number_id, '-'))
        FROM antiban.outbox o) AS outbox_numbers,
       (SELECT string_agg(s.state || '=' || s.messages, ',' ORDER BY s.state) FROM antiban.outbox_states s) AS outbox_view,
       (SELECT string_agg(c.profile_name, ',' ORDER BY c.profile_name) FROM antiban.contacts c) AS contacts,
       (SELECT string_agg(i.body, ',' ORDER BY i.body) FROM antiban.interactions i) AS interactions,
       (SELECT count(*) FROM antiban.webhook_events) AS webhook_events,
       (SELECT string_agg(DISTINCT d.phone_number_id, ',' ORDER BY d.phone_number_id) FROM antiban.decisions d) AS decisions,
       (SELECT string_agg(DISTINCT w.waba_id, ',' ORDER BY w.waba_id) FROM antiban.wabas w) AS wabas;
GRANT SELECT ON seen TO PUBLIC;
\x on
SET ROLE tenancy_app_a;
SELECT * FROM seen;
RESET ROLE;
SET ROLE tenancy_app_b;
SELECT * FROM seen;
RESET ROLE;
-- a role with no mapping (here the admin, a reader through antiban_app) sees every portfolio
SET ROLE tenancy_admin;
SELECT * FROM seen;
RESET ROLE;
\x off
-- every view that now runs with the reader's rights still works for a reader
CREATE FUNCTION pg_temp.views_that_fail() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    v regclass;
BEGIN
    FOR v IN SELECT c.oid::regclass FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind = 'v'
               AND has_table_privilege('antiban_reader', c.oid, 'SELECT')
               AND 'security_invoker=true' = ANY (c.reloptions) ORDER BY 1 LOOP
        BEGIN
            EXECUTE format('SELECT * FROM %s LIMIT 1', v);
        EXCEPTION WHEN OTHERS THEN
            RETURN NEXT v::text || ': ' || SQLERRM;
        END;
    END LOOP;
END
$$;
SET ROLE tenancy_app_a;
SELECT * FROM pg_temp.views_that_fail();
RESET ROLE;
SELECT count(*) > 10 AS views_with_invokers_rights FROM pg_class c
WHERE c.relnamespace = 'antiban'::regnamespace AND 'security_invoker=true' = ANY (c.reloptions);
SELECT c.relname AS without_policy FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'portfolio_id'
WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind = 'r'
  AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) ORDER BY 1;

-- ==== 7. the masked reader: counts, states, costs and scores; no phone, name or text ====
SET ROLE tenancy_admin;
SELECT antiban.grant_portfolio('tenancy_analyst', '100') AND antiban.grant_portfolio('tenancy_analyst', '101') AS both;
RESET ROLE;
SET ROLE tenancy_analyst;
SELECT p.business_id, o.state, count(*) AS messages
FROM antiban.analyst_outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id GROUP BY 1, 2 ORDER BY 1, 2;
SELECT p.business_id, count(*) AS contacts, count(*) FILTER (WHERE c.marketing_opt_out) AS opted_out
FROM antiban.analyst_contacts c JOIN antiban.portfolios p ON p.id = c.portfolio_id GROUP BY 1 ORDER BY 1;
SELECT direction, message_type, count(*) FROM antiban.analyst_interactions GROUP BY 1, 2;
SELECT outcome, count(*) > 0 AS some FROM antiban.analyst_decisions GROUP BY 1 ORDER BY 1;
-- the tables themselves are not its to read
SELECT recipient FROM antiban.outbox LIMIT 1;
SELECT profile_name FROM antiban.contacts LIMIT 1;
SELECT body FROM antiban.interactions LIMIT 1;
SELECT * FROM antiban.numbers LIMIT 1;
RESET ROLE;
-- no value in any view it may read is a phone number, a name or a message text
CREATE FUNCTION pg_temp.personal_data_shown(who name) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    v regclass;
    n bigint;
BEGIN
    FOR v IN SELECT c.oid::regclass FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind = 'v'
               AND has_table_privilege(who, c.oid, 'SELECT') ORDER BY 1 LOOP
        EXECUTE format('SET ROLE %I', who);
        BEGIN
            EXECUTE format($q$SELECT count(*) FROM %s x WHERE row_to_json(x)::text ~ '(\+?55119876|90000-|Ana|Bruno|oi, sou|boas_vindas.*Ana)'$q$, v) INTO n;
        EXCEPTION WHEN insufficient_privilege THEN
            n := 0;		-- maintenance_runs with pg_cron installed: cron is not a reader's
        END;
        RESET ROLE;
        IF n > 0 THEN
            RETURN NEXT v::text || ': ' || n;
        END IF;
    END LOOP;
END
$$;
SELECT count(*) > 5 AS analyst_views FROM pg_class c
WHERE c.relnamespace = 'antiban'::regnamespace AND has_table_privilege('tenancy_analyst', c.oid, 'SELECT');
SELECT * FROM pg_temp.personal_data_shown('tenancy_analyst');
-- the same check finds them for an ordinary reader (it would catch a leak)
SELECT count(*) > 0 AS reader_sees_personal_data FROM pg_temp.personal_data_shown('tenancy_admin');

-- a mapped analyst sees its portfolios only
SET ROLE tenancy_admin;
SELECT antiban.revoke_portfolio('tenancy_analyst', '100');
RESET ROLE;
SET ROLE tenancy_analyst;
SELECT DISTINCT p.business_id FROM antiban.analyst_outbox o JOIN antiban.portfolios p ON p.id = o.portfolio_id;
SELECT count(*) AS other_contacts FROM antiban.analyst_contacts c WHERE c.portfolio_id <> ALL (antiban.portfolios_of(current_user));
RESET ROLE;

-- ==== 8. the login's mapping holds whatever role it SETs, for every number and template ====
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT w.id, v.name, 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi {{1}}"}]'
FROM antiban.wabas w, (VALUES ('200', 'oferta_a'), ('300', 'oferta_b')) AS v(waba, name) WHERE w.waba_id = v.waba;
SET SESSION AUTHORIZATION tenancy_app_a;
SET ROLE antiban_app;
SELECT p.business_id AS still_only FROM antiban.portfolios p;
SELECT count(*) AS other_outbox_rows FROM antiban.outbox o WHERE o.phone_number_id LIKE '300%';
SELECT antiban.send_template('+5511987658001', 'boas_vindas', 'pt_BR', from_number => '3001');
-- the policies' helpers answer about the caller's own roles only
SELECT antiban.portfolios_of(current_user) = antiban.portfolios_of(session_user) AS same_scope;
SELECT antiban.portfolios_of('tenancy_app_b');
SELECT antiban.phone_numbers_of('tenancy_app_b');
-- every function that takes a number refuses another portfolio's
SELECT antiban.try_consume('3001', 1, consume => false);
SELECT antiban.record_opt_in('+5511987658002', '3001', 'form', 'form v1');
SELECT antiban.set_person_time_zone('+5511987658002', '3001', 'Asia/Tokyo');
SELECT antiban.upsert_lead('+5511987658002', '3001');
SELECT antiban.check_message('template', 'marketing', '{"template": {"name": "oferta_b", "language": {"code": "pt_BR"}}}', '3001');
-- templates: the message's portfolio's only, and errors that name none of another's
SELECT antiban.template_params_problem('oferta_b', 'pt_BR', '["x"]', 'marketing') AS other_portfolios_template;
SELECT antiban.template_params_problem('oferta_a', 'pt_BR', '["x"]', 'marketing') AS own_template;
SELECT antiban.send_template('+5511987658003', 'oferta_b', 'pt_BR', '["x"]');
RESET ROLE;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS queued_with_b_template FROM antiban.outbox WHERE recipient = '+5511987658003';
-- B's app still has its own
SET ROLE tenancy_app_b;
SELECT antiban.template_params_problem('oferta_b', 'pt_BR', '["x"]', 'marketing') AS own_template;
RESET ROLE;
