#!/bin/sh
# Enqueue benchmark: antiban.send_template against a bare INSERT of the same
# outbox row, measured in the same run on this machine (issue 13 §3).
#  - one message per transaction: pgbench -M prepared -c 8 for BENCH_SECONDS
#    (default 10) each, send_template vs INSERT INTO antiban.outbox + commit;
#  - a campaign in one statement over an audience of BENCH_AUDIENCE (default
#    100,000) people, in messages per second: antiban.send_template_many (the
#    set path), its peer INSERT ... SELECT of the same rows into the outbox
#    and into a plain table with the outbox's columns and no index, and the
#    old per-row path (send_template called once per audience row); the
#    keyed set is sent a second time (every key then names a message).
# Prints one table of throughput and ratios (and, for the statements over the
# audience, the CPU seconds the cluster spent on each), with the load average
# at the start and end (the machine is shared: compare ratios from one run).
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
SECONDS_EACH=${BENCH_SECONDS:-10}
AUDIENCE=${BENCH_AUDIENCE:-100000}
CLIENTS=8
PORT=${BENCH_PORT:-5498}

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(mktemp -d /tmp/antiban-bench.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$DIR"
cleanup() {
	stop_cluster "$DIR"
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/bench/setup.sql"
# the audience, and the row a send_template of it stores (for the bare INSERT)
cluster_psql "$DIR" "$PORT" antiban -c "
	CREATE TABLE bench_audience AS
		SELECT '+55119' || lpad(i::text, 8, '0') AS recipient FROM generate_series(1, $AUDIENCE) i" \
	-c "SELECT antiban.send_template('+5511900000001', 'oferta', 'pt_BR', NULL, 'utility')" \
	-c "CREATE TABLE bench_row AS SELECT * FROM antiban.outbox LIMIT 1" \
	-c "CREATE TABLE bench_plain (LIKE antiban.outbox INCLUDING DEFAULTS INCLUDING IDENTITY)" \
	-c "TRUNCATE antiban.outbox CASCADE" >/dev/null
ROW=$(cluster_psql "$DIR" "$PORT" antiban -tAc "
	SELECT format('%L, %L, %L, %L::jsonb, %L, now(), %s, %s, %L, %s, %L, %L',
		message_type, category, priority, payload, state,
		quote_nullable(valid_until), quote_nullable(number_id), phone_number_id,
		quote_nullable(portfolio_id), reason, detail)
	FROM bench_row")
COLUMNS="message_type, category, priority, payload, state, not_before, valid_until, number_id, phone_number_id, portfolio_id, reason, detail"
sleep 2		# buckets seen first right after start count as empty

script() {	# script NAME SQL...: a pgbench script file
	f="$DIR/$1.sql"; shift
	printf '%s\n' "$@" > "$f"
	chmod 644 "$f"
	echo "$f"
}

# an empty outbox and a checkpoint before each measurement: a phase must not
# pay for the one before it (the senders retrying its rows, a checkpoint due)
fresh_outbox() {
	cluster_psql "$DIR" "$PORT" antiban -c "TRUNCATE antiban.outbox CASCADE" \
		-c "TRUNCATE bench_plain" -c "CHECKPOINT" >/dev/null 2>&1
}

pgbench_tps() {	# pgbench_tps SCRIPT: transactions per second
	fresh_outbox
	as_cluster_user "$(pg_bindir)/pgbench" -n -M prepared -c $CLIENTS -j 2 -T "$SECONDS_EACH" \
		-h "$DIR" -p "$PORT" -f "$1" antiban 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

# per_second SQL [keep]: rows per second of one statement storing AUDIENCE
# rows (into an empty outbox, unless keep), and the CPU seconds its backend
# spent on it (read from the backend's /proc/self/stat before and after: on a
# shared machine the steadier of the two figures)
per_second() {
	if [ "${2:-}" = keep ]; then
		cluster_psql "$DIR" "$PORT" antiban -c "CHECKPOINT" >/dev/null 2>&1
	else
		fresh_outbox
	fi
	stat="SELECT pg_read_file('/proc/self/stat')"
	t0=$(date +%s.%N)
	ticks=$(cluster_psql "$DIR" "$PORT" antiban -tA -c "$stat" -c "$1" -c "$stat" \
		| awk '/^[0-9]+ \(/ { sub(/^.*\) /, ""); t[n++] = $12 + $13 } END { print t[1] - t[0] }')
	t1=$(date +%s.%N)
	awk -v n="$AUDIENCE" -v a="$t0" -v b="$t1" -v c="$ticks" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%d %.2f", n / (b - a), c / hz }'
}

say "measuring ($SECONDS_EACH s each, $CLIENTS clients; an audience of $AUDIENCE)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
select1=$(pgbench_tps "$(script select1 'SELECT 1;')")
insert_one=$(pgbench_tps "$(script insert_one '\set r random(1, 100000)' \
	"INSERT INTO antiban.outbox (recipient, $COLUMNS) VALUES ('+55119' || lpad(:r::text, 8, '0'), $ROW);")")
send_one=$(pgbench_tps "$(script send_one '\set r random(1, 100000)' \
	"SELECT antiban.send_template('+55119' || lpad(:r::text, 8, '0'), 'oferta', 'pt_BR', NULL, 'utility');")")
insert_all=$(per_second "INSERT INTO antiban.outbox (recipient, $COLUMNS) SELECT recipient, $ROW FROM bench_audience")
plain_all=$(per_second "INSERT INTO bench_plain (recipient, $COLUMNS) SELECT recipient, $ROW FROM bench_audience")
many_all=$(per_second "SELECT count(*) FROM antiban.send_template_many((SELECT array_agg(recipient) FROM bench_audience), 'oferta', 'pt_BR', NULL, 'utility')")
keyed_sql="SELECT count(*) FROM antiban.send_template_many((SELECT array_agg(recipient) FROM bench_audience), 'oferta', 'pt_BR', NULL, 'utility', idempotency_keys => (SELECT array_agg('c1:' || recipient) FROM bench_audience))"
many_keyed=$(per_second "$keyed_sql")
many_again=$(per_second "$keyed_sql" keep)	# a campaign resent whole: each key returns its message
send_all=$(per_second "SELECT count(antiban.send_template(recipient, 'oferta', 'pt_BR', NULL, 'utility')) FROM bench_audience")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

jit=$(cluster_psql "$DIR" "$PORT" antiban -tAc "SHOW jit")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '| %-48s | %9s | %8s | %7s | %-24s |\n' "$1" "$2" "$3" "${5:-}" "$4"; }
rate() { echo "${1% *}"; }	# of per_second's answer
cpu() { echo "${1#* }"; }
echo
echo "antiban enqueue benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, pgbench -M prepared -c $CLIENTS -j 2 -T $SECONDS_EACH, jit = $jit, $(cluster_pages "$DIR")"
echo "load average (1, 5, 15 min): $load_before at the start, $load_after at the end"
row "workload" "per s" "ratio" "target" "CPU s"
row "------------------------------------------------" "---------" "--------" "------------------------" "-------"
row "SELECT 1" "$select1" "" ""
row "bare INSERT of the outbox row + commit (peer)" "$insert_one" "1.00" ""
row "antiban.send_template, one per transaction" "$send_one" "$(ratio "$send_one" "$insert_one")" ">= 0.80 x bare INSERT"
row "bare INSERT ... SELECT, $AUDIENCE rows (peer)" "$(rate "$insert_all")" "1.00" "" "$(cpu "$insert_all")"
row "same rows into a plain table, no index" "$(rate "$plain_all")" "$(ratio "$(rate "$plain_all")" "$(rate "$insert_all")")" "" "$(cpu "$plain_all")"
row "send_template_many, $AUDIENCE in one call" "$(rate "$many_all")" "$(ratio "$(rate "$many_all")" "$(rate "$insert_all")")" ">= 50,000 messages/s" "$(cpu "$many_all")"
row "  the same, one idempotency key each" "$(rate "$many_keyed")" "$(ratio "$(rate "$many_keyed")" "$(rate "$insert_all")")" "" "$(cpu "$many_keyed")"
row "  the same set again (every key found)" "$(rate "$many_again")" "$(ratio "$(rate "$many_again")" "$(rate "$insert_all")")" "" "$(cpu "$many_again")"
row "send_template per row, $AUDIENCE in one statement" "$(rate "$send_all")" "$(ratio "$(rate "$send_all")" "$(rate "$insert_all")")" "(the old path)" "$(cpu "$send_all")"
