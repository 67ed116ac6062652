-- Protection: a health score per number, modes that change by themselves
-- (active, throttled, paused, recovering; warming for new numbers), every
-- change explained in a row, and the signals they are computed from.

CREATE INDEX alerts_open_kind ON antiban.alerts (kind, phone_number_id) WHERE acknowledged_at IS NULL;

ALTER TABLE antiban.numbers
    ADD COLUMN can_send_message      text NOT NULL DEFAULT 'AVAILABLE'
        CONSTRAINT numbers_can_send_message CHECK (can_send_message IN ('AVAILABLE', 'LIMITED', 'BLOCKED')),
    ADD COLUMN previous_quality      antiban.quality_rating,
    ADD COLUMN quality_changed_at    timestamptz,
    ADD COLUMN mode_since            timestamptz NOT NULL DEFAULT antiban.now(),
    ADD COLUMN mode_forced           boolean NOT NULL DEFAULT false,
    ADD COLUMN hard_block            boolean NOT NULL DEFAULT false,
    ADD COLUMN rate_changed_at       timestamptz NOT NULL DEFAULT antiban.now(),
    ADD COLUMN rate_decreased_at     timestamptz,
    ADD COLUMN rate_ceiling          double precision,
    ADD COLUMN change_reason         text,
    ADD COLUMN health_terms          jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN warmup_day            integer NOT NULL DEFAULT 0,
    ADD COLUMN warmup_day_started_at timestamptz,
    ADD COLUMN warmup_cap            integer,
    ADD COLUMN warmup_full_until     timestamptz,
    ADD COLUMN polled_at             timestamptz;
COMMENT ON COLUMN antiban.numbers.can_send_message IS 'health_status.can_send_message from Meta''s last poll: BLOCKED takes the number out of rotation.';
COMMENT ON COLUMN antiban.numbers.mode_forced IS 'An operator set the mode (antiban.set_mode): the controller leaves the number alone until antiban.release_mode.';
COMMENT ON COLUMN antiban.numbers.hard_block IS 'Paused for a reason only a person can clear (ban, restriction, 368, 131031, 131042, token errors, BLOCKED).';
COMMENT ON COLUMN antiban.numbers.health_terms IS 'What the health score is made of right now: [{signal, points, why}].';
COMMENT ON COLUMN antiban.numbers.warmup_cap IS 'Warming numbers: messages allowed per moving 24 h on this warm-up day (src/core/warmup.c).';
COMMENT ON COLUMN antiban.numbers.warmup_full_until IS 'Warming numbers: the day''s cap is used up; decide queues for this number until then.';
COMMENT ON COLUMN antiban.numbers.rate_decreased_at IS
    'The rate controller''s last multiplicative decrease: a congestion answer (130429) for a request sent before it is the same congestion event, and does not cut the rate again.';
COMMENT ON COLUMN antiban.numbers.rate_ceiling IS
    'The rate factor at which Meta last answered congestion (130429), kept by that decrease: under it the rate climbs back every antiban.aimd_probe_interval, beyond it every antiban.aimd_interval. Null after a slow-down for any other reason.';
COMMENT ON COLUMN antiban.numbers.change_reason IS 'Why health, mode or rate last changed (also in antiban.health_events).';

-- Every change of health, mode or rate, with its reason.
CREATE TABLE antiban.health_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT antiban.now(),
    number_id       bigint NOT NULL REFERENCES antiban.numbers ON DELETE CASCADE,
    phone_number_id text NOT NULL,
    health_before   smallint NOT NULL,
    health_after    smallint NOT NULL,
    mode_before     antiban.number_mode NOT NULL,
    mode_after      antiban.number_mode NOT NULL,
    factor_before   double precision NOT NULL,
    factor_after    double precision NOT NULL,
    reason          text NOT NULL,
    terms           jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX health_events_number ON antiban.health_events (number_id, at);
COMMENT ON TABLE antiban.health_events IS
    'One row per change of a number''s health, mode or rate factor, with the reason ("-24: 12 x 131048 (spam rate limit) in 200 recent sends") and the score''s terms.';

-- Errors per number, from send answers and failed-status webhooks
-- (antiban.act_on_error): the health score's recent error rates.
CREATE TABLE antiban.send_errors (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT antiban.now(),
    number_id       bigint NOT NULL,
    message_id      bigint,
    code            integer NOT NULL,
    source          text NOT NULL CHECK (source IN ('send', 'webhook')),
    request_at      timestamptz NOT NULL DEFAULT antiban.now()
);
CREATE INDEX send_errors_number ON antiban.send_errors (number_id, at);
COMMENT ON TABLE antiban.send_errors IS 'Every error Meta returned for a number (send answers and failed statuses), for error rates and trends; what each code counts as is antiban.error_action(code).';
COMMENT ON COLUMN antiban.send_errors.request_at IS
    'When the request that met the error went out (the claim of that attempt): congestion from a request sent before the number''s last rate decrease is not a new event.';

-- When each number was last evaluated (kept apart so evaluating does not
-- rewrite antiban.numbers, which every backend caches).
CREATE TABLE antiban.health_state (
    number_id       bigint PRIMARY KEY REFERENCES antiban.numbers ON DELETE CASCADE,
    evaluated_at    timestamptz NOT NULL
);
COMMENT ON TABLE antiban.health_state IS
    'When the monitor last evaluated each number''s health (kept apart from antiban.numbers so an evaluation does not invalidate every backend''s cache of numbers).';

-- The score reads sends of the last day: a BRIN index stays tiny because
-- rows are written roughly in sent_at order.
CREATE INDEX outbox_sent_at ON antiban.outbox USING brin (sent_at);
-- The daily rollup counts a day's sends and failures (some never sent):
-- with this one too it reads those days' pages, not a year of outbox.
CREATE INDEX outbox_failed_at ON antiban.outbox USING brin (failed_at);
CREATE INDEX interactions_number ON antiban.interactions (phone_number_id, occurred_at);

CREATE FUNCTION antiban.quality_rank(q antiban.quality_rating) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE q WHEN 'GREEN' THEN 3 WHEN 'YELLOW' THEN 2 WHEN 'RED' THEN 1 END;

-- Bookkeeping on every change of a number: when its quality, mode and rate
-- changed, and a reason for changes made by hand.
-- The audit trail is antiban's to write, whoever changed the row (an admin's
-- UPDATE of a configuration column included): SECURITY DEFINER.
CREATE FUNCTION antiban.numbers_track_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
BEGIN
    IF NEW.quality_rating IS DISTINCT FROM OLD.quality_rating THEN
        NEW.previous_quality := OLD.quality_rating;
        NEW.quality_changed_at := antiban.now();
        IF antiban.quality_rank(NEW.quality_rating) < antiban.quality_rank(OLD.quality_rating) THEN
            PERFORM antiban.raise_alert(CASE NEW.quality_rating WHEN 'RED' THEN 'critical' ELSE 'warning' END::antiban.alert_severity,
                NEW.phone_number_id, 'quality_dropped',
                format('quality fell from %s to %s: antiban slows this number down before Meta acts', OLD.quality_rating, NEW.quality_rating));
        END IF;
    END IF;
    IF NEW.mode IS DISTINCT FROM OLD.mode AND NEW.mode_since IS NOT DISTINCT FROM OLD.mode_since THEN
        NEW.mode_since := antiban.now();
    END IF;
    IF NEW.rate_factor IS DISTINCT FROM OLD.rate_factor AND NEW.rate_changed_at IS NOT DISTINCT FROM OLD.rate_changed_at THEN
        NEW.rate_changed_at := antiban.now();
    END IF;
    IF (NEW.health, NEW.mode, NEW.rate_factor) IS DISTINCT FROM (OLD.health, OLD.mode, OLD.rate_factor)
       AND NEW.change_reason IS NOT DISTINCT FROM OLD.change_reason THEN
        NEW.change_reason := format('changed by %s', session_user);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER numbers_track_changes BEFORE UPDATE ON antiban.numbers
    FOR EACH ROW EXECUTE FUNCTION antiban.numbers_track_changes();

CREATE FUNCTION antiban.numbers_log_health() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
BEGIN
    INSERT INTO antiban.health_events (number_id, phone_number_id, health_before, health_after, mode_before, mode_after,
                                       factor_before, factor_after, reason, terms)
    VALUES (NEW.id, NEW.phone_number_id, OLD.health, NEW.health, OLD.mode, NEW.mode,
            OLD.rate_factor, NEW.rate_factor, NEW.change_reason, NEW.health_terms);
    IF NEW.mode IS DISTINCT FROM OLD.mode AND NEW.mode <> 'paused' THEN
        -- pauses raise their own, critical, alert where they happen
        PERFORM antiban.raise_alert(CASE NEW.mode WHEN 'throttled' THEN 'warning' ELSE 'info' END::antiban.alert_severity,
            NEW.phone_number_id, 'number_' || NEW.mode::text, NEW.change_reason);
    END IF;
    RETURN NULL;
END
$$;
-- mode_forced and hard_block too: an operator handing a number back to the
-- controller (release_mode) changes nothing else, and must leave a row.
CREATE TRIGGER numbers_log_health AFTER UPDATE ON antiban.numbers
    FOR EACH ROW WHEN ((OLD.health, OLD.mode, OLD.rate_factor, OLD.warmup_day, OLD.warmup_day_started_at, OLD.mode_forced,
                        OLD.hard_block)
                       IS DISTINCT FROM (NEW.health, NEW.mode, NEW.rate_factor, NEW.warmup_day, NEW.warmup_day_started_at,
                                         NEW.mode_forced, NEW.hard_block))
    EXECUTE FUNCTION antiban.numbers_log_health();

-- ---- operators ----

CREATE FUNCTION antiban.number_id_of(phone_number_id text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint;
BEGIN
    SELECT n.id INTO found FROM antiban.numbers n WHERE n.phone_number_id = number_id_of.phone_number_id;
    IF found IS NULL THEN
        RAISE EXCEPTION 'unknown number "%"', phone_number_id USING ERRCODE = 'undefined_object',
            HINT = 'Numbers are identified by Meta''s phone_number_id; see antiban.numbers.';
    END IF;
    -- a mapped caller (a tenant's administrator too) is refused another
    -- portfolio's number as apps are
    PERFORM antiban.may_use_number(phone_number_id);
    RETURN found;
END
$$;

-- What an operator did to a number's mode: numbers_log_health writes the
-- health event (the reason is the row's change_reason); this raises the info
-- alert.  One place for set_mode, release_mode and start_warmup.
CREATE FUNCTION antiban.note_operator_mode(phone_number_id text, kind text, change_reason text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
    SELECT antiban.raise_alert('info', phone_number_id, kind, change_reason)
$$;
COMMENT ON FUNCTION antiban.note_operator_mode(text, text, text) IS
    'Internal: the info alert of an operator''s set_mode, release_mode or start_warmup (its health event is the numbers_log_health trigger''s).';

CREATE FUNCTION antiban.set_mode(phone_number_id text, mode antiban.number_mode, reason text)
RETURNS antiban.number_mode
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    number bigint := antiban.number_id_of(phone_number_id);
    why text;
BEGIN
    IF coalesce(trim(reason), '') = '' THEN
        RAISE EXCEPTION 'a reason is required to force a number''s mode' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is kept in antiban.health_events for whoever looks next.',
            HINT = 'SELECT antiban.set_mode(''3000000001'', ''paused'', ''template review'');';
    END IF;
    UPDATE antiban.numbers n SET mode = set_mode.mode, mode_forced = true, mode_since = antiban.now(),
           hard_block = false, rate_factor = CASE WHEN set_mode.mode = 'active' THEN 1.0 ELSE n.rate_factor END,
           -- forced active ends a warm-up for good
           warmup_day_started_at = CASE WHEN set_mode.mode = 'active' THEN NULL ELSE n.warmup_day_started_at END,
           change_reason = format('%s forced %s: %s', session_user, set_mode.mode, reason)
    WHERE n.id = number
    RETURNING n.change_reason INTO why;
    PERFORM antiban.note_operator_mode(phone_number_id, 'mode_forced', why);
    RETURN mode;
END
$$;
COMMENT ON FUNCTION antiban.set_mode(text, antiban.number_mode, text) IS
    'Force a number''s mode (active, throttled, paused, recovering, warming) with a reason; the controller leaves it alone until antiban.release_mode. An administrator mapped to portfolios acts only on its portfolios'' numbers (another''s is refused: insufficient_privilege).';

CREATE FUNCTION antiban.release_mode(phone_number_id text, reason text DEFAULT 'released to the controller')
RETURNS antiban.number_mode
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    number bigint := antiban.number_id_of(phone_number_id);
    why text;
    now_mode antiban.number_mode;
BEGIN
    UPDATE antiban.numbers n SET mode_forced = false, hard_block = false,
           change_reason = format('%s released %s to the controller: %s', session_user, n.mode, reason)
    WHERE n.id = number
    RETURNING n.change_reason, n.mode INTO why, now_mode;
    PERFORM antiban.note_operator_mode(phone_number_id, 'mode_released', why);
    RETURN now_mode;
END
$$;
COMMENT ON FUNCTION antiban.release_mode(text, text) IS
    'Hand a number back to the automatic controller (also clears a pause that needed a person); it ramps back from where it is. An administrator mapped to portfolios acts only on its portfolios'' numbers (another''s is refused: insufficient_privilege).';

-- ---- warm-up of new numbers (src/core/warmup.c) ----

CREATE FUNCTION antiban.warmup_schedule(days integer DEFAULT 30, OUT day integer, OUT daily_cap bigint,
                                        OUT messages_per_second double precision, OUT total bigint,
                                        OUT graduated boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_warmup_schedule' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION antiban.warmup_schedule(integer) IS
    'The warm-up curve under the current antiban.warmup_* settings: each day''s cap per moving 24 h, its rate, the running total, up to graduation.';

CREATE FUNCTION antiban.start_warmup(phone_number_id text, reason text DEFAULT 'new number', from_day integer DEFAULT 1)
RETURNS antiban.number_mode
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, antiban, pg_temp
AS $$
DECLARE
    number bigint := antiban.number_id_of(phone_number_id);
    last_day integer;
    cap bigint;
    why text;
    was antiban.number_mode := (SELECT n.mode FROM antiban.numbers n WHERE n.id = number);
BEGIN
    SELECT s.day, s.daily_cap INTO last_day, cap
    FROM antiban.warmup_schedule(greatest(from_day, 1)) s ORDER BY s.day DESC LIMIT 1;
    IF from_day < 1 OR last_day < from_day THEN
        RAISE EXCEPTION 'warm-up day % does not exist', from_day USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Warm-up days count from 1 to graduation on day %s; see antiban.warmup_schedule().', last_day),
            HINT = 'SELECT antiban.start_warmup(''3000000001'', ''new number'');';
    END IF;
    UPDATE antiban.numbers n SET mode = 'warming', mode_forced = false, hard_block = false, rate_factor = 1.0,
           warmup_day = from_day - 1, warmup_day_started_at = antiban.now(), warmup_cap = cap,
           warmup_full_until = NULL,
           change_reason = format('%s started warm-up at day %s (%s a day): %s', session_user, from_day, cap, reason)
    WHERE n.id = number
    RETURNING n.change_reason INTO why;
    IF was = 'warming' THEN
        -- a change of mode raised its alert (numbers_log_health); a restart has none
        PERFORM antiban.note_operator_mode(phone_number_id, 'warmup_restarted', why);
    END IF;
    RETURN 'warming';
END
$$;
COMMENT ON FUNCTION antiban.start_warmup(text, text, integer) IS
    'Put a number on the warm-up schedule: a daily cap and rate that grow each healthy day until it graduates to active. An administrator mapped to portfolios acts only on its portfolios'' numbers (another''s is refused: insufficient_privilege).';

-- ---- the signals the score is computed from ----

CREATE FUNCTION antiban.number_signals(recent interval DEFAULT interval '1 hour')
RETURNS TABLE (number_id bigint, phone_number_id text, health integer, mode text, rate_factor double precision,
               mode_since timestamptz, rate_changed_at timestamptz, mode_forced boolean, hard_block boolean,
               quality text, previous_quality text, quality_fell_recently boolean, status text, can_send text,
               sent_recent bigint, spam_errors bigint, policy_errors bigint, throughput_errors bigint,
               pair_errors bigint, marketing_cap_errors bigint, undeliverable_errors bigint,
               sent_day bigint, delivered_day bigint, read_day bigint, replied_day bigint, blocks_day bigint,
               last_bad_event_at timestamptz, congestion_at timestamptz, new_soft_pause_errors bigint,
               new_hard_pause_errors bigint, evaluated_at timestamptz, warmup_day integer,
               warmup_day_started_at timestamptz, warmup_cap integer, warmup_full_until timestamptz, sent_24h bigint,
               oldest_sent_24h timestamptz, rate_decreased_at timestamptz, rate_ceiling double precision)
LANGUAGE sql STABLE AS $$
    WITH clock AS (SELECT antiban.now() AS now),
    -- each error counts as its code's row says (antiban.error_action,
    -- src/core/error_class.c): counted per code first, so the table is read
    -- once per number and code, not once per error
    per_code AS (
        SELECT e.number_id, e.code,
               count(*) FILTER (WHERE e.at > c.now - recent) AS in_window,
               count(*) AS in_day,
               max(e.at) AS last_at,
               count(*) FILTER (WHERE e.at > coalesce(h.evaluated_at, '-infinity')) AS since_evaluated,
               max(e.request_at) FILTER (WHERE e.at > coalesce(h.evaluated_at, '-infinity')) AS new_request_at
        FROM antiban.send_errors e CROSS JOIN clock c LEFT JOIN antiban.health_state h USING (number_id)
        WHERE e.at > c.now - greatest(recent, interval '1 day')
        GROUP BY e.number_id, e.code
    ), errors AS (
        SELECT p.number_id,
               sum(p.in_window) FILTER (WHERE a.health_counter = 'spam')::bigint AS spam,
               sum(p.in_window) FILTER (WHERE a.health_counter = 'policy')::bigint AS policy,
               sum(p.in_window) FILTER (WHERE a.health_counter = 'throughput')::bigint AS throughput,
               sum(p.in_window) FILTER (WHERE a.health_counter = 'pair')::bigint AS pair,
               sum(p.in_window) FILTER (WHERE a.health_counter = 'marketing_cap')::bigint AS cap,
               sum(p.in_window) FILTER (WHERE a.health_counter = 'undeliverable')::bigint AS undeliverable,
               sum(p.in_day) FILTER (WHERE a.health_counter = 'blocks')::bigint AS stops,
               max(p.last_at) FILTER (WHERE a.restarts_recovery) AS last_bad,
               -- the latest request among new congestion errors: the controller
               -- ignores it if sent before its last decrease (rate_control.c)
               max(p.new_request_at) FILTER (WHERE a.slow_number) AS congestion_at,
               sum(p.since_evaluated) FILTER (WHERE a.pause = 'soft')::bigint AS new_soft_pause,
               sum(p.since_evaluated) FILTER (WHERE a.pause = 'hard')::bigint AS new_hard_pause
        FROM per_code p CROSS JOIN LATERAL antiban.error_action(p.code) a
        GROUP BY p.number_id
    ), sends AS (
        -- from the rollup (51_send_minutes.sql), in whole minutes sent: a
        -- minute counts when it ends inside the window; day rates count
        -- minutes that ended at least 10 min ago: younger messages may not
        -- have had their delivered status yet
        SELECT m.number_id,
               sum(m.sent) FILTER (WHERE m.minute + interval '1 minute' > c.now - recent)::bigint AS sent_recent,
               sum(m.sent) FILTER (WHERE m.minute + interval '1 minute' <= c.now - interval '10 minutes')::bigint AS sent_day,
               sum(m.delivered) FILTER (WHERE m.minute + interval '1 minute' <= c.now - interval '10 minutes')::bigint AS delivered_day,
               sum(m.read) FILTER (WHERE m.minute + interval '1 minute' <= c.now - interval '10 minutes')::bigint AS read_day,
               sum(m.sent)::bigint AS sent_24h,
               -- the end of the oldest minute with a send: never before the send itself
               min(m.minute) FILTER (WHERE m.sent > 0) + interval '1 minute' AS oldest_sent
        FROM clock c CROSS JOIN LATERAL antiban.sends_per_minute(antiban.minute_of(c.now - interval '1 day')) m
        WHERE m.minute + interval '1 minute' > c.now - interval '1 day'
        GROUP BY m.number_id
    ), replies AS (
        SELECT i.phone_number_id, count(DISTINCT i.contact_id) AS replied
        FROM antiban.interactions i CROSS JOIN clock c
        WHERE i.direction = 'in' AND i.occurred_at > c.now - interval '1 day'
        GROUP BY i.phone_number_id
    ), opt_outs AS (
        SELECT k.last_phone_number_id AS phone_number_id, count(*) AS opted_out, max(k.opt_out_at) AS last_at
        FROM antiban.contacts k CROSS JOIN clock c
        WHERE k.opt_out_at > c.now - interval '1 day'
        GROUP BY k.last_phone_number_id
    )
    SELECT n.id, n.phone_number_id, n.health::integer, n.mode::text, n.rate_factor, n.mode_since, n.rate_changed_at,
           n.mode_forced, n.hard_block, n.quality_rating::text, coalesce(n.previous_quality, n.quality_rating)::text,
           n.quality_changed_at > coalesce(h.evaluated_at, '-infinity')
             AND antiban.quality_rank(n.quality_rating) < antiban.quality_rank(n.previous_quality),
           n.status::text, n.can_send_message,
           coalesce(s.sent_recent, 0), coalesce(e.spam, 0), coalesce(e.policy, 0), coalesce(e.throughput, 0),
           coalesce(e.pair, 0), coalesce(e.cap, 0), coalesce(e.undeliverable, 0),
           coalesce(s.sent_day, 0), coalesce(s.delivered_day, 0), coalesce(s.read_day, 0), coalesce(r.replied, 0),
           coalesce(e.stops, 0) + coalesce(x.opted_out, 0),
           greatest(e.last_bad, x.last_at),
           e.congestion_at, coalesce(e.new_soft_pause, 0), coalesce(e.new_hard_pause, 0), h.evaluated_at,
           n.warmup_day, n.warmup_day_started_at, n.warmup_cap, n.warmup_full_until,
           coalesce(s.sent_24h, 0), s.oldest_sent, n.rate_decreased_at, n.rate_ceiling
    FROM antiban.numbers n
    LEFT JOIN antiban.health_state h ON h.number_id = n.id
    LEFT JOIN errors e ON e.number_id = n.id
    LEFT JOIN sends s ON s.number_id = n.id
    LEFT JOIN replies r ON r.phone_number_id = n.phone_number_id
    LEFT JOIN opt_outs x ON x.phone_number_id = n.phone_number_id
    ORDER BY n.id
$$;
COMMENT ON FUNCTION antiban.number_signals(interval) IS
    'What each number''s health is computed from: quality and its trend, status, Meta''s health_status, error counts by health counter in the recent window (antiban.error_action), sends, deliveries, reads (from antiban.send_minutes, in whole minutes sent), replies and blocks of the last day; since the last evaluation, the latest congestion request (130429) and soft and hard pause signals; and for warming numbers their warm-up day and sends in the last 24 h.';

CREATE FUNCTION antiban.evaluate_health(OUT phone_number_id text, OUT health integer, OUT mode antiban.number_mode,
                                        OUT rate_factor double precision, OUT changed boolean, OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'antiban_evaluate_health' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION antiban.evaluate_health() IS
    'Score every number from antiban.number_signals() and step its mode and rate (src/core/health.c, rate_control.c); changes are written to antiban.numbers and antiban.health_events. The monitor worker calls it every antiban.monitor_interval. It spans every portfolio: a caller mapped to portfolios (a tenant''s administrator) is refused (insufficient_privilege).';

-- ---- the view people look at ----

CREATE VIEW antiban.number_health AS
SELECT n.phone_number_id, n.display_phone_number, n.health, n.mode, round(n.rate_factor::numeric, 3) AS rate_factor,
       n.quality_rating, n.previous_quality, n.status, n.can_send_message, n.mode_since, n.mode_forced,
       n.hard_block, n.change_reason, n.health_terms, n.polled_at,
       CASE WHEN n.mode = 'warming' THEN n.warmup_day + 1 END AS warmup_day,
       CASE WHEN n.mode = 'warming' THEN n.warmup_cap END AS warmup_daily_cap,
       CASE WHEN n.mode = 'warming' THEN n.warmup_full_until END AS warmup_full_until,
       b.account_blocks, b.restricted_until
FROM antiban.numbers n
LEFT JOIN LATERAL (
    SELECT string_agg(k.kind, ', ' ORDER BY k.kind) FILTER (WHERE k.scope = 'all') AS account_blocks,
           max(coalesce(k.until, 'infinity')) FILTER (WHERE k.scope = 'business_initiated'
                                                       AND coalesce(k.until, 'infinity') > antiban.now()) AS restricted_until
    FROM antiban.waba_blocks k WHERE k.waba_id = n.waba_id) b ON true;
COMMENT ON VIEW antiban.number_health IS
    'Each number''s health, mode and rate, and why; account_blocks: what takes its WABA out of rotation (antiban.waba_blocks); restricted_until: business-initiated messages wait until then (Meta''s restriction).';

-- What the functions above without one do (every SQL function has a comment).
COMMENT ON FUNCTION antiban.quality_rank(antiban.quality_rating) IS
    'Meta''s quality ratings in order: GREEN 3, YELLOW 2, RED 1, NA and UNKNOWN 0; a fall is a lower rank.';
COMMENT ON FUNCTION antiban.numbers_track_changes() IS
    'Trigger (runs as antiban_owner): remembers a number''s previous quality and when its mode and rate changed, alerts on a quality drop, and names who changed what.';
COMMENT ON FUNCTION antiban.numbers_log_health() IS
    'Trigger (runs as antiban_owner): every change of a number''s health, mode, rate or warm-up day is a row in antiban.health_events, with an alert on a mode change.';
COMMENT ON FUNCTION antiban.number_id_of(text) IS
    'The antiban.numbers id of Meta''s phone_number_id, or an error naming it (undefined_object); a number of a portfolio the caller may not use is refused (insufficient_privilege, antiban.caller_number_portfolio), an administrator mapped to portfolios included.';
