-- Token buckets (shared memory) and the portfolio messaging limit.

CREATE FUNCTION antiban.try_consume(
    phone_number_id text,
    amount double precision DEFAULT 1,
    recipient text DEFAULT NULL,
    consume boolean DEFAULT true,
    OUT allowed boolean,
    OUT remaining double precision,
    OUT retry_at timestamptz,
    OUT pair_remaining double precision)
AS 'MODULE_PATHNAME', 'antiban_try_consume' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION antiban.try_consume(text, double precision, text, boolean) IS
    'Take amount tokens from a number''s throughput bucket and, with a recipient, from the (number, recipient) pair bucket: both or neither. Returns whether it was allowed, what remains and the earliest time it would be allowed. consume => false only looks.';

CREATE FUNCTION antiban.bucket_states(
    OUT kind text, OUT number_id bigint, OUT recipient text, OUT tokens double precision,
    OUT capacity double precision, OUT rate_per_second double precision,
    OUT refilled_at timestamptz, OUT granted bigint, OUT denied bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_bucket_states' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.bucket_states() IS
    'Every token bucket in shared memory, refilled to antiban.now().';

CREATE VIEW antiban.buckets AS
SELECT b.kind, n.phone_number_id, b.recipient, round(b.tokens::numeric, 3) AS tokens,
       b.capacity, b.rate_per_second, b.tokens >= b.capacity AS is_full,
       b.refilled_at, b.granted, b.denied
FROM antiban.bucket_states() b
LEFT JOIN antiban.numbers n ON n.id = b.number_id;
COMMENT ON VIEW antiban.buckets IS
    'Token buckets per number (throughput) and per number and recipient (pair rate). Buckets absent here are full.';

-- Recipients: sticky sender, service window and 24 h reach, written behind by the journal.
CREATE TABLE antiban.recipient_state (
    portfolio_id     bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    recipient        text NOT NULL,
    last_number_id   bigint,
    last_sent_at     timestamptz,
    last_reached_at  timestamptz,
    window_until     timestamptz,
    window_number_id bigint,
    marketing_opt_out boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, recipient)
);
COMMENT ON TABLE antiban.recipient_state IS
    'Per portfolio and recipient: the number they last talked to, their open service window and when they were last counted against the messaging limit. Shared memory is the live copy; this table lets it survive restarts.';
COMMENT ON COLUMN antiban.recipient_state.last_reached_at IS
    'Last business-initiated template outside a service window: counts the recipient for 24 h.';

CREATE FUNCTION antiban.portfolio_usage_raw(
    OUT portfolio_id bigint, OUT used bigint, OUT room_at timestamptz, OUT messaging_limit bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_portfolio_usage' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.portfolio_usage_raw() IS
    'Unique users counted per portfolio over the moving 24 h, from shared memory.';

CREATE VIEW antiban.portfolio_usage AS
SELECT p.business_id, p.name, p.messaging_limit AS tier, u.messaging_limit, u.used,
       greatest(u.messaging_limit - u.used, 0) AS remaining,
       CASE WHEN u.messaging_limit > 0 THEN round(100.0 * u.used / u.messaging_limit, 1) END AS used_pct,
       u.room_at
FROM antiban.portfolio_usage_raw() u JOIN antiban.portfolios p ON p.id = u.portfolio_id;
COMMENT ON VIEW antiban.portfolio_usage IS
    'Each portfolio''s messaging limit: unique users reached in the moving 24 h, what remains, and when room frees up if it is full.';

CREATE FUNCTION antiban.open_service_window(recipient text, phone_number_id text, until timestamptz DEFAULT NULL)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'antiban_open_service_window' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.open_service_window(text, text, timestamptz) IS
    'The recipient wrote to this number: free-form replies are allowed until "until" (default 24 h from antiban.now()), and templates sent meanwhile do not count against the messaging limit.';
