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

-- the checks can fail: a function created without a comment is found
CREATE FUNCTION antiban.undocumented_probe() RETURNS int LANGUAGE sql RETURN 1;
SELECT p.oid::regprocedure AS function_without_comment
FROM pg_proc p
WHERE p.pronamespace = 'antiban'::regnamespace
  AND obj_description(p.oid, 'pg_proc') IS NULL;
DROP FUNCTION antiban.undocumented_probe();
