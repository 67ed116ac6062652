-- Template fields: status, quality, category.

CREATE FUNCTION antiban.template_row(waba text, meta_id text, template_name text, template_language text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    row_id bigint;
BEGIN
    INSERT INTO antiban.templates (waba_id, template_id, name, language)
    VALUES ((SELECT w.id FROM antiban.wabas w WHERE w.waba_id = waba), meta_id, template_name,
            coalesce(template_language, ''))
    ON CONFLICT ON CONSTRAINT templates_waba_id_name_language_key
    DO UPDATE SET template_id = coalesce(excluded.template_id, antiban.templates.template_id)
    RETURNING id INTO row_id;
    RETURN row_id;
END
$$;

CREATE FUNCTION antiban.apply_template_status(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    event text := value ->> 'event';
    t bigint := antiban.template_row(waba, value ->> 'message_template_id', value ->> 'message_template_name',
                                     value ->> 'message_template_language');
BEGIN
    UPDATE antiban.templates SET status = event, reason = value ->> 'reason',
           category = coalesce(value ->> 'message_template_category', category), updated_at = now()
    WHERE id = t;
    IF event IN ('PAUSED', 'DISABLED', 'REJECTED', 'FLAGGED', 'LOCKED') THEN
        PERFORM antiban.raise_alert(CASE WHEN event IN ('DISABLED', 'LOCKED') THEN 'critical' ELSE 'warning' END::antiban.alert_severity,
            NULL, 'template_' || lower(event),
            format('template %s (%s) is %s%s', value ->> 'message_template_name', value ->> 'message_template_language',
                   event, coalesce(': ' || nullif(value ->> 'reason', 'NONE'), '')),
            concat_ws('/', value ->> 'message_template_name', value ->> 'message_template_language'));
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.apply_template_quality(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t bigint := antiban.template_row(waba, value ->> 'message_template_id', value ->> 'message_template_name',
                                     value ->> 'message_template_language');
    worse boolean := array_position(ARRAY['GREEN', 'YELLOW', 'RED'], value ->> 'new_quality_score')
                     > coalesce(array_position(ARRAY['GREEN', 'YELLOW', 'RED'], value ->> 'previous_quality_score'), 1);
BEGIN
    UPDATE antiban.templates SET quality = value ->> 'new_quality_score', updated_at = now() WHERE id = t;
    IF worse THEN
        PERFORM antiban.raise_alert('warning', NULL, 'template_quality_dropped',
            format('template %s quality %s -> %s', value ->> 'message_template_name',
                   value ->> 'previous_quality_score', value ->> 'new_quality_score'),
            concat_ws('/', value ->> 'message_template_name', value ->> 'message_template_language'));
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.apply_template_category(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t bigint := antiban.template_row(waba, value ->> 'message_template_id', value ->> 'message_template_name',
                                     value ->> 'message_template_language');
BEGIN
    UPDATE antiban.templates SET previous_category = coalesce(value ->> 'previous_category', category),
           category = coalesce(value ->> 'new_category', category), updated_at = now()
    WHERE id = t;
    PERFORM antiban.raise_alert('info', NULL, 'template_category_changed',
        format('template %s: %s -> %s (billed at the new category)', value ->> 'message_template_name',
               coalesce(value ->> 'previous_category', value ->> 'correct_category'), value ->> 'new_category'),
        concat_ws('/', value ->> 'message_template_name', value ->> 'message_template_language'));
    RETURN 1;
END
$$;
