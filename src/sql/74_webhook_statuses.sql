-- Statuses of our messages: sent < delivered < read, failed terminal; pricing.

-- One status of a webhook batch, as antiban.apply_webhooks hands it over: a
-- row, not a jsonb object (building a batch's statuses as one jsonb array and
-- reading it back cost a seventh of the apply).
CREATE TYPE antiban.webhook_status_item AS (
    entry integer,              -- the entry it came in (numbered by the caller)
    change integer,             -- and the change in that entry
    phone_number_id text,       -- the change's metadata.phone_number_id
    status jsonb,               -- the status object as Meta sent it
    message bigint,             -- the outbox id of its wamid, when the caller found it
    ord integer                 -- the caller's number for what posted it
);
COMMENT ON TYPE antiban.webhook_status_item IS
    'Internal (antiban.apply_statuses): one status of a webhook batch with the entry and change it came in, the change''s phone_number_id, the outbox id of its wamid when known and the number of the event that posted it.';

-- moved: the ord of the status that moved each message it moved (its
-- furthest; of equals, the last posted)
CREATE FUNCTION antiban.apply_statuses(statuses antiban.webhook_status_item[], OUT applied integer,
                                       OUT problems text[], OUT moved integer[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    code text;
BEGIN
    applied := 0;
    problems := '{}';
    -- One statement for the whole batch: rows are locked in id order first
    -- (as the sender does), then updated together; only new failures and
    -- statuses that are not ours come back here.
    FOR r IN
        WITH s AS (
            SELECT x.entry, x.change, x.phone_number_id, x.message, x.ord, x.status ->> 'id' AS wamid,
                   CASE x.status ->> 'status' WHEN 'played' THEN 'read' ELSE x.status ->> 'status' END AS status,
                   x.status ->> 'biz_opaque_callback_data' AS callback,
                   nullif(x.status ->> 'recipient_id', '') AS recipient_id,
                   -- a business-scoped user id: Meta names it recipient_user_id (user_id in older payloads)
                   coalesce(nullif(x.status ->> 'recipient_user_id', ''), nullif(x.status ->> 'user_id', '')) AS user_id,
                   x.status -> 'pricing' AS pricing, x.status -> 'errors' AS errors
            FROM unnest(statuses) AS x
            WHERE x.status ->> 'status' IN ('sent', 'delivered', 'read', 'played', 'failed')
        ), by_wamid AS (
            -- the message of the wamid (apply_webhooks found it already), or
            -- one probe per status (a scalar subquery: never a hash of the
            -- outbox); none: only the callback may tie the status to one
            SELECT coalesce(s.message, (SELECT o.id FROM antiban.outbox o WHERE o.wamid = s.wamid LIMIT 1)) AS id, s.*
            FROM s
        ), matched AS (
            -- Meta's wamid is the message's own id
            SELECT b.id, NULL::text AS mismatch, b.entry, b.change, b.phone_number_id, b.wamid, b.status, b.callback,
                   b.recipient_id, b.user_id, b.pricing, b.errors, b.ord
            FROM by_wamid b WHERE b.id IS NOT NULL
            UNION ALL
            -- our outbox id in biz_opaque_callback_data, which any other app on
            -- the WABA may also use: believed only if the rest agrees with the row
            SELECT o.id,
                   CASE WHEN o.wamid IS NOT NULL
                            THEN format('its wamid %s is not the message''s (%s)', s.wamid, o.wamid)
                        -- only a send that may have reached Meta without its answer
                        -- (in flight, or its outcome unknown) can be settled this way
                        WHEN o.state NOT IN ('sending', 'unknown')
                            THEN format('message %s is %s, not a send whose answer is missing', o.id, o.state)
                        WHEN s.phone_number_id IS DISTINCT FROM o.phone_number_id
                            THEN format('it came through number %s, the message through %s',
                                        coalesce(s.phone_number_id, '(none)'), coalesce(o.phone_number_id, '(none)'))
                        WHEN NOT (antiban.same_recipient(s.recipient_id, o.recipient)
                                  OR antiban.same_recipient(s.user_id, o.recipient)
                                  -- or an identifier already known to be the recipient's person
                                  OR coalesce(antiban.person_id(o.portfolio_id, coalesce(s.recipient_id, s.user_id))
                                              = o.person_id, false))
                            THEN format('its recipient %s is not the message''s (%s)',
                                        coalesce(s.recipient_id, s.user_id, '(none)'), o.recipient)
                   END,
                   s.*
            FROM (SELECT b.entry, b.change, b.phone_number_id, b.wamid, b.status, b.callback, b.recipient_id,
                         b.user_id, b.pricing, b.errors, b.ord
                  FROM by_wamid b WHERE b.id IS NULL) s
                 JOIN antiban.outbox o ON s.callback ~ '^[1-9][0-9]{0,17}$' AND o.id = s.callback::bigint
        ), furthest AS (
            -- one update per message: its furthest status in this batch, pricing
            -- from any (a window over the message's statuses, not a probe of
            -- the whole batch per status: the cost stays linear in the batch)
            SELECT DISTINCT ON (m.id) m.*
            FROM (SELECT m.*, (array_agg(m.pricing) FILTER (WHERE m.pricing IS NOT NULL)
                                   OVER (PARTITION BY m.id))[1] AS price
                  FROM matched m WHERE m.mismatch IS NULL) m
            ORDER BY m.id, antiban.status_rank(m.status) DESC, m.ord DESC NULLS LAST
        ), locked AS (
            -- the batch's rows locked in id order, each with its furthest
            -- status: the UPDATE below then probes the outbox once per row
            -- (a join with furthest there was a rescan of it per row)
            SELECT o.state AS old_state, f.*
            FROM antiban.outbox o JOIN furthest f ON f.id = o.id ORDER BY o.id FOR UPDATE OF o
        ), updated AS (
            -- a failure's details are the first failure's: a retried one changes nothing
            UPDATE antiban.outbox o SET
                wamid = coalesce(o.wamid, l.wamid),
                wa_id = coalesce(o.wa_id, l.recipient_id),
                state = CASE WHEN antiban.transition_allowed(o.state::text, l.status)
                             THEN l.status::antiban.message_state ELSE o.state END,
                billable = coalesce((l.price ->> 'billable')::boolean, o.billable),
                pricing_model = coalesce(l.price ->> 'pricing_model', o.pricing_model),
                pricing_type = coalesce(l.price ->> 'type', o.pricing_type),
                pricing_category = coalesce(l.price ->> 'category', o.pricing_category),
                error_code = CASE WHEN n.fails THEN (l.errors -> 0 ->> 'code')::integer ELSE o.error_code END,
                error_title = CASE WHEN n.fails THEN l.errors -> 0 ->> 'title' ELSE o.error_title END,
                error_details = CASE WHEN n.fails THEN l.errors -> 0 -> 'error_data' ->> 'details' ELSE o.error_details END,
                reason = CASE WHEN n.fails THEN 'failed_after_send' ELSE o.reason END
            FROM locked l,
                 LATERAL (SELECT l.status = 'failed' AND antiban.transition_allowed(l.old_state::text, 'failed') AS fails) n
            WHERE o.id = l.id
              AND (antiban.transition_allowed(o.state::text, l.status) OR (o.wamid IS NULL AND l.wamid IS NOT NULL)
                   OR (l.price IS NOT NULL AND
                       (o.billable, o.pricing_model, o.pricing_type, o.pricing_category) IS DISTINCT FROM
                       ((l.price ->> 'billable')::boolean, l.price ->> 'pricing_model', l.price ->> 'type', l.price ->> 'category')))
            RETURNING o.id, l.errors, o.number_id, o.phone_number_id, o.recipient, l.old_state, o.state AS new_state, l.ord
        )
        SELECT u.id, u.errors, u.number_id, u.phone_number_id, u.recipient, NULL::text AS problem,
               NULL::integer AS total, NULL::integer[] AS ords, 0::bigint AS n
        FROM updated u WHERE u.new_state = 'failed' AND u.old_state IS DISTINCT FROM 'failed'
        UNION ALL
        -- another app's statuses may all carry ids like ours: name ten, count the rest
        SELECT f.id, NULL, NULL, NULL, NULL, f.problem, NULL, NULL, f.n
        FROM (SELECT m.id, row_number() OVER w AS n,
                     CASE WHEN row_number() OVER w <= 10
                          THEN format('entry %s change %s: field messages: status %s for outbox id %s ignored: %s',
                                      m.entry, m.change, m.status, m.id, m.mismatch)
                          WHEN row_number() OVER w = 11
                          THEN format('field messages: %s more statuses with our outbox ids in biz_opaque_callback_data were not ours: ignored',
                                      count(*) OVER () - 10)
                     END AS problem
              FROM matched m WHERE m.mismatch IS NOT NULL
              WINDOW w AS (ORDER BY m.entry, m.change, m.id)) f
        WHERE f.problem IS NOT NULL
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, NULL, count(*)::integer, array_agg(updated.ord), NULL FROM updated
        ORDER BY n NULLS LAST, id
    LOOP
        IF r.total IS NOT NULL THEN
            applied := r.total;
            moved := ARRAY(SELECT x FROM unnest(r.ords) x WHERE x IS NOT NULL);
            CONTINUE;
        ELSIF r.problem IS NOT NULL THEN
            problems := problems || r.problem;
            CONTINUE;
        END IF;
        -- the message became failed now: its code does, once, what it does
        -- when the sender meets it in an answer (src/core/error_class.c);
        -- the request went out when the accepted attempt was claimed
        code := r.errors -> 0 ->> 'code';
        CONTINUE WHEN code IS NULL OR code !~ '^[0-9]{1,9}$';
        -- if acting fails, the statuses stay applied and the event says so;
        -- a deadlock or a lock is raised for the caller to try again
        BEGIN
            PERFORM antiban.act_on_error(r.number_id, r.id, code::integer, 400, 'webhook',
                (SELECT o.sending_at FROM antiban.outbox o WHERE o.id = r.id), r.recipient);
        EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                problems := problems || format('field messages: error %s of outbox %s not acted on (no send_errors row, pause, slow-down or opt-out): %s',
                                               code, r.id, SQLERRM);
        END;
    END LOOP;
    PERFORM antiban.link_status_recipients(statuses);
END
$$;
COMMENT ON FUNCTION antiban.apply_statuses(antiban.webhook_status_item[]) IS
    'Move outbox rows forward on status webhooks (antiban.webhook_status_item: entry, change, phone_number_id, status, message, ord; applied: rows moved; moved: the ord of the status that moved each, its furthest): matched by wamid, or by the outbox id in biz_opaque_callback_data when the recipient and number agree and the row has no other wamid; a failure''s code then does, once, what antiban.act_on_error does for it (send_errors, pause, slow-down, pair backoff, 131049 marketing deferral, 131050 opt-out), as when the sender meets it in an answer. Statuses that are not ours come back as problems.';

-- The same for statuses given as jsonb ([{entry, change, phone_number_id,
-- status, message, ord}]): the event-by-event path, where each event's
-- statuses are collected as one value.
CREATE FUNCTION antiban.apply_statuses(statuses jsonb, OUT applied integer, OUT problems text[],
                                       OUT moved integer[])
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT a.applied, a.problems, a.moved
    FROM antiban.apply_statuses(ARRAY(SELECT x FROM jsonb_populate_recordset(NULL::antiban.webhook_status_item,
                                                                                statuses) x)) a;
END;
COMMENT ON FUNCTION antiban.apply_statuses(jsonb) IS
    'antiban.apply_statuses for statuses given as a jsonb array of objects with the fields of antiban.webhook_status_item (entry, change, phone_number_id, status, message, ord); a field missing is NULL.';

-- Who Meta says our messages reached: recipient_id (its wa_id for what we
-- sent to, also kept as the message's wa_id by apply_statuses) and, with
-- business-scoped user ids, user_id, recipient_user_id, parent ids and
-- contacts[]: one person with the message's recipient.  Only statuses
-- matched by wamid (ours), only when they name someone the recipient's own
-- key does not (in Brazil, recipient_id usually lacks the ninth digit and
-- needs no link).
CREATE FUNCTION antiban.link_status_recipients(statuses antiban.webhook_status_item[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    ids text[];
    parents text[];
    linked integer := 0;
BEGIN
    -- the usual status names the recipient as we sent it (or Brazil's form of
    -- it) and nothing else: only the rest is looked at
    FOR r IN
        SELECT o.id, o.wamid, o.recipient, o.portfolio_id, x.status AS st,
               nullif(x.status ->> 'recipient_id', '') AS recipient_id
        FROM unnest(statuses) AS x
        -- one index probe per status (LIMIT: not flattened into a hash join over the outbox)
        CROSS JOIN LATERAL (SELECT m.id, m.wamid, m.recipient, m.portfolio_id FROM antiban.outbox m
                            WHERE m.wamid = x.status ->> 'id' LIMIT 1) o
        WHERE o.recipient IS NOT NULL
          AND (x.status ?| ARRAY['user_id', 'recipient_user_id', 'parent_user_id', 'recipient_parent_user_id', 'contacts']
               OR (nullif(x.status ->> 'recipient_id', '') IS NOT NULL
                   AND o.recipient <> '+' || (x.status ->> 'recipient_id')
                   AND antiban.recipient_key(x.status ->> 'recipient_id') IS DISTINCT FROM antiban.recipient_key(o.recipient)))
        ORDER BY o.id
    LOOP
        ids := ARRAY[r.recipient_id, r.st ->> 'user_id', r.st ->> 'recipient_user_id']
               || ARRAY(SELECT v FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.st -> 'contacts') = 'array'
                                                                THEN r.st -> 'contacts' ELSE '[]' END) c,
                                      LATERAL (VALUES (c ->> 'wa_id'), (c ->> 'user_id')) AS w(v));
        parents := ARRAY[r.st ->> 'parent_user_id', r.st ->> 'recipient_parent_user_id']
                   || ARRAY(SELECT c ->> 'parent_user_id'
                            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.st -> 'contacts') = 'array'
                                                           THEN r.st -> 'contacts' ELSE '[]' END) c);
        CONTINUE WHEN r.portfolio_id IS NULL
            OR NOT EXISTS (SELECT 1 FROM unnest(ids || parents) v
                           WHERE antiban.recipient_key(nullif(v, '')) IS NOT NULL
                             AND antiban.recipient_key(nullif(v, '')) IS DISTINCT FROM antiban.recipient_key(r.recipient));
        -- (what Meta wrote that names nobody is left out of the link)
        PERFORM antiban.link_identifiers(r.portfolio_id, antiban.readable_identifiers(r.recipient || ids), 'status',
                                         antiban.readable_identifiers(parents),
                                         format('status of %s', r.wamid));
        linked := linked + 1;
    END LOOP;
    RETURN linked;
END
$$;
COMMENT ON FUNCTION antiban.link_status_recipients(antiban.webhook_status_item[]) IS
    'Internal (antiban.apply_statuses): the identifiers a status gives for our message''s recipient (recipient_id, user_id, parent ids, contacts[]) become the same person.';
