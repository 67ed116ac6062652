#!/bin/sh
# Receiver load benchmark: does antiban-receiver keep answering Meta while
# load it did not ask for holds its connections?  Against the installed
# receiver and its database (the setup of bench/webhooks.sh), each run with
# a fresh receiver and its own slice of signed bodies:
#   quiet     signed POSTs from 127.0.0.1 at a steady rate (one new
#             connection each, as Meta opens them), nothing else: the peer;
#   slow-*    the same while 1,100 slow connections send one byte a second
#             (half trickle their headers, half complete headers then
#             trickle a body), reopened a second after the receiver closes
#             them: from 127.0.0.2 (another IP), from 127.0.0.1 (the normal
#             client's own IP: per-IP limit) and from 50 IPs (127.0.1.1-50);
#   slow-over-limit  5,000 such connections from the 50 IPs: more than
#             --max-connections, what the limits alone cannot absorb;
#   burst     2,000 connections opened together from four IPs, one signed
#             POST each.
# For the normal POSTs: answered, p50/p99/max latency from when each was
# due, the longest time without an answer; for the slow ones: how many the
# receiver cut and when (the attacker's view and the receiver's
# antiban_receiver_connections_cut_total on its admin /metrics).
# "Before": the receiver of the commit before the connection limits and
# deadlines (BENCH_BEFORE, found from git), built in a scratch folder and
# run against the same database (antiban.ingest_webhook, which it calls, is
# still there).  The load generator is bench/receiver_load.c.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
PORT=${BENCH_PORT:-5498}
SLOW=${BENCH_SLOW:-1100}			# slow connections
RATE=${BENCH_RATE:-50}				# normal POSTs per second
SECONDS_=${BENCH_SECONDS:-30}		# of normal POSTs per run
BURST=${BENCH_BURST:-2000}			# connections of the burst
OVER=${BENCH_OVER:-5000}			# slow connections past --max-connections (4,096)
MODES=${BENCH_MODES:-quiet slow-other-ip slow-same-ip slow-many-ips slow-over-limit burst}
SECRET=bench-app-secret

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir receiver_load)
cleanup() {
	[ -z "${SLOW_PID:-}" ] || kill "$SLOW_PID" 2>/dev/null || true
	stop_process "$DIR" receiver; stop_cluster "$DIR"; rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

say "building the load generator"
cc -O2 -Wall -o "$DIR/receiver_load" "$ANTIBAN_ROOT/bench/receiver_load.c" || die "cannot build bench/receiver_load.c"

# The receiver before its limits: the parent of the commit that added deadline.c.
BEFORE=${BENCH_BEFORE:-}
if [ -z "$BEFORE" ] && git -C "$ANTIBAN_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	added=$(git -C "$ANTIBAN_ROOT" log --diff-filter=A --format=%H -- src/receiver/deadline.c | tail -1)
	[ -z "$added" ] || BEFORE=$(git -C "$ANTIBAN_ROOT" rev-parse --short "$added^")
fi
RECEIVERS="after"
if [ -n "$BEFORE" ] && [ "$BEFORE" != none ]; then
	say "building the receiver of $BEFORE (before the limits)"
	mkdir -p "$DIR/before"
	if git -C "$ANTIBAN_ROOT" archive "$BEFORE" src/receiver | tar -x -C "$DIR/before" \
		&& make -s -C "$DIR/before/src/receiver" >/dev/null 2>&1; then
		RECEIVERS="before after"
	else
		say "cannot build the receiver of $BEFORE: no before figures"
	fi
fi

start_cluster "$DIR" "$PORT"
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
shared_preload_libraries = 'antiban'
antiban.sender_workers = 0
antiban.monitor = off
EOC
start_cluster "$DIR" "$PORT"
sql_in() { db=$1; shift; cluster_psql "$DIR" "$PORT" "$db" -tA "$@"; }
jit=$(sql_in postgres -c "SHOW jit")
sql_in postgres -c "CREATE DATABASE antiban" >/dev/null
sql_in antiban -v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_setup.sql" >/dev/null
sql_in postgres -c "DO \$\$ BEGIN CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;
	EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null

# Every run posts bodies no run posted before (a repeat is a cheap duplicate).
runs=0
for m in $MODES; do case $m in burst) runs=$((runs + BURST)) ;; *) runs=$((runs + RATE * SECONDS_)) ;; esac; done
posts=$(( (runs * $(echo $RECEIVERS | wc -w) + 1) / 2 * 2 ))
say "signing $posts webhook POSTs"
sql_in antiban -v mix=load -v status_posts="$posts" -v per_post=1 -v statuses_per_inbound=30 \
	-v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/webhook_bodies.sql" >/dev/null
sql_in antiban -c "COPY (SELECT signature, body FROM bench_bodies ORDER BY k) TO STDOUT" > "$DIR/bodies.tsv"
sql_in antiban -c "VACUUM ANALYZE" >/dev/null 2>&1
NEXT_BODY=1
# take_bodies N: the next N unused bodies into $DIR/run.tsv
take_bodies() {
	sed -n "${NEXT_BODY},$((NEXT_BODY + $1 - 1))p" "$DIR/bodies.tsv" > "$DIR/run.tsv"
	NEXT_BODY=$((NEXT_BODY + $1))
}

# start_receiver WHICH: that receiver, quiet, defaults otherwise; sets RPORT, APORT
start_receiver() {
	case $1 in
		before) bin="$DIR/before/src/receiver/antiban-receiver" ;;
		*) bin="$(pg_bindir)/antiban-receiver" ;;
	esac
	rm -f "$DIR/admin.port"
	url=$(start_process "$DIR" receiver "$bin" --quiet \
		--conninfo "host=$DIR port=$PORT dbname=antiban user=receiver" \
		--admin-port 0 --admin-port-file "$DIR/admin.port" \
		--admin-conninfo "host=$DIR port=$PORT dbname=antiban user=dashboard")
	RPORT=${url##*:}
	i=0; while [ ! -s "$DIR/admin.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	APORT=$(cat "$DIR/admin.port" 2>/dev/null || echo 0)
}
# cut_total: the receiver's own count of connections cut at a deadline ("-": none kept)
cut_total() {
	curl -s --max-time 20 "http://127.0.0.1:$APORT/metrics" 2>/dev/null |
		sed -n 's/^antiban_receiver_connections_cut_total \([0-9]*\)$/\1/p' | grep . || echo -
}

# run WHICH MODE: one run; its key=value results in $DIR/WHICH.MODE
run() {
	which=$1 mode=$2 out="$DIR/$1.$2"
	say "$which receiver: $mode"
	start_receiver "$which"
	: > "$out"
	cut0=$(cut_total)
	from= count=$SLOW
	case $mode in
		slow-other-ip) from=127.0.0.2 ;;
		slow-same-ip) from=127.0.0.1 ;;
		slow-many-ips) from=127.0.1.1-127.0.1.50 ;;
		slow-over-limit) from=127.0.1.1-127.0.1.50 count=$OVER ;;
	esac
	SLOW_PID=
	if [ -n "$from" ]; then
		# the attack starts, takes what it can for 5 s, then lasts the whole run
		rm -f "$DIR/slow.status"
		"$DIR/receiver_load" slow --port "$RPORT" --from "$from" --count "$count" --kind mixed \
			--seconds $((SECONDS_ + 10)) --status-file "$DIR/slow.status" > "$DIR/slow.out" &
		SLOW_PID=$!
		sleep 5
		echo "slow_open_at_start=$(cut -d' ' -f1 "$DIR/slow.status" 2>/dev/null || echo 0)" >> "$out"
	fi
	case $mode in
		burst)
			take_bodies "$BURST"
			"$DIR/receiver_load" burst --port "$RPORT" --from 127.0.0.1-127.0.0.4 --count "$BURST" \
				--bodies "$DIR/run.tsv" --timeout 60 >> "$out" ;;
		*)
			take_bodies $((RATE * SECONDS_))
			"$DIR/receiver_load" steady --port "$RPORT" --from 127.0.0.1 --rate "$RATE" --seconds "$SECONDS_" \
				--bodies "$DIR/run.tsv" --timeout 30 >> "$out" ;;
	esac
	if [ -n "$SLOW_PID" ]; then
		wait "$SLOW_PID" || true
		SLOW_PID=
		cat "$DIR/slow.out" >> "$out"
	fi
	cut1=$(cut_total)
	echo "receiver_cut=$([ "$cut0" = - ] || [ "$cut1" = - ] && echo - || echo $((cut1 - cut0)))" >> "$out"
	echo "load=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$out"
	stop_process "$DIR" receiver
	sleep 1
}

for which in $RECEIVERS; do
	for mode in $MODES; do run "$which" "$mode"; done
done

# v WHICH MODE KEY: a result ("-" when absent)
v() { sed -n "s/^$3=//p" "$DIR/$1.$2" 2>/dev/null | tail -1 | grep . || echo -; }
row() { printf '| %-15s | %-6s | %-64s |\n' "$1" "$2" "$3"; }
echo
echo "antiban receiver load benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, jit $jit," \
	"$RATE signed POSTs/s for $SECONDS_ s per run, $SLOW slow connections (one byte a second; $OVER past the limit), burst of $BURST;" \
	"before = receiver of ${BEFORE:-(none)}, after = this tree; receivers at their defaults"
row "run" "which" "result"
row "---------------" "------" "----------------------------------------------------------------"
for mode in $MODES; do
	for which in $RECEIVERS; do
		case $mode in
			burst)
				row "$mode" "$which" "$(v $which $mode ok) of $(v $which $mode sent) answered 200, $(v $which $mode other_status) other, $(v $which $mode refused) refused, $(v $which $mode reset) reset, $(v $which $mode no_answer) unanswered"
				row "" "" "p50 / p99 / max $(v $which $mode p50_ms) / $(v $which $mode p99_ms) / $(v $which $mode max_ms) ms; load $(v $which $mode load)" ;;
			*)
				row "$mode" "$which" "$(v $which $mode ok) of $(v $which $mode sent) answered 200 ($(v $which $mode other_status) other, $(v $which $mode refused) refused, $(v $which $mode reset) reset, $(v $which $mode no_answer) unanswered)"
				row "" "" "p50 / p99 / max $(v $which $mode p50_ms) / $(v $which $mode p99_ms) / $(v $which $mode max_ms) ms, longest without an answer $(v $which $mode longest_gap_ms) ms"
				if [ "$mode" != quiet ]; then
					row "" "" "slow: $(v $which $mode slow_open_at_start) held at 5 s, $(v $which $mode slow_connects) connects, $(v $which $mode slow_closed_at_once) closed at once, $(v $which $mode slow_refused) refused"
					row "" "" "slow cut: $(v $which $mode slow_cut) (receiver counted $(v $which $mode receiver_cut)), first at $(v $which $mode slow_cut_first_s) s, lived $(v $which $mode slow_cut_life_min_s)-$(v $which $mode slow_cut_life_max_s) s"
				fi
				row "" "" "load $(v $which $mode load)" ;;
		esac
	done
done
