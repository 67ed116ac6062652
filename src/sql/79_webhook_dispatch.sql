-- Dispatch: the statuses of many events in one statement, every other change
-- in its own subtransaction.

CREATE FUNCTION antiban.apply_change(waba text, field text, value jsonb, received timestamptz, event bigint,
                                     sent_at text, OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    -- Meta's time of the event, which orders the events that set state:
    -- entry.time, else the value's own timestamp, else when it was received
    at timestamptz := (SELECT t.at FROM antiban.webhook_time(coalesce(sent_at, value ->> 'timestamp'), received) t);
BEGIN
    problems := '{}';
    CASE field
        WHEN 'messages' THEN
            SELECT * INTO applied, problems FROM antiban.apply_messages(waba, value, received, event);
        WHEN 'user_preferences' THEN
            SELECT * INTO applied, problems FROM antiban.apply_user_preferences(waba, value, received);
        WHEN 'phone_number_quality_update' THEN
            SELECT * INTO applied, problems FROM antiban.apply_quality_update(waba, value, at, event);
        WHEN 'account_update' THEN
            SELECT * INTO applied, problems FROM antiban.apply_account_update(waba, value, at, event);
        WHEN 'account_alerts' THEN
            SELECT * INTO applied, problems FROM antiban.apply_account_alerts(waba, value, at, event);
        WHEN 'business_capability_update' THEN
            SELECT * INTO applied, problems FROM antiban.apply_capability_update(waba, value, at, event);
        WHEN 'message_template_status_update' THEN
            SELECT * INTO applied, problems FROM antiban.apply_template_status(waba, value, at, event);
        WHEN 'message_template_quality_update' THEN
            SELECT * INTO applied, problems FROM antiban.apply_template_quality(waba, value, at, event);
        WHEN 'template_category_update' THEN
            SELECT * INTO applied, problems FROM antiban.apply_template_category(waba, value, at, event);
        ELSE
            applied := NULL;
    END CASE;
END
$$;
COMMENT ON FUNCTION antiban.apply_change(text, text, jsonb, timestamptz, bigint, text) IS
    'Apply one change of a webhook received at a given time (sent_at: Meta''s entry.time, which orders account and template events); applied is NULL for a field antiban does not use; problems are what was believed only in part.';

-- Run one step, retrying a deadlock with the sender or another webhook; if it
-- keeps failing, the error aborts the whole ingest: the receiver answers 503
-- and Meta posts again later.  A lost status would be worse than a retry.
-- A change other than messages is applied only the first time it is seen.
CREATE FUNCTION antiban.apply_with_retry(step text, waba text, field text, sent_at text, value jsonb,
                                         received timestamptz, event bigint, place text,
                                         INOUT updates integer, INOUT problems text[])
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    notes text[];
BEGIN
    FOR attempt IN 1 .. 3 LOOP
        BEGIN
            IF step = 'statuses' THEN
                SELECT s.applied, s.problems INTO n, notes FROM antiban.apply_statuses(value) s;
            ELSIF field IS DISTINCT FROM 'messages'
                  AND NOT antiban.claim_change(waba, field, sent_at, value, event, received) THEN
                RETURN;         -- Meta's retry of a change applied before
            ELSE
                SELECT * INTO n, notes FROM antiban.apply_change(waba, field, value, received, event, sent_at);
                IF cardinality(notes) > 0 THEN
                    notes := ARRAY(SELECT format('%sfield %s: %s', place, field, x) FROM unnest(notes) x);
                END IF;
            END IF;
            IF n IS NULL THEN
                problems := problems || format('%sfield %s: not used by antiban, kept', place, field);
            ELSE
                updates := updates + n;
            END IF;
            problems := problems || notes;
            RETURN;
        EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available THEN
                IF attempt = 3 THEN
                    RAISE;
                END IF;
            WHEN OTHERS THEN
                problems := problems || format('%sfield %s: %s', place, field, SQLERRM);
                RETURN;
        END;
    END LOOP;
END
$$;

-- The changes of a body, in order: nothing unless it is a
-- whatsapp_business_account object with entry[].
CREATE FUNCTION antiban.webhook_change_list(body jsonb)
RETURNS TABLE (entry integer, change integer, waba text, sent_at text, field text, value jsonb)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT (e.i - 1)::integer, (c.i - 1)::integer, e.x ->> 'id', e.x ->> 'time', c.x ->> 'field', c.x -> 'value'
    FROM jsonb_array_elements(CASE WHEN body ->> 'object' = 'whatsapp_business_account'
                                        AND jsonb_typeof(body -> 'entry') = 'array'
                                   THEN body -> 'entry' ELSE '[]' END) WITH ORDINALITY AS e(x, i),
         jsonb_array_elements(CASE WHEN jsonb_typeof(e.x -> 'changes') = 'array' THEN e.x -> 'changes' ELSE '[]' END)
             WITH ORDINALITY AS c(x, i)
    ORDER BY e.i, c.i;
END;
COMMENT ON FUNCTION antiban.webhook_change_list(jsonb) IS
    'The changes of a webhook body in order: entry and change (from 0), the WABA (entry.id), Meta''s entry.time, field and value; none unless it is a whatsapp_business_account object with entry[].';

-- The statuses of a body, with the change each came in.
CREATE FUNCTION antiban.webhook_status_list(body jsonb)
RETURNS TABLE (entry integer, change integer, phone_number_id text, status jsonb, k integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.entry, c.change, c.value -> 'metadata' ->> 'phone_number_id', s.x, s.i::integer
    FROM antiban.webhook_change_list(body) c,
         jsonb_array_elements(CASE WHEN c.field = 'messages' AND jsonb_typeof(c.value -> 'statuses') = 'array'
                                   THEN c.value -> 'statuses' ELSE '[]' END) WITH ORDINALITY AS s(x, i)
    ORDER BY c.entry, c.change, s.i;
END;
COMMENT ON FUNCTION antiban.webhook_status_list(jsonb) IS
    'The statuses of a webhook body (value.statuses[] of its messages changes) in order: entry, change, the change''s metadata.phone_number_id, the status object and its place k (from 1) in the change.';

-- Runs with antiban's rights (the privileged section of ingest_webhook(s),
-- or the webhook apply worker), so it resolves nothing through the caller's
-- search_path.
--
-- Every status of every event goes to antiban.apply_statuses in one call
-- (rows locked in id order, one UPDATE of the outbox for the batch), except those whose wamid no
-- message has yet: only an outbox id in biz_opaque_callback_data could tie
-- them to a message, and whether they are believed depends on the message's
-- state and recipient, and such a status gives its message the wamid that a
-- later event's status may be found by alone.  They go event by event, in
-- the order posted, as before batching.  If
-- the one call fails (a status Meta would never send, say), every event's
-- statuses go on their own, so a bad one costs only its own event.  Each
-- event is credited with the messages it moved: its status was the furthest
-- of the batch for a message whose row changed.
CREATE FUNCTION antiban.apply_webhooks(events bigint[], received_since timestamptz DEFAULT '-infinity',
                                       received_until timestamptz DEFAULT 'infinity')
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, antiban, pg_temp
-- Every statement under it (and its triggers') finds rows by key.  Their
-- plans are cached for the session, and the first may be made while the
-- tables are empty (a new install, a tenant's first webhooks), when a
-- sequential scan costs nothing: kept as the tables grow, it would read a
-- whole table per webhook (sql/16_webhook_apply_plans).  A scan that is
-- still needed is then costed past every JIT threshold: compiled at each
-- call from a session with jit on (psql, pg_cron), 0.4 s a batch, so off.
SET enable_seqscan = off SET jit = off
AS $$
DECLARE
    received timestamptz := antiban.now();
    ids bigint[];
    ats timestamptz[];      -- their received_at: with the id, the key of one partition
    bodies jsonb[];         -- their parsed bodies, read (and decompressed) once
    n integer;
    updates integer[];
    problems jsonb[];
    batch antiban.webhook_status_item[];    -- statuses found by wamid: one call
    places jsonb;           -- batch entry number -> [event ordinal, entry]
    by_callback jsonb;      -- event ordinal -> its statuses whose wamid no message has
    moved integer[];        -- for each message the batch moved, the event that moved it
    applied integer;
    notes text[];
    note text;
    m text[];
    ok boolean := true;
    r record;
    -- inline lead scoring, for the whole batch at once (see below)
    leads_batched boolean := antiban.lead_flow_on() AND current_setting('antiban.lead_scoring') = 'inline';
    queued_after bigint;
    plans text;             -- the plan_cache_mode to put back (antiban.plan_for_batch)
BEGIN
    -- A small batch (at low rates every POST is a batch of one) uses generic
    -- plans: the statements take the batch as arrays, a custom plan knows a
    -- batch of one is small, so the plan cache judged the generic plan
    -- dearer and planned them again at every call (2.1 ms of a single
    -- POST's 4.7; TAP 046).  A large batch keeps custom plans: they know its
    -- size and cost 3-8 % less CPU per POST than generic ones at 1,000.
    plans := antiban.plan_for_batch(cardinality(events));
    -- applied once: an event that is no longer pending is left alone
    -- (locked by id, then judged on the version locked; OFFSET 0 keeps the
    -- status test out of the scan: a plan that also read the index of
    -- pending events would read the whole backlog for each batch)
    -- (received_since and _until: only the partitions of that time are read)
    -- (the outcome is the row locked and later updated, found in a subquery
    -- of its own; the post is then read by its key, in its partition.  A
    -- post retention took first leaves its outcome a body of NULL, said in
    -- its problems below.)
    SELECT array_agg(p.id ORDER BY p.id), array_agg(p.received_at ORDER BY p.id), array_agg(p.body ORDER BY p.id)
    INTO ids, ats, bodies
    FROM (SELECT o.id, o.received_at, o.status,
                 (SELECT w.body FROM antiban.webhook_posts w
                  WHERE w.id = o.id AND w.received_at = o.received_at
                    AND w.received_at BETWEEN received_since AND received_until) AS body
          -- (by its id alone: any bound on its time let the planner read the
          -- outcomes' BRIN index instead, every row of those pages)
          FROM (SELECT x.id, x.received_at, x.status FROM antiban.webhook_outcomes x
                WHERE x.id = ANY (events) ORDER BY x.id OFFSET 0 FOR UPDATE) o) p
    WHERE p.status = 'pending';
    n := coalesce(cardinality(ids), 0);
    IF n = 0 THEN
        PERFORM antiban.plan_restore(plans);
        RETURN 0;
    END IF;
    updates := array_fill(0, ARRAY[n]);
    problems := array_fill('[]'::jsonb, ARRAY[n]);
    -- Inline scoring, done once for the batch: its inbound messages, sends,
    -- reads and failures are queued as deferred scoring queues them (one
    -- INSERT per change or statement), then made into leads and scored
    -- together before this returns, in the order they arrived.  Scoring
    -- them change by change cost four times the apply of the change.
    IF leads_batched THEN
        queued_after := coalesce((SELECT max(q.id) FROM antiban.lead_event_queue q), 0);
        PERFORM antiban.defer_lead_scoring(true);
    END IF;

    WITH st AS (
        SELECT u.ord::integer AS ord, s.entry, s.change, s.phone_number_id, s.status, s.k,
               dense_rank() OVER (ORDER BY u.ord, s.entry) - 1 AS g,
               -- the message it is about: a scalar subquery, so each is one
               -- index probe (never a hashed scan of the whole outbox)
               (SELECT o.id FROM antiban.outbox o WHERE o.wamid = s.status ->> 'id' LIMIT 1) AS message
        FROM unnest(bodies) WITH ORDINALITY AS u(body, ord)
        CROSS JOIN LATERAL antiban.webhook_status_list(u.body) s
    )
    SELECT (SELECT array_agg(ROW(st.g, st.change, st.phone_number_id, st.status, st.message, st.ord)::antiban.webhook_status_item
                             ORDER BY st.ord, st.entry, st.change, st.k)
            FROM st WHERE st.message IS NOT NULL),
           (SELECT jsonb_object_agg(st.g, jsonb_build_array(st.ord, st.entry)) FROM st WHERE st.message IS NOT NULL),
           (SELECT jsonb_object_agg(b.ord, b.list)
            FROM (SELECT st.ord, jsonb_agg(jsonb_build_object('entry', st.entry, 'change', st.change,
                                                              'phone_number_id', st.phone_number_id, 'status', st.status)
                                           ORDER BY st.entry, st.change, st.k) AS list
                  FROM st WHERE st.message IS NULL GROUP BY st.ord) b)
    INTO batch, places, by_callback;

    IF batch IS NOT NULL THEN
        FOR attempt IN 1 .. 3 LOOP
            BEGIN
                -- the whole batch in one call: one UPDATE of the outbox, so
                -- its statement triggers (costs, lead events) run once
                SELECT * INTO applied, notes, moved FROM antiban.apply_statuses(batch);
                EXIT;
            EXCEPTION
                WHEN deadlock_detected OR serialization_failure OR lock_not_available THEN
                    IF attempt = 3 THEN
                        RAISE;
                    END IF;
                WHEN OTHERS THEN
                    ok := false;
                    EXIT;
            END;
        END LOOP;
    END IF;

    IF NOT ok THEN
        -- event by event, as each was posted: the bad status stays with its event
        FOR r IN
            SELECT u.ord::integer AS ord, u.id,
                   jsonb_agg(jsonb_build_object('entry', s.entry, 'change', s.change, 'phone_number_id', s.phone_number_id,
                                                'status', s.status) ORDER BY s.entry, s.change, s.k) AS list
            FROM unnest(ids, bodies) WITH ORDINALITY AS u(id, body, ord)
            CROSS JOIN LATERAL antiban.webhook_status_list(u.body) s
            GROUP BY u.ord, u.id ORDER BY u.ord
        LOOP
            SELECT * INTO applied, notes
            FROM antiban.apply_with_retry('statuses', NULL, 'messages', NULL, r.list, received, r.id, '', 0, '{}');
            updates[r.ord] := updates[r.ord] + applied;
            problems[r.ord] := problems[r.ord] || to_jsonb(notes);
        END LOOP;
        by_callback := NULL;
    ELSIF batch IS NOT NULL THEN
        -- what it did not believe, named against its own event and entry
        FOREACH note IN ARRAY notes LOOP
            m := regexp_match(note, '^entry ([0-9]+) change ([0-9]+): (.*)$');
            IF m IS NOT NULL AND places ? m[1] THEN
                problems[(places -> m[1] ->> 0)::integer] := problems[(places -> m[1] ->> 0)::integer]
                    || to_jsonb(format('entry %s change %s: %s', places -> m[1] ->> 1, m[2], m[3]));
            ELSE
                FOR r IN SELECT DISTINCT b.ord FROM unnest(batch) b LOOP
                    problems[r.ord] := problems[r.ord] || to_jsonb(note);
                END LOOP;
            END IF;
        END LOOP;
        -- each message moved is credited to the event whose status moved it
        FOR r IN SELECT x.ord, count(*)::integer AS moved FROM unnest(moved) x(ord) GROUP BY x.ord LOOP
            updates[r.ord] := updates[r.ord] + r.moved;
        END LOOP;
    END IF;

    FOR r IN SELECT b.key::integer AS ord, b.value AS list FROM jsonb_each(by_callback) b ORDER BY 1 LOOP
        SELECT * INTO applied, notes
        FROM antiban.apply_with_retry('statuses', NULL, 'messages', NULL, r.list, received, ids[r.ord], '', 0, '{}');
        updates[r.ord] := updates[r.ord] + applied;
        problems[r.ord] := problems[r.ord] || to_jsonb(notes);
    END LOOP;

    -- every other change in its own subtransaction; a change that carries only
    -- statuses has nothing left for antiban.apply_messages (which reads
    -- value.messages and value.errors), so it costs nothing more
    FOR r IN
        SELECT u.ord::integer AS ord, u.id, c.entry, c.change, c.waba, c.sent_at, c.field, c.value
        FROM unnest(ids, bodies) WITH ORDINALITY AS u(id, body, ord)
        CROSS JOIN LATERAL antiban.webhook_change_list(u.body) c
        WHERE NOT (c.field = 'messages' AND jsonb_typeof(c.value) = 'object'
                   AND NOT c.value ? 'messages' AND NOT c.value ? 'errors'
                   AND coalesce(jsonb_typeof(c.value -> 'statuses'), 'array') = 'array')
        ORDER BY u.ord, c.entry, c.change
    LOOP
        SELECT * INTO applied, notes
        FROM antiban.apply_with_retry('change', r.waba, r.field, r.sent_at, r.value, received, r.id,
                                      format('entry %s change %s: ', r.entry, r.change), 0, '{}');
        updates[r.ord] := updates[r.ord] + applied;
        IF cardinality(notes) > 0 THEN
            problems[r.ord] := problems[r.ord] || to_jsonb(notes);
        END IF;
    END LOOP;

    IF leads_batched THEN
        PERFORM antiban.defer_lead_scoring(false);
        BEGIN
            -- (what another session queued and committed meanwhile may come
            -- along: it is scored in its turn; what the worker holds is not waited for)
            WHILE EXISTS (SELECT 1 FROM antiban.lead_event_queue q WHERE q.id > queued_after) LOOP
                EXIT WHEN antiban.process_lead_events(5000, queued_after) = 0;
            END LOOP;
        EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                -- the changes matter more than the leads: they stay applied,
                -- and the events stay queued for the antiban leads worker
                RAISE WARNING 'antiban: leads of % webhook events left to the antiban leads worker: %', n, SQLERRM;
        END;
    END IF;

    UPDATE antiban.webhook_outcomes w SET
        updates = u.updates,
        problems = w.problems || u.notes,
        status = (CASE WHEN cardinality(w.problems || u.notes) = 0 THEN 'applied' ELSE 'partial' END)::antiban.webhook_status,
        applied_at = clock_timestamp()
    FROM (SELECT x.id, x.at, x.updates,
                 CASE WHEN x.body IS NULL
                      THEN ARRAY['its post is gone (retention deleted it before it was applied): nothing to apply']
                      WHEN x.body ->> 'object' IS DISTINCT FROM 'whatsapp_business_account'
                           OR jsonb_typeof(x.body -> 'entry') IS DISTINCT FROM 'array'
                      THEN ARRAY['not a whatsapp_business_account object with entry[]'] ELSE '{}' END
                 || ARRAY(SELECT jsonb_array_elements_text(x.notes)) AS notes
          FROM unnest(ids, ats, bodies, updates, problems) AS x(id, at, body, updates, notes)) u
    -- (id = ANY: the batch's rows are probed by key; joined on id alone the
    -- plan was a merge join reading the whole primary key)
    WHERE w.id = ANY (ids) AND w.id = u.id;
    PERFORM antiban.plan_restore(plans);
    RETURN n;
END
$$;
COMMENT ON FUNCTION antiban.apply_webhooks(bigint[], timestamptz, timestamptz) IS
    'Apply stored, pending webhook events (others are left alone; received_since and received_until, when known, bound when they were received, so only those partitions are read): the statuses of all of them in one antiban.apply_statuses call, one UPDATE of the outbox (those whose wamid no message has yet, which only biz_opaque_callback_data may tie to one, event by event in posting order), then every other change in its own subtransaction, so one bad change never blocks the rest; sets each event applied or partial with its problems and applied_at. Returns how many events it applied. Called by antiban.ingest_webhook(s) and by the webhook apply worker.';

-- The oldest pending events, for the webhook apply worker.  Bounded in
-- bytes too: antiban.apply_webhooks holds the batch's bodies at once, and
-- Meta's bodies may be up to 3 MB (a thousand of them would be 3 GB); the
-- first event always goes, those past the bound stay pending for the next
-- batch (locked until this one commits: another worker skips them).
CREATE FUNCTION antiban.apply_pending_batch(max_events integer DEFAULT 1000,
                                            max_bytes bigint DEFAULT 33554432,
                                            OUT applied integer, OUT cut_by_bytes boolean)
LANGUAGE plpgsql VOLATILE
-- (its statement joins and sorts the batch: from a session that lowered the
-- JIT costs it was compiled at every call, as apply_webhooks' would be)
SET jit = off
AS $$
BEGIN
    IF max_events IS NULL OR max_events < 1 THEN
        RAISE EXCEPTION 'max_events must be at least 1, not %', coalesce(max_events::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'It is the most events one batch applies; the apply worker uses antiban.webhook_apply_batch (1,000).';
    END IF;
    IF max_bytes IS NULL OR max_bytes < 1 THEN
        RAISE EXCEPTION 'max_bytes must be at least 1, not %', coalesce(max_bytes::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'It bounds the bodies one batch holds (bytes as received; the first event always goes); the default is 33554432 (32 MB).';
    END IF;
    SELECT antiban.apply_webhooks(p.ids, coalesce(p.since, '-infinity'), coalesce(p.until, 'infinity')), p.cut
    INTO applied, cut_by_bytes
    FROM (SELECT array_agg(x.id) FILTER (WHERE x.taken) AS ids,
                 min(x.received_at) FILTER (WHERE x.taken) AS since,
                 max(x.received_at) FILTER (WHERE x.taken) AS until,
                 bool_or(NOT x.taken) AS cut
          FROM (SELECT c.id, c.received_at,
                       row_number() OVER w = 1 OR sum(c.body_size) OVER w - c.body_size < max_bytes AS taken
                FROM (SELECT e.id, e.received_at,
                             -- (its post by key: one probe of its partition)
                             -- (none: retention took it first; the apply says so)
                             coalesce((SELECT w.body_size FROM antiban.webhook_posts w
                                       WHERE w.id = e.id AND w.received_at = e.received_at), 0) AS body_size
                      FROM antiban.webhook_outcomes e WHERE e.status = 'pending'
                      ORDER BY e.received_at LIMIT max_events FOR UPDATE SKIP LOCKED) c
                WINDOW w AS (ORDER BY c.received_at, c.id)) x) p;
    applied := coalesce(applied, 0);
    cut_by_bytes := coalesce(cut_by_bytes, false);
END
$$;
COMMENT ON FUNCTION antiban.apply_pending_batch(integer, bigint) IS
    'Internal (the webhook apply worker; antiban.apply_pending_webhooks): apply up to max_events of the oldest pending webhook events, no more bodies than max_bytes (the first event always goes); applied: how many; cut_by_bytes: events it had taken were left pending (locked until it commits) for want of bytes, so a backlog waits. Arguments below 1 or NULL are an error (invalid_parameter_value).';

-- The same for a person or a pg_cron job: how many it applied.
CREATE FUNCTION antiban.apply_pending_webhooks(max_events integer DEFAULT 1000,
                                               max_bytes bigint DEFAULT 33554432) RETURNS integer
LANGUAGE sql VOLATILE
SET jit = off       -- (as apply_pending_batch: not compiled under lowered JIT costs)
BEGIN ATOMIC
    SELECT b.applied FROM antiban.apply_pending_batch(max_events, max_bytes) b;
END;
COMMENT ON FUNCTION antiban.apply_pending_webhooks(integer, bigint) IS
    'Apply up to max_events (at least 1) of the oldest pending webhook events (antiban.apply_webhooks), skipping any another session is applying, and no more bodies than max_bytes (at least 1; bytes as received; the first event always goes): the bodies are held together while applied. Returns how many it applied; an argument below 1 or NULL is an error (invalid_parameter_value). The webhook apply worker runs it whenever a commit stores new events, and every second.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.apply_with_retry(text,text,text,text,jsonb,timestamp with time zone,bigint,text,integer,text[]) IS
    'Apply one change of a webhook in its own subtransaction, retrying a deadlock or serialization failure; any other error becomes a problem of that change only. Keeps the count of updates and the list of problems.';
