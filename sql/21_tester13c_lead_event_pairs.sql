-- antiban.outbox_lead_events pairs each changed row's old and new values by
-- id: a row whose id changed (UPDATE ... SET id = DEFAULT) has no old
-- values to pair with, and must not be read as a message that just became
-- sent, read or failed (the old join dropped it; grouping by id alone
-- noted it again: a second outbound, read and failure, a first response).
\i regress/fixture.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests') IS NOT NULL AS secret_set;
CREATE FUNCTION pg_temp.msg(wa text, wamid text, body text, seconds integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    b text := format('{"object":"whatsapp_business_account","entry":[{"id":"200","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511900000001","phone_number_id":"1001"},"contacts":[{"profile":{"name":"Lead"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]}}]}]}',
                     wa, wa, wamid, 1893456000 + seconds, body);
    event bigint;
BEGIN
    SELECT i.event_id INTO event FROM antiban.ingest_webhook(convert_to(b, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(b, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
    RETURN (SELECT w.status FROM antiban.webhook_events w WHERE w.id = event);
END
$$;
INSERT INTO antiban.agents (portfolio_id, name, languages, capacity, presence) VALUES (1, 'Ana', '{pt}', 50, 'online');
INSERT INTO antiban.lead_routing (portfolio_id, qualify_score) VALUES (1, 1)
    ON CONFLICT (portfolio_id) DO UPDATE SET qualify_score = 1;
-- four persons write (an assigned lead each); we answer each with a free-form message
SELECT pg_temp.msg('551198765000' || i, 'wamid.p' || i, 'Quero investir 500 mil em CDB', i) FROM generate_series(1, 4) i;
SELECT count(antiban.send_text('+551198765000' || i, 'Olá!')) AS answers FROM generate_series(1, 4) i;
SET antiban.pinned_now = '2030-01-01 01:00:00+00';
UPDATE antiban.outbox SET state = 'sending', number_id = 1, phone_number_id = '1001';
-- sent, read, and one of them failed (131026) and one opted out (131050)
UPDATE antiban.outbox SET state = 'sent', sent_at = '2030-01-01 00:30:00+00', wamid = 'wamid.o' || id,
       read_at = '2030-01-01 00:31:00+00';
UPDATE antiban.outbox SET failed_at = '2030-01-01 00:32:00+00',
       error_code = CASE WHEN id % 2 = 0 THEN 131026 ELSE 131050 END WHERE id <= 2;
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM antiban.lead_events) AS events,
       (SELECT count(*) FROM antiban.lead_events WHERE kind = 'first_response') AS first_responses,
       (SELECT string_agg(format('%s/%s', id, score), ' ' ORDER BY id) FROM antiban.leads) AS scores;
SELECT first_responses FROM before;

-- inline: the same messages under new ids are no news to their leads
BEGIN;
UPDATE antiban.outbox SET id = DEFAULT;
SELECT (SELECT count(*) FROM antiban.lead_events) - b.events AS new_lead_events,
       (SELECT string_agg(format('%s/%s', id, score), ' ' ORDER BY id) FROM antiban.leads) = b.scores AS scores_unchanged
FROM before b;
ROLLBACK;

-- deferred: nothing queued for them
SET antiban.lead_scoring = deferred;
BEGIN;
UPDATE antiban.outbox SET id = DEFAULT;
SELECT count(*) AS queued FROM antiban.lead_event_queue;
ROLLBACK;
-- a real change under deferred scoring is still queued (the pairing works)
BEGIN;
UPDATE antiban.outbox SET delivered_at = '2030-01-01 00:30:30+00', read_at = NULL;
UPDATE antiban.outbox SET read_at = '2030-01-01 00:40:00+00';
SELECT kind, count(*) FROM antiban.lead_event_queue GROUP BY kind ORDER BY kind;
ROLLBACK;
RESET antiban.lead_scoring;
