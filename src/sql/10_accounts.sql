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

-- Secrets: write-only. antiban's own code reads them as antiban_owner; admins
-- set and clear them through functions; no view, log line or error shows them.
CREATE TABLE antiban.secrets (
    kind        antiban.secret_kind NOT NULL,
    waba_id     bigint REFERENCES antiban.wabas ON DELETE CASCADE,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
    -- no CHECK constraints: a failing row would be echoed, secret included, in the error detail
);
CREATE UNIQUE INDEX secrets_one_per_kind ON antiban.secrets (kind, coalesce(waba_id, 0));
COMMENT ON TABLE antiban.secrets IS
    'Access tokens (one per WABA), the app secret and the webhook verify token. No role but antiban_owner reads it: set with antiban.set_secret, see antiban.secrets_status.';

-- The app secret and the verify token are the whole install's: refused to a
-- caller mapped to portfolios (a tenant's administrator).  NULL: no WABA.
CREATE FUNCTION antiban.install_secret() RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM antiban.refuse_install_wide('set or clear the app secret or the webhook verify token');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.install_secret() IS
    'Internal (secret_waba): NULL, the WABA of a secret of the whole install (app secret, verify token), after refusing a caller mapped to portfolios (insufficient_privilege).';

-- Which row of antiban.wabas a secret belongs to; never echoes what it was given
-- (a token passed in the WABA's place by mistake must not reach an error).
-- For a caller mapped to portfolios, another portfolio's WABA is as unknown
-- as a missing one.
CREATE FUNCTION antiban.secret_waba(kind antiban.secret_kind, waba text) RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    waba_row bigint;
BEGIN
    IF kind IS NULL THEN
        RAISE EXCEPTION 'secret kind must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'One of access_token, app_secret, webhook_verify_token.';
    END IF;
    IF (kind = 'access_token') <> (waba IS NOT NULL) THEN
        RAISE EXCEPTION 'an access token belongs to one WABA; the app secret and verify token to none'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Call antiban.set_secret(''access_token'', <token>, <waba_id>).';
    END IF;
    IF waba IS NULL THEN
        RETURN antiban.install_secret();
    END IF;
    SELECT w.id INTO waba_row FROM antiban.wabas w WHERE w.waba_id = waba AND antiban.may_use_portfolio(w.portfolio_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown WABA'
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'No row of antiban.wabas has that waba_id (the value is not shown, in case it was a secret).',
                  HINT = 'Register it first with INSERT INTO antiban.wabas, and check the order of the arguments: kind, value, waba.';
    END IF;
    RETURN waba_row;
END
$$;
COMMENT ON FUNCTION antiban.secret_waba(antiban.secret_kind, text) IS
    'Internal: the antiban.wabas row a secret of this kind belongs to (NULL for none); errors never echo their arguments. A caller mapped to portfolios gets unknown WABA for another portfolio''s WABA and is refused the install''s own secrets (app secret, verify token).';

CREATE FUNCTION antiban.set_secret(kind antiban.secret_kind, value text, waba text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
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
    waba_row := antiban.secret_waba(kind, waba);
    INSERT INTO antiban.secrets AS s (kind, waba_id, value)
    VALUES (set_secret.kind, waba_row, set_secret.value)
    ON CONFLICT (kind, coalesce(waba_id, 0))
    DO UPDATE SET value = excluded.value, updated_at = now();
END
$$;
COMMENT ON FUNCTION antiban.set_secret(antiban.secret_kind, text, text) IS
    'Store or replace a secret (antiban_admin). kind: access_token (with the WABA id as waba), app_secret or webhook_verify_token; value: at least 8 characters. Errors never echo the value, and with antiban preloaded every server-log line of a statement that calls set_secret has its quoted literals masked. Still avoid: calling it inside a DO block while pg_stat_statements tracks utility statements (the block is stored verbatim). Secrets are read back by no role: see antiban.secrets_status. An administrator mapped to portfolios sets only its portfolios'' WABAs'' access tokens: another portfolio''s WABA is unknown, and the app secret and verify token (the whole install''s) are refused (insufficient_privilege).';

CREATE FUNCTION antiban.clear_secret(kind antiban.secret_kind, waba text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    waba_row bigint := antiban.secret_waba(kind, waba);
BEGIN
    DELETE FROM antiban.secrets s WHERE s.kind = clear_secret.kind AND s.waba_id IS NOT DISTINCT FROM waba_row;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION antiban.clear_secret(antiban.secret_kind, text) IS
    'Remove a secret (antiban_admin): an access token with its WABA id, or the app secret / verify token without. Returns false when none was set. An administrator mapped to portfolios clears only its portfolios'' WABAs'' access tokens (another portfolio''s WABA is unknown; the app secret and verify token are refused).';

-- (antiban.secrets_status, which secrets are set, is in 11_tenancy.sql: it
-- shows a role mapped to portfolios its own WABAs' secrets only.)

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

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.touch_updated_at() IS
    'Trigger: stamps updated_at on every update of a portfolio or number.';
