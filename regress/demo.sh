#!/bin/sh
# The main job: installs what antiban needs (Debian 12), builds and installs
# it, starts a local PostgreSQL in var/ of the project (as an unprivileged
# user), creates the extension and runs the demo in regress/demo.sql.
#   sh regress/demo.sh          set up and run the demo (re-runnable)
#   sh regress/demo.sh stop     stop the demo's PostgreSQL
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
PORT=${ANTIBAN_DEMO_PORT:-5499}

stop_simulator() {
	[ -f "$1/simulator.pid" ] && kill "$(cat "$1/simulator.pid")" 2>/dev/null
	rm -f "$1/simulator.pid" "$1/simulator.port"
}

if [ "${1:-}" = stop ]; then
	ensure_cluster_user
	HOME_DIR=$(cluster_home)
	stop_cluster "$HOME_DIR"
	stop_simulator "$HOME_DIR"
	exit 0
fi

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
HOME_DIR=$(cluster_home)

# The Cloud API simulator stands in for graph.facebook.com: 2 % of requests
# fail with a 500, and number 3000000002 is scripted to be flagged for spam
# (131048) as soon as it sends.
stop_simulator "$HOME_DIR"
SIM="$ANTIBAN_ROOT/regress/simulator/antiban-sim"
"$SIM" --port 0 --port-file "$HOME_DIR/simulator.port" --token EAAG-demo-token-not-a-real-one \
	--fail-rate 0.02 --seed 42 > "$HOME_DIR/simulator.log" 2>&1 &
echo $! > "$HOME_DIR/simulator.pid"
i=0; while [ ! -s "$HOME_DIR/simulator.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
SIM_URL="http://127.0.0.1:$(cat "$HOME_DIR/simulator.port")"
curl -s -X POST "$SIM_URL/_sim/config" -d '{"numbers": {
	"3000000001": {"throughput": 1000, "portfolio": "p1", "waba": "2000000001"},
	"3000000002": {"throughput": 80, "portfolio": "p1", "waba": "2000000001"},
	"3000000003": {"throughput": 80, "portfolio": "p1", "waba": "2000000001"}},
	"portfolios": {"p1": {"limit": 2000}}}' >/dev/null || die "the simulator did not start"
say "Cloud API simulator at $SIM_URL"

say "starting PostgreSQL in $HOME_DIR (port $PORT)"
# The sender points nowhere until the demo database is fresh: rows left by an
# earlier run must not reach this run's simulator.
demo_conf() {
	as_cluster_user sh -c "cat > '$HOME_DIR/pgdata/antiban-demo.conf'" <<EOC
antiban.graph_base_url = '$1'
antiban.sender_workers = 1
EOC
}
demo_conf "http://127.0.0.1:9"
start_cluster "$HOME_DIR" "$PORT"
cluster_psql "$HOME_DIR" "$PORT" postgres -c "DROP DATABASE IF EXISTS antiban WITH (FORCE)" -c "CREATE DATABASE antiban"
cluster_psql "$HOME_DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "CREATE EXTENSION pg_cron"
demo_conf "$SIM_URL"
cluster_psql "$HOME_DIR" "$PORT" postgres -c "SELECT pg_reload_conf()" >/dev/null
# The journal writer (re)connects within seconds of the database appearing;
# until it has read how the last run ended, new buckets start empty.
i=0
while [ $i -lt 40 ] && [ "$(cluster_psql "$HOME_DIR" "$PORT" antiban -tAc \
	"SELECT previous_shutdown FROM antiban.journal_stats()")" = unknown ]; do
	sleep 0.25; i=$((i + 1))
done
say "running the demo"
cluster_psql "$HOME_DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/regress/demo.sql"
cluster_psql "$HOME_DIR" "$PORT" antiban -c "UPDATE antiban.numbers SET burst_override = NULL, rate_override = NULL"
curl -s -X POST "$SIM_URL/_sim/script" -d '{"number": "3000000002", "fail_next": 1000, "code": 131048}' >/dev/null
cluster_psql "$HOME_DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/regress/demo_send.sql"
say "the sender worker drains the outbox to the simulator"
i=0
while [ $i -lt 120 ] && [ "$(cluster_psql "$HOME_DIR" "$PORT" antiban -tAc \
	"SELECT count(*) FROM antiban.outbox WHERE state IN ('queued', 'retry_wait', 'sending')")" != 0 ]; do
	sleep 0.5; i=$((i + 1))
done
cluster_psql "$HOME_DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/regress/demo_summary.sql"
echo "== What the simulator saw (its ledger)"
curl -s "$SIM_URL/_sim/ledger" | sed 's/,"per_number".*//; s/$/}/'
echo
say "done. Connect: psql -h $HOME_DIR -p $PORT -d antiban   Stop: sh regress/demo.sh stop"
