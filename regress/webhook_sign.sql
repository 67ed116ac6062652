-- For pg_regress cases that call antiban.ingest_webhook(s) themselves: the
-- app secret, changes applied in the call (said here so a case sees the
-- result whatever the server's setting; the apply worker's mode is TAP
-- 023's), and pg_temp.sign(body), the X-Hub-Signature-256 Meta would send.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
RESET client_min_messages;
SELECT antiban.set_secret('app_secret', 'app-secret-for-tests');
SET antiban.webhook_apply = inline;
CREATE FUNCTION pg_temp.sign(body text) RETURNS text LANGUAGE sql AS $$
    SELECT 'sha256=' || encode(hmac(convert_to(body, 'UTF8'), 'app-secret-for-tests', 'sha256'), 'hex')
$$;
