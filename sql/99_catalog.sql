-- The catalog documents itself: every function, table and view antiban
-- installs says what it is (COMMENT ON), so \df+ and \d+ answer a newcomer,
-- and every function that runs with its owner's rights pins search_path.
SELECT p.oid::regprocedure AS function_without_comment
FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace
  AND obj_description(p.oid, 'pg_proc') IS NULL
ORDER BY 1::text;

SELECT c.oid::regclass AS relation_without_comment, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'antiban'::regnamespace
  AND c.relkind IN ('r', 'v', 'm', 'p')
  -- a partition pg_partman made is its parent's rows: the parent says what they are
  AND NOT c.relispartition
  AND obj_description(c.oid, 'pg_class') IS NULL
ORDER BY 1::text;

SELECT p.oid::regprocedure AS definer_without_pinned_path
FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace
  AND p.prosecdef
  AND NOT coalesce('search_path=pg_catalog, antiban, pg_temp' = ANY (p.proconfig), false)
ORDER BY 1::text;

-- a plan made once and kept (force_generic_plan) must not be a sequential
-- scan chosen while a table was empty (sql/16_webhook_apply_plans)
SELECT p.oid::regprocedure AS generic_plans_that_may_scan
FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace
  AND 'plan_cache_mode=force_generic_plan' = ANY (p.proconfig)
  AND NOT 'enable_seqscan=off' = ANY (p.proconfig)
ORDER BY 1::text;

-- with sequential scans disabled, a plan that still needs one is costed
-- past every JIT threshold: from a session with jit on, it would be
-- compiled at each execution (0.4 s a webhook batch), so JIT goes off too
SELECT p.oid::regprocedure AS scans_disabled_but_jit_allowed
FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace
  AND 'enable_seqscan=off' = ANY (p.proconfig)
  AND NOT 'jit=off' = ANY (p.proconfig)
ORDER BY 1::text;

-- A view that runs with its owner's rights and that a tenant role (reader,
-- app, analyst, agent) may read filters the rows for the caller itself, so it
-- must be a security_barrier view: otherwise a caller's cheap function in an
-- outer WHERE runs below that filter, on every tenant's rows
-- (sql/22_tester14b_leaky_views).  A view that needs none of its owner's
-- rights is security_invoker instead.
CREATE VIEW pg_temp.tenant_views AS
SELECT c.oid::regclass AS view, c.reloptions
FROM pg_class c
WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind = 'v'
  AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
  AND (has_table_privilege('antiban_reader', c.oid, 'SELECT') OR has_table_privilege('antiban_app', c.oid, 'SELECT')
       OR has_table_privilege('antiban_analyst', c.oid, 'SELECT') OR has_table_privilege('antiban_agent', c.oid, 'SELECT'));
SELECT view AS owner_rights_view_without_barrier FROM pg_temp.tenant_views v
WHERE NOT coalesce('security_barrier=true' = ANY (v.reloptions), false)
ORDER BY 1::text;

-- And the barrier must hold in the plan: a cheap, leaky function of every
-- column in an outer WHERE is evaluated only on the view's own output (a
-- barrier on a bare UNION ALL does not hold: the planner flattens it).
CREATE FUNCTION pg_temp.leak(VARIADIC text[]) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS 'BEGIN RETURN true; END';
CREATE FUNCTION pg_temp.leak_below(v regclass) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE format('EXPLAIN (FORMAT JSON, COSTS OFF) SELECT 1 FROM %s x WHERE pg_temp.leak(%s)', v,
                   (SELECT string_agg(format('x.%I::text', a.attname), ', ' ORDER BY a.attnum)
                    FROM pg_attribute a WHERE a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped))
        INTO plan;
    RETURN QUERY
    SELECT coalesce(n ->> 'Node Type', '?') || ' on ' || coalesce(n ->> 'Alias', n ->> 'Relation Name', '?')
    FROM jsonb_path_query(plan, 'strict $.**') n
    WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type' AND (n - 'Plans')::text ~ 'leak\('
      AND NOT (n ->> 'Node Type' = 'Subquery Scan' AND n ->> 'Alias' = 'x');
END
$$;
SELECT v.view AS caller_condition_below_view_filter, l.node
FROM pg_temp.tenant_views v CROSS JOIN LATERAL pg_temp.leak_below(v.view) l(node)
ORDER BY 1::text, 2;
-- the checks can fail: a plain owner-rights view, and a barrier on a bare UNION ALL
CREATE VIEW antiban.leaky_probe AS SELECT n.phone_number_id FROM antiban.numbers n
WHERE (SELECT antiban.my_portfolios()) IS NULL;
CREATE VIEW antiban.leaky_union_probe WITH (security_barrier) AS
SELECT n.phone_number_id FROM antiban.numbers n WHERE (SELECT antiban.my_portfolios()) IS NULL
UNION ALL
SELECT n.phone_number_id FROM antiban.numbers n WHERE (SELECT antiban.my_portfolios()) IS NULL;
GRANT SELECT ON antiban.leaky_probe, antiban.leaky_union_probe TO antiban_reader;
SELECT view AS owner_rights_view_without_barrier FROM pg_temp.tenant_views v
WHERE NOT coalesce('security_barrier=true' = ANY (v.reloptions), false)
ORDER BY 1::text;
SELECT v.view AS caller_condition_below_view_filter, l.node
FROM pg_temp.tenant_views v CROSS JOIN LATERAL pg_temp.leak_below(v.view) l(node)
ORDER BY 1::text, 2;
DROP VIEW antiban.leaky_probe, antiban.leaky_union_probe;

-- the checks can fail: a function created without a comment is found
CREATE FUNCTION antiban.undocumented_probe() RETURNS int LANGUAGE sql RETURN 1;
SELECT p.oid::regprocedure AS function_without_comment
FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace
  AND obj_description(p.oid, 'pg_proc') IS NULL;
DROP FUNCTION antiban.undocumented_probe();
