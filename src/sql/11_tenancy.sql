-- Tenancy: which login roles may use which business portfolios.
--
-- One database may serve several portfolios (brands of a group, clients of a
-- solutions provider).  A role mapped here sends only from its portfolios'
-- numbers; a role with no mapping (directly or through a role it is a member
-- of) is not restricted, so a single-tenant install works as before.

CREATE TABLE antiban.role_portfolios (
    role            name NOT NULL,
    portfolio_id    bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    granted_by      name NOT NULL DEFAULT session_user,
    PRIMARY KEY (role, portfolio_id)
);
CREATE INDEX ON antiban.role_portfolios (portfolio_id);
COMMENT ON TABLE antiban.role_portfolios IS
    'The portfolios a role (and every member of it) may send from and see. A role with no row here, directly or through its memberships, is not restricted. Change it with antiban.grant_portfolio and antiban.revoke_portfolio.';

-- Backends cache the mapping with the numbers: a change reloads every cache.
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.role_portfolios
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();

CREATE FUNCTION antiban.grant_portfolio(role name, portfolio text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    p bigint := (SELECT x.id FROM antiban.portfolios x WHERE x.business_id = portfolio);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role) THEN
        RAISE EXCEPTION 'role "%" does not exist', role
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the login role (or a group role for the portfolio''s apps) first.';
    END IF;
    IF p IS NULL THEN
        RAISE EXCEPTION 'unknown portfolio "%"', portfolio
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name it by its business_id, as in antiban.portfolios.';
    END IF;
    INSERT INTO antiban.role_portfolios AS rp (role, portfolio_id) VALUES (role, p)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION antiban.grant_portfolio(name, text) IS
    'Let a role (and its members) use a portfolio, named by business_id (antiban_admin). From its first grant on, the role sends only from its portfolios'' numbers and sees only their rows. False when it already had it.';

CREATE FUNCTION antiban.revoke_portfolio(role name, portfolio text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
BEGIN
    DELETE FROM antiban.role_portfolios rp
    USING antiban.portfolios p
    WHERE rp.role = role AND rp.portfolio_id = p.id AND p.business_id = portfolio;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION antiban.revoke_portfolio(name, text) IS
    'Take a portfolio from a role (antiban_admin). A role whose last grant is revoked is no longer restricted: revoke antiban_app from it too if it should send nothing. False when it did not have it.';

CREATE FUNCTION antiban.my_portfolios() RETURNS bigint[]
AS 'MODULE_PATHNAME', 'antiban_my_portfolios' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.my_portfolios() IS
    'The portfolio ids the current role may use, through antiban.role_portfolios (its own rows and those of the roles it is a member of); NULL when it is not restricted (no mapping at all). Superuser status does not count as membership.';

-- Every entry point that takes the id of something a portfolio owns (a lead,
-- a person, a campaign, a portfolio) asks this before it reads or changes it,
-- and answers a refused id exactly as a missing one, so ids are no oracle.
CREATE FUNCTION antiban.may_use_portfolio(portfolio bigint) RETURNS boolean
LANGUAGE sql STABLE
RETURN antiban.my_portfolios() IS NULL OR coalesce(portfolio = ANY (antiban.my_portfolios()), false);
COMMENT ON FUNCTION antiban.may_use_portfolio(bigint) IS
    'Whether the caller (the role antiban.my_portfolios() judges, also inside antiban''s own functions) may use this portfolio: always when it is not restricted, else only its own portfolios (never NULL).';

-- A WABA whose numbers have no access token while others have one would hold
-- its messages forever: decide() takes its numbers out of rotation
-- (numbers_cache.c) and this raises an alert for each such WABA.
CREATE FUNCTION antiban.alert_missing_tokens() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    w record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM antiban.secrets s WHERE s.kind = 'access_token') THEN
        RETURN NULL;
    END IF;
    FOR w IN SELECT DISTINCT a.waba_id FROM antiban.wabas a JOIN antiban.numbers n ON n.waba_id = a.id
             WHERE NOT EXISTS (SELECT 1 FROM antiban.secrets s WHERE s.kind = 'access_token' AND s.waba_id = a.id)
    LOOP
        PERFORM antiban.raise_alert('warning', NULL, 'no_access_token',
            'this WABA has numbers but no access token: they are out of rotation until antiban.set_secret(''access_token'', <token>, ''' || w.waba_id || ''')',
            NULL, w.waba_id);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.alert_missing_tokens() IS
    'Statement trigger on secrets and numbers: an alert (kind no_access_token) for every WABA with numbers and no access token, once any WABA has one.';
CREATE TRIGGER alert_missing_tokens AFTER INSERT OR DELETE ON antiban.secrets
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.alert_missing_tokens();
CREATE TRIGGER alert_missing_tokens AFTER INSERT OR UPDATE OF waba_id ON antiban.numbers
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.alert_missing_tokens();
