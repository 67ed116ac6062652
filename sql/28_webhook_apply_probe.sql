-- The apply writes each event's outcome back by key: a batch of 1,000 events
-- reads its 1,000 outcomes (antiban.webhook_outcomes: locked, then written)
-- and its 1,000 posts (their bodies), never a whole primary key.  Joined on id alone, the write-back was
-- planned as a merge join that walked the partition from its first event, a
-- read per event ever stored for every batch (6,000 rows fetched here, where
-- the table holds 4,000 and the batch 1,000).
\i regress/fixture.sql
-- statuses of wamids no message has: each event is applied at once (nothing to move)
CREATE FUNCTION pg_temp.pending(first integer, last integer) RETURNS bigint LANGUAGE sql AS $$
    WITH i AS (
        INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
        SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
        FROM (SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
                            '{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1001"},'
                            '"statuses":[{"id":"wamid.NONE%s","status":"delivered","timestamp":"1893456100",'
                            '"recipient_id":"5511988800001"}]}}]}]}', n) AS b
              FROM generate_series(first, last) n) v
        RETURNING 1)
    SELECT count(*) FROM i
$$;
-- Each batch is stored and applied in one transaction: the instance's webhook
-- apply workers (every second) never see a pending event of this case, so
-- the counts below are the case's own.
-- 3,000 events of history, applied, with statistics that say so
BEGIN;
SELECT pg_temp.pending(1, 3000) AS stored;
SELECT antiban.apply_pending_webhooks(3000) AS applied;
COMMIT;
ANALYZE antiban.webhook_posts_unsorted, antiban.webhook_outcomes;
-- then a batch of 1,000: each of its outcomes is fetched three times (found
-- pending, locked, written back) and each post twice (its size for the
-- batch's bound, its body), no other row at all (storing them fetches none)
BEGIN;
SELECT pg_temp.pending(3001, 4000) AS stored;
SELECT antiban.apply_pending_webhooks(1000) AS applied;
-- and the apply writes only the narrow outcome: a post, bodies and all, is
-- written once, when it arrives (marking an event applied used to write a new
-- version of the whole row)
SELECT relid::regclass AS tbl, idx_tup_fetch <= CASE relid WHEN 'antiban.webhook_outcomes'::regclass THEN 3 ELSE 2 END * 1000
       AS fetched_by_key, seq_scan, n_tup_ins AS inserted, n_tup_upd AS updated
FROM pg_stat_xact_all_tables WHERE relid IN ('antiban.webhook_posts_unsorted'::regclass, 'antiban.webhook_outcomes'::regclass)
ORDER BY 1;
COMMIT;
SELECT status, count(*), min(id), max(id), sum(updates) AS moved
FROM antiban.webhook_events GROUP BY status;
