-- Applying webhooks: each change field has its function; the dispatcher runs
-- each change in its own subtransaction so one bad change never blocks the
-- rest of the batch, and records what it could not apply.
--
-- What is believed, and how often: a status settles an outbox row only on
-- evidence that it is ours (its wamid, or else its recipient and number);
-- a message's failure has its consequences once, when the row becomes
-- failed; an inbound message once per wamid; any other change once per
-- antiban.webhook_changes key; event times through antiban.webhook_time.

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

-- statuses: [{entry, change, phone_number_id (the change's metadata), status}]
CREATE FUNCTION antiban.apply_statuses(statuses jsonb, OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    act record;
    code text;
BEGIN
    applied := 0;
    problems := '{}';
    -- One statement for the whole batch: rows are locked in id order first
    -- (as the sender does), then updated together; only new failures and
    -- statuses that are not ours come back here.
    FOR r IN
        WITH s AS (
            SELECT x.entry, x.change, x.phone_number_id, x.status ->> 'id' AS wamid,
                   CASE x.status ->> 'status' WHEN 'played' THEN 'read' ELSE x.status ->> 'status' END AS status,
                   x.status ->> 'biz_opaque_callback_data' AS callback,
                   nullif(x.status ->> 'recipient_id', '') AS recipient_id, nullif(x.status ->> 'user_id', '') AS user_id,
                   x.status -> 'pricing' AS pricing, x.status -> 'errors' AS errors
            FROM jsonb_to_recordset(statuses) AS x(entry integer, change integer, phone_number_id text, status jsonb)
            WHERE x.status ->> 'status' IN ('sent', 'delivered', 'read', 'played', 'failed')
        ), matched AS (
            -- Meta's wamid is the message's own id
            SELECT o.id, NULL::text AS mismatch, s.*
            FROM s JOIN antiban.outbox o ON o.wamid = s.wamid
            UNION ALL
            -- our outbox id in biz_opaque_callback_data, which any other app on
            -- the WABA may also use: believed only if the rest agrees with the row
            SELECT o.id,
                   CASE WHEN o.wamid IS NOT NULL
                            THEN format('its wamid %s is not the message''s (%s)', s.wamid, o.wamid)
                        WHEN s.phone_number_id IS DISTINCT FROM o.phone_number_id
                            THEN format('it came through number %s, the message through %s',
                                        coalesce(s.phone_number_id, '(none)'), coalesce(o.phone_number_id, '(none)'))
                        WHEN NOT (antiban.same_recipient(s.recipient_id, o.recipient)
                                  OR antiban.same_recipient(s.user_id, o.recipient))
                            THEN format('its recipient %s is not the message''s (%s)',
                                        coalesce(s.recipient_id, s.user_id, '(none)'), o.recipient)
                   END,
                   s.*
            FROM s JOIN antiban.outbox o ON s.callback ~ '^[0-9]{1,18}$' AND o.id = s.callback::bigint
            WHERE NOT EXISTS (SELECT 1 FROM antiban.outbox w WHERE w.wamid = s.wamid)
        ), furthest AS (
            -- one update per message: its furthest status in this batch, pricing from any
            SELECT DISTINCT ON (id) m.*,
                   (SELECT x.pricing FROM matched x
                    WHERE x.id = m.id AND x.mismatch IS NULL AND x.pricing IS NOT NULL LIMIT 1) AS price
            FROM matched m WHERE m.mismatch IS NULL ORDER BY id, antiban.status_rank(status) DESC
        ), locked AS (
            SELECT o.id, o.state AS old_state
            FROM antiban.outbox o WHERE o.id IN (SELECT id FROM furthest) ORDER BY o.id FOR UPDATE
        ), updated AS (
            -- a failure's details are the first failure's: a retried one changes nothing
            UPDATE antiban.outbox o SET
                wamid = coalesce(o.wamid, f.wamid),
                state = CASE WHEN antiban.transition_allowed(o.state::text, f.status)
                             THEN f.status::antiban.message_state ELSE o.state END,
                billable = coalesce((f.price ->> 'billable')::boolean, o.billable),
                pricing_model = coalesce(f.price ->> 'pricing_model', o.pricing_model),
                pricing_type = coalesce(f.price ->> 'type', o.pricing_type),
                pricing_category = coalesce(f.price ->> 'category', o.pricing_category),
                error_code = CASE WHEN n.fails THEN (f.errors -> 0 ->> 'code')::integer ELSE o.error_code END,
                error_title = CASE WHEN n.fails THEN f.errors -> 0 ->> 'title' ELSE o.error_title END,
                error_details = CASE WHEN n.fails THEN f.errors -> 0 -> 'error_data' ->> 'details' ELSE o.error_details END,
                reason = CASE WHEN n.fails THEN 'failed_after_send' ELSE o.reason END
            FROM furthest f JOIN locked l USING (id),
                 LATERAL (SELECT f.status = 'failed' AND antiban.transition_allowed(l.old_state::text, 'failed') AS fails) n
            WHERE o.id = f.id
              AND (antiban.transition_allowed(o.state::text, f.status) OR (o.wamid IS NULL AND f.wamid IS NOT NULL)
                   OR (f.price IS NOT NULL AND
                       (o.billable, o.pricing_model, o.pricing_type, o.pricing_category) IS DISTINCT FROM
                       ((f.price ->> 'billable')::boolean, f.price ->> 'pricing_model', f.price ->> 'type', f.price ->> 'category')))
            RETURNING o.id, f.errors, o.number_id, o.phone_number_id, o.recipient, l.old_state, o.state AS new_state
        )
        SELECT u.id, u.errors, u.number_id, u.phone_number_id, u.recipient, NULL::text AS problem,
               NULL::integer AS total, 0::bigint AS n
        FROM updated u WHERE u.new_state = 'failed' AND u.old_state IS DISTINCT FROM 'failed'
        UNION ALL
        -- another app's statuses may all carry ids like ours: name ten, count the rest
        SELECT f.id, NULL, NULL, NULL, NULL, f.problem, NULL, f.n
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
        SELECT NULL, NULL, NULL, NULL, NULL, NULL, count(*)::integer, NULL FROM updated
        ORDER BY n NULLS LAST, id
    LOOP
        IF r.total IS NOT NULL THEN
            applied := r.total;
            CONTINUE;
        ELSIF r.problem IS NOT NULL THEN
            problems := problems || r.problem;
            CONTINUE;
        END IF;
        -- the message became failed now: its consequences, once
        code := r.errors -> 0 ->> 'code';
        CONTINUE WHEN code IS NULL OR code !~ '^[0-9]{1,9}$';
        IF r.number_id IS NOT NULL THEN
            INSERT INTO antiban.send_errors (number_id, message_id, code, source)
            VALUES (r.number_id, r.id, code::integer, 'webhook');
        END IF;
        -- the same classification as an error answered at send time
        SELECT * INTO act FROM antiban.error_action(code::integer, 400);
        IF act.action = 'pause_number' THEN
            PERFORM antiban.pause_number(r.number_id, 'number_paused',
                format('Meta reported %s (%s) for message %s: number paused', code, act.meaning, r.id),
                code <> '131048');
        ELSIF act.action = 'slow_number' THEN
            PERFORM antiban.slow_number(r.number_id);
        END IF;
        IF code = '131050' AND r.recipient IS NOT NULL THEN
            PERFORM antiban.set_marketing_opt_out(r.recipient, r.phone_number_id, true);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION antiban.apply_statuses(jsonb) IS
    'Move outbox rows forward on status webhooks ([{entry, change, phone_number_id, status}]): matched by wamid, or by the outbox id in biz_opaque_callback_data when the recipient and number agree and the row has no other wamid; a failure''s consequences (send_errors, pause or slow-down, 131050 opt-out) happen once, when the row becomes failed. Statuses that are not ours come back as problems.';

-- Remember a change as applied; false when the same change (WABA, field,
-- Meta's entry time, value) was applied within Meta's retry horizon.
CREATE FUNCTION antiban.claim_change(waba text, field text, sent_at text, value jsonb, event bigint,
                                     received timestamptz)
RETURNS boolean LANGUAGE sql VOLATILE
BEGIN ATOMIC
    WITH claimed AS (
        INSERT INTO antiban.webhook_changes AS c (change_key, field, event_id, applied_at)
        VALUES (sha256(convert_to(format('%s %s %s ', quote_nullable(waba), quote_nullable(field),
                                         quote_nullable(sent_at)) || coalesce(value::text, 'null'), 'UTF8')),
                coalesce(field, ''), event, received)
        ON CONFLICT (change_key) DO UPDATE SET event_id = excluded.event_id, applied_at = excluded.applied_at
        WHERE c.applied_at < excluded.applied_at - antiban.webhook_retry_horizon()
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM claimed);
END;
COMMENT ON FUNCTION antiban.claim_change(text, text, text, jsonb, bigint, timestamptz) IS
    'True the first time a webhook change (WABA, field, entry time, value) is seen within Meta''s retry horizon, and records it in antiban.webhook_changes.';

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
                antiban.message_text(m), m, m -> 'context' ->> 'id', at)
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

CREATE FUNCTION antiban.apply_change(waba text, field text, value jsonb, received timestamptz, event bigint,
                                     OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    problems := '{}';
    CASE field
        WHEN 'messages' THEN
            SELECT * INTO applied, problems FROM antiban.apply_messages(waba, value, received, event);
        WHEN 'user_preferences' THEN
            SELECT * INTO applied, problems FROM antiban.apply_user_preferences(waba, value, received);
        ELSE
            applied := CASE field
                WHEN 'phone_number_quality_update' THEN antiban.apply_quality_update(waba, value)
                WHEN 'account_update' THEN antiban.apply_account_update(waba, value)
                WHEN 'account_alerts' THEN antiban.apply_account_alerts(waba, value)
                WHEN 'business_capability_update' THEN antiban.apply_capability_update(waba, value)
                WHEN 'message_template_status_update' THEN antiban.apply_template_status(waba, value)
                WHEN 'message_template_quality_update' THEN antiban.apply_template_quality(waba, value)
                WHEN 'template_category_update' THEN antiban.apply_template_category(waba, value)
            END;
    END CASE;
END
$$;
COMMENT ON FUNCTION antiban.apply_change(text, text, jsonb, timestamptz, bigint) IS
    'Apply one change of a webhook received at a given time; applied is NULL for a field antiban does not use; problems are what was believed only in part.';

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
                SELECT * INTO n, notes FROM antiban.apply_change(waba, field, value, received, event);
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
