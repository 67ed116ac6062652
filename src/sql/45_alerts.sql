-- Alerts: what a person should look at, raised by workers and triggers.

CREATE TYPE antiban.alert_severity AS ENUM ('info', 'warning', 'critical');

CREATE TABLE antiban.alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at       timestamptz NOT NULL DEFAULT antiban.now(),
    severity         antiban.alert_severity NOT NULL,
    phone_number_id  text,
    waba_id          text,
    kind             text NOT NULL,
    subject          text,
    detail           text NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  text
);
CREATE INDEX alerts_open ON antiban.alerts (created_at) WHERE acknowledged_at IS NULL;
COMMENT ON TABLE antiban.alerts IS
    'Things a person should know: a number paused after a ban signal, a quality drop, a limit nearly used. Acknowledge with antiban.acknowledge_alert(id).';
COMMENT ON COLUMN antiban.alerts.waba_id IS
    'Meta''s WhatsApp Business Account id for alerts about an account or its templates (as Meta posted it in entry.id).';

CREATE FUNCTION antiban.acknowledge_alert(alert bigint) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
    UPDATE antiban.alerts SET acknowledged_at = now(), acknowledged_by = session_user
    WHERE id = alert AND acknowledged_at IS NULL
    RETURNING true
$$;
COMMENT ON FUNCTION antiban.acknowledge_alert(bigint) IS 'Mark an alert as seen; returns NULL if it was already acknowledged or does not exist.';
