-- The demo: what antiban decides for a small campaign on three numbers.
\pset footer off
\echo
\echo '== Registering a business portfolio (TIER_2K), a WABA and three numbers'
INSERT INTO antiban.portfolios (business_id, name, messaging_limit)
VALUES ('1000000001', 'Investimentos Exemplo', 'TIER_2K');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name)
SELECT '2000000001', id, 'Vendas' FROM antiban.portfolios;
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, throughput_level, health, quality_rating)
SELECT v.pid, w.id, v.display, v.level::antiban.throughput_level, v.health, v.quality::antiban.quality_rating
FROM antiban.wabas w,
     (VALUES ('3000000001', '+55 11 4000-0001', 'HIGH', 95, 'GREEN'),
             ('3000000002', '+55 11 4000-0002', 'STANDARD', 80, 'GREEN'),
             ('3000000003', '+55 11 4000-0003', 'STANDARD', 25, 'RED')) AS v(pid, display, level, health, quality);
SELECT phone_number_id, display_phone_number, throughput_level, health, quality_rating, mode
FROM antiban.numbers ORDER BY id;

\echo '== A campaign: 30 leads get a marketing template at once. HIGH sends 1,000/s as bursts of 10,'
\echo '   STANDARD 80/s as bursts of 2 (no second ever above the level); the rest queue for milliseconds;'
\echo '   the sick number 3000000003 (health 25) is left out'
CREATE TEMP TABLE campaign AS
SELECT '+55119' || lpad(i::text, 8, '0') AS lead, d.*
FROM generate_series(1, 30) i, antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing') d;
SELECT outcome, reason, phone_number_id, count(*) FROM campaign GROUP BY 1, 2, 3 ORDER BY 1, 3;

\echo '== One lead gets 50 templates in a burst from a number with a 100-message bucket:'
\echo '   the pair rate (45, then 1 per 6 s) queues the rest'
UPDATE antiban.numbers SET burst_override = 100, rate_override = 1000 WHERE phone_number_id = '3000000001';
-- (a fifth of a second: the bucket fills at 1,000/s)
SELECT pg_sleep(0.2) \g /dev/null
SELECT (d).outcome, (d).reason, count(*), min((d).not_before) - antiban.now() AS first_wait
FROM (SELECT antiban.decide('+5511900000001', 'utility') AS d FROM generate_series(1, 50)) burst
GROUP BY 1, 2 ORDER BY 1 DESC;

\echo '== Free-form replies need the 24 h window the lead opened'
SELECT outcome, reason, detail FROM antiban.decide('+5511900000099', 'service');
SELECT antiban.open_service_window('+5511900000099', '3000000002') AS window_open_until;
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000099', 'service');

\echo '== Bad input is refused with a clear reason'
SELECT outcome, reason, detail FROM antiban.decide('11 98765-4321', 'utility');

\echo '== Token buckets (antiban.buckets)'
SELECT kind, phone_number_id, recipient, tokens, capacity, rate_per_second, granted, denied
FROM antiban.buckets ORDER BY kind DESC, phone_number_id, recipient LIMIT 8;

\echo '== The portfolio messaging limit (antiban.portfolio_usage)'
SELECT business_id, tier, messaging_limit, used, remaining, used_pct FROM antiban.portfolio_usage;

\echo '== Why was a message delayed? (antiban.decisions)'
SELECT antiban.flush_journal() AS journal_records_stored;
SELECT outcome, reason, count(*) FROM antiban.decisions GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC;
SELECT decided_at, outcome, reason, detail FROM antiban.decisions
WHERE outcome = 'QUEUE' ORDER BY id LIMIT 1;
