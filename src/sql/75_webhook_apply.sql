-- Applying webhooks: each change field has its function; the dispatcher runs
-- each change in its own subtransaction so one bad change never blocks the
-- rest of the batch, and records what it could not apply.

CREATE FUNCTION antiban.unix_time(seconds text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN seconds ~ '^[0-9]{1,12}(\.[0-9]+)?$' THEN to_timestamp(seconds::double precision) END;

CREATE FUNCTION antiban.status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END;

CREATE FUNCTION antiban.digits(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(phone, '[^0-9]', '', 'g');

-- One alert per (kind, number, subject) while it is open and recent: a
-- burst of the same signal tells a person once, not a thousand times.
CREATE FUNCTION antiban.raise_alert(severity antiban.alert_severity, phone_number_id text, kind text, detail text,
                                    subject text DEFAULT NULL)
RETURNS boolean LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.alerts (severity, phone_number_id, kind, subject, detail)
    SELECT severity, phone_number_id, kind, subject, detail
    WHERE NOT EXISTS (
        SELECT 1 FROM antiban.alerts a
        WHERE a.kind = raise_alert.kind AND a.phone_number_id IS NOT DISTINCT FROM raise_alert.phone_number_id
          AND a.subject IS NOT DISTINCT FROM raise_alert.subject
          AND a.acknowledged_at IS NULL AND a.created_at > antiban.now() - interval '1 hour')
    RETURNING true;
END;
COMMENT ON FUNCTION antiban.raise_alert(antiban.alert_severity, text, text, text, text) IS
    'Raise an alert unless the same kind for the same number and subject (a template, a portfolio) is still open from the last hour; true when raised.';

-- ---- statuses: sent < delivered < read, failed terminal; pricing ----

CREATE FUNCTION antiban.apply_statuses(value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    act record;
    applied integer := 0;
BEGIN
    -- One statement for the whole batch: rows are locked in id order first
    -- (as the sender does), then updated together; only failures come back
    -- here for their account-level consequences.
    FOR r IN
        WITH s AS (
            SELECT x.id AS wamid, CASE x.status WHEN 'played' THEN 'read' ELSE x.status END AS status,
                   x.biz_opaque_callback_data AS callback, x.pricing, x.errors
            FROM jsonb_to_recordset(coalesce(value -> 'statuses', '[]'))
                 AS x(id text, status text, biz_opaque_callback_data text, pricing jsonb, errors jsonb)
            WHERE x.status IN ('sent', 'delivered', 'read', 'played', 'failed')
        ), matched AS (
            -- our outbox id travels in biz_opaque_callback_data; else the wamid
            SELECT o.id, s.*
            FROM s JOIN antiban.outbox o
              ON s.callback ~ '^[0-9]{1,18}$' AND o.id = s.callback::bigint
            UNION ALL
            SELECT o.id, s.*
            FROM s JOIN antiban.outbox o ON o.wamid = s.wamid
            WHERE s.callback IS NULL OR s.callback !~ '^[0-9]{1,18}$'
        ), furthest AS (
            -- one update per message: its furthest status in this batch, pricing from any
            SELECT DISTINCT ON (id) m.*,
                   (SELECT x.pricing FROM matched x WHERE x.id = m.id AND x.pricing IS NOT NULL LIMIT 1) AS price
            FROM matched m ORDER BY id, antiban.status_rank(status) DESC
        ), locked AS (
            SELECT o.id FROM antiban.outbox o WHERE o.id IN (SELECT id FROM furthest) ORDER BY o.id FOR UPDATE
        ), updated AS (
            UPDATE antiban.outbox o SET
                wamid = coalesce(o.wamid, f.wamid),
                state = CASE WHEN antiban.transition_allowed(o.state::text, f.status)
                             THEN f.status::antiban.message_state ELSE o.state END,
                billable = coalesce((f.price ->> 'billable')::boolean, o.billable),
                pricing_model = coalesce(f.price ->> 'pricing_model', o.pricing_model),
                pricing_type = coalesce(f.price ->> 'type', o.pricing_type),
                pricing_category = coalesce(f.price ->> 'category', o.pricing_category),
                error_code = CASE WHEN f.status = 'failed' THEN (f.errors -> 0 ->> 'code')::integer ELSE o.error_code END,
                error_title = CASE WHEN f.status = 'failed' THEN f.errors -> 0 ->> 'title' ELSE o.error_title END,
                error_details = CASE WHEN f.status = 'failed' THEN f.errors -> 0 -> 'error_data' ->> 'details' ELSE o.error_details END,
                reason = CASE WHEN f.status = 'failed' THEN 'failed_after_send' ELSE o.reason END
            FROM furthest f
            WHERE o.id = f.id AND o.id IN (SELECT id FROM locked)
            RETURNING o.id, f.status, f.errors, o.number_id, o.phone_number_id, o.recipient
        )
        SELECT u.*, count(*) OVER () AS total FROM updated u
        ORDER BY u.status = 'failed' DESC, u.id
    LOOP
        applied := r.total;
        EXIT WHEN r.status <> 'failed';
        IF r.errors -> 0 ->> 'code' ~ '^[0-9]{1,9}$' THEN
            IF r.number_id IS NOT NULL THEN
                INSERT INTO antiban.send_errors (number_id, message_id, code, source)
                VALUES (r.number_id, r.id, (r.errors -> 0 ->> 'code')::integer, 'webhook');
            END IF;
            -- the same classification as an error answered at send time
            SELECT * INTO act FROM antiban.error_action((r.errors -> 0 ->> 'code')::integer, 400);
            IF act.action = 'pause_number' THEN
                PERFORM antiban.pause_number(r.number_id, 'number_paused',
                    format('Meta reported %s (%s) for message %s: number paused', r.errors -> 0 ->> 'code', act.meaning, r.id),
                    r.errors -> 0 ->> 'code' <> '131048');
            ELSIF act.action = 'slow_number' THEN
                PERFORM antiban.slow_number(r.number_id);
            END IF;
            IF r.errors -> 0 ->> 'code' = '131050' AND r.recipient IS NOT NULL THEN
                PERFORM antiban.set_marketing_opt_out(r.recipient, r.phone_number_id, true);
            END IF;
        END IF;
    END LOOP;
    RETURN applied;
END
$$;

-- ---- inbound messages: contacts, service window, interactions, consent ----

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

CREATE FUNCTION antiban.apply_messages(value jsonb) RETURNS integer
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
    contact bigint;
    inserted bigint;
    applied integer := 0;
BEGIN
    ours := EXISTS (SELECT 1 FROM antiban.numbers n WHERE n.phone_number_id = phone_number);
    FOR m IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'messages', '[]')) x LOOP
        wa := nullif(m ->> 'from', '');
        uid := nullif(coalesce(m ->> 'from_user_id', m ->> 'user_id'), '');
        SELECT x INTO c FROM jsonb_array_elements(coalesce(value -> 'contacts', '[]')) x
        WHERE (wa IS NOT NULL AND x ->> 'wa_id' = wa) OR (uid IS NOT NULL AND x ->> 'user_id' = uid) LIMIT 1;
        uid := coalesce(uid, nullif(c ->> 'user_id', ''));
        at := coalesce(antiban.unix_time(m ->> 'timestamp'), now());
        contact := antiban.contact_for(wa, uid, c -> 'profile' ->> 'name', at, phone_number);
        INSERT INTO antiban.interactions (contact_id, direction, wamid, phone_number_id, message_type,
                                          body, payload, context_wamid, occurred_at)
        VALUES (contact, 'in', m ->> 'id', phone_number, coalesce(m ->> 'type', 'unknown'),
                antiban.message_text(m), m, m -> 'context' ->> 'id', at)
        ON CONFLICT (wamid) DO NOTHING RETURNING id INTO inserted;
        CONTINUE WHEN inserted IS NULL;    -- a duplicate: already applied
        applied := applied + 1;
        who := CASE WHEN wa IS NOT NULL THEN '+' || wa ELSE uid END;
        IF m ? 'referral' THEN
            UPDATE antiban.contacts SET referral = m -> 'referral', free_entry_until = at + interval '72 hours'
            WHERE id = contact;
        END IF;
        CONTINUE WHEN NOT ours OR who IS NULL;
        -- the 24 h customer-service window opens (or refreshes) on this number
        PERFORM antiban.open_service_window(who, phone_number, at + interval '24 hours');
        IF antiban.is_opt_out(antiban.message_text(m)) OR antiban.is_opt_out(m -> 'button' ->> 'payload') THEN
            UPDATE antiban.contacts SET marketing_opt_out = true, opt_out_at = at,
                   opt_out_source = format('message %s', m ->> 'id')
            WHERE id = contact;
            PERFORM antiban.set_marketing_opt_out(who, phone_number, true);
        END IF;
    END LOOP;
    -- value.errors: system or app-level errors Meta reports without a message
    IF jsonb_array_length(coalesce(value -> 'errors', '[]')) > 0 THEN
        PERFORM antiban.raise_alert('warning', phone_number, 'webhook_error', value ->> 'errors');
    END IF;
    -- statuses were applied for the whole event first, in outbox id order
    IF value ? 'statuses' AND jsonb_typeof(value -> 'statuses') <> 'array' THEN
        RAISE EXCEPTION 'statuses is not an array';
    END IF;
    RETURN applied;
END
$$;

CREATE FUNCTION antiban.apply_user_preferences(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p jsonb;
    stop boolean;
    contact bigint;
    phone_number text;
    applied integer := 0;
BEGIN
    FOR p IN SELECT x FROM jsonb_array_elements(coalesce(value -> 'user_preferences', '[]')) x
             WHERE x ->> 'category' = 'marketing_messages' LOOP
        stop := p ->> 'value' = 'stop';
        contact := antiban.contact_for(nullif(p ->> 'wa_id', ''), nullif(p ->> 'user_id', ''), NULL,
                                       coalesce(antiban.unix_time(p ->> 'timestamp'), now()), NULL);
        UPDATE antiban.contacts SET marketing_opt_out = stop, opt_out_at = now(),
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
    RETURN applied;
END
$$;

-- ---- account-level fields ----

CREATE FUNCTION antiban.tier_of(value text) RETURNS antiban.messaging_tier
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE value
    WHEN 'TIER_250' THEN 'TIER_250' WHEN '250' THEN 'TIER_250'
    WHEN 'TIER_2K' THEN 'TIER_2K' WHEN '2000' THEN 'TIER_2K'
    WHEN 'TIER_10K' THEN 'TIER_10K' WHEN '10000' THEN 'TIER_10K'
    WHEN 'TIER_100K' THEN 'TIER_100K' WHEN '100000' THEN 'TIER_100K'
    WHEN 'TIER_UNLIMITED' THEN 'TIER_UNLIMITED' WHEN '-1' THEN 'TIER_UNLIMITED'
END::antiban.messaging_tier;

CREATE FUNCTION antiban.set_portfolio_tier(waba text, tier text) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    WITH changed AS (
        UPDATE antiban.portfolios p SET messaging_limit = antiban.tier_of(tier)
        FROM antiban.wabas w
        WHERE w.waba_id = waba AND p.id = w.portfolio_id AND antiban.tier_of(tier) IS NOT NULL
          AND p.messaging_limit <> antiban.tier_of(tier)
        RETURNING p.id)
    SELECT count(*)::integer FROM changed;
END;

CREATE FUNCTION antiban.apply_quality_update(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    number record;
    event text := value ->> 'event';
    tier text := coalesce(value ->> 'max_daily_conversations_per_business', value ->> 'current_limit');
BEGIN
    SELECT n.* INTO number FROM antiban.numbers n
    WHERE antiban.digits(n.display_phone_number) = antiban.digits(value ->> 'display_phone_number');
    INSERT INTO antiban.quality_history (phone_number_id, waba_id, source, event, messaging_limit, detail)
    VALUES (number.phone_number_id, waba, 'webhook', coalesce(event, 'unknown'), tier, value);
    IF number.id IS NULL THEN
        RAISE EXCEPTION 'phone_number_quality_update for an unregistered number %', value ->> 'display_phone_number';
    END IF;
    IF event = 'FLAGGED' THEN
        UPDATE antiban.numbers SET status = 'FLAGGED', quality_rating = 'RED' WHERE id = number.id;
        PERFORM antiban.raise_alert('warning', number.phone_number_id, 'number_flagged',
            'Meta flagged the number for low quality: slow down before it is restricted');
    ELSIF event = 'UNFLAGGED' THEN
        UPDATE antiban.numbers SET status = 'CONNECTED' WHERE id = number.id AND status = 'FLAGGED';
        PERFORM antiban.raise_alert('info', number.phone_number_id, 'number_unflagged', 'Meta lifted the flag');
    ELSIF event = 'DOWNGRADE' THEN
        PERFORM antiban.raise_alert('warning', number.phone_number_id, 'limit_downgraded',
            format('messaging limit downgraded to %s', tier));
    ELSIF event = 'THROUGHPUT_UPGRADE' THEN
        UPDATE antiban.numbers SET throughput_level = 'HIGH' WHERE id = number.id;
        PERFORM antiban.raise_alert('info', number.phone_number_id, 'throughput_upgrade', 'the number now sends up to 1,000 messages per second');
    END IF;
    PERFORM antiban.set_portfolio_tier(waba, tier);
    RETURN 1;
END
$$;

-- Every number of a WABA out of rotation, one alert each.
CREATE FUNCTION antiban.pause_waba(waba text, kind text, detail text) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT count(*) FILTER (WHERE antiban.pause_number(n.id, kind, detail))::integer
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id WHERE w.waba_id = waba;
END;

CREATE FUNCTION antiban.apply_account_update(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    event text := value ->> 'event';
    detail text := format('%s: %s', event, value::text);
BEGIN
    IF event = 'ACCOUNT_RESTRICTION' AND EXISTS (
           SELECT 1 FROM jsonb_array_elements(coalesce(value -> 'restriction_info', '[]')) r
           WHERE r ->> 'restriction_type' = 'RESTRICTED_BIZ_INITIATED_MESSAGING') THEN
        PERFORM antiban.pause_waba(waba, 'account_restricted', detail);
        PERFORM antiban.raise_alert('critical', NULL, 'account_restricted', detail);
    ELSIF event = 'DISABLED_UPDATE' AND value -> 'ban_info' ->> 'waba_ban_state' IN ('DISABLE', 'SCHEDULE_FOR_DISABLE') THEN
        PERFORM antiban.pause_waba(waba, 'account_disabled', detail);
        PERFORM antiban.raise_alert('critical', NULL, 'account_disabled', detail);
    ELSIF event IN ('ACCOUNT_DELETED', 'ACCOUNT_OFFBOARDED') THEN
        PERFORM antiban.pause_waba(waba, lower(event), detail);
        PERFORM antiban.raise_alert('critical', NULL, lower(event), detail);
    ELSIF event IN ('ACCOUNT_VIOLATION', 'ACCOUNT_RESTRICTION') THEN
        PERFORM antiban.raise_alert('critical', NULL, lower(event), detail);
    ELSE
        PERFORM antiban.raise_alert('info', NULL, lower(coalesce(event, 'account_update')), detail);
    END IF;
    RETURN 1;
END
$$;

CREATE FUNCTION antiban.apply_account_alerts(waba text, value jsonb) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT antiban.raise_alert(
        CASE value -> 'alert_info' ->> 'alert_severity' WHEN 'CRITICAL' THEN 'critical'
             WHEN 'WARNING' THEN 'warning' ELSE 'info' END::antiban.alert_severity,
        CASE WHEN value ->> 'entity_type' = 'PHONE_NUMBER' THEN value ->> 'entity_id' END,
        lower(coalesce(value -> 'alert_info' ->> 'alert_type', 'account_alert')),
        coalesce(value -> 'alert_info' ->> 'alert_description', value::text));
    SELECT 1;
END;

CREATE FUNCTION antiban.apply_capability_update(waba text, value jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tier text := coalesce(value ->> 'max_daily_conversations_per_business',
                          value ->> 'max_daily_conversation_per_phone');
BEGIN
    IF antiban.set_portfolio_tier(waba, tier) > 0 THEN
        PERFORM antiban.raise_alert('info', NULL, 'messaging_limit_changed', format('messaging limit is now %s', tier));
    END IF;
    RETURN 1;
END
$$;

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

-- ---- dispatch ----

CREATE FUNCTION antiban.apply_change(waba text, field text, value jsonb) RETURNS integer
LANGUAGE sql VOLATILE
RETURN CASE field
    WHEN 'messages' THEN antiban.apply_messages(value)
    WHEN 'user_preferences' THEN antiban.apply_user_preferences(waba, value)
    WHEN 'phone_number_quality_update' THEN antiban.apply_quality_update(waba, value)
    WHEN 'account_update' THEN antiban.apply_account_update(waba, value)
    WHEN 'account_alerts' THEN antiban.apply_account_alerts(waba, value)
    WHEN 'business_capability_update' THEN antiban.apply_capability_update(waba, value)
    WHEN 'message_template_status_update' THEN antiban.apply_template_status(waba, value)
    WHEN 'message_template_quality_update' THEN antiban.apply_template_quality(waba, value)
    WHEN 'template_category_update' THEN antiban.apply_template_category(waba, value)
END;
COMMENT ON FUNCTION antiban.apply_change(text, text, jsonb) IS
    'Apply one change of a webhook; NULL for a field antiban does not use.';

-- Run one step, retrying a deadlock with the sender or another webhook; if it
-- keeps failing, the error aborts the whole ingest: the receiver answers 503
-- and Meta posts again later.  A lost status would be worse than a retry.
CREATE FUNCTION antiban.apply_with_retry(step text, waba text, field text, value jsonb,
                                         INOUT updates integer, INOUT problems text[])
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    FOR attempt IN 1 .. 3 LOOP
        BEGIN
            n := CASE step WHEN 'statuses' THEN antiban.apply_statuses(value)
                           ELSE antiban.apply_change(waba, field, value) END;
            IF n IS NULL THEN
                problems := problems || format('field %s: not used by antiban, kept', field);
            ELSE
                updates := updates + n;
            END IF;
            RETURN;
        EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available THEN
                IF attempt = 3 THEN
                    RAISE;
                END IF;
            WHEN OTHERS THEN
                problems := problems || format('field %s: %s', field, SQLERRM);
                RETURN;
        END;
    END LOOP;
END
$$;

CREATE FUNCTION antiban.apply_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e jsonb;
    c jsonb;
    statuses jsonb;
BEGIN
    IF NEW.status <> 'pending' THEN
        RETURN NEW;
    END IF;
    IF NEW.body ->> 'object' IS DISTINCT FROM 'whatsapp_business_account'
       OR jsonb_typeof(NEW.body -> 'entry') IS DISTINCT FROM 'array' THEN
        NEW.status := 'partial';
        NEW.problems := NEW.problems || 'not a whatsapp_business_account object with entry[]'::text;
        RETURN NEW;
    END IF;
    -- every status of the event in one pass: outbox rows are locked in id order,
    -- like the sender does, so concurrent webhooks and senders never deadlock
    SELECT jsonb_agg(st.x) INTO statuses
    FROM jsonb_array_elements(NEW.body -> 'entry') AS ev(x),
         jsonb_array_elements(CASE WHEN jsonb_typeof(ev.x -> 'changes') = 'array' THEN ev.x -> 'changes' ELSE '[]' END) AS ch(x),
         jsonb_array_elements(CASE WHEN ch.x ->> 'field' = 'messages' AND jsonb_typeof(ch.x -> 'value' -> 'statuses') = 'array'
                                   THEN ch.x -> 'value' -> 'statuses' ELSE '[]' END) AS st(x);
    IF statuses IS NOT NULL THEN
        SELECT * INTO NEW.updates, NEW.problems
        FROM antiban.apply_with_retry('statuses', NULL, 'messages', jsonb_build_object('statuses', statuses),
                                      NEW.updates, NEW.problems);
    END IF;
    FOR e IN SELECT x FROM jsonb_array_elements(NEW.body -> 'entry') x LOOP
        FOR c IN SELECT x FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e -> 'changes') = 'array'
                                                         THEN e -> 'changes' ELSE '[]' END) x LOOP
            SELECT * INTO NEW.updates, NEW.problems
            FROM antiban.apply_with_retry('change', e ->> 'id', c ->> 'field', c -> 'value',
                                          NEW.updates, NEW.problems);
        END LOOP;
    END LOOP;
    NEW.status := CASE WHEN cardinality(NEW.problems) = 0 THEN 'applied' ELSE 'partial' END;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION antiban.apply_webhook() IS
    'Walks every entry[] and changes[] of a signed webhook; each change in its own subtransaction, so one bad change never blocks the rest.';

CREATE TRIGGER apply_webhook BEFORE INSERT ON antiban.webhook_events
    FOR EACH ROW EXECUTE FUNCTION antiban.apply_webhook();
