-- The portfolio messaging limit: unique users reached with business-initiated
-- templates over a moving 24 h, shared by all numbers of the portfolio.
\i regress/fixture.sql
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;

-- 250 new users fit a TIER_250 portfolio, spread over its numbers.
SELECT outcome, count(*)
FROM generate_series(1, 250) i, antiban.decide('+55119' || lpad(i::text, 8, '0'), 'marketing')
GROUP BY outcome;
SELECT business_id, tier, messaging_limit, used, remaining, used_pct, room_at FROM antiban.portfolio_usage;

-- The 251st waits until the first ones leave the window (24 h and a minute later).
SELECT outcome, reason, not_before, detail FROM antiban.decide('+5511900000251', 'utility');
-- Someone already counted does not count again: they can get another template.
SELECT outcome, reason FROM antiban.decide('+5511900000007', 'marketing');
-- A template inside the service window the user opened does not count either.
SELECT antiban.open_service_window('+5511900000252', '1002');
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000252', 'utility');
SELECT used FROM antiban.portfolio_usage;
-- Validity shorter than the wait: rejected now rather than sent late.
SELECT outcome, reason FROM antiban.decide('+5511900000253', 'marketing', valid_until => '2030-01-01 06:00:00+00');

-- Authentication and utility templates count too; service messages never.
SELECT outcome, reason FROM antiban.decide('+5511900000254', 'authentication');

-- A moving window: a day and a minute later the first users have left.
SET antiban.pinned_now = '2030-01-02 00:01:00+00';
SELECT used FROM antiban.portfolio_usage;
SELECT outcome, reason FROM antiban.decide('+5511900000251', 'utility');
SELECT used FROM antiban.portfolio_usage;

-- Another portfolio has its own budget.
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('101', 'TIER_UNLIMITED');
INSERT INTO antiban.wabas (waba_id, portfolio_id) SELECT '201', id FROM antiban.portfolios WHERE business_id = '101';
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
SELECT '2001', id, 'HIGH' FROM antiban.wabas WHERE waba_id = '201';
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900009999', 'marketing', portfolio => '101');
SELECT business_id, tier, messaging_limit, used, remaining FROM antiban.portfolio_usage ORDER BY business_id;

-- What survives a restart: the journal keeps each recipient's sends stored,
-- and opt-outs and windows are stored by the transaction that states them.
-- This session pinned the clock itself, so none of the above was stored: its
-- sends and windows are a test's, and must never reach real-clock sessions.
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT count(*) AS stored FROM antiban.recipient_state;
-- On the real clock they are (TAP 003 restarts a server pinned server-wide).
-- (New buckets start full once the journal writer has read how the server
-- last stopped: wait for that, so the decision below is a SEND.)
DO $$ BEGIN
    FOR i IN 1..1200 LOOP
        EXIT WHEN (SELECT previous_shutdown <> 'unknown' FROM antiban.journal_stats());
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
RESET antiban.pinned_now;
SELECT outcome, reason FROM antiban.decide('+5511900000301', 'marketing', portfolio => '101');
SELECT antiban.open_service_window('+5511900000302', '2001') > now() AS window_opened;
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT recipient, last_reached_at > now() - interval '1 hour' AS counted,
       window_until > now() AS window_open, window_number_id = n.id AS on_2001
FROM antiban.recipient_state s, antiban.numbers n WHERE n.phone_number_id = '2001' ORDER BY 1;
