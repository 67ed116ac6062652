-- The statuses of a whole batch of webhook events go to the outbox in one
-- UPDATE (its statement triggers, costs and lead events, run once per batch,
-- not once per 64 statuses), and the result is what applying them one POST
-- at a time gives: each message at its furthest status whatever the posting
-- order (a read never goes back to delivered), pricing from whichever status
-- carried it, each event credited with the messages it moved.
\i regress/fixture.sql
\i regress/webhook_sign.sql
-- One status of message N, with PMP pricing when priced.
CREATE FUNCTION pg_temp.status(n bigint, status text, priced boolean) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
                  '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},'
                  '"statuses":[{"id":"wamid.S%s","status":"%s","timestamp":"1893456000","recipient_id":"5511977700%s"%s}]}}]}]}',
                  n, status, lpad(n::text, 3, '0'),
                  CASE WHEN priced THEN ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"}' ELSE '' END)
$$;

-- 150 messages the sender has sent.
SELECT count(antiban.send_template('+5511977700' || lpad(i::text, 3, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 150) i;
UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.S' || id, sent_at = antiban.now();

-- Count the UPDATE statements the outbox sees.
CREATE TABLE public.outbox_updates (statements integer NOT NULL);
INSERT INTO public.outbox_updates VALUES (0);
CREATE FUNCTION public.count_outbox_update() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    UPDATE public.outbox_updates SET statements = statements + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER count_outbox_update AFTER UPDATE ON antiban.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION public.count_outbox_update();

-- 250 POSTs in one call: every message of 1-100 delivered (priced), then
-- messages 1-50 read; each of messages 101-150 read first and delivered
-- after (Meta reorders), its pricing only on the delivered one.
CREATE TEMP TABLE posts (k int, body text);
INSERT INTO posts
SELECT i, pg_temp.status(i, 'delivered', true) FROM generate_series(1, 100) i
UNION ALL SELECT 100 + i, pg_temp.status(i, 'read', false) FROM generate_series(1, 50) i
UNION ALL SELECT 150 + 2 * (m - 100) - 1, pg_temp.status(m, 'read', false) FROM generate_series(101, 150) m
UNION ALL SELECT 150 + 2 * (m - 100), pg_temp.status(m, 'delivered', true) FROM generate_series(101, 150) m;
SELECT count(*) FILTER (WHERE i.stored AND i.signature_valid AND NOT i.duplicate) AS stored
FROM antiban.ingest_webhooks((SELECT array_agg(convert_to(body, 'UTF8') ORDER BY k) FROM posts),
                             (SELECT array_agg(pg_temp.sign(body) ORDER BY k) FROM posts)) i;

-- one UPDATE of the outbox for the whole batch
SELECT statements FROM public.outbox_updates;

-- every message at its furthest status, priced as its priced status said
SELECT o.state, o.pricing_category, count(*) AS messages, min(o.id), max(o.id)
FROM antiban.outbox o GROUP BY 1, 2 ORDER BY 4;

-- every event applied; a message's move credited once, to the event with its
-- furthest status (messages 1-50: the reads; 51-100: the delivered; 101-150:
-- the reads posted first)
SELECT e.status, e.updates, count(*) AS events
FROM antiban.webhook_events e GROUP BY 1, 2 ORDER BY 1, 2;
SELECT (SELECT sum(e.updates) FROM antiban.webhook_events e) AS credited,
       (SELECT count(*) FROM antiban.outbox o WHERE o.state IN ('delivered', 'read')) AS moved;

DROP TRIGGER count_outbox_update ON antiban.outbox;
DROP FUNCTION public.count_outbox_update();
DROP TABLE public.outbox_updates;

-- The worker's batch is bounded in bytes as well as in events (it holds the
-- bodies together; Meta's may be up to 3 MB each): three pending events of
-- the same size with room for two go two, then one.  (In one transaction:
-- the apply worker never sees them.)
BEGIN;
INSERT INTO antiban.webhook_events (body_raw, body_size, body_sha256, body, signature_valid, status)
SELECT convert_to(b, 'UTF8'), length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true, 'pending'
FROM (SELECT pg_temp.status(i, 'read', false) AS b FROM generate_series(1, 3) i) v;
SELECT antiban.apply_pending_webhooks(1000, 2 * (SELECT max(body_size) FROM antiban.webhook_events WHERE status = 'pending'))
       AS first_batch;
SELECT antiban.apply_pending_webhooks() AS second_batch;
SELECT count(*) AS still_pending FROM antiban.webhook_events WHERE status = 'pending';
COMMIT;
