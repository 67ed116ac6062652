-- Operational settings read by pg_cron jobs and the monitor: a table, not
-- GUCs, because the jobs run in sessions of their own (a SET would not reach
-- them), every session must see one value, and "antiban." is a reserved GUC
-- prefix (placeholders for unknown antiban.* names are refused).  Change a
-- value with UPDATE (antiban_admin); it applies at the next run.

CREATE TABLE antiban.settings (
    name         text PRIMARY KEY,
    value        text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('interval', 'integer')),
    description  text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT settings_value_fits_kind CHECK (
        CASE kind WHEN 'integer' THEN value ~ '^[0-9]{1,9}$'
                  ELSE value ~ '^[0-9]+ *(second|minute|hour|day|week|month|year)s?$' END)
);
COMMENT ON TABLE antiban.settings IS
    'Settings of antiban''s maintenance jobs and of the monitor''s pricing poll: UPDATE antiban.settings SET value = ''60 days'' WHERE name = ''retention.webhook_events''. They act on every portfolio: an administrator mapped to portfolios may not change them (insufficient_privilege).';

INSERT INTO antiban.settings (name, value, kind, description) VALUES
    ('retention.webhook_events', '30 days', 'interval', 'Stored webhook bodies older than this are deleted (their effects stay).'),
    ('retention.decisions', '30 days', 'interval', 'Decision-log rows older than this are deleted.'),
    ('retention.health_events', '90 days', 'interval', 'Health and mode changes older than this are deleted.'),
    ('retention.delivered_outbox', '90 days', 'interval', 'Outbox rows delivered or read longer ago than this are deleted (their cost stays in antiban.message_costs, their counts in antiban.daily_rollups).'),
    ('retention.send_minutes', '8 days', 'interval', 'Sends per number and minute (antiban.send_minutes, what the health score reads) older than this are deleted.'),
    ('partitions.interval', '1 month', 'interval', 'The time each partition of antiban.webhook_posts (the bodies behind antiban.webhook_events) covers once pg_partman manages it (antiban.manage_partitions); a partition is dropped once all of it is older than retention.webhook_events.'),
    ('partitions.premake', '2', 'integer', 'Partitions pg_partman keeps made ahead of time.'),
    ('retention.batch_rows', '5000', 'integer', 'Rows one retention DELETE removes; each batch is short, so no lock is held long.'),
    ('retention.max_rows_per_run', '200000', 'integer', 'Most rows one retention run deletes per table; the next run goes on.'),
    ('pricing.poll_interval', '1 day', 'interval', 'How often the monitor asks Meta for pricing_analytics (per WABA, within the management rate limit).'),
    ('pricing.poll_lookback', '3 days', 'interval', 'How far back each pricing poll reaches again (Meta''s figures for recent days still move).');

-- Settings are the whole install's (a retention window deletes every
-- portfolio's rows): a tenant's administrator, mapped to portfolios, reads
-- them but may not change them.  A statement trigger, so the refusal does
-- not depend on which rows a WHERE picks.  SECURITY DEFINER only to call
-- the check, which judges the caller (the outer user).
CREATE FUNCTION antiban.settings_install_wide() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    PERFORM antiban.refuse_install_wide('change antiban.settings, which are the whole install''s');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.settings_install_wide() IS
    'Statement trigger on antiban.settings: refuses (insufficient_privilege) any change by a role mapped to portfolios (antiban.role_portfolios): the settings, retention windows among them, act on every portfolio.';
CREATE TRIGGER install_wide BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.settings
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.settings_install_wide();

CREATE FUNCTION antiban.setting(name text) RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT s.value FROM antiban.settings s WHERE s.name = setting.name;
END;
COMMENT ON FUNCTION antiban.setting(text) IS
    'The value of one of antiban''s operational settings (antiban.settings), as text; NULL for an unknown name.';

CREATE FUNCTION antiban.setting_interval(name text) RETURNS interval
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text := antiban.setting(name);
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION 'antiban setting "%" is missing', name
            USING ERRCODE = 'undefined_object',
                  HINT = 'See antiban.settings; reinstalling the extension restores the defaults.';
    END IF;
    RETURN v::interval;
END
$$;
COMMENT ON FUNCTION antiban.setting_interval(text) IS 'An interval setting of antiban.settings; an error names a missing one.';
