-- The operations dashboard and /metrics: what the receiver's private admin
-- listener reads, through the antiban_dashboard role (read-only, plus
-- acknowledging alerts).
--
-- Each dashboard panel is one view named antiban.dashboard_<panel>; the page
-- asks antiban.dashboard_json() for all of them in one query.  A panel whose
-- view does not exist yet (campaigns, costs, leads) comes back as null and the
-- page says "not set up": creating the view (and granting it to
-- antiban_reader) lights the panel up without a change to the receiver or the
-- page.
--
-- Everything here is read every few seconds on a busy system, so nothing
-- reads the whole outbox: waiting and in-flight messages are counted through
-- partial indexes on state, settled states come from the planner's
-- statistics, and recent activity (decisions, errors, webhooks) through BRIN
-- indexes on append-mostly tables over a short window.

-- ---- indexes the reads below need ----

-- 'unknown' is the one live state without a partial index (the others have
-- outbox_due and outbox_sending).  Rows only enter it after a crash, so the
-- index is tiny and costs nothing on the send path.
CREATE INDEX outbox_unknown ON antiban.outbox (id) WHERE state = 'unknown';
-- send_errors and webhook_posts are appended in time order: BRIN stays a
-- few pages however large they grow.
CREATE INDEX send_errors_at ON antiban.send_errors USING brin (at);
-- Stored but not yet applied webhooks: the apply lag.
CREATE INDEX webhook_outcomes_pending ON antiban.webhook_outcomes (received_at) WHERE status = 'pending';

-- ---- building blocks ----

-- Tenancy: these views keep their owner's rights (statistics, partial
-- indexes), so each filters by the caller's portfolios itself, as the
-- policies would: an operator (no mapping) sees the whole install, a
-- tenant's BI (a reader mapped to portfolios) only its own.  Each is a
-- security_barrier view: without it the planner may run a caller's cheap
-- function from an outer WHERE below the view's own filter, on every
-- tenant's rows (sql/22_tester14b_leaky_views; sql/99_catalog checks every
-- owner-rights view).
CREATE FUNCTION antiban.my_phone_numbers() RETURNS text[]
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT CASE WHEN antiban.my_portfolios() IS NOT NULL
                THEN coalesce((SELECT pg_catalog.array_agg(n.phone_number_id)
                               FROM antiban.numbers n JOIN antiban.wabas w ON w.id = n.waba_id
                               WHERE w.portfolio_id = ANY (antiban.my_portfolios())), '{}') END;
END;
COMMENT ON FUNCTION antiban.my_phone_numbers() IS
    'The phone_number_ids of the portfolios the caller may use (antiban.my_portfolios()); NULL when it is not restricted. The operator''s views filter by it.';

-- Waiting and in-flight messages only, each branch matching one partial
-- index's predicate exactly, so the planner never needs the whole table.
-- security_barrier (as every view here): the caller's own conditions run
-- only on the rows the view shows, never on another portfolio's.  A
-- barrier on a bare UNION ALL would not hold (the planner flattens it into
-- its branches and pushes the caller's conditions into each, beside the
-- portfolio filter), hence the sub-select around it.
CREATE VIEW antiban.outbox_live WITH (security_barrier) AS
SELECT l.phone_number_id, l.state, l.queued_at, l.created_at, l.not_before
FROM (SELECT o.phone_number_id, o.state, o.queued_at, o.created_at, o.not_before
      FROM antiban.outbox o WHERE o.state IN ('queued', 'retry_wait') AND ((SELECT antiban.my_portfolios()) IS NULL OR o.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[]))
      UNION ALL
      SELECT o.phone_number_id, o.state, o.queued_at, o.created_at, o.not_before
      FROM antiban.outbox o WHERE o.state = 'sending' AND ((SELECT antiban.my_portfolios()) IS NULL OR o.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[]))
      UNION ALL
      SELECT o.phone_number_id, o.state, o.queued_at, o.created_at, o.not_before
      FROM antiban.outbox o WHERE o.state = 'unknown' AND ((SELECT antiban.my_portfolios()) IS NULL OR o.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[]))) l;
COMMENT ON VIEW antiban.outbox_live IS
    'Outbox rows waiting (queued, retry_wait) or in flight (sending, unknown), read through partial indexes: cheap however large the outbox is. A role mapped to portfolios sees its own.';

-- A number's sending rate now: the bucket's refill when it has one, else what
-- its level, override and rate factor give (README: Buckets).
CREATE FUNCTION antiban.nominal_rate(level antiban.throughput_level, rate_override double precision,
                                     rate_factor double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(rate_override, CASE level WHEN 'HIGH' THEN 1000 WHEN 'COEXISTENCE' THEN 20 ELSE 80 END)
       * rate_factor;
COMMENT ON FUNCTION antiban.nominal_rate(antiban.throughput_level, double precision, double precision) IS
    'Messages per second a number is allowed before headroom: its rate_override or its throughput level''s rate (STANDARD 80, HIGH 1,000, COEXISTENCE 20), times its rate_factor.';

-- ---- the panels ----

CREATE VIEW antiban.dashboard_numbers WITH (security_barrier) AS
SELECT n.phone_number_id, n.display_phone_number, w.waba_id, p.business_id,
       n.health, n.mode, n.mode_since, n.mode_forced, n.hard_block,
       n.quality_rating, n.previous_quality, n.quality_changed_at, n.status, n.can_send_message,
       n.throughput_level, round(n.rate_factor::numeric, 3) AS rate_factor,
       round(coalesce(b.rate_per_second, antiban.nominal_rate(n.throughput_level, n.rate_override, n.rate_factor))::numeric, 2)
           AS rate_limit,
       round(coalesce(b.tokens, b.capacity)::numeric, 2) AS tokens, b.capacity,
       round(coalesce(b.tokens / nullif(b.capacity, 0), 1)::numeric, 4) AS bucket_fill,
       coalesce(b.granted, 0) AS granted, coalesce(b.denied, 0) AS denied,
       n.change_reason, n.created_at
FROM antiban.numbers n
JOIN antiban.wabas w ON w.id = n.waba_id
JOIN antiban.portfolios p ON p.id = w.portfolio_id
LEFT JOIN (SELECT * FROM antiban.bucket_states() s WHERE s.kind = 'number') b ON b.number_id = n.id
WHERE ((SELECT antiban.my_portfolios()) IS NULL OR w.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[]))
ORDER BY n.phone_number_id;
COMMENT ON VIEW antiban.dashboard_numbers IS
    'Dashboard: every number with its health, mode, quality, status, allowed rate and throughput bucket (fill 1 = idle; granted and denied count tokens since the bucket was created, so a rate is their change between two reads).';

CREATE VIEW antiban.dashboard_queue WITH (security_barrier) AS
SELECT coalesce(l.phone_number_id, '(not yet chosen)') AS phone_number_id,
       count(*) FILTER (WHERE l.state = 'queued') AS queued,
       count(*) FILTER (WHERE l.state = 'retry_wait') AS retry_wait,
       count(*) FILTER (WHERE l.state = 'sending') AS sending,
       count(*) FILTER (WHERE l.state = 'unknown') AS unknown,
       round(extract(epoch FROM antiban.now() - min(coalesce(l.queued_at, l.created_at))
                     FILTER (WHERE l.state IN ('queued', 'retry_wait')))::numeric, 1) AS oldest_age_seconds,
       min(l.not_before) FILTER (WHERE l.state IN ('queued', 'retry_wait')) AS next_due
FROM antiban.outbox_live l
GROUP BY 1
ORDER BY 1;
COMMENT ON VIEW antiban.dashboard_queue IS
    'Dashboard: messages waiting (queued, retry_wait) and in flight (sending, unknown) per sending number, the age of the oldest waiting one and when the next is due.';

CREATE VIEW antiban.dashboard_errors WITH (security_barrier) AS
SELECT e.code, a.action, a.meaning, e.last_hour, e.last_24h, e.numbers, e.last_at
FROM (SELECT e.code,
             count(*) FILTER (WHERE e.at > c.now - interval '1 hour') AS last_hour,
             count(*) AS last_24h,
             count(DISTINCT e.number_id) AS numbers,
             max(e.at) AS last_at
      FROM (SELECT antiban.now() AS now) c
      JOIN antiban.send_errors e ON e.at > c.now - interval '24 hours'
      WHERE (SELECT antiban.my_portfolios()) IS NULL
         OR e.number_id IN (SELECT n.id FROM antiban.numbers n WHERE n.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[]))
      GROUP BY e.code) e
CROSS JOIN LATERAL antiban.error_action(e.code) a
ORDER BY e.last_hour DESC, e.last_24h DESC, e.code;
COMMENT ON VIEW antiban.dashboard_errors IS
    'Dashboard: Cloud API errors of the last 24 h by code, with what antiban does about each (antiban.error_action) and how many numbers saw it.';

CREATE VIEW antiban.dashboard_alerts WITH (security_barrier) AS
SELECT a.id, a.created_at, a.severity, a.phone_number_id, a.kind, a.subject, a.detail,
       a.acknowledged_at, a.acknowledged_by
FROM antiban.alerts a
WHERE (a.acknowledged_at IS NULL
       OR a.acknowledged_at > antiban.now() - interval '24 hours')
  AND ((SELECT antiban.my_portfolios()) IS NULL OR a.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[])
       OR a.waba_id IN (SELECT w.waba_id FROM antiban.wabas w WHERE w.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[])))
ORDER BY a.acknowledged_at IS NOT NULL, a.severity DESC, a.created_at DESC, a.id DESC
LIMIT 200;
COMMENT ON VIEW antiban.dashboard_alerts IS
    'Dashboard: open alerts, most severe and newest first, then those acknowledged in the last 24 h (at most 200). Acknowledge with antiban.acknowledge_alert(id).';

CREATE VIEW antiban.dashboard_budget WITH (security_barrier) AS
SELECT p.business_id, p.name, p.messaging_limit AS tier,
       coalesce(u.messaging_limit, antiban.tier_limit(p.messaging_limit)) AS messaging_limit,
       coalesce(u.used, 0) AS used,
       CASE WHEN coalesce(u.messaging_limit, antiban.tier_limit(p.messaging_limit)) >= 0
            THEN greatest(coalesce(u.messaging_limit, antiban.tier_limit(p.messaging_limit)) - coalesce(u.used, 0), 0) END
           AS remaining,
       CASE WHEN coalesce(u.messaging_limit, antiban.tier_limit(p.messaging_limit)) > 0
            THEN round(100.0 * coalesce(u.used, 0) / coalesce(u.messaging_limit, antiban.tier_limit(p.messaging_limit)), 1) END
           AS used_pct,
       u.room_at
FROM antiban.portfolios p
LEFT JOIN antiban.portfolio_usage_raw() u ON u.portfolio_id = p.id
WHERE ((SELECT antiban.my_portfolios()) IS NULL OR p.id = ANY ((SELECT antiban.my_portfolios())::bigint[]))
ORDER BY p.business_id;
COMMENT ON VIEW antiban.dashboard_budget IS
    'Dashboard: each portfolio''s messaging limit over the moving 24 h: unique users reached, what remains (NULL: unlimited), and when room frees up if it is full.';

-- Health changes and quality observations of the last 24 h, oldest first:
-- the chart draws health as steps and marks each quality change.
CREATE VIEW antiban.dashboard_quality WITH (security_barrier) AS
WITH clock AS (SELECT antiban.now() AS now)
SELECT h.phone_number_id, h.at, h.health_before, h.health_after AS health, NULL::text AS quality_rating,
       h.mode_after::text AS mode, 'health' AS source
FROM antiban.health_events h, clock c
WHERE h.at > c.now - interval '24 hours' AND ((SELECT antiban.my_portfolios()) IS NULL OR h.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[]))
UNION ALL
SELECT q.phone_number_id, q.observed_at, NULL, NULL, q.quality_rating, NULL, 'quality'
FROM antiban.quality_history q, clock c
WHERE q.phone_number_id IS NOT NULL AND q.quality_rating IS NOT NULL
  AND q.observed_at > c.now - interval '24 hours' AND ((SELECT antiban.my_portfolios()) IS NULL OR q.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[]))
ORDER BY 2, 1;
COMMENT ON VIEW antiban.dashboard_quality IS
    'Dashboard: every change of a number''s health (with the health before it) and every quality rating observed, over the last 24 h, oldest first.';

CREATE VIEW antiban.dashboard_webhooks WITH (security_barrier) AS
WITH clock AS (SELECT antiban.now() AS now),
recent AS (
    SELECT count(*) AS last_5min,
           count(*) FILTER (WHERE e.status = 'rejected') AS rejected_5min,
           count(*) FILTER (WHERE e.status = 'partial') AS partial_5min,
           count(*) FILTER (WHERE e.status = 'malformed') AS malformed_5min,
           max(e.received_at) AS last_received_at
    FROM antiban.webhook_outcomes e, clock c
    WHERE e.received_at > c.now - interval '5 minutes'
), pending AS (
    SELECT count(*) AS pending, min(e.received_at) AS oldest
    FROM antiban.webhook_outcomes e WHERE e.status = 'pending'
)
SELECT r.last_5min, round(r.last_5min / 300.0, 2) AS per_second, r.rejected_5min, r.partial_5min,
       r.malformed_5min, r.last_received_at, p.pending,
       round(coalesce(extract(epoch FROM c.now - p.oldest), 0)::numeric, 1) AS apply_lag_seconds
FROM recent r, pending p, clock c
-- webhooks are not routed to a portfolio: a mapped role sees none (as in webhook_events)
WHERE (SELECT antiban.my_portfolios()) IS NULL;
COMMENT ON VIEW antiban.dashboard_webhooks IS
    'Dashboard: webhook events received in the last 5 minutes (and per second), how many were refused or partly applied, and how long the oldest stored event has waited to be applied.';

-- Are the background workers doing their work?  Judged by what each leaves
-- behind, which any reader may see: the journal's backlog, the oldest message
-- that is due and not claimed (senders), the last health evaluation
-- (monitor).  How many processes run is shown only to roles that may read
-- other sessions in pg_stat_activity (pg_read_all_stats): NULL otherwise.
CREATE VIEW antiban.dashboard_workers WITH (security_barrier) AS
WITH clock AS (SELECT antiban.now() AS now),
seen AS (
    -- the install's workers and their backlog: the operator's, not a mapped role's
    SELECT k.worker,
           CASE WHEN pg_has_role('pg_read_all_stats', 'USAGE')
                THEN (SELECT count(*) FROM pg_stat_activity a WHERE a.backend_type = k.worker) END AS running
    FROM unnest(ARRAY['antiban journal writer', 'antiban sender', 'antiban monitor']) k(worker)
    WHERE (SELECT antiban.my_portfolios()) IS NULL
)
SELECT 'antiban journal writer' AS worker, s.running,
       'records waiting to be stored' AS evidence, j.buffered::float8 AS value,
       format('%s of %s buffered, %s stored, %s written directly; last shutdown %s',
              j.buffered, j.capacity, j.flushed, j.written_directly, j.previous_shutdown) AS detail
FROM antiban.journal_stats() j, seen s WHERE s.worker = 'antiban journal writer'
UNION ALL
SELECT 'antiban sender', s.running, 'oldest due message waiting for a sender',
       coalesce(extract(epoch FROM c.now - min(o.not_before)), 0)::float8,
       format('%s messages due now', count(o.*))
FROM clock c CROSS JOIN seen s
LEFT JOIN antiban.outbox o ON o.state IN ('queued', 'retry_wait') AND o.not_before <= c.now
WHERE s.worker = 'antiban sender'
GROUP BY s.running, c.now
UNION ALL
SELECT 'antiban monitor', s.running, 'time since the last health evaluation',
       extract(epoch FROM c.now - max(h.evaluated_at))::float8,
       CASE WHEN count(h.*) = 0 THEN 'no number evaluated yet (is antiban.monitor on?)'
            ELSE format('%s numbers evaluated, last at %s UTC', count(h.*),
                        to_char(max(h.evaluated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')) END
FROM clock c CROSS JOIN seen s
LEFT JOIN antiban.health_state h ON true
WHERE s.worker = 'antiban monitor'
GROUP BY s.running, c.now;
COMMENT ON VIEW antiban.dashboard_workers IS
    'Dashboard: whether each background worker keeps up, from what it leaves behind (value: records in the journal''s backlog; seconds the oldest due message has waited for a sender; seconds since the monitor last evaluated health), and how many run (NULL unless the role may read pg_stat_activity of others, as pg_read_all_stats does).';

-- ---- the page's one query ----

-- Panels the page knows of, whether or not their view exists yet.
CREATE FUNCTION antiban.dashboard_panels() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['numbers', 'queue', 'errors', 'alerts', 'budget', 'quality', 'webhooks', 'workers',
             'campaigns', 'costs', 'leads'];
COMMENT ON FUNCTION antiban.dashboard_panels() IS
    'The dashboard''s panels, each read from the view antiban.dashboard_<panel>; those not created yet (campaigns, costs, leads) show as not set up.';

-- One panel as a JSON array of its rows; NULL when its view does not exist,
-- {"error": ...} when the caller may not read it.  Runs with the caller's
-- rights: it can show nothing the caller could not SELECT.
CREATE FUNCTION antiban.dashboard_panel(panel text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    view regclass;
    rows json;
BEGIN
    IF panel IS NULL OR panel !~ '^[a-z][a-z0-9_]{0,40}$' THEN
        RAISE EXCEPTION 'invalid dashboard panel name' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A panel name is lower-case letters, digits and underscores.',
            HINT = 'See antiban.dashboard_panels().';
    END IF;
    view := to_regclass(format('antiban.%I', 'dashboard_' || panel));
    IF view IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT has_table_privilege(view, 'SELECT') THEN
        RETURN json_build_object('error', format('%s is not granted to %s (grant it to antiban_reader)', view, current_user));
    END IF;
    EXECUTE format('SELECT coalesce(json_agg(v), ''[]'') FROM %s v', view) INTO rows;
    RETURN rows;
END
$$;
COMMENT ON FUNCTION antiban.dashboard_panel(text) IS
    'One dashboard panel (the view antiban.dashboard_<panel>) as a JSON array of rows; NULL when the view does not exist yet, {"error": ...} when the caller may not read it.';

CREATE FUNCTION antiban.dashboard_json() RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'generated_at', antiban.now(),
        'panels', (SELECT json_object_agg(p.panel, antiban.dashboard_panel(p.panel) ORDER BY p.ord)
                   FROM (SELECT k.panel, k.ord FROM unnest(antiban.dashboard_panels()) WITH ORDINALITY k(panel, ord)
                         UNION
                         -- views added later by name are shown too, after the known ones
                         SELECT substr(c.relname, 11), 1000
                         FROM pg_class c
                         WHERE c.relnamespace = 'antiban'::regnamespace AND c.relkind IN ('v', 'm')
                           AND c.relname LIKE 'dashboard\_%'
                           AND substr(c.relname, 11) <> ALL (antiban.dashboard_panels())) p))
$$;
COMMENT ON FUNCTION antiban.dashboard_json() IS
    'Every dashboard panel in one JSON object: {"generated_at", "panels": {"numbers": [...], ..., "campaigns": null}}. What the dashboard page fetches every few seconds.';

-- ---- Prometheus ----

-- One label pair, its value escaped as the exposition format says (\\, \", \n).
CREATE FUNCTION antiban.prom_label(name text, value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN name || '="' || replace(replace(replace(coalesce(value, ''), '\', '\\'), '"', '\"'), E'\n', '\n') || '"';
COMMENT ON FUNCTION antiban.prom_label(text, text) IS
    'name="value" for the Prometheus exposition format, with backslash, double quote and newline escaped.';

-- Every metric that comes from the database, one row per sample, grouped by
-- name.  The receiver prints HELP and TYPE once per name and adds its own
-- (requests, ingest time, scrape time).
CREATE VIEW antiban.prometheus_metrics WITH (security_barrier) AS
WITH clock AS (SELECT antiban.now() AS now),
live AS (
    SELECT coalesce(l.phone_number_id, '') AS number, l.state::text AS state, count(*) AS messages,
           min(coalesce(l.queued_at, l.created_at)) FILTER (WHERE l.state IN ('queued', 'retry_wait')) AS oldest
    FROM antiban.outbox_live l GROUP BY 1, 2
),
-- each view read once, however many metrics come from it
numbers AS (SELECT * FROM antiban.dashboard_numbers),
budget AS (SELECT * FROM antiban.dashboard_budget),
hooks AS (SELECT * FROM antiban.dashboard_webhooks),
workers AS (SELECT * FROM antiban.dashboard_workers),
journal AS (SELECT * FROM antiban.journal_stats() j WHERE (SELECT antiban.my_portfolios()) IS NULL)
-- messages waiting and in flight, exact
SELECT 'antiban_outbox_messages' AS name, 'gauge' AS type,
       'Messages now in a waiting or in-flight state (queued, retry_wait, sending, unknown), per sending number (empty: not chosen yet). Exact.' AS help,
       antiban.prom_label('state', l.state) || ',' || antiban.prom_label('phone_number_id', l.number) AS labels,
       l.messages::float8 AS value
FROM live l
UNION ALL
SELECT 'antiban_outbox_oldest_age_seconds', 'gauge',
       'Age of the oldest waiting (queued or retry_wait) message, per sending number.',
       antiban.prom_label('phone_number_id', l.number),
       max(extract(epoch FROM c.now - l.oldest))::float8
FROM live l, clock c WHERE l.oldest IS NOT NULL GROUP BY l.number
UNION ALL
-- every state, from the planner's statistics (refreshed by ANALYZE): an
-- estimate, but it never reads the table
SELECT 'antiban_outbox_messages_estimated', 'gauge',
       'Messages in each state, all time, estimated from the planner statistics of antiban.outbox (as fresh as its last ANALYZE).',
       antiban.prom_label('state', s.state), round(s.freq * greatest(t.reltuples, 0))::float8
-- (pg_statistic, as this view's owner: pg_stats hides a table under row-level
-- security from every role but its owner, 91_tenancy.sql)
FROM pg_class t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'state'
JOIN pg_statistic st ON st.starelid = t.oid AND st.staattnum = a.attnum AND NOT st.stainherit
CROSS JOIN LATERAL (SELECT CASE 1 WHEN st.stakind1 THEN st.stavalues1 WHEN st.stakind2 THEN st.stavalues2
                                  WHEN st.stakind3 THEN st.stavalues3 WHEN st.stakind4 THEN st.stavalues4
                                  WHEN st.stakind5 THEN st.stavalues5 END AS vals,
                           CASE 1 WHEN st.stakind1 THEN st.stanumbers1 WHEN st.stakind2 THEN st.stanumbers2
                                  WHEN st.stakind3 THEN st.stanumbers3 WHEN st.stakind4 THEN st.stanumbers4
                                  WHEN st.stakind5 THEN st.stanumbers5 END AS freqs) mcv
CROSS JOIN LATERAL unnest(mcv.vals::text::text[], mcv.freqs) s(state, freq)
WHERE t.oid = 'antiban.outbox'::regclass AND (SELECT antiban.my_portfolios()) IS NULL
UNION ALL
SELECT 'antiban_decisions_last_minute', 'gauge',
       'Decisions journalled with a decision time in the last 60 s, by outcome and reason.',
       antiban.prom_label('outcome', d.outcome::text) || ',' || antiban.prom_label('reason', d.reason), count(*)::float8
FROM antiban.decisions d, clock c
WHERE d.decided_at > c.now - interval '60 seconds' AND ((SELECT antiban.my_portfolios()) IS NULL OR d.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[]))
GROUP BY d.outcome, d.reason
UNION ALL
SELECT 'antiban_send_errors_last_hour', 'gauge',
       'Cloud API errors in the last hour (send answers and failed statuses), by code and number.',
       antiban.prom_label('code', e.code::text) || ',' || antiban.prom_label('phone_number_id', n.phone_number_id),
       count(*)::float8
FROM antiban.send_errors e JOIN antiban.numbers n ON n.id = e.number_id, clock c
WHERE e.at > c.now - interval '1 hour' AND ((SELECT antiban.my_portfolios()) IS NULL OR n.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[]))
GROUP BY e.code, n.phone_number_id
UNION ALL
SELECT 'antiban_number_health', 'gauge', 'Health score of a number, 0 to 100.',
       antiban.prom_label('phone_number_id', n.phone_number_id), n.health::float8
FROM numbers n
UNION ALL
SELECT 'antiban_number_mode', 'gauge', 'A number''s mode: 1 for the mode it is in, 0 for the others.',
       antiban.prom_label('phone_number_id', n.phone_number_id) || ',' || antiban.prom_label('mode', m::text),
       (n.mode = m)::int::float8
FROM numbers n CROSS JOIN unnest(enum_range(NULL::antiban.number_mode)) m
UNION ALL
SELECT 'antiban_number_quality', 'gauge', 'A number''s quality rating at Meta: 1 for its rating, 0 for the others.',
       antiban.prom_label('phone_number_id', n.phone_number_id) || ',' || antiban.prom_label('rating', q::text),
       (n.quality_rating = q)::int::float8
FROM numbers n CROSS JOIN unnest(enum_range(NULL::antiban.quality_rating)) q
UNION ALL
SELECT 'antiban_number_rate_limit', 'gauge', 'Messages per second a number may send now (bucket refill, or level x rate factor).',
       antiban.prom_label('phone_number_id', n.phone_number_id), n.rate_limit::float8
FROM numbers n
UNION ALL
SELECT 'antiban_bucket_fill_ratio', 'gauge', 'Tokens left in a number''s throughput bucket over its capacity (1: idle or full).',
       antiban.prom_label('phone_number_id', n.phone_number_id), n.bucket_fill::float8
FROM numbers n
UNION ALL
SELECT 'antiban_bucket_granted_total', 'counter', 'Tokens granted by a number''s throughput bucket since it was created (in shared memory; resets when an idle bucket is forgotten).',
       antiban.prom_label('phone_number_id', n.phone_number_id), n.granted::float8
FROM numbers n
UNION ALL
SELECT 'antiban_bucket_denied_total', 'counter', 'Requests refused by a number''s throughput bucket since it was created.',
       antiban.prom_label('phone_number_id', n.phone_number_id), n.denied::float8
FROM numbers n
UNION ALL
SELECT 'antiban_portfolio_reached', 'gauge', 'Unique users counted against the portfolio''s messaging limit in the moving 24 h.',
       antiban.prom_label('business_id', b.business_id), b.used::float8
FROM budget b
UNION ALL
SELECT 'antiban_portfolio_limit', 'gauge', 'The portfolio''s messaging limit (unique users per moving 24 h; -1 unlimited).',
       antiban.prom_label('business_id', b.business_id), b.messaging_limit::float8
FROM budget b
UNION ALL
SELECT 'antiban_alerts_open', 'gauge', 'Alerts not acknowledged yet, by severity.',
       antiban.prom_label('severity', s::text),
       (SELECT count(*) FROM antiban.alerts a WHERE a.acknowledged_at IS NULL AND a.severity = s
          AND ((SELECT antiban.my_portfolios()) IS NULL OR a.phone_number_id = ANY ((SELECT antiban.my_phone_numbers())::text[])
       OR a.waba_id IN (SELECT w.waba_id FROM antiban.wabas w WHERE w.portfolio_id = ANY ((SELECT antiban.my_portfolios())::bigint[]))))::float8
FROM unnest(enum_range(NULL::antiban.alert_severity)) s
UNION ALL
SELECT 'antiban_webhook_events_pending', 'gauge', 'Webhook events stored and not applied yet.',
       '', w.pending::float8
FROM hooks w
UNION ALL
SELECT 'antiban_webhook_apply_lag_seconds', 'gauge', 'How long the oldest stored, not yet applied webhook event has waited (0: none waits).',
       '', w.apply_lag_seconds::float8
FROM hooks w
UNION ALL
SELECT 'antiban_webhook_events_last_5min', 'gauge', 'Webhook events stored in the last 5 minutes.',
       '', w.last_5min::float8
FROM hooks w
UNION ALL
SELECT 'antiban_worker_running', 'gauge', 'antiban background workers running, by kind (pg_stat_activity; only for roles with pg_read_all_stats).',
       antiban.prom_label('worker', w.worker), w.running::float8
FROM workers w WHERE w.running IS NOT NULL
UNION ALL
SELECT 'antiban_sender_due_wait_seconds', 'gauge', 'How long the oldest message that is due now has waited for a sender (grows when no sender works).',
       '', w.value
FROM workers w WHERE w.worker = 'antiban sender'
UNION ALL
SELECT 'antiban_monitor_last_evaluation_age_seconds', 'gauge', 'Seconds since the monitor last evaluated a number''s health (absent before the first evaluation).',
       '', w.value
FROM workers w WHERE w.worker = 'antiban monitor' AND w.value IS NOT NULL
UNION ALL
SELECT 'antiban_journal_flushed_total', 'counter', 'Decision journal records stored by the journal writer since the server started.',
       '', j.flushed::float8
FROM journal j
UNION ALL
SELECT 'antiban_journal_buffered', 'gauge', 'Decision journal records waiting in shared memory to be stored.',
       '', j.buffered::float8
FROM journal j
UNION ALL
SELECT 'antiban_journal_direct_writes_total', 'counter', 'Decision journal records written directly (ring full, or outside antiban.database_name).',
       '', j.written_directly::float8
FROM journal j
UNION ALL
SELECT 'antiban_shared_memory_page_bytes', 'gauge', 'Page size backing PostgreSQL''s shared memory, where antiban keeps buckets, people and the journal: 4096 on small pages, 2097152 on huge pages (faster decisions; README "Huge pages").',
       '', m.page_bytes::float8
FROM antiban.shared_memory() m WHERE m.page_bytes IS NOT NULL AND (SELECT antiban.my_portfolios()) IS NULL;
COMMENT ON VIEW antiban.prometheus_metrics IS
    'The database''s Prometheus samples (name, type, help, labels, value), grouped by name: what the receiver''s /metrics prints. Cheap: partial indexes, statistics, shared memory and short BRIN windows, never the whole outbox.';

-- ---- the dashboard's role ----

-- antiban_reader's rights plus acknowledging alerts: the only write the page
-- makes.  Grant it to the login role the receiver's --admin-conninfo uses.
-- (90_roles.sql creates the other roles; antiban_reader is created here too
-- when missing, since this file runs first.)
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['antiban_reader', 'antiban_dashboard'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;
GRANT antiban_reader TO antiban_dashboard;
GRANT USAGE ON SCHEMA antiban TO antiban_dashboard;
GRANT SELECT ON antiban.outbox_live, antiban.dashboard_numbers, antiban.dashboard_queue, antiban.dashboard_errors,
    antiban.dashboard_alerts, antiban.dashboard_budget, antiban.dashboard_quality, antiban.dashboard_webhooks,
    antiban.dashboard_workers, antiban.prometheus_metrics
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.nominal_rate(antiban.throughput_level, double precision, double precision),
    antiban.dashboard_panels(), antiban.dashboard_panel(text), antiban.dashboard_json(),
    antiban.prom_label(text, text), antiban.my_phone_numbers()
    TO antiban_reader;
GRANT EXECUTE ON FUNCTION antiban.acknowledge_alert(bigint) TO antiban_dashboard;
