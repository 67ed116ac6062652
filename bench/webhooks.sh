#!/bin/sh
# Webhook benchmark: signed POSTs (status batches and inbound messages)
# through antiban-receiver into antiban.webhook_events, applied by its
# triggers, each answered 200 only after commit; updates/s, p50/p99.  The
# peer, in the same run: the same receiver with --no-db (parses HTTP and
# answers 200 without touching the database), the ceiling.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
STATUS_POSTS=${BENCH_STATUS_POSTS:-9000}	# even: half delivered, half read
PER_POST=${BENCH_STATUSES_PER_POST:-10}
INBOUND_POSTS=$((STATUS_POSTS / 3))
PORT=${BENCH_PORT:-5497}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
SYNCHRONOUS_COMMIT=${BENCH_SYNCHRONOUS_COMMIT:-on}	# on: a 200 means on disk
SECRET=bench-app-secret

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir webhooks)
cleanup() { stop_process "$DIR" receiver; stop_cluster "$DIR"; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
# the senders stay off: the queued messages are only there to be updated
as_cluster_user sh -c "printf 'antiban.sender_workers = 0\nsynchronous_commit = $SYNCHRONOUS_COMMIT\n' >> '$DIR/pgdata/postgresql.conf'"
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
	SELECT (4000000 + i)::text, 1, 'HIGH' FROM generate_series(1, 4) i;
	SELECT antiban.set_secret('app_secret', '$SECRET');
	CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;" >/dev/null
say "signing $((STATUS_POSTS + INBOUND_POSTS)) webhook bodies"
cluster_psql "$DIR" "$PORT" antiban -v status_posts="$STATUS_POSTS" -v per_post="$PER_POST" \
	-v inbound_posts="$INBOUND_POSTS" -v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_bodies.sql" >/dev/null
cluster_psql "$DIR" "$PORT" antiban -c "COPY (SELECT signature, body FROM bench_bodies ORDER BY k) TO STDOUT" > "$DIR/bodies.tsv"
cluster_psql "$DIR" "$PORT" antiban -c "CHECKPOINT" -c "VACUUM ANALYZE" >/dev/null 2>&1

# start_receiver ARGS...: the installed receiver, quiet, on a free port; sets URL
start_receiver() {
	URL="$(start_process "$DIR" receiver "$(pg_bindir)/antiban-receiver" --quiet "$@")/webhook"
}
# run_wrk URL LOOP DURATION: wrk's report on stdout; call it in a subshell
# (it becomes wrk, so a background one can be interrupted)
run_wrk() {
	BODIES="$DIR/bodies.tsv" WRK_THREADS=2 WRK_CONNECTIONS=$CONNECTIONS LOOP=$2 \
		exec wrk -t 2 -c "$CONNECTIONS" -d "$3" --latency -s "$ANTIBAN_ROOT/bench/webhook_post.lua" "$1"
}
# wrk report fields, times in ms
requests_per_s() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
percentile_ms() { awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	print (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v }' "$1"; }
non_200() { sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1" | grep . || echo 0; }
sql() { cluster_psql "$DIR" "$PORT" antiban -tA -c "$1"; }

# 1. Through the database: every body once.
say "posting through the receiver into the database"
start_receiver --conninfo "host=$DIR port=$PORT dbname=antiban user=receiver" --threads 4 --pool 4
posts=$(wc -l < "$DIR/bodies.tsv")
# wrk sleeps for its whole -d even when every thread stopped: interrupt it
# (it then reports) once the database holds every body
(run_wrk "$URL" 0 600s) > "$DIR/wrk.db.txt" &
WRK_PID=$!
i=0
while kill -0 $WRK_PID 2>/dev/null && [ "$(sql "SELECT count(*) FROM antiban.webhook_events")" -lt "$posts" ] \
	&& [ $i -lt 6000 ]; do sleep 0.2; i=$((i + 1)); done
sleep 0.5
kill -INT $WRK_PID 2>/dev/null || true
wait $WRK_PID || true
stop_process "$DIR" receiver
stored=$(sql "SELECT count(*) FROM antiban.webhook_events WHERE signature_valid")
not_applied=$(sql "SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'")
updates=$(sql "SELECT sum(updates) FROM antiban.webhook_events")
read_with_price=$(sql "SELECT count(*) FROM antiban.outbox WHERE state = 'read' AND pricing_model = 'PMP'")
contacts=$(sql "SELECT count(*) FROM antiban.contacts")
# end to end, as the table saw it: first insert to last
db_seconds=$(sql "SELECT extract(epoch FROM max(received_at) - min(received_at)) FROM antiban.webhook_events")

# 2. The ceiling: the same receiver and bodies, no database, 10 s.
say "posting to the receiver without a database (the ceiling)"
start_receiver --no-db --threads 4
(run_wrk "$URL" 1 10s) > "$DIR/wrk.nodb.txt"
stop_process "$DIR" receiver

updates_per_post=$(awk -v u="$updates" -v p="$posts" 'BEGIN { printf "%.2f", u / p }')
db_updates=$(awk -v u="$updates" -v s="$db_seconds" 'BEGIN { printf "%d", u / s }')
ceiling_updates=$(awk -v r="$(requests_per_s "$DIR/wrk.nodb.txt")" -v k="$updates_per_post" 'BEGIN { printf "%d", r * k }')
row() { printf '| %-58s | %12s |\n' "$1" "$2"; }
echo
echo "antiban webhook benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t 2 -c $CONNECTIONS, receiver 4 threads / 4 connections, synchronous_commit $SYNCHRONOUS_COMMIT"
row "measure" "value"
row "----------------------------------------------------------" "------------"
row "signed POSTs (3 status batches of $PER_POST : 1 inbound message)" "$posts"
row "POSTs answered other than 200" "$(non_200 "$DIR/wrk.db.txt")"
row "POSTs stored / not applied" "$stored / $not_applied"
row "updates applied (statuses + inbound messages)" "$updates"
row "messages read with PMP pricing / contacts created" "$read_with_price / $contacts"
row "through the database: POSTs/s" "$(awk -v p="$stored" -v s="$db_seconds" 'BEGIN { printf "%d", p / s }')"
row "through the database: updates/s" "$db_updates"
row "through the database: p50 / p99 latency (ms)" "$(percentile_ms "$DIR/wrk.db.txt" 50) / $(percentile_ms "$DIR/wrk.db.txt" 99)"
row "ceiling (--no-db): POSTs/s" "$(requests_per_s "$DIR/wrk.nodb.txt" | cut -d. -f1)"
row "ceiling (--no-db): updates/s (same mix)" "$ceiling_updates"
row "ceiling: p50 / p99 latency (ms)" "$(percentile_ms "$DIR/wrk.nodb.txt" 50) / $(percentile_ms "$DIR/wrk.nodb.txt" 99)"
row "through the database / ceiling" "$(awk -v a="$db_updates" -v b="$ceiling_updates" 'BEGIN { printf "%.2f", a / b }')"
