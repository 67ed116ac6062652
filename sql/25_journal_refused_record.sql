-- The journal writer (or flush_journal) stores a batch of records taken
-- from shared memory.  A record the tables refuse must not take the rest of
-- its batch with it: here a send of a portfolio deleted in the same
-- transaction (recipient_reach's foreign key refuses it) is journalled with
-- a send and decisions of another portfolio.  The other records are stored;
-- the refused one is dropped with a warning in the server log.  Before, the
-- whole batch was lost.
-- Sends are journalled on the real clock only: this case does not pin it.
\i regress/fixture.sql
RESET antiban.pinned_now;
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
INSERT INTO antiban.portfolios (business_id, name, messaging_limit) VALUES ('300', 'Gone soon', 'TIER_UNLIMITED');
INSERT INTO antiban.wabas (waba_id, portfolio_id, name)
SELECT '400', id, 'Gone soon' FROM antiban.portfolios WHERE business_id = '300';
INSERT INTO antiban.numbers (phone_number_id, waba_id, display_phone_number, throughput_level, health, rate_override, burst_override)
SELECT '3001', w.id, '+55 21 90000-3001', 'STANDARD', 100, 1000, 1000 FROM antiban.wabas w WHERE w.waba_id = '400';
-- Buckets seen first right after the server started count as empty: wait
-- until a fresh recipient would be sent to, on both numbers.
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN (SELECT outcome FROM antiban.decide('+5511933339999', 'utility', from_number => '1001', consume => false)) = 'SEND'
              AND (SELECT outcome FROM antiban.decide('+5521933339999', 'utility', from_number => '3001', consume => false)) = 'SEND';
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT antiban.flush_journal() >= 0 AS flushed;
TRUNCATE antiban.decisions;

BEGIN;
SELECT outcome FROM antiban.decide('+5511933330001', 'utility', from_number => '1001');
SELECT outcome FROM antiban.decide('+5511933330002', 'utility', from_number => '1001');
SELECT outcome FROM antiban.decide('+5521933330001', 'utility', from_number => '3001');
DELETE FROM antiban.numbers WHERE phone_number_id = '3001';
DELETE FROM antiban.wabas WHERE waba_id = '400';
DELETE FROM antiban.portfolios WHERE business_id = '300';
COMMIT;
-- The journal writer stores them (its warning goes to the server log);
-- antiban.flush_journal() would write in this session's transaction, and
-- fail with it.  Wait for the writer, a minute at most.
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN (SELECT count(*) FROM antiban.decisions WHERE recipient LIKE '+55%93333000%') = 3
              AND (SELECT count(*) FROM antiban.recipient_reach WHERE recipient LIKE '+55%93333000%') = 2;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
-- the two sends of the portfolio that stays, and all three decisions
SELECT right(recipient, 11) AS recipient FROM antiban.recipient_reach
WHERE recipient LIKE '+55%93333000%' ORDER BY 1;
SELECT right(recipient, 11) AS recipient, outcome, consumed FROM antiban.decisions
WHERE recipient LIKE '+55%93333000%' ORDER BY recipient;
