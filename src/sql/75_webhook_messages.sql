-- Inbound messages: contacts, interactions, the service window, stop requests.

CREATE FUNCTION antiban.contact_for(wa text, uid text, name text, at timestamptz, phone_number text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    found_id bigint;
BEGIN
    SELECT id INTO found_id FROM antiban.contacts
    WHERE (wa IS NOT NULL AND wa_id = wa) OR (uid IS NOT NULL AND user_id = uid)
    ORDER BY (wa_id = wa) DESC NULLS LAST LIMIT 1;
    IF found_id IS NULL THEN
        INSERT INTO antiban.contacts (wa_id, user_id, profile_name, first_seen_at, last_inbound_at, last_phone_number_id)
        VALUES (wa, uid, name, at, at, phone_number)
        ON CONFLICT DO NOTHING RETURNING id INTO found_id;
        IF found_id IS NULL THEN
            RETURN antiban.contact_for(wa, uid, name, at, phone_number);
        END IF;
        RETURN found_id;
    END IF;
    UPDATE antiban.contacts SET wa_id = coalesce(wa_id, wa), user_id = coalesce(user_id, uid),
        profile_name = coalesce(name, profile_name),
        last_inbound_at = greatest(last_inbound_at, at),
        last_phone_number_id = CASE WHEN at >= coalesce(last_inbound_at, at) THEN phone_number ELSE last_phone_number_id END
    WHERE id = found_id;
    RETURN found_id;
END
$$;

-- What a person reads in an inbound message, whatever its type.
CREATE FUNCTION antiban.message_text(m jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(m -> 'text' ->> 'body', m -> 'button' ->> 'text',
                m -> 'interactive' -> 'button_reply' ->> 'title', m -> 'interactive' -> 'list_reply' ->> 'title',
                m -> 'reaction' ->> 'emoji', m -> (m ->> 'type') ->> 'caption', m -> 'location' ->> 'name');

-- What an inbound message says about marketing, read by its type: what the
-- person typed is text; a template quick reply or an interactive reply is a
-- button the business defined (its payload or id, then its label).
CREATE FUNCTION antiban.stop_verdict_of(m jsonb,
                                        OUT verdict text, OUT rule text, OUT explanation text,
                                        OUT source text, OUT message text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.verdict, c.rule, c.explanation, x.source, x.message
    FROM (VALUES
            (1, CASE m ->> 'type' WHEN 'button' THEN 'button' WHEN 'interactive' THEN 'interactive' ELSE 'text' END,
             antiban.message_text(m)),
            (2, 'button', m -> 'button' ->> 'payload'),
            (3, 'interactive', coalesce(m -> 'interactive' -> 'button_reply' ->> 'id',
                                        m -> 'interactive' -> 'list_reply' ->> 'id'))) AS x(n, source, message)
         CROSS JOIN LATERAL antiban.classify_stop(x.message, x.source) c
    WHERE x.message IS NOT NULL
    ORDER BY CASE c.verdict WHEN 'stop' THEN 0 WHEN 'doubtful' THEN 1 ELSE 2 END, x.n
    LIMIT 1;
END;
COMMENT ON FUNCTION antiban.stop_verdict_of(jsonb) IS
    'The stop verdict of an inbound message object (Meta''s value.messages[i]): its typed text, or its button payload, id or label as a business-defined button; the most decided verdict wins (stop, then doubtful). NULL for a message with no text.';

CREATE FUNCTION antiban.apply_messages(waba text, value jsonb, received timestamptz, event bigint,
                                       OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    m jsonb;
    c jsonb;
    phone_number text := value -> 'metadata' ->> 'phone_number_id';
    ours boolean;
    wa text;
    uid text;
    who text;
    at timestamptz;
    late text;
    contact bigint;
    inserted bigint;
    stop record;
BEGIN
    applied := 0;
    problems := '{}';
    ours := EXISTS (SELECT 1 FROM antiban.numbers n WHERE n.phone_number_id = phone_number);
    FOR m IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'messages', '[]')) x LOOP
        -- a message Meta posts again (same or another envelope) was applied already
        CONTINUE WHEN EXISTS (SELECT 1 FROM antiban.interactions i WHERE i.wamid = m ->> 'id');
        wa := nullif(m ->> 'from', '');
        uid := nullif(coalesce(m ->> 'from_user_id', m ->> 'user_id'), '');
        SELECT x INTO c FROM jsonb_array_elements(coalesce(value -> 'contacts', '[]')) x
        WHERE (wa IS NOT NULL AND x ->> 'wa_id' = wa) OR (uid IS NOT NULL AND x ->> 'user_id' = uid) LIMIT 1;
        uid := coalesce(uid, nullif(c ->> 'user_id', ''));
        SELECT t.at, t.problem INTO at, late FROM antiban.webhook_time(m ->> 'timestamp', received) t;
        contact := antiban.contact_for(wa, uid, c -> 'profile' ->> 'name', at, phone_number);
        INSERT INTO antiban.interactions (contact_id, direction, wamid, phone_number_id, message_type,
                                          body, payload, context_wamid, occurred_at)
        VALUES (contact, 'in', m ->> 'id', phone_number, coalesce(m ->> 'type', 'unknown'),
                antiban.message_text(m), antiban.inbound_payload(m), m -> 'context' ->> 'id', at)
        ON CONFLICT (wamid) DO NOTHING RETURNING id INTO inserted;
        CONTINUE WHEN inserted IS NULL;    -- posted twice at once: the other one applied it
        applied := applied + 1;
        IF late IS NOT NULL THEN
            problems := problems || format('message %s: %s', m ->> 'id', late);
        END IF;
        who := CASE WHEN wa IS NOT NULL THEN '+' || wa ELSE uid END;
        IF m ? 'referral' THEN
            UPDATE antiban.contacts SET referral = m -> 'referral', free_entry_until = at + interval '72 hours'
            WHERE id = contact;
        END IF;
        CONTINUE WHEN NOT ours OR who IS NULL;
        -- the 24 h customer-service window opens (or refreshes) on this number
        PERFORM antiban.open_service_window(who, phone_number, at + interval '24 hours');
        -- a stop request blocks marketing at once; a doubtful one waits for a person
        SELECT * INTO stop FROM antiban.stop_verdict_of(m);
        IF stop.verdict = 'stop' THEN
            UPDATE antiban.contacts SET marketing_opt_out = true, opt_out_at = at,
                   opt_out_source = format('message %s (%s)', m ->> 'id', stop.rule)
            WHERE id = contact;
            PERFORM antiban.set_marketing_opt_out(who, phone_number, true);
        ELSIF stop.verdict = 'doubtful' THEN
            INSERT INTO antiban.stop_reviews (contact_id, wamid, phone_number_id, message, source,
                                              verdict, rule, explanation)
            VALUES (contact, m ->> 'id', phone_number, stop.message, stop.source,
                    stop.verdict, stop.rule, stop.explanation)
            ON CONFLICT (wamid) DO NOTHING;
        END IF;
    END LOOP;
    -- value.errors: system or app-level errors Meta reports without a message, once per change
    IF jsonb_array_length(coalesce(value -> 'errors', '[]')) > 0
       AND antiban.claim_change(waba, 'messages', NULL, value, event, received) THEN
        PERFORM antiban.raise_alert('warning', phone_number, 'webhook_error', value ->> 'errors');
    END IF;
    -- statuses were applied for the whole event first, in outbox id order
    IF value ? 'statuses' AND jsonb_typeof(value -> 'statuses') <> 'array' THEN
        RAISE EXCEPTION 'statuses is not an array';
    END IF;
END
$$;
