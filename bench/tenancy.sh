#!/bin/sh
# Tenancy benchmark: decide and send_template called by an application role
# mapped to one of two portfolios, with row-level security on and off, in
# the same run (alternating, ROUNDS times each).  pgbench -M prepared -c 4 for
# BENCH_SECONDS (default 10) each.  Prints each pair and the ratio.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
SECONDS_EACH=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
CLIENTS=4
PORT=${BENCH_PORT:-5498}

[ "${BENCH_NO_BUILD:-}" = 1 ] || { install_packages $ANTIBAN_BUILD_PACKAGES; build_and_install; }
ensure_cluster_user
DIR=$(mktemp -d /tmp/antiban-bench.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$DIR"
cleanup() { stop_cluster "$DIR"; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
# queued messages stay queued: no sender talks to Meta during the benchmark
cluster_psql "$DIR" "$PORT" postgres -c "ALTER SYSTEM SET antiban.sender_workers = 0"
as_cluster_user "$(pg_bindir)/pg_ctl" -D "$DIR/pgdata" -w restart -m fast >/dev/null
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban <<'SQL'
CREATE EXTENSION antiban;
INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED'), ('2', 'TIER_UNLIMITED');
INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('11', 1), ('12', 2);
INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level, rate_override, burst_override)
SELECT (1000000 + i)::text, 1 + i % 2, 'HIGH', 100000, 100000 FROM generate_series(1, 200) i;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_app') THEN CREATE ROLE bench_app LOGIN; END IF;
END $$;
GRANT antiban_app TO bench_app;
SELECT antiban.grant_portfolio('bench_app', '1');
CREATE FUNCTION public.set_rls(on_ boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT DISTINCT p.polrelid::regclass FROM pg_policy p
             JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = 'antiban'::regnamespace LOOP
        EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY', t, CASE WHEN on_ THEN 'ENABLE' ELSE 'DISABLE' END);
    END LOOP;
END $$;
SQL
sleep 2

script() { f="$DIR/$1.sql"; shift; printf '%s\n' "$@" > "$f"; chmod 644 "$f"; echo "$f"; }
tps() {
	as_cluster_user "$(pg_bindir)/pgbench" -n -M prepared -c $CLIENTS -j 2 -T "$SECONDS_EACH" \
		-h "$DIR" -p "$PORT" -U bench_app -f "$1" antiban 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}
decide=$(script decide '\set r random(1, 1000000)' \
	"SELECT outcome FROM antiban.decide('+55119' || lpad(:r::text, 8, '0'), 'utility', consume => false);")
send=$(script send '\set r random(1, 1000000)' \
	"SELECT antiban.send_template('+55119' || lpad(:r::text, 8, '0'), 'boas_vindas', 'pt_BR', valid_until => now() + interval '1 hour');")
say "measuring ($SECONDS_EACH s each, $CLIENTS clients, $ROUNDS rounds, RLS on and off alternating)"
printf '%-14s %10s %10s %7s\n' what rls_on rls_off on/off
for r in $(seq "$ROUNDS"); do
	for what in decide send; do
		eval f=\$$what
		cluster_psql "$DIR" "$PORT" antiban -c "SELECT public.set_rls(true)" >/dev/null
		on=$(tps "$f")
		cluster_psql "$DIR" "$PORT" antiban -c "SELECT public.set_rls(false)" >/dev/null
		off=$(tps "$f")
		printf '%-14s %10s %10s %7s\n' "$what" "$on" "$off" "$(echo "scale=2; $on / $off" | bc)"
	done
done
