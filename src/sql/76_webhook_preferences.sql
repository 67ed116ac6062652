-- user_preferences: a person stops or resumes marketing, at a time of their own.
--
-- Applied by that time, not by arrival: Meta retries and reorders, so an
-- older resume arriving after a newer stop changes nothing.  A resume is not
-- a block (only a stop stamps opt_out_at, which health counts), and a
-- preference is not a message: it touches neither the last inbound time nor
-- the number the person last wrote to.

CREATE FUNCTION antiban.apply_user_preferences(waba text, value jsonb, received timestamptz,
                                               OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p jsonb;
    stop boolean;
    wa text;
    uid text;
    parent text;
    who text;
    portfolio bigint;
    person bigint;
    contact bigint;
    phone_number text;
    at timestamptz;
    late text;
BEGIN
    applied := 0;
    problems := '{}';
    SELECT w.portfolio_id INTO portfolio FROM antiban.wabas w WHERE w.waba_id = waba;
    -- consent is per portfolio: it reaches decisions through one of its numbers, this WABA's first
    SELECT n.phone_number_id INTO phone_number
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
    WHERE w.portfolio_id = portfolio ORDER BY w.waba_id = waba DESC, n.id LIMIT 1;
    FOR p IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'user_preferences', '[]')) x
             WHERE x ->> 'category' = 'marketing_messages' LOOP
        wa := nullif(p ->> 'wa_id', '');
        uid := nullif(p ->> 'user_id', '');
        parent := nullif(p ->> 'parent_user_id', '');
        IF p ->> 'value' IS DISTINCT FROM 'stop' AND p ->> 'value' IS DISTINCT FROM 'resume' THEN
            problems := problems || format('user %s: preference %s is neither stop nor resume: not applied',
                                           coalesce(wa, uid, '(none)'), coalesce(p ->> 'value', 'null'));
            CONTINUE;
        END IF;
        stop := p ->> 'value' = 'stop';
        SELECT t.at, t.problem INTO at, late FROM antiban.webhook_time(p ->> 'timestamp', received) t;
        IF late IS NOT NULL THEN
            problems := problems || format('user %s: %s', coalesce(wa, uid), late);
        END IF;
        IF portfolio IS NULL THEN
            problems := problems || format('user %s: WABA %s is not registered: preference not applied',
                                           coalesce(wa, uid, '(none)'), coalesce(waba, '(none)'));
            CONTINUE;
        END IF;
        IF antiban.unreadable_identifiers(ARRAY[wa, uid, parent]) IS NOT NULL THEN
            problems := problems || format('user %s: %s names nobody antiban can read: not linked',
                                           coalesce(wa, uid), antiban.unreadable_identifiers(ARRAY[wa, uid, parent]));
        END IF;
        person := antiban.link_identifiers(portfolio, antiban.readable_identifiers(ARRAY[wa, uid]), 'preferences',
                                           antiban.readable_identifiers(ARRAY[parent]),
                                           format('user_preferences %s at %s', p ->> 'value', p ->> 'timestamp'));
        IF person IS NULL THEN
            problems := problems || 'a preference without wa_id or user_id: not applied';
            CONTINUE;
        END IF;
        contact := antiban.contact_of(person, portfolio, wa, uid, parent, at);
        UPDATE antiban.contacts k SET marketing_opt_out = stop, consent_at = at,
               opt_out_at = CASE WHEN stop THEN at ELSE k.opt_out_at END,
               opt_out_source = 'user_preferences webhook'
        WHERE k.id = contact
          AND antiban.consent_event_wins(antiban.contact_consent_at(k), k.marketing_opt_out, at, stop);
        -- any identifier of the person will do: the rule reaches all of them
        who := coalesce('+' || wa, uid, parent);
        IF phone_number IS NOT NULL THEN
            PERFORM antiban.set_marketing_opt_out(who, phone_number, stop, at, 'user_preferences');
        END IF;
        applied := applied + 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.apply_user_preferences(text, jsonb, timestamptz) IS
    'Apply a user_preferences change: each marketing stop or resume goes to the person its wa_id, user_id or parent_user_id names in the WABA''s portfolio, by the time the person said it (an older one changes nothing; a resume is not a block; it is not an inbound message).';
