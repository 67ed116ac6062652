#!/bin/sh
# Lead-flow benchmark: webhook ingest (antiban.ingest_webhook: signature,
# store, apply, commit; one webhook per transaction, 4 pgbench clients) with
# the lead flow on (each new person makes a lead, every message, status and
# read of a lead is noted and rescored, leads engage, qualify and are
# assigned) and off (antiban.lead_flow = off), in the same run, alternating
# on and off over fresh sets of bodies so drift on a shared machine hits
# both alike.  Each set is the webhook benchmark's mix (3 POSTs of 10
# statuses to 1 inbound message, bench/lead_flow_bodies.sql) for
# BENCH_PERSONS people who write; the inbound POSTs alone are timed too
# (the flow's worst case).  Target: on at most 10 % slower than off.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
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
as_cluster_user sh -c "printf 'antiban.sender_workers = 0\nantiban.monitor = off\n' >> '$DIR/pgdata/postgresql.conf'"
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
sets=$((ROUNDS * 2 + 3))	# and one pair for the inbound messages alone, and a warm-up
say "signing $sets sets of webhook bodies for $PERSONS people who write"
sql -v sets="$sets" -v persons="$PERSONS" -v secret="$SECRET" -f "$ANTIBAN_ROOT/bench/lead_flow_bodies.sql" >/dev/null
sql -c "CHECKPOINT" -c "VACUUM ANALYZE" >/dev/null 2>&1
per_set=$(sql -c "SELECT count(*) FROM bench_bodies WHERE set = 0")

# run SET FLOW [inbound]: ingest set SET's bodies (or only its inbound
# messages) with antiban.lead_flow = FLOW; webhooks/s
run() {
	column=n
	[ "${3:-}" = inbound ] && column=n_in
	count=$(sql -c "SELECT count(*) FROM bench_bodies WHERE set = $1 AND $column IS NOT NULL")
	sql -c "CREATE SEQUENCE IF NOT EXISTS bench_next_$1" >/dev/null
	printf '%s\n' "SELECT antiban.ingest_webhook(convert_to(b.body, 'UTF8'), b.signature) FROM bench_bodies b WHERE b.set = $1 AND b.$column = (SELECT nextval('bench_next_$1'));" > "$DIR/set$1.sql"
	as_cluster_user env PGOPTIONS="-c antiban.lead_flow=$2" "$(pg_bindir)/pgbench" -n -h "$DIR" -p "$PORT" \
		-c "$CLIENTS" -j 2 -t "$((count / CLIENTS))" -f "$DIR/set$1.sql" antiban > "$DIR/set$1.txt" 2>&1 ||
		{ cat "$DIR/set$1.txt" >&2; die "pgbench failed"; }
	sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$DIR/set$1.txt" | cut -d. -f1
}
# a running system has leads and statistics about them: one set with the
# flow on first, then ANALYZE, as autovacuum would
say "warm-up: set $((2 * ROUNDS + 2)) with the lead flow on ($(run $((2 * ROUNDS + 2)) on) webhooks/s)"
sql -c "ANALYZE" >/dev/null
off_rates="" on_rates=""
r=0
while [ $r -lt "$ROUNDS" ]; do
	# alternate which goes first, so neither always meets a warmer cache
	if [ $((r % 2)) -eq 0 ]; then
		off_rates="$off_rates $(run $((2 * r)) off)"; on_rates="$on_rates $(run $((2 * r + 1)) on)"
	else
		on_rates="$on_rates $(run $((2 * r + 1)) on)"; off_rates="$off_rates $(run $((2 * r)) off)"
	fi
	say "round $((r + 1)): off$off_rates / on$on_rates webhooks/s"
	r=$((r + 1))
done
inbound_off=$(run $((2 * ROUNDS)) off inbound)
inbound_on=$(run $((2 * ROUNDS + 1)) on inbound)
say "inbound messages alone: off $inbound_off / on $inbound_on webhooks/s"
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
off=$(median "$off_rates")
on=$(median "$on_rates")
# what each side did: leads made only where the flow was on
leads_on=$(sql -c "SELECT count(*) FROM antiban.leads l JOIN antiban.person_ids i ON i.person_id = l.person_id
	WHERE substr(i.key, 7, 8)::bigint / 1000000 % 2 = 1 AND substr(i.key, 7, 8)::bigint / 1000000 < $((2 * ROUNDS + 2))")
leads_off=$(sql -c "SELECT count(*) FROM antiban.leads l JOIN antiban.person_ids i ON i.person_id = l.person_id
	WHERE substr(i.key, 7, 8)::bigint / 1000000 % 2 = 0 AND substr(i.key, 7, 8)::bigint / 1000000 < $((2 * ROUNDS + 2))")
row() { printf '| %-62s | %14s |\n' "$1" "$2"; }
echo
echo "antiban lead-flow benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, pgbench -c $CLIENTS, one webhook per transaction, $ROUNDS rounds"
row "measure" "value"
row "--------------------------------------------------------------" "--------------"
row "webhooks per set (3 status POSTs : 1 inbound message)" "$per_set ($(sql -c "SELECT count(*) FILTER (WHERE inbound) FROM bench_bodies WHERE set = 0") inbound)"
row "webhooks not applied" "$(sql -c "SELECT count(*) FROM antiban.webhook_events WHERE status <> 'applied'")"
row "leads made: flow on / flow off" "$leads_on / $leads_off"
row "leads qualified / assigned (flow on)" "$(sql -c "SELECT count(*) FILTER (WHERE stage = 'qualified') || ' / ' || count(*) FILTER (WHERE owner_agent_id IS NOT NULL) FROM antiban.leads")"
row "lead flow off: webhooks/s (median; each round)" "$off ($(echo $off_rates | tr ' ' ','))"
row "lead flow on: webhooks/s (median; each round)" "$on ($(echo $on_rates | tr ' ' ','))"
row "on / off" "$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
row "slower with the lead flow (target <= 10 %)" "$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f %%", (1 - a / b) * 100 }')"
row "inbound messages alone: off / on webhooks/s" "$inbound_off / $inbound_on"
row "inbound messages alone: slower with the lead flow" "$(awk -v a="$inbound_on" -v b="$inbound_off" 'BEGIN { printf "%.1f %%", (1 - a / b) * 100 }')"
