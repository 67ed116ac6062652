-- Dispatch: each change in its own subtransaction, statuses of the event in one pass.

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
                SELECT * INTO n, notes FROM antiban.apply_statuses(value);
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

-- Runs with antiban's rights (ingest_webhook's privileged section), so it
-- resolves nothing through the caller's search_path.
CREATE FUNCTION antiban.apply_webhook(event bigint, body jsonb) RETURNS antiban.webhook_status
LANGUAGE plpgsql
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    received timestamptz := antiban.now();
    applied integer := 0;
    notes text[] := '{}';
    statuses jsonb;
    e record;
    c record;
    outcome antiban.webhook_status;
BEGIN
    -- applied once: a stored event that is no longer pending is left alone
    SELECT w.status INTO outcome FROM antiban.webhook_events w WHERE w.id = event FOR UPDATE;
    IF outcome IS DISTINCT FROM 'pending' THEN
        RETURN outcome;
    END IF;
    IF body ->> 'object' IS DISTINCT FROM 'whatsapp_business_account'
       OR jsonb_typeof(body -> 'entry') IS DISTINCT FROM 'array' THEN
        notes := ARRAY['not a whatsapp_business_account object with entry[]'];
    ELSE
        -- every status of the event in one pass, with the change it came in:
        -- outbox rows are locked in id order, like the sender does, so
        -- concurrent webhooks and senders never deadlock
        SELECT jsonb_agg(jsonb_build_object('entry', ev.i - 1, 'change', ch.i - 1,
                   'phone_number_id', ch.x -> 'value' -> 'metadata' ->> 'phone_number_id', 'status', st.x)
                   ORDER BY ev.i, ch.i, st.i)
        INTO statuses
        FROM jsonb_array_elements(body -> 'entry') WITH ORDINALITY AS ev(x, i),
             jsonb_array_elements(CASE WHEN jsonb_typeof(ev.x -> 'changes') = 'array' THEN ev.x -> 'changes' ELSE '[]' END)
                 WITH ORDINALITY AS ch(x, i),
             jsonb_array_elements(CASE WHEN ch.x ->> 'field' = 'messages' AND jsonb_typeof(ch.x -> 'value' -> 'statuses') = 'array'
                                       THEN ch.x -> 'value' -> 'statuses' ELSE '[]' END) WITH ORDINALITY AS st(x, i);
        IF statuses IS NOT NULL THEN
            SELECT * INTO applied, notes
            FROM antiban.apply_with_retry('statuses', NULL, 'messages', NULL, statuses, received, event, '',
                                          applied, notes);
        END IF;
        FOR e IN SELECT t.x, t.i - 1 AS i FROM jsonb_array_elements(body -> 'entry') WITH ORDINALITY t(x, i) LOOP
            FOR c IN SELECT t.x, t.i - 1 AS i
                     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.x -> 'changes') = 'array'
                                                    THEN e.x -> 'changes' ELSE '[]' END) WITH ORDINALITY t(x, i) LOOP
                SELECT * INTO applied, notes
                FROM antiban.apply_with_retry('change', e.x ->> 'id', c.x ->> 'field', e.x ->> 'time', c.x -> 'value',
                                              received, event, format('entry %s change %s: ', e.i, c.i), applied, notes);
            END LOOP;
        END LOOP;
    END IF;
    UPDATE antiban.webhook_events w SET updates = applied, problems = w.problems || notes,
           status = (CASE WHEN cardinality(w.problems || notes) = 0 THEN 'applied' ELSE 'partial' END)::antiban.webhook_status
    WHERE w.id = event
    RETURNING w.status INTO outcome;
    RETURN outcome;
END
$$;
COMMENT ON FUNCTION antiban.apply_webhook(bigint, jsonb) IS
    'Apply a stored, pending webhook event (antiban.ingest_webhook calls it for what it newly stored): statuses in one pass, then every entry[] and changes[] in its own subtransaction, so one bad change never blocks the rest; sets the event applied or partial with its problems.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.apply_with_retry(text,text,text,text,jsonb,timestamp with time zone,bigint,text,integer,text[]) IS
    'Apply one change of a webhook in its own subtransaction, retrying a deadlock or serialization failure; any other error becomes a problem of that change only. Keeps the count of updates and the list of problems.';
