-- Inbound messages: contacts, interactions, the service window, stop requests.

-- The contact (profile) of a person: found, or made with what is known of
-- them.  inbound_on: the number an inbound message written at 'seen' came
-- in on (its time, name and number are the contact's latest if newer); NULL
-- for anything that is not a message from the person (a preference, a
-- system event), which touches none of them.
CREATE FUNCTION antiban.contact_of(person bigint, portfolio bigint, wa text, uid text, parent text,
                                   seen timestamptz, name text DEFAULT NULL, inbound_on text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    found_id bigint;
BEGIN
    UPDATE antiban.contacts k SET
        wa_id = CASE WHEN inbound_on IS NOT NULL AND seen >= coalesce(k.last_inbound_at, seen)
                     THEN coalesce(wa, k.wa_id) ELSE coalesce(k.wa_id, wa) END,
        user_id = coalesce(uid, k.user_id),
        parent_user_id = coalesce(parent, k.parent_user_id),
        profile_name = CASE WHEN inbound_on IS NOT NULL THEN coalesce(name, k.profile_name) ELSE k.profile_name END,
        last_inbound_at = CASE WHEN inbound_on IS NOT NULL THEN greatest(k.last_inbound_at, seen) ELSE k.last_inbound_at END,
        last_phone_number_id = CASE WHEN inbound_on IS NOT NULL AND seen >= coalesce(k.last_inbound_at, seen)
                                    THEN inbound_on ELSE k.last_phone_number_id END
    WHERE k.person_id = person
    RETURNING k.id INTO found_id;
    IF found_id IS NOT NULL THEN
        RETURN found_id;
    END IF;
    INSERT INTO antiban.contacts (portfolio_id, person_id, wa_id, user_id, parent_user_id, profile_name,
                                  first_seen_at, last_inbound_at, last_phone_number_id)
    VALUES (portfolio, person, wa, uid, parent, name, seen,
            CASE WHEN inbound_on IS NOT NULL THEN seen END, inbound_on)
    ON CONFLICT (person_id) DO NOTHING RETURNING id INTO found_id;
    IF found_id IS NULL THEN        -- made meanwhile by another webhook: touch that one
        RETURN antiban.contact_of(person, portfolio, wa, uid, parent, seen, name, inbound_on);
    END IF;
    RETURN found_id;
END
$$;
COMMENT ON FUNCTION antiban.contact_of(bigint, bigint, text, text, text, timestamptz, text, text) IS
    'The contact of a person (made if they have none), one per person whichever identifier they use; an inbound message (inbound_on: its number) also stamps the latest message time, name, phone and number.';

-- The effective time of the consent a contact holds (a stop stored before
-- consent_at was kept counts from its opt_out_at).
CREATE FUNCTION antiban.contact_consent_at(k antiban.contacts) RETURNS timestamptz
LANGUAGE sql STABLE
RETURN coalesce(k.consent_at, CASE WHEN k.marketing_opt_out THEN k.opt_out_at END);
COMMENT ON FUNCTION antiban.contact_consent_at(antiban.contacts) IS
    'Internal: the event time of the stop or resume in force on a contact (consent_at; for rows kept before it existed, opt_out_at of an opt-out), compared by antiban.consent_event_wins.';

-- Two persons were one: their contacts become the kept person's.
CREATE FUNCTION antiban.merge_contacts(kept bigint, merged bigint) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k antiban.contacts;
    m antiban.contacts;
    m_newer boolean;
    m_consent boolean;
BEGIN
    SELECT * INTO m FROM antiban.contacts WHERE person_id = merged FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO k FROM antiban.contacts WHERE person_id = kept FOR UPDATE;
    IF NOT FOUND THEN
        UPDATE antiban.contacts SET person_id = kept WHERE id = m.id;
        RETURN;
    END IF;
    UPDATE antiban.interactions SET contact_id = k.id WHERE contact_id = m.id;
    UPDATE antiban.stop_reviews SET contact_id = k.id WHERE contact_id = m.id;
    m_newer := coalesce(m.last_inbound_at, '-infinity') > coalesce(k.last_inbound_at, '-infinity');
    m_consent := antiban.consent_event_wins(antiban.contact_consent_at(k), k.marketing_opt_out,
                                            coalesce(antiban.contact_consent_at(m), '-infinity'), m.marketing_opt_out)
                 AND (antiban.contact_consent_at(m) IS NOT NULL OR m.marketing_opt_out);
    UPDATE antiban.contacts SET
        wa_id = CASE WHEN m_newer THEN coalesce(m.wa_id, k.wa_id) ELSE coalesce(k.wa_id, m.wa_id) END,
        user_id = CASE WHEN m_newer THEN coalesce(m.user_id, k.user_id) ELSE coalesce(k.user_id, m.user_id) END,
        parent_user_id = coalesce(k.parent_user_id, m.parent_user_id),
        profile_name = CASE WHEN m_newer THEN coalesce(m.profile_name, k.profile_name) ELSE coalesce(k.profile_name, m.profile_name) END,
        first_seen_at = least(k.first_seen_at, m.first_seen_at),
        last_inbound_at = greatest(k.last_inbound_at, m.last_inbound_at),
        last_phone_number_id = CASE WHEN m_newer THEN m.last_phone_number_id ELSE k.last_phone_number_id END,
        marketing_opt_out = CASE WHEN m_consent THEN m.marketing_opt_out ELSE k.marketing_opt_out END,
        consent_at = CASE WHEN m_consent THEN antiban.contact_consent_at(m) ELSE k.consent_at END,
        opt_out_source = CASE WHEN m_consent THEN m.opt_out_source ELSE k.opt_out_source END,
        opt_out_at = greatest(k.opt_out_at, m.opt_out_at),
        referral = CASE WHEN coalesce(m.free_entry_until, '-infinity') > coalesce(k.free_entry_until, '-infinity')
                        THEN m.referral ELSE coalesce(k.referral, m.referral) END,
        free_entry_until = greatest(k.free_entry_until, m.free_entry_until)
    WHERE id = k.id;
    DELETE FROM antiban.contacts WHERE id = m.id;
END
$$;
COMMENT ON FUNCTION antiban.merge_contacts(bigint, bigint) IS
    'Internal (antiban.merge_persons): the merged person''s contact joins the kept one''s: interactions and stop reviews move, the latest inbound gives the phone, name and number, consent follows the later statement, a block is counted once.';

-- What a person reads in an inbound message, whatever its type.
CREATE FUNCTION antiban.message_text(m jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(m -> 'text' ->> 'body', m -> 'button' ->> 'text',
                m -> 'interactive' -> 'button_reply' ->> 'title', m -> 'interactive' -> 'list_reply' ->> 'title',
                m -> 'reaction' ->> 'emoji', m -> (m ->> 'type') ->> 'caption', m -> 'location' ->> 'name');
COMMENT ON FUNCTION antiban.message_text(jsonb) IS
    'The human-readable text of an inbound message object of Meta''s webhook (messages[]): text body, template button text, interactive reply title, reaction emoji, media caption or location name; NULL when it has none.';

-- What an inbound message says about marketing, read by its type: what the
-- person typed is text; a template quick reply or an interactive reply is a
-- button the business defined (its payload or id, then its label).
-- (A set of at most one row, so the planner inlines it into the statement
-- that calls it, whose plan is kept: a function returning one record is
-- parsed and planned again at every call, per inbound message.)
CREATE FUNCTION antiban.stop_verdict_of(m jsonb)
RETURNS TABLE (verdict text, rule text, explanation text, source text, message text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1
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
    'The stop verdict of an inbound message object (Meta''s value.messages[i]): its typed text, or its button payload, id or label as a business-defined button; the most decided verdict wins (stop, then doubtful). One row, none for a message with no text.';

-- Inbound messages: who wrote (one person, whichever identifiers the message
-- carries; a reply quoting our message ties its recipient to them; a system
-- message about a changed number ties the new one), the contact, the
-- interaction, the service window and stop requests, all for that person.
CREATE FUNCTION antiban.apply_messages(waba text, value jsonb, received timestamptz, event bigint,
                                       OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    m jsonb;
    c jsonb;
    phone_number text := value -> 'metadata' ->> 'phone_number_id';
    portfolio bigint;
    ours boolean;
    wa text;
    uid text;
    parent text;
    new_ids text[];
    who text;
    at timestamptz;
    late text;
    person bigint;
    contact bigint;
    inserted bigint;
    quoted record;
    stop record;
BEGIN
    applied := 0;
    problems := '{}';
    SELECT w.portfolio_id INTO portfolio
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id WHERE n.phone_number_id = phone_number;
    ours := portfolio IS NOT NULL;
    IF NOT ours THEN
        SELECT w.portfolio_id INTO portfolio FROM antiban.wabas w WHERE w.waba_id = waba;
    END IF;
    FOR m IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'messages', '[]')) x LOOP
        -- a message Meta posts again (same or another envelope) was applied already
        CONTINUE WHEN EXISTS (SELECT 1 FROM antiban.interactions i WHERE i.wamid = m ->> 'id');
        wa := nullif(m ->> 'from', '');
        uid := nullif(coalesce(m ->> 'from_user_id', m ->> 'user_id'), '');
        SELECT x INTO c FROM jsonb_array_elements(coalesce(value -> 'contacts', '[]')) x
        WHERE (wa IS NOT NULL AND x ->> 'wa_id' = wa) OR (uid IS NOT NULL AND x ->> 'user_id' = uid) LIMIT 1;
        uid := coalesce(uid, nullif(c ->> 'user_id', ''));
        parent := nullif(coalesce(m ->> 'from_parent_user_id', c ->> 'parent_user_id'), '');
        SELECT t.at, t.problem INTO at, late FROM antiban.webhook_time(m ->> 'timestamp', received) t;
        IF portfolio IS NULL THEN
            problems := problems || format('message %s: neither number %s nor WABA %s is registered: not applied',
                                           m ->> 'id', coalesce(phone_number, '(none)'), coalesce(waba, '(none)'));
            CONTINUE;
        END IF;
        -- "User X changed from <old> to <new>": the new number (or id) is the same person
        new_ids := CASE WHEN m ->> 'type' = 'system'
                        THEN array_remove(ARRAY[nullif(m -> 'system' ->> 'wa_id', ''),
                                                nullif(m -> 'system' ->> 'user_id', '')], NULL) ELSE '{}' END;
        -- an identifier Meta wrote that names nobody is left out of the link, and said
        IF antiban.unreadable_identifiers(ARRAY[wa, uid, parent, m -> 'system' ->> 'parent_user_id'] || new_ids) IS NOT NULL THEN
            problems := problems || format('message %s: %s names nobody antiban can read: not linked', m ->> 'id',
                antiban.unreadable_identifiers(ARRAY[wa, uid, parent, m -> 'system' ->> 'parent_user_id'] || new_ids));
        END IF;
        person := antiban.link_identifiers(portfolio, antiban.readable_identifiers(ARRAY[wa, uid] || new_ids),
                                           CASE WHEN cardinality(new_ids) > 0 THEN 'changed_number' ELSE 'inbound' END,
                                           -- a changed user id may come with a new parent id too
                                           antiban.readable_identifiers(
                                               ARRAY[parent, CASE WHEN m ->> 'type' = 'system'
                                                                  THEN nullif(m -> 'system' ->> 'parent_user_id', '') END]),
                                           format('message %s', m ->> 'id'));
        IF person IS NULL THEN
            problems := problems || format('message %s: no sender (from, from_user_id) to apply it to', m ->> 'id');
            CONTINUE;
        END IF;
        -- a reply quoting our message was written by the person we sent it to
        IF m -> 'context' ->> 'id' IS NOT NULL AND m -> 'context' ->> 'forwarded' IS DISTINCT FROM 'true' THEN
            SELECT o.id, o.wamid, o.recipient INTO quoted FROM antiban.outbox o
            WHERE o.wamid = m -> 'context' ->> 'id' AND o.portfolio_id = portfolio AND o.recipient IS NOT NULL;
            IF FOUND THEN
                person := antiban.link_identifiers(portfolio, antiban.readable_identifiers(ARRAY[wa, uid, quoted.recipient]),
                                                   'context', antiban.readable_identifiers(ARRAY[parent]),
                                                   format('message %s quoting %s (outbox %s)', m ->> 'id', quoted.wamid, quoted.id));
            END IF;
        END IF;
        contact := antiban.contact_of(person, portfolio, coalesce(nullif(m -> 'system' ->> 'wa_id', ''), wa), uid, parent, at,
                                      c -> 'profile' ->> 'name',
                                      CASE WHEN m ->> 'type' IS DISTINCT FROM 'system' THEN phone_number END);
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
        IF cardinality(new_ids) > 0 THEN
            -- the person now writes from here; the event itself is not a message from them
            UPDATE antiban.contacts SET wa_id = coalesce(nullif(m -> 'system' ->> 'wa_id', ''), wa_id),
                   user_id = coalesce(nullif(m -> 'system' ->> 'user_id', ''), user_id)
            WHERE id = contact;
            CONTINUE;
        END IF;
        CONTINUE WHEN m ->> 'type' = 'system';
        IF m ? 'referral' THEN
            UPDATE antiban.contacts SET referral = m -> 'referral', free_entry_until = at + interval '72 hours'
            WHERE id = contact;
        END IF;
        who := CASE WHEN wa IS NOT NULL THEN '+' || wa ELSE uid END;
        CONTINUE WHEN NOT ours OR who IS NULL;
        -- the 24 h customer-service window opens (or refreshes) on this number, for the person
        PERFORM antiban.open_service_window(who, phone_number, at + interval '24 hours');
        -- a stop request blocks marketing at once; a doubtful one waits for a person
        SELECT * INTO stop FROM antiban.stop_verdict_of(m);
        IF stop.verdict = 'stop' THEN
            UPDATE antiban.contacts k SET marketing_opt_out = true, opt_out_at = at, consent_at = at,
                   opt_out_source = format('message %s (%s)', m ->> 'id', stop.rule)
            WHERE k.id = contact
              AND antiban.consent_event_wins(antiban.contact_consent_at(k), k.marketing_opt_out, at, true);
            PERFORM antiban.set_marketing_opt_out(who, phone_number, true, at, 'stop_request');
        ELSIF stop.verdict = 'doubtful' THEN
            INSERT INTO antiban.stop_reviews (contact_id, wamid, phone_number_id, message, source,
                                              verdict, rule, explanation)
            VALUES (contact, m ->> 'id', phone_number, stop.message, stop.source,
                    stop.verdict, stop.rule, stop.explanation)
            ON CONFLICT (wamid) DO NOTHING;
        END IF;
    END LOOP;
    -- every conversation is a lead: the messages applied here, in one batch (84_lead_flow.sql)
    PERFORM antiban.note_inbound_messages(value);
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
COMMENT ON FUNCTION antiban.apply_messages(text, jsonb, timestamptz, bigint) IS
    'Apply the inbound messages of a messages change: the person who wrote (linked across phone, BSUID, parent BSUID, a changed number, a quoted message of ours), their contact and interaction, the 24 h window on that number and stop requests (by the message''s time). A message to a number and WABA that are not registered is not applied.';
