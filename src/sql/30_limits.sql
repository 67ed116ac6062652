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
    'Take amount tokens from a number''s throughput bucket and, with a recipient, from the (number, recipient) pair bucket: both or neither. Returns whether it was allowed, what remains and the earliest time it would be allowed. consume => false only looks. Tokens are taken at once and stay taken if the transaction rolls back (conservative).';

CREATE FUNCTION antiban.bucket_states(
    OUT kind text, OUT number_id bigint, OUT recipient text, OUT tokens double precision,
    OUT capacity double precision, OUT rate_per_second double precision,
    OUT refilled_at timestamptz, OUT granted bigint, OUT denied bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_bucket_states' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.bucket_states() IS
    'Every token bucket in shared memory, refilled to antiban.now(); for a role mapped to portfolios, those of its portfolios'' numbers only.';

CREATE VIEW antiban.buckets AS
SELECT b.kind, n.phone_number_id, b.recipient, round(b.tokens::numeric, 3) AS tokens,
       b.capacity, b.rate_per_second, b.tokens >= b.capacity AS is_full,
       b.refilled_at, b.granted, b.denied
FROM antiban.bucket_states() b
LEFT JOIN antiban.numbers n ON n.id = b.number_id;
COMMENT ON VIEW antiban.buckets IS
    'Token buckets per number (throughput) and per number and recipient (pair rate). Buckets absent here are full, except pairs no message has gone through since the server started: they are as full as the time since the person''s last message (or since a crash restart) made them, and show here from their first message.';

-- Recipients, in two tables because their changes follow two rules.
-- Sends take effect at once and are written behind by the journal writer:
CREATE TABLE antiban.recipient_reach (
    portfolio_id     bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    recipient        text NOT NULL,
    last_number_id   bigint,
    last_sent_at     timestamptz,
    last_reached_at  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, recipient)
);
COMMENT ON TABLE antiban.recipient_reach IS
    'Per portfolio and recipient: the number that last sent to them and when they were last counted against the messaging limit. Written behind by the journal writer (a send counts at once, even if the transaction that decided it rolls back); shared memory is the live copy, this table lets it survive restarts. Sessions on their own pinned clock write nothing here.';
COMMENT ON COLUMN antiban.recipient_reach.last_reached_at IS
    'Last business-initiated template outside a service window: counts the recipient for 24 h.';

-- What a recipient told us is written in the transaction that states it, and
-- reaches shared memory when that transaction commits:
CREATE TABLE antiban.recipient_facts (
    portfolio_id      bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    recipient         text NOT NULL,
    marketing_opt_out boolean NOT NULL DEFAULT false,
    window_until      timestamptz,
    window_number_id  bigint,
    window_opened_at  timestamptz,
    marketing_not_before timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, recipient)
);
COMMENT ON TABLE antiban.recipient_facts IS
    'Per portfolio and recipient: marketing opt-out and the open service window, written by set_marketing_opt_out and open_service_window (and the webhooks that call them) inside the caller''s transaction; decisions see them once it commits. Sessions on their own pinned clock write nothing here.';
COMMENT ON COLUMN antiban.recipient_facts.window_opened_at IS
    'antiban.now() when the window was opened: a window opened on a clock ahead of the loading session''s is ignored after a restart.';
COMMENT ON COLUMN antiban.recipient_facts.marketing_not_before IS
    'Meta capped this person''s marketing (131049): decide() queues marketing to them until then; utility and service still go.';

CREATE VIEW antiban.recipient_state AS
SELECT portfolio_id, recipient, r.last_number_id, r.last_sent_at, r.last_reached_at,
       f.window_until, f.window_number_id, coalesce(f.marketing_opt_out, false) AS marketing_opt_out,
       greatest(r.updated_at, f.updated_at) AS updated_at, f.marketing_not_before
FROM antiban.recipient_reach r FULL JOIN antiban.recipient_facts f USING (portfolio_id, recipient);
COMMENT ON VIEW antiban.recipient_state IS
    'Per portfolio and recipient: the number they last talked to, their open service window, their marketing opt-out and when they were last counted against the messaging limit, as stored (recipient_reach and recipient_facts). Shared memory is the live copy; these tables let it survive restarts.';

CREATE FUNCTION antiban.portfolio_usage_raw(
    OUT portfolio_id bigint, OUT used bigint, OUT room_at timestamptz, OUT messaging_limit bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_portfolio_usage' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.portfolio_usage_raw() IS
    'Unique users counted per portfolio over the moving 24 h, from shared memory. A role mapped to portfolios gets its own portfolios'' rows only.';

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
    'The recipient wrote to this number: free-form replies are allowed until "until" (default 24 h from antiban.now()), and templates sent meanwhile do not count against the messaging limit. Takes effect when the calling transaction commits (it sees its own change before that); refused in a transaction that is then prepared.';
