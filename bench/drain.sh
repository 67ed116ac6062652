#!/bin/sh
# Drain benchmark: 20,000 messages over 10 HIGH numbers, from the outbox to
# the Cloud API simulator through the sender workers; msgs/s, per-number
# pacing against the configured bucket rate, limit violations; and, in the
# same run, the simulator's own ceiling measured with wrk (the peer).
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
MESSAGES=${BENCH_MESSAGES:-20000}
NUMBERS=10
PORT=${BENCH_PORT:-5496}

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(mktemp -d /tmp/antiban-drain.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$DIR"
SIM_PID=""
cleanup() {
	stop_cluster "$DIR"
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"$ANTIBAN_ROOT/regress/simulator/antiban-sim" --port 0 --port-file "$DIR/sim.port" \
	--max-ledger 200000 > "$DIR/sim.log" 2>&1 &
SIM_PID=$!
i=0; while [ ! -s "$DIR/sim.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
SIM="http://127.0.0.1:$(cat "$DIR/sim.port")"
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

# 2. antiban: queue everything, then start draining, and time it.
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
	SELECT (4000000 + i)::text, 1, 'HIGH' FROM generate_series(1, $NUMBERS) i;
	SELECT antiban.set_secret('access_token', 'EAAG-bench-token', '200');"
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
antiban.graph_base_url = '$SIM'
antiban.sender_workers = 2
antiban.max_inflight = 256
antiban.claim_batch = 256
synchronous_commit = off
EOC
cluster_psql "$DIR" "$PORT" antiban -c "ALTER SYSTEM SET antiban.graph_base_url = 'http://127.0.0.1:9'"
start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" antiban -c "
	SELECT count(antiban.send_template('+55119' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR', NULL, 'utility'))
	FROM generate_series(1, $MESSAGES) i" >/dev/null
cluster_psql "$DIR" "$PORT" antiban -c "ALTER SYSTEM RESET antiban.graph_base_url" -c "SELECT pg_reload_conf()" >/dev/null
t0=$(date +%s.%N)
i=0
while [ $i -lt 1200 ] && [ "$(cluster_psql "$DIR" "$PORT" antiban -tAc \
	"SELECT count(*) FROM antiban.outbox WHERE state IN ('queued', 'retry_wait', 'sending')")" != 0 ]; do
	sleep 0.1; i=$((i + 1))
done
t1=$(date +%s.%N)

# 3. Pacing, from the simulator's own timestamps: steady rate per number,
# after the first second, against the bucket's configured rate.
configured=$(cluster_psql "$DIR" "$PORT" antiban -tAc \
	"SELECT rate_per_second FROM antiban.buckets WHERE kind = 'number' LIMIT 1")
curl -s "$SIM/_sim/messages" > "$DIR/messages.tsv"
ledger=$(curl -s "$SIM/_sim/ledger")
sent=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SELECT count(*) FROM antiban.outbox WHERE state = 'sent'")
pacing=$(awk -F'\t' -v rate="$configured" '
	{ n[$2]++; t = $7 + 0; if (!($2 in first) || t < first[$2]) first[$2] = t; if (t > last[$2]) last[$2] = t }
	END { worst = 0; for (k in n) { span = last[k] - first[k]; if (span <= 0) continue;
	      observed = (n[k] - 1) / span; err = (observed - rate) / rate * 100;
	      if (err < 0 ? -err > (worst < 0 ? -worst : worst) : err > (worst < 0 ? -worst : worst)) worst = err;
	      printf "%s %.1f\n", k, observed }
	      printf "worst %.2f\n", worst }' "$DIR/messages.tsv")
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
rate=$(awk -v n="$sent" -v s="$elapsed" 'BEGIN { printf "%d", n / s }')
echo
echo "antiban drain benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $MESSAGES messages over $NUMBERS HIGH numbers, 2 senders x 256 in flight"
printf '| %-50s | %12s |\n' "measure" "value"
printf '| %-50s | %12s |\n' "--------------------------------------------------" "------------"
printf '| %-50s | %12s |\n' "messages sent" "$sent"
printf '| %-50s | %12s |\n' "drain time (s)" "$elapsed"
printf '| %-50s | %12s |\n' "drain throughput (msgs/s)" "$rate"
printf '| %-50s | %12s |\n' "simulator ceiling, wrk -c 8 (req/s)" "$ceiling"
printf '| %-50s | %12s |\n' "throughput / ceiling" "$(awk -v a="$rate" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')"
printf '| %-50s | %12s |\n' "configured rate per number (msgs/s)" "$configured"
printf '| %-50s | %12s |\n' "worst per-number pacing error (%)" "$(echo "$pacing" | sed -n 's/^worst //p')"
printf '| %-50s | %12s |\n' "duplicates in the ledger" "$(echo "$ledger" | sed -n 's/.*"duplicates":\([0-9]*\).*/\1/p')"
printf '| %-50s | %12s |\n' "throughput violations (130429)" "$(echo "$ledger" | sed -n 's/.*"violations":{"throughput":\([0-9]*\).*/\1/p')"
printf '| %-50s | %12s |\n' "pair-rate violations (131056)" "$(echo "$ledger" | sed -n 's/.*"pair_rate":\([0-9]*\).*/\1/p')"
echo "per-number observed rates: $(echo "$pacing" | grep -v worst | sort | awk '{ printf "%s=%s ", $1, $2 }')"
