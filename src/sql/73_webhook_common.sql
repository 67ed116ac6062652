-- Applying webhooks: each change field has its function; the dispatcher runs
-- each change in its own subtransaction so one bad change never blocks the
-- rest of the batch, and records what it could not apply.
--
-- What is believed, and how often: a status settles an outbox row only on
-- evidence that it is ours (its wamid, or else its recipient and number);
-- a message's failure has its consequences once, when the row becomes
-- failed; an inbound message once per wamid; any other change once per
-- antiban.webhook_changes key; event times through antiban.webhook_time.

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
