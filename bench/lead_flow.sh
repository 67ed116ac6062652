#!/bin/sh
# Lead-flow benchmark: webhook ingest (antiban.ingest_webhook: signature,
# store, apply, commit; one webhook per transaction, 4 pgbench clients) with
# the lead flow on and scoring inline (each new person makes a lead, every
# message, status and read of a lead is noted and rescored, leads engage,
# qualify and are assigned), on with scoring deferred (messages and the
# statuses of persons with a lead queued; antiban.process_lead_events()
# makes the leads and scores them after each round, timed apart, as the
# antiban leads worker would) and off (antiban.lead_flow = off), in the same run,
# rotating over fresh sets of bodies so drift on a shared machine hits all
# alike.  Each set is the webhook benchmark's mix (3 POSTs of 10
# statuses to 1 inbound message, bench/lead_flow_bodies.sql) for
# BENCH_PERSONS people who write; the inbound POSTs alone are timed too
# (the flow's worst case).  Target: on at most 10 % slower than off.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
PERSONS=${BENCH_PERSONS:-200}
ROUNDS=${BENCH_ROUNDS:-3}		# each round: one set off, one set on
CLIENTS=${BENCH_CLIENTS:-4}
PORT=${BENCH_PORT:-5496}
SECRET=bench-app-secret

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(work_dir leadflow)
cleanup() { stop_cluster "$DIR"; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
# (the antiban leads worker waits an hour: the queue is drained after each
# round, timed apart, so its work never runs during a timed set)
as_cluster_user sh -c "printf 'antiban.sender_workers = 0\nantiban.monitor = off\nantiban.lead_scoring_interval = 1h\n' >> '$DIR/pgdata/postgresql.conf'"
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
sql() { cluster_psql "$DIR" "$PORT" antiban -tA "$@"; }
sql -c "CREATE EXTENSION antiban" -c "
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level) VALUES ('4000001', 1, 'HIGH');
	INSERT INTO antiban.agents (portfolio_id, name, languages, capacity, presence)
	SELECT 1, 'agent ' || g, '{pt,es,en}', 100000, 'online' FROM generate_series(1, 20) g;
	SELECT antiban.set_secret('app_secret', '$SECRET');" >/dev/null
sets=$((ROUNDS * 3 + 4))	# off, on, deferred per round; the same for the inbound messages alone; a warm-up
say "signing $sets sets of webhook bodies for $PERSONS people who write"
sql -v sets="$sets" -v persons="$PERSONS" -v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/lead_flow_bodies.sql" >/dev/null
sql -c "CHECKPOINT" -c "VACUUM ANALYZE" >/dev/null 2>&1
per_set=$(sql -c "SELECT count(*) FROM bench_bodies WHERE set = 0")

# run SET FLOW [inbound]: ingest set SET's bodies (or only its inbound
# messages) with antiban.lead_flow = FLOW; webhooks/s (and in
# $DIR/cpu.SET the database's CPU milliseconds per webhook)
run() {
	column=n
	[ "${3:-}" = inbound ] && column=n_in
	count=$(sql -c "SELECT count(*) FROM bench_bodies WHERE set = $1 AND $column IS NOT NULL")
	sql -c "CREATE SEQUENCE IF NOT EXISTS bench_next_$1" >/dev/null
	printf '%s\n' "SELECT antiban.ingest_webhook(convert_to(b.body, 'UTF8'), b.signature) FROM bench_bodies b WHERE b.set = $1 AND b.$column = (SELECT nextval('bench_next_$1'));" > "$DIR/set$1.sql"
	case $2 in
		deferred) options="-c antiban.lead_flow=on -c antiban.lead_scoring=deferred" ;;
		*) options="-c antiban.lead_flow=$2" ;;
	esac
	cpu0=$(cluster_cpu "$DIR")
	as_cluster_user env PGOPTIONS="$options" "$(pg_bindir)/pgbench" -n -h "$DIR" -p "$PORT" \
		-c "$CLIENTS" -j 2 -t "$((count / CLIENTS))" -f "$DIR/set$1.sql" antiban > "$DIR/set$1.txt" 2>&1 ||
		{ cat "$DIR/set$1.txt" >&2; die "pgbench failed"; }
	awk -v a="$cpu0" -v b="$(cluster_cpu "$DIR")" -v n="$((count / CLIENTS * CLIENTS))" \
		'BEGIN { printf "%.3f\n", (b - a) * 1000 / n }' > "$DIR/cpu.$1"
	sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$DIR/set$1.txt" | cut -d. -f1
}
# a running system has leads and statistics about them: one set with the
# flow on first, then ANALYZE, as autovacuum would
say "warm-up: set $((3 * ROUNDS + 3)) with the lead flow on ($(run $((3 * ROUNDS + 3)) on) webhooks/s)"
sql -c "ANALYZE" >/dev/null
off_rates="" on_rates="" deferred_rates=""
drained=0 drain_seconds=0
# drain: score what the deferred sets queued, as the job would; events and seconds
drain_cpu=0
drain() {
	c0=$(cluster_cpu "$DIR")
	t0=$(date +%s.%N)
	n=$(sql -c "SELECT antiban.process_lead_events(100000)")
	t1=$(date +%s.%N)
	drain_cpu=$(awk -v a="$drain_cpu" -v b="$c0" -v c="$(cluster_cpu "$DIR")" 'BEGIN { printf "%.2f", a + c - b }')
	drained=$((drained + n))
	drain_seconds=$(awk -v a="$drain_seconds" -v b="$t0" -v c="$t1" 'BEGIN { printf "%.3f", a + c - b }')
}
r=0
while [ $r -lt "$ROUNDS" ]; do
	# rotate which goes first, so none always meets a warmer cache
	case $((r % 3)) in
		0) off_rates="$off_rates $(run $((3 * r)) off)"; on_rates="$on_rates $(run $((3 * r + 1)) on)"
		   deferred_rates="$deferred_rates $(run $((3 * r + 2)) deferred)" ;;
		1) on_rates="$on_rates $(run $((3 * r + 1)) on)"; deferred_rates="$deferred_rates $(run $((3 * r + 2)) deferred)"
		   off_rates="$off_rates $(run $((3 * r)) off)" ;;
		2) deferred_rates="$deferred_rates $(run $((3 * r + 2)) deferred)"; off_rates="$off_rates $(run $((3 * r)) off)"
		   on_rates="$on_rates $(run $((3 * r + 1)) on)" ;;
	esac
	drain
	say "round $((r + 1)): off$off_rates / on$on_rates / deferred$deferred_rates webhooks/s"
	r=$((r + 1))
done
inbound_off=$(run $((3 * ROUNDS)) off inbound)
inbound_on=$(run $((3 * ROUNDS + 1)) on inbound)
inbound_deferred=$(run $((3 * ROUNDS + 2)) deferred inbound)
drain
say "inbound messages alone: off $inbound_off / on $inbound_on / deferred $inbound_deferred webhooks/s"
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
off=$(median "$off_rates")
on=$(median "$on_rates")
deferred=$(median "$deferred_rates")
# what each side did: leads made only where the flow was on
set_of="substr(i.key, 7, 8)::bigint / 1000000"
leads_on=$(sql -c "SELECT count(*) FROM antiban.leads l JOIN antiban.person_ids i ON i.person_id = l.person_id
	WHERE $set_of < $((3 * ROUNDS + 3)) AND $set_of % 3 <> 0")
leads_off=$(sql -c "SELECT count(*) FROM antiban.leads l JOIN antiban.person_ids i ON i.person_id = l.person_id
	WHERE $set_of < $((3 * ROUNDS + 3)) AND $set_of % 3 = 0")
row() { printf '| %-62s | %14s |\n' "$1" "$2"; }
echo
echo "antiban lead-flow benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, pgbench -c $CLIENTS, one webhook per transaction, $ROUNDS rounds"
row "measure" "value"
row "--------------------------------------------------------------" "--------------"
row "webhooks per set (3 status POSTs : 1 inbound message)" "$per_set ($(sql -c "SELECT count(*) FILTER (WHERE inbound) FROM bench_bodies WHERE set = 0") inbound)"
row "webhooks not applied" "$(sql -c "SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'")"
row "leads made: flow on or deferred / flow off" "$leads_on / $leads_off"
row "deferred events scored by process_lead_events / left queued" "$drained / $(sql -c "SELECT count(*) FROM antiban.lead_event_queue")"
row "process_lead_events: events/s" "$(awk -v n="$drained" -v s="$drain_seconds" 'BEGIN { printf "%d", n / s }')"
row "leads qualified / assigned (flow on)" "$(sql -c "SELECT count(*) FILTER (WHERE stage = 'qualified') || ' / ' || count(*) FILTER (WHERE owner_agent_id IS NOT NULL) FROM antiban.leads")"
row "lead flow off: webhooks/s (median; each round)" "$off ($(echo $off_rates | tr ' ' ','))"
row "lead flow on: webhooks/s (median; each round)" "$on ($(echo $on_rates | tr ' ' ','))"
row "lead flow deferred: webhooks/s (median; each round)" "$deferred ($(echo $deferred_rates | tr ' ' ','))"
# each round's ratio (its sets ran back to back), then their median: drift
# between rounds on a shared machine cancels out
ratios() { printf '%s\n' $1 | paste - "$2" | awk '{ print $1 / $2 }'; }
printf '%s\n' $off_rates > "$DIR/off.txt"
on_ratio=$(median "$(ratios "$on_rates" "$DIR/off.txt")")
deferred_ratio=$(median "$(ratios "$deferred_rates" "$DIR/off.txt")")
row "on / off (median of each round's ratio)" "$(awk -v r="$on_ratio" 'BEGIN { printf "%.3f", r }')"
row "deferred / off (median of each round's ratio)" "$(awk -v r="$deferred_ratio" 'BEGIN { printf "%.3f", r }')"
row "slower with the lead flow inline" "$(awk -v r="$on_ratio" 'BEGIN { printf "%.1f %%", (1 - r) * 100 }')"
row "slower with the lead flow deferred (target <= 10 %)" "$(awk -v r="$deferred_ratio" 'BEGIN { printf "%.1f %%", (1 - r) * 100 }')"
row "inbound messages alone: off / on / deferred webhooks/s" "$inbound_off / $inbound_on / $inbound_deferred"
row "inbound alone: slower inline / deferred" "$(awk -v a="$inbound_on" -v d="$inbound_deferred" -v b="$inbound_off" 'BEGIN { printf "%.1f %% / %.1f %%", (1 - a / b) * 100, (1 - d / b) * 100 }')"
# the database's CPU per webhook (robust to whatever else the machine runs):
# each round's on/off and deferred/off ratio, then their median
cpu_of() { cat "$DIR/cpu.$1"; }
cpu_off="" cpu_on="" cpu_deferred="" cpu_ratio_on="" cpu_ratio_deferred=""
r=0
while [ $r -lt "$ROUNDS" ]; do
	a=$(cpu_of $((3 * r))) b=$(cpu_of $((3 * r + 1))) c=$(cpu_of $((3 * r + 2)))
	cpu_off="$cpu_off $a" cpu_on="$cpu_on $b" cpu_deferred="$cpu_deferred $c"
	cpu_ratio_on="$cpu_ratio_on $(awk -v x="$b" -v y="$a" 'BEGIN { print x / y }')"
	cpu_ratio_deferred="$cpu_ratio_deferred $(awk -v x="$c" -v y="$a" 'BEGIN { print x / y }')"
	r=$((r + 1))
done
row "database CPU ms per webhook: off / on / deferred (medians)" "$(median "$cpu_off") / $(median "$cpu_on") / $(median "$cpu_deferred")"
row "more CPU per webhook: inline / deferred (median of rounds)" "$(awk -v a="$(median "$cpu_ratio_on")" -v b="$(median "$cpu_ratio_deferred")" 'BEGIN { printf "%.1f %% / %.1f %%", (a - 1) * 100, (b - 1) * 100 }')"
row "inbound alone, CPU ms per webhook: off / on / deferred" "$(cpu_of $((3 * ROUNDS))) / $(cpu_of $((3 * ROUNDS + 1))) / $(cpu_of $((3 * ROUNDS + 2)))"
row "drain: CPU ms per event scored (process_lead_events)" "$(awk -v c="$drain_cpu" -v n="$drained" 'BEGIN { printf "%.3f", c * 1000 / n }')"
