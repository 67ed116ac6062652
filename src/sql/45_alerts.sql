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
    UPDATE antiban.alerts a SET acknowledged_at = now(), acknowledged_by = session_user
    WHERE a.id = alert AND a.acknowledged_at IS NULL
      -- a role mapped to portfolios: the alerts it may see (as under the alerts' policy)
      AND (antiban.my_portfolios() IS NULL
           OR a.phone_number_id IN (SELECT n.phone_number_id FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
                                    WHERE w.portfolio_id = ANY (antiban.my_portfolios()))
           OR a.waba_id IN (SELECT w.waba_id FROM antiban.wabas w WHERE w.portfolio_id = ANY (antiban.my_portfolios())))
    RETURNING true
$$;
COMMENT ON FUNCTION antiban.acknowledge_alert(bigint) IS 'Mark an alert as seen; returns NULL if it was already acknowledged, does not exist, or is another portfolio''s (for a role mapped to portfolios).';
