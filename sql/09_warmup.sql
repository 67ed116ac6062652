-- Warm-up: a new number's daily cap and rate grow each healthy day until it
-- graduates; a day under the health gate is repeated; a full day queues.
\i regress/fixture.sql
UPDATE antiban.numbers SET quality_rating = 'GREEN', status = 'CONNECTED', health = 100;
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
\i regress/protection_helpers.sql

-- The curve under the default settings (250 a day, doubling, spread over 8 h).
SELECT day, daily_cap, round(messages_per_second::numeric, 4) AS per_second, total, graduated
FROM antiban.warmup_schedule(12);

-- An operator starts a number's warm-up; bad days and unknown numbers are refused.
SELECT antiban.start_warmup('1001', 'new chip for the Rio campaign');
SELECT antiban.start_warmup('1001', 'x', from_day => 0);
SELECT antiban.start_warmup('1001', 'x', from_day => 11);
SELECT antiban.start_warmup('9999');
SELECT phone_number_id, mode, warmup_day, warmup_daily_cap, warmup_full_until, left(change_reason, 60) AS why
FROM antiban.number_health WHERE phone_number_id = '1001';

-- Its rate is the day's cap over 8 h: 250 / 28,800 s.
SELECT outcome, phone_number_id FROM antiban.decide('+5511911110000', 'utility', from_number => '1001');
SELECT phone_number_id, capacity, round(rate_per_second::numeric, 6) AS rate_per_second
FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1001';

-- 250 sends in its first day: full.  Pinned to it, a message queues until the
-- oldest send leaves the 24 h; unpinned, another number carries it.
SELECT pg_temp.at('2030-01-01 01:00:00+00');
SELECT pg_temp.sent('1001', 250);
UPDATE antiban.outbox SET state = 'delivered' WHERE phone_number_id = '1001';
SELECT pg_temp.at('2030-01-01 02:00:00+00');
SELECT phone_number_id, mode, changed FROM antiban.evaluate_health() WHERE phone_number_id = '1001';
SELECT warmup_day, warmup_daily_cap, warmup_full_until FROM antiban.number_health WHERE phone_number_id = '1001';
SELECT outcome, reason, detail, not_before FROM antiban.decide('+5511911110001', 'marketing', from_number => '1001');
SELECT outcome, phone_number_id <> '1001' AS elsewhere FROM antiban.decide('+5511911110002', 'marketing');

-- A day later its sends have left the window and the healthy day counts: 500 a day.
SELECT pg_temp.at('2030-01-02 00:00:01+00');
SELECT phone_number_id, mode, changed, reason FROM antiban.evaluate_health() WHERE phone_number_id = '1001';
SELECT warmup_day, warmup_daily_cap, warmup_full_until FROM antiban.number_health WHERE phone_number_id = '1001';
SELECT outcome, phone_number_id FROM antiban.decide('+5511911110003', 'marketing', from_number => '1001');
SELECT round(rate_per_second::numeric, 6) AS doubled_rate
FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1001';
-- A new spread (a reload) reaches the cached rate without touching the number: 500 over 4 h.
ALTER SYSTEM SET antiban.warmup_spread = '4h';
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) <> %L', 'antiban.warmup_spread', '4h')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all
SELECT outcome FROM antiban.decide('+5511911110004', 'marketing', from_number => '1001', consume => false);
SELECT round(rate_per_second::numeric, 6) AS rate_over_4h
FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1001';
ALTER SYSTEM RESET antiban.warmup_spread;
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) = %L', 'antiban.warmup_spread', '4h')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all

-- A bad signal as the day ends: the day is repeated, the cap stays.
SELECT pg_temp.at('2030-01-03 00:00:00+00');
SELECT pg_temp.errors('1001', 130429, 1);
SELECT phone_number_id, mode, round(rate_factor::numeric, 2) AS rate_factor, reason
FROM antiban.evaluate_health() WHERE phone_number_id = '1001';
SELECT warmup_day, warmup_daily_cap FROM antiban.number_health WHERE phone_number_id = '1001';

-- Graduation: from day 9 (64,000 a day), a healthy day reaches 100,000 and
-- the number becomes active at its full rate.
SELECT antiban.start_warmup('1001', 'migrated number with history', from_day => 9);
SELECT pg_temp.at('2030-01-04 00:00:05+00');
SELECT phone_number_id, mode, rate_factor, reason FROM antiban.evaluate_health() WHERE phone_number_id = '1001';
SELECT mode, warmup_day, warmup_daily_cap FROM antiban.number_health WHERE phone_number_id = '1001';

-- Every step of the warm-up is explained.
SELECT mode_before, mode_after, left(reason, 100) AS reason
FROM antiban.health_events WHERE phone_number_id = '1001' ORDER BY id;

-- Paused in the middle of its warm-up, a number comes back to it, not to active;
-- the day it left starts over.
SELECT antiban.start_warmup('1003', 'second new chip', from_day => 3);
SELECT pg_temp.errors('1003', 131048, 12);
SELECT phone_number_id, mode, left(reason, 70) AS reason FROM antiban.evaluate_health() WHERE phone_number_id = '1003';
SELECT pg_temp.at('2030-01-04 00:32:00+00');
SELECT phone_number_id, mode, left(reason, 70) AS reason FROM antiban.evaluate_health() WHERE phone_number_id = '1003';
SELECT pg_temp.at('2030-01-04 02:33:00+00');
SELECT phone_number_id, mode, left(reason, 70) AS reason FROM antiban.evaluate_health() WHERE phone_number_id = '1003';
SELECT left(reason, 60) AS reason FROM antiban.health_events WHERE phone_number_id = '1003' ORDER BY id DESC LIMIT 2;
SELECT mode, warmup_day, warmup_daily_cap FROM antiban.number_health WHERE phone_number_id = '1003';
-- An operator who forces a number active ends its warm-up for good.
SELECT antiban.set_mode('1003', 'active', 'Meta raised its tier');
SELECT warmup_day_started_at IS NULL AS warmup_ended FROM antiban.numbers WHERE phone_number_id = '1003';

-- Without protection the schedule is not enforced (a naive sender).
SELECT antiban.start_warmup('1002');
SELECT pg_temp.sent('1002', 250);
ALTER SYSTEM SET antiban.protection = off;
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) <> %L', 'antiban.protection', 'off')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all
SELECT count(*) AS changed FROM antiban.evaluate_health() WHERE phone_number_id = '1002' AND changed;
SELECT warmup_full_until IS NULL AS not_full FROM antiban.number_health WHERE phone_number_id = '1002';
ALTER SYSTEM RESET antiban.protection;
SELECT pg_reload_conf();
\set ECHO none
\o /dev/null
SELECT format('SELECT pg_sleep(0.05) WHERE current_setting(%L) = %L', 'antiban.protection', 'off')
FROM generate_series(1, 400) \gexec
\o
\set ECHO all
SELECT count(*) AS changed FROM antiban.evaluate_health() WHERE phone_number_id = '1002' AND changed;
SELECT warmup_full_until IS NOT NULL AS full FROM antiban.number_health WHERE phone_number_id = '1002';

-- Readers see the schedule; only administrators start a warm-up.
SET ROLE antiban_reader;
SELECT count(*) AS days FROM antiban.warmup_schedule();
SELECT antiban.start_warmup('1003');
RESET ROLE;
