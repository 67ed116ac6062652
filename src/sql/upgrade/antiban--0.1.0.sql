-- antiban 0.1.0 as released (commit 171a6c0), kept so that 0.1.0 can be installed and
-- upgraded (ALTER EXTENSION antiban UPDATE): do not edit.
-- antiban install script, assembled by the Makefile from src/sql/*.sql.
\echo Use "CREATE EXTENSION antiban" to load this file. \quit

-- Closed sets of values are enums: psql shows them, BI tools group by them.

CREATE TYPE antiban.messaging_tier AS ENUM
    ('TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED');
COMMENT ON TYPE antiban.messaging_tier IS
    'A business portfolio''s messaging limit: unique users reached with business-initiated templates per moving 24 h.';

CREATE TYPE antiban.throughput_level AS ENUM ('STANDARD', 'HIGH', 'COEXISTENCE');
COMMENT ON TYPE antiban.throughput_level IS
    'Messages per second a number may send: STANDARD 80, HIGH 1,000, COEXISTENCE (Business app + API) 20.';

CREATE TYPE antiban.quality_rating AS ENUM ('GREEN', 'YELLOW', 'RED', 'NA', 'UNKNOWN');

CREATE TYPE antiban.number_status AS ENUM
    ('PENDING', 'DELETED', 'MIGRATED', 'BANNED', 'RESTRICTED', 'RATE_LIMITED', 'FLAGGED',
     'CONNECTED', 'DISCONNECTED', 'UNKNOWN', 'UNVERIFIED', 'OFFLINE');
COMMENT ON TYPE antiban.number_status IS
    'Meta''s phone-number status. Only CONNECTED, FLAGGED, RATE_LIMITED and UNKNOWN numbers send.';

CREATE TYPE antiban.number_mode AS ENUM ('active', 'throttled', 'paused', 'warming', 'recovering');
COMMENT ON TYPE antiban.number_mode IS
    'How hard antiban pushes a number: paused numbers never send; throttled and warming ones send at rate_factor.';

CREATE TYPE antiban.category AS ENUM ('marketing', 'utility', 'authentication', 'service');
COMMENT ON TYPE antiban.category IS
    'Template categories, plus service for free-form messages inside a customer-service window.';

CREATE TYPE antiban.priority AS ENUM ('low', 'normal', 'high', 'critical');

CREATE TYPE antiban.outcome AS ENUM ('SEND', 'QUEUE', 'REJECT');

CREATE TYPE antiban.secret_kind AS ENUM ('access_token', 'app_secret', 'webhook_verify_token');

CREATE FUNCTION antiban.tier_limit(antiban.messaging_tier) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE $1
    WHEN 'TIER_250' THEN 250
    WHEN 'TIER_2K' THEN 2000
    WHEN 'TIER_10K' THEN 10000
    WHEN 'TIER_100K' THEN 100000
    ELSE -1
END;
COMMENT ON FUNCTION antiban.tier_limit(antiban.messaging_tier) IS
    'Unique users per moving 24 h allowed by a messaging tier; -1 means unlimited.';

CREATE FUNCTION antiban.now() RETURNS timestamptz
AS 'MODULE_PATHNAME', 'antiban_sql_now' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION antiban.now() IS
    'The clock every antiban limit uses: real time, or antiban.pinned_now when a test pins it.';
-- What antiban sends from: business portfolios, WABAs and phone numbers.

CREATE TABLE antiban.portfolios (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id     text NOT NULL UNIQUE
                    CONSTRAINT portfolios_business_id_digits CHECK (business_id ~ '^[0-9]{1,32}$'),
    name            text,
    messaging_limit antiban.messaging_tier NOT NULL DEFAULT 'TIER_250',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE antiban.portfolios IS
    'Meta business portfolios. The messaging limit is shared by every number of every WABA in the portfolio.';

CREATE TABLE antiban.wabas (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    waba_id         text NOT NULL UNIQUE
                    CONSTRAINT wabas_waba_id_digits CHECK (waba_id ~ '^[0-9]{1,32}$'),
    portfolio_id    bigint NOT NULL REFERENCES antiban.portfolios ON DELETE RESTRICT,
    name            text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON antiban.wabas (portfolio_id);
COMMENT ON TABLE antiban.wabas IS 'WhatsApp Business Accounts, each in one business portfolio.';

CREATE TABLE antiban.numbers (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone_number_id      text NOT NULL UNIQUE
                         CONSTRAINT numbers_phone_number_id_digits CHECK (phone_number_id ~ '^[0-9]{1,32}$'),
    waba_id              bigint NOT NULL REFERENCES antiban.wabas ON DELETE RESTRICT,
    display_phone_number text,
    throughput_level     antiban.throughput_level NOT NULL DEFAULT 'STANDARD',
    quality_rating       antiban.quality_rating NOT NULL DEFAULT 'UNKNOWN',
    status               antiban.number_status NOT NULL DEFAULT 'CONNECTED',
    health               smallint NOT NULL DEFAULT 100
                         CONSTRAINT numbers_health_range CHECK (health BETWEEN 0 AND 100),
    mode                 antiban.number_mode NOT NULL DEFAULT 'active',
    rate_factor          double precision NOT NULL DEFAULT 1.0
                         CONSTRAINT numbers_rate_factor_range CHECK (rate_factor > 0 AND rate_factor <= 1),
    rate_override        double precision
                         CONSTRAINT numbers_rate_override_positive CHECK (rate_override > 0 AND rate_override <= 100000),
    burst_override       double precision
                         CONSTRAINT numbers_burst_override_positive CHECK (burst_override >= 1 AND burst_override <= 1000000),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON antiban.numbers (waba_id);
COMMENT ON TABLE antiban.numbers IS
    'Sending phone numbers. health (0-100) and mode decide rotation; rate_override and burst_override replace the throughput level''s bucket; rate_factor slows throttled numbers.';
COMMENT ON COLUMN antiban.numbers.phone_number_id IS 'Meta''s phone-number id (the one in the send URL), not the phone number.';
COMMENT ON COLUMN antiban.numbers.rate_override IS 'Messages per second replacing the throughput level''s rate (NULL: follow the level).';
COMMENT ON COLUMN antiban.numbers.burst_override IS 'Bucket capacity in messages (NULL: one second of the rate).';

-- Secrets: readable by antiban_admin only; no view, log line or error shows them.
CREATE TABLE antiban.secrets (
    kind        antiban.secret_kind NOT NULL,
    waba_id     bigint REFERENCES antiban.wabas ON DELETE CASCADE,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
    -- no CHECK constraints: a failing row would be echoed, secret included, in the error detail
);
CREATE UNIQUE INDEX secrets_one_per_kind ON antiban.secrets (kind, coalesce(waba_id, 0));
COMMENT ON TABLE antiban.secrets IS
    'Access tokens (one per WABA), the app secret and the webhook verify token. Only antiban_admin can read it.';

CREATE FUNCTION antiban.set_secret(kind antiban.secret_kind, value text, waba text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
-- An error here must not copy the statement, which holds the secret, into the server log.
SET log_min_error_statement = 'panic'
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    waba_row bigint;
BEGIN
    IF value IS NULL OR length(value) < 8 THEN
        RAISE EXCEPTION 'secret value is missing or too short'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Paste the whole token or secret; antiban never shows it back.';
    END IF;
    IF (kind = 'access_token') <> (waba IS NOT NULL) THEN
        RAISE EXCEPTION 'an access token belongs to one WABA; the app secret and verify token to none'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Call antiban.set_secret(''access_token'', <token>, <waba_id>).';
    END IF;
    IF waba IS NOT NULL THEN
        SELECT w.id INTO waba_row FROM antiban.wabas w WHERE w.waba_id = waba;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown WABA "%"', waba
                USING ERRCODE = 'undefined_object',
                      HINT = 'Register it first with INSERT INTO antiban.wabas.';
        END IF;
    END IF;
    INSERT INTO antiban.secrets AS s (kind, waba_id, value)
    VALUES (set_secret.kind, waba_row, set_secret.value)
    ON CONFLICT (kind, coalesce(waba_id, 0))
    DO UPDATE SET value = excluded.value, updated_at = now();
END
$$;
COMMENT ON FUNCTION antiban.set_secret(antiban.secret_kind, text, text) IS
    'Store or replace a secret. Errors never echo the value. Note: log_statement = all would still log the call itself.';

CREATE VIEW antiban.secrets_status AS
SELECT s.kind, w.waba_id, s.updated_at, length(s.value) AS length
FROM antiban.secrets s LEFT JOIN antiban.wabas w ON w.id = s.waba_id;
COMMENT ON VIEW antiban.secrets_status IS 'Which secrets are set and when, never their values.';

-- Backends cache numbers and portfolios; any change reloads every cache at commit.
CREATE FUNCTION antiban.config_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'antiban_config_changed_trigger' LANGUAGE C;
COMMENT ON FUNCTION antiban.config_changed() IS
    'Statement trigger: every backend reloads its copy of numbers and portfolios after the change commits.';

CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.portfolios
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.wabas
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.numbers
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.secrets
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();

CREATE FUNCTION antiban.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON antiban.portfolios
    FOR EACH ROW EXECUTE FUNCTION antiban.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON antiban.numbers
    FOR EACH ROW EXECUTE FUNCTION antiban.touch_updated_at();

CREATE FUNCTION antiban.reload_config() RETURNS void
AS 'MODULE_PATHNAME', 'antiban_reload_config' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.reload_config() IS
    'Make every backend re-read numbers and portfolios after this transaction commits.';
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
-- The send decision and its log.

CREATE TABLE antiban.decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    decided_at      timestamptz NOT NULL,
    recipient       text NOT NULL,
    category        antiban.category NOT NULL,
    priority        antiban.priority NOT NULL,
    outcome         antiban.outcome NOT NULL,
    reason          text NOT NULL,
    phone_number_id text,
    not_before      timestamptz,
    consumed        boolean NOT NULL,
    detail          text NOT NULL
);
CREATE INDEX decisions_decided_at ON antiban.decisions USING brin (decided_at);
CREATE INDEX decisions_recipient ON antiban.decisions (recipient, decided_at);
COMMENT ON TABLE antiban.decisions IS
    'Every decision antiban made, with its reason: "why was this message delayed?" in SQL. Written behind the hot path by the journal writer (antiban.flush_journal() forces it).';

CREATE FUNCTION antiban.decide(
    recipient text,
    category text,
    priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL,
    from_number text DEFAULT NULL,
    portfolio text DEFAULT NULL,
    consume boolean DEFAULT true,
    OUT outcome text,
    OUT reason text,
    OUT detail text,
    OUT phone_number_id text,
    OUT not_before timestamptz)
AS 'MODULE_PATHNAME', 'antiban_decide' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION antiban.decide(text, text, text, timestamptz, text, text, boolean) IS
    'SEND (with the number), QUEUE (with the earliest admissible time) or REJECT, with a machine-readable reason and a sentence. consume => true takes the tokens for a send made right away; false only looks.';

CREATE FUNCTION antiban.flush_journal() RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_flush_journal' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.flush_journal() IS
    'Store buffered decisions and recipient facts now instead of at the journal writer''s next tick. Returns how many records it stored.';

CREATE FUNCTION antiban.journal_stats(
    OUT buffered bigint, OUT capacity bigint, OUT flushed bigint, OUT written_directly bigint,
    OUT previous_shutdown text)
AS 'MODULE_PATHNAME', 'antiban_journal_stats' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.journal_stats() IS
    'The decision journal: records waiting in shared memory, ring size, records stored so far, and records written directly because the ring was full or the caller was outside antiban.database_name; and how the server went down before this start (clean, crashed, or unknown until the writer has looked).';

CREATE TABLE antiban.journal_state (
    id              integer PRIMARY KEY CHECK (id = 1),
    clean_shutdown  boolean NOT NULL,
    started_at      timestamptz,
    stopped_at      timestamptz
);
COMMENT ON TABLE antiban.journal_state IS
    'Whether the journal writer stored everything before the last shutdown. After a crash, token buckets restart empty; after a clean shutdown, from what the journal knows.';
-- Alerts: what a person should look at, raised by workers and triggers.

CREATE TYPE antiban.alert_severity AS ENUM ('info', 'warning', 'critical');

CREATE TABLE antiban.alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at       timestamptz NOT NULL DEFAULT antiban.now(),
    severity         antiban.alert_severity NOT NULL,
    phone_number_id  text,
    kind             text NOT NULL,
    subject          text,
    detail           text NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  text
);
CREATE INDEX alerts_open ON antiban.alerts (created_at) WHERE acknowledged_at IS NULL;
COMMENT ON TABLE antiban.alerts IS
    'Things a person should know: a number paused after a ban signal, a quality drop, a limit nearly used. Acknowledge with antiban.acknowledge_alert(id).';

CREATE FUNCTION antiban.acknowledge_alert(alert bigint) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE antiban.alerts SET acknowledged_at = now(), acknowledged_by = session_user
    WHERE id = alert AND acknowledged_at IS NULL
    RETURNING true
$$;
COMMENT ON FUNCTION antiban.acknowledge_alert(bigint) IS 'Mark an alert as seen; returns NULL if it was already acknowledged or does not exist.';
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
    idempotency_key   text UNIQUE,
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
-- What the sender claims: due rows, most urgent first.
CREATE INDEX outbox_due ON antiban.outbox (priority DESC, not_before, id)
    WHERE state IN ('queued', 'retry_wait');
-- Leases to reconcile after a crash.
CREATE INDEX outbox_sending ON antiban.outbox (lease_until) WHERE state = 'sending';
CREATE INDEX outbox_wamid ON antiban.outbox (wamid) WHERE wamid IS NOT NULL;
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

-- When the next waiting message is due, so an idle sender knows how long to sleep.
CREATE INDEX outbox_next_due ON antiban.outbox (not_before) WHERE state IN ('queued', 'retry_wait');
CREATE INDEX outbox_validity ON antiban.outbox (valid_until)
    WHERE state IN ('queued', 'retry_wait') AND valid_until IS NOT NULL;
-- Sending: what applications call.  Each returns the outbox id.

CREATE FUNCTION antiban.enqueue(
    recipient text, message_type text, category text, payload jsonb,
    priority text DEFAULT 'normal', valid_until timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_enqueue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.enqueue(text, text, text, jsonb, text, timestamptz, text, jsonb, text) IS
    'Validate a message against the Cloud API''s limits, decide (SEND, QUEUE or REJECT) and put it in the outbox. The send_* functions build the payload and call this.';

-- params: NULL; an array of values (positional body parameters); an object of
-- named body parameters; or {"components": [...]} as the Cloud API takes it.
CREATE FUNCTION antiban.template_object(template_name text, language text, params jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb_build_object('name', template_name, 'language', jsonb_build_object('code', language))
    || CASE
        WHEN params IS NULL OR params = 'null' THEN '{}'::jsonb
        WHEN jsonb_typeof(params) = 'object' AND params ? 'components' THEN
            jsonb_build_object('components', params -> 'components')
        WHEN jsonb_typeof(params) = 'array' AND jsonb_array_length(params) > 0
             AND jsonb_typeof(params -> 0) = 'object' AND params -> 0 ? 'type'
             AND params -> 0 ->> 'type' IN ('header', 'body', 'button') THEN
            jsonb_build_object('components', params)
        WHEN jsonb_typeof(params) = 'array' THEN
            jsonb_build_object('components', jsonb_build_array(jsonb_build_object('type', 'body',
                'parameters', (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'text', 'text', v #>> '{}')
                                                         ORDER BY i), '[]')
                               FROM jsonb_array_elements(params) WITH ORDINALITY AS e(v, i)))))
        WHEN jsonb_typeof(params) = 'object' THEN
            jsonb_build_object('components', jsonb_build_array(jsonb_build_object('type', 'body',
                'parameters', (SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'text',
                                                   'parameter_name', k, 'text', v #>> '{}') ORDER BY k), '[]')
                               FROM jsonb_each(params) AS e(k, v)))))
        ELSE jsonb_build_object('components', params)
    END;
COMMENT ON FUNCTION antiban.template_object(text, text, jsonb) IS
    'The Cloud API "template" object for a template name, language code and parameters (array: positional; object: named; {"components": [...]}: as given).';

CREATE FUNCTION antiban.send_template(
    recipient text, template_name text, language text, params jsonb DEFAULT NULL,
    category text DEFAULT 'marketing', priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL, idempotency_key text DEFAULT NULL,
    metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL)
RETURNS bigint LANGUAGE sql VOLATILE
RETURN antiban.enqueue(recipient, 'template', category,
    jsonb_build_object('template', antiban.template_object(template_name, language, params)),
    priority, valid_until, idempotency_key, metadata, from_number);
COMMENT ON FUNCTION antiban.send_template(text, text, text, jsonb, text, text, timestamptz, text, jsonb, text) IS
    'Queue an approved template (category: marketing by default, utility or authentication). Returns the outbox id; the same idempotency_key twice returns the same id and sends once.';

CREATE FUNCTION antiban.send_text(
    recipient text, body text, preview_url boolean DEFAULT false, reply_to text DEFAULT NULL,
    priority text DEFAULT 'normal', valid_until timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL)
RETURNS bigint LANGUAGE sql VOLATILE
RETURN antiban.enqueue(recipient, 'text', 'service',
    jsonb_build_object('text', jsonb_build_object('body', body, 'preview_url', preview_url))
    || CASE WHEN reply_to IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('context', jsonb_build_object('message_id', reply_to)) END,
    priority, valid_until, idempotency_key, metadata, from_number);
COMMENT ON FUNCTION antiban.send_text(text, text, boolean, text, text, timestamptz, text, jsonb, text) IS
    'Queue a free-form text. Only inside the 24 h window the recipient opened: otherwise an error says to send a template.';

-- payload: {"type": "<type>", "<type>": {...}, "context": {"message_id": ...}}
CREATE FUNCTION antiban.send(
    recipient text, payload jsonb, category text DEFAULT 'service', priority text DEFAULT 'normal',
    valid_until timestamptz DEFAULT NULL, idempotency_key text DEFAULT NULL,
    metadata jsonb DEFAULT NULL, from_number text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF payload IS NULL OR jsonb_typeof(payload) <> 'object' OR NOT payload ? 'type' THEN
        RAISE EXCEPTION 'payload must be an object with a "type" and the object of that type'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example {"type": "image", "image": {"link": "https://..."}}.';
    END IF;
    RETURN antiban.enqueue(recipient, payload ->> 'type', category, payload - 'type', priority,
                           valid_until, idempotency_key, metadata, from_number);
END
$$;
COMMENT ON FUNCTION antiban.send(text, jsonb, text, text, timestamptz, text, jsonb, text) IS
    'Queue any Cloud API message: image, video, audio, document, sticker, location, contacts, interactive (button, list, cta_url, flow), reaction, template; with an optional reply "context". Validated against Meta''s limits.';

CREATE FUNCTION antiban.mark_read(
    message_id text, phone_number_id text, typing_indicator boolean DEFAULT false)
RETURNS bigint LANGUAGE sql VOLATILE
RETURN antiban.enqueue(NULL, 'read_receipt', 'service',
    jsonb_build_object('status', 'read', 'message_id', message_id)
    || CASE WHEN typing_indicator THEN '{"typing_indicator": {"type": "text"}}'::jsonb ELSE '{}' END,
    'high', NULL, NULL, NULL, phone_number_id);
COMMENT ON FUNCTION antiban.mark_read(text, text, boolean) IS
    'Mark an inbound message as read (blue ticks), optionally showing a typing indicator for up to 25 s.';

CREATE FUNCTION antiban.cancel(message bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current antiban.message_state;
BEGIN
    SELECT o.state INTO current FROM antiban.outbox o WHERE o.id = message FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no outbox message %', message USING ERRCODE = 'undefined_object';
    END IF;
    IF current NOT IN ('queued', 'retry_wait') THEN
        RETURN false;
    END IF;
    UPDATE antiban.outbox SET state = 'cancelled' WHERE id = message;
    RETURN true;
END
$$;
COMMENT ON FUNCTION antiban.cancel(bigint) IS
    'Cancel a message that has not left yet (queued or waiting to retry). Returns false when it is already on its way or done.';
-- Webhooks: every event Meta posts, kept raw, applied by trigger.

CREATE TYPE antiban.webhook_status AS ENUM ('pending', 'applied', 'partial', 'rejected', 'malformed');
COMMENT ON TYPE antiban.webhook_status IS
    'applied: every change used; partial: some changes unknown or failed (see problems); rejected: bad or missing signature (kept, not applied); malformed: signed but not valid UTF-8 JSON.';

CREATE TABLE antiban.webhook_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    body_raw         bytea NOT NULL,
    body_sha256      bytea NOT NULL UNIQUE,
    body             jsonb,
    signature_valid  boolean NOT NULL,
    status           antiban.webhook_status NOT NULL,
    updates          integer NOT NULL DEFAULT 0,
    problems         text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX webhook_events_received ON antiban.webhook_events USING brin (received_at);
COMMENT ON TABLE antiban.webhook_events IS
    'Every webhook POST, byte for byte, with its signature verdict, what was applied and what was not. Meta''s retries of the same body are stored once.';

-- People who wrote to us, by phone (wa_id) and/or business-scoped user id.
CREATE TABLE antiban.contacts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wa_id               text UNIQUE,
    user_id             text UNIQUE,
    profile_name        text,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_inbound_at     timestamptz,
    last_phone_number_id text,
    marketing_opt_out   boolean NOT NULL DEFAULT false,
    opt_out_at          timestamptz,
    opt_out_source      text,
    referral            jsonb,
    free_entry_until    timestamptz,
    CONSTRAINT contacts_identified CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
);
COMMENT ON TABLE antiban.contacts IS
    'Everyone who wrote to one of our numbers: phone (wa_id) and/or business-scoped user id, marketing consent, click-to-WhatsApp referral and its 72 h free entry window.';
COMMENT ON COLUMN antiban.contacts.free_entry_until IS 'End of the 72 h free-entry-point window opened by an ad referral (pricing).';

CREATE TABLE antiban.interactions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id       bigint NOT NULL REFERENCES antiban.contacts ON DELETE CASCADE,
    direction        text NOT NULL CHECK (direction IN ('in', 'out')),
    wamid            text NOT NULL UNIQUE,
    phone_number_id  text,
    message_type     text NOT NULL,
    body             text,
    payload          jsonb NOT NULL,
    context_wamid    text,
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_contact ON antiban.interactions (contact_id, occurred_at);
COMMENT ON TABLE antiban.interactions IS
    'Inbound messages: text, button and interactive replies, reactions, media metadata, locations; once each (by wamid).';

CREATE TABLE antiban.templates (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    waba_id            bigint REFERENCES antiban.wabas ON DELETE CASCADE,
    template_id        text,
    name               text NOT NULL,
    language           text NOT NULL,
    status             text,
    category           text,
    previous_category  text,
    quality            text,
    components         jsonb,
    reason             text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (waba_id, name, language)
);
COMMENT ON TABLE antiban.templates IS 'Message templates as Meta last reported them: status, category, quality, components (header, body, buttons).';

CREATE TABLE antiban.quality_history (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    observed_at      timestamptz NOT NULL DEFAULT now(),
    phone_number_id  text,
    waba_id          text,
    source           text NOT NULL CHECK (source IN ('webhook', 'poll')),
    event            text NOT NULL,
    quality_rating   text,
    messaging_limit  text,
    detail           jsonb
);
CREATE INDEX quality_history_number ON antiban.quality_history (phone_number_id, observed_at);
COMMENT ON TABLE antiban.quality_history IS 'One row per observation of a number''s quality or limit, from webhooks or polls.';

-- Per-message pricing (PMP), from status webhooks.
ALTER TABLE antiban.outbox
    ADD COLUMN billable boolean,
    ADD COLUMN pricing_model text,
    ADD COLUMN pricing_type text,
    ADD COLUMN pricing_category text;

CREATE FUNCTION antiban.ingest_webhook(body bytea, signature text,
    OUT stored boolean, OUT signature_valid boolean, OUT duplicate boolean, OUT event_id bigint)
AS 'MODULE_PATHNAME', 'antiban_ingest_webhook' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.ingest_webhook(bytea, text) IS
    'Verify the HMAC-SHA256 of the raw body with the app secret, store the event once (Meta retries) and apply it. stored means it is in antiban.webhook_events; only a valid signature is applied.';

CREATE FUNCTION antiban.webhook_verify(token text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_webhook_verify' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.webhook_verify(text) IS
    'Meta''s GET handshake: does hub.verify_token match the stored webhook verify token (constant-time)?';

CREATE FUNCTION antiban.error_action(code integer, http_status integer DEFAULT 400,
    OUT action text, OUT meaning text)
AS 'MODULE_PATHNAME', 'antiban_error_action' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION antiban.error_action(integer, integer) IS
    'How antiban treats a Cloud API error code: transient, permanent, recipient_backoff, retry_next_day, slow_number or pause_number.';

CREATE FUNCTION antiban.is_opt_out(message text) RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_is_opt_out' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION antiban.is_opt_out(text) IS
    'Is this message a stop request ("PARAR", "não quero mais", "darme de baja", "STOP"...)?';

CREATE FUNCTION antiban.set_marketing_opt_out(recipient text, phone_number_id text, opted_out boolean DEFAULT true)
RETURNS boolean
AS 'MODULE_PATHNAME', 'antiban_set_marketing_opt_out' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean) IS
    'Stop (or resume) marketing to a recipient in the portfolio of this number; decide() rejects marketing to them at once.';

-- What a number suffers for an account signal: shared by the sender and the webhooks.
CREATE FUNCTION antiban.pause_number(number bigint, kind text, detail text, hard boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    paused text;
BEGIN
    IF current_setting('antiban.protection', true) = 'off' THEN
        RETURN false;           -- a naive sender, for comparison: nothing is spared
    END IF;
    -- a hard signal overrides an operator's forced mode and hardens a soft pause
    UPDATE antiban.numbers SET mode = 'paused', hard_block = hard_block OR hard, change_reason = detail,
           mode_forced = mode_forced AND NOT hard
    WHERE id = number AND (NOT mode_forced OR hard) AND (mode <> 'paused' OR (hard AND NOT hard_block))
    RETURNING phone_number_id INTO paused;
    IF paused IS NULL THEN
        RETURN false;           -- already paused: one alert, not one per message
    END IF;
    INSERT INTO antiban.alerts (severity, phone_number_id, kind, detail)
    VALUES ('critical', paused, kind, detail);
    RETURN true;
END
$$;
COMMENT ON FUNCTION antiban.pause_number(bigint, text, text, boolean) IS
    'Take a number out of rotation after a ban or spam signal, with one critical alert. hard: only a person may resume it (antiban.release_mode); otherwise it recovers by itself after antiban.pause_cooldown.';

CREATE FUNCTION antiban.slow_number(number bigint) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- multiplicative decrease: half the rate, never below a twentieth
    UPDATE antiban.numbers SET rate_factor = greatest(0.05, rate_factor * 0.5),
           mode = CASE WHEN mode IN ('active', 'recovering') THEN 'throttled'::antiban.number_mode ELSE mode END,
           change_reason = format('130429 (throughput limit) from Meta: rate %s%% -> %s%%',
                                  round(rate_factor * 100), round(greatest(0.05, rate_factor * 0.5) * 100))
    WHERE id = number AND NOT mode_forced AND current_setting('antiban.protection', true) IS DISTINCT FROM 'off'
$$;
COMMENT ON FUNCTION antiban.slow_number(bigint) IS 'Halve a number''s sending rate after 130429 (throughput) answers.';
-- Applying webhooks: each change field has its function; the dispatcher runs
-- each change in its own subtransaction so one bad change never blocks the
-- rest of the batch, and records what it could not apply.

CREATE FUNCTION antiban.unix_time(seconds text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN seconds ~ '^[0-9]{1,12}(\.[0-9]+)?$' THEN to_timestamp(seconds::double precision) END;

CREATE FUNCTION antiban.status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END;

CREATE FUNCTION antiban.digits(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(phone, '[^0-9]', '', 'g');

-- One alert per (kind, number, subject) while it is open and recent: a
-- burst of the same signal tells a person once, not a thousand times.
CREATE FUNCTION antiban.raise_alert(severity antiban.alert_severity, phone_number_id text, kind text, detail text,
                                    subject text DEFAULT NULL)
RETURNS boolean LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.alerts (severity, phone_number_id, kind, subject, detail)
    SELECT severity, phone_number_id, kind, subject, detail
    WHERE NOT EXISTS (
        SELECT 1 FROM antiban.alerts a
        WHERE a.kind = raise_alert.kind AND a.phone_number_id IS NOT DISTINCT FROM raise_alert.phone_number_id
          AND a.subject IS NOT DISTINCT FROM raise_alert.subject
          AND a.acknowledged_at IS NULL AND a.created_at > antiban.now() - interval '1 hour')
    RETURNING true;
END;
COMMENT ON FUNCTION antiban.raise_alert(antiban.alert_severity, text, text, text, text) IS
    'Raise an alert unless the same kind for the same number and subject (a template, a portfolio) is still open from the last hour; true when raised.';

-- ---- statuses: sent < delivered < read, failed terminal; pricing ----

CREATE FUNCTION antiban.apply_statuses(value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    act record;
    applied integer := 0;
BEGIN
    -- One statement for the whole batch: rows are locked in id order first
    -- (as the sender does), then updated together; only failures come back
    -- here for their account-level consequences.
    FOR r IN
        WITH s AS (
            SELECT x.id AS wamid, CASE x.status WHEN 'played' THEN 'read' ELSE x.status END AS status,
                   x.biz_opaque_callback_data AS callback, x.pricing, x.errors
            FROM jsonb_to_recordset(coalesce(value -> 'statuses', '[]'))
                 AS x(id text, status text, biz_opaque_callback_data text, pricing jsonb, errors jsonb)
            WHERE x.status IN ('sent', 'delivered', 'read', 'played', 'failed')
        ), matched AS (
            -- our outbox id travels in biz_opaque_callback_data; else the wamid
            SELECT o.id, s.*
            FROM s JOIN antiban.outbox o
              ON s.callback ~ '^[0-9]{1,18}$' AND o.id = s.callback::bigint
            UNION ALL
            SELECT o.id, s.*
            FROM s JOIN antiban.outbox o ON o.wamid = s.wamid
            WHERE s.callback IS NULL OR s.callback !~ '^[0-9]{1,18}$'
        ), furthest AS (
            -- one update per message: its furthest status in this batch, pricing from any
            SELECT DISTINCT ON (id) m.*,
                   (SELECT x.pricing FROM matched x WHERE x.id = m.id AND x.pricing IS NOT NULL LIMIT 1) AS price
            FROM matched m ORDER BY id, antiban.status_rank(status) DESC
        ), locked AS (
            SELECT o.id FROM antiban.outbox o WHERE o.id IN (SELECT id FROM furthest) ORDER BY o.id FOR UPDATE
        ), updated AS (
            UPDATE antiban.outbox o SET
                wamid = coalesce(o.wamid, f.wamid),
                state = CASE WHEN antiban.transition_allowed(o.state::text, f.status)
                             THEN f.status::antiban.message_state ELSE o.state END,
                billable = coalesce((f.price ->> 'billable')::boolean, o.billable),
                pricing_model = coalesce(f.price ->> 'pricing_model', o.pricing_model),
                pricing_type = coalesce(f.price ->> 'type', o.pricing_type),
                pricing_category = coalesce(f.price ->> 'category', o.pricing_category),
                error_code = CASE WHEN f.status = 'failed' THEN (f.errors -> 0 ->> 'code')::integer ELSE o.error_code END,
                error_title = CASE WHEN f.status = 'failed' THEN f.errors -> 0 ->> 'title' ELSE o.error_title END,
                error_details = CASE WHEN f.status = 'failed' THEN f.errors -> 0 -> 'error_data' ->> 'details' ELSE o.error_details END,
                reason = CASE WHEN f.status = 'failed' THEN 'failed_after_send' ELSE o.reason END
            FROM furthest f
            WHERE o.id = f.id AND o.id IN (SELECT id FROM locked)
            RETURNING o.id, f.status, f.errors, o.number_id, o.phone_number_id, o.recipient
        )
        SELECT u.*, count(*) OVER () AS total FROM updated u
        ORDER BY u.status = 'failed' DESC, u.id
    LOOP
        applied := r.total;
        EXIT WHEN r.status <> 'failed';
        IF r.errors -> 0 ->> 'code' ~ '^[0-9]{1,9}$' THEN
            IF r.number_id IS NOT NULL THEN
                INSERT INTO antiban.send_errors (number_id, message_id, code, source)
                VALUES (r.number_id, r.id, (r.errors -> 0 ->> 'code')::integer, 'webhook');
            END IF;
            -- the same classification as an error answered at send time
            SELECT * INTO act FROM antiban.error_action((r.errors -> 0 ->> 'code')::integer, 400);
            IF act.action = 'pause_number' THEN
                PERFORM antiban.pause_number(r.number_id, 'number_paused',
                    format('Meta reported %s (%s) for message %s: number paused', r.errors -> 0 ->> 'code', act.meaning, r.id),
                    r.errors -> 0 ->> 'code' <> '131048');
            ELSIF act.action = 'slow_number' THEN
                PERFORM antiban.slow_number(r.number_id);
            END IF;
            IF r.errors -> 0 ->> 'code' = '131050' AND r.recipient IS NOT NULL THEN
                PERFORM antiban.set_marketing_opt_out(r.recipient, r.phone_number_id, true);
            END IF;
        END IF;
    END LOOP;
    RETURN applied;
END
$$;

-- ---- inbound messages: contacts, service window, interactions, consent ----

CREATE FUNCTION antiban.contact_for(wa text, uid text, name text, at timestamptz, phone_number text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    found_id bigint;
BEGIN
    SELECT id INTO found_id FROM antiban.contacts
    WHERE (wa IS NOT NULL AND wa_id = wa) OR (uid IS NOT NULL AND user_id = uid)
    ORDER BY (wa_id = wa) DESC NULLS LAST LIMIT 1;
    IF found_id IS NULL THEN
        INSERT INTO antiban.contacts (wa_id, user_id, profile_name, first_seen_at, last_inbound_at, last_phone_number_id)
        VALUES (wa, uid, name, at, at, phone_number)
        ON CONFLICT DO NOTHING RETURNING id INTO found_id;
        IF found_id IS NULL THEN
            RETURN antiban.contact_for(wa, uid, name, at, phone_number);
        END IF;
        RETURN found_id;
    END IF;
    UPDATE antiban.contacts SET wa_id = coalesce(wa_id, wa), user_id = coalesce(user_id, uid),
        profile_name = coalesce(name, profile_name),
        last_inbound_at = greatest(last_inbound_at, at),
        last_phone_number_id = CASE WHEN at >= coalesce(last_inbound_at, at) THEN phone_number ELSE last_phone_number_id END
    WHERE id = found_id;
    RETURN found_id;
END
$$;

-- What a person reads in an inbound message, whatever its type.
CREATE FUNCTION antiban.message_text(m jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(m -> 'text' ->> 'body', m -> 'button' ->> 'text',
                m -> 'interactive' -> 'button_reply' ->> 'title', m -> 'interactive' -> 'list_reply' ->> 'title',
                m -> 'reaction' ->> 'emoji', m -> (m ->> 'type') ->> 'caption', m -> 'location' ->> 'name');

CREATE FUNCTION antiban.apply_messages(value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    m jsonb;
    c jsonb;
    phone_number text := value -> 'metadata' ->> 'phone_number_id';
    ours boolean;
    wa text;
    uid text;
    who text;
    at timestamptz;
    contact bigint;
    inserted bigint;
    applied integer := 0;
BEGIN
    ours := EXISTS (SELECT 1 FROM antiban.numbers n WHERE n.phone_number_id = phone_number);
    FOR m IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'messages', '[]')) x LOOP
        wa := nullif(m ->> 'from', '');
        uid := nullif(coalesce(m ->> 'from_user_id', m ->> 'user_id'), '');
        SELECT x INTO c FROM jsonb_array_elements(coalesce(value -> 'contacts', '[]')) x
        WHERE (wa IS NOT NULL AND x ->> 'wa_id' = wa) OR (uid IS NOT NULL AND x ->> 'user_id' = uid) LIMIT 1;
        uid := coalesce(uid, nullif(c ->> 'user_id', ''));
        at := coalesce(antiban.unix_time(m ->> 'timestamp'), now());
        contact := antiban.contact_for(wa, uid, c -> 'profile' ->> 'name', at, phone_number);
        INSERT INTO antiban.interactions (contact_id, direction, wamid, phone_number_id, message_type,
                                          body, payload, context_wamid, occurred_at)
        VALUES (contact, 'in', m ->> 'id', phone_number, coalesce(m ->> 'type', 'unknown'),
                antiban.message_text(m), m, m -> 'context' ->> 'id', at)
        ON CONFLICT (wamid) DO NOTHING RETURNING id INTO inserted;
        CONTINUE WHEN inserted IS NULL;    -- a duplicate: already applied
        applied := applied + 1;
        who := CASE WHEN wa IS NOT NULL THEN '+' || wa ELSE uid END;
        IF m ? 'referral' THEN
            UPDATE antiban.contacts SET referral = m -> 'referral', free_entry_until = at + interval '72 hours'
            WHERE id = contact;
        END IF;
        CONTINUE WHEN NOT ours OR who IS NULL;
        -- the 24 h customer-service window opens (or refreshes) on this number
        PERFORM antiban.open_service_window(who, phone_number, at + interval '24 hours');
        IF antiban.is_opt_out(antiban.message_text(m)) OR antiban.is_opt_out(m -> 'button' ->> 'payload') THEN
            UPDATE antiban.contacts SET marketing_opt_out = true, opt_out_at = at,
                   opt_out_source = format('message %s', m ->> 'id')
            WHERE id = contact;
            PERFORM antiban.set_marketing_opt_out(who, phone_number, true);
        END IF;
    END LOOP;
    -- value.errors: system or app-level errors Meta reports without a message
    IF jsonb_array_length(coalesce(value -> 'errors', '[]')) > 0 THEN
        PERFORM antiban.raise_alert('warning', phone_number, 'webhook_error', value ->> 'errors');
    END IF;
    -- statuses were applied for the whole event first, in outbox id order
    IF value ? 'statuses' AND jsonb_typeof(value -> 'statuses') <> 'array' THEN
        RAISE EXCEPTION 'statuses is not an array';
    END IF;
    RETURN applied;
END
$$;

CREATE FUNCTION antiban.apply_user_preferences(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p jsonb;
    stop boolean;
    contact bigint;
    phone_number text;
    applied integer := 0;
BEGIN
    FOR p IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'user_preferences', '[]')) x
             WHERE x ->> 'category' = 'marketing_messages' LOOP
        stop := p ->> 'value' = 'stop';
        contact := antiban.contact_for(nullif(p ->> 'wa_id', ''), nullif(p ->> 'user_id', ''), NULL,
                                       coalesce(antiban.unix_time(p ->> 'timestamp'), now()), NULL);
        UPDATE antiban.contacts SET marketing_opt_out = stop, opt_out_at = now(),
               opt_out_source = 'user_preferences webhook'
        WHERE id = contact;
        -- consent is per portfolio: apply it through any number of this WABA
        FOR phone_number IN SELECT n.phone_number_id FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
                            WHERE w.waba_id = waba LIMIT 1 LOOP
            PERFORM antiban.set_marketing_opt_out(
                CASE WHEN p ->> 'wa_id' <> '' THEN '+' || (p ->> 'wa_id') ELSE p ->> 'user_id' END, phone_number, stop);
        END LOOP;
        applied := applied + 1;
    END LOOP;
    RETURN applied;
END
$$;

-- ---- account-level fields ----

CREATE FUNCTION antiban.tier_of(value text) RETURNS antiban.messaging_tier
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE value
    WHEN 'TIER_250' THEN 'TIER_250' WHEN '250' THEN 'TIER_250'
    WHEN 'TIER_2K' THEN 'TIER_2K' WHEN '2000' THEN 'TIER_2K'
    WHEN 'TIER_10K' THEN 'TIER_10K' WHEN '10000' THEN 'TIER_10K'
    WHEN 'TIER_100K' THEN 'TIER_100K' WHEN '100000' THEN 'TIER_100K'
    WHEN 'TIER_UNLIMITED' THEN 'TIER_UNLIMITED' WHEN '-1' THEN 'TIER_UNLIMITED'
END::antiban.messaging_tier;

CREATE FUNCTION antiban.set_portfolio_tier(waba text, tier text) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    WITH changed AS (
        UPDATE antiban.portfolios p SET messaging_limit = antiban.tier_of(tier)
        FROM antiban.wabas w
        WHERE w.waba_id = waba AND p.id = w.portfolio_id AND antiban.tier_of(tier) IS NOT NULL
          AND p.messaging_limit <> antiban.tier_of(tier)
        RETURNING p.id)
    SELECT count(*)::integer FROM changed;
END;

CREATE FUNCTION antiban.apply_quality_update(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    number record;
    event text := value ->> 'event';
    tier text := coalesce(value ->> 'max_daily_conversations_per_business', value ->> 'current_limit');
BEGIN
    SELECT n.* INTO number FROM antiban.numbers n
    WHERE antiban.digits(n.display_phone_number) = antiban.digits(value ->> 'display_phone_number');
    INSERT INTO antiban.quality_history (phone_number_id, waba_id, source, event, messaging_limit, detail)
    VALUES (number.phone_number_id, waba, 'webhook', coalesce(event, 'unknown'), tier, value);
    IF number.id IS NULL THEN
        RAISE EXCEPTION 'phone_number_quality_update for an unregistered number %', value ->> 'display_phone_number';
    END IF;
    IF event = 'FLAGGED' THEN
        UPDATE antiban.numbers SET status = 'FLAGGED', quality_rating = 'RED' WHERE id = number.id;
        PERFORM antiban.raise_alert('warning', number.phone_number_id, 'number_flagged',
            'Meta flagged the number for low quality: slow down before it is restricted');
    ELSIF event = 'UNFLAGGED' THEN
        UPDATE antiban.numbers SET status = 'CONNECTED' WHERE id = number.id AND status = 'FLAGGED';
        PERFORM antiban.raise_alert('info', number.phone_number_id, 'number_unflagged', 'Meta lifted the flag');
    ELSIF event = 'DOWNGRADE' THEN
        PERFORM antiban.raise_alert('warning', number.phone_number_id, 'limit_downgraded',
            format('messaging limit downgraded to %s', tier));
    ELSIF event = 'THROUGHPUT_UPGRADE' THEN
        UPDATE antiban.numbers SET throughput_level = 'HIGH' WHERE id = number.id;
        PERFORM antiban.raise_alert('info', number.phone_number_id, 'throughput_upgrade', 'the number now sends up to 1,000 messages per second');
    END IF;
    PERFORM antiban.set_portfolio_tier(waba, tier);
    RETURN 1;
END
$$;

-- Every number of a WABA out of rotation, one alert each.
CREATE FUNCTION antiban.pause_waba(waba text, kind text, detail text) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT count(*) FILTER (WHERE antiban.pause_number(n.id, kind, detail))::integer
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id WHERE w.waba_id = waba;
END;

CREATE FUNCTION antiban.apply_account_update(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    event text := value ->> 'event';
    detail text := format('%s: %s', event, value::text);
BEGIN
    IF event = 'ACCOUNT_RESTRICTION' AND EXISTS (
           SELECT 1 FROM jsonb_array_elements(coalesce(value -> 'restriction_info', '[]')) r
           WHERE r ->> 'restriction_type' = 'RESTRICTED_BIZ_INITIATED_MESSAGING') THEN
        PERFORM antiban.pause_waba(waba, 'account_restricted', detail);
        PERFORM antiban.raise_alert('critical', NULL, 'account_restricted', detail);
    ELSIF event = 'DISABLED_UPDATE' AND value -> 'ban_info' ->> 'waba_ban_state' IN ('DISABLE', 'SCHEDULE_FOR_DISABLE') THEN
        PERFORM antiban.pause_waba(waba, 'account_disabled', detail);
        PERFORM antiban.raise_alert('critical', NULL, 'account_disabled', detail);
    ELSIF event IN ('ACCOUNT_DELETED', 'ACCOUNT_OFFBOARDED') THEN
        PERFORM antiban.pause_waba(waba, lower(event), detail);
        PERFORM antiban.raise_alert('critical', NULL, lower(event), detail);
    ELSIF event IN ('ACCOUNT_VIOLATION', 'ACCOUNT_RESTRICTION') THEN
        PERFORM antiban.raise_alert('critical', NULL, lower(event), detail);
    ELSE
        PERFORM antiban.raise_alert('info', NULL, lower(coalesce(event, 'account_update')), detail);
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.apply_account_alerts(waba text, value jsonb) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT antiban.raise_alert(
        CASE value -> 'alert_info' ->> 'alert_severity' WHEN 'CRITICAL' THEN 'critical'
             WHEN 'WARNING' THEN 'warning' ELSE 'info' END::antiban.alert_severity,
        CASE WHEN value ->> 'entity_type' = 'PHONE_NUMBER' THEN value ->> 'entity_id' END,
        lower(coalesce(value -> 'alert_info' ->> 'alert_type', 'account_alert')),
        coalesce(value -> 'alert_info' ->> 'alert_description', value::text));
    SELECT 1;
END;

CREATE FUNCTION antiban.apply_capability_update(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tier text := coalesce(value ->> 'max_daily_conversations_per_business',
                          value ->> 'max_daily_conversation_per_phone');
BEGIN
    IF antiban.set_portfolio_tier(waba, tier) > 0 THEN
        PERFORM antiban.raise_alert('info', NULL, 'messaging_limit_changed', format('messaging limit is now %s', tier));
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.template_row(waba text, meta_id text, template_name text, template_language text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    row_id bigint;
BEGIN
    INSERT INTO antiban.templates (waba_id, template_id, name, language)
    VALUES ((SELECT w.id FROM antiban.wabas w WHERE w.waba_id = waba), meta_id, template_name,
            coalesce(template_language, ''))
    ON CONFLICT ON CONSTRAINT templates_waba_id_name_language_key
    DO UPDATE SET template_id = coalesce(excluded.template_id, antiban.templates.template_id)
    RETURNING id INTO row_id;
    RETURN row_id;
END
$$;

CREATE FUNCTION antiban.apply_template_status(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    event text := value ->> 'event';
    t bigint := antiban.template_row(waba, value ->> 'message_template_id', value ->> 'message_template_name',
                                     value ->> 'message_template_language');
BEGIN
    UPDATE antiban.templates SET status = event, reason = value ->> 'reason',
           category = coalesce(value ->> 'message_template_category', category), updated_at = now()
    WHERE id = t;
    IF event IN ('PAUSED', 'DISABLED', 'REJECTED', 'FLAGGED', 'LOCKED') THEN
        PERFORM antiban.raise_alert(CASE WHEN event IN ('DISABLED', 'LOCKED') THEN 'critical' ELSE 'warning' END::antiban.alert_severity,
            NULL, 'template_' || lower(event),
            format('template %s (%s) is %s%s', value ->> 'message_template_name', value ->> 'message_template_language',
                   event, coalesce(': ' || nullif(value ->> 'reason', 'NONE'), '')),
            concat_ws('/', value ->> 'message_template_name', value ->> 'message_template_language'));
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.apply_template_quality(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t bigint := antiban.template_row(waba, value ->> 'message_template_id', value ->> 'message_template_name',
                                     value ->> 'message_template_language');
    worse boolean := array_position(ARRAY['GREEN', 'YELLOW', 'RED'], value ->> 'new_quality_score')
                     > coalesce(array_position(ARRAY['GREEN', 'YELLOW', 'RED'], value ->> 'previous_quality_score'), 1);
BEGIN
    UPDATE antiban.templates SET quality = value ->> 'new_quality_score', updated_at = now() WHERE id = t;
    IF worse THEN
        PERFORM antiban.raise_alert('warning', NULL, 'template_quality_dropped',
            format('template %s quality %s -> %s', value ->> 'message_template_name',
                   value ->> 'previous_quality_score', value ->> 'new_quality_score'),
            concat_ws('/', value ->> 'message_template_name', value ->> 'message_template_language'));
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.apply_template_category(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t bigint := antiban.template_row(waba, value ->> 'message_template_id', value ->> 'message_template_name',
                                     value ->> 'message_template_language');
BEGIN
    UPDATE antiban.templates SET previous_category = coalesce(value ->> 'previous_category', category),
           category = coalesce(value ->> 'new_category', category), updated_at = now()
    WHERE id = t;
    PERFORM antiban.raise_alert('info', NULL, 'template_category_changed',
        format('template %s: %s -> %s (billed at the new category)', value ->> 'message_template_name',
               coalesce(value ->> 'previous_category', value ->> 'correct_category'), value ->> 'new_category'),
        concat_ws('/', value ->> 'message_template_name', value ->> 'message_template_language'));
    RETURN 1;
END
$$;

-- ---- dispatch ----

CREATE FUNCTION antiban.apply_change(waba text, field text, value jsonb) RETURNS integer
LANGUAGE sql VOLATILE
RETURN CASE field
    WHEN 'messages' THEN antiban.apply_messages(value)
    WHEN 'user_preferences' THEN antiban.apply_user_preferences(waba, value)
    WHEN 'phone_number_quality_update' THEN antiban.apply_quality_update(waba, value)
    WHEN 'account_update' THEN antiban.apply_account_update(waba, value)
    WHEN 'account_alerts' THEN antiban.apply_account_alerts(waba, value)
    WHEN 'business_capability_update' THEN antiban.apply_capability_update(waba, value)
    WHEN 'message_template_status_update' THEN antiban.apply_template_status(waba, value)
    WHEN 'message_template_quality_update' THEN antiban.apply_template_quality(waba, value)
    WHEN 'template_category_update' THEN antiban.apply_template_category(waba, value)
END;
COMMENT ON FUNCTION antiban.apply_change(text, text, jsonb) IS
    'Apply one change of a webhook; NULL for a field antiban does not use.';

-- Run one step, retrying a deadlock with the sender or another webhook; if it
-- keeps failing, the error aborts the whole ingest: the receiver answers 503
-- and Meta posts again later.  A lost status would be worse than a retry.
CREATE FUNCTION antiban.apply_with_retry(step text, waba text, field text, value jsonb,
                                         INOUT updates integer, INOUT problems text[])
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    FOR attempt IN 1 .. 3 LOOP
        BEGIN
            n := CASE step WHEN 'statuses' THEN antiban.apply_statuses(value)
                           ELSE antiban.apply_change(waba, field, value) END;
            IF n IS NULL THEN
                problems := problems || format('field %s: not used by antiban, kept', field);
            ELSE
                updates := updates + n;
            END IF;
            RETURN;
        EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available THEN
                IF attempt = 3 THEN
                    RAISE;
                END IF;
            WHEN OTHERS THEN
                problems := problems || format('field %s: %s', field, SQLERRM);
                RETURN;
        END;
    END LOOP;
END
$$;

CREATE FUNCTION antiban.apply_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e jsonb;
    c jsonb;
    statuses jsonb;
BEGIN
    IF NEW.status <> 'pending' THEN
        RETURN NEW;
    END IF;
    IF NEW.body ->> 'object' IS DISTINCT FROM 'whatsapp_business_account'
       OR jsonb_typeof(NEW.body -> 'entry') IS DISTINCT FROM 'array' THEN
        NEW.status := 'partial';
        NEW.problems := NEW.problems || 'not a whatsapp_business_account object with entry[]'::text;
        RETURN NEW;
    END IF;
    -- every status of the event in one pass: outbox rows are locked in id order,
    -- like the sender does, so concurrent webhooks and senders never deadlock
    SELECT jsonb_agg(st.x) INTO statuses
    FROM jsonb_array_elements(NEW.body -> 'entry') AS ev(x),
         jsonb_array_elements(CASE WHEN jsonb_typeof(ev.x -> 'changes') = 'array' THEN ev.x -> 'changes' ELSE '[]' END) AS ch(x),
         jsonb_array_elements(CASE WHEN ch.x ->> 'field' = 'messages' AND jsonb_typeof(ch.x -> 'value' -> 'statuses') = 'array'
                                   THEN ch.x -> 'value' -> 'statuses' ELSE '[]' END) AS st(x);
    IF statuses IS NOT NULL THEN
        SELECT * INTO NEW.updates, NEW.problems
        FROM antiban.apply_with_retry('statuses', NULL, 'messages', jsonb_build_object('statuses', statuses),
                                      NEW.updates, NEW.problems);
    END IF;
    FOR e IN SELECT x FROM jsonb_array_elements(NEW.body -> 'entry') x LOOP
        FOR c IN SELECT x FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e -> 'changes') = 'array'
                                                         THEN e -> 'changes' ELSE '[]' END) x LOOP
            SELECT * INTO NEW.updates, NEW.problems
            FROM antiban.apply_with_retry('change', e ->> 'id', c ->> 'field', c -> 'value',
                                          NEW.updates, NEW.problems);
        END LOOP;
    END LOOP;
    NEW.status := CASE WHEN cardinality(NEW.problems) = 0 THEN 'applied' ELSE 'partial' END;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION antiban.apply_webhook() IS
    'Walks every entry[] and changes[] of a signed webhook; each change in its own subtransaction, so one bad change never blocks the rest.';

CREATE TRIGGER apply_webhook BEFORE INSERT ON antiban.webhook_events
    FOR EACH ROW EXECUTE FUNCTION antiban.apply_webhook();
-- Protection: a health score per number, modes that change by themselves
-- (active, throttled, paused, recovering; warming for new numbers), every
-- change explained in a row, and the signals they are computed from.

CREATE INDEX alerts_open_kind ON antiban.alerts (kind, phone_number_id) WHERE acknowledged_at IS NULL;

ALTER TABLE antiban.numbers
    ADD COLUMN can_send_message      text NOT NULL DEFAULT 'AVAILABLE'
        CONSTRAINT numbers_can_send_message CHECK (can_send_message IN ('AVAILABLE', 'LIMITED', 'BLOCKED')),
    ADD COLUMN previous_quality      antiban.quality_rating,
    ADD COLUMN quality_changed_at    timestamptz,
    ADD COLUMN mode_since            timestamptz NOT NULL DEFAULT antiban.now(),
    ADD COLUMN mode_forced           boolean NOT NULL DEFAULT false,
    ADD COLUMN hard_block            boolean NOT NULL DEFAULT false,
    ADD COLUMN rate_changed_at       timestamptz NOT NULL DEFAULT antiban.now(),
    ADD COLUMN change_reason         text,
    ADD COLUMN health_terms          jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN warmup_day            integer NOT NULL DEFAULT 0,
    ADD COLUMN warmup_day_started_at timestamptz,
    ADD COLUMN warmup_cap            integer,
    ADD COLUMN warmup_full_until     timestamptz,
    ADD COLUMN polled_at             timestamptz;
COMMENT ON COLUMN antiban.numbers.can_send_message IS 'health_status.can_send_message from Meta''s last poll: BLOCKED takes the number out of rotation.';
COMMENT ON COLUMN antiban.numbers.mode_forced IS 'An operator set the mode (antiban.set_mode): the controller leaves the number alone until antiban.release_mode.';
COMMENT ON COLUMN antiban.numbers.hard_block IS 'Paused for a reason only a person can clear (ban, restriction, 368, 131031, 131042, token errors, BLOCKED).';
COMMENT ON COLUMN antiban.numbers.health_terms IS 'What the health score is made of right now: [{signal, points, why}].';
COMMENT ON COLUMN antiban.numbers.warmup_cap IS 'Warming numbers: messages allowed per moving 24 h on this warm-up day (src/core/warmup.c).';
COMMENT ON COLUMN antiban.numbers.warmup_full_until IS 'Warming numbers: the day''s cap is used up; decide queues for this number until then.';
COMMENT ON COLUMN antiban.numbers.change_reason IS 'Why health, mode or rate last changed (also in antiban.health_events).';

-- Every change of health, mode or rate, with its reason.
CREATE TABLE antiban.health_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT antiban.now(),
    number_id       bigint NOT NULL REFERENCES antiban.numbers ON DELETE CASCADE,
    phone_number_id text NOT NULL,
    health_before   smallint NOT NULL,
    health_after    smallint NOT NULL,
    mode_before     antiban.number_mode NOT NULL,
    mode_after      antiban.number_mode NOT NULL,
    factor_before   double precision NOT NULL,
    factor_after    double precision NOT NULL,
    reason          text NOT NULL,
    terms           jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX health_events_number ON antiban.health_events (number_id, at);
COMMENT ON TABLE antiban.health_events IS
    'One row per change of a number''s health, mode or rate factor, with the reason ("-24: 12 x 131048 (spam rate limit) in 200 recent sends") and the score''s terms.';

-- Errors per number, from send answers and failed-status webhooks: the
-- health score's recent error rates.
CREATE TABLE antiban.send_errors (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT antiban.now(),
    number_id       bigint NOT NULL,
    message_id      bigint,
    code            integer NOT NULL,
    source          text NOT NULL CHECK (source IN ('send', 'webhook'))
);
CREATE INDEX send_errors_number ON antiban.send_errors (number_id, at);
COMMENT ON TABLE antiban.send_errors IS 'Every error Meta returned for a number (send answers and failed statuses), for error rates and trends.';

-- When each number was last evaluated (kept apart so evaluating does not
-- rewrite antiban.numbers, which every backend caches).
CREATE TABLE antiban.health_state (
    number_id       bigint PRIMARY KEY REFERENCES antiban.numbers ON DELETE CASCADE,
    evaluated_at    timestamptz NOT NULL
);

-- The score reads sends of the last day: a BRIN index stays tiny because
-- rows are written roughly in sent_at order.
CREATE INDEX outbox_sent_at ON antiban.outbox USING brin (sent_at);
CREATE INDEX interactions_number ON antiban.interactions (phone_number_id, occurred_at);

CREATE FUNCTION antiban.quality_rank(q antiban.quality_rating) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE q WHEN 'GREEN' THEN 3 WHEN 'YELLOW' THEN 2 WHEN 'RED' THEN 1 END;

-- Bookkeeping on every change of a number: when its quality, mode and rate
-- changed, and a reason for changes made by hand.
CREATE FUNCTION antiban.numbers_track_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.quality_rating IS DISTINCT FROM OLD.quality_rating THEN
        NEW.previous_quality := OLD.quality_rating;
        NEW.quality_changed_at := antiban.now();
        IF antiban.quality_rank(NEW.quality_rating) < antiban.quality_rank(OLD.quality_rating) THEN
            PERFORM antiban.raise_alert(CASE NEW.quality_rating WHEN 'RED' THEN 'critical' ELSE 'warning' END::antiban.alert_severity,
                NEW.phone_number_id, 'quality_dropped',
                format('quality fell from %s to %s: antiban slows this number down before Meta acts', OLD.quality_rating, NEW.quality_rating));
        END IF;
    END IF;
    IF NEW.mode IS DISTINCT FROM OLD.mode AND NEW.mode_since IS NOT DISTINCT FROM OLD.mode_since THEN
        NEW.mode_since := antiban.now();
    END IF;
    IF NEW.rate_factor IS DISTINCT FROM OLD.rate_factor AND NEW.rate_changed_at IS NOT DISTINCT FROM OLD.rate_changed_at THEN
        NEW.rate_changed_at := antiban.now();
    END IF;
    IF (NEW.health, NEW.mode, NEW.rate_factor) IS DISTINCT FROM (OLD.health, OLD.mode, OLD.rate_factor)
       AND NEW.change_reason IS NOT DISTINCT FROM OLD.change_reason THEN
        NEW.change_reason := format('changed by %s', session_user);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER numbers_track_changes BEFORE UPDATE ON antiban.numbers
    FOR EACH ROW EXECUTE FUNCTION antiban.numbers_track_changes();

CREATE FUNCTION antiban.numbers_log_health() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO antiban.health_events (number_id, phone_number_id, health_before, health_after, mode_before, mode_after,
                                       factor_before, factor_after, reason, terms)
    VALUES (NEW.id, NEW.phone_number_id, OLD.health, NEW.health, OLD.mode, NEW.mode,
            OLD.rate_factor, NEW.rate_factor, NEW.change_reason, NEW.health_terms);
    IF NEW.mode IS DISTINCT FROM OLD.mode AND NEW.mode <> 'paused' THEN
        -- pauses raise their own, critical, alert where they happen
        PERFORM antiban.raise_alert(CASE NEW.mode WHEN 'throttled' THEN 'warning' ELSE 'info' END::antiban.alert_severity,
            NEW.phone_number_id, 'number_' || NEW.mode::text, NEW.change_reason);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER numbers_log_health AFTER UPDATE ON antiban.numbers
    FOR EACH ROW WHEN ((OLD.health, OLD.mode, OLD.rate_factor, OLD.warmup_day, OLD.warmup_day_started_at)
                       IS DISTINCT FROM (NEW.health, NEW.mode, NEW.rate_factor, NEW.warmup_day, NEW.warmup_day_started_at))
    EXECUTE FUNCTION antiban.numbers_log_health();

-- ---- operators ----

CREATE FUNCTION antiban.number_id_of(phone_number_id text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint;
BEGIN
    SELECT n.id INTO found FROM antiban.numbers n WHERE n.phone_number_id = number_id_of.phone_number_id;
    IF found IS NULL THEN
        RAISE EXCEPTION 'unknown number "%"', phone_number_id USING ERRCODE = 'undefined_object',
            HINT = 'Numbers are identified by Meta''s phone_number_id; see antiban.numbers.';
    END IF;
    RETURN found;
END
$$;

CREATE FUNCTION antiban.set_mode(phone_number_id text, mode antiban.number_mode, reason text)
RETURNS antiban.number_mode
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    number bigint := antiban.number_id_of(phone_number_id);
BEGIN
    IF coalesce(trim(reason), '') = '' THEN
        RAISE EXCEPTION 'a reason is required to force a number''s mode' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is kept in antiban.health_events for whoever looks next.',
            HINT = 'SELECT antiban.set_mode(''3000000001'', ''paused'', ''template review'');';
    END IF;
    UPDATE antiban.numbers n SET mode = set_mode.mode, mode_forced = true, mode_since = antiban.now(),
           hard_block = false, rate_factor = CASE WHEN set_mode.mode = 'active' THEN 1.0 ELSE n.rate_factor END,
           -- forced active ends a warm-up for good
           warmup_day_started_at = CASE WHEN set_mode.mode = 'active' THEN NULL ELSE n.warmup_day_started_at END,
           change_reason = format('%s forced %s: %s', session_user, set_mode.mode, reason)
    WHERE n.id = number;
    PERFORM antiban.raise_alert('info', phone_number_id, 'mode_forced',
        format('%s forced %s: %s', session_user, mode, reason));
    RETURN mode;
END
$$;
COMMENT ON FUNCTION antiban.set_mode(text, antiban.number_mode, text) IS
    'Force a number''s mode (active, throttled, paused, recovering, warming) with a reason; the controller leaves it alone until antiban.release_mode.';

CREATE FUNCTION antiban.release_mode(phone_number_id text, reason text DEFAULT 'released to the controller')
RETURNS antiban.number_mode
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE antiban.numbers n SET mode_forced = false, hard_block = false,
           change_reason = format('%s: %s', session_user, reason)
    WHERE n.id = antiban.number_id_of(release_mode.phone_number_id)
    RETURNING n.mode
$$;
COMMENT ON FUNCTION antiban.release_mode(text, text) IS
    'Hand a number back to the automatic controller (also clears a pause that needed a person); it ramps back from where it is.';

-- ---- warm-up of new numbers (src/core/warmup.c) ----

CREATE FUNCTION antiban.warmup_schedule(days integer DEFAULT 30, OUT day integer, OUT daily_cap bigint,
                                        OUT messages_per_second double precision, OUT total bigint,
                                        OUT graduated boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_warmup_schedule' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION antiban.warmup_schedule(integer) IS
    'The warm-up curve under the current antiban.warmup_* settings: each day''s cap per moving 24 h, its rate, the running total, up to graduation.';

CREATE FUNCTION antiban.start_warmup(phone_number_id text, reason text DEFAULT 'new number', from_day integer DEFAULT 1)
RETURNS antiban.number_mode
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    number bigint := antiban.number_id_of(phone_number_id);
    last_day integer;
    cap bigint;
BEGIN
    SELECT s.day, s.daily_cap INTO last_day, cap
    FROM antiban.warmup_schedule(greatest(from_day, 1)) s ORDER BY s.day DESC LIMIT 1;
    IF from_day < 1 OR last_day < from_day THEN
        RAISE EXCEPTION 'warm-up day % does not exist', from_day USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Warm-up days count from 1 to graduation on day %s; see antiban.warmup_schedule().', last_day),
            HINT = 'SELECT antiban.start_warmup(''3000000001'', ''new number'');';
    END IF;
    UPDATE antiban.numbers n SET mode = 'warming', mode_forced = false, hard_block = false, rate_factor = 1.0,
           warmup_day = from_day - 1, warmup_day_started_at = antiban.now(), warmup_cap = cap,
           warmup_full_until = NULL,
           change_reason = format('%s started warm-up at day %s (%s a day): %s', session_user, from_day, cap, reason)
    WHERE n.id = number;
    RETURN 'warming';
END
$$;
COMMENT ON FUNCTION antiban.start_warmup(text, text, integer) IS
    'Put a number on the warm-up schedule: a daily cap and rate that grow each healthy day until it graduates to active.';

-- ---- the signals the score is computed from ----

CREATE FUNCTION antiban.number_signals(recent interval DEFAULT interval '1 hour')
RETURNS TABLE (number_id bigint, phone_number_id text, health integer, mode text, rate_factor double precision,
               mode_since timestamptz, rate_changed_at timestamptz, mode_forced boolean, hard_block boolean,
               quality text, previous_quality text, quality_fell_recently boolean, status text, can_send text,
               sent_recent bigint, spam_errors bigint, policy_errors bigint, throughput_errors bigint,
               pair_errors bigint, marketing_cap_errors bigint, undeliverable_errors bigint,
               sent_day bigint, delivered_day bigint, read_day bigint, replied_day bigint, blocks_day bigint,
               last_bad_event_at timestamptz, new_throttle_errors bigint, new_spam_errors bigint,
               new_hard_errors bigint, evaluated_at timestamptz, warmup_day integer,
               warmup_day_started_at timestamptz, warmup_cap integer, warmup_full_until timestamptz, sent_24h bigint, oldest_sent_24h timestamptz)
LANGUAGE sql STABLE AS $$
    WITH clock AS (SELECT antiban.now() AS now),
    errors AS (
        SELECT e.number_id,
               count(*) FILTER (WHERE e.at > c.now - recent AND e.code = 131048) AS spam,
               count(*) FILTER (WHERE e.at > c.now - recent AND e.code IN (368, 131031)) AS policy,
               count(*) FILTER (WHERE e.at > c.now - recent AND e.code = 130429) AS throughput,
               count(*) FILTER (WHERE e.at > c.now - recent AND e.code = 131056) AS pair,
               count(*) FILTER (WHERE e.at > c.now - recent AND e.code = 131049) AS cap,
               count(*) FILTER (WHERE e.at > c.now - recent AND e.code = 131026) AS undeliverable,
               count(*) FILTER (WHERE e.code = 131050) AS stops,
               max(e.at) FILTER (WHERE e.code IN (131048, 368, 131031, 130429, 131050, 131026)) AS last_bad,
               count(*) FILTER (WHERE e.at > coalesce(h.evaluated_at, '-infinity') AND e.code = 130429) AS new_throttle,
               count(*) FILTER (WHERE e.at > coalesce(h.evaluated_at, '-infinity') AND e.code = 131048) AS new_spam,
               count(*) FILTER (WHERE e.at > coalesce(h.evaluated_at, '-infinity')
                                  AND e.code IN (368, 131031, 131042, 190, 0)) AS new_hard
        FROM antiban.send_errors e CROSS JOIN clock c LEFT JOIN antiban.health_state h USING (number_id)
        WHERE e.at > c.now - greatest(recent, interval '1 day')
        GROUP BY e.number_id
    ), sends AS (
        -- day rates count messages sent at least 10 min ago: younger ones
        -- may not have had their delivered status yet
        SELECT o.number_id,
               count(*) FILTER (WHERE o.sent_at > c.now - recent) AS sent_recent,
               count(*) FILTER (WHERE o.sent_at <= c.now - interval '10 minutes') AS sent_day,
               count(*) FILTER (WHERE o.sent_at <= c.now - interval '10 minutes'
                                  AND (o.delivered_at IS NOT NULL OR o.read_at IS NOT NULL)) AS delivered_day,
               count(*) FILTER (WHERE o.sent_at <= c.now - interval '10 minutes' AND o.read_at IS NOT NULL) AS read_day,
               count(*) AS sent_24h, min(o.sent_at) AS oldest_sent
        FROM antiban.outbox o CROSS JOIN clock c
        WHERE o.sent_at > c.now - interval '1 day'
        GROUP BY o.number_id
    ), replies AS (
        SELECT i.phone_number_id, count(DISTINCT i.contact_id) AS replied
        FROM antiban.interactions i CROSS JOIN clock c
        WHERE i.direction = 'in' AND i.occurred_at > c.now - interval '1 day'
        GROUP BY i.phone_number_id
    ), opt_outs AS (
        SELECT k.last_phone_number_id AS phone_number_id, count(*) AS opted_out, max(k.opt_out_at) AS last_at
        FROM antiban.contacts k CROSS JOIN clock c
        WHERE k.opt_out_at > c.now - interval '1 day'
        GROUP BY k.last_phone_number_id
    )
    SELECT n.id, n.phone_number_id, n.health::integer, n.mode::text, n.rate_factor, n.mode_since, n.rate_changed_at,
           n.mode_forced, n.hard_block, n.quality_rating::text, coalesce(n.previous_quality, n.quality_rating)::text,
           n.quality_changed_at > coalesce(h.evaluated_at, '-infinity')
             AND antiban.quality_rank(n.quality_rating) < antiban.quality_rank(n.previous_quality),
           n.status::text, n.can_send_message,
           coalesce(s.sent_recent, 0), coalesce(e.spam, 0), coalesce(e.policy, 0), coalesce(e.throughput, 0),
           coalesce(e.pair, 0), coalesce(e.cap, 0), coalesce(e.undeliverable, 0),
           coalesce(s.sent_day, 0), coalesce(s.delivered_day, 0), coalesce(s.read_day, 0), coalesce(r.replied, 0),
           coalesce(e.stops, 0) + coalesce(x.opted_out, 0),
           greatest(e.last_bad, x.last_at),
           coalesce(e.new_throttle, 0), coalesce(e.new_spam, 0), coalesce(e.new_hard, 0), h.evaluated_at,
           n.warmup_day, n.warmup_day_started_at, n.warmup_cap, n.warmup_full_until,
           coalesce(s.sent_24h, 0), s.oldest_sent
    FROM antiban.numbers n
    LEFT JOIN antiban.health_state h ON h.number_id = n.id
    LEFT JOIN errors e ON e.number_id = n.id
    LEFT JOIN sends s ON s.number_id = n.id
    LEFT JOIN replies r ON r.phone_number_id = n.phone_number_id
    LEFT JOIN opt_outs x ON x.phone_number_id = n.phone_number_id
    ORDER BY n.id
$$;
COMMENT ON FUNCTION antiban.number_signals(interval) IS
    'What each number''s health is computed from: quality and its trend, status, Meta''s health_status, error counts by class in the recent window, sends, deliveries, reads, replies and blocks of the last day; and for warming numbers their warm-up day and sends in the last 24 h.';

CREATE FUNCTION antiban.evaluate_health(OUT phone_number_id text, OUT health integer, OUT mode antiban.number_mode,
                                        OUT rate_factor double precision, OUT changed boolean, OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_evaluate_health' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.evaluate_health() IS
    'Score every number from antiban.number_signals() and step its mode and rate (src/core/health.c, rate_control.c); changes are written to antiban.numbers and antiban.health_events. The monitor worker calls it every antiban.monitor_interval.';

-- ---- the view people look at ----

CREATE VIEW antiban.number_health AS
SELECT n.phone_number_id, n.display_phone_number, n.health, n.mode, round(n.rate_factor::numeric, 3) AS rate_factor,
       n.quality_rating, n.previous_quality, n.status, n.can_send_message, n.mode_since, n.mode_forced,
       n.hard_block, n.change_reason, n.health_terms, n.polled_at,
       CASE WHEN n.mode = 'warming' THEN n.warmup_day + 1 END AS warmup_day,
       CASE WHEN n.mode = 'warming' THEN n.warmup_cap END AS warmup_daily_cap,
       CASE WHEN n.mode = 'warming' THEN n.warmup_full_until END AS warmup_full_until
FROM antiban.numbers n;
COMMENT ON VIEW antiban.number_health IS 'Each number''s health, mode and rate, and why.';
-- The monitor worker's SQL: what to poll within Meta's management rate
-- limit, how poll answers update numbers and templates, early warnings,
-- and alerts delivered to NOTIFY listeners and an outbound webhook.

-- Every management call, so the rolling-hour budget survives restarts.
CREATE TABLE antiban.mgmt_calls (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    waba_id      bigint NOT NULL REFERENCES antiban.wabas ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT antiban.now(),
    path         text NOT NULL,
    http_status  integer
);
CREATE INDEX mgmt_calls_waba ON antiban.mgmt_calls (waba_id, at);
COMMENT ON TABLE antiban.mgmt_calls IS
    'Graph API management calls made by the monitor (never more than antiban.mgmt_requests_per_hour per WABA per rolling hour).';

CREATE TABLE antiban.poll_state (
    waba_id          bigint PRIMARY KEY REFERENCES antiban.wabas ON DELETE CASCADE,
    next_poll_at     timestamptz NOT NULL,
    failures         integer NOT NULL DEFAULT 0,
    last_error       text,
    last_success_at  timestamptz
);
COMMENT ON TABLE antiban.poll_state IS 'When each WABA is polled next, and how the last poll went (failures back off).';

-- WABAs due for a poll, with their numbers (least recently polled first, so
-- a budget too small for all of them still reaches each in turn) and what is
-- left of the hour's budget.
CREATE FUNCTION antiban.poll_plan(per_hour integer)
RETURNS TABLE (waba bigint, waba_id text, budget integer, numbers text[])
LANGUAGE sql STABLE AS $$
    SELECT w.id, w.waba_id,
           (per_hour - (SELECT count(*) FROM antiban.mgmt_calls c
                        WHERE c.waba_id = w.id AND c.at > antiban.now() - interval '1 hour'))::integer,
           ARRAY(SELECT n.phone_number_id FROM antiban.numbers n WHERE n.waba_id = w.id
                 ORDER BY n.polled_at NULLS FIRST, n.id)
    FROM antiban.wabas w
    LEFT JOIN antiban.poll_state p ON p.waba_id = w.id
    WHERE coalesce(p.next_poll_at, '-infinity') <= antiban.now()
      AND EXISTS (SELECT 1 FROM antiban.secrets s WHERE s.kind = 'access_token' AND s.waba_id = w.id)
    ORDER BY coalesce(p.next_poll_at, '-infinity'), w.id
$$;

CREATE FUNCTION antiban.record_mgmt_call(waba bigint, path text, http_status integer) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.mgmt_calls (waba_id, path, http_status) VALUES (waba, path, http_status);
END;

-- A poll finished: the next one is due after antiban.poll_interval, or
-- later after failures (doubling, at most an hour).
CREATE FUNCTION antiban.record_poll(waba bigint, ok boolean, error text, poll_interval interval) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.poll_state AS p (waba_id, next_poll_at, failures, last_error, last_success_at)
    VALUES (waba, antiban.now() + CASE WHEN ok THEN poll_interval ELSE least(poll_interval, interval '1 hour') END,
            CASE WHEN ok THEN 0 ELSE 1 END, error, CASE WHEN ok THEN antiban.now() END)
    ON CONFLICT (waba_id) DO UPDATE SET
        failures = CASE WHEN ok THEN 0 ELSE p.failures + 1 END,
        next_poll_at = antiban.now() + CASE WHEN ok THEN poll_interval
                       ELSE least(poll_interval * power(2, least(p.failures + 1, 10)), interval '1 hour') END,
        last_error = CASE WHEN ok THEN p.last_error ELSE error END,
        last_success_at = CASE WHEN ok THEN antiban.now() ELSE p.last_success_at END;
END;

-- GET /{phone-number-id}?fields=...: Meta's view of the number now.
CREATE FUNCTION antiban.apply_number_poll(phone_number_id text, body jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    number record;
    new_quality text := body ->> 'quality_rating';
    new_status text := body ->> 'status';
    new_can_send text := body -> 'health_status' ->> 'can_send_message';
    new_level text := body -> 'throughput' ->> 'level';
    new_tier text := coalesce(body ->> 'whatsapp_business_manager_messaging_limit', body ->> 'messaging_limit_tier');
BEGIN
    SELECT n.id, w.waba_id INTO number FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
    WHERE n.phone_number_id = apply_number_poll.phone_number_id;
    IF number.id IS NULL THEN
        RETURN;
    END IF;
    UPDATE antiban.numbers n SET
        quality_rating = CASE WHEN new_quality IN ('GREEN', 'YELLOW', 'RED', 'NA', 'UNKNOWN')
                              THEN new_quality::antiban.quality_rating ELSE n.quality_rating END,
        status = CASE WHEN new_status = ANY (enum_range(NULL::antiban.number_status)::text[])
                      THEN new_status::antiban.number_status ELSE n.status END,
        can_send_message = CASE WHEN new_can_send IN ('AVAILABLE', 'LIMITED', 'BLOCKED') THEN new_can_send
                                ELSE n.can_send_message END,
        throughput_level = CASE WHEN new_level = 'HIGH' THEN 'HIGH'
                                WHEN new_level = 'STANDARD' AND n.throughput_level = 'HIGH' THEN 'STANDARD'
                                ELSE n.throughput_level END,
        polled_at = antiban.now()
    WHERE n.id = number.id;
    INSERT INTO antiban.quality_history (observed_at, phone_number_id, waba_id, source, event, quality_rating, messaging_limit, detail)
    VALUES (antiban.now(), apply_number_poll.phone_number_id, number.waba_id, 'poll', 'poll', new_quality, new_tier, body);
    PERFORM antiban.set_portfolio_tier(number.waba_id, new_tier);
END
$$;
COMMENT ON FUNCTION antiban.apply_number_poll(text, jsonb) IS
    'Store one poll of a number (quality, status, health_status, throughput, messaging limit) and keep one quality_history row per observation.';

-- GET /{waba-id}/message_templates: one page; returns how many templates it held.
CREATE FUNCTION antiban.apply_template_poll(waba text, body jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t record;
    old record;
    row_id bigint;
    seen integer := 0;
BEGIN
    FOR t IN SELECT x.id, x.name, x.language, x.status, x.category, x.quality_score ->> 'score' AS quality,
                    CASE WHEN jsonb_typeof(x.components) = 'array' THEN x.components END AS components
             FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(body -> 'data') = 'array' THEN body -> 'data' ELSE '[]' END)
                  AS x(id text, name text, language text, status text, category text, quality_score jsonb,
                       components jsonb)
             WHERE x.name IS NOT NULL
    LOOP
        SELECT tp.status, tp.quality INTO old FROM antiban.templates tp JOIN antiban.wabas w ON w.id = tp.waba_id
        WHERE w.waba_id = waba AND tp.name = t.name AND tp.language = coalesce(t.language, '');
        row_id := antiban.template_row(waba, t.id, t.name, t.language);
        UPDATE antiban.templates SET status = coalesce(t.status, status), category = coalesce(t.category, category),
               quality = coalesce(t.quality, quality), components = coalesce(t.components, components),
               updated_at = antiban.now()
        WHERE id = row_id;
        IF (t.status, t.quality) IS DISTINCT FROM (old.status, old.quality) THEN
            -- templates are many and polled often: their history keeps the changes
            INSERT INTO antiban.quality_history (observed_at, waba_id, source, event, quality_rating, detail)
            VALUES (antiban.now(), waba, 'poll', 'template', t.quality,
                    jsonb_build_object('name', t.name, 'language', t.language, 'status', t.status,
                                       'previous_status', old.status, 'previous_quality', old.quality));
        END IF;
        IF t.status IS DISTINCT FROM old.status AND t.status IN ('PAUSED', 'DISABLED', 'REJECTED', 'LOCKED') THEN
            PERFORM antiban.raise_alert(CASE WHEN t.status IN ('DISABLED', 'LOCKED') THEN 'critical' ELSE 'warning' END::antiban.alert_severity,
                NULL, 'template_' || lower(t.status), format('template %s (%s) is %s (seen by the monitor)', t.name, t.language, t.status),
                concat_ws('/', t.name, t.language));
        END IF;
        IF array_position(ARRAY['GREEN', 'YELLOW', 'RED'], t.quality) > array_position(ARRAY['GREEN', 'YELLOW', 'RED'], old.quality) THEN
            PERFORM antiban.raise_alert('warning', NULL, 'template_quality_dropped',
                format('template %s quality %s -> %s (seen by the monitor)', t.name, old.quality, t.quality),
                concat_ws('/', t.name, t.language));
        END IF;
        seen := seen + 1;
    END LOOP;
    RETURN seen;
END
$$;
COMMENT ON FUNCTION antiban.apply_template_poll(text, jsonb) IS
    'Store one page of a WABA''s templates (status, category, quality, components) and alert when one is paused, disabled or its quality drops.';

-- ---- early warnings: before Meta acts ----

CREATE FUNCTION antiban.check_early_warnings() RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    now timestamptz := antiban.now();
    raised integer := 0;
    r record;
BEGIN
    -- error rate (bad codes) in the last 15 min against the hour before it
    FOR r IN
        WITH sent AS (
            SELECT o.number_id,
                   count(*) FILTER (WHERE o.sent_at > now - interval '15 minutes') AS recent,
                   count(*) FILTER (WHERE o.sent_at <= now - interval '15 minutes') AS before
            FROM antiban.outbox o WHERE o.sent_at > now - interval '75 minutes' GROUP BY o.number_id
        ), bad AS (
            SELECT e.number_id,
                   count(*) FILTER (WHERE e.at > now - interval '15 minutes') AS recent,
                   count(*) FILTER (WHERE e.at <= now - interval '15 minutes') AS before
            FROM antiban.send_errors e
            WHERE e.at > now - interval '75 minutes' AND e.code IN (131048, 131049, 131026, 131050, 130429, 368, 131031)
            GROUP BY e.number_id
        )
        SELECT n.phone_number_id, n.quality_rating, b.recent AS errors, s.recent AS sends,
               b.recent::float8 / greatest(s.recent + b.recent, 1) AS rate_now,
               b.before::float8 / greatest(s.before + b.before, 1) AS rate_before
        FROM bad b JOIN antiban.numbers n ON n.id = b.number_id LEFT JOIN sent s ON s.number_id = b.number_id
    LOOP
        IF r.errors >= 5 AND r.rate_now >= 0.02 AND r.rate_now >= 2 * r.rate_before THEN
            raised := raised + coalesce(antiban.raise_alert('warning', r.phone_number_id, 'error_rate_rising',
                format('%s errors in %s sends over the last 15 min (%s%%, was %s%%) while Meta rates the number %s',
                       r.errors, r.sends + r.errors, round((r.rate_now * 100)::numeric, 1),
                       round((r.rate_before * 100)::numeric, 1), r.quality_rating))::integer, 0);
        END IF;
    END LOOP;
    -- blocks and opt-outs of the last hour against the day
    FOR r IN
        SELECT n.phone_number_id, count(*) FILTER (WHERE k.opt_out_at > now - interval '1 hour') AS hour,
               count(*) AS day
        FROM antiban.contacts k JOIN antiban.numbers n ON n.phone_number_id = k.last_phone_number_id
        WHERE k.opt_out_at > now - interval '1 day'
        GROUP BY n.phone_number_id
    LOOP
        IF r.hour >= 5 AND r.hour * 24 >= 3 * r.day THEN
            raised := raised + coalesce(antiban.raise_alert('warning', r.phone_number_id, 'block_rate_rising',
                format('%s people opted out or blocked in the last hour (%s in the day)', r.hour, r.day))::integer, 0);
        END IF;
    END LOOP;
    -- the portfolio has used 80 % of its messaging limit
    FOR r IN SELECT u.business_id, u.used, u.messaging_limit FROM antiban.portfolio_usage u WHERE u.used_pct >= 80 LOOP
        raised := raised + coalesce(antiban.raise_alert('warning', NULL, 'portfolio_limit_80',
            format('portfolio %s reached %s of its %s unique recipients in the moving 24 h', r.business_id, r.used, r.messaging_limit),
            r.business_id)::integer, 0);
    END LOOP;
    -- queued work that will expire before the number can send it
    FOR r IN
        SELECT coalesce(o.phone_number_id, 'any number') AS phone, count(*) AS late
        FROM antiban.outbox o
        WHERE o.state IN ('queued', 'retry_wait') AND o.valid_until IS NOT NULL
          AND o.valid_until - now < now - coalesce(o.queued_at, o.created_at)
        GROUP BY 1
    LOOP
        IF r.late >= 10 THEN
            raised := raised + coalesce(antiban.raise_alert('warning', nullif(r.phone, 'any number'), 'backlog_outrunning_validity',
                format('%s queued messages have waited longer than the validity they have left: they will expire unless more numbers send',
                       r.late))::integer, 0);
        END IF;
    END LOOP;
    RETURN raised;
END
$$;
COMMENT ON FUNCTION antiban.check_early_warnings() IS
    'Warnings before Meta acts: error rate rising faster than the hour before (even while quality is GREEN), opt-outs rising, the portfolio at 80 % of its limit, a backlog that will expire. One open alert per kind and number.';

-- ---- alerts: NOTIFY listeners at once, an outbound webhook by the monitor ----

ALTER TABLE antiban.alerts
    ADD COLUMN delivered_at       timestamptz,
    ADD COLUMN delivery_attempts  integer NOT NULL DEFAULT 0,
    ADD COLUMN next_delivery_at   timestamptz,
    ADD COLUMN delivery_error     text;
CREATE INDEX alerts_undelivered ON antiban.alerts (id) WHERE delivered_at IS NULL;

CREATE FUNCTION antiban.notify_alert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('antiban_alert', json_build_object(
        'id', NEW.id, 'created_at', NEW.created_at, 'severity', NEW.severity, 'phone_number_id', NEW.phone_number_id,
        'kind', NEW.kind, 'subject', NEW.subject, 'detail', NEW.detail)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_alert AFTER INSERT ON antiban.alerts
    FOR EACH ROW EXECUTE FUNCTION antiban.notify_alert();

-- Alerts the monitor should post now (antiban.alert_webhook_url set).
CREATE FUNCTION antiban.alerts_to_deliver(max_rows integer) RETURNS SETOF antiban.alerts
LANGUAGE sql STABLE AS $$
    SELECT * FROM antiban.alerts a
    WHERE a.delivered_at IS NULL AND a.delivery_attempts < 10
      AND coalesce(a.next_delivery_at, '-infinity') <= antiban.now()
      AND a.created_at > antiban.now() - interval '1 day'
    ORDER BY a.id LIMIT max_rows
$$;

CREATE FUNCTION antiban.record_alert_delivery(alert bigint, ok boolean, error text) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    UPDATE antiban.alerts SET
        delivered_at = CASE WHEN ok THEN antiban.now() END,
        delivery_attempts = delivery_attempts + 1,
        next_delivery_at = CASE WHEN ok THEN NULL
                           ELSE antiban.now() + least(interval '10 seconds' * power(2, delivery_attempts), interval '1 hour') END,
        delivery_error = CASE WHEN ok THEN NULL ELSE error END
    WHERE id = alert;
END;

-- ---- templates: never send one Meta would refuse ----

-- The next due messages (the batch a sender is about to claim) whose
-- template is not APPROVED where we know it: paused or in review ones wait
-- (antiban.template_hold), refused ones are rejected.
CREATE FUNCTION antiban.hold_unapproved_templates(hold interval, batch integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    held integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM antiban.templates WHERE coalesce(status, 'APPROVED') <> 'APPROVED') THEN
        RETURN 0;               -- the usual case: nothing to look at
    END IF;
    WITH verdict AS (
        SELECT t.name, t.language,
               bool_or(t.status IN ('REJECTED', 'DISABLED', 'DELETED', 'PENDING_DELETION', 'ARCHIVED')) AS refused,
               string_agg(DISTINCT t.status, ', ') AS statuses
        FROM antiban.templates t
        GROUP BY t.name, t.language
        HAVING NOT bool_or(coalesce(t.status, 'APPROVED') = 'APPROVED')
    ), due AS (
        SELECT o.id, o.message_type, o.payload FROM antiban.outbox o
        WHERE o.state IN ('queued', 'retry_wait') AND o.not_before <= antiban.now()
        ORDER BY o.priority DESC, o.not_before, o.id LIMIT batch
        FOR UPDATE SKIP LOCKED
    ), unapproved AS (
        SELECT d.id, v.refused, v.statuses, v.name
        FROM due d JOIN verdict v
          ON v.name = d.payload -> 'template' ->> 'name' AND v.language = d.payload -> 'template' -> 'language' ->> 'code'
        WHERE d.message_type = 'template'
    ), changed AS (
        UPDATE antiban.outbox o SET
            state = CASE WHEN u.refused THEN 'rejected'::antiban.message_state ELSE o.state END,
            not_before = CASE WHEN u.refused THEN o.not_before ELSE antiban.now() + hold END,
            reason = CASE WHEN u.refused THEN 'template_not_approved' ELSE 'template_paused' END,
            detail = format('template %s is %s at Meta: %s', u.name, u.statuses,
                            CASE WHEN u.refused THEN 'it can not be sent' ELSE 'waiting until it is APPROVED again' END)
        FROM unapproved u WHERE o.id = u.id
        RETURNING o.id)
    SELECT count(*) INTO held FROM changed;
    RETURN held;
END
$$;
COMMENT ON FUNCTION antiban.hold_unapproved_templates(interval, integer) IS
    'Keep the next due messages off Meta while their template is paused or in review (they wait), or refused (rejected). The senders call it before each claim.';
-- Roles. They are cluster-wide, so they may exist from an earlier install.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['antiban_admin', 'antiban_app', 'antiban_reader', 'antiban_receiver'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA antiban FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA antiban FROM PUBLIC;
GRANT USAGE ON SCHEMA antiban TO antiban_admin, antiban_app, antiban_reader, antiban_receiver;

-- Readers (BI tools, dashboards): every table and view but the secrets.
GRANT SELECT ON antiban.portfolios, antiban.wabas, antiban.numbers, antiban.recipient_state,
    antiban.decisions, antiban.buckets, antiban.portfolio_usage, antiban.secrets_status
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.now(), antiban.tier_limit(antiban.messaging_tier),
    antiban.bucket_states(), antiban.portfolio_usage_raw(), antiban.journal_stats()
    TO antiban_reader;

-- Applications: decide and consume, and read what readers read.
GRANT antiban_reader TO antiban_app;
GRANT EXECUTE ON FUNCTION antiban.decide(text, text, text, timestamptz, text, text, boolean),
    antiban.try_consume(text, double precision, text, boolean),
    antiban.enqueue(text, text, text, jsonb, text, timestamptz, text, jsonb, text),
    antiban.template_object(text, text, jsonb),
    antiban.send_template(text, text, text, jsonb, text, text, timestamptz, text, jsonb, text),
    antiban.send_text(text, text, boolean, text, text, timestamptz, text, jsonb, text),
    antiban.send(text, jsonb, text, text, timestamptz, text, jsonb, text),
    antiban.mark_read(text, text, boolean),
    antiban.cancel(bigint)
    TO antiban_app;
GRANT SELECT ON antiban.outbox, antiban.queue_depth, antiban.outbox_states TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.transition_allowed(text, text) TO antiban_reader;

-- Administrators: configuration and secrets.
GRANT antiban_app TO antiban_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON antiban.portfolios, antiban.wabas, antiban.numbers,
    antiban.secrets TO antiban_admin;
GRANT EXECUTE ON FUNCTION antiban.set_secret(antiban.secret_kind, text, text),
    antiban.reload_config(), antiban.flush_journal(),
    antiban.open_service_window(text, text, timestamptz)
    TO antiban_admin;

-- The webhook receiver: ingest and the GET handshake, nothing else.
GRANT EXECUTE ON FUNCTION antiban.ingest_webhook(bytea, text), antiban.webhook_verify(text)
    TO antiban_receiver;
GRANT SELECT ON antiban.webhook_events, antiban.contacts, antiban.interactions, antiban.templates,
    antiban.quality_history, antiban.alerts TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.error_action(integer, integer), antiban.is_opt_out(text) TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_marketing_opt_out(text, text, boolean),
    antiban.acknowledge_alert(bigint) TO antiban_admin;

-- Protection: everyone who reads sees health and why; operators steer modes.
GRANT SELECT ON antiban.number_health, antiban.health_events, antiban.send_errors, antiban.health_state,
    antiban.mgmt_calls, antiban.poll_state TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.warmup_schedule(integer), antiban.quality_rank(antiban.quality_rating)
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.set_mode(text, antiban.number_mode, text), antiban.release_mode(text, text),
    antiban.start_warmup(text, text, integer), antiban.evaluate_health()
    TO antiban_admin;

-- Make every backend drop numbers cached from an earlier install.
SELECT antiban.reload_config();
