-- Account-level fields: quality and limits, account updates and alerts, capabilities.
--
-- Each takes Meta's time of the event (at) and applies what it says about a
-- subject only if no newer event about that subject was applied already
-- (antiban.claim_event_order): Meta retries and reorders, and a late
-- DISABLE must not undo a REINSTATE.  Alerts name the WABA they are about.

CREATE FUNCTION antiban.tier_of(value text) RETURNS antiban.messaging_tier
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE value
    WHEN 'TIER_250' THEN 'TIER_250' WHEN '250' THEN 'TIER_250'
    WHEN 'TIER_2K' THEN 'TIER_2K' WHEN '2000' THEN 'TIER_2K'
    WHEN 'TIER_10K' THEN 'TIER_10K' WHEN '10000' THEN 'TIER_10K'
    WHEN 'TIER_100K' THEN 'TIER_100K' WHEN '100000' THEN 'TIER_100K'
    WHEN 'TIER_UNLIMITED' THEN 'TIER_UNLIMITED' WHEN '-1' THEN 'TIER_UNLIMITED'
END::antiban.messaging_tier;

CREATE FUNCTION antiban.set_portfolio_limit(portfolio bigint, tier text) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    WITH changed AS (
        UPDATE antiban.portfolios p SET messaging_limit = antiban.tier_of(tier)
        WHERE p.id = portfolio AND antiban.tier_of(tier) IS NOT NULL AND p.messaging_limit <> antiban.tier_of(tier)
        RETURNING p.id)
    SELECT count(*)::integer FROM changed;
END;

CREATE FUNCTION antiban.set_portfolio_tier(waba text, tier text) RETURNS integer
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT coalesce(sum(antiban.set_portfolio_limit(w.portfolio_id, tier)), 0)::integer
    FROM antiban.wabas w WHERE w.waba_id = waba;
END;

-- A messaging limit Meta reports for a portfolio, unless a newer report was applied.
CREATE FUNCTION antiban.apply_portfolio_limit(portfolio bigint, tier text, source text, at timestamptz,
                                              event bigint, OUT changed integer, OUT late text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    business text := (SELECT p.business_id FROM antiban.portfolios p WHERE p.id = portfolio);
BEGIN
    changed := 0;
    late := antiban.claim_event_order('portfolio ' || business || ' messaging_limit',
                                      format('%s (messaging limit %s) for portfolio %s', source, tier, business), at, event);
    IF late IS NULL THEN
        changed := antiban.set_portfolio_limit(portfolio, tier);
    END IF;
END
$$;

-- The number a phone_number_quality_update is about: by Meta's id when the
-- value names one, else by display number (entry.id may be a placeholder,
-- so the WABA only breaks a tie).
CREATE FUNCTION antiban.quality_update_number(waba text, value jsonb,
                                              OUT id bigint, OUT phone_number_id text, OUT portfolio_id bigint,
                                              OUT waba_id text)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT n.id, n.phone_number_id, w.portfolio_id, w.waba_id
    FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
    WHERE n.phone_number_id = coalesce(value ->> 'phone_number_id', value -> 'metadata' ->> 'phone_number_id')
       OR antiban.digits(n.display_phone_number) = nullif(antiban.digits(value ->> 'display_phone_number'), '')
    ORDER BY n.phone_number_id = coalesce(value ->> 'phone_number_id', value -> 'metadata' ->> 'phone_number_id') IS TRUE DESC,
             w.waba_id = waba IS TRUE DESC, n.id
    LIMIT 1;
END;

CREATE FUNCTION antiban.apply_quality_update(waba text, value jsonb, at timestamptz, event bigint,
                                             OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    number record;
    kind text := value ->> 'event';
    tier text := coalesce(value ->> 'max_daily_conversations_per_business', value ->> 'current_limit');
    portfolio bigint;
    late text;
BEGIN
    applied := 1;
    problems := '{}';
    SELECT * INTO number FROM antiban.quality_update_number(waba, value);
    INSERT INTO antiban.quality_history (phone_number_id, waba_id, source, event, messaging_limit, detail)
    VALUES (number.phone_number_id, coalesce(number.waba_id, waba), 'webhook', coalesce(kind, 'unknown'), tier, value);
    IF number.id IS NULL THEN
        problems := problems || format('phone_number_quality_update for display number %s: no registered number has it (kept in quality_history)',
                                       coalesce(value ->> 'display_phone_number', 'none'));
    ELSIF kind IN ('FLAGGED', 'UNFLAGGED', 'THROUGHPUT_UPGRADE') THEN
        late := antiban.claim_event_order('number ' || number.phone_number_id || ' quality',
                                          format('%s for number %s', kind, number.phone_number_id), at, event);
        IF late IS NOT NULL THEN
            problems := problems || late;
        ELSIF kind = 'FLAGGED' THEN
            UPDATE antiban.numbers SET status = 'FLAGGED', quality_rating = 'RED' WHERE id = number.id;
            PERFORM antiban.raise_alert('warning', number.phone_number_id, 'number_flagged',
                'Meta flagged the number for low quality: slow down before it is restricted', NULL, number.waba_id);
        ELSIF kind = 'UNFLAGGED' THEN
            UPDATE antiban.numbers SET status = 'CONNECTED' WHERE id = number.id AND status = 'FLAGGED';
            PERFORM antiban.raise_alert('info', number.phone_number_id, 'number_unflagged', 'Meta lifted the flag',
                                        NULL, number.waba_id);
        ELSE
            UPDATE antiban.numbers SET throughput_level = 'HIGH' WHERE id = number.id;
            PERFORM antiban.raise_alert('info', number.phone_number_id, 'throughput_upgrade',
                                        'the number now sends up to 1,000 messages per second', NULL, number.waba_id);
        END IF;
    END IF;
    -- the limit is the portfolio's: the one the number belongs to, whatever entry.id says
    IF antiban.tier_of(tier) IS NOT NULL THEN
        portfolio := coalesce(number.portfolio_id, (SELECT w.portfolio_id FROM antiban.wabas w WHERE w.waba_id = waba));
        IF portfolio IS NULL THEN
            problems := problems || format('messaging limit %s: neither the number nor WABA %s is registered', tier, waba);
        ELSE
            SELECT l.late INTO late FROM antiban.apply_portfolio_limit(portfolio, tier, 'phone_number_quality_update', at, event) l;
            IF late IS NOT NULL THEN
                problems := problems || late;
            ELSIF kind = 'DOWNGRADE' THEN
                PERFORM antiban.raise_alert('warning', number.phone_number_id, 'limit_downgraded',
                    format('messaging limit downgraded to %s', tier), NULL, coalesce(number.waba_id, waba));
            END IF;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.apply_quality_update(text, jsonb, timestamptz, bigint) IS
    'Apply a phone_number_quality_update of Meta''s time at: the number (by phone_number_id when the value has one, else by display number) is flagged, unflagged or upgraded, and its portfolio''s messaging limit follows; an event older than the last applied about the same number or portfolio is kept as a problem.';

-- ---- what an account signal holds against a WABA ----

CREATE TABLE antiban.waba_blocks (
    waba_id          bigint NOT NULL REFERENCES antiban.wabas ON DELETE CASCADE,
    kind             text NOT NULL,
    scope            text NOT NULL CHECK (scope IN ('all', 'business_initiated', 'other')),
    since            timestamptz NOT NULL,
    until            timestamptz,
    detail           text,
    event_id         bigint,
    PRIMARY KEY (waba_id, kind)
);
COMMENT ON TABLE antiban.waba_blocks IS
    'What Meta''s account signals hold against a WABA now. scope all: its numbers are out of rotation (kind account_disabled until REINSTATE, partner_removed until PARTNER_ADDED, account_offboarded until ACCOUNT_RECONNECTED, account_deleted); business_initiated: RESTRICTED_BIZ_INITIATED_MESSAGING, only replies inside open service windows go until "until"; other: a restriction antiban only reports. Lift one by hand with antiban.lift_account_block.';
COMMENT ON COLUMN antiban.waba_blocks.until IS 'When the block lifts by itself (a restriction''s expiration); NULL: when Meta (or a person) lifts it.';
COMMENT ON COLUMN antiban.waba_blocks.since IS 'Meta''s time of the event that set it.';
-- decide() reads blocks from every backend's copy of the numbers
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON antiban.waba_blocks
    FOR EACH STATEMENT EXECUTE FUNCTION antiban.config_changed();

CREATE FUNCTION antiban.block_waba(account bigint, kind text, scope text, since timestamptz, until timestamptz,
                                   detail text, event bigint) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.waba_blocks AS b (waba_id, kind, scope, since, until, detail, event_id)
    VALUES (account, kind, scope, since, until, detail, event)
    ON CONFLICT (waba_id, kind) DO UPDATE
        SET scope = excluded.scope, since = excluded.since, until = excluded.until, detail = excluded.detail,
            event_id = excluded.event_id;
END;

CREATE FUNCTION antiban.unblock_waba(account bigint, kind text) RETURNS boolean
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    WITH lifted AS (DELETE FROM antiban.waba_blocks b WHERE b.waba_id = account AND b.kind = unblock_waba.kind
                    RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM lifted);
END;

-- What an account_update event does to the WABA: (subject family, block kind,
-- set or lift).  Restrictions are handled per restriction_type.
CREATE FUNCTION antiban.account_update_effect(event text, ban_state text,
                                              OUT family text, OUT kind text, OUT blocks boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT e.family, e.kind, e.blocks
    FROM (VALUES ('DISABLED_UPDATE', 'DISABLE', 'ban', 'account_disabled', true),
                 ('DISABLED_UPDATE', 'SCHEDULE_FOR_DISABLE', 'ban', 'account_disabled', true),
                 ('DISABLED_UPDATE', 'REINSTATE', 'ban', 'account_disabled', false),
                 ('PARTNER_REMOVED', NULL, 'partner', 'partner_removed', true),
                 ('PARTNER_ADDED', NULL, 'partner', 'partner_removed', false),
                 ('ACCOUNT_OFFBOARDED', NULL, 'account', 'account_offboarded', true),
                 ('ACCOUNT_RECONNECTED', NULL, 'account', 'account_offboarded', false),
                 ('ACCOUNT_DELETED', NULL, 'account', 'account_deleted', true)) AS e(event, state, family, kind, blocks)
    WHERE e.event = account_update_effect.event
      AND e.state IS NOT DISTINCT FROM CASE WHEN e.event = 'DISABLED_UPDATE' THEN ban_state END;
END;

-- RESTRICTED_BIZ_INITIATED_MESSAGING holds what decide() calls business-initiated
-- (src/core/decision.c); other restrictions are reported only.
CREATE FUNCTION antiban.apply_restrictions(account bigint, waba text, value jsonb, at timestamptz, event bigint)
RETURNS text[] LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r jsonb;
    kind text;
    until timestamptz;
    late text;
    problems text[] := '{}';
BEGIN
    FOR r IN SELECT x FROM jsonb_array_elements(CASE jsonb_typeof(value -> 'restriction_info')
                                                    WHEN 'array' THEN value -> 'restriction_info'
                                                    WHEN 'object' THEN jsonb_build_array(value -> 'restriction_info')
                                                    ELSE '[]' END) x LOOP
        kind := coalesce(r ->> 'restriction_type', 'UNKNOWN_RESTRICTION');
        until := antiban.meta_time(r ->> 'expiration');
        late := antiban.claim_event_order(format('waba %s restriction %s', waba, kind),
                                          format('ACCOUNT_RESTRICTION %s for WABA %s', kind, waba), at, event);
        IF late IS NOT NULL THEN
            problems := problems || late;
            CONTINUE;
        END IF;
        PERFORM antiban.block_waba(account, kind,
                                   CASE kind WHEN 'RESTRICTED_BIZ_INITIATED_MESSAGING' THEN 'business_initiated' ELSE 'other' END,
                                   at, until, value::text, event);
        PERFORM antiban.raise_alert('critical', NULL, 'account_restricted',
            format('WABA %s: Meta restricted %s until %s%s', waba, kind,
                   coalesce(to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), 'further notice'),
                   CASE kind WHEN 'RESTRICTED_BIZ_INITIATED_MESSAGING'
                       THEN ': templates and other messages outside a service window wait until then; replies inside open windows still go' END),
            kind, waba);
    END LOOP;
    RETURN problems;
END
$$;

CREATE FUNCTION antiban.apply_account_update(waba text, value jsonb, at timestamptz, event bigint,
                                             OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    kind text := value ->> 'event';
    ban_state text := value -> 'ban_info' ->> 'waba_ban_state';
    account bigint := (SELECT w.id FROM antiban.wabas w WHERE w.waba_id = waba);
    effect record;
    late text;
    detail text := format('WABA %s: %s: %s', waba, kind, value::text);
BEGIN
    applied := 1;
    problems := '{}';
    SELECT * INTO effect FROM antiban.account_update_effect(kind, ban_state);
    IF account IS NOT NULL AND kind = 'ACCOUNT_RESTRICTION'
       AND jsonb_typeof(value -> 'restriction_info') IN ('array', 'object')
       AND value -> 'restriction_info' NOT IN ('[]', '{}') THEN
        problems := antiban.apply_restrictions(account, waba, value, at, event);
        RETURN;
    ELSIF account IS NOT NULL AND effect.kind IS NOT NULL THEN
        late := antiban.claim_event_order(format('waba %s %s', waba, effect.family),
                                          format('%s%s for WABA %s', kind, coalesce(' ' || ban_state, ''), waba), at, event);
        IF late IS NOT NULL THEN
            problems := ARRAY[late];
        ELSIF effect.blocks THEN
            PERFORM antiban.block_waba(account, effect.kind, 'all', at, NULL, detail, event);
            PERFORM antiban.raise_alert('critical', NULL, effect.kind,
                format('%s: its numbers are out of rotation until Meta lifts it', detail), NULL, waba);
        ELSE
            PERFORM antiban.unblock_waba(account, effect.kind);
            PERFORM antiban.raise_alert('info', NULL, 'account_block_lifted',
                format('%s: %s is lifted, its numbers are back in rotation', detail, effect.kind), effect.kind, waba);
        END IF;
        RETURN;
    ELSIF account IS NULL AND (effect.kind IS NOT NULL OR kind = 'ACCOUNT_RESTRICTION') THEN
        problems := ARRAY[format('%s for WABA %s: the WABA is not registered, nothing to hold or lift', kind, waba)];
    ELSIF kind = 'ACCOUNT_RESTRICTION' THEN
        problems := ARRAY[format('ACCOUNT_RESTRICTION for WABA %s names no restriction_info: nothing held', waba)];
    END IF;
    PERFORM antiban.raise_alert(
        CASE WHEN effect.blocks OR kind IN ('ACCOUNT_VIOLATION', 'ACCOUNT_RESTRICTION') THEN 'critical'
             ELSE 'info' END::antiban.alert_severity,
        NULL, lower(coalesce(kind, 'account_update')), detail, value -> 'violation_info' ->> 'violation_type', waba);
END
$$;
COMMENT ON FUNCTION antiban.apply_account_update(text, jsonb, timestamptz, bigint) IS
    'Apply an account_update of Meta''s time at: DISABLE (or SCHEDULE_FOR_DISABLE), PARTNER_REMOVED, ACCOUNT_OFFBOARDED and ACCOUNT_DELETED take the WABA''s numbers out of rotation; REINSTATE, PARTNER_ADDED and ACCOUNT_RECONNECTED bring them back; a business-initiated restriction holds messages outside service windows until it expires; every event raises an alert naming the WABA. An event older than the last applied of its kind is kept as a problem.';

CREATE FUNCTION antiban.apply_account_alerts(waba text, value jsonb, at timestamptz, event bigint,
                                             OUT applied integer, OUT problems text[])
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT 1, ARRAY[]::text[]
    FROM (SELECT antiban.raise_alert(
              CASE value -> 'alert_info' ->> 'alert_severity' WHEN 'CRITICAL' THEN 'critical'
                   WHEN 'WARNING' THEN 'warning' ELSE 'info' END::antiban.alert_severity,
              CASE WHEN value ->> 'entity_type' = 'PHONE_NUMBER' THEN value ->> 'entity_id' END,
              lower(coalesce(value -> 'alert_info' ->> 'alert_type', 'account_alert')),
              format('WABA %s: %s', waba, coalesce(value -> 'alert_info' ->> 'alert_description', value::text)),
              NULL, waba)) raised;
END;
COMMENT ON FUNCTION antiban.apply_account_alerts(text, jsonb, timestamptz, bigint) IS
    'Apply an account_alerts change: one alert naming the WABA (the same alert on two WABAs is two alerts).';

CREATE FUNCTION antiban.apply_capability_update(waba text, value jsonb, at timestamptz, event bigint,
                                                OUT applied integer, OUT problems text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tier text := coalesce(value ->> 'max_daily_conversations_per_business',
                          value ->> 'max_daily_conversation_per_phone');
    portfolio bigint := (SELECT w.portfolio_id FROM antiban.wabas w WHERE w.waba_id = waba);
    result record;
BEGIN
    applied := 1;
    problems := '{}';
    IF antiban.tier_of(tier) IS NULL THEN
        RETURN;
    ELSIF portfolio IS NULL THEN
        problems := problems || format('messaging limit %s for WABA %s: the WABA is not registered', tier, waba);
        RETURN;
    END IF;
    SELECT * INTO result FROM antiban.apply_portfolio_limit(portfolio, tier, 'business_capability_update', at, event);
    IF result.late IS NOT NULL THEN
        problems := ARRAY[result.late];
    ELSIF result.changed > 0 THEN
        PERFORM antiban.raise_alert('info', NULL, 'messaging_limit_changed',
                                    format('WABA %s: messaging limit is now %s', waba, tier), NULL, waba);
    END IF;
END
$$;
COMMENT ON FUNCTION antiban.apply_capability_update(text, jsonb, timestamptz, bigint) IS
    'Apply a business_capability_update of Meta''s time at: the WABA''s portfolio takes the messaging limit, unless a newer limit was applied.';

-- A person lifts what a lost webhook would have lifted (Meta does not post
-- past events again after its retry horizon).
CREATE FUNCTION antiban.lift_account_block(waba text, kind text, reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    -- (for a caller mapped to portfolios, another's WABA is as unknown as a missing one)
    account bigint := (SELECT w.id FROM antiban.wabas w WHERE w.waba_id = lift_account_block.waba AND antiban.may_use_portfolio(w.portfolio_id));
BEGIN
    IF coalesce(trim(reason), '') = '' THEN
        RAISE EXCEPTION 'a reason is required to lift an account block' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is kept in antiban.alerts for whoever looks next.',
            HINT = 'SELECT antiban.lift_account_block(''200'', ''account_disabled'', ''reinstated in WhatsApp Manager'');';
    ELSIF account IS NULL THEN
        RAISE EXCEPTION 'unknown WABA "%"', waba USING ERRCODE = 'undefined_object',
            HINT = 'WABAs are identified by Meta''s WABA id; see antiban.wabas.';
    END IF;
    IF NOT antiban.unblock_waba(account, kind) THEN
        RETURN false;
    END IF;
    PERFORM antiban.raise_alert('info', NULL, 'account_block_lifted',
        format('WABA %s: %s lifted %s: %s', waba, session_user, kind, reason), kind, waba);
    RETURN true;
END
$$;
COMMENT ON FUNCTION antiban.lift_account_block(text, text, text) IS
    'Lift what an account signal holds against a WABA (a row of antiban.waba_blocks: account_disabled, partner_removed, a restriction type...) by hand, with a reason; false when nothing was held. For when Meta''s lifting webhook was lost. An administrator mapped to portfolios lifts only its portfolios'' WABAs'' blocks (another''s WABA is unknown).';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.tier_of(text) IS
    'Meta''s messaging limit as antiban.messaging_tier, from TIER_250... or the legacy numbers (250, 2000, 10000, 100000, -1); NULL when unknown.';
COMMENT ON FUNCTION antiban.set_portfolio_limit(bigint,text) IS
    'Set a portfolio''s messaging limit from Meta''s value; the number of portfolios changed (0 or 1).';
COMMENT ON FUNCTION antiban.set_portfolio_tier(text,text) IS
    'Set the messaging limit of the portfolio of a WABA (by Meta''s WABA id) from Meta''s value; the number changed.';
COMMENT ON FUNCTION antiban.apply_portfolio_limit(bigint,text,text,timestamp with time zone,bigint) IS
    'A messaging limit Meta reports for a portfolio, unless a newer report was applied (antiban.event_order); an alert when it changed.';
COMMENT ON FUNCTION antiban.quality_update_number(text,jsonb) IS
    'The number a phone_number_quality_update is about: by phone_number_id when the value names one, else by display number (entry.id may be a placeholder, so the WABA only breaks a tie).';
COMMENT ON FUNCTION antiban.block_waba(bigint,text,text,timestamp with time zone,timestamp with time zone,text,bigint) IS
    'Take a WABA''s numbers out of rotation for a ban, a partner removal or a restriction (antiban.waba_blocks), with its alert; every backend''s decisions see it at commit.';
COMMENT ON FUNCTION antiban.unblock_waba(bigint,text) IS
    'Lift a block of one kind from a WABA (a REINSTATE, a partner added back, a restriction lifted); true when there was one.';
COMMENT ON FUNCTION antiban.account_update_effect(text,text) IS
    'What an account_update event does to its WABA: the subject family, the block kind, and whether it sets or lifts it.';
COMMENT ON FUNCTION antiban.apply_restrictions(bigint,text,jsonb,timestamp with time zone,bigint) IS
    'An ACCOUNT_RESTRICTION''s restriction_info: RESTRICTED_BIZ_INITIATED_MESSAGING holds business-initiated messages until its expiry (decide); other restriction types are reported only.';
