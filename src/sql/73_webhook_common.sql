-- Applying webhooks: each change field has its function; the dispatcher runs
-- each change in its own subtransaction so one bad change never blocks the
-- rest of the batch, and records what it could not apply.
--
-- What is believed, and how often: a status settles an outbox row only on
-- evidence that it is ours (its wamid, or else its recipient and number);
-- a message's failure has its consequences once, when the row becomes
-- failed; an inbound message once per wamid; any other change once per
-- antiban.webhook_changes key; event times through antiban.webhook_time.

-- Generic plans until antiban.plan_restore, when the batch is small.
-- Statements that take a batch as arrays get a custom plan that knows a
-- batch of one is small, so the plan cache judges the generic plan dearer
-- and plans them again at every call; from 100 on the custom plans are worth
-- their planning.  A session's own choice (any plan_cache_mode but auto) is
-- left alone.  Returns what plan_restore must put back (NULL: nothing
-- changed).  Restored by hand on each return, not by a SET clause: a
-- function's clause would also override the caller's choice, and a local
-- setting made inside a function without the variable in its clause lasts
-- until the caller's transaction ends (an error undoes it with the
-- (sub)transaction).  Names carry their schema: these run under the
-- caller's search_path.
CREATE FUNCTION antiban.plan_for_batch(size integer) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    previous text := pg_catalog.current_setting('plan_cache_mode');
BEGIN
    IF coalesce(size, 0) OPERATOR(pg_catalog.<) 100 AND previous OPERATOR(pg_catalog.=) 'auto' THEN
        PERFORM pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true);
        RETURN previous;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.plan_for_batch(integer) IS
    'Internal (antiban.apply_webhooks, antiban.charge_messages): for a batch of fewer than 100 items, generic plans until antiban.plan_restore(what this returned), unless the session chose a plan_cache_mode other than auto; a small batch would otherwise be planned again at every call. Returns the setting to restore, NULL when it changed nothing.';

CREATE FUNCTION antiban.plan_restore(previous text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- (PL/pgSQL: a SQL function here would run uninlined, which
    -- 16_webhook_apply_plans refuses on the apply's path)
    PERFORM pg_catalog.set_config('plan_cache_mode', previous, true) WHERE previous IS NOT NULL;
END
$$;
COMMENT ON FUNCTION antiban.plan_restore(text) IS
    'Internal: put back the plan_cache_mode antiban.plan_for_batch returned (NULL: nothing to do).';

CREATE FUNCTION antiban.status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END;

CREATE FUNCTION antiban.digits(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(phone, '[^0-9]', '', 'g');

-- One alert per (kind, number, WABA, subject) while it is open and recent:
-- a burst of the same signal tells a person once, not a thousand times; the
-- same signal on two WABAs is two things to look at.
CREATE FUNCTION antiban.raise_alert(severity antiban.alert_severity, phone_number_id text, kind text, detail text,
                                    subject text DEFAULT NULL, waba text DEFAULT NULL)
RETURNS boolean LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.alerts (severity, phone_number_id, waba_id, kind, subject, detail)
    SELECT severity, phone_number_id, waba, kind, subject, detail
    WHERE NOT EXISTS (
        SELECT 1 FROM antiban.alerts a
        WHERE a.kind = raise_alert.kind AND a.phone_number_id IS NOT DISTINCT FROM raise_alert.phone_number_id
          AND a.waba_id IS NOT DISTINCT FROM raise_alert.waba
          AND a.subject IS NOT DISTINCT FROM raise_alert.subject
          AND a.acknowledged_at IS NULL AND a.created_at > antiban.now() - interval '1 hour')
    RETURNING true;
END;
COMMENT ON FUNCTION antiban.raise_alert(antiban.alert_severity, text, text, text, text, text) IS
    'Raise an alert unless the same kind for the same number, WABA and subject (a template, a portfolio) is still open from the last hour; true when raised.';

-- Remember a change as applied; false when the same change (WABA, field,
-- Meta's entry time, value) was applied within Meta's retry horizon.
CREATE FUNCTION antiban.claim_change(waba text, field text, sent_at text, value jsonb, event bigint,
                                     received timestamptz)
RETURNS boolean LANGUAGE sql VOLATILE
BEGIN ATOMIC
    WITH claimed AS (
        INSERT INTO antiban.webhook_changes AS c (change_key, field, event_id, applied_at)
        VALUES (sha256(convert_to(format('%s %s %s ', quote_nullable(waba), quote_nullable(field),
                                         quote_nullable(sent_at)) || coalesce(value::text, 'null'), 'UTF8')),
                coalesce(field, ''), event, received)
        ON CONFLICT (change_key) DO UPDATE SET event_id = excluded.event_id, applied_at = excluded.applied_at
        WHERE c.applied_at < excluded.applied_at - antiban.webhook_retry_horizon()
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM claimed);
END;
COMMENT ON FUNCTION antiban.claim_change(text, text, text, jsonb, bigint, timestamptz) IS
    'True the first time a webhook change (WABA, field, entry time, value) is seen within Meta''s retry horizon, and records it in antiban.webhook_changes.';

-- ---- events in the order they happened ----

-- Meta retries and reorders: an account, template, quality or limit event
-- that arrives after a newer one about the same subject must not undo it.
CREATE TABLE antiban.event_order (
    subject          text PRIMARY KEY,
    event_at         timestamptz NOT NULL,
    event_id         bigint,
    applied_at       timestamptz NOT NULL
);
COMMENT ON TABLE antiban.event_order IS
    'Per subject that webhooks set state on (a WABA''s ban, partner or restriction state, a number''s quality, a portfolio''s messaging limit, a template''s status, quality or category), Meta''s time of the last event applied to it: an older event arriving later is recorded as a problem and not applied.';

-- NULL when an event at 'at' may set the subject's state (and is recorded as
-- the last applied); otherwise the problem to record: it is older.
CREATE FUNCTION antiban.claim_event_order(subject text, what text, at timestamptz, event bigint)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    claimed boolean;
    newer timestamptz;
BEGIN
    -- the row stays locked to the end of the transaction: a concurrent event
    -- on the same subject waits, then compares with this one
    INSERT INTO antiban.event_order AS o (subject, event_at, event_id, applied_at)
    VALUES (claim_event_order.subject, at, event, antiban.now())
    ON CONFLICT ON CONSTRAINT event_order_pkey DO UPDATE
        SET event_at = excluded.event_at, event_id = excluded.event_id, applied_at = excluded.applied_at
        WHERE o.event_at <= excluded.event_at
    RETURNING true INTO claimed;
    IF claimed THEN
        RETURN NULL;
    END IF;
    SELECT o.event_at INTO newer FROM antiban.event_order o WHERE o.subject = claim_event_order.subject;
    RETURN format('%s at %s is older than the last applied (%s): not applied', what,
                  to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  to_char(newer AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
END
$$;
COMMENT ON FUNCTION antiban.claim_event_order(text, text, timestamptz, bigint) IS
    'Internal: may an event of Meta''s time at set the state of subject? NULL when it may (recorded in antiban.event_order; equal times apply in arrival order), else the problem to record: it is older than the last applied.';

-- A time Meta gives inside a value (an expiry, a disable date, when a
-- category changes): unix seconds, or a date as text ("2030-01-02T00:00:00Z",
-- "October 9, 2023", read as UTC when it names no zone).  NULL when neither.
-- Unlike antiban.webhook_time it is not clamped: these lie in the future.
CREATE FUNCTION antiban.meta_time(value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF value ~ '^\s*[0-9]{1,11}(\.[0-9]+)?\s*$' THEN
        RETURN to_timestamp(btrim(value)::double precision);
    ELSIF value ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)\s*$' THEN
        RETURN value::timestamptz;
    END IF;
    RETURN value::timestamp AT TIME ZONE 'UTC';
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.meta_time(text) IS
    'A time inside a webhook value (unix seconds, or a date as text, UTC unless it names a zone); NULL when it is neither. Not clamped, unlike antiban.webhook_time.';

-- ---- templates ----

-- Meta names a language en_US in the API and en-US in some webhooks; the
-- same template must be the same row, and a pause spelled one way must hold
-- sends spelled the other.  Every comparison of template languages goes
-- through this one function.
-- ---- inbound messages ----

-- A Flow completion carries its answers as a JSON string
-- (interactive.nfm_reply.response_json): kept parsed, so they can be read
-- with jsonb operators; a string that is not JSON stays as it came.
CREATE FUNCTION antiban.inbound_payload(m jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF jsonb_typeof(m -> 'interactive' -> 'nfm_reply' -> 'response_json') IS DISTINCT FROM 'string' THEN
        RETURN m;
    END IF;
    RETURN jsonb_set(m, '{interactive,nfm_reply,response_json}',
                     (m -> 'interactive' -> 'nfm_reply' ->> 'response_json')::jsonb);
EXCEPTION WHEN data_exception THEN
    RETURN m;
END
$$;
COMMENT ON FUNCTION antiban.inbound_payload(jsonb) IS
    'An inbound message object as antiban.interactions keeps it: a Flow reply''s response_json parsed from its JSON string.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.status_rank(text) IS
    'The order of message statuses: sent 1 < delivered 2 < read 3 < failed 4; anything else 0. Statuses never move a message backwards.';
COMMENT ON FUNCTION antiban.digits(text) IS
    'The digits of a phone number as written ("+55 11 90000-0001" -> 5511900000001), to compare display numbers.';
