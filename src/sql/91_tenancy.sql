-- Row-level security: a role mapped to portfolios (antiban.role_portfolios)
-- sees and changes only the rows of its portfolios, and so does every
-- session it logs in, whatever role that SETs.  A role with no mapping sees
-- everything: single-tenant installs, antiban_admin, antiban_owner
-- (antiban's own code) and the workers; an unmapped app, reader or analyst
-- sees nothing once any role is mapped (11_tenancy.sql).  The table owner
-- bypasses RLS (not FORCEd), and so do superusers.
--
-- Generic on purpose: every antiban table with a portfolio_id column gets the
-- same policy when this script runs, so a table added later is covered
-- without a line here.  The mapping is read once per statement: the policy
-- calls antiban.portfolios_of() in an uncorrelated sub-select (an initplan),
-- never per row.

-- C, from the backend's cached mapping (tenancy.c): the scope of a role in
-- this session, the login's mapping included, so that SET ROLE to a group
-- the login belongs to changes nothing.  Not SECURITY DEFINER: they answer
-- only about the caller's own roles (current, outer, session), or for an
-- administrator about any.
CREATE FUNCTION antiban.portfolios_of(who name) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'antiban_portfolios_of' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.portfolios_of(name) IS
    'The portfolio ids a role may see and use in this session (its rows of antiban.role_portfolios, those of the roles it is a member of, and the session login''s: both when both are mapped); NULL when it is not restricted, empty for an unmapped app, reader or analyst once any role is mapped. Only about the caller''s own roles, unless the caller is an administrator. The row-level security policies call it once per statement with current_user.';

CREATE FUNCTION antiban.phone_numbers_of(who name) RETURNS text[]
AS 'MODULE_PATHNAME', 'antiban_phone_numbers_of' LANGUAGE C STABLE;
COMMENT ON FUNCTION antiban.phone_numbers_of(name) IS
    'The phone_number_ids of the portfolios antiban.portfolios_of(who) gives (NULL when none or when it is not restricted); the policies on decisions and alerts call it once per statement with current_user.';
REVOKE ALL ON FUNCTION antiban.portfolios_of(name), antiban.phone_numbers_of(name) FROM PUBLIC;
-- every role that reads a table with a policy evaluates it
GRANT EXECUTE ON FUNCTION antiban.portfolios_of(name), antiban.phone_numbers_of(name)
    TO antiban_owner, antiban_reader, antiban_receiver, antiban_agent;

DO $$
DECLARE
    t record;
    scope constant text := '(SELECT antiban.portfolios_of(current_user)) IS NULL';
BEGIN
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p')
               AND a.attname = 'portfolio_id' AND NOT a.attisdropped
               -- the mapping itself: the policies read it (admins only)
               AND c.relname NOT IN ('role_portfolios', 'role_portfolio_grants') LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.rel);
        EXECUTE format('CREATE POLICY portfolio_scope ON %s USING (%s OR portfolio_id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]))',
                       t.rel, scope);
    END LOOP;
    -- antiban's own code sees every row, with no filter at all: a policy that
    -- is constant true folds away, so the workers' and decide's queries keep
    -- their index scans (enum comparisons are not leakproof: behind a row
    -- filter they could not use the outbox's partial indexes)
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p')
               AND (c.relrowsecurity OR c.relname IN ('portfolios', 'interactions', 'decisions', 'alerts', 'webhook_events'))
               AND c.relname <> 'role_portfolios' LOOP
        EXECUTE format('CREATE POLICY antiban_owner_all ON %s TO antiban_owner USING (true)', t.rel);
    END LOOP;
    -- the portfolios themselves, and what hangs off a row that has a portfolio
    ALTER TABLE antiban.portfolios ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.portfolios USING (%s OR id = ANY ((SELECT antiban.portfolios_of(current_user))::bigint[]))', scope);
    ALTER TABLE antiban.interactions ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.interactions USING (%s OR contact_id IN (SELECT c.id FROM antiban.contacts c))', scope);
    -- rows that name a number: those of the role's portfolios' numbers
    ALTER TABLE antiban.decisions ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.decisions USING (%s OR phone_number_id = ANY ((SELECT antiban.phone_numbers_of(current_user))::text[]))', scope);
    ALTER TABLE antiban.alerts ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.alerts USING (%s OR phone_number_id = ANY ((SELECT antiban.phone_numbers_of(current_user))::text[])'
                   ' OR waba_id IN (SELECT w.waba_id FROM antiban.wabas w))', scope);
    -- raw webhook bodies are not routed to a portfolio: restricted roles see none
    ALTER TABLE antiban.webhook_events ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.webhook_events USING (%s)', scope);
END
$$;

-- Two views read tables readers had no SELECT on; with the reader's rights
-- they need it (the same rows the views showed, now scoped).
GRANT SELECT ON antiban.recipient_reach, antiban.recipient_facts, antiban.lead_models TO antiban_reader;

-- Views run with the rights of their owner, which bypasses RLS: every view a
-- reader may query runs with the reader's rights instead (PostgreSQL 15's
-- security_invoker), so it shows the reader's portfolios only: each view
-- that reads a table with a policy, or such a view, directly or through
-- others.  Not the views that exist to show less than their tables
-- (secrets_status, my_leads), nor the operator's dashboard (dashboard_*,
-- outbox_live, prometheus_metrics): counts for the whole install, estimated
-- from pg_stats (which hides a table under RLS from all but its owner), and
-- read through the outbox's partial indexes, which a row filter would rule
-- out (enum comparisons are not leakproof).  Grant antiban_dashboard to
-- operators, not to a tenant's BI.
DO $$
DECLARE
    v record;
    changed boolean := true;
BEGIN
    WHILE changed LOOP
        changed := false;
        FOR v IN SELECT DISTINCT c.oid::regclass AS rel FROM pg_class c
                 JOIN pg_rewrite r ON r.ev_class = c.oid
                 JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
                 JOIN pg_class u ON u.oid = d.refobjid
                 WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind = 'v'
                   AND c.relname NOT IN ('secrets_status', 'my_leads', 'prometheus_metrics', 'outbox_live')
                   AND c.relname NOT LIKE 'dashboard\_%'
                   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
                   AND (u.relrowsecurity OR coalesce('security_invoker=true' = ANY (u.reloptions), false)) LOOP
            EXECUTE format('ALTER VIEW %s SET (security_invoker = true)', v.rel);
            changed := true;
        END LOOP;
    END LOOP;
END
$$;
