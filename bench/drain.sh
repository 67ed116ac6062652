#!/bin/sh
# Drain benchmark: 60,000 messages over 10 HIGH numbers (six seconds at the
# platform's maximum: a sustained rate, not a start and an end), from the outbox to
# the Cloud API simulator through the sender workers; msgs/s, per-number
# pacing against the configured bucket rate, limit violations; and, in the
# same run, the simulator's own ceiling measured with wrk (the peer).
# The HIGH drain runs twice: as is, and with every message independent
# (metadata {"independent": true}), which skips the per-recipient order
# check and its index: what that order costs.  Then the pacing edges: 50
# messages to one person (the burst of 45, then one per 6 s at Meta, judged
# by arrival), against the pair bucket's minimum; and a STANDARD number
# whose server allows 20 msg/s, achieved against allowed.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
MESSAGES=${BENCH_MESSAGES:-60000}
NUMBERS=10
PORT=${BENCH_PORT:-5496}

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
[ -n "${BENCH_NO_BUILD:-}" ] || build_and_install
ensure_cluster_user
DIR=$(work_dir drain)
cleanup() { stop_cluster "$DIR"; stop_process "$DIR" simulator; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

SIM=$(start_process "$DIR" simulator "$ANTIBAN_ROOT/regress/simulator/antiban-sim" --max-ledger 200000)
numbers=$(i=1; while [ $i -le $NUMBERS ]; do
	printf '"%d": {"throughput": 1000, "portfolio": "p1", "waba": "200"},' $((4000000 + i)); i=$((i + 1)); done)
curl -s -X POST "$SIM/_sim/config" -d "{\"numbers\": {${numbers%,}}, \"portfolios\": {\"p1\": {\"limit\": \"unlimited\"}}}" >/dev/null

# 1. The peer: the simulator's ceiling with wrk (8 connections, 10 s).
wrk_config=$(i=0; while [ $i -lt 100 ]; do
	printf '"%d": {"throughput": 1000000000, "portfolio": "p1", "waba": "200"},' $((5000000 + i)); i=$((i + 1)); done)
curl -s -X POST "$SIM/_sim/config" -d "{\"numbers\": {${wrk_config%,}}, \"pair_capacity\": 0}" >/dev/null
ceiling=$(wrk -t 2 -c 8 -d 10s -s "$ANTIBAN_ROOT/bench/sim_post.lua" "$SIM" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' | cut -d. -f1)
curl -s -X POST "$SIM/_sim/reset" >/dev/null
curl -s -X POST "$SIM/_sim/config" -d "{\"numbers\": {${numbers%,}}, \"portfolios\": {\"p1\": {\"limit\": \"unlimited\"}}}" >/dev/null

# 2. antiban: queue everything in one transaction (the senders see it at
# commit) and time the drain from the first accepted message to the last.
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
	SELECT (4000000 + i)::text, 1, 'HIGH' FROM generate_series(1, $NUMBERS) i;
	SELECT antiban.set_secret('access_token', 'EAAG-bench-token', '200');"
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
antiban.sender_workers = 2
antiban.max_inflight = 256
antiban.claim_batch = 256
synchronous_commit = off
EOC
start_cluster "$DIR" "$PORT"
# JIT on in the server, and able to compile (the senders must not pay for it)
jit=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SHOW jit")
jit_works=$(cluster_psql "$DIR" "$PORT" antiban -tA -c "SET jit_above_cost = 0" \
	-c "EXPLAIN (ANALYZE) SELECT sum(i) FROM generate_series(1, 10) i" | grep -c "JIT:" || true)

# drain LEVEL MESSAGES LABEL [METADATA]: prints "msgs/s elapsed configured
# worst_pacing_% sent sender_cpu_ms_per_1000 rest_of_postgres_cpu_ms_per_1000
# simulator_cpu_ms_per_1000 idle_% slowest/median_quarter_second" (idle: of
# all cores over the drain, so whether the drain was short of CPU or waiting;
# the quarter seconds, in msgs/s: a pacing error from stalls or from the pace)
drain() {
	level=$1 count=$2 label=$3 metadata=${4:-'{}'}
	curl -s -X POST "$SIM/_sim/reset" >/dev/null
	curl -s -X POST "$SIM/_sim/config" -d "{\"numbers\": {${numbers%,}}, \"portfolios\": {\"p1\": {\"limit\": \"unlimited\"}}}" >/dev/null
	cluster_psql "$DIR" "$PORT" antiban -c "ALTER SYSTEM SET antiban.graph_base_url = '$SIM'" \
		-c "SELECT pg_reload_conf()" -c "TRUNCATE antiban.outbox CASCADE" \
		-c "UPDATE antiban.numbers SET throughput_level = '$level'" >/dev/null
	sleep 1.5	# the buckets fill up again: a fair start
	cluster_psql "$DIR" "$PORT" antiban -c "
		SELECT count(antiban.send_template('+55' || $level_prefix || lpad(i::text, 9, '0'), 'oferta', 'pt_BR', NULL, 'utility',
			metadata => '$metadata'))
		FROM generate_series(1, $count) i" >/dev/null
	# (the drain's CPU: from the commit that wakes the senders to the last message)
	cpu0=$(cluster_cpu "$DIR") senders0=$(cluster_cpu "$DIR" "antiban sender")
	sim0=$(process_cpu "$DIR/simulator.pid") idle0=$(machine_idle) wall0=$(date +%s.%N)
	i=0
	while [ $i -lt 6000 ] && [ "$(accepted)" -lt "$count" ]; do sleep 0.05; i=$((i + 1)); done
	cpu1=$(cluster_cpu "$DIR") senders1=$(cluster_cpu "$DIR" "antiban sender")
	sim1=$(process_cpu "$DIR/simulator.pid") idle1=$(machine_idle) wall1=$(date +%s.%N)
	configured=$(cluster_psql "$DIR" "$PORT" antiban -tAc \
		"SELECT rate_per_second FROM antiban.buckets WHERE kind = 'number' LIMIT 1")
	curl -s "$SIM/_sim/messages" > "$DIR/messages.tsv"
	curl -s "$SIM/_sim/ledger" > "$DIR/ledger.$label.json"
	worst=$(awk -F'\t' -v rate="$configured" '
		{ n[$2]++; t = $7 + 0; if (!($2 in first) || t < first[$2]) first[$2] = t; if (t > last[$2]) last[$2] = t }
		END { worst = 0; for (k in n) { span = last[k] - first[k]; if (span <= 0) continue;
		      err = ((n[k] - 1) / span - rate) / rate * 100; if ((err < 0 ? -err : err) > (worst < 0 ? -worst : worst)) worst = err }
		      printf "%.2f", worst }' "$DIR/messages.tsv")
	# stalls: the slowest and the median quarter second at Meta (the first and
	# last quarters left out), against the drain's mean
	quarters=$(awk -F'\t' '{ t[NR] = $7 + 0; if (NR == 1 || t[NR] < lo) lo = t[NR] }
		END { for (i = 1; i <= NR; i++) { q = int((t[i] - lo) * 4); c[q]++; if (q > hi) hi = q }
		      for (q = 1; q < hi; q++) print c[q] * 4 }' "$DIR/messages.tsv" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "0/0"; else printf "%d/%d", v[1], v[int((NR + 1) / 2)] }')
	# the drain as Meta sees it: from the first accepted message to the last
	t0=$(cut -f7 "$DIR/messages.tsv" | sort -n | head -1)
	t1=$(cut -f7 "$DIR/messages.tsv" | sort -n | tail -1)
	awk -v n="$(accepted)" -v a="$t0" -v b="$t1" -v c="$configured" -v w="$worst" \
		-v s="$(awk -v x="$senders0" -v y="$senders1" 'BEGIN { print y - x }')" \
		-v t="$(awk -v x="$cpu0" -v y="$cpu1" 'BEGIN { print y - x }')" \
		-v m="$(awk -v x="$sim0" -v y="$sim1" 'BEGIN { print y - x }')" \
		-v idle="$(awk -v x="$idle0" -v y="$idle1" -v a="$wall0" -v b="$wall1" -v k="$(nproc)" \
			'BEGIN { print (y - x) / ((b - a) * k) * 100 }')" \
		-v q="$quarters" \
		'BEGIN { printf "%d %.2f %s %s %d %.0f %.0f %.0f %.0f %s\n", n / (b - a), b - a, c, w, n, s * 1e6 / n, (t - s) * 1e6 / n, m * 1e6 / n, idle, q }'
}
# watch the simulator's ledger (cheap), not the outbox (a query would compete)
accepted() { curl -s "$SIM/_sim/ledger" | sed -n 's/^{"accepted":\([0-9]*\).*/\1/p'; }
field() { echo "$1" | cut -d' ' -f"$2"; }
ledger_count() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$DIR/ledger.$1.json" | head -1; }

level_prefix="'119'"
high=$(drain HIGH "$MESSAGES" high)
level_prefix="'129'"
independent=$(drain HIGH "$MESSAGES" independent '{"independent": true}')
# pacing: 10 STANDARD numbers (76.4 msgs/s configured each), about 10 s of traffic
level_prefix="'219'"
standard=$(drain STANDARD $((NUMBERS * 780)) standard)

# edge NUMBER ALLOWED_MPS COUNT RECIPIENT_SQL: one fresh STANDARD number,
# the only one in rotation (the others paused by an operator), whose server
# allows ALLOWED_MPS; prints "elapsed sent pair_refusals throughput_refusals"
edge() {
	number=$1 allowed=$2 count=$3 recipient=$4
	curl -s -X POST "$SIM/_sim/reset" >/dev/null
	curl -s -X POST "$SIM/_sim/config" -d "{\"numbers\": {\"$number\": {\"throughput\": $allowed, \"portfolio\": \"p1\", \"waba\": \"200\"}},
		\"portfolios\": {\"p1\": {\"limit\": \"unlimited\"}}, \"pair_capacity\": 45, \"pair_refill_seconds\": 6}" >/dev/null
	cluster_psql "$DIR" "$PORT" antiban -c "TRUNCATE antiban.outbox CASCADE" -c "
		INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level) VALUES ('$number', 1, 'STANDARD')" -c "
		SELECT antiban.set_mode(phone_number_id, 'paused', 'bench: one number at the edge')
		FROM antiban.numbers WHERE phone_number_id <> '$number' AND mode <> 'paused'" >/dev/null
	sleep 1.5	# the numbers cache sees it
	cluster_psql "$DIR" "$PORT" antiban -c "
		SELECT count(antiban.send_template($recipient, 'oferta', 'pt_BR', NULL, 'utility'))
		FROM generate_series(1, $count) i" >/dev/null
	i=0
	while [ $i -lt 6000 ] && [ "$(accepted)" -lt "$count" ]; do sleep 0.1; i=$((i + 1)); done
	curl -s "$SIM/_sim/messages" > "$DIR/messages.tsv"
	curl -s "$SIM/_sim/ledger" > "$DIR/ledger.$number.json"
	t0=$(cut -f7 "$DIR/messages.tsv" | sort -n | head -1)
	t1=$(cut -f7 "$DIR/messages.tsv" | sort -n | tail -1)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $(accepted)" \
		"$(ledger_count "$number" pair_rate) $(ledger_count "$number" throughput)"
}
PAIR_COUNT=50
single=$(edge 4000101 80 $PAIR_COUNT "'+5551999990001'")
pair_min=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SELECT round(($PAIR_COUNT - 45) / (10.0 / 60 * (1 - current_setting('antiban.pair_headroom')::numeric / 100)), 1)")
MISMATCH_COUNT=${BENCH_MISMATCH:-900}
mismatch=$(edge 4000102 20 "$MISMATCH_COUNT" "'+55339' || lpad(i::text, 8, '0')")
mismatch_factor=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SELECT round(rate_factor::numeric, 3) FROM antiban.numbers WHERE phone_number_id = '4000102'")
mismatch_cuts=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SELECT count(*) FROM antiban.health_events e JOIN antiban.numbers n ON n.id = e.number_id WHERE n.phone_number_id = '4000102' AND e.factor_after < e.factor_before")
mismatch_floor=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SELECT round(min(e.factor_after)::numeric, 3) FROM antiban.health_events e JOIN antiban.numbers n ON n.id = e.number_id WHERE n.phone_number_id = '4000102'")

row() { printf '| %-54s | %12s |\n' "$1" "$2"; }
echo
echo "antiban drain benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, 2 senders x 256 in flight, $(cluster_pages "$DIR")"
row "measure" "value"
row "------------------------------------------------------" "------------"
row "server jit / a query can be JIT-compiled" "$jit / $([ "$jit_works" -gt 0 ] && echo yes || echo no)"
row "HIGH x $NUMBERS: messages accepted by the simulator" "$(field "$high" 5)"
row "HIGH x $NUMBERS: drain throughput (msgs/s)" "$(field "$high" 1)"
row "simulator ceiling, wrk -t 2 -c 8 (req/s)" "$ceiling"
row "HIGH x $NUMBERS, every message independent (msgs/s)" "$(field "$independent" 1)"
row "per-recipient order: ordered / independent" "$(awk -v a="$(field "$high" 1)" -v b="$(field "$independent" 1)" 'BEGIN { printf "%.2f", a / b }')"
row "throughput / ceiling" "$(awk -v a="$(field "$high" 1)" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')"
row "platform maximum for $NUMBERS HIGH numbers (msgs/s)" "$((NUMBERS * 1000))"
row "HIGH: configured rate per number / worst pacing (%)" "$(field "$high" 3) / $(field "$high" 4)"
row "HIGH: CPU ms per 1,000 msgs: senders / PostgreSQL" "$(field "$high" 6) / $(field "$high" 7)"
row "HIGH: simulator CPU ms per 1,000 / machine idle (%)" "$(field "$high" 8) / $(field "$high" 9)"
row "HIGH: slowest / median quarter second (msgs/s)" "$(field "$high" 10 | sed 's|/| / |')"
row "STANDARD x $NUMBERS: drain throughput (msgs/s)" "$(field "$standard" 1)"
row "STANDARD: configured rate per number (msgs/s)" "$(field "$standard" 3)"
row "STANDARD: worst per-number pacing error (%)" "$(field "$standard" 4)"
row "STANDARD: CPU ms per 1,000: senders / PostgreSQL" "$(field "$standard" 6) / $(field "$standard" 7)"
row "duplicates (both runs)" "$(( $(ledger_count high duplicates) + $(ledger_count standard duplicates) ))"
row "throughput violations, 130429 (both runs)" "$(( $(ledger_count high throughput) + $(ledger_count standard throughput) ))"
row "pair-rate violations, 131056 (both runs)" "$(( $(ledger_count high pair_rate) + $(ledger_count standard pair_rate) ))"
row "one person, $PAIR_COUNT messages: seconds at Meta" "$(field "$single" 1)"
row "one person: pair bucket's minimum / Meta's (s)" "$pair_min / $(( (PAIR_COUNT - 45) * 6 ))"
row "one person: sent / 131056 refusals" "$(field "$single" 2) / $(field "$single" 3)"
row "allowed 20 of 80 msg/s, $MISMATCH_COUNT messages: seconds" "$(field "$mismatch" 1)"
row "allowed 20: achieved msg/s / allowed" "$(awk -v n="$(field "$mismatch" 2)" -v t="$(field "$mismatch" 1)" 'BEGIN { printf "%.1f / 20 (%.0f %%)", (n - 1) / t, (n - 1) / t / 20 * 100 }')"
row "allowed 20: 130429 answers / rate cuts" "$(field "$mismatch" 4) / $mismatch_cuts"
row "allowed 20: lowest / final rate factor" "$mismatch_floor / $mismatch_factor"
