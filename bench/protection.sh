#!/bin/sh
# Protection scenario: 3 numbers (80 msgs/s each at the simulator) drain a
# marketing campaign; half-way, number 3000002 starts answering 131048 (spam
# rate limit: users block and report it).  Run twice in the same session:
# with protection (the default) and as a naive sender (antiban.protection =
# off).  Reports messages delivered, how many the sick number was still sent
# after the first warning, and how long antiban took to take it out.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
MESSAGES=${BENCH_MESSAGES:-3000}
PORT=${BENCH_PORT:-5495}
SICK=3000002

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir protection)
cleanup() { stop_cluster "$DIR"; stop_process "$DIR" simulator; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

SIM=$(start_process "$DIR" simulator "$ANTIBAN_ROOT/regress/simulator/antiban-sim")
CONFIG='{"numbers": {"3000001": {"throughput": 80, "portfolio": "p1", "waba": "200"},
	"3000002": {"throughput": 80, "portfolio": "p1", "waba": "200"},
	"3000003": {"throughput": 80, "portfolio": "p1", "waba": "200"}},
	"portfolios": {"p1": {"limit": "unlimited"}}}'

start_cluster "$DIR" "$PORT"
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
antiban.graph_base_url = '$SIM'
antiban.sender_workers = 1
antiban.monitor_interval = '500ms'
antiban.poll_interval = '1h'
antiban.retry_base = '200ms'
antiban.retry_cap = '2s'
antiban.max_attempts = 8
EOC
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level, quality_rating)
	SELECT (3000000 + i)::text, 1, 'STANDARD', 'GREEN' FROM generate_series(1, 3) i;
	SELECT antiban.set_secret('access_token', 'EAAG-bench-token', '200');" >/dev/null

sql() { cluster_psql "$DIR" "$PORT" antiban -tA -c "$1"; }
ledger() { curl -s "$SIM/_sim/ledger"; }
accepted() { ledger | sed -n 's/^{"accepted":\([0-9]*\).*/\1/p'; }
# Only the sick number has a scripted fault, and once scripted it fails every
# send: the simulator's scripted-fault count is what it was sent after that.
scripted_faults() { ledger | sed -n 's/.*"scripted":\([0-9]*\).*/\1/p'; }

# run LABEL PROTECTION: prints "delivered sick_after_warning warning_to_pause_ms dead"
run() {
	label=$1 protection=$2
	curl -s -X POST "$SIM/_sim/reset" >/dev/null
	curl -s -X POST "$SIM/_sim/config" -d "$CONFIG" >/dev/null
	sql "ALTER SYSTEM SET antiban.protection = $protection" >/dev/null
	sql "SELECT pg_reload_conf()" >/dev/null
	sql "TRUNCATE antiban.outbox, antiban.send_errors, antiban.health_events, antiban.alerts, antiban.health_state CASCADE;
	     UPDATE antiban.numbers SET mode = 'active', rate_factor = 1, health = 100, hard_block = false,
	            mode_forced = false, change_reason = 'benchmark reset'" >/dev/null
	sleep 1.5	# buckets refill; the reload reaches the workers
	sql "SELECT count(antiban.send_template('+55' || $3 || lpad(i::text, 8, '0'), 'oferta', 'pt_BR'))
	     FROM generate_series(1, $MESSAGES) i" >/dev/null
	i=0
	while [ "$(accepted)" -lt $((MESSAGES / 2)) ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
	curl -s -X POST "$SIM/_sim/script" -d "{\"number\": \"$SICK\", \"fail_next\": 1000000, \"code\": 131048}" >/dev/null
	warned_at=$(date +%s.%N)
	i=0
	while [ "$(sql "SELECT count(*) FROM antiban.outbox WHERE state IN ('queued', 'retry_wait', 'sending')")" != 0 ] \
		&& [ $i -lt 600 ]; do sleep 0.25; i=$((i + 1)); done
	delivered=$(accepted)
	sick_after=$(scripted_faults)
	paused_at=$(sql "SELECT extract(epoch FROM min(at)) FROM antiban.health_events h JOIN antiban.numbers n ON n.id = h.number_id
	                 WHERE n.phone_number_id = '$SICK' AND h.mode_after IN ('throttled', 'paused')")
	dead=$(sql "SELECT count(*) FROM antiban.outbox WHERE state NOT IN ('sent', 'delivered', 'read')")
	to_pause=$(awk -v a="$warned_at" -v b="${paused_at:-}" 'BEGIN { if (b == "") print "never"; else printf "%d", (b - a) * 1000 }')
	echo "$delivered ${sick_after:-0} $to_pause $dead"
}
field() { echo "$1" | cut -d' ' -f"$2"; }

say "protected run"
protected=$(run protected on "'11'")
say "naive run (antiban.protection = off)"
naive=$(run naive off "'21'")
row() { printf '| %-62s | %10s | %10s |\n' "$1" "$2" "$3"; }
echo
echo "antiban protection scenario: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $MESSAGES marketing messages, 3 numbers at 80 msgs/s, $SICK answers 131048 from half-way"
row "measure" "protected" "naive"
row "--------------------------------------------------------------" "----------" "----------"
row "messages delivered (accepted by the simulator)" "$(field "$protected" 1)" "$(field "$naive" 1)"
row "messages not delivered (failed, dead)" "$(field "$protected" 4)" "$(field "$naive" 4)"
row "sends to the sick number after its first 131048" "$(field "$protected" 2)" "$(field "$naive" 2)"
row "first 131048 to the number taken out (ms)" "$(field "$protected" 3)" "$(field "$naive" 3)"
row "sick-number sends, protected / naive" "$(awk -v a="$(field "$protected" 2)" -v b="$(field "$naive" 2)" 'BEGIN { printf "%.1f %%", b ? a / b * 100 : 0 }')" ""
row "delivered, protected / naive" "$(awk -v a="$(field "$protected" 1)" -v b="$(field "$naive" 1)" 'BEGIN { printf "%.1f %%", b ? a / b * 100 : 0 }')" ""
