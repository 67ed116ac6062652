-- The webhook receiver's batched door, antiban.ingest_webhooks (many POSTs,
-- one commit), for the role that already may call antiban.ingest_webhook.
-- Kept apart from 90_roles.sql while that file is being reworked: fold this
-- line into its antiban_receiver grant there.
GRANT EXECUTE ON FUNCTION antiban.ingest_webhooks(bytea[], text[]) TO antiban_receiver;
