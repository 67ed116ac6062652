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
    parents text;
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
    -- (antiban.webhook_events reads them with the reader's rights)
    ALTER TABLE antiban.webhook_posts ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.webhook_posts USING (%s)', scope);
    ALTER TABLE antiban.webhook_outcomes ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.webhook_outcomes USING (%s)', scope);
    -- A number is its WABA's; the rows below hang off a number by its id.
    ALTER TABLE antiban.numbers ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.numbers USING (%s OR waba_id IN (SELECT w.id FROM antiban.wabas w))', scope);
    -- Scores are a lead's (a conversation is a lead): through antiban.leads,
    -- which readers may read (lead_features, the key's parent, they may not).
    ALTER TABLE antiban.lead_scores ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.lead_scores USING (%s OR conversation_id IN (SELECT l.id FROM antiban.leads l))', scope);
    -- Every other table that reaches a portfolio through another key (a
    -- foreign key to a scoped table, or a column named as below) sees the
    -- rows whose parent the role sees, through the parent's own policy.
    -- Generic too, so a table added later with such a key is covered.  The
    -- parents are read in uncorrelated sub-selects (a hashed subplan, run
    -- once per statement), never per row.  A row whose keys are all NULL
    -- (a bucket of no number) is no restricted role's.
    FOR t IN SELECT c.oid::regclass AS rel, c.relname FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
               AND c.relname NOT IN ('role_portfolios', 'secrets') LOOP
        SELECT string_agg(k.expr, ' OR ' ORDER BY k.expr) INTO parents FROM (
            -- a one-column foreign key to a table with row-level security
            SELECT format('%I IN (SELECT p.%I FROM antiban.%I p)', a.attname, pa.attname, pc.relname) AS expr
            FROM pg_constraint f
            JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = f.conkey[1]
            JOIN pg_attribute pa ON pa.attrelid = f.confrelid AND pa.attnum = f.confkey[1]
            JOIN pg_class pc ON pc.oid = f.confrelid
            WHERE f.conrelid = t.rel AND f.contype = 'f' AND cardinality(f.conkey) = 1 AND pc.relrowsecurity
              AND pc.relnamespace = 'antiban'::regnamespace
            UNION
            -- a key by name, with no foreign key (logs that outlive their parent)
            SELECT format('%I IN (SELECT p.%I FROM antiban.%I p)', a.attname, m.parent_key, m.parent)
            FROM pg_attribute a
            JOIN (VALUES ('campaign_id', 'campaigns', 'id', 'int8'), ('contact_id', 'contacts', 'id', 'int8'),
                         ('lead_id', 'leads', 'id', 'int8'), ('conversation_id', 'leads', 'id', 'int8'),
                         ('person_id', 'persons', 'id', 'int8'), ('outbox_id', 'outbox', 'id', 'int8'),
                         ('message_id', 'outbox', 'id', 'int8'), ('agent_id', 'agents', 'id', 'int8'),
                         ('number_id', 'numbers', 'id', 'int8'), ('phone_number_id', 'numbers', 'phone_number_id', 'text'),
                         ('waba_id', 'wabas', 'id', 'int8'), ('waba_id', 'wabas', 'waba_id', 'text'))
                 AS m(col, parent, parent_key, typ)
              ON m.col = a.attname AND a.atttypid = m.typ::regtype
            WHERE a.attrelid = t.rel AND a.attnum > 0 AND NOT a.attisdropped
        ) k;
        IF parents IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.rel);
            EXECUTE format('CREATE POLICY portfolio_scope ON %s USING (%s OR %s)', t.rel, scope, parents);
        END IF;
    END LOOP;
    -- What webhooks applied, by a subject or a key with no portfolio column:
    -- event_order names a WABA, a number, a template (by its WABA) or a
    -- portfolio in its subject ('waba <id> ...', 'number <id> quality',
    -- 'template <waba id> ...', 'portfolio <business id> messaging_limit'),
    -- so a mapped role sees the rows of its own (the parents read under
    -- their own policies); webhook_changes holds only a hash of the change
    -- and the raw event it came from, which is not routed to a portfolio
    -- (as webhook_events): mapped roles see none.
    ALTER TABLE antiban.event_order ENABLE ROW LEVEL SECURITY;
    EXECUTE format($p$CREATE POLICY portfolio_scope ON antiban.event_order USING (%s OR
        CASE split_part(subject, ' ', 1)
            WHEN 'waba' THEN split_part(subject, ' ', 2) IN (SELECT w.waba_id FROM antiban.wabas w)
            WHEN 'template' THEN split_part(subject, ' ', 2) IN (SELECT w.waba_id FROM antiban.wabas w)
            WHEN 'number' THEN split_part(subject, ' ', 2) IN (SELECT n.phone_number_id FROM antiban.numbers n)
            WHEN 'portfolio' THEN split_part(subject, ' ', 2) IN (SELECT p.business_id FROM antiban.portfolios p)
            ELSE false END)$p$, scope);
    ALTER TABLE antiban.webhook_changes ENABLE ROW LEVEL SECURITY;
    EXECUTE format('CREATE POLICY portfolio_scope ON antiban.webhook_changes USING (%s)', scope);
    -- antiban's own code sees every row, with no filter at all: a policy that
    -- is constant true folds away, so the workers' and decide's queries keep
    -- their index scans (enum comparisons are not leakproof: behind a row
    -- filter they could not use the outbox's partial indexes)
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p')
               AND (c.relrowsecurity OR c.relname IN ('portfolios', 'interactions', 'decisions', 'alerts', 'webhook_posts', 'webhook_outcomes'))
               AND c.relname <> 'role_portfolios' LOOP
        EXECUTE format('CREATE POLICY antiban_owner_all ON %s TO antiban_owner USING (true)', t.rel);
    END LOOP;
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
-- out (enum comparisons are not leakproof).  Those filter by the caller's
-- portfolios themselves (88_dashboard.sql): an operator with no mapping sees
-- the whole install, a tenant's BI its own portfolios.  Every one of them is
-- a security_barrier view, so a caller's function in an outer WHERE never
-- runs below that filter (sql/99_catalog checks every such view).
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

-- Two panels of the operator's dashboard need none of their owner's rights:
-- with the reader's, a tenant's BI sees its own portfolios' leads and costs
-- there too.  The other dashboard_* views, outbox_live and prometheus_metrics
-- filter by antiban.my_portfolios() themselves (88_dashboard.sql).
ALTER VIEW antiban.dashboard_leads SET (security_invoker = true);
ALTER VIEW antiban.dashboard_costs SET (security_invoker = true);
