-- Meta's own figures: the monitor polls each WABA's pricing_analytics
-- (COST and VOLUME per UTC day, country, pricing category, type and tier)
-- once per antiban.settings 'pricing.poll_interval', inside the management
-- rate limit, and antiban.pricing_reconciliation sets them beside ours.

CREATE TABLE antiban.pricing_analytics (
    waba_id           bigint NOT NULL REFERENCES antiban.wabas ON DELETE CASCADE,
    day               date NOT NULL,
    country           text NOT NULL,
    pricing_category  text NOT NULL,
    pricing_type      text NOT NULL,
    tier              text NOT NULL,
    volume            bigint NOT NULL,
    cost              numeric(16, 6),
    polled_at         timestamptz NOT NULL,
    PRIMARY KEY (waba_id, day, country, pricing_category, pricing_type, tier)
);
COMMENT ON TABLE antiban.pricing_analytics IS
    'Meta''s pricing_analytics per WABA, UTC day, country, category, type and tier ('''' where Meta gave none): delivered messages (volume) and their approximate cost in the WABA''s currency (NULL when Meta hid it). Each poll replaces the days it covered.';

CREATE TABLE antiban.pricing_polls (
    waba_id          bigint PRIMARY KEY REFERENCES antiban.wabas ON DELETE CASCADE,
    last_success_at  timestamptz,
    last_attempt_at  timestamptz NOT NULL,
    first_day        date,
    last_day         date,
    last_error       text
);
COMMENT ON TABLE antiban.pricing_polls IS
    'When each WABA''s pricing_analytics was last polled, the UTC days polled so far (first_day..last_day) and the last error.';

-- Due when the last success is older than pricing.poll_interval (a failure
-- waits an hour); the window reaches pricing.poll_lookback before the last
-- success (Meta's recent days still move) and ends now.
CREATE FUNCTION antiban.pricing_poll_due(waba bigint, OUT start_at timestamptz, OUT end_at timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE AS $$
    SELECT date_trunc('day', least(coalesce(p.last_success_at, antiban.now()), antiban.now())
                             - antiban.setting_interval('pricing.poll_lookback'), 'UTC'),
           antiban.now()
    FROM (SELECT waba) x
    LEFT JOIN antiban.pricing_polls p ON p.waba_id = x.waba
    WHERE coalesce(p.last_success_at, '-infinity') <= antiban.now() - antiban.setting_interval('pricing.poll_interval')
      AND coalesce(p.last_attempt_at, '-infinity') <= antiban.now() - least(interval '1 hour',
                                                                            antiban.setting_interval('pricing.poll_interval'))
$$;
COMMENT ON FUNCTION antiban.pricing_poll_due(bigint) IS
    'Internal (the monitor): the window to poll pricing_analytics for now, or no row when the WABA is not due.';

CREATE FUNCTION antiban.apply_pricing_poll(waba bigint, start_at timestamptz, end_at timestamptz, body jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stored integer;
BEGIN
    -- the days this poll covered are replaced, so points Meta dropped go too
    DELETE FROM antiban.pricing_analytics a
    WHERE a.waba_id = waba AND a.day >= (start_at AT TIME ZONE 'UTC')::date AND a.day <= (end_at AT TIME ZONE 'UTC')::date;
    INSERT INTO antiban.pricing_analytics (waba_id, day, country, pricing_category, pricing_type, tier, volume, cost, polled_at)
    SELECT waba, (to_timestamp(p.start) AT TIME ZONE 'UTC')::date, coalesce(p.country, ''),
           upper(replace(coalesce(p.pricing_category, ''), '-', '_')), upper(coalesce(p.pricing_type, '')),
           coalesce(p.tier, ''), sum(coalesce(p.volume, 0)), sum(p.cost), antiban.now()
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(body -> 'pricing_analytics' -> 'data') = 'array'
                                   THEN body -> 'pricing_analytics' -> 'data' ELSE '[]' END) d,
         jsonb_to_recordset(CASE WHEN jsonb_typeof(d -> 'data_points') = 'array' THEN d -> 'data_points' ELSE '[]' END)
             AS p(start bigint, country text, pricing_category text, pricing_type text, tier text, volume bigint,
                  cost numeric)
    WHERE p.start IS NOT NULL
    GROUP BY 2, 3, 4, 5, 6;
    GET DIAGNOSTICS stored = ROW_COUNT;
    INSERT INTO antiban.pricing_polls AS s (waba_id, last_success_at, last_attempt_at, first_day, last_day)
    VALUES (waba, antiban.now(), antiban.now(), (start_at AT TIME ZONE 'UTC')::date, (end_at AT TIME ZONE 'UTC')::date)
    ON CONFLICT (waba_id) DO UPDATE SET last_success_at = excluded.last_success_at,
        last_attempt_at = excluded.last_attempt_at, last_error = NULL,
        first_day = least(s.first_day, excluded.first_day), last_day = greatest(s.last_day, excluded.last_day);
    RETURN stored;
END
$$;
COMMENT ON FUNCTION antiban.apply_pricing_poll(bigint, timestamptz, timestamptz, jsonb) IS
    'Internal (the monitor): store one pricing_analytics answer for a WABA, replacing the UTC days [start_at, end_at] it covered; returns the rows stored.';

CREATE FUNCTION antiban.record_pricing_poll_failure(waba bigint, error text) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO antiban.pricing_polls AS s (waba_id, last_attempt_at, last_error)
    VALUES (waba, antiban.now(), error)
    ON CONFLICT (waba_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error;
END;
COMMENT ON FUNCTION antiban.record_pricing_poll_failure(bigint, text) IS
    'Internal (the monitor): a pricing_analytics poll failed; the next try waits an hour (or the poll interval, if shorter).';

-- Ours against Meta's, per WABA, UTC day (Meta's buckets), country, category
-- and type.  Before a day is polled Meta's side is NULL; once polled, a
-- missing point is 0.  Costs are both in the WABA's currency.
CREATE VIEW antiban.pricing_reconciliation AS
WITH ours AS (
    SELECT mc.waba_id, (mc.delivered_at AT TIME ZONE 'UTC')::date AS day, coalesce(mc.country, '') AS country,
           upper(replace(coalesce(mc.pricing_category, ''), '-', '_')) AS pricing_category,
           upper(mc.pricing_type) AS pricing_type, count(*) AS volume, sum(mc.cost) AS cost,
           count(*) FILTER (WHERE mc.charged AND mc.cost IS NULL) AS unpriced
    FROM antiban.message_costs mc
    GROUP BY 1, 2, 3, 4, 5
), meta AS (
    SELECT a.waba_id, a.day, a.country, a.pricing_category, a.pricing_type, sum(a.volume) AS volume, sum(a.cost) AS cost
    FROM antiban.pricing_analytics a
    GROUP BY 1, 2, 3, 4, 5
)
SELECT w.waba_id, r.day, r.country, r.pricing_category, r.pricing_type, w.currency,
       coalesce(o.volume, 0) AS our_volume,
       CASE WHEN r.day BETWEEN pp.first_day AND pp.last_day THEN coalesce(m.volume, 0) END AS meta_volume,
       coalesce(o.volume, 0) - CASE WHEN r.day BETWEEN pp.first_day AND pp.last_day THEN coalesce(m.volume, 0) END
           AS volume_difference,
       coalesce(o.cost, 0) AS our_cost,
       CASE WHEN r.day BETWEEN pp.first_day AND pp.last_day THEN coalesce(m.cost, 0) END AS meta_cost,
       coalesce(o.cost, 0) - CASE WHEN r.day BETWEEN pp.first_day AND pp.last_day THEN coalesce(m.cost, 0) END
           AS cost_difference,
       coalesce(o.unpriced, 0) AS our_unpriced
FROM (SELECT waba_id, day, country, pricing_category, pricing_type FROM ours
      UNION SELECT waba_id, day, country, pricing_category, pricing_type FROM meta) r
JOIN antiban.wabas w ON w.id = r.waba_id
LEFT JOIN ours o ON (o.waba_id, o.day, o.country, o.pricing_category, o.pricing_type)
                  = (r.waba_id, r.day, r.country, r.pricing_category, r.pricing_type)
LEFT JOIN meta m ON (m.waba_id, m.day, m.country, m.pricing_category, m.pricing_type)
                  = (r.waba_id, r.day, r.country, r.pricing_category, r.pricing_type)
LEFT JOIN antiban.pricing_polls pp ON pp.waba_id = r.waba_id;
COMMENT ON VIEW antiban.pricing_reconciliation IS
    'Our computed volume and cost against Meta''s pricing_analytics per WABA, UTC day, country, pricing category and type, with the differences (ours minus Meta''s; NULL until Meta''s day is polled). our_unpriced: charged messages we could not price. Expected gaps: tier edges, time-zone edges, late webhooks, Meta''s rounding; the invoice is authoritative.';
