-- What each Meta error code does: one table (src/core/error_class.c), read
-- by the sender's record step and by the webhooks' failed statuses alike.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
UPDATE antiban.numbers SET quality_rating = 'GREEN', status = 'CONNECTED', health = 100,
       throughput_level = 'HIGH';
\set now '''2030-01-01 00:00:00+00'''
\i regress/protection_helpers.sql
-- A failed status, signed like Meta's, for one message of a number.
CREATE FUNCTION pg_temp.failed_status(number text, message bigint, code integer) RETURNS boolean
LANGUAGE sql AS $$
    SELECT w.stored
    FROM (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
            '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"55119000000%s","phone_number_id":"%s"},'
            '"statuses":[{"id":"wamid.%s","status":"failed","timestamp":"1893456000","recipient_id":"%s",'
            '"errors":[{"code":%s,"title":"error %s","error_data":{"details":"from the test"}}]}]}}]}]}',
            right(number, 2), number, message, ltrim(o.recipient, '+'), code, code) AS b
          FROM antiban.outbox o WHERE o.id = message) x,
         antiban.ingest_webhook(convert_to(x.b, 'UTF8'),
             'sha256=' || encode(hmac(convert_to(x.b, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) w
$$;
-- A template from a number to a recipient, claimed by the sender now.
CREATE FUNCTION pg_temp.claimed(number text, recipient text, template text DEFAULT 'oferta') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m bigint := antiban.send_template(recipient, template, 'pt_BR', from_number => number);
BEGIN
    UPDATE antiban.outbox o SET state = 'sending', number_id = n.id, phone_number_id = n.phone_number_id
    FROM antiban.numbers n WHERE o.id = m AND n.phone_number_id = number;
    RETURN m;
END
$$;
-- Meta accepted it: sent, with a wamid (a failed status may follow).
CREATE FUNCTION pg_temp.accepted(message bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.' || message WHERE id = message
$$;
-- The sender's record step for an error answer: the same C routine.
CREATE FUNCTION pg_temp.answered(message bigint, code integer) RETURNS text[] LANGUAGE sql AS $$
    UPDATE antiban.outbox SET state = 'retry_wait', error_code = code WHERE id = message;
    SELECT antiban.act_on_error(o.number_id, o.id, code, 400, 'send', o.sending_at, o.recipient)
    FROM antiban.outbox o WHERE o.id = message;
$$;
-- What a number went through: its mode, rate, alerts and counted errors.
CREATE FUNCTION pg_temp.suffered(number text) RETURNS TABLE (mode antiban.number_mode, hard_block boolean,
    rate_factor numeric, alerts text, counted text)
LANGUAGE sql AS $$
    SELECT n.mode, n.hard_block, round(n.rate_factor::numeric, 3),
           (SELECT string_agg(a.severity || ' ' || a.kind, ', ' ORDER BY a.id) FROM antiban.alerts a
            WHERE a.phone_number_id = number),
           (SELECT concat_ws(', ', 'spam ' || nullif(s.spam_errors, 0), 'policy ' || nullif(s.policy_errors, 0),
                             'throughput ' || nullif(s.throughput_errors, 0), 'pair ' || nullif(s.pair_errors, 0),
                             'marketing_cap ' || nullif(s.marketing_cap_errors, 0),
                             'undeliverable ' || nullif(s.undeliverable_errors, 0), 'blocks ' || nullif(s.blocks_day, 0),
                             'soft pause ' || nullif(s.new_soft_pause_errors, 0), 'hard pause ' || nullif(s.new_hard_pause_errors, 0))
            FROM antiban.number_signals() s WHERE s.phone_number_id = number)
    FROM antiban.numbers n WHERE n.phone_number_id = number
$$;
-- What decide() says now about marketing and utility to a recipient.
CREATE FUNCTION pg_temp.person(recipient text) RETURNS TABLE (category text, outcome text, reason text, waits interval)
LANGUAGE sql AS $$
    SELECT c, d.outcome, d.reason, d.not_before - antiban.now()
    FROM unnest(ARRAY['marketing', 'utility']) c, antiban.decide(recipient, c, consume => false) d
$$;
-- Both numbers back to a clean start.
CREATE FUNCTION pg_temp.fresh() RETURNS void LANGUAGE sql AS $$
    UPDATE antiban.numbers SET mode = 'active', hard_block = false, mode_forced = false, rate_factor = 1,
           rate_decreased_at = NULL;
    DELETE FROM antiban.send_errors;
    DELETE FROM antiban.alerts;
    DELETE FROM antiban.health_state;
$$;

-- ==== 1. The table, as people read it ====
SELECT code, last_code, action, class, pause, slow_number AS slow, recipient_backoff AS pair,
       defer_marketing AS defer, opt_out, health_counter AS counter, alert_kind, alert_severity AS severity,
       max_attempts AS tries, min_delay, meaning
FROM antiban.meta_codes();
-- Codes it does not know follow the HTTP status; a range answers for each code in it.
SELECT c, h, (antiban.error_action(c, h)).* FROM (VALUES (999999, 503), (999999, 429), (999999, 0), (999999, 400),
    (250, 403), (2388293, 400)) AS v(c, h);
-- The legacy spam code 471 does exactly what 131048 does.
SELECT a.code, a.action, a.class, a.pause, a.health_counter, a.alert_kind, a.alert_severity
FROM (VALUES (471), (131048)) v(c), antiban.error_action(v.c) a;
SELECT count(*) AS differences FROM (
    SELECT action, class, pause, slow_number, recipient_backoff, defer_marketing, opt_out, health_counter,
           restarts_recovery, alert_kind, alert_severity, max_attempts, min_delay FROM antiban.error_action(471)
    EXCEPT
    SELECT action, class, pause, slow_number, recipient_backoff, defer_marketing, opt_out, health_counter,
           restarts_recovery, alert_kind, alert_severity, max_attempts, min_delay FROM antiban.error_action(131048)) d;
SELECT antiban.act_on_error(1, NULL, NULL);
SELECT antiban.act_on_error(1, NULL, 131048, 400, 'fax');

-- ==== 2. The same code does the same thing through either door ====
-- 1001 meets each code in a send answer (the sender's record step), 1002 in
-- a failed status webhook; each to its own recipient.
CREATE TABLE pg_temp.seen (code integer, door text, number text, recipient text, mode antiban.number_mode,
    hard_block boolean, rate_factor numeric, alerts text, counted text, marketing text, utility text);
CREATE FUNCTION pg_temp.both_doors(code integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    by_send bigint;
    by_hook bigint;
    r1 text := '+55119' || lpad((code % 100000000)::text, 8, '0');
    r2 text := '+55219' || lpad((code % 100000000)::text, 8, '0');
BEGIN
    PERFORM pg_temp.fresh();
    by_send := pg_temp.claimed('1001', r1);
    by_hook := pg_temp.claimed('1002', r2);
    PERFORM pg_temp.tick();
    PERFORM pg_temp.answered(by_send, code);
    PERFORM pg_temp.accepted(by_hook);
    PERFORM pg_temp.failed_status('1002', by_hook, code);
    PERFORM pg_temp.tick();
    INSERT INTO pg_temp.seen
    SELECT code, d.door, d.number, d.r, s.*,
           (SELECT p.outcome || ' ' || p.reason || coalesce(' in ' || p.waits, '') FROM pg_temp.person(d.r) p WHERE p.category = 'marketing'),
           (SELECT p.outcome || ' ' || p.reason FROM pg_temp.person(d.r) p WHERE p.category = 'utility')
    FROM (VALUES ('send', '1001', r1), ('webhook', '1002', r2)) d(door, number, r), pg_temp.suffered(d.number) s;
END
$$;
SELECT pg_temp.both_doors(c) FROM unnest(ARRAY[131048, 471, 131031, 131005, 131049, 131050, 131056, 131026]) c;
SELECT code, door, mode, hard_block, rate_factor, alerts, counted, marketing, utility FROM pg_temp.seen ORDER BY code, door;
-- Either door, the same: no code differs in anything but the number and the recipient.
SELECT count(*) AS codes_that_differ FROM (
    SELECT code, mode, hard_block, rate_factor, alerts, counted, marketing, utility FROM pg_temp.seen WHERE door = 'send'
    EXCEPT
    SELECT code, mode, hard_block, rate_factor, alerts, counted, marketing, utility FROM pg_temp.seen WHERE door = 'webhook') d;
-- 24 h after 131049, marketing goes to that person again.
SELECT pg_temp.at('2030-01-02 00:01:00+00');
SELECT * FROM pg_temp.person('+5511900131049');

-- ==== 3. One congestion event, one decrease by antiban.aimd_decrease ====
ALTER SYSTEM SET antiban.aimd_decrease = 0.7;
SELECT pg_reload_conf();
-- wait (statement by statement, as a backend reloads between them) for the new value
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) <> %L', 'antiban.aimd_decrease', '0.7')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all
SELECT current_setting('antiban.aimd_decrease') AS aimd_decrease;
-- Through either door, 130429 costs the number one decrease by that factor.
SELECT pg_temp.at('2030-01-03 00:00:00+00');
SELECT pg_temp.both_doors(130429);
SELECT code, door, mode, hard_block, rate_factor, alerts, counted, marketing, utility FROM pg_temp.seen
WHERE code = 130429 ORDER BY door;
SELECT pg_temp.at('2030-01-04 00:00:00+00');
SELECT pg_temp.fresh();
-- A and B leave together; Meta answers A with 130429 ...
SELECT pg_temp.claimed('1003', '+5511987000001') AS a \gset
SELECT pg_temp.claimed('1003', '+5511987000002') AS b \gset
SELECT pg_temp.tick();
SELECT pg_temp.accepted(:b);
SELECT pg_temp.answered(:a, 130429);
SELECT * FROM pg_temp.suffered('1003');
-- ... and posts B's failure with 130429 later: the same congestion, no second cut.
SELECT pg_temp.tick();
SELECT pg_temp.failed_status('1003', :b, 130429);
SELECT * FROM pg_temp.suffered('1003');
-- The monitor sees both errors and does not cut again either.
SELECT pg_temp.tick();
SELECT phone_number_id, mode, round(rate_factor::numeric, 3) AS rate_factor, changed FROM antiban.evaluate_health()
WHERE phone_number_id = '1003';
SELECT source, request_at, at FROM antiban.send_errors ORDER BY id;
SELECT health_before, health_after, mode_before, mode_after, round(factor_after::numeric, 3) AS factor, reason
FROM antiban.health_events WHERE phone_number_id = '1003' AND at >= '2030-01-04' ORDER BY id;
-- C leaves after that decrease and meets 130429: a new event, a second decrease.
SELECT pg_temp.claimed('1003', '+5511987000003') AS c \gset
SELECT pg_temp.tick();
SELECT pg_temp.answered(:c, 130429);
SELECT * FROM pg_temp.suffered('1003');
-- Congestion nobody acted on yet (rows written straight to send_errors): the monitor cuts, once.
SELECT pg_temp.fresh();
SELECT pg_temp.errors('1004', 130429, 3);
SELECT phone_number_id, mode, round(rate_factor::numeric, 3) AS rate_factor FROM antiban.evaluate_health()
WHERE phone_number_id = '1004';
SELECT pg_temp.tick();
SELECT phone_number_id, mode, round(rate_factor::numeric, 3) AS rate_factor, changed FROM antiban.evaluate_health()
WHERE phone_number_id = '1004';
ALTER SYSTEM RESET antiban.aimd_decrease;
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) <> %L', 'antiban.aimd_decrease', '0.5')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all
SELECT current_setting('antiban.aimd_decrease') AS aimd_decrease;
