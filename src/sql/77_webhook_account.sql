-- Account-level fields: quality and limits, account updates and alerts, capabilities.

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
