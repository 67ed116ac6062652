-- For pg_regress cases that post webhooks signed like Meta: the app secret,
-- numbers fast enough not to queue, and pg_temp.post(body), which answers
-- the stored event's status and problems.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
UPDATE antiban.numbers SET rate_override = 1000, burst_override = 1000;
CREATE FUNCTION pg_temp.post(body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    event bigint;
BEGIN
    SELECT i.event_id INTO event FROM antiban.ingest_webhook(convert_to(body, 'UTF8'),
        'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')) i;
    RETURN (SELECT w.status || coalesce(' ' || nullif(array_to_string(w.problems, '; '), ''), '')
            FROM antiban.webhook_events w WHERE w.id = event);
END
$$;
