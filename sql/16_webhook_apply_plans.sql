-- The apply's plans are cached for the session, and the first may be made
-- while antiban's tables are empty (a new install, a new tenant's first
-- webhooks), when a sequential scan costs nothing.  As the tables grow the
-- same plans must still find each person, contact, lead and message by its
-- key: no statement of the apply reads a whole table per webhook.
\i regress/fixture.sql
\i regress/webhook_sign.sql
-- (no ANALYZE behind the test's back: it would replan and hide the fault)
ALTER TABLE antiban.persons SET (autovacuum_enabled = off);
ALTER TABLE antiban.person_ids SET (autovacuum_enabled = off);
ALTER TABLE antiban.contacts SET (autovacuum_enabled = off);
ALTER TABLE antiban.interactions SET (autovacuum_enabled = off);
ALTER TABLE antiban.leads SET (autovacuum_enabled = off);
ALTER TABLE antiban.lead_features SET (autovacuum_enabled = off);
ALTER TABLE antiban.lead_scores SET (autovacuum_enabled = off);
ALTER TABLE antiban.lead_events SET (autovacuum_enabled = off);
ALTER TABLE antiban.outbox SET (autovacuum_enabled = off);
-- a text from person n, and a status of message m (sent to person m)
CREATE FUNCTION pg_temp.inbound(n integer, k integer) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
                  '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
                  '"contacts":[{"profile":{"name":"Lead"},"wa_id":"55119888%s"}],'
                  '"messages":[{"from":"55119888%s","id":"wamid.IN%s.%s","timestamp":"%s","type":"text","text":{"body":"quero investir 50 mil em CDB"}}]}}]}]}',
                  lpad(n::text, 5, '0'), lpad(n::text, 5, '0'), n, k, 1893456000 + k)
$$;
CREATE FUNCTION pg_temp.status(m bigint, status text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
                  '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
                  '"statuses":[{"id":"wamid.OUT%s","status":"%s","timestamp":"1893456100","recipient_id":"55119888%s",'
                  '"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"}}]}}]}]}',
                  m, status, lpad(m::text, 5, '0'))
$$;
CREATE FUNCTION pg_temp.ingest(bodies text[]) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FILTER (WHERE i.stored AND i.signature_valid)
    FROM antiban.ingest_webhooks(ARRAY(SELECT convert_to(b, 'UTF8') FROM unnest(bodies) b),
                                 ARRAY(SELECT pg_temp.sign(b) FROM unnest(bodies) b)) i
$$;

-- 1. this session's first webhooks, every table empty: its plans are made now
SELECT pg_temp.ingest(ARRAY[pg_temp.inbound(1, 1)]) AS stored;

-- 2. then 1,500 persons write in and get an answer, sent and delivered
SELECT pg_temp.ingest(ARRAY(SELECT pg_temp.inbound(n, 2) FROM generate_series(2, 1500) n)) AS stored;
SELECT count(antiban.send_text('+55119888' || lpad(n::text, 5, '0'), 'Olá! Como posso ajudar?', from_number => '1001'))
FROM generate_series(1, 1500) n;
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE state = 'queued';
UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.OUT' || right(recipient, 5)::integer, sent_at = antiban.now();
SELECT pg_temp.ingest(ARRAY(SELECT pg_temp.status(m, 'delivered') FROM generate_series(1, 1500) m)) AS stored;
SELECT count(*) AS persons, (SELECT count(*) FROM antiban.leads) AS leads,
       (SELECT count(*) FROM antiban.outbox WHERE state = 'delivered') AS delivered
FROM antiban.persons;

-- 3. one more message from a known person and one more status: every row
-- they need is found by an index, none by reading a whole table
-- (the counts of the statements above flushed first: the view shows what
-- this session has not flushed yet, not only this transaction)
SELECT pg_stat_force_next_flush();
BEGIN;
SELECT pg_temp.ingest(ARRAY[pg_temp.inbound(700, 3), pg_temp.status(700, 'read')]) AS stored;
SELECT relname, seq_scan, seq_tup_read
FROM pg_stat_xact_all_tables
WHERE schemaname = 'antiban' AND seq_scan > 0
  AND relname IN ('persons', 'person_ids', 'contacts', 'interactions', 'leads', 'lead_features', 'lead_scores',
                  'lead_events', 'outbox', 'webhook_posts_unsorted', 'webhook_outcomes', 'message_costs')
ORDER BY relname;
-- nor through a whole index: a few rows each, not the 1,500 every table holds
SELECT relname, idx_tup_fetch
FROM pg_stat_xact_all_tables
WHERE schemaname = 'antiban' AND idx_tup_fetch > 50
  AND relname IN ('persons', 'person_ids', 'contacts', 'interactions', 'leads', 'lead_features', 'lead_scores',
                  'lead_events', 'outbox', 'webhook_posts_unsorted', 'webhook_outcomes', 'message_costs')
ORDER BY relname;
COMMIT;
SELECT status, count(*) FROM antiban.webhook_events GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE messages >= 2) AS persons_with_two_messages FROM antiban.lead_features;

-- 4. and every SQL-language function the apply calls is inlined into a kept
-- plan: one that is not (a function returning one record, a scalar one with
-- a subquery) is parsed and planned again at each call, per webhook.  With
-- track_functions = all, the calls of such functions, and only those, count.
SELECT pg_stat_force_next_flush();
BEGIN;
SET LOCAL track_functions = 'all';
SELECT pg_temp.ingest(ARRAY[pg_temp.inbound(701, 4), pg_temp.status(701, 'read')]) AS stored;
SELECT f.funcid::regprocedure AS sql_function_called_not_inlined, f.calls
FROM pg_stat_xact_user_functions f JOIN pg_proc p ON p.oid = f.funcid
WHERE p.pronamespace = 'antiban'::regnamespace
  AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql')
ORDER BY 1::text;
COMMIT;
