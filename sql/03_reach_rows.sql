-- The journal writer stores a batch of sends into antiban.recipient_reach
-- without the executor (reach_rows.c: one probe of the primary key, then an
-- update or an insert); the rows must be what the SQL upsert made of them.
-- Sends are journalled on the real clock only: this case does not pin it.
\i regress/fixture.sql
RESET antiban.pinned_now;
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
UPDATE antiban.portfolios SET messaging_limit = 'TIER_UNLIMITED';
CREATE FUNCTION pg_temp.number_id(phone text) RETURNS bigint LANGUAGE sql AS $$
    SELECT id FROM antiban.numbers WHERE phone_number_id = phone
$$;
-- Buckets seen first right after the server started count as empty: wait
-- until a fresh recipient would be sent to.
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN (SELECT outcome FROM antiban.decide('+5511922229999', 'utility', consume => false)) = 'SEND';
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;

-- Stored rows the sends merge into: a send older than the stored one keeps
-- its number and time; NULLs take the send's values; older ones give way.
INSERT INTO antiban.recipient_reach (portfolio_id, recipient, last_number_id, last_sent_at, last_reached_at)
SELECT p.id, antiban.recipient_key(v.r), v.n, v.sent, v.reached
FROM antiban.portfolios p,
     (VALUES ('+5511922220001', pg_temp.number_id('1003'), now() + interval '1 day', NULL::timestamptz),
             ('+5511922220002', NULL, NULL, timestamptz '2000-01-01'),
             ('+5511922220003', pg_temp.number_id('1003'), timestamptz '2000-01-01', timestamptz '2000-01-01'))
     AS v(r, n, sent, reached);

-- 40 sends in one statement: one batch for the writer, as a rule.
SELECT d.outcome, count(*) FROM generate_series(1, 40) g,
    antiban.decide('+55119222200' || lpad(g::text, 2, '0'), 'utility') d GROUP BY 1;
SELECT antiban.flush_journal() >= 0 AS flushed;
CREATE TEMP VIEW sent AS
SELECT antiban.recipient_key(d.recipient) AS recipient, max(d.decided_at) AS at,
       (array_agg(pg_temp.number_id(d.phone_number_id) ORDER BY d.decided_at DESC))[1] AS number_id
FROM antiban.decisions d WHERE d.consumed GROUP BY 1;
SELECT count(*) AS sent, count(r.recipient) AS stored FROM sent s
LEFT JOIN antiban.recipient_reach r USING (recipient);
-- rows only these sends made: number, time sent and time reached are the send's
SELECT count(*) FILTER (WHERE r.last_number_id = s.number_id AND r.last_sent_at = s.at
                          AND r.last_reached_at = s.at AND r.updated_at IS NOT NULL) AS as_sent
FROM sent s JOIN antiban.recipient_reach r USING (recipient)
WHERE s.recipient NOT IN (SELECT antiban.recipient_key(x) FROM unnest(ARRAY['+5511922220001', '+5511922220002', '+5511922220003']) x);
SELECT right(r.recipient, 4) AS recipient,
       r.last_number_id = pg_temp.number_id('1003') AS kept_number, r.last_number_id = s.number_id AS sends_number,
       r.last_sent_at > now() AS kept_future, r.last_sent_at = s.at AS sent_now, r.last_reached_at = s.at AS reached_now
FROM sent s JOIN antiban.recipient_reach r USING (recipient)
WHERE s.recipient IN (SELECT antiban.recipient_key(x) FROM unnest(ARRAY['+5511922220001', '+5511922220002', '+5511922220003']) x)
ORDER BY 1;

-- Again, half of them known now and half new: updates and inserts in one batch.
SELECT d.outcome, count(*) FROM generate_series(21, 60) g,
    antiban.decide('+55119222200' || lpad(g::text, 2, '0'), 'utility') d GROUP BY 1;
SELECT antiban.flush_journal() >= 0 AS flushed;
SELECT count(*) AS sent, count(r.recipient) AS stored,
       count(*) FILTER (WHERE r.last_number_id = s.number_id AND r.last_sent_at = s.at
                          AND r.last_reached_at = s.at) AS as_sent
FROM sent s LEFT JOIN antiban.recipient_reach r USING (recipient)
WHERE s.recipient NOT IN (SELECT antiban.recipient_key(x) FROM unnest(ARRAY['+5511922220001', '+5511922220002', '+5511922220003']) x);
SELECT count(*) AS stored_rows FROM antiban.recipient_reach;
