-- user_preferences: a person stops or resumes marketing.

CREATE FUNCTION antiban.apply_user_preferences(waba text, value jsonb, received timestamptz,
                                               OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p jsonb;
    stop boolean;
    contact bigint;
    phone_number text;
    at timestamptz;
    late text;
BEGIN
    applied := 0;
    problems := '{}';
    FOR p IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'user_preferences', '[]')) x
             WHERE x ->> 'category' = 'marketing_messages' LOOP
        stop := p ->> 'value' = 'stop';
        SELECT t.at, t.problem INTO at, late FROM antiban.webhook_time(p ->> 'timestamp', received) t;
        IF late IS NOT NULL THEN
            problems := problems || format('user %s: %s', coalesce(nullif(p ->> 'wa_id', ''), p ->> 'user_id'), late);
        END IF;
        contact := antiban.contact_for(nullif(p ->> 'wa_id', ''), nullif(p ->> 'user_id', ''), NULL, at, NULL);
        UPDATE antiban.contacts SET marketing_opt_out = stop, opt_out_at = at,
               opt_out_source = 'user_preferences webhook'
        WHERE id = contact;
        -- consent is per portfolio: apply it through any number of this WABA
        FOR phone_number IN SELECT n.phone_number_id FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
                            WHERE w.waba_id = waba LIMIT 1 LOOP
            PERFORM antiban.set_marketing_opt_out(
                CASE WHEN p ->> 'wa_id' <> '' THEN '+' || (p ->> 'wa_id') ELSE p ->> 'user_id' END, phone_number, stop);
        END LOOP;
        applied := applied + 1;
    END LOOP;
END
$$;
