-- Protection: health per number, modes that change by themselves, the
-- operator's hand, early warnings, templates that must not go.
\i regress/fixture.sql
UPDATE antiban.numbers SET quality_rating = 'GREEN', status = 'CONNECTED';
\set now '''2030-01-01 00:00:00+00'''
\i regress/protection_helpers.sql

-- A clean start: every number scores 100 (the fixture's health was set by hand).
SELECT phone_number_id, health, mode, rate_factor, changed FROM antiban.evaluate_health();
SELECT phone_number_id, health_before, health_after, reason FROM antiban.health_events ORDER BY id;
SELECT count(*) AS nothing_changes FROM antiban.evaluate_health() WHERE changed;

-- 1001: 12 spam-rate-limit answers (131048) in 200 sends: -24 and paused (softly).
SELECT pg_temp.sent('1001', 200);
SELECT pg_temp.errors('1001', 131048, 12);
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor, reason FROM antiban.evaluate_health() WHERE changed;
SELECT phone_number_id, health, hard_block, jsonb_pretty(health_terms) FROM antiban.numbers WHERE phone_number_id = '1001';
SELECT severity, phone_number_id, kind FROM antiban.alerts ORDER BY id;

-- 1002: Meta's throughput limit (130429): a bad signal halves the rate.
SELECT pg_temp.sent('1002', 400);
SELECT pg_temp.errors('1002', 130429, 4);
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor, reason FROM antiban.evaluate_health() WHERE changed;
-- More 130429 in the next tick: halved again, never below 5 %.
SELECT pg_temp.at('2030-01-01 00:00:10+00');
SELECT pg_temp.errors('1002', 130429, 1);
SELECT phone_number_id, mode, round(rate_factor::numeric, 3) AS rate_factor FROM antiban.evaluate_health() WHERE phone_number_id = '1002';

-- 1003: Meta lowers quality to YELLOW (a poll): an alert at once, throttled at the next tick.
SELECT pg_temp.tick();
SELECT antiban.apply_number_poll('1003', '{"quality_rating":"YELLOW","status":"CONNECTED","health_status":{"can_send_message":"AVAILABLE"},"throughput":{"level":"STANDARD"},"whatsapp_business_manager_messaging_limit":"TIER_250","id":"1003"}');
SELECT pg_temp.tick();
SELECT severity, kind, detail FROM antiban.alerts WHERE kind = 'quality_dropped';
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor, reason FROM antiban.evaluate_health() WHERE changed;
SELECT phone_number_id, source, quality_rating, messaging_limit FROM antiban.quality_history;

-- 1004: Meta says BLOCKED: paused, and only a person may resume it.
SELECT antiban.apply_number_poll('1004', '{"quality_rating":"GREEN","status":"CONNECTED","health_status":{"can_send_message":"BLOCKED"}}');
SELECT pg_temp.tick();
SELECT phone_number_id, health, mode, reason FROM antiban.evaluate_health() WHERE changed;
SELECT * FROM pg_temp.numbers();

-- Time passes cleanly.  1002 wins its rate back a step per 5 clean minutes;
-- 1001's spam penalty fades (half-life 30 min) and after its 30 min pause it
-- recovers from 10 %; 1004 stays paused (hard), however long.
SELECT pg_temp.at('2030-01-01 00:06:00+00');
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor, reason FROM antiban.evaluate_health() WHERE changed;
SELECT pg_temp.at('2030-01-01 00:31:00+00');
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor, reason FROM antiban.evaluate_health() WHERE changed;
SELECT pg_temp.at('2030-01-01 01:31:00+00');
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor FROM antiban.evaluate_health() WHERE changed;
SELECT pg_temp.at('2030-01-01 02:31:00+00');
SELECT phone_number_id, health, mode, round(rate_factor::numeric, 3) AS rate_factor FROM antiban.evaluate_health() WHERE changed;
SELECT * FROM pg_temp.numbers();

-- A bad signal while recovering or active: throttled again (quality falls to RED).
SELECT pg_temp.at('2030-01-01 03:00:00+00');
SELECT antiban.apply_number_poll('1003', '{"quality_rating":"RED"}');
SELECT pg_temp.tick();
SELECT phone_number_id, mode, round(rate_factor::numeric, 3) AS rate_factor FROM antiban.evaluate_health() WHERE phone_number_id = '1003';

-- The operator: force a mode with a reason; the controller leaves it alone.
SELECT antiban.set_mode('1002', 'paused', 'template under review');
SELECT pg_temp.errors('1002', 130429, 3);
SELECT phone_number_id, mode, changed FROM antiban.evaluate_health() WHERE phone_number_id = '1002';
SELECT antiban.release_mode('1002');
SELECT antiban.set_mode('1004', 'active', 'Meta support confirmed the block was lifted');
SELECT phone_number_id, mode, mode_forced FROM antiban.numbers WHERE phone_number_id = '1004';
SELECT antiban.apply_number_poll('1004', '{"health_status":{"can_send_message":"AVAILABLE"}}');
SELECT antiban.release_mode('1004');
SELECT phone_number_id, health, mode FROM antiban.evaluate_health() WHERE phone_number_id = '1004';
SELECT * FROM pg_temp.numbers();
SELECT antiban.set_mode('9999', 'paused', 'x');
SELECT antiban.set_mode('1001', 'paused', '  ');
SELECT antiban.set_mode('1001', 'sleeping', 'x');

-- Every change of health, mode or rate is explained.
SELECT phone_number_id, health_before AS h0, health_after AS h1, mode_before, mode_after,
       round(factor_after::numeric, 2) AS factor, left(reason, 90) AS reason
FROM antiban.health_events WHERE at > '2030-01-01 00:00:00+00' OR mode_before <> mode_after ORDER BY id;

-- A burst of the same signal raises one alert, not one per message.
SELECT pg_temp.at('2030-01-01 04:00:00+00');
SELECT count(*) AS before FROM antiban.alerts WHERE kind = 'number_paused';
SELECT antiban.pause_number(antiban.number_id_of('1003'), 'number_paused', 'test burst ' || i, false) FROM generate_series(1, 3) i;
SELECT count(*) AS after FROM antiban.alerts WHERE kind = 'number_paused';
SELECT antiban.raise_alert('warning', '1003', 'error_rate_rising', 'x') FROM generate_series(1, 5);
SELECT count(*) AS one_alert FROM antiban.alerts WHERE kind = 'error_rate_rising';

-- Early warnings before Meta acts: an error rate rising while quality is GREEN.
SELECT pg_temp.at('2030-01-01 05:00:00+00');
SELECT pg_temp.sent('1002', 100);
SELECT pg_temp.errors('1002', 131026, 8);
SELECT antiban.check_early_warnings() AS raised;
SELECT severity, phone_number_id, kind, detail FROM antiban.alerts WHERE kind = 'error_rate_rising' AND phone_number_id = '1002';
-- The portfolio at 80 % of its messaging limit (TIER_250).
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000, mode = 'active';
SELECT count(*) FROM generate_series(1, 201) i, antiban.decide('+5511' || lpad(i::text, 9, '0'), 'marketing') d WHERE d.outcome = 'SEND';
SELECT used, used_pct FROM antiban.portfolio_usage;
SELECT antiban.check_early_warnings() AS raised;
SELECT kind, subject, detail FROM antiban.alerts WHERE kind = 'portfolio_limit_80';
-- A backlog that waited longer than the validity it has left.
SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'lembrete', 'pt_BR', valid_until => '2030-01-01 05:10:00+00'))
FROM generate_series(1, 10) i;
SELECT pg_temp.at('2030-01-01 05:06:00+00');
SELECT antiban.check_early_warnings() AS raised;
SELECT kind, detail FROM antiban.alerts WHERE kind = 'backlog_outrunning_validity';

-- Templates: a paused one waits, a disabled one is rejected, approved ones go.
INSERT INTO antiban.templates (waba_id, name, language, status)
SELECT id, 'oferta', 'pt_BR', 'PAUSED' FROM antiban.wabas UNION ALL
SELECT id, 'lembrete', 'pt_BR', 'DISABLED' FROM antiban.wabas UNION ALL
SELECT id, 'boas_vindas', 'pt_BR', 'APPROVED' FROM antiban.wabas;
SELECT antiban.send_template('+5511900000001', 'oferta', 'pt_BR') AS paused_one \gset
SELECT antiban.send_template('+5511900000002', 'boas_vindas', 'pt_BR') AS approved_one \gset
SELECT antiban.hold_unapproved_templates('5 minutes', 1000) AS held;
SELECT id = :paused_one AS paused, state, not_before - antiban.now() AS waits, reason, detail
FROM antiban.outbox WHERE id IN (:paused_one, :approved_one) ORDER BY id;
SELECT state, reason, count(*) FROM antiban.outbox
WHERE payload -> 'template' ->> 'name' = 'lembrete' GROUP BY 1, 2;

-- The score's weights are one setting; a mistake is refused with the reason.
ALTER SYSTEM SET antiban.health_weights = 'quality_purple=3';
ALTER SYSTEM SET antiban.health_weights = 'delivery_target=2';
UPDATE antiban.numbers SET quality_rating = 'RED', previous_quality = 'RED', status = 'CONNECTED',
       can_send_message = 'AVAILABLE', mode_forced = true WHERE phone_number_id = '1003';
SELECT phone_number_id, health FROM antiban.evaluate_health() WHERE phone_number_id = '1003';
ALTER SYSTEM SET antiban.health_weights = 'quality_red = 70';
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) <> %L', 'antiban.health_weights', 'quality_red = 70')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all
SELECT phone_number_id, health FROM antiban.evaluate_health() WHERE phone_number_id = '1003';
SELECT left(health_terms::text, 60) AS terms FROM antiban.numbers WHERE phone_number_id = '1003';
ALTER SYSTEM RESET antiban.health_weights;
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) = %L', 'antiban.health_weights', 'quality_red = 70')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all

-- A page of the monitor's template poll: status, category, quality and
-- components are kept; a pause or a quality drop raises one alert.
SELECT antiban.apply_template_poll('200', '{"data": [{"id": "9001", "name": "convite", "language": "es",
  "status": "APPROVED", "category": "MARKETING", "quality_score": {"score": "GREEN"},
  "components": [{"type": "BODY", "text": "Hola {{1}}, ¿hablamos de tu inversión?"}]}]}') AS seen;
SELECT antiban.apply_template_poll('200', '{"data": [{"id": "9001", "name": "convite", "language": "es",
  "status": "PAUSED", "quality_score": {"score": "RED"}}]}') AS seen;
SELECT name, language, status, category, quality, components -> 0 ->> 'text' AS body FROM antiban.templates WHERE name = 'convite';
SELECT severity, kind, subject, detail FROM antiban.alerts WHERE subject = 'convite/es' ORDER BY id;
SELECT source, event, quality_rating, detail ->> 'name' AS name, detail ->> 'status' AS status,
       detail ->> 'previous_status' AS previous_status
FROM antiban.quality_history WHERE event = 'template' ORDER BY id;
