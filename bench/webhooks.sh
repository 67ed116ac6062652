#!/bin/sh
# Webhook benchmark: signed POSTs through antiban-receiver into
# antiban.webhook_events, every POST answered 200 only once its body is
# durable (synchronous_commit on), then applied.  Two mixes:
#   one   - one change per POST, Meta's usual shape: a status (delivered,
#           then read, with PMP pricing) per POST, and an inbound text from a
#           new lead after every 30 status POSTs;
#   batch - three status POSTs of 10 statuses to one inbound text.
# Through the database, for each apply mode (antiban.webhook_apply: worker
# applies right after the commit, inline applies before it; single is the
# path before batching, the peer for before/after: one POST per transaction
# (--batch 1), applied inline, as antiban.ingest_webhook did it): POSTs/s,
# p50/p99 latency, the apply lag (applied_at - received_at of every event)
# how long after the last POST the last change was applied, and what each
# POST cost: the cluster's CPU (every process, from the receiver's start to
# the last change applied), the receiver's CPU and the WAL written (the
# insert position's advance: what a replica and the archive receive).  The peer,
# in the same run: the same receiver with --no-db (parses HTTP and answers
# 200 without touching the database) on the same bodies, the ceiling.
# worker@10000 is the worker mode with wrk pacing its connections to offer
# 10,000 POSTs a second (issue 13's rate) instead of as many as it can.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
ONE_POSTS=${BENCH_ONE_POSTS:-120000}		# status POSTs of the one-change mix (even)
BATCH_POSTS=${BENCH_BATCH_POSTS:-9000}		# status POSTs of 10 of the batch mix (even)
ONE_MODES=${BENCH_ONE_MODES:-single worker worker@10000 inline}	# apply modes measured with the one-change mix (@N: offered at N POSTs/s)
BATCH_MODE=${BENCH_BATCH_MODE:-worker}		# and with the batch mix
PORT=${BENCH_PORT:-5497}
CONNECTIONS=${BENCH_CONNECTIONS:-128}
PACED_CONNECTIONS=${BENCH_PACED_CONNECTIONS:-128}	# wrk's connections when offering a rate (worker@N): as many as unpaced; 256 and more cost the receiver enough to starve the apply here
THREADS=${BENCH_THREADS:-4}
POOL=${BENCH_POOL:-2}
BATCH=${BENCH_BATCH:-500}
SYNCHRONOUS_COMMIT=${BENCH_SYNCHRONOUS_COMMIT:-on}	# on: a 200 means on disk
APPLY_WORKERS=${BENCH_APPLY_WORKERS:-2}	# antiban.webhook_apply_workers
LEAD_FLOW=${BENCH_LEAD_FLOW:-on}	# off: webhooks make no leads (the apply alone, for diagnosis)
SECRET=bench-app-secret

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir webhooks)
cleanup() { stop_process "$DIR" receiver; stop_cluster "$DIR"; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
# the senders and the monitor stay off: the queued messages are only there
# to be updated; no pg_cron
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
shared_preload_libraries = 'antiban'
antiban.sender_workers = 0
antiban.monitor = off
synchronous_commit = $SYNCHRONOUS_COMMIT
antiban.webhook_apply_workers = $APPLY_WORKERS
EOC
start_cluster "$DIR" "$PORT"
sql_in() { db=$1; shift; cluster_psql "$DIR" "$PORT" "$db" -tA "$@"; }
sql() { sql_in bench_run -c "$1"; }
jit=$(sql_in postgres -c "SHOW jit")
jit_works=$(sql_in postgres -c "SET jit_above_cost = 0" \
	-c "EXPLAIN (ANALYZE) SELECT sum(i) FROM generate_series(1, 10) i" | grep -c "JIT:" || true)

# The data, once, in database antiban; every run gets a fresh copy of it
# (bench_run), so each run applies the same changes to the same rows.
sql_in postgres -c "CREATE DATABASE antiban" >/dev/null
sql_in antiban -v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_setup.sql" >/dev/null
bodies() {	# MIX STATUS_POSTS PER_POST STATUSES_PER_INBOUND
	say "signing the $1 mix: $2 status POSTs of $3, an inbound message after every $4"
	sql_in antiban -v mix="$1" -v status_posts="$2" -v per_post="$3" -v statuses_per_inbound="$4" \
		-v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_bodies.sql" >/dev/null
	sql_in antiban -c "COPY (SELECT signature, body FROM bench_bodies WHERE mix = '$1' ORDER BY k) TO STDOUT" \
		> "$DIR/$1.tsv"
}
bodies one "$ONE_POSTS" 1 30
bodies batch "$BATCH_POSTS" 10 3
sql_in antiban -c "VACUUM ANALYZE" >/dev/null 2>&1
# from now on the workers work in bench_run, never in the template
as_cluster_user sh -c "echo \"antiban.database_name = 'bench_run'\" >> '$DIR/pgdata/postgresql.conf'"
start_cluster "$DIR" "$PORT"

# start_receiver ARGS...: the installed receiver, quiet, on a free port; sets URL
start_receiver() {
	URL="$(start_process "$DIR" receiver "$(pg_bindir)/antiban-receiver" --quiet "$@")/webhook"
}
# run_wrk URL BODIES LOOP DURATION: wrk's report on stdout; call it in a
# subshell (it becomes wrk, so a background one can be interrupted)
run_wrk() {
	# (paced: the schedule catches up after a stall, so a slow answer does
	# not lower the offered rate while some connection is free)
	c=$CONNECTIONS; [ "${RATE:-0}" = 0 ] || c=$PACED_CONNECTIONS
	BODIES="$2" WRK_THREADS=2 WRK_CONNECTIONS=$c LOOP=$3 RATE=${RATE:-0} \
		exec wrk -t 2 -c "$c" -d "$4" --latency -s "$ANTIBAN_ROOT/bench/webhook_post.lua" "$1"
}
# wrk report fields, times in ms
requests_per_s() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1" | cut -d. -f1; }
percentile_ms() { awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	print (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v }' "$1"; }
non_200() { sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1" | grep . || echo 0; }
socket_errors() { sed -n 's/^ *Socket errors: *\(.*\)$/\1/p' "$1" | grep . || echo none; }

# fresh_db MODE: bench_run copied from the template, the apply worker in it
fresh_db() {
	sql_in postgres -c "DROP DATABASE IF EXISTS bench_run WITH (FORCE)" \
		-c "CREATE DATABASE bench_run TEMPLATE antiban" \
		-c "ALTER SYSTEM SET antiban.webhook_apply = '$1'" -c "ALTER SYSTEM SET antiban.lead_flow = '$LEAD_FLOW'" \
		-c "SELECT pg_reload_conf()" -c "CHECKPOINT" >/dev/null
	i=0
	until [ "$(sql_in postgres -c "SELECT count(*) = current_setting('antiban.webhook_apply_workers')::int
		FROM pg_stat_activity WHERE backend_type = 'antiban webhook apply' AND datname = 'bench_run'")" = t ]; do
		i=$((i + 1)); [ $i -lt 300 ] || die "the webhook apply worker did not start"; sleep 0.1
	done
}

# through_db MIX MODE[@RATE]: every body of the mix once through the receiver
# into bench_run (at most RATE POSTs a second when given); writes
# $DIR/MIX.MODE[@RATE].{wrk,row}
through_db() {
	mix=$1 label=$2 mode=${2%%@*} rate=0
	case $label in *@*) rate=${label#*@} ;; esac
	say "the $mix mix through the database, apply $mode$([ "$rate" = 0 ] || echo ", offered at $rate POSTs/s")"
	apply=$mode batch=$BATCH
	[ "$mode" != single ] || apply=inline batch=1
	fresh_db "$apply"
	# what the run costs: the cluster's CPU and WAL from here until the last
	# change is applied, and the receiver's CPU
	cpu0=$(cluster_cpu "$DIR") lsn0=$(sql "SELECT pg_current_wal_insert_lsn()")
	start_receiver --conninfo "host=$DIR port=$PORT dbname=bench_run user=receiver" \
		--threads "$THREADS" --pool "$POOL" --batch "$batch"
	posts=$(wc -l < "$DIR/$mix.tsv")
	# wrk sleeps for its whole -d even when every thread stopped: interrupt
	# it (it then reports) once the database holds every body
	(RATE=$rate run_wrk "$URL" "$DIR/$mix.tsv" 0 600s) > "$DIR/$mix.$label.wrk" &
	WRK_PID=$!
	# (the identity's last value first: counting a growing table five
	# times a second took a tenth of the machine from what is measured; so
	# did a psql per check: one session waits, and this shell watches wrk.
	# The tables, not the view: the waiting session keeps the plan it made
	# while they were empty until autovacuum's statistics replace it)
	cluster_wait "$DIR" "$PORT" bench_run "CASE WHEN coalesce(pg_sequence_last_value(
			pg_get_serial_sequence('antiban.webhook_posts', 'id')), 0) >= $posts
			THEN (SELECT count(*) FROM antiban.webhook_posts) >= $posts ELSE false END" &
	WAIT_PID=$!
	while kill -0 $WRK_PID 2>/dev/null && kill -0 $WAIT_PID 2>/dev/null; do sleep 0.5; done
	if kill -0 $WAIT_PID 2>/dev/null; then cluster_wait_cancel "$DIR" "$PORT"; fi
	wait $WAIT_PID 2>/dev/null || true
	sleep 0.5
	kill -INT $WRK_PID 2>/dev/null || true
	wait $WRK_PID || true
	receiver_cpu=$(process_cpu "$DIR/receiver.pid")
	stop_process "$DIR" receiver
	calls=$(sed -n 's/.* \([0-9]*\) POSTs sent to the database in \([0-9]*\) transactions.*/\1 \2/p' "$DIR/receiver.log" | tail -1)
	cluster_wait "$DIR" "$PORT" bench_run "NOT EXISTS (SELECT 1 FROM antiban.webhook_outcomes WHERE status = 'pending')" || true
	cpu1=$(cluster_cpu "$DIR") wal=$(sql "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$lsn0')")
	sql "SELECT count(*) FILTER (WHERE signature_valid), count(*) FILTER (WHERE status NOT IN ('applied')),
	            sum(updates),
	            round(count(*) FILTER (WHERE signature_valid) / extract(epoch FROM max(received_at) - min(received_at))),
	            round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - received_at)))::int,
	            round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - received_at)))::int,
	            round(1000 * max(extract(epoch FROM applied_at - received_at)))::int,
	            round(1000 * extract(epoch FROM max(applied_at) - max(received_at)))::int,
	            (SELECT count(*) FROM antiban.outbox WHERE state = 'read' AND pricing_model = 'PMP'),
	            (SELECT count(*) FROM antiban.contacts),
	            round(count(*) FILTER (WHERE applied_at IS NOT NULL) / extract(epoch FROM max(applied_at) - min(received_at)))
	     FROM antiban.webhook_events" | tr '|' ' ' > "$DIR/$mix.$label.row"
	echo "$posts $calls" >> "$DIR/$mix.$label.row"
	awk -v p="$posts" -v c0="$cpu0" -v c1="$cpu1" -v r="$receiver_cpu" -v w="$wal" \
		'BEGIN { printf "%d %d %d\n", (c1 - c0) * 1e6 / p, r * 1e6 / p, w / p }' >> "$DIR/$mix.$label.row"
}

# ceiling MIX: the same bodies, no database, 10 s
ceiling() {
	say "the $1 mix to the receiver without a database (the ceiling)"
	start_receiver --no-db --threads "$THREADS"
	(run_wrk "$URL" "$DIR/$1.tsv" 1 10s) > "$DIR/$1.nodb.wrk"
	stop_process "$DIR" receiver
}

for mode in $ONE_MODES; do through_db one "$mode"; done
ceiling one
through_db batch "$BATCH_MODE"
ceiling batch

row() { printf '| %-70s | %16s |\n' "$1" "$2"; }
report() {	# MIX MODE LABEL
	mix=$1 mode=$2
	set -- $(head -1 "$DIR/$mix.$mode.row")
	stored=$1 not_applied=$2 updates=$3 per_s=$4 lag50=$5 lag99=$6 lagmax=$7 tail_ms=$8 read_priced=$9 contacts=${10} applied_per_s=${11}
	set -- $(sed -n 2p "$DIR/$mix.$mode.row")
	posts=$1 batched=${2:-?} calls=${3:-?}
	set -- $(sed -n 3p "$DIR/$mix.$mode.row")
	cpu_us=${1:-?} receiver_us=${2:-?} wal_bytes=${3:-?}
	ceiling_rps=$(requests_per_s "$DIR/$mix.nodb.wrk")
	row "$mix, apply $(echo "$mode" | sed 's|@\(.*\)| at \1/s|'): signed POSTs / answered other than 200" "$posts / $(non_200 "$DIR/$mix.$mode.wrk")"
	row "  stored / not applied / updates applied" "$stored / $not_applied / $updates"
	row "  POSTs per transaction (POSTs / ingest calls)" "$(awk -v p="$batched" -v c="$calls" 'BEGIN { if (c > 0) printf "%.1f", p / c; else print "?" }')"
	row "  through the database: POSTs/s stored (200 answered)" "$per_s"
	row "  POSTs/s applied (first stored to last applied)" "$applied_per_s"
	row "  through the database: updates/s" "$(awk -v u="$updates" -v p="$stored" -v r="$per_s" 'BEGIN { printf "%d", r * u / p }')"
	row "  through the database: p50 / p99 latency (ms)" "$(percentile_ms "$DIR/$mix.$mode.wrk" 50) / $(percentile_ms "$DIR/$mix.$mode.wrk" 99)"
	row "  apply lag p50 / p99 / max (ms)" "$lag50 / $lag99 / $lagmax"
	row "  last change applied after the last POST stored (ms)" "$tail_ms"
	row "  through the database / ceiling (POSTs/s stored, applied)" "$(awk -v a="$per_s" -v c="$applied_per_s" -v b="$ceiling_rps" 'BEGIN { printf "%.3f, %.3f", a / b, c / b }')"
	row "  messages read with PMP pricing / contacts created" "$read_priced / $contacts"
	row "  per POST: PostgreSQL CPU / receiver CPU (us) / WAL (bytes)" "$cpu_us / $receiver_us / $wal_bytes"
}
echo
echo "antiban webhook benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t 2 -c $CONNECTIONS, receiver $THREADS threads / $POOL connections / up to $BATCH POSTs per transaction, synchronous_commit $SYNCHRONOUS_COMMIT, $APPLY_WORKERS apply worker(s), lead flow $LEAD_FLOW, load average $(cut -d" " -f1-3 /proc/loadavg), jit $jit (compiles: $([ "$jit_works" -gt 0 ] && echo yes || echo no)), $(cluster_pages "$DIR")"
row "measure" "value"
row "----------------------------------------------------------------------" "----------------"
for mode in $ONE_MODES; do report one "$mode"; done
row "one, ceiling (--no-db): POSTs/s" "$(requests_per_s "$DIR/one.nodb.wrk")"
row "  ceiling: p50 / p99 latency (ms)" "$(percentile_ms "$DIR/one.nodb.wrk" 50) / $(percentile_ms "$DIR/one.nodb.wrk" 99)"
report batch "$BATCH_MODE"
row "batch, ceiling (--no-db): POSTs/s" "$(requests_per_s "$DIR/batch.nodb.wrk")"
row "  ceiling: p50 / p99 latency (ms)" "$(percentile_ms "$DIR/batch.nodb.wrk" 50) / $(percentile_ms "$DIR/batch.nodb.wrk" 99)"
# before/after, in this run: the batched paths against one POST per transaction
applied_of() { [ -f "$DIR/one.$1.row" ] && head -1 "$DIR/one.$1.row" | awk '{ print $11 }'; }
before=$(applied_of single || true)
if [ -n "$before" ] && [ "$before" -gt 0 ]; then
	for mode in $ONE_MODES; do
		[ "$mode" = single ] && continue
		row "one: POSTs/s applied, $mode / single (after / before)" \
			"$(awk -v a="$(applied_of "$mode")" -v b="$before" 'BEGIN { printf "%.1f x", a / b }')"
	done
fi
