-- Tenancy: which login roles may use which business portfolios.
--
-- One database may serve several portfolios (brands of a group, clients of a
-- solutions provider).  A role mapped here sends only from its portfolios'
-- numbers and sees only their rows, whatever role its session SETs (the
-- login's mapping holds too).  An install with no mapping at all is not
-- restricted (single tenant).  Once any role is mapped, an unmapped tenant
-- role (a member of antiban_app, antiban_reader or antiban_analyst that is
-- not an administrator or an operator) gets no portfolio: a login someone
-- forgot to map sees nothing rather than everything.

-- Roles by OID (regrole): a rename keeps the mapping; the rows of a dropped
-- role are ignored, never passed on to a new role of the same name, and
-- cleared by the next grant or revoke (DROP ROLE cannot be hooked).  People
-- read it by name, in antiban.role_portfolios.
CREATE TABLE antiban.role_portfolio_grants (
    role            regrole NOT NULL,
    portfolio_id    bigint NOT NULL REFERENCES antiban.portfolios ON DELETE CASCADE,
    granted_at      timestamptz NOT NULL DEFAULT now(),
    granted_by      name NOT NULL DEFAULT session_user,
    PRIMARY KEY (role, portfolio_id)
);
CREATE INDEX ON antiban.role_portfolio_grants (portfolio_id);
COMMENT ON TABLE antiban.role_portfolio_grants IS
    'The mapping behind antiban.role_portfolios, by role OID. Change it with antiban.grant_portfolio and antiban.revoke_portfolio.';

-- An administrator mapped to portfolios is a tenant's administrator; with no
-- grant left it would administer every portfolio.  So its last grant never
-- goes as a side effect: not by revoke_portfolio, not with its portfolio (ON
-- DELETE CASCADE, when a tenant is retired), not by a DELETE by hand.  Making
-- it global is a decision of its own: REVOKE antiban_admin from it first (or
-- drop the role), then take the grant.
CREATE FUNCTION antiban.keep_admins_mapped() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    who text;
    a record;
BEGIN
    -- every administrator the deleted grants mapped (a grant to a group maps its members)
    FOR a IN SELECT DISTINCT g.oid, g.rolname
             FROM old_rows o JOIN pg_catalog.pg_roles r ON r.oid = o.role::oid
                  JOIN pg_catalog.pg_roles g ON pg_catalog.pg_has_role(g.oid, r.oid, 'MEMBER')
             WHERE NOT g.rolsuper AND pg_catalog.pg_has_role(g.oid, 'antiban_admin', 'MEMBER')
             ORDER BY g.oid LOOP
        -- what maps it still, locked: two transactions taking its last two
        -- grants wait for each other instead of each counting the other's
        PERFORM 1 FROM antiban.role_portfolio_grants k
        WHERE pg_catalog.pg_has_role(a.oid, k.role::oid, 'MEMBER')
        ORDER BY k.role, k.portfolio_id FOR UPDATE;
        IF NOT FOUND THEN
            who := coalesce(who || ', ', '') || a.rolname;
        END IF;
    END LOOP;
    IF who IS NOT NULL THEN
        RAISE EXCEPTION 'the last portfolio of administrator % may not be taken from it', who
            USING ERRCODE = 'restrict_violation',
                  DETAIL = 'An administrator mapped to portfolios administers those only; with none left it would administer every portfolio.',
                  HINT = 'Grant it another portfolio first (antiban.grant_portfolio), or REVOKE antiban_admin FROM it (or DROP ROLE it), then revoke the portfolio or delete it.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.keep_admins_mapped() IS
    'Trigger: refuses (restrict_violation) a change that takes the last portfolio of an administrator mapped to portfolios (revoke_portfolio, the portfolio deleted, a DELETE by hand): it would become global.';
CREATE TRIGGER keep_admins_mapped AFTER DELETE ON antiban.role_portfolio_grants
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION antiban.keep_admins_mapped();

CREATE VIEW antiban.role_portfolios AS
SELECT r.rolname AS role, g.portfolio_id, g.granted_at, g.granted_by
FROM antiban.role_portfolio_grants g JOIN pg_catalog.pg_roles r ON r.oid = g.role::oid;
COMMENT ON VIEW antiban.role_portfolios IS
    'The portfolios a role (and every member of it, and every session it logs in) may send from and see, by the role''s current name (roles dropped since are not shown, and count for no one). With no row at all the install is not restricted; with some, an unmapped app, reader or analyst gets no portfolio. Change it with antiban.grant_portfolio and antiban.revoke_portfolio.';

-- Backends cache the mapping with the numbers: a change reloads every cache.
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.role_portfolio_grants
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();

-- the rows of roles dropped since (no longer anyone's)
CREATE FUNCTION antiban.forget_dropped_roles() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
    DELETE FROM antiban.role_portfolio_grants g
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = g.role::oid)
$$;
COMMENT ON FUNCTION antiban.forget_dropped_roles() IS
    'Delete the antiban.role_portfolio_grants rows of roles that were dropped (they count for no one meanwhile). grant_portfolio and revoke_portfolio call it.';

-- The role antiban's SECURITY DEFINER code acts for: the caller as SET ROLE
-- left it (inside such a function current_user is antiban_owner).
CREATE FUNCTION antiban.caller_role() RETURNS regrole
AS 'MODULE_PATHNAME', 'antiban_caller_role' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.caller_role() IS
    'Internal: the role that called antiban''s SECURITY DEFINER function (the outer user: the session''s role as SET ROLE left it), the one antiban.my_portfolios() judges.';

-- An administrator mapped to portfolios is a tenant's administrator: it must
-- never widen its own scope (revoking its last grant would make it an
-- unmapped, unrestricted admin: fail open) nor narrow or widen another
-- tenant's.  So it may change the mapping only of roles that are restricted
-- now, stay restricted whatever it does (not an administrator, operator,
-- antiban_owner or superuser) and see nothing beyond its own portfolios:
-- the role itself and every member of it, since a grant covers members.
-- An unmapped administrator (and a superuser) changes any mapping.
CREATE FUNCTION antiban.check_mapping_change(target oid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    mine bigint[] := antiban.my_portfolios();
    caller oid := antiban.caller_role();
    own oid[];
    r record;
BEGIN
    IF mine IS NULL OR (SELECT g.rolsuper FROM pg_roles g WHERE g.oid = caller) THEN
        RETURN;
    END IF;
    -- the roles whose rows make the caller's scope: it, its login and the
    -- roles either is a member of (really: superuser status is no membership)
    WITH RECURSIVE up(oid) AS (
        SELECT caller UNION SELECT g.oid FROM pg_roles g WHERE g.rolname = session_user
        UNION
        SELECT m.roleid FROM pg_auth_members m JOIN up u ON m.member = u.oid)
    SELECT array_agg(u.oid) INTO own FROM up u;
    FOR r IN WITH RECURSIVE touched(oid) AS (
                 SELECT target
                 UNION
                 SELECT m.member FROM pg_auth_members m JOIN touched t ON m.roleid = t.oid)
             SELECT g.oid, g.rolname, antiban.portfolios_of(g.rolname) AS scope
             FROM touched t JOIN pg_roles g ON g.oid = t.oid
             ORDER BY g.oid = target DESC, g.rolname LOOP
        IF r.oid = ANY (own)
           OR pg_has_role(r.oid, 'antiban_admin', 'MEMBER') OR pg_has_role(r.oid, 'antiban_owner', 'MEMBER')
           OR coalesce(pg_has_role(r.oid, to_regrole('antiban_dashboard')::oid, 'MEMBER'), false)
           OR r.scope IS NULL OR NOT r.scope <@ mine THEN
            RAISE EXCEPTION 'role % may not change the portfolios of role %', caller::regrole, r.rolname
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = CASE WHEN r.oid = target THEN '' ELSE format('Role %s is a member of role %s. ', r.rolname, target::regrole) END
                               || 'An administrator mapped to portfolios changes the mapping only of the apps, readers and analysts of its own portfolios: never its own, an administrator''s or operator''s, nor a role of another portfolio.',
                      HINT = 'Ask an administrator that is not mapped to portfolios (antiban.my_portfolios() IS NULL).';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.check_mapping_change(oid) IS
    'Internal (grant_portfolio, revoke_portfolio): refuses (insufficient_privilege) an administrator mapped to portfolios changing the mapping of itself, of a role it is a member of, of an administrator, operator, antiban_owner or superuser, of a role not restricted now, or of a role (or member of it) that may use a portfolio beyond the caller''s. Does nothing for an unmapped caller or a superuser.';

-- (for a mapped caller, another portfolio is as unknown as a missing one)
CREATE FUNCTION antiban.grant_portfolio(role name, portfolio text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
#variable_conflict use_variable
DECLARE
    p bigint := (SELECT x.id FROM antiban.portfolios x WHERE x.business_id = portfolio AND antiban.may_use_portfolio(x.id));
    r oid := (SELECT g.oid FROM pg_roles g WHERE g.rolname = role);
BEGIN
    IF r IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', role
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the login role (or a group role for the portfolio''s apps) first.';
    END IF;
    IF p IS NULL THEN
        RAISE EXCEPTION 'unknown portfolio "%"', portfolio
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name it by its business_id, as in antiban.portfolios.';
    END IF;
    PERFORM antiban.check_mapping_change(r);
    PERFORM antiban.forget_dropped_roles();
    INSERT INTO antiban.role_portfolio_grants AS rp (role, portfolio_id) VALUES (r::regrole, p)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION antiban.grant_portfolio(name, text) IS
    'Let a role (and its members) use a portfolio, named by business_id (antiban_admin). From its first grant on, the role sends only from its portfolios'' numbers and sees only their rows, and unmapped apps, readers and analysts see no portfolio. The mapping follows the role through a rename. False when it already had it. An administrator mapped to portfolios grants only its own portfolios (another is unknown), and only to the apps, readers and analysts of its portfolios: never to itself or a role it belongs to, an administrator, an operator, or a role (or member) of another portfolio (insufficient_privilege). The mapping is changed only through this function and revoke_portfolio.';

CREATE FUNCTION antiban.revoke_portfolio(role name, portfolio text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
#variable_conflict use_variable
DECLARE
    p bigint := (SELECT x.id FROM antiban.portfolios x WHERE x.business_id = portfolio
                 AND antiban.may_use_portfolio(x.id));
    r oid := (SELECT g.oid FROM pg_roles g WHERE g.rolname = role);
BEGIN
    IF r IS NULL OR p IS NULL THEN
        RETURN false;
    END IF;
    PERFORM antiban.check_mapping_change(r);
    PERFORM antiban.forget_dropped_roles();
    DELETE FROM antiban.role_portfolio_grants rp WHERE rp.role::oid = r AND rp.portfolio_id = p;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION antiban.revoke_portfolio(name, text) IS
    'Take a portfolio from a role (antiban_admin). A tenant role (app, reader, analyst) whose last grant is revoked then sees no portfolio while other roles are mapped; only once no role is mapped at all is nobody restricted. False when it did not have it. An administrator mapped to portfolios revokes only its own portfolios from the apps, readers and analysts of its portfolios: never its own grants (that would leave it unrestricted), those of a role it belongs to, an administrator''s, an operator''s or those of a role of another portfolio (insufficient_privilege).';

CREATE FUNCTION antiban.my_portfolios() RETURNS bigint[]
AS 'MODULE_PATHNAME', 'antiban_my_portfolios' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.my_portfolios() IS
    'The portfolio ids the current role may use in this session, through antiban.role_portfolios (its own rows and those of the roles it is a member of, and those of the session''s login: both when both are mapped); NULL when it is not restricted. An empty array: none (an unmapped app, reader or analyst once any role is mapped). Superuser status does not count as membership.';

-- Which secrets are set, never their values.  With its owner's rights (no
-- role reads antiban.secrets), so it filters by the caller's portfolios
-- itself: a role mapped to portfolios sees the secrets of its own WABAs
-- only (not another's WABA ids or token lengths, nor the install-wide app
-- secret and verify token).  security_barrier: a caller's function in an
-- outer WHERE runs only on the rows shown.
CREATE VIEW antiban.secrets_status WITH (security_barrier) AS
SELECT s.kind, w.waba_id, s.updated_at, length(s.value) AS length
FROM antiban.secrets s LEFT JOIN antiban.wabas w ON w.id = s.waba_id
WHERE (SELECT antiban.my_portfolios()) IS NULL OR w.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[]);
COMMENT ON VIEW antiban.secrets_status IS
    'Which secrets are set and when, and their length, never their values. A role mapped to portfolios sees its own WABAs'' access tokens only.';

CREATE FUNCTION antiban.caller_number_portfolio(phone_number_id text) RETURNS bigint
AS 'MODULE_PATHNAME', 'antiban_caller_number_portfolio' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.caller_number_portfolio(text) IS
    'The portfolio of a number the caller (the role outside any SECURITY DEFINER function) named, refused (insufficient_privilege) when it is another portfolio''s: antiban''s SQL functions that take a phone_number_id check it here, as the send path does.';

-- The same check for antiban's SQL functions, an administrator's included:
-- true, or insufficient_privilege for another portfolio's number.  Only a
-- restricted caller asks the numbers cache (an unrestricted one may name a
-- number added earlier in its own transaction, which the cache has not seen).
CREATE FUNCTION antiban.may_use_number(phone_number_id text) RETURNS boolean
LANGUAGE sql STABLE
RETURN antiban.my_portfolios() IS NULL OR antiban.caller_number_portfolio(phone_number_id) IS NOT NULL;
COMMENT ON FUNCTION antiban.may_use_number(text) IS
    'Whether the caller may act on this number: true when it is not restricted or the number is of its portfolios; another portfolio''s number is refused (insufficient_privilege, antiban.caller_number_portfolio), as on the send path.';

-- Every entry point that takes the id of something a portfolio owns (a lead,
-- a person, a campaign, a portfolio) asks this before it reads or changes it,
-- and answers a refused id exactly as a missing one, so ids are no oracle.
CREATE FUNCTION antiban.may_use_portfolio(portfolio bigint) RETURNS boolean
LANGUAGE sql STABLE
RETURN antiban.my_portfolios() IS NULL OR coalesce(portfolio = ANY (antiban.my_portfolios()), false);
COMMENT ON FUNCTION antiban.may_use_portfolio(bigint) IS
    'Whether the caller (the role antiban.my_portfolios() judges, also inside antiban''s own functions) may use this portfolio: always when it is not restricted, else only its own portfolios (never NULL).';

-- What belongs to no portfolio (the app secret, the default lead model,
-- every portfolio at once) is an unmapped administrator's: a mapped one (a
-- tenant's administrator) is refused, so it acts on its portfolios only.
CREATE FUNCTION antiban.refuse_install_wide(what text) RETURNS void
AS 'MODULE_PATHNAME', 'antiban_refuse_install_wide' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.refuse_install_wide(text) IS
    'Internal: refuses (insufficient_privilege) a caller mapped to portfolios an action on the whole install or on something of no portfolio (what says which); nothing for an unrestricted caller.';

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
