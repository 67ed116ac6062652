-- The Graph API endpoint's circuit breaker, and requeueing messages that ended
-- without reaching anyone.
--
-- When the endpoint does not answer at all (DNS, connect, TLS), the senders
-- stop claiming, hold the messages the endpoint never saw without counting
-- the attempt, raise one alert, and probe with backoff until it answers
-- (src/core/circuit_breaker.c; state in shared memory, src/pg/circuit_breakers.c).

CREATE TYPE antiban.breaker_state AS ENUM ('closed', 'open', 'half_open');
COMMENT ON TYPE antiban.breaker_state IS
    'closed: requests go; open: nothing is claimed until the next probe; half_open: one probe is out.';

CREATE TABLE antiban.breaker_events (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                    timestamptz NOT NULL,
    endpoint              text NOT NULL,
    from_state            antiban.breaker_state NOT NULL,
    to_state              antiban.breaker_state NOT NULL,
    reason                text NOT NULL CHECK (reason IN ('connection_failures', 'probe_due', 'probe_failed',
                                                          'probe_lost', 'probe_answered', 'answered')),
    consecutive_failures  integer NOT NULL,
    failed_probes         integer NOT NULL,
    next_probe_at         timestamptz,
    probe_wait            interval,
    detail                text NOT NULL DEFAULT ''
);
CREATE INDEX breaker_events_endpoint ON antiban.breaker_events (endpoint, at);
COMMENT ON TABLE antiban.breaker_events IS
    'Every phase change of a Graph API endpoint''s circuit breaker: opened after connection_failures in a row, half_open when a probe went (probe_due), open again when it failed or was lost (with the next, longer, wait), closed when the probe or any request was answered.';
COMMENT ON COLUMN antiban.breaker_events.probe_wait IS
    'Open: the wait (exponential in failed_probes, capped, with jitter) before next_probe_at.';

CREATE FUNCTION antiban.circuit_breaker_states()
RETURNS TABLE (endpoint text, state text, consecutive_failures integer, failed_probes integer,
               opened_at timestamptz, next_probe_at timestamptz, probe_wait interval,
               probe_deadline timestamptz, changed_at timestamptz, last_failure_at timestamptz,
               last_failure text, unreachable_total bigint, probes_total bigint)
AS 'MODULE_PATHNAME', 'antiban_circuit_breaker_states' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.circuit_breaker_states() IS
    'The circuit breaker of each Graph API endpoint the senders have called since the server started, from shared memory.';

-- With the caller's rights: readers may call circuit_breaker_states().
CREATE VIEW antiban.circuit_breakers WITH (security_invoker) AS
SELECT endpoint, state::antiban.breaker_state AS state, consecutive_failures, failed_probes, opened_at,
       next_probe_at, probe_wait, probe_deadline, changed_at, last_failure_at, last_failure,
       unreachable_total, probes_total
FROM antiban.circuit_breaker_states();
COMMENT ON VIEW antiban.circuit_breakers IS
    'Per Graph API endpoint (base URL and version): closed, open (nothing claimed; next_probe_at) or half_open (one probe out until probe_deadline), connection-level failures in a row, failed probes since it opened, the last failure. History: antiban.breaker_events.';

-- The sender writes each change it made; opening raises one alert
-- (raise_alert keeps one open alert per endpoint and hour).
CREATE FUNCTION antiban.note_breaker_event(at timestamptz, endpoint text, from_state antiban.breaker_state,
                                           to_state antiban.breaker_state, reason text,
                                           consecutive_failures integer, failed_probes integer,
                                           next_probe_at timestamptz, probe_wait interval, detail text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO antiban.breaker_events (at, endpoint, from_state, to_state, reason, consecutive_failures,
                                        failed_probes, next_probe_at, probe_wait, detail)
    VALUES (at, endpoint, from_state, to_state, reason, consecutive_failures, failed_probes, next_probe_at,
            probe_wait, coalesce(detail, ''));
    IF from_state = 'closed' AND to_state = 'open' THEN
        PERFORM antiban.raise_alert('critical', NULL, 'endpoint_unreachable',
            format('The Graph API endpoint %s did not answer %s requests in a row (%s). Sending is held: no message is claimed, '
                   'none loses an attempt or dies for it; the endpoint is probed with backoff and sending resumes when it answers. '
                   'See antiban.circuit_breakers.', endpoint, consecutive_failures, detail),
            endpoint);
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.note_breaker_event(timestamptz, text, antiban.breaker_state, antiban.breaker_state, text,
                                               integer, integer, timestamptz, interval, text) IS
    'Record a circuit breaker phase change (the sender calls it); when it opens, raise one endpoint_unreachable alert.';

-- The GET probe's number: one whose WABA has an access token and management
-- calls left in the rolling hour (the monitor's budget, antiban.mgmt_calls).
CREATE FUNCTION antiban.breaker_probe_target(per_hour integer)
RETURNS TABLE (waba bigint, number_id bigint, phone_number_id text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT w.id, n.id, n.phone_number_id
    FROM antiban.wabas w
    CROSS JOIN LATERAL (SELECT count(*) AS used FROM antiban.mgmt_calls c
                        WHERE c.waba_id = w.id AND c.at > antiban.now() - interval '1 hour') u
    JOIN antiban.numbers n ON n.waba_id = w.id
    WHERE u.used < per_hour
      AND EXISTS (SELECT 1 FROM antiban.secrets s WHERE s.kind = 'access_token' AND s.waba_id = w.id)
    ORDER BY u.used, n.id
    LIMIT 1;
END
$$;
COMMENT ON FUNCTION antiban.breaker_probe_target(integer) IS
    'The WABA and number a circuit breaker probe (GET {number}?fields=id) may use: an access token, and fewer than per_hour management calls in the last hour.';

CREATE FUNCTION antiban.wake_senders() RETURNS void
AS 'MODULE_PATHNAME', 'antiban_wake_senders_sql' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.wake_senders() IS
    'Wake the sender workers when the current transaction commits (it made messages due).';

-- ---- requeue ----

ALTER TABLE antiban.outbox ADD COLUMN requeue_count integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN antiban.outbox.requeue_count IS
    'How many times an operator requeued this message (antiban.requeue); each earlier life is a row in antiban.outbox_requeues.';

CREATE TABLE antiban.outbox_requeues (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id        bigint NOT NULL REFERENCES antiban.outbox ON DELETE CASCADE,
    requeued_at      timestamptz NOT NULL DEFAULT antiban.now(),
    requeued_by      text NOT NULL,
    forced           boolean NOT NULL,
    from_state       antiban.message_state NOT NULL,
    state_at         timestamptz,
    attempts         integer NOT NULL,
    pair_hits        integer NOT NULL,
    phone_number_id  text,
    wamid            text,
    reason           text,
    detail           text,
    error_code       integer,
    error_title      text,
    error_details    text,
    fbtrace_id       text
);
CREATE INDEX outbox_requeues_message ON antiban.outbox_requeues (outbox_id, requeued_at);
COMMENT ON TABLE antiban.outbox_requeues IS
    'The life a message had before each requeue: the state it ended in and when, its attempts, last error and reason, who requeued it and whether they had to force it (unknown).';

CREATE FUNCTION antiban.requeue(ids bigint[], force boolean DEFAULT false)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    missing bigint[];
    bad record;
    nbad integer;
BEGIN
    IF ids IS NULL OR array_position(ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'requeue needs outbox ids, not null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- in id order, as the sender and the webhooks lock them
    PERFORM 1 FROM antiban.outbox o WHERE o.id = ANY (ids) ORDER BY o.id FOR UPDATE;
    -- another portfolio's message is as missing as one that does not exist
    SELECT array_agg(DISTINCT i ORDER BY i) INTO missing
    FROM unnest(ids) AS i WHERE NOT EXISTS (SELECT 1 FROM antiban.outbox o WHERE o.id = i
                                            AND antiban.may_use_portfolio(o.portfolio_id));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'no outbox message with id %', array_to_string(missing, ', ')
            USING ERRCODE = 'undefined_object',
                  HINT = 'Nothing was requeued.';
    END IF;
    SELECT o.id, o.state, o.valid_until, count(*) OVER () AS n INTO bad
    FROM antiban.outbox o
    WHERE o.id = ANY (ids)
      AND (o.state NOT IN ('dead', 'failed', 'unknown') OR (o.state = 'unknown' AND NOT force)
           OR o.valid_until <= antiban.now())
    ORDER BY o.id LIMIT 1;
    IF FOUND THEN
        nbad := bad.n;
        IF bad.state = 'unknown' AND NOT force THEN
            RAISE EXCEPTION 'outbox message % may have been delivered', bad.id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Its state is unknown: the request went out and neither an answer nor a status webhook came back, so Meta may have accepted it (%s of the messages given can not be requeued as they are).', nbad),
                      HINT = 'Wait for a status webhook to settle it, or requeue it with force => true to send it again anyway: the person may then get it twice. Nothing was requeued.';
        ELSIF bad.state IN ('dead', 'failed', 'unknown') THEN
            RAISE EXCEPTION 'outbox message % is past its validity', bad.id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('It was valid until %s (%s of the messages given can not be requeued).', bad.valid_until, nbad),
                      HINT = 'Send it again as a new message if it still matters. Nothing was requeued.';
        ELSE
            RAISE EXCEPTION 'outbox message % is %, not dead or failed', bad.id, bad.state
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('%s of the messages given can not be requeued.', nbad),
                      HINT = 'Only dead and failed messages can be requeued (unknown ones with force => true). Nothing was requeued.';
        END IF;
    END IF;
    INSERT INTO antiban.outbox_requeues (outbox_id, requeued_by, forced, from_state, state_at, attempts, pair_hits,
                                         phone_number_id, wamid, reason, detail, error_code, error_title,
                                         error_details, fbtrace_id)
    SELECT o.id, session_user, o.state = 'unknown', o.state,
           CASE o.state WHEN 'dead' THEN o.dead_at WHEN 'failed' THEN o.failed_at ELSE o.unknown_at END,
           o.attempts, o.pair_hits, o.phone_number_id, o.wamid, o.reason, o.detail, o.error_code, o.error_title,
           o.error_details, o.fbtrace_id
    FROM antiban.outbox o WHERE o.id = ANY (ids) ORDER BY o.id;
    PERFORM antiban.wake_senders();
    -- a new life: attempts and pair backoff start again, the last error stays
    -- on the row until the next answer replaces it (as after a retry)
    RETURN QUERY
    UPDATE antiban.outbox o SET state = 'queued', not_before = antiban.now(), attempts = 0, pair_hits = 0,
           requeue_count = o.requeue_count + 1, lease_until = NULL, leased_by = NULL,
           reason = 'requeued', detail = format('requeued by %s', session_user)
    WHERE o.id = ANY (ids)
    RETURNING o.id;
END
$$;
COMMENT ON FUNCTION antiban.requeue(bigint[], boolean) IS
    'Send dead and failed messages again (an administrator''s call): each goes back to queued, due now, with its attempts reset; its earlier life (state, attempts, last error, reason) is kept in antiban.outbox_requeues and counted in outbox.requeue_count. An unknown message may have been delivered: it is refused unless force => true. All or nothing; returns the ids requeued.';
