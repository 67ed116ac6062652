-- Template fields: status, quality, category.
--
-- A template is (WABA, name, language) with the language in Meta's form
-- (antiban.template_language: en-US and en_US are one template).  Each
-- field's events apply in Meta's order: an older event about the same
-- template arriving later is kept as a problem (antiban.claim_event_order).

CREATE FUNCTION antiban.template_row(waba text, meta_id text, template_name text, template_language text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    row_id bigint;
BEGIN
    INSERT INTO antiban.templates (waba_id, template_id, name, language)
    VALUES ((SELECT w.id FROM antiban.wabas w WHERE w.waba_id = waba), meta_id, template_name,
            coalesce(antiban.template_language(template_language), ''))
    ON CONFLICT ON CONSTRAINT templates_waba_id_name_language_key
    DO UPDATE SET template_id = coalesce(excluded.template_id, antiban.templates.template_id)
    RETURNING id INTO row_id;
    RETURN row_id;
END
$$;

-- Which template an event is about, and whether it is the newest about that
-- aspect of it (status, quality or category); NULL row when it is older.
CREATE FUNCTION antiban.template_event(waba text, value jsonb, aspect text, what text, at timestamptz, event bigint,
                                       OUT row_id bigint, OUT label text, OUT late text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    template_name text := value ->> 'message_template_name';
    language text := antiban.template_language(value ->> 'message_template_language');
BEGIN
    label := format('%s (%s)', template_name, language);
    late := antiban.claim_event_order(format('template %s %s %s %s', waba, template_name, language, aspect),
                                      format('%s for template %s of WABA %s', what, label, waba), at, event);
    IF late IS NULL THEN
        row_id := antiban.template_row(waba, value ->> 'message_template_id', template_name, language);
    END IF;
END
$$;

CREATE FUNCTION antiban.template_subject(value jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN concat_ws('/', value ->> 'message_template_name', antiban.template_language(value ->> 'message_template_language'));

CREATE FUNCTION antiban.apply_template_status(waba text, value jsonb, at timestamptz, event bigint,
                                              OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    kind text := value ->> 'event';
    t record;
    -- approved again: what Meta said against it no longer holds
    cleared boolean := kind IN ('APPROVED', 'REINSTATED');
    disable_date timestamptz := antiban.meta_time(value -> 'disable_info' ->> 'disable_date');
    kept record;
BEGIN
    applied := 1;
    problems := '{}';
    SELECT * INTO t FROM antiban.template_event(waba, value, 'status', coalesce(kind, 'status update'), at, event);
    IF t.late IS NOT NULL THEN
        problems := ARRAY[t.late];
        RETURN;
    END IF;
    -- REINSTATED: sendable again, which is what APPROVED means to a sender
    UPDATE antiban.templates tp SET status = CASE WHEN kind = 'REINSTATED' THEN 'APPROVED' ELSE kind END,
           reason = value ->> 'reason', category = coalesce(value ->> 'message_template_category', tp.category),
           rejection_reason = CASE WHEN cleared THEN NULL ELSE coalesce(value -> 'rejection_info' ->> 'reason', tp.rejection_reason) END,
           rejection_recommendation = CASE WHEN cleared THEN NULL
                                           ELSE coalesce(value -> 'rejection_info' ->> 'recommendation', tp.rejection_recommendation) END,
           disable_at = CASE WHEN cleared THEN NULL ELSE coalesce(disable_date, tp.disable_at) END,
           updated_at = now()
    WHERE tp.id = t.row_id
    RETURNING tp.rejection_reason, tp.rejection_recommendation, tp.disable_at INTO kept;
    IF kind IN ('PAUSED', 'DISABLED', 'REJECTED', 'FLAGGED', 'LOCKED') THEN
        PERFORM antiban.raise_alert(CASE WHEN kind IN ('DISABLED', 'LOCKED') THEN 'critical' ELSE 'warning' END::antiban.alert_severity,
            NULL, 'template_' || lower(kind),
            format('template %s is %s%s%s%s', t.label, kind, coalesce(': ' || nullif(value ->> 'reason', 'NONE'), ''),
                   coalesce(' (Meta: "' || kept.rejection_reason || '"'
                            || coalesce('; recommendation: "' || kept.rejection_recommendation || '"', '') || ')', ''),
                   coalesce(CASE WHEN kept.disable_at > antiban.now() THEN '; Meta disables it on ' ELSE '; disabled on ' END
                            || to_char(kept.disable_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), '')),
            antiban.template_subject(value), waba);
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.apply_template_status(text, jsonb, timestamptz, bigint) IS
    'Apply a message_template_status_update of Meta''s time at: status and reason, Meta''s rejection reason and recommendation, the disable date; an alert for a pause, rejection, flag, lock or disable.';

CREATE FUNCTION antiban.apply_template_quality(waba text, value jsonb, at timestamptz, event bigint,
                                               OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t record;
    worse boolean := array_position(ARRAY['GREEN', 'YELLOW', 'RED'], value ->> 'new_quality_score')
                     > coalesce(array_position(ARRAY['GREEN', 'YELLOW', 'RED'], value ->> 'previous_quality_score'), 1);
BEGIN
    applied := 1;
    problems := '{}';
    SELECT * INTO t FROM antiban.template_event(waba, value, 'quality',
        format('quality %s', value ->> 'new_quality_score'), at, event);
    IF t.late IS NOT NULL THEN
        problems := ARRAY[t.late];
        RETURN;
    END IF;
    UPDATE antiban.templates SET quality = value ->> 'new_quality_score', updated_at = now() WHERE id = t.row_id;
    IF worse THEN
        PERFORM antiban.raise_alert('warning', NULL, 'template_quality_dropped',
            format('template %s quality %s -> %s', t.label,
                   value ->> 'previous_quality_score', value ->> 'new_quality_score'),
            antiban.template_subject(value), waba);
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.apply_template_quality(text, jsonb, timestamptz, bigint) IS
    'Apply a message_template_quality_update of Meta''s time at: the template''s quality, and an alert when it fell.';

-- Meta announces a recategorisation 24 h ahead (correct_category: what it
-- will be, new_category: what it is now, category_update_timestamp: when),
-- then posts the completed change (previous_category -> new_category).
CREATE FUNCTION antiban.apply_template_category(waba text, value jsonb, at timestamptz, event bigint,
                                                OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t record;
    impending boolean := value ? 'correct_category' OR value ? 'category_update_timestamp';
    effective timestamptz := coalesce(antiban.meta_time(value ->> 'category_update_timestamp'), at + interval '24 hours');
    was text;
BEGIN
    applied := 1;
    problems := '{}';
    SELECT * INTO t FROM antiban.template_event(waba, value, 'category',
        CASE WHEN impending THEN 'impending category change' ELSE 'category change' END, at, event);
    IF t.late IS NOT NULL THEN
        problems := ARRAY[t.late];
        RETURN;
    END IF;
    IF impending THEN
        UPDATE antiban.templates tp SET category = coalesce(value ->> 'new_category', tp.category),
               pending_category = value ->> 'correct_category', pending_category_at = effective, updated_at = now()
        WHERE tp.id = t.row_id
        RETURNING tp.category INTO was;
        PERFORM antiban.raise_alert('info', NULL, 'template_category_changing',
            format('template %s will change category from %s to %s on %s: sends from then on are billed as %s',
                   t.label, coalesce(was, 'its current category'), value ->> 'correct_category',
                   to_char(effective AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), value ->> 'correct_category'),
            antiban.template_subject(value), waba);
    ELSE
        SELECT tp.category INTO was FROM antiban.templates tp WHERE tp.id = t.row_id;
        UPDATE antiban.templates tp SET previous_category = coalesce(value ->> 'previous_category', tp.category),
               category = coalesce(value ->> 'new_category', tp.category),
               pending_category = NULL, pending_category_at = NULL, updated_at = now()
        WHERE tp.id = t.row_id;
        PERFORM antiban.raise_alert('info', NULL, 'template_category_changed',
            format('template %s changed category from %s to %s: sends are now billed as %s', t.label,
                   coalesce(value ->> 'previous_category', was, 'an unknown category'), value ->> 'new_category',
                   value ->> 'new_category'),
            antiban.template_subject(value), waba);
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.apply_template_category(text, jsonb, timestamptz, bigint) IS
    'Apply a template_category_update of Meta''s time at: an impending change is kept as pending_category from pending_category_at (the category does not change yet); a completed one sets the category. The alert says what changes, to what, and when.';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.template_row(text,text,text,text) IS
    'The antiban.templates row of a template event (WABA, Meta''s id, name, language normalised), created when first seen.';
COMMENT ON FUNCTION antiban.template_event(text,jsonb,text,text,timestamp with time zone,bigint) IS
    'Which template an event is about and whether it is the newest about that aspect (status, quality or category); no row when it is older than one applied.';
COMMENT ON FUNCTION antiban.template_subject(jsonb) IS
    'An alert subject for a template event: name/language, so alerts about different templates are not de-duplicated together.';
