#!/bin/sh
# The webhook apply alone (issue 13 §1): what one backend spends applying
# stored events, without the receiver, wrk or the ingest on the same cores.
# bench/webhooks.sh measures the whole path, where the apply is what runs
# out of CPU first; this one tells its cost per event and where it goes.
#
# The bodies of bench/webhooks.sh's one-change mix (a status per POST, an
# inbound text from a new lead after every 30) are stored pending by
# antiban.ingest_webhooks (no apply worker in that database), then applied
# from a full queue by antiban.apply_pending_webhooks in batches of each
# size given, each from a fresh copy of the same database.  The peer, in
# the same run: the same events stored and applied inline, one call of 500
# POSTs per transaction (what the receiver does), minus the cost of storing
# them alone.  Per batch size: events/s, the backend's CPU per event
# (its /proc/self/stat before and after) and, for the first size, the
# statements that took the most time (pg_stat_statements, track = all).
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
POSTS=${BENCH_APPLY_POSTS:-40000}	# status POSTs of the one-change mix (even)
SIZES=${BENCH_APPLY_BATCHES:-1000 200 50}	# batch sizes (antiban.webhook_apply_batch is 1,000)
LEAD_FLOW=${BENCH_LEAD_FLOW:-on}
PORT=${BENCH_PORT:-5498}
SECRET=bench-app-secret

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir webhook_apply)
cleanup() { stop_cluster "$DIR"; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
# no sender, monitor or apply worker touches the databases measured: the
# apply workers (at least one runs) work in database postgres, which has
# no antiban
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
shared_preload_libraries = 'antiban, pg_stat_statements'
pg_stat_statements.track = all
antiban.sender_workers = 0
antiban.monitor = off
antiban.webhook_apply_workers = 1
antiban.database_name = 'postgres'
antiban.lead_flow = $LEAD_FLOW
EOC
start_cluster "$DIR" "$PORT"
sql_in() { db=$1; shift; cluster_psql "$DIR" "$PORT" "$db" -tA "$@"; }
jit=$(sql_in postgres -c "SHOW jit")

sql_in postgres -c "CREATE DATABASE antiban" >/dev/null
sql_in antiban -v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_setup.sql" >/dev/null
sql_in antiban -c "CREATE EXTENSION pg_stat_statements" >/dev/null
say "signing $POSTS status POSTs, an inbound message after every 30"
sql_in antiban -v mix=one -v status_posts="$POSTS" -v per_post=1 -v statuses_per_inbound=30 \
	-v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_bodies.sql" >/dev/null 2>&1
sql_in antiban -c "VACUUM ANALYZE" >/dev/null 2>&1

# The backend's own CPU (user + system) in seconds, from inside it.
CPU_SQL="(SELECT (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) / $(getconf CLK_TCK).0
          FROM (SELECT pg_read_file('/proc/self/stat') AS s) x)"
# 500 POSTs per call and per transaction, in posting order (the receiver's way)
INGEST_SQL="DO \$\$ DECLARE g bigint; BEGIN
	FOR g IN SELECT DISTINCT k::bigint / 500 FROM bench_bodies WHERE mix = 'one' ORDER BY 1 LOOP
		PERFORM antiban.ingest_webhooks(array_agg(convert_to(body, 'UTF8') ORDER BY k), array_agg(signature ORDER BY k))
		FROM bench_bodies WHERE mix = 'one' AND k::bigint / 500 = g;
		COMMIT;
	END LOOP; END \$\$"

# run MODE BATCH: a fresh copy; MODE store (ingest only), inline (ingest
# applying) or worker (store, then apply from the queue); prints
# "events seconds cpu_seconds applied"
run() {
	sql_in postgres -c "DROP DATABASE IF EXISTS bench_apply WITH (FORCE)" \
		-c "CREATE DATABASE bench_apply TEMPLATE antiban" >/dev/null
	apply=worker; [ "$1" = inline ] && apply=inline
	set -- "$1" "$2" "$apply"
	if [ "$1" = worker ]; then
		sql_in bench_apply -c "SET antiban.webhook_apply = worker" -c "$INGEST_SQL" >/dev/null
		sql_in bench_apply -c "CHECKPOINT" -c "SELECT pg_stat_statements_reset()" >/dev/null
		work="DO \$\$ BEGIN LOOP EXIT WHEN antiban.apply_pending_webhooks($2) = 0; COMMIT; END LOOP; END \$\$"
	else
		sql_in bench_apply -c "CHECKPOINT" >/dev/null
		work="$INGEST_SQL"
	fi
	sql_in bench_apply -c "SET antiban.webhook_apply = $3" -c "SELECT $CPU_SQL, clock_timestamp()" -c "$work" \
		-c "SELECT $CPU_SQL, clock_timestamp()" > "$DIR/run.out"
	sql_in bench_apply -c "SELECT count(*), count(*) FILTER (WHERE status IN ('applied', 'partial')) FROM antiban.webhook_events" \
		| tr '|' ' ' > "$DIR/count.out"
	awk -F'|' -v counts="$(cat "$DIR/count.out")" '
		NR == 1 { c0 = $1; t0 = $2 } END { c1 = $1; t1 = $2
			split(counts, n, " ")
			cmd = "date -d \"" t0 "\" +%s.%N"; cmd | getline s0; close(cmd)
			cmd = "date -d \"" t1 "\" +%s.%N"; cmd | getline s1; close(cmd)
			printf "%d %.3f %.3f %d\n", n[1], s1 - s0, c1 - c0, n[2] }' "$DIR/run.out"
}

say "storing alone (the part of inline that is not the apply)"
set -- $(run store 0); store_s=$2 store_cpu=$3 events=$1
say "stored and applied inline, 500 POSTs per call"
set -- $(run inline 0); inline_s=$2 inline_cpu=$3 inline_applied=$4
results=""
first=""
for size in $SIZES; do
	say "applied from the queue in batches of $size"
	set -- $(run worker "$size")
	results="$results $size:$2:$3:$4"
	if [ -z "$first" ]; then
		first=$size
		sql_in bench_apply -c "SELECT calls, round(total_exec_time)::bigint, rows,
			left(regexp_replace(query, '\s+', ' ', 'g'), 80)
			FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench_apply')
			AND query NOT LIKE 'DO %' AND query NOT LIKE '%apply_pending_webhooks(\$1)%'
			ORDER BY total_exec_time DESC LIMIT 12" > "$DIR/top.out"
	fi
done

row() { printf '| %-58s | %12s | %12s | %10s |\n' "$1" "$2" "$3" "$4"; }
echo
echo "antiban webhook apply benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, one backend, $events events ($POSTS status POSTs, an inbound text after every 30), lead flow $LEAD_FLOW, jit $jit, load average $(cut -d' ' -f1-3 /proc/loadavg), $(cluster_pages "$DIR")"
row "how" "events/s" "CPU µs/event" "applied"
row "----------------------------------------------------------" "------------" "------------" "----------"
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n / s }'; }
us() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.0f", 1e6 * c / n }'; }
row "stored only (antiban.ingest_webhooks, 500 a call)" "$(rate "$events" "$store_s")" "$(us "$events" "$store_cpu")" "-"
row "stored and applied inline, 500 a call (the peer)" "$(rate "$events" "$inline_s")" "$(us "$events" "$inline_cpu")" "$inline_applied"
row "  its apply: inline minus stored only" \
	"$(awk -v n="$events" -v a="$inline_s" -v b="$store_s" 'BEGIN { printf "%d", n / (a - b) }')" \
	"$(awk -v n="$events" -v a="$inline_cpu" -v b="$store_cpu" 'BEGIN { printf "%.0f", 1e6 * (a - b) / n }')" "-"
for r in $results; do
	IFS=: read -r size secs cpu applied <<EOR
$r
EOR
	row "applied from the queue, batches of $size" "$(rate "$events" "$secs")" "$(us "$events" "$cpu")" "$applied"
done
echo
echo "Where the apply's time went (batches of $first; pg_stat_statements, nested statements included, so times overlap):"
printf '| %7s | %8s | %7s | %-80s |\n' "calls" "ms" "rows" "statement"
awk -F'|' '{ printf "| %7s | %8s | %7s | %-80s |\n", $1, $2, $3, $4 }' "$DIR/top.out"
