-- Partitions: antiban.webhook_posts (the webhook POSTs as received) by
-- month with pg_partman.
--
-- pg_partman is optional: antiban installs and runs without it (every event
-- then stays in the default partition and retention deletes old ones in
-- batches, as before).  Where it is installed (Debian:
-- postgresql-15-partman; CREATE EXTENSION pg_partman SCHEMA partman),
-- antiban.manage_partitions() hands the table over once and keeps it: the
-- next months' partitions made ahead of time, and each partition dropped
-- whole once all of it is older than retention.webhook_events.  The
-- antiban-partitions pg_cron job (antiban.maintenance_jobs) calls it hourly.
-- pg_partman's own objects are reached through dynamic SQL, in the schema
-- it was installed in.

CREATE FUNCTION antiban.partman_schema() RETURNS name
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_partman';
END;
COMMENT ON FUNCTION antiban.partman_schema() IS
    'The schema pg_partman is installed in, in this database; NULL where it is not installed.';

-- pg_partman 4.7 sets search_path for the session (set_config(..., false))
-- and restores it to what it found, which inside this function is the
-- pinned path: the caller's own comes in as a default argument (evaluated
-- in the caller's context) and is put back on the way out.
CREATE FUNCTION antiban.manage_partitions(callers_search_path text DEFAULT current_setting('search_path'))
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    partman name := antiban.partman_schema();
    parent constant text := 'antiban.webhook_posts';
    retention interval := antiban.setting_interval('retention.webhook_events');
    span interval := antiban.setting_interval('partitions.interval');
    start timestamptz;
    moved bigint := 0;
    before integer;
    after integer;
    template text;
BEGIN
    IF partman IS NULL THEN
        RAISE EXCEPTION 'pg_partman is not installed in database %', current_database()
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'antiban works without it: webhook posts then stay in one partition and retention deletes old ones in batches.',
                  HINT = 'apt-get install postgresql-15-partman, then CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman; here, and call antiban.manage_partitions() again (or schedule antiban.maintenance_jobs()).';
    END IF;
    SELECT count(*) INTO before FROM pg_catalog.pg_inherits WHERE inhparent = parent::regclass;
    -- webhook_events was the partitioned table once and is their view now:
    -- pg_partman's upkeep of it would fail, so it forgets it
    EXECUTE format('SELECT max(template_table) FROM %I.part_config WHERE parent_table = $1', partman)
        INTO template USING 'antiban.webhook_events';
    EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = $1', partman) USING 'antiban.webhook_events';
    IF template IS NOT NULL THEN
        EXECUTE format('DROP TABLE IF EXISTS %s', template);
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.part_config WHERE parent_table = $1', partman) INTO after USING parent;
    IF after > 0 AND to_regclass('antiban.webhook_posts_unsorted') IS NOT NULL THEN
        -- pg_partman remembers an antiban dropped since (DROP EXTENSION): forget it
        EXECUTE format('SELECT template_table FROM %I.part_config WHERE parent_table = $1', partman) INTO template USING parent;
        EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = $1', partman) USING parent;
        IF template IS NOT NULL THEN
            EXECUTE format('DROP TABLE IF EXISTS %s', template);
        END IF;
        after := 0;
    END IF;
    IF after = 0 THEN
        -- the hand-over: pg_partman makes its own default partition, so the
        -- posts that arrived meanwhile wait aside and come back routed by time
        LOCK TABLE antiban.webhook_posts IN ACCESS EXCLUSIVE MODE;
        CREATE TEMP TABLE antiban_events_handover ON COMMIT DROP AS
            SELECT * FROM antiban.webhook_posts_unsorted;
        ALTER TABLE antiban.webhook_posts DETACH PARTITION antiban.webhook_posts_unsorted;
        ALTER EXTENSION antiban DROP TABLE antiban.webhook_posts_unsorted;
        DROP TABLE antiban.webhook_posts_unsorted;
        -- partitions from the oldest post retention keeps, or this month
        SELECT greatest(min(received_at), antiban.now() - retention) INTO start FROM antiban_events_handover;
        start := date_trunc('month', coalesce(least(start, antiban.now()), antiban.now()));
        EXECUTE format('SELECT %I.create_parent(p_parent_table => $1, p_control => $2, p_type => $3, p_interval => $4,'
                       ' p_premake => $5, p_start_partition => $6, p_jobmon => false)', partman)
            USING parent, 'received_at', 'native', span::text,
                  antiban.setting('partitions.premake')::integer, start::text;
        INSERT INTO antiban.webhook_posts OVERRIDING SYSTEM VALUE SELECT * FROM antiban_events_handover;
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE format('UPDATE %I.part_config SET retention = $2, retention_keep_table = false, retention_keep_index = false,'
                   ' premake = $3, infinite_time_partitions = true WHERE parent_table = $1', partman)
        USING parent, retention::text, antiban.setting('partitions.premake')::integer;
    EXECUTE format('SELECT %I.run_maintenance(p_parent_table => $1, p_jobmon => false)', partman) USING parent;
    SELECT count(*) INTO after FROM pg_catalog.pg_inherits WHERE inhparent = parent::regclass;
    PERFORM set_config('search_path', callers_search_path, false);
    RETURN format('%s partitions (was %s)%s', after, before,
                  CASE WHEN moved > 0 THEN format(', %s events moved into them', moved) ELSE '' END);
END
$$;
COMMENT ON FUNCTION antiban.manage_partitions(text) IS
    'Hand antiban.webhook_posts (the webhook POSTs as received, behind the view antiban.webhook_events; their outcomes are narrow rows of a plain table that retention thins in batches) to pg_partman (once: partitions of partitions.interval from the oldest post retention keeps, the posts of the default partition moved into them) and run its upkeep: partitions.premake partitions ahead, those entirely older than retention.webhook_events dropped whole. Returns how many partitions the posts have, and how many events the hand-over moved. An error with a hint where pg_partman is not installed. Call it as the role that owns antiban''s tables (the antiban-partitions job does, hourly); leave callers_search_path alone (it keeps the caller''s search_path from pg_partman).';
