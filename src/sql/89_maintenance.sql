-- Maintenance with pg_cron: retention, daily rollups, lease housekeeping,
-- vacuum, lead model retraining.  antiban does not need pg_cron to install:
-- antiban.schedule_maintenance() installs named jobs where pg_cron is there,
-- and says what to do where it is not.  Settings live in antiban.settings.
--
-- The jobs run as the role that scheduled them (pg_cron's rule).  Their
-- functions write as antiban_owner (SECURITY DEFINER), so an unmapped
-- administrator's login may schedule them; only the role that owns antiban's
-- tables (the one that ran CREATE EXTENSION) also drops whole old partitions
-- and vacuums, which PostgreSQL leaves to owners.

-- ---- retention ----

-- Drop the range partitions of tbl on time_column that lie wholly before
-- cutoff and that the caller may drop (their owner, or a member of it): a
-- DROP needs ownership, which neither antiban_owner nor an administrator has.
-- Rows of the partitions left are deleted by row (delete_old_rows).
CREATE FUNCTION antiban.drop_old_partitions(tbl regclass, time_column text, cutoff timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    leaf record;
    upper_bound text;
    dropped integer := 0;
BEGIN
    IF pg_get_partkeydef(tbl) IS DISTINCT FROM format('RANGE (%s)', quote_ident(time_column)) THEN
        RETURN 0;
    END IF;
    FOR leaf IN SELECT t.relid, pg_get_expr(c.relpartbound, c.oid) AS bound
                FROM pg_partition_tree(tbl) t JOIN pg_class c ON c.oid = t.relid
                WHERE t.isleaf AND t.relid <> tbl AND pg_has_role(c.relowner, 'USAGE')
    LOOP
        upper_bound := substring(leaf.bound FROM 'TO \(''([^'']*)''\)');
        IF upper_bound IS NOT NULL AND upper_bound::timestamptz <= cutoff THEN
            EXECUTE format('DROP TABLE %s', leaf.relid::regclass);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION antiban.drop_old_partitions(regclass, text, timestamptz) IS
    'Drop the range partitions of tbl on time_column wholly before cutoff that the calling role owns (directly or as a member); returns how many. The others stay, for delete_old_rows to empty by row.';

-- Delete rows older than cutoff from a table, in short batches: per leaf
-- partition (or the table itself) by ctid, so each DELETE reads only the
-- rows it removes.  A range partition on time_column whose upper bound is
-- at or before cutoff is dropped whole instead, when the caller may drop it
-- (only when no extra condition restricts which old rows may go).
CREATE FUNCTION antiban.delete_old_rows(tbl regclass, time_column text, cutoff timestamptz,
    extra_condition text DEFAULT NULL, max_rows bigint DEFAULT NULL, batch_rows integer DEFAULT NULL,
    OUT deleted bigint, OUT partitions_dropped integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    leaf record;
    n bigint;
    target text;
    this_leaf text;
    batch integer := coalesce(batch_rows, antiban.setting('retention.batch_rows')::integer);
    most bigint := coalesce(max_rows, antiban.setting('retention.max_rows_per_run')::bigint);
BEGIN
    deleted := 0;
    partitions_dropped := 0;
    IF extra_condition IS NULL THEN
        partitions_dropped := antiban.drop_old_partitions(tbl, time_column, cutoff);
    END IF;
    -- the table's leaves (pg_partition_tree lists none for a plain table)
    FOR leaf IN SELECT t.relid FROM pg_partition_tree(tbl) t WHERE t.isleaf
                UNION SELECT tbl WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(tbl))
                ORDER BY 1 LOOP
        -- a partition made after the install (pg_partman's, by hand) has
        -- none of the parent's grants: reach its rows through the parent,
        -- whose rights count for them (antiban_owner's, for apply_retention)
        IF has_table_privilege(leaf.relid, 'DELETE') THEN
            target := format('ONLY %s', leaf.relid::regclass);
            this_leaf := '';
        ELSE
            target := tbl::text;
            this_leaf := format(' AND tableoid = %s', leaf.relid::oid);
        END IF;
        LOOP
            EXIT WHEN deleted >= most;
            EXECUTE format('DELETE FROM %1$s WHERE ctid = ANY (ARRAY(SELECT ctid FROM %1$s WHERE %2$I < $1%3$s%4$s LIMIT $2))%4$s',
                           target, time_column,
                           CASE WHEN extra_condition IS NULL THEN '' ELSE ' AND (' || extra_condition || ')' END,
                           this_leaf)
                USING cutoff, least(batch, most - deleted);
            GET DIAGNOSTICS n = ROW_COUNT;
            deleted := deleted + n;
            EXIT WHEN n < batch;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.delete_old_rows(regclass, text, timestamptz, text, bigint, integer) IS
    'Delete rows whose time_column is before cutoff (and extra_condition holds) in batches of batch_rows, at most max_rows per call (defaults: antiban.settings retention.*); old range partitions on that column are dropped whole when there is no extra condition.';

-- What retention applies to: each table, its time column, which rows may go
-- (NULL: every old row) and the antiban.settings retention.* that says how old.
CREATE FUNCTION antiban.retention_tables()
RETURNS TABLE (what text, tbl regclass, time_column text, extra_condition text, cutoff timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT x.name, x.tbl, x.col, x.extra, antiban.now() - antiban.setting_interval('retention.' || x.setting)
    FROM (VALUES
        -- partitioned: old partitions are dropped whole, only the
        -- default partition's old rows are deleted
        ('webhook_events', 'antiban.webhook_posts'::regclass, 'received_at', NULL::text, 'webhook_events'),
        ('webhook_outcomes', 'antiban.webhook_outcomes'::regclass, 'received_at', NULL, 'webhook_events'),
        ('webhook_digests', 'antiban.webhook_digests'::regclass, 'received_at', NULL, 'webhook_events'),
        ('decisions', 'antiban.decisions'::regclass, 'decided_at', NULL, 'decisions'),
        ('health_events', 'antiban.health_events'::regclass, 'at', NULL, 'health_events'),
        ('send_minutes', 'antiban.send_minutes'::regclass, 'minute', NULL, 'send_minutes'),
        -- only what Meta confirmed: failed, unknown or waiting rows stay
        ('delivered_outbox', 'antiban.outbox'::regclass, 'created_at',
         $c$state IN ('delivered', 'read') AND coalesce(read_at, delivered_at) < $1$c$, 'delivered_outbox'))
        AS x(name, tbl, col, extra, setting)
$$;
COMMENT ON FUNCTION antiban.retention_tables() IS
    'The tables antiban.apply_retention() thins: name, table, time column, which old rows may go (NULL: all) and the cutoff antiban.settings retention.* gives now.';

-- The rows: as antiban_owner (an administrator has no right to delete
-- them), each table's old rows in bounded batches.  Partitions antiban_owner
-- does not own are not dropped here: apply_retention dropped those its
-- caller owns first.
CREATE FUNCTION antiban.delete_retained_rows()
RETURNS TABLE (what text, cutoff timestamptz, deleted bigint, partitions_dropped integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    t record;
    r record;
BEGIN
    PERFORM antiban.refuse_install_wide('apply retention to every portfolio''s rows');
    -- the sends rollup first: its log is short, so its retention is too
    PERFORM antiban.fold_send_minutes();
    FOR t IN SELECT * FROM antiban.retention_tables() LOOP
        what := t.what;
        cutoff := t.cutoff;
        SELECT * INTO r FROM antiban.delete_old_rows(t.tbl, t.time_column, t.cutoff, t.extra_condition);
        deleted := r.deleted;
        partitions_dropped := r.partitions_dropped;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.delete_retained_rows() IS
    'Internal to antiban.apply_retention(): folds sends per minute and deletes each antiban.retention_tables() table''s old rows in bounded batches, as antiban_owner.';

-- Runs as the caller so that the tables' owner (the role that ran CREATE
-- EXTENSION, as whom it schedules the antiban-retention job) drops whole old
-- partitions, which only an owner may; the rows are deleted as antiban_owner,
-- so any unmapped administrator may run it.
CREATE FUNCTION antiban.apply_retention()
RETURNS TABLE (what text, cutoff timestamptz, deleted bigint, partitions_dropped integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    dropped jsonb := '{}';
    t record;
BEGIN
    PERFORM antiban.refuse_install_wide('apply retention to every portfolio''s rows');
    FOR t IN SELECT * FROM antiban.retention_tables() WHERE extra_condition IS NULL LOOP
        dropped := dropped || jsonb_build_object(t.what, antiban.drop_old_partitions(t.tbl, t.time_column, t.cutoff));
    END LOOP;
    RETURN QUERY
        SELECT d.what, d.cutoff, d.deleted, d.partitions_dropped + coalesce((dropped ->> d.what)::integer, 0)
        FROM antiban.delete_retained_rows() d;
END
$$;
COMMENT ON FUNCTION antiban.apply_retention() IS
    'Delete what antiban.settings retention.* says is old enough: webhook events (old partitions dropped whole when the caller owns them, as the role that ran CREATE EXTENSION does; otherwise their rows are deleted; see antiban.manage_partitions) and their digests, decisions, health events, sends per minute and delivered or read outbox rows (their costs stay in antiban.message_costs, their counts in antiban.daily_rollups and antiban.send_minutes). Bounded per run (retention.max_rows_per_run per table); the pg_cron job runs it every 10 minutes.';

-- ---- daily rollups ----

CREATE TABLE antiban.daily_rollups (
    day              date NOT NULL,
    phone_number_id  text NOT NULL,
    currency         char(3) NOT NULL,
    sent             bigint NOT NULL,
    delivered        bigint NOT NULL,
    read             bigint NOT NULL,
    failed           bigint NOT NULL,
    failed_by_code   jsonb NOT NULL,
    billed           bigint NOT NULL,
    cost             numeric(16, 6),
    rolled_up_at     timestamptz NOT NULL,
    PRIMARY KEY (day, phone_number_id)
);
COMMENT ON TABLE antiban.daily_rollups IS
    'Per sending number and day (its WABA''s local day): messages sent, delivered, read, failed (and failed per error code), billed, and their cost in the WABA''s currency. Kept after retention deletes the outbox rows they count.';

-- SECURITY DEFINER: an administrator runs it (or schedules the job) without
-- rights on daily_rollups; it still refuses a mapped one (refuse_install_wide
-- looks at the outer user).
CREATE FUNCTION antiban.roll_up_days(since date DEFAULT NULL, until date DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    first_day date;
    last_day date := coalesce(until, antiban.now()::date + 1);
    written integer;
BEGIN
    PERFORM antiban.refuse_install_wide('roll up every portfolio''s days');
    -- never recount a day whose outbox rows retention may already have deleted
    first_day := greatest(coalesce(since, antiban.now()::date - 1),
                          (antiban.now() - antiban.setting_interval('retention.delivered_outbox'))::date + 2);
    WITH events AS (
        SELECT n.phone_number_id, w.currency, w.timezone, o.sent_at, o.delivered_at, o.read_at, o.failed_at, o.error_code
        FROM antiban.outbox o JOIN antiban.numbers n ON n.id = o.number_id JOIN antiban.wabas w ON w.id = n.waba_id
        WHERE o.sent_at >= first_day - 1 OR o.failed_at >= first_day - 1
    ), per_event AS (
        SELECT phone_number_id, currency, (sent_at AT TIME ZONE timezone)::date AS day, 'sent' AS what, NULL::integer AS code
        FROM events WHERE sent_at IS NOT NULL
        UNION ALL
        -- a message read without a delivered status was delivered
        SELECT phone_number_id, currency, (coalesce(delivered_at, read_at) AT TIME ZONE timezone)::date, 'delivered', NULL
        FROM events WHERE coalesce(delivered_at, read_at) IS NOT NULL
        UNION ALL
        SELECT phone_number_id, currency, (read_at AT TIME ZONE timezone)::date, 'read', NULL FROM events WHERE read_at IS NOT NULL
        UNION ALL
        SELECT phone_number_id, currency, (failed_at AT TIME ZONE timezone)::date, 'failed', error_code FROM events WHERE failed_at IS NOT NULL
    ), counts AS (
        SELECT e.phone_number_id, e.day, min(e.currency) AS currency,
               count(*) FILTER (WHERE e.what = 'sent') AS sent,
               count(*) FILTER (WHERE e.what = 'delivered') AS delivered,
               count(*) FILTER (WHERE e.what = 'read') AS read,
               count(*) FILTER (WHERE e.what = 'failed') AS failed
        FROM per_event e WHERE e.day >= first_day AND e.day < last_day
        GROUP BY 1, 2
    ), codes AS (
        SELECT x.phone_number_id, x.day, jsonb_object_agg(x.code, x.n) AS by_code
        FROM (SELECT e.phone_number_id, e.day, coalesce(e.code::text, 'none') AS code, count(*) AS n
              FROM per_event e WHERE e.what = 'failed' AND e.day >= first_day AND e.day < last_day
              GROUP BY 1, 2, 3) x
        GROUP BY 1, 2
    ), money AS (
        SELECT mc.phone_number_id, mc.local_date AS day, count(*) FILTER (WHERE mc.charged) AS billed, sum(mc.cost) AS cost
        FROM antiban.message_costs mc WHERE mc.local_date >= first_day AND mc.local_date < last_day
        GROUP BY 1, 2
    ), upserted AS (
        INSERT INTO antiban.daily_rollups AS d (day, phone_number_id, currency, sent, delivered, read, failed,
                                                failed_by_code, billed, cost, rolled_up_at)
        SELECT c.day, c.phone_number_id, c.currency, c.sent, c.delivered, c.read, c.failed,
               coalesce(k.by_code, '{}'), coalesce(m.billed, 0), coalesce(m.cost, 0), antiban.now()
        FROM counts c LEFT JOIN codes k USING (phone_number_id, day) LEFT JOIN money m USING (phone_number_id, day)
        ON CONFLICT (day, phone_number_id) DO UPDATE SET
            currency = excluded.currency, sent = excluded.sent, delivered = excluded.delivered, read = excluded.read,
            failed = excluded.failed, failed_by_code = excluded.failed_by_code, billed = excluded.billed,
            cost = excluded.cost, rolled_up_at = excluded.rolled_up_at
        RETURNING 1)
    SELECT count(*) INTO written FROM upserted;
    RETURN written;
END
$$;
COMMENT ON FUNCTION antiban.roll_up_days(date, date) IS
    'Count each number''s days in [since, until) (default: yesterday and today) into antiban.daily_rollups; days retention may have thinned are never recounted. Returns the rows written.';

CREATE VIEW antiban.number_days AS
SELECT d.day, d.phone_number_id, w.waba_id, d.sent, d.delivered, d.read, d.failed, d.failed_by_code,
       round(d.delivered::numeric / nullif(d.sent, 0), 4) AS delivery_rate, d.billed, d.cost, d.currency,
       round(d.cost / nullif(d.delivered, 0), 6) AS cost_per_delivered
FROM antiban.daily_rollups d
LEFT JOIN antiban.numbers n ON n.phone_number_id = d.phone_number_id
LEFT JOIN antiban.wabas w ON w.id = n.waba_id;
COMMENT ON VIEW antiban.number_days IS
    'Each number''s days from antiban.daily_rollups: sent, delivered, read, failed (per error code), delivery rate, billed messages and cost in its currency.';

-- ---- vacuum ----

CREATE VIEW antiban.vacuum_hints AS
SELECT s.relid::regclass AS table_name, s.n_live_tup, s.n_dead_tup,
       round(s.n_dead_tup::numeric / greatest(s.n_live_tup + s.n_dead_tup, 1), 3) AS dead_share,
       s.n_mod_since_analyze, s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       CASE WHEN s.n_dead_tup > 10000 AND s.n_dead_tup > 0.2 * s.n_live_tup
                THEN format('VACUUM (ANALYZE) %s', s.relid::regclass)
            WHEN s.n_mod_since_analyze > 10000 AND s.n_mod_since_analyze > 0.1 * s.n_live_tup
                THEN format('ANALYZE %s', s.relid::regclass)
       END AS hint
FROM pg_catalog.pg_stat_user_tables s
WHERE s.relid IN ('antiban.outbox'::regclass, 'antiban.decisions'::regclass,
                  'antiban.message_costs'::regclass, 'antiban.tier_volumes'::regclass,
                  'antiban.webhook_changes'::regclass, 'antiban.send_errors'::regclass,
                  'antiban.webhook_digests'::regclass, 'antiban.send_minute_changes'::regclass,
                  'antiban.webhook_outcomes'::regclass)
   -- a partitioned table has no statistics of its own: its partitions do
   OR s.relid IN (SELECT p.relid FROM pg_catalog.pg_partition_tree('antiban.webhook_posts') p WHERE p.isleaf);
COMMENT ON VIEW antiban.vacuum_hints IS
    'antiban''s hot tables with their dead rows and changes since the last analyze, and the command to run when autovacuum lags (more than 20 % dead rows, or 10 % changed since ANALYZE). The antiban-vacuum job runs VACUUM (ANALYZE) on them nightly.';

-- ---- the jobs ----

CREATE FUNCTION antiban.maintenance_jobs()
RETURNS TABLE (job_name text, schedule text, command text, description text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM (VALUES
        ('antiban-retention', '*/10 * * * *', 'SELECT count(*) FROM antiban.apply_retention()',
         'deletes old webhook events, decisions, health events and delivered outbox rows (antiban.settings retention.*), in short batches'),
        ('antiban-rollups', '5 * * * *', 'SELECT antiban.roll_up_days()',
         'counts yesterday and today per number into antiban.daily_rollups'),
        ('antiban-leases', '* * * * *', 'SELECT antiban.reconcile_unconfirmed()',
         'settles messages whose sending lease expired, as the senders do: after antiban.unconfirmed_grace, antiban.on_unconfirmed'),
        ('antiban-vacuum', '30 3 * * *',
         'VACUUM (ANALYZE) antiban.outbox, antiban.webhook_posts, antiban.webhook_outcomes, antiban.decisions, antiban.message_costs, antiban.webhook_changes',
         'vacuums and analyzes the hot tables at night (see antiban.vacuum_hints)')
    ) AS j(job_name, schedule, command, description)
    -- pg_partman's upkeep of the partitioned tables, where it is installed
    UNION ALL
    SELECT 'antiban-partitions', '17 * * * *', 'SELECT antiban.manage_partitions()',
           'makes next months'' partitions of antiban.webhook_posts ahead of time and drops those past retention.webhook_events (pg_partman)'
    WHERE EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_partman')
    -- FOR THE LEADS WORK: the nightly retraining job appears once its function exists.
    UNION ALL
    SELECT 'antiban-lead-model', '15 2 * * *', 'SELECT antiban.train_lead_model()',
           'retrains the lead model on the day''s outcomes'
    WHERE to_regprocedure('antiban.train_lead_model()') IS NOT NULL
$$;
COMMENT ON FUNCTION antiban.maintenance_jobs() IS
    'The pg_cron jobs antiban.schedule_maintenance() installs: name, schedule (cron syntax, at least a minute apart), command and what it does.';

-- Checks in that order because to_regclass of a schema the role may not use
-- is an error, not NULL.
CREATE FUNCTION antiban.require_pg_cron() RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in database %', current_database()
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'antiban''s maintenance jobs are pg_cron jobs; antiban itself runs without them.',
                  HINT = format('Add pg_cron to shared_preload_libraries, set cron.database_name = %L and restart, then CREATE EXTENSION pg_cron here. '
                                'If pg_cron runs in another database, schedule each row of antiban.maintenance_jobs() there with cron.schedule_in_database(job_name, schedule, command, %L).',
                                current_database(), current_database());
    END IF;
    -- pg_cron's own rule: its schema is granted role by role
    IF NOT has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'role % may not use pg_cron', current_user
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron schedules jobs only for roles with USAGE on its schema cron; each job runs as the role that scheduled it.',
                  HINT = format('As a superuser: GRANT USAGE ON SCHEMA cron TO %I. Schedule as a login role (a job cannot run as a NOLOGIN group such as antiban_admin).',
                                current_user);
    END IF;
    IF to_regclass('cron.job') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in database %', current_database()
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'The schema cron exists but has no table job.',
                  HINT = 'CREATE EXTENSION pg_cron here, as a superuser.';
    END IF;
END
$$;

CREATE FUNCTION antiban.schedule_maintenance() RETURNS TABLE (job_name text, schedule text, jobid bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    j record;
BEGIN
    PERFORM antiban.refuse_install_wide('schedule the install''s maintenance jobs');
    PERFORM antiban.require_pg_cron();
    FOR j IN SELECT * FROM antiban.maintenance_jobs() LOOP
        job_name := j.job_name;
        schedule := j.schedule;
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING j.job_name, j.schedule, j.command;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.schedule_maintenance() IS
    'Install (or update) antiban''s named pg_cron jobs (antiban.maintenance_jobs()) in this database; they run as the calling role (pg_cron''s rule), which must be a login with USAGE on schema cron: an unmapped administrator''s login will do, while only the tables'' owner (the role that ran CREATE EXTENSION) also drops whole old partitions and vacuums. A clear error says what to do where pg_cron is missing or not granted. See antiban.maintenance_runs.';

CREATE FUNCTION antiban.unschedule_maintenance() RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    name text;
    removed integer := 0;
BEGIN
    PERFORM antiban.refuse_install_wide('unschedule the install''s maintenance jobs');
    PERFORM antiban.require_pg_cron();
    FOR name IN EXECUTE 'SELECT jobname FROM cron.job WHERE jobname LIKE ''antiban-%'' AND username = current_user' LOOP
        EXECUTE 'SELECT cron.unschedule($1::name)' USING name;
        removed := removed + 1;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION antiban.unschedule_maintenance() IS
    'Remove every antiban-* pg_cron job the calling role scheduled; returns how many.';

-- pg_cron's tables exist only where it is installed, so this reads them
-- through dynamic SQL: antiban installs, and the view works, without it.
CREATE FUNCTION antiban.maintenance_job_runs()
RETURNS TABLE (job_name text, schedule text, active boolean, last_start timestamptz, last_end timestamptz,
               last_status text, last_message text, runs bigint, failures bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- (to_regclass of a schema the role may not use is an error, not NULL)
    IF to_regnamespace('cron') IS NULL OR NOT has_schema_privilege('cron', 'USAGE')
       OR to_regclass('cron.job_run_details') IS NULL THEN
        RETURN QUERY SELECT j.job_name, NULL::text, NULL::boolean, NULL::timestamptz, NULL::timestamptz,
                            CASE WHEN to_regnamespace('cron') IS NOT NULL AND NOT has_schema_privilege('cron', 'USAGE')
                                 THEN 'pg_cron is not granted to this role' ELSE 'pg_cron is not installed here' END,
                            NULL::text, 0::bigint, 0::bigint
                     FROM antiban.maintenance_jobs() j;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE $q$
        SELECT m.job_name, c.schedule, c.active, last.start_time, last.end_time,
               coalesce(last.status, CASE WHEN c.jobid IS NULL THEN 'not scheduled' ELSE 'not run yet' END),
               last.return_message, coalesce(n.runs, 0), coalesce(n.failures, 0)
        FROM antiban.maintenance_jobs() m
        LEFT JOIN cron.job c ON c.jobname = m.job_name AND c.username = current_user
        LEFT JOIN LATERAL (SELECT d.start_time, d.end_time, d.status, d.return_message
                           FROM cron.job_run_details d WHERE d.jobid = c.jobid
                           ORDER BY d.runid DESC LIMIT 1) last ON true
        LEFT JOIN LATERAL (SELECT count(*) AS runs, count(*) FILTER (WHERE d.status = 'failed') AS failures
                           FROM cron.job_run_details d WHERE d.jobid = c.jobid) n ON true
        ORDER BY m.job_name $q$;
END
$$;
COMMENT ON FUNCTION antiban.maintenance_job_runs() IS
    'Each antiban maintenance job: its schedule, whether active, its last run (start, end, status, message) and how many runs failed, from pg_cron''s tables.';

-- maintenance_job_runs() reads pg_cron's tables as the caller whatever the
-- view's rights; security_barrier as every owner-rights view a reader may
-- read (sql/99_catalog).
CREATE VIEW antiban.maintenance_runs WITH (security_barrier) AS SELECT * FROM antiban.maintenance_job_runs();
COMMENT ON VIEW antiban.maintenance_runs IS
    'Each antiban maintenance job and its last run (pg_cron''s cron.job and cron.job_run_details, for the current role''s jobs).';

CREATE FUNCTION antiban.reconcile_unconfirmed() RETURNS void
AS 'MODULE_PATHNAME', 'antiban_reconcile_unconfirmed' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.reconcile_unconfirmed() IS
    'Settle messages left in sending whose lease expired, exactly as the senders do (never a blind resend): after antiban.unconfirmed_grace without a status webhook, antiban.on_unconfirmed marks them unknown or queues them again. For the antiban-leases job; harmless beside running senders.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.require_pg_cron() IS
    'An error with a hint when pg_cron is not installed in this database, or the calling role has no USAGE on its schema: antiban installs without it, but scheduled maintenance needs it.';
