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
        -- a number registered without its display number learns it here, so
        -- phone_number_quality_update (which names only that) finds it
        display_phone_number = coalesce(n.display_phone_number, nullif(body ->> 'display_phone_number', '')),
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
        WHERE w.waba_id = waba AND tp.name = t.name
          AND tp.language = coalesce(antiban.template_language(t.language), '');
        row_id := antiban.template_row(waba, t.id, t.name, t.language);
        UPDATE antiban.templates SET status = coalesce(t.status, status), category = coalesce(t.category, category),
               quality = coalesce(t.quality, quality), components = coalesce(t.components, components),
               -- approved again: what Meta said against it no longer holds (as for the webhook)
               rejection_reason = CASE WHEN t.status = 'APPROVED' THEN NULL ELSE rejection_reason END,
               rejection_recommendation = CASE WHEN t.status = 'APPROVED' THEN NULL ELSE rejection_recommendation END,
               disable_at = CASE WHEN t.status = 'APPROVED' THEN NULL ELSE disable_at END,
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
                concat_ws('/', t.name, antiban.template_language(t.language)), waba);
        END IF;
        IF array_position(ARRAY['GREEN', 'YELLOW', 'RED'], t.quality) > array_position(ARRAY['GREEN', 'YELLOW', 'RED'], old.quality) THEN
            PERFORM antiban.raise_alert('warning', NULL, 'template_quality_dropped',
                format('template %s quality %s -> %s (seen by the monitor)', t.name, old.quality, t.quality),
                concat_ws('/', t.name, antiban.template_language(t.language)), waba);
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
            -- from the rollup, in whole minutes sent (51_send_minutes.sql)
            SELECT m.number_id,
                   sum(m.sent) FILTER (WHERE m.minute + interval '1 minute' > now - interval '15 minutes') AS recent,
                   sum(m.sent) FILTER (WHERE m.minute + interval '1 minute' <= now - interval '15 minutes') AS before
            FROM antiban.sends_per_minute(antiban.minute_of(now - interval '75 minutes')) m
            WHERE m.minute + interval '1 minute' > now - interval '75 minutes' GROUP BY m.number_id
        ), bad AS (
            SELECT e.number_id,
                   count(*) FILTER (WHERE e.at > now - interval '15 minutes') AS recent,
                   count(*) FILTER (WHERE e.at <= now - interval '15 minutes') AS before
            FROM antiban.send_errors e
            -- the codes that feed a health count (antiban.meta_codes()), pair rate aside
            WHERE e.at > now - interval '75 minutes'
              AND (SELECT a.health_counter NOT IN ('pair') FROM antiban.error_action(e.code) a)
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

-- Any role may LISTEN on any channel: the payload says which alert, not what
-- it says (its number, WABA and sentence are a portfolio's).  A listener
-- reads the row through genuine_alert, under the alerts' row-level security.
CREATE FUNCTION antiban.alert_payload(a antiban.alerts) RETURNS text
LANGUAGE sql STABLE
RETURN json_build_object('id', a.id, 'kind', a.kind)::text;
COMMENT ON FUNCTION antiban.alert_payload(antiban.alerts) IS
    'The JSON text antiban announces an alert with on NOTIFY antiban_alert: its id and kind only. Read the alert with antiban.genuine_alert(payload), which shows a role the alerts of its portfolios only.';

CREATE FUNCTION antiban.notify_alert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('antiban_alert', antiban.alert_payload(NEW));
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_alert AFTER INSERT ON antiban.alerts
    FOR EACH ROW EXECUTE FUNCTION antiban.notify_alert();

-- Anybody may NOTIFY on any channel: a listener believes a payload only if
-- the alert it names is antiban's own row, and every field the payload has
-- says what the row says (a key genuine_alert does not know is a forgery
-- too).  It runs with the caller's rights: another portfolio's alert is
-- not found.
CREATE FUNCTION antiban.genuine_alert(payload text) RETURNS antiban.alerts
LANGUAGE plpgsql STABLE AS $$
DECLARE
    fields constant text[] := ARRAY['id', 'created_at', 'severity', 'phone_number_id', 'kind', 'subject',
                                    'detail', 'waba_id'];
    p jsonb;
    a antiban.alerts;
    row jsonb;
    k text;
    t timestamptz;
BEGIN
    BEGIN
        p := payload::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN NULL;
    END;
    IF jsonb_typeof(p) IS DISTINCT FROM 'object' OR jsonb_typeof(p -> 'id') IS DISTINCT FROM 'number'
       OR (p ->> 'id') !~ '^[1-9][0-9]{0,17}$'
       OR EXISTS (SELECT 1 FROM jsonb_object_keys(p) x(key) WHERE x.key <> ALL (fields)) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO a FROM antiban.alerts x WHERE x.id = (p ->> 'id')::bigint;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    row := to_jsonb(a);
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k = 'created_at' THEN
            -- the same instant, however the payload wrote it
            BEGIN
                t := (p ->> k)::timestamptz;
            EXCEPTION WHEN data_exception THEN
                RETURN NULL;
            END;
            IF t IS DISTINCT FROM a.created_at OR jsonb_typeof(p -> k) IS DISTINCT FROM 'string' THEN
                RETURN NULL;
            END IF;
        ELSIF (p -> k) IS DISTINCT FROM (row -> k) THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN a;
END
$$;
COMMENT ON FUNCTION antiban.genuine_alert(text) IS
    'For LISTEN antiban_alert clients: the antiban.alerts row a NOTIFY payload names, read with the caller''s rights (a role mapped to portfolios finds their alerts only), when every field of the payload says what the row says (id, and any of created_at, severity, phone_number_id, kind, subject, detail, waba_id); NULL for a payload antiban did not send (any role may NOTIFY on any channel), one with another key, or an alert the caller may not see. Argument: the payload text as received.';

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
        SELECT t.name, antiban.template_language(t.language) AS language,
               bool_or(t.status IN ('REJECTED', 'DISABLED', 'DELETED', 'PENDING_DELETION', 'ARCHIVED')) AS refused,
               string_agg(DISTINCT t.status, ', ') AS statuses
        FROM antiban.templates t
        GROUP BY 1, 2
        HAVING NOT bool_or(coalesce(t.status, 'APPROVED') = 'APPROVED')
    ), due AS (
        SELECT o.id, o.message_type, o.payload FROM antiban.outbox o
        WHERE o.state IN ('queued', 'retry_wait') AND o.not_before <= antiban.now()
        ORDER BY o.priority DESC, o.not_before, o.id LIMIT batch
        FOR UPDATE SKIP LOCKED
    ), unapproved AS (
        SELECT d.id, v.refused, v.statuses, v.name
        FROM due d JOIN verdict v
          ON v.name = d.payload -> 'template' ->> 'name'
         AND v.language = antiban.template_language(d.payload -> 'template' -> 'language' ->> 'code')
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

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.poll_plan(integer) IS
    'WABAs due for a Graph API poll with their numbers, least recently polled first, and what is left of each WABA''s hourly management budget.';
COMMENT ON FUNCTION antiban.record_mgmt_call(bigint,text,integer) IS
    'Count one Graph API management call against a WABA''s hourly budget (antiban.mgmt_calls).';
COMMENT ON FUNCTION antiban.record_poll(bigint,boolean,text,interval) IS
    'A poll of a WABA finished: the next is due after antiban.poll_interval, or later after failures (doubling, at most an hour).';
COMMENT ON FUNCTION antiban.notify_alert() IS
    'Trigger: every new alert is announced on NOTIFY antiban_alert with a JSON payload of its id and kind (read it with antiban.genuine_alert).';
COMMENT ON FUNCTION antiban.alerts_to_deliver(integer) IS
    'Alerts the monitor should post to antiban.alert_webhook_url now: not yet delivered, due for another attempt.';
COMMENT ON FUNCTION antiban.record_alert_delivery(bigint,boolean,text) IS
    'The outcome of posting an alert to the alert webhook: delivered, or the error and when to try again (backoff, up to ten attempts).';
