-- Sends per number and minute: what the health score and the early warnings
-- count, read from a rollup instead of the outbox, so their cost follows the
-- numbers and minutes, not the history (issue 13 §4: a year of outbox rows
-- made every monitor tick scan them all).
--
-- A message counts in the minute it was sent (sent_at): sent, delivered (or
-- read: a read message was delivered) and read.  An UPDATE of the outbox
-- adds, per number and minute, what its new rows count minus what its old
-- rows counted (a statement trigger over its transition tables, so one row
-- per number and minute per statement, never one per message) to
-- send_minute_changes, an append-only log nobody waits on: the sender and
-- the webhooks never queue behind each other on a hot counter row.  The
-- monitor folds the log into send_minutes every tick; readers add both, so
-- what they read is exact whenever they read it.  Retention deletes outbox
-- rows without touching the counts (no DELETE trigger); rows inserted
-- already sent (an import) are counted by antiban.rebuild_send_minutes.

CREATE TABLE antiban.send_minutes (
    number_id  bigint NOT NULL,
    minute     timestamptz NOT NULL,
    sent       bigint NOT NULL,
    delivered  bigint NOT NULL,
    read       bigint NOT NULL,
    PRIMARY KEY (number_id, minute)
);
COMMENT ON TABLE antiban.send_minutes IS
    'Messages per sending number and minute they were sent: how many were sent, delivered (or read) and read. What the health score and the early warnings count (with antiban.send_minute_changes not yet folded in: antiban.sends_per_minute); kept for retention.send_minutes.';

CREATE TABLE antiban.send_minute_changes (
    number_id  bigint NOT NULL,
    minute     timestamptz NOT NULL,
    sent       bigint NOT NULL,
    delivered  bigint NOT NULL,
    read       bigint NOT NULL
);
COMMENT ON TABLE antiban.send_minute_changes IS
    'Changes to antiban.send_minutes written by outbox updates, not folded in yet (append-only: writers never wait on each other); antiban.fold_send_minutes moves them, every monitor tick.';

-- The minute of a time, whatever the session's time zone.
CREATE FUNCTION antiban.minute_of(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_bin('1 minute', at, timestamptz '2000-01-01 00:00:00+00');
COMMENT ON FUNCTION antiban.minute_of(timestamptz) IS
    'The start of the minute a time falls in (UTC-aligned, so the same in every time zone): the key of antiban.send_minutes.';

-- Runs as antiban_owner: whoever updates the outbox (an app's cancel, the
-- webhooks, the sender) moves the counts.
CREATE FUNCTION antiban.outbox_count_sends() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
BEGIN
    INSERT INTO antiban.send_minute_changes (number_id, minute, sent, delivered, read)
    SELECT x.number_id, x.minute, sum(x.sent), sum(x.delivered), sum(x.read)
    FROM (SELECT n.number_id, antiban.minute_of(n.sent_at) AS minute, 1 AS sent,
                 (n.delivered_at IS NOT NULL OR n.read_at IS NOT NULL)::integer AS delivered,
                 (n.read_at IS NOT NULL)::integer AS read
          FROM new_rows n WHERE n.sent_at IS NOT NULL AND n.number_id IS NOT NULL
          UNION ALL
          SELECT o.number_id, antiban.minute_of(o.sent_at), -1,
                 -(o.delivered_at IS NOT NULL OR o.read_at IS NOT NULL)::integer, -(o.read_at IS NOT NULL)::integer
          FROM old_rows o WHERE o.sent_at IS NOT NULL AND o.number_id IS NOT NULL) x
    GROUP BY x.number_id, x.minute
    HAVING sum(x.sent) <> 0 OR sum(x.delivered) <> 0 OR sum(x.read) <> 0;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION antiban.outbox_count_sends() IS
    'Statement trigger (runs as antiban_owner): what an outbox UPDATE changed in each number''s sends, deliveries and reads per minute sent, one row per number and minute into antiban.send_minute_changes.';
CREATE TRIGGER outbox_count_sends AFTER UPDATE ON antiban.outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.outbox_count_sends();

CREATE FUNCTION antiban.fold_send_minutes() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    folded bigint;
BEGIN
    -- one fold at a time (another one's rows would wait on its upserts);
    -- readers add what is not folded, so skipping a turn loses nothing
    IF NOT pg_try_advisory_xact_lock(hashtext('antiban.fold_send_minutes')) THEN
        RETURN 0;
    END IF;
    WITH moved AS (
        DELETE FROM antiban.send_minute_changes RETURNING *
    ), summed AS (
        SELECT m.number_id, m.minute, sum(m.sent) AS sent, sum(m.delivered) AS delivered, sum(m.read) AS read,
               count(*) AS n
        FROM moved m GROUP BY m.number_id, m.minute
    ), upserted AS (
        INSERT INTO antiban.send_minutes AS s (number_id, minute, sent, delivered, read)
        SELECT u.number_id, u.minute, u.sent, u.delivered, u.read FROM summed u ORDER BY u.number_id, u.minute
        ON CONFLICT (number_id, minute) DO UPDATE SET
            sent = s.sent + excluded.sent, delivered = s.delivered + excluded.delivered, read = s.read + excluded.read
    )
    SELECT coalesce(sum(n), 0) INTO folded FROM summed;
    RETURN folded;
END
$$;
COMMENT ON FUNCTION antiban.fold_send_minutes() IS
    'Move the changes logged in antiban.send_minute_changes into antiban.send_minutes (one fold at a time; a call that finds another folding returns 0 at once). Returns how many change rows it folded. The monitor calls it every tick, the retention job every run.';

CREATE FUNCTION antiban.sends_per_minute(since timestamptz)
RETURNS TABLE (number_id bigint, minute timestamptz, sent bigint, delivered bigint, read bigint)
LANGUAGE sql STABLE AS $$
    SELECT x.number_id, x.minute, sum(x.sent)::bigint, sum(x.delivered)::bigint, sum(x.read)::bigint
    FROM (SELECT s.number_id, s.minute, s.sent, s.delivered, s.read
          FROM antiban.send_minutes s WHERE s.minute >= since
          UNION ALL
          SELECT c.number_id, c.minute, c.sent, c.delivered, c.read
          FROM antiban.send_minute_changes c WHERE c.minute >= since) x
    GROUP BY x.number_id, x.minute
$$;
COMMENT ON FUNCTION antiban.sends_per_minute(timestamptz) IS
    'Each number''s messages per minute sent from since on (antiban.send_minutes plus the changes not folded yet): sent, delivered (or read) and read, exactly what the outbox says.';

CREATE FUNCTION antiban.rebuild_send_minutes(since timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('antiban.fold_send_minutes'));
    LOCK TABLE antiban.outbox IN SHARE MODE;     -- no update moves a count meanwhile
    DELETE FROM antiban.send_minute_changes WHERE minute >= antiban.minute_of(since);
    DELETE FROM antiban.send_minutes WHERE minute >= antiban.minute_of(since);
    INSERT INTO antiban.send_minutes (number_id, minute, sent, delivered, read)
    SELECT o.number_id, antiban.minute_of(o.sent_at), count(*),
           count(*) FILTER (WHERE o.delivered_at IS NOT NULL OR o.read_at IS NOT NULL),
           count(*) FILTER (WHERE o.read_at IS NOT NULL)
    FROM antiban.outbox o
    WHERE o.sent_at >= antiban.minute_of(since) AND o.number_id IS NOT NULL
    GROUP BY 1, 2;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION antiban.rebuild_send_minutes(timestamptz) IS
    'Count antiban.send_minutes again from the outbox for the minutes from since on (reads the outbox once; updates wait meanwhile): after an upgrade or an import of rows already sent. Returns the rows written.';
