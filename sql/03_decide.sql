-- The send decision: SEND with a number, QUEUE with a time, REJECT; always a reason.
\i regress/fixture.sql
-- Buckets of 100 messages (at 100 per second) so that pair rates show at one instant.
UPDATE antiban.numbers SET rate_override = 100, burst_override = 100;

-- The healthiest eligible number sends; 1004 (health 20) is out of rotation.
SELECT * FROM antiban.decide('+5511900000101', 'utility');
-- Now 1001 is this recipient's sticky sender, even at lower priority.
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000101', 'marketing', 'low');
-- Sticky is kept while the number must wait: the pair rate queues instead of hopping.
SELECT allowed FROM antiban.try_consume('1001', 43, '+5511900000101');
SELECT outcome, reason, phone_number_id, not_before, detail
FROM antiban.decide('+5511900000101', 'utility');
-- Critical goes to the healthiest number, whoever talked last.
UPDATE antiban.numbers SET health = 95 WHERE phone_number_id = '1002';
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000101', 'authentication', 'critical');

-- When the healthiest is out of tokens, the next number takes the message.
SELECT pg_temp.drain('1002');
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000102', 'utility');
-- When all are out, QUEUE at the earliest time any number admits it.
SELECT pg_temp.drain('1001'), pg_temp.drain('1003');
SELECT outcome, reason, phone_number_id, not_before, detail FROM antiban.decide('+5511900000103', 'utility');
-- ... unless it would no longer be valid by then.
SELECT outcome, reason, detail
FROM antiban.decide('+5511900000103', 'utility', valid_until => '2030-01-01 00:00:00.0001+00');
SELECT outcome, reason, detail
FROM antiban.decide('+5511900000103', 'utility', valid_until => '2029-12-31 23:59:59+00');

-- A paused or ill number never sends; naming it gives the reason.
SET antiban.pinned_now = '2030-01-01 00:01:00+00';
UPDATE antiban.numbers SET mode = 'paused' WHERE phone_number_id = '1003';
SELECT outcome, reason, detail FROM antiban.decide('+5511900000104', 'utility', from_number => '1003');
SELECT outcome, reason, detail FROM antiban.decide('+5511900000104', 'utility', from_number => '1004');
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000104', 'utility', from_number => '1001');
-- antiban.min_health moves the bar.
SET antiban.min_health = 10;
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000105', 'utility', from_number => '1004');
RESET antiban.min_health;
UPDATE antiban.numbers SET status = 'RESTRICTED' WHERE phone_number_id IN ('1001', '1002');
SELECT outcome, reason, detail FROM antiban.decide('+5511900000106', 'utility');
UPDATE antiban.numbers SET status = 'CONNECTED', mode = 'active';

-- Free-form (service) messages need the window the recipient opened, on that number.
SELECT outcome, reason FROM antiban.decide('+5511900000107', 'service');
SELECT antiban.open_service_window('+5511900000107', '1003');
SELECT outcome, reason, phone_number_id FROM antiban.decide('+5511900000107', 'service');
SET antiban.pinned_now = '2030-01-02 00:01:00+00';
SELECT outcome, reason FROM antiban.decide('+5511900000107', 'service');

-- Invalid recipients are rejected with the reason, and logged like every decision.
SELECT outcome, reason, detail FROM antiban.decide('11 98765-4321', 'utility');
SELECT outcome, reason, phone_number_id FROM antiban.decide('BR.13491208655302741918', 'utility');

-- Looking (consume => false) takes nothing.
SELECT tokens AS before FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1002';
SELECT outcome FROM antiban.decide('+5511900000108', 'utility', consume => false);
SELECT tokens AS after FROM antiban.buckets WHERE kind = 'number' AND phone_number_id = '1002';

-- Every decision is in the log once the journal is flushed.
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT count(*) AS decisions FROM antiban.decisions;
SELECT recipient, category, priority, outcome, reason, phone_number_id, not_before, consumed
FROM antiban.decisions ORDER BY decided_at, recipient, reason;
SELECT detail FROM antiban.decisions WHERE outcome = 'QUEUE' ORDER BY decided_at, recipient LIMIT 1;

-- The journal writer stores decisions with a multi-insert into the table it
-- knows; a table changed by hand (a column added) still gets every
-- decision, through the SQL INSERT, and a dropped column is no obstacle.
ALTER TABLE antiban.decisions ADD COLUMN note text DEFAULT 'by hand';
SELECT outcome, reason FROM antiban.decide('+5511900000109', 'utility', consume => false);
SELECT antiban.flush_journal() > 0 AS flushed;
SELECT recipient, outcome, phone_number_id, note FROM antiban.decisions WHERE recipient = '+5511900000109';
ALTER TABLE antiban.decisions DROP COLUMN note;
SELECT d.outcome, count(*) FROM generate_series(110, 149) g,
    antiban.decide('+5511900000' || g, 'utility', consume => false) d GROUP BY 1;
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT outcome, phone_number_id, consumed, count(*) FROM antiban.decisions
WHERE recipient BETWEEN '+5511900000110' AND '+5511900000149' GROUP BY 1, 2, 3;

-- The log's recipient compares bytes (COLLATE "C": its index costs the
-- journal writer no locale comparisons); a lookup by recipient still uses
-- that index, and compares equal to a recipient in the database collation.
SELECT attcollation::regcollation AS recipient_collation FROM pg_attribute
WHERE attrelid = 'antiban.decisions'::regclass AND attname = 'recipient';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM antiban.decisions WHERE recipient = '+5511900000109';
RESET enable_seqscan;
SELECT count(*) AS by_recipient FROM antiban.decisions d
WHERE d.recipient = ('+5511900000109'::text COLLATE "default");
