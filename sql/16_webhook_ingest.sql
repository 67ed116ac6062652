-- Many POSTs in one call (antiban.ingest_webhooks, what the receiver sends):
-- each POST judged, stored and applied on its own terms, so a bad one in the
-- batch (unsigned, not JSON, a status whose apply fails) loses nothing of
-- the others; the statuses of the good ones are applied together.
\i regress/fixture.sql
\i regress/webhook_sign.sql
CREATE FUNCTION pg_temp.envelope(value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":'
                  '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},%s}}]}]}',
                  value)
$$;
-- One status of message N (sent to +55119876500NN, wamid.BN).
CREATE FUNCTION pg_temp.status(n int, status text, extra text DEFAULT '') RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.envelope(format('"statuses":[{"id":"wamid.B%s","status":"%s","timestamp":"1893456000","recipient_id":"55119876500%s"%s}]',
                                   n, status, lpad(n::text, 2, '0'), extra))
$$;

-- Eighteen messages the sender has sent (the senders are off in pg_regress).
SELECT count(antiban.send_template('+55119876500' || lpad(i::text, 2, '0'), 'oferta', 'pt_BR')) FROM generate_series(1, 18) i;
UPDATE antiban.outbox SET state = 'sent', attempts = 1, wamid = 'wamid.B' || id, sent_at = antiban.now() WHERE id < 18;
-- but the answer to message 18's send was lost: it has no wamid yet
UPDATE antiban.outbox SET state = 'sending', attempts = 1 WHERE id = 18;

CREATE TEMP TABLE posts (k int, body text, signature text);
INSERT INTO posts VALUES
    (1, pg_temp.status(1, 'delivered', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}'), NULL),
    (2, pg_temp.status(2, 'read'), 'sha256=' || repeat('0', 64)),       -- a forged signature
    (3, '{"object":"whatsapp_business_account","entry":[', NULL),        -- signed, not JSON
    -- a failure whose code is not a number: apply_statuses fails on it, so
    -- the batch's statuses go again event by event and only this one is lost
    (4, pg_temp.status(3, 'failed', ',"errors":[{"code":"x1","title":"?"}]'), NULL),
    (5, pg_temp.status(4, 'read'), NULL),
    (6, pg_temp.envelope('"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511955550001"}],'
                         '"messages":[{"from":"5511955550001","id":"wamid.IN1","timestamp":"1893456000","type":"text","text":{"body":"Oi"}}]'), NULL),
    (7, pg_temp.status(1, 'delivered', ',"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}'), NULL),
    (8, pg_temp.status(5, 'delivered'), NULL);             -- no signature header at all
UPDATE posts SET signature = pg_temp.sign(body) WHERE signature IS NULL AND k <> 8;

-- One call, in posting order: the forged and the unsigned one refused, the
-- second copy of POST 1 a duplicate, every other one stored.
SELECT i.ord, i.stored, i.signature_valid, i.duplicate, i.event_id IS NOT NULL AS has_event
FROM antiban.ingest_webhooks((SELECT array_agg(convert_to(body, 'UTF8') ORDER BY k) FROM posts),
                             (SELECT array_agg(signature ORDER BY k) FROM posts)) i
ORDER BY i.ord;

-- Each stored event applied on its own terms.
SELECT e.id, e.status, e.signature_valid, e.updates, e.applied_at IS NOT NULL AS applied_at_set, e.problems
FROM antiban.webhook_events e ORDER BY e.id;
-- Of the first five, messages 1 and 4 moved (with pricing); 2 (forged), 3 (its status failed
-- to apply) and 5 (unsigned) did not.
SELECT id, state, pricing_model, error_code FROM antiban.outbox WHERE id <= 5 ORDER BY id;
SELECT wa_id, profile_name FROM antiban.contacts;
SELECT direction, wamid, body FROM antiban.interactions;

-- Applied once: applying the same events again changes nothing.
SELECT antiban.apply_webhooks(ARRAY(SELECT id FROM antiban.webhook_events)) AS applied_again;

-- Statuses of many events in one go: ten POSTs of one status each (messages
-- 6 to 15), all delivered; each event credited with the message it moved.
SELECT count(*) FILTER (WHERE stored AND NOT duplicate) AS stored
FROM antiban.ingest_webhooks(
    ARRAY(SELECT convert_to(pg_temp.status(i, 'delivered'), 'UTF8') FROM generate_series(6, 15) i ORDER BY i),
    ARRAY(SELECT pg_temp.sign(pg_temp.status(i, 'delivered')) FROM generate_series(6, 15) i ORDER BY i));
SELECT count(*) AS delivered FROM antiban.outbox WHERE id > 5 AND state = 'delivered';
SELECT status, updates, count(*) FROM antiban.webhook_events WHERE id > (SELECT max(id) - 10 FROM antiban.webhook_events) GROUP BY 1, 2;

-- Identity and consent through a batch: a status names the BSUID of the
-- message's recipient, a later POST of the same call says that BSUID wants
-- no marketing: the phone we sent to is the same person, so it is stopped.
CREATE FUNCTION pg_temp.preference(uid text, value text) RETURNS text LANGUAGE sql AS $$
    SELECT format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"user_preferences","value":'
                  '{"messaging_product":"whatsapp","user_preferences":[{"wa_id":"","user_id":"%s","detail":"","category":"marketing_messages","value":"%s","timestamp":1893456030}]}}]}]}',
                  uid, value)
$$;
SELECT outcome, reason FROM antiban.decide('+5511987650016', 'marketing', consume => false) AS before_stop;
SELECT count(*) FILTER (WHERE stored AND NOT duplicate) AS stored
FROM (SELECT array_agg(convert_to(b, 'UTF8') ORDER BY k) AS bodies, array_agg(pg_temp.sign(b) ORDER BY k) AS signatures
      FROM (VALUES (1, pg_temp.status(16, 'delivered', ',"contacts":[{"wa_id":"5511987650016","user_id":"BR.16abc"}]')),
                   (2, pg_temp.preference('BR.16abc', 'stop')),
                   (3, pg_temp.status(17, 'delivered'))) AS v(k, b)) p,
     antiban.ingest_webhooks(p.bodies, p.signatures);
SELECT id, state FROM antiban.outbox WHERE id IN (16, 17) ORDER BY id;
SELECT antiban.person_id(1, 'BR.16abc') = antiban.person_id(1, '+5511987650016') AS same_person;
SELECT outcome, reason FROM antiban.decide('+5511987650016', 'marketing', consume => false) AS after_stop;

-- A status tied to message 18 only by our id in biz_opaque_callback_data
-- gives it its wamid; a later POST of the same call names that wamid alone:
-- applied in posting order, both are believed.
SELECT count(*) FILTER (WHERE stored AND NOT duplicate) AS stored
FROM (SELECT array_agg(convert_to(b, 'UTF8') ORDER BY k) AS bodies, array_agg(pg_temp.sign(b) ORDER BY k) AS signatures
      FROM (VALUES (1, pg_temp.envelope('"statuses":[{"id":"wamid.LATE18","status":"delivered","timestamp":"1893456000","recipient_id":"5511987650018","biz_opaque_callback_data":"18"}]')),
                   (2, pg_temp.envelope('"statuses":[{"id":"wamid.LATE18","status":"read","timestamp":"1893456005","recipient_id":"5511987650018"}]'))) AS v(k, b)) p,
     antiban.ingest_webhooks(p.bodies, p.signatures);
SELECT id, state, wamid, phone_number_id FROM antiban.outbox WHERE id = 18;
SELECT status, updates, problems FROM antiban.webhook_events ORDER BY id DESC LIMIT 2;

-- Bad calls are errors, not silent drops.
SELECT * FROM antiban.ingest_webhooks(ARRAY[convert_to('{}', 'UTF8')], ARRAY[]::text[]);
SELECT * FROM antiban.ingest_webhooks(ARRAY[NULL::bytea], ARRAY[NULL::text]);
SELECT count(*) AS nothing FROM antiban.ingest_webhooks(ARRAY[]::bytea[], ARRAY[]::text[]);
