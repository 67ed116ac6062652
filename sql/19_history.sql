-- Flat as history grows (issue 13 §4): the health score and the early
-- warnings read sends per number and minute (antiban.send_minutes), not the
-- outbox; webhook posts are partitioned by month (pg_partman) and
-- retention drops an old partition whole; a body is still stored once, and
-- a message's idempotency key still makes one message.
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;

-- ---- the sends rollup equals the raw count ----
SET antiban.pinned_now = '2030-03-01 12:00:00+00';
-- messages sent at chosen times around each window's edge (24 h, 1 h, 10 min)
CREATE FUNCTION pg_temp.sent_at(number text, at timestamptz, final text DEFAULT 'sent') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m bigint;
BEGIN
    INSERT INTO antiban.outbox (recipient, message_type, category, payload, state, not_before)
    VALUES ('+5511955550000', 'template', 'utility', '{}', 'queued', at) RETURNING id INTO m;
    PERFORM set_config('antiban.pinned_now', at::text, true);
    UPDATE antiban.outbox SET state = 'sending', number_id = n.id, phone_number_id = n.phone_number_id
    FROM antiban.numbers n WHERE n.phone_number_id = number AND outbox.id = m;
    UPDATE antiban.outbox SET state = 'sent' WHERE id = m;
    PERFORM set_config('antiban.pinned_now', (at + interval '5 seconds')::text, true);
    IF final IN ('delivered', 'read') THEN
        UPDATE antiban.outbox SET state = 'delivered' WHERE id = m;
    END IF;
    IF final = 'read' THEN
        UPDATE antiban.outbox SET state = 'read' WHERE id = m;
    END IF;
    PERFORM set_config('antiban.pinned_now', '2030-03-01 12:00:00+00', true);
    RETURN m;
END
$$;
SELECT count(pg_temp.sent_at(n, t, f)) AS messages
FROM (VALUES ('1001', '2030-02-28 11:59:30+00'::timestamptz, 'read'),   -- outside the day
             ('1001', '2030-02-28 12:00:30+00', 'read'),
             ('1001', '2030-03-01 10:59:30+00', 'delivered'),            -- outside the hour
             ('1001', '2030-03-01 11:00:30+00', 'delivered'),
             ('1001', '2030-03-01 11:49:30+00', 'read'),                 -- 10 min old and more
             ('1001', '2030-03-01 11:50:30+00', 'read'),
             ('1001', '2030-03-01 11:50:40+00', 'sent'),
             ('1002', '2030-03-01 08:00:00+00', 'delivered'),
             ('1002', '2030-03-01 08:00:59+00', 'read'),
             ('1002', '2030-03-01 11:59:59+00', 'sent')) AS v(n, t, f);
-- a message that failed before it was sent: not counted
INSERT INTO antiban.outbox (recipient, message_type, category, payload, state, not_before)
VALUES ('+5511955550001', 'template', 'utility', '{}', 'queued', antiban.now());
UPDATE antiban.outbox SET state = 'sending', number_id = 1 WHERE recipient = '+5511955550001';
UPDATE antiban.outbox SET state = 'failed' WHERE recipient = '+5511955550001';

CREATE TEMP VIEW raw_sends AS
SELECT o.number_id,
       count(*) FILTER (WHERE o.sent_at > antiban.now() - interval '1 hour') AS sent_recent,
       count(*) FILTER (WHERE o.sent_at <= antiban.now() - interval '10 minutes') AS sent_day,
       count(*) FILTER (WHERE o.sent_at <= antiban.now() - interval '10 minutes'
                          AND (o.delivered_at IS NOT NULL OR o.read_at IS NOT NULL)) AS delivered_day,
       count(*) FILTER (WHERE o.sent_at <= antiban.now() - interval '10 minutes' AND o.read_at IS NOT NULL) AS read_day,
       count(*) AS sent_24h
FROM antiban.outbox o WHERE o.sent_at > antiban.now() - interval '1 day' GROUP BY o.number_id;
CREATE TEMP VIEW rolled_sends AS
SELECT s.number_id, s.sent_recent, s.sent_day, s.delivered_day, s.read_day, s.sent_24h
FROM antiban.number_signals(interval '1 hour') s WHERE s.sent_24h > 0;

-- what the health score reads, before the monitor folds the log and after
SELECT n.phone_number_id, r.sent_recent, r.sent_day, r.delivered_day, r.read_day, r.sent_24h
FROM rolled_sends r JOIN antiban.numbers n ON n.id = r.number_id ORDER BY 1;
SELECT count(*) AS differences FROM ((TABLE raw_sends EXCEPT TABLE rolled_sends) UNION ALL (TABLE rolled_sends EXCEPT TABLE raw_sends)) d;
SELECT antiban.fold_send_minutes() > 0 AS folded;
SELECT count(*) AS left_to_fold FROM antiban.send_minute_changes;
SELECT count(*) AS differences FROM ((TABLE raw_sends EXCEPT TABLE rolled_sends) UNION ALL (TABLE rolled_sends EXCEPT TABLE raw_sends)) d;

-- a status that moves a message later (delivered, then read) moves its count, once
UPDATE antiban.outbox SET state = 'read' WHERE state = 'delivered' AND number_id = 2;
UPDATE antiban.outbox SET state = 'read' WHERE state = 'read' AND number_id = 2;
SELECT count(*) AS differences FROM ((TABLE raw_sends EXCEPT TABLE rolled_sends) UNION ALL (TABLE rolled_sends EXCEPT TABLE raw_sends)) d;
-- the early warnings read it too: a number with 5 errors in 6 sends is warned about
INSERT INTO antiban.send_errors (number_id, code, at, source)
SELECT 2, 131048, antiban.now() - interval '1 minute', 'send' FROM generate_series(1, 5);
SELECT antiban.check_early_warnings() AS warnings;
SELECT kind, phone_number_id, detail FROM antiban.alerts WHERE kind = 'error_rate_rising';

-- the score does not read the outbox: rows gone (an operator's purge)
-- still counted, as retention's deletes are
DELETE FROM antiban.outbox WHERE sent_at IS NOT NULL;
SELECT n.phone_number_id, r.sent_day, r.sent_24h
FROM rolled_sends r JOIN antiban.numbers n ON n.id = r.number_id ORDER BY 1;
-- and a rebuild from the outbox counts what is there
SELECT antiban.rebuild_send_minutes(antiban.now() - interval '2 days') AS minutes;
SELECT count(*) AS numbers_with_sends FROM rolled_sends;
RESET antiban.pinned_now;

-- ---- idempotency: one message per key ----
SELECT antiban.send_template('+5511955551234', 'oferta', 'pt_BR', idempotency_key => 'order-42')
     = antiban.send_template('+5511955551234', 'oferta', 'pt_BR', idempotency_key => 'order-42') AS same_message;
SELECT count(*) AS messages FROM antiban.outbox WHERE idempotency_key = 'order-42';

-- ---- webhook events: partitions, stored once, old partitions dropped ----
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
CREATE FUNCTION pg_temp.post(body text) RETURNS TABLE (stored boolean, duplicate boolean) LANGUAGE sql AS $$
    SELECT i.stored, i.duplicate
    FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
                                'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i
$$;
CREATE TEMP TABLE bodies AS
SELECT k, format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"statuses":[{"id":"wamid.OLD%s","status":"read","timestamp":"1893456000","recipient_id":"5511955550000"}]}}]}]}', k) AS body
FROM generate_series(1, 4) k;
SELECT k, p.stored, p.duplicate FROM bodies, pg_temp.post(body) p ORDER BY k;
-- without pg_partman every event is in the one default partition
SELECT relid::regclass AS partition FROM pg_partition_tree('antiban.webhook_posts') WHERE isleaf;
-- a year's events: 100 days old, 40 days, yesterday, today
UPDATE antiban.webhook_events e SET received_at = now() - x.age
FROM (SELECT b.k, format('wamid.OLD%s', b.k) AS wamid, v.age FROM bodies b
      JOIN (VALUES (1, interval '100 days'), (2, interval '40 days'), (3, interval '1 day'), (4, interval '0')) v(k, age) ON v.k = b.k) x
WHERE e.body::text LIKE '%' || x.wamid || '"%';
SELECT id AS oldest_event FROM antiban.webhook_events ORDER BY received_at LIMIT 1 \gset
SELECT id AS newest_event FROM antiban.webhook_events ORDER BY received_at DESC LIMIT 1 \gset

SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;
RESET client_min_messages;
-- hand over, keeping a year: monthly partitions from the oldest event on
UPDATE antiban.settings SET value = '400 days' WHERE name = 'retention.webhook_events';
SHOW search_path;
SELECT antiban.manage_partitions() ~ '^[0-9]+ partitions \(was 1\), 4 events moved into them$' AS handed_over;
-- (the caller's search_path is kept)
SHOW search_path;
SELECT count(*) >= 5 AS monthly_partitions, to_regclass('antiban.webhook_posts_unsorted') IS NULL AS default_replaced
FROM pg_partition_tree('antiban.webhook_posts') WHERE isleaf;
SELECT tableoid::regclass AS old_partition FROM antiban.webhook_posts WHERE id = :oldest_event \gset
SELECT :'old_partition' <> 'antiban.webhook_posts_default' AS in_a_month_partition,
       (SELECT count(*) FROM antiban.webhook_events) AS events;
-- the same bytes again: stored once, whichever partition holds the first copy
SELECT k, p.stored, p.duplicate FROM bodies, pg_temp.post(body) p ORDER BY k;
-- twice in one call: the first is stored, the second is a duplicate
SELECT ord, stored, duplicate
FROM (SELECT convert_to(body || ' ', 'UTF8') AS b FROM bodies WHERE k = 4) x,
     antiban.ingest_webhooks(ARRAY[x.b, x.b],
         ARRAY['sha256=' || encode(hmac(x.b, 'app-secret-for-tests', 'sha256'), 'hex'),
               'sha256=' || encode(hmac(x.b, 'app-secret-for-tests', 'sha256'), 'hex')])
ORDER BY ord;
SELECT count(*) AS events FROM antiban.webhook_events;

-- the apply reads the partition its events are in: the older months'
-- indexes are looked at once (for pending events), never per event
-- (what this session counted so far flushed first: the view shows it all)
SELECT pg_stat_force_next_flush();
BEGIN;
INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
FROM (SELECT replace(body, 'wamid.OLD', 'wamid.NEW') AS b FROM bodies) v;
SELECT antiban.apply_pending_webhooks(10) AS applied;
SELECT count(*) FILTER (WHERE s.idx_scan > 1) AS other_partitions_read_per_event,
       count(*) >= 4 AS other_partitions
FROM pg_partition_tree('antiban.webhook_posts') t
LEFT JOIN pg_stat_xact_all_tables s ON s.relid = t.relid
WHERE t.isleaf AND t.relid <> (SELECT e.tableoid FROM antiban.webhook_posts e ORDER BY e.received_at DESC LIMIT 1);
COMMIT;

-- back to 30 days: the partition of the 100-day-old event is dropped whole
UPDATE antiban.settings SET value = '30 days' WHERE name = 'retention.webhook_events';
SELECT antiban.manage_partitions() IS NOT NULL AS maintained;
SELECT to_regclass(:'old_partition') IS NULL AS old_partition_dropped,
       NOT EXISTS (SELECT FROM antiban.webhook_events WHERE id = :oldest_event) AS old_event_gone,
       EXISTS (SELECT FROM antiban.webhook_events WHERE id = :newest_event) AS recent_event_kept,
       (SELECT count(*) FROM antiban.webhook_events WHERE received_at > now() - interval '2 days') AS recent_events;
-- the pg_cron job that keeps it so
SELECT job_name, schedule, command FROM antiban.maintenance_jobs() WHERE job_name = 'antiban-partitions';
-- retention finds nothing left to delete row by row in the partitions
SELECT what, partitions_dropped FROM antiban.apply_retention() WHERE what = 'webhook_events';
