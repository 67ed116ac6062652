-- The outbox: every message, its state, and when each state was reached.

CREATE TYPE antiban.message_state AS ENUM
    ('queued', 'sending', 'sent', 'delivered', 'read', 'retry_wait', 'failed', 'dead',
     'rejected', 'expired', 'cancelled', 'unknown');
COMMENT ON TYPE antiban.message_state IS
    'queued -> sending -> sent -> delivered -> read; retry_wait after a transient error; failed (permanent error), dead (retries exhausted), rejected (by the decision), expired (validity passed), cancelled, unknown (sent or not: no evidence after a crash).';

CREATE TABLE antiban.outbox (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at        timestamptz NOT NULL DEFAULT now(),
    recipient         text,
    message_type      text NOT NULL,
    category          antiban.category NOT NULL,
    priority          antiban.priority NOT NULL DEFAULT 'normal',
    payload           jsonb NOT NULL,
    state             antiban.message_state NOT NULL,
    not_before        timestamptz NOT NULL,
    valid_until       timestamptz,
    idempotency_key   text,
    metadata          jsonb NOT NULL DEFAULT '{}',
    from_number       text,
    number_id         bigint,
    phone_number_id   text,
    portfolio_id      bigint,
    attempts          integer NOT NULL DEFAULT 0,
    pair_hits         integer NOT NULL DEFAULT 0,
    lease_until       timestamptz,
    leased_by         integer,
    wamid             text,
    reason            text,
    detail            text,
    error_code        integer,
    error_title       text,
    error_details     text,
    fbtrace_id        text,
    queued_at         timestamptz,
    sending_at        timestamptz,
    sent_at           timestamptz,
    delivered_at      timestamptz,
    read_at           timestamptz,
    retry_at          timestamptz,
    failed_at         timestamptz,
    dead_at           timestamptz,
    rejected_at       timestamptz,
    expired_at        timestamptz,
    cancelled_at      timestamptz,
    unknown_at        timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_recipient_required CHECK (recipient IS NOT NULL OR message_type = 'read_receipt')
);
COMMENT ON TABLE antiban.outbox IS
    'Every message antiban was asked to send, with its decision, state and a timestamp per state reached. The id travels to Meta in biz_opaque_callback_data.';
-- What the sender claims: due rows, most urgent first; per priority, its
-- first entry is also when the next waiting message is due.
CREATE INDEX outbox_due ON antiban.outbox (priority DESC, not_before, id)
    WHERE state IN ('queued', 'retry_wait');
-- Per-recipient order: the sender claims a message only when no earlier one
-- to the same recipient is pending (see outbox_claim.c); one probe of the
-- pending rows of a conversation, a small index however long the history.
CREATE INDEX outbox_conversation ON antiban.outbox (recipient, id)
    WHERE state IN ('queued', 'retry_wait', 'sending') AND NOT metadata @> '{"independent": true}';
-- Leases to reconcile after a crash.
CREATE INDEX outbox_sending ON antiban.outbox (lease_until) WHERE state = 'sending';
CREATE INDEX outbox_wamid ON antiban.outbox (wamid) WHERE wamid IS NOT NULL;
-- An idempotency key is the app's, within one portfolio: two businesses may
-- pick the same key, and one must never learn of, or get, the other's message.
CREATE UNIQUE INDEX outbox_idempotency ON antiban.outbox (portfolio_id, idempotency_key) NULLS NOT DISTINCT
    WHERE idempotency_key IS NOT NULL;
COMMENT ON COLUMN antiban.outbox.idempotency_key IS
    'The caller''s key: the same key twice in one portfolio is one message (a second call returns the first id); unique per portfolio (index outbox_idempotency). The send functions take 1 to 255 characters, never blank.';
CREATE INDEX outbox_recipient ON antiban.outbox (recipient, created_at);

CREATE VIEW antiban.queue_depth AS
SELECT coalesce(phone_number_id, '(not yet chosen)') AS phone_number_id, state,
       count(*) AS messages,
       min(not_before) FILTER (WHERE state IN ('queued', 'retry_wait')) AS next_due,
       antiban.now() - min(coalesce(queued_at, created_at)) AS oldest_age
FROM antiban.outbox
WHERE state IN ('queued', 'retry_wait', 'sending', 'unknown')
GROUP BY 1, 2;
COMMENT ON VIEW antiban.queue_depth IS 'Messages waiting or in flight, per sending number and state.';

CREATE VIEW antiban.outbox_states AS
SELECT state, count(*) AS messages, max(updated_at) AS last_change
FROM antiban.outbox GROUP BY state;
COMMENT ON VIEW antiban.outbox_states IS 'How many messages are in each state.';

CREATE FUNCTION antiban.outbox_transition() RETURNS trigger
AS 'MODULE_PATHNAME', 'antiban_outbox_transition' LANGUAGE C;
COMMENT ON FUNCTION antiban.outbox_transition() IS
    'Keeps outbox rows on the state machine and stamps the time each state was reached.';
CREATE TRIGGER outbox_transition BEFORE INSERT OR UPDATE ON antiban.outbox
    FOR EACH ROW EXECUTE FUNCTION antiban.outbox_transition();

CREATE FUNCTION antiban.transition_allowed(from_state text, to_state text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_transition_allowed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION antiban.transition_allowed(text, text) IS
    'Whether an outbox message may move from one state to another.';

CREATE INDEX outbox_validity ON antiban.outbox (valid_until)
    WHERE state IN ('queued', 'retry_wait') AND valid_until IS NOT NULL;

CREATE FUNCTION antiban.explain_claim(at timestamptz DEFAULT antiban.now(), batch integer DEFAULT 256)
RETURNS json AS 'MODULE_PATHNAME', 'antiban_explain_claim' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION antiban.explain_claim(timestamptz, integer) IS
    'The senders'' due-message query under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON), as a sender claiming a batch at that time runs it. It locks the rows it reads until the caller''s transaction ends: run it in a transaction and roll back. Superuser only.';
