-- A sender's claim reads a batch of the outbox, not the queue: the rows its
-- due query reads from outbox_due, and the per-recipient order probes it
-- makes, stay at the batch size whether 2,000 or 20,000 messages wait
-- behind conversations in flight (a message held by the one before it is
-- read once, then parked: it no longer fills the walk).  Row counts from
-- EXPLAIN (ANALYZE, FORMAT JSON) of the sender's own query
-- (antiban.explain_claim), not times.
\i regress/fixture.sql
CREATE FUNCTION pg_temp.queue_behind_flights(people integer, each integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO antiban.outbox (recipient, message_type, category, payload, state, not_before)
    SELECT '+551190000' || lpad(p::text, 4, '0'), 'template', 'utility', '{}', 'queued',
           now() - interval '1 minute'
    FROM generate_series(1, each) m, generate_series(1, people) p ORDER BY m, p;
    -- the first message to each person is in flight: every other one waits for it
    UPDATE antiban.outbox SET state = 'sending', lease_until = now() + interval '1 hour'
    WHERE id IN (SELECT min(id) FROM antiban.outbox WHERE state = 'queued' GROUP BY recipient);
$$;
CREATE FUNCTION pg_temp.claim_reads(batch integer, OUT due_rows bigint, OUT order_probes bigint)
LANGUAGE sql AS $$
    WITH plan AS (SELECT antiban.explain_claim(now(), batch)::jsonb AS p),
    nodes AS (SELECT n FROM plan, jsonb_path_query(p, 'strict $.**') n
              WHERE jsonb_typeof(n) = 'object' AND n ? 'Index Name')
    SELECT sum(((n ->> 'Actual Rows')::bigint + coalesce((n ->> 'Rows Removed by Filter')::bigint, 0))
               * (n ->> 'Actual Loops')::bigint) FILTER (WHERE n ->> 'Index Name' = 'outbox_due'),
           sum((n ->> 'Actual Loops')::bigint) FILTER (WHERE n ->> 'Index Name' = 'outbox_conversation')
    FROM nodes
$$;
BEGIN;
SELECT pg_temp.queue_behind_flights(50, 40);
SELECT count(*) AS waiting FROM antiban.outbox WHERE state = 'queued';
SELECT * FROM pg_temp.claim_reads(100);
ROLLBACK;
BEGIN;
SELECT pg_temp.queue_behind_flights(50, 400);
SELECT count(*) AS waiting FROM antiban.outbox WHERE state = 'queued';
SELECT * FROM pg_temp.claim_reads(100);
ROLLBACK;
-- superuser only: it locks the rows it reads
SELECT has_function_privilege('antiban_admin', 'antiban.explain_claim(timestamptz, integer)', 'EXECUTE') AS admin_may;
