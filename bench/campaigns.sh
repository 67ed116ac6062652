#!/bin/sh
# Campaign benchmark.
#  1. antiban.plan_campaign() over audiences of 50,000 and 500,000 people
#     (the target: under a second for 50,000), against peers measured in
#     the same run: a plain SELECT count(*) over the same audience query
#     (the floor: reading the audience at all), antiban.decide_many() alone
#     (the decision for every person in one call) and, for 50,000,
#     antiban.decide(..., consume => false) called once per person (what a
#     plan would cost without decide_many).  Median of 3 runs each.
#  2. Pacing: a campaign of 5,000 people in a TIER_2K portfolio, allowed
#     08:00-20:00, reserve 20 %, paced every 10 minutes over one pinned day:
#     the share of the day's budget (2,000 new people) it takes each hour.
# BENCH_SMALL / BENCH_LARGE change the audience sizes.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
SMALL=${BENCH_SMALL:-50000}
LARGE=${BENCH_LARGE:-500000}
PORT=${BENCH_PORT:-5497}

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir campaigns)
cleanup() { stop_cluster "$DIR"; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
as_cluster_user sh -c "printf 'antiban.sender_workers = 0\nantiban.monitor = off\njit = off\nshared_buffers = 512MB\nantiban.max_recipients = 1100000\n' >> '$DIR/pgdata/postgresql.conf'"
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
sql() { cluster_psql "$DIR" "$PORT" antiban -tA "$@"; }

sql -c "CREATE EXTENSION antiban" >/dev/null
sql >/dev/null <<EOF
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('100', 'TIER_100K'), ('101', 'TIER_2K');
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1), ('201', 2);
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
VALUES ('1001', 1, 'HIGH'), ('1002', 1, 'HIGH'), ('1003', 1, 'STANDARD'), ('1011', 2, 'STANDARD');
INSERT INTO antiban.templates (waba_id, name, language, status, category, components)
SELECT w, 'promo', 'pt_BR', 'APPROVED', 'MARKETING', '[{"type": "BODY", "text": "Oi {{1}}"}]' FROM unnest(ARRAY[1, 2]) w;
SELECT antiban.reload_config();
CREATE TABLE audience AS
SELECT '+55119' || lpad(i::text, 8, '0') AS phone, 'Cliente ' || i AS first_name,
       (ARRAY['Recife', 'Sao Paulo', 'Curitiba', 'Manaus'])[1 + i % 4] AS city
FROM generate_series(1, $LARGE) i;
ANALYZE audience;
CREATE FUNCTION ms(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t timestamptz := clock_timestamp();
BEGIN
    EXECUTE q;
    RETURN 1000 * extract(epoch FROM clock_timestamp() - t);
END \$\$;
CREATE FUNCTION median3(q text) RETURNS numeric LANGUAGE sql AS \$\$
    SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms(q))::numeric, 1) FROM generate_series(1, 3)
\$\$;
EOF

echo "antiban campaign benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "== 1. plan_campaign (median of 3, ms; client and server on the same machine)"
for n in $SMALL $LARGE; do
	q="SELECT phone AS recipient, jsonb_build_array(first_name) AS params FROM audience WHERE phone <= '+55119' || lpad('$n', 8, '0')"
	id=$(sql -c "SELECT antiban.create_campaign('bench_$n', 'promo', 'pt_BR', \$q\$$q\$q\$, params => 'params', portfolio => '100')")
	floor=$(sql -c "SELECT median3(\$q\$SELECT count(*) FROM ($q) a\$q\$)")
	many=$(sql -c "SELECT median3(\$q\$SELECT count(*) FROM antiban.decide_many((SELECT array_agg(recipient) FROM ($q) a), 'marketing', '100')\$q\$)")
	plan=$(sql -c "SELECT median3('SELECT * FROM antiban.plan_campaign($id)')")
	summary=$(sql -c "SELECT summary FROM antiban.plan_campaign($id)")
	echo "$n people: plan_campaign $plan ms; SELECT count(*) over the audience $floor ms (plan = $(awk -v a="$plan" -v b="$floor" 'BEGIN { printf "%.0f", a / b }')x); decide_many alone $many ms"
	echo "    $summary"
	if [ "$n" = "$SMALL" ]; then
		single=$(sql -c "SELECT round(ms(\$q\$SELECT count(antiban.decide(recipient, 'marketing', portfolio => '100', consume => false)) FROM ($q) a\$q\$)::numeric, 1)")
		echo "    peer: decide(consume => false) once per person, one run: $single ms (decide_many: $(awk -v a="$single" -v b="$many" 'BEGIN { printf "%.1f", a / b }')x faster)"
	fi
done

echo "== 2. a paced campaign's share of the day's budget, per hour"
sql >/dev/null <<'EOF'
SET antiban.pinned_now = '2030-06-03 00:00:00+00';
SELECT antiban.create_campaign('paced', 'promo', 'pt_BR',
    'SELECT phone AS recipient, jsonb_build_array(first_name) AS params FROM audience WHERE phone <= ''+5511900005000''',
    params => 'params', window_start => '08:00', window_end => '20:00', reserve => 0.2, portfolio => '101');
SELECT antiban.start_campaign((SELECT id FROM antiban.campaigns WHERE name = 'paced'));
EOF
sql >/dev/null <<'EOF'
DO $$
BEGIN
    FOR m IN 0 .. 24 * 6 LOOP
        PERFORM set_config('antiban.pinned_now', (timestamptz '2030-06-03 00:00:00+00' + m * interval '10 minutes')::text, true);
        PERFORM antiban.pace_campaigns();
    END LOOP;
END $$;
EOF
sql -F ' ' -c "SELECT to_char(h, 'HH24:00'), coalesce(n, 0), round(100.0 * coalesce(n, 0) / 2000, 1) || ' %'
	FROM generate_series(timestamptz '2030-06-03 00:00+00', '2030-06-03 23:00+00', '1 hour') h
	LEFT JOIN (SELECT date_trunc('hour', released_at) AS at, count(*) AS n FROM antiban.campaign_recipients r
	           JOIN antiban.campaigns c ON c.id = r.campaign_id WHERE c.name = 'paced' AND r.status = 'released'
	           GROUP BY 1) x ON x.at = h ORDER BY h" | sed 's/^/    /'
sql -c "SELECT format('released %s of 5,000 in the day: %s %% of the 2,000 budget (%s %% kept as reserve); max hour %s %%',
	count(*), round(100.0 * count(*) / 2000, 1), 20,
	round(100.0 * max(n) / 2000, 1))
	FROM (SELECT date_trunc('hour', released_at), count(*) OVER (PARTITION BY date_trunc('hour', released_at)) AS n
	      FROM antiban.campaign_recipients r JOIN antiban.campaigns c ON c.id = r.campaign_id
	      WHERE c.name = 'paced' AND r.status = 'released') x"
