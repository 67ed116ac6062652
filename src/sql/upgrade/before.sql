-- antiban upgrade, first part: keep the data, drop the code.
--
-- The upgrade script is this file, then the whole install script of the new
-- version (src/sql/*.sql, as CREATE EXTENSION runs it), then after.sql.  So
-- an upgraded database and a fresh one are built by the same statements and
-- have the same catalog (TAP 080_upgrade compares them), and no upgrade
-- script has to repeat, by hand, every change a version made.
--
-- Here every table and type of the old version moves, with its rows,
-- indexes and sequences, to the schema antiban_previous; every function,
-- view and other object left in antiban is dropped (with the triggers and
-- column defaults of the moved tables that call them).  after.sql copies
-- the rows into the new tables and drops antiban_previous.

CREATE SCHEMA antiban_previous;

DO $upgrade$
DECLARE
    o record;
BEGIN
    -- views first: they depend on the tables that move
    -- (a CASCADE may already have dropped an object later in a list: names, IF EXISTS)
    FOR o IN SELECT c.relname, c.relkind FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('v', 'm') LOOP
        EXECUTE format('DROP %s IF EXISTS antiban.%I CASCADE',
                       CASE o.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, o.relname);
    END LOOP;
    FOR o IN SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('r', 'p') LOOP
        EXECUTE format('ALTER TABLE antiban.%I SET SCHEMA antiban_previous', o.relname);
    END LOOP;
    -- enums, domains and composite types (not the row types of the tables just moved)
    FOR o IN SELECT t.typname, t.typtype FROM pg_type t
             WHERE t.typnamespace = 'antiban'::regnamespace AND t.typtype IN ('e', 'd', 'c')
               AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c') LOOP
        EXECUTE format('ALTER %s antiban.%I SET SCHEMA antiban_previous',
                       CASE o.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, o.typname);
    END LOOP;
    FOR o IN SELECT p.oid, p.prokind FROM pg_proc p
             WHERE p.pronamespace = 'antiban'::regnamespace LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_proc WHERE oid = o.oid);
        EXECUTE format('DROP %s %s CASCADE',
                       CASE o.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                       o.oid::regprocedure);
    END LOOP;
    FOR o IN SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind = 'S' LOOP
        EXECUTE format('DROP SEQUENCE IF EXISTS antiban.%I CASCADE', o.relname);
    END LOOP;
    FOR o IN SELECT cfg.cfgname FROM pg_ts_config cfg
             WHERE cfg.cfgnamespace = 'antiban'::regnamespace LOOP
        EXECUTE format('DROP TEXT SEARCH CONFIGURATION IF EXISTS antiban.%I CASCADE', o.cfgname);
    END LOOP;
    FOR o IN SELECT d.dictname FROM pg_ts_dict d WHERE d.dictnamespace = 'antiban'::regnamespace LOOP
        EXECUTE format('DROP TEXT SEARCH DICTIONARY IF EXISTS antiban.%I CASCADE', o.dictname);
    END LOOP;
    FOR o IN SELECT t.tmplname FROM pg_ts_template t WHERE t.tmplnamespace = 'antiban'::regnamespace LOOP
        EXECUTE format('DROP TEXT SEARCH TEMPLATE IF EXISTS antiban.%I CASCADE', o.tmplname);
    END LOOP;
END
$upgrade$;

-- ---- the new version's install script follows ----
