#!/bin/sh
# Foundation benchmark: antiban's token buckets and decisions against peers
# measured in the same run on this machine.  pgbench -M prepared -c 8 for
# BENCH_SECONDS (default 10) each: SELECT 1; try_consume on 1,000 numbers
# and on one hot number; decide likewise; the PL/pgSQL table-row bucket; and
# Redis 7's Lua token bucket through EVALSHA (redis-benchmark, 8 clients).
# Prints one table of throughput and ratios.
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=8
PORT=${BENCH_PORT:-5497}

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
build_and_install
ensure_cluster_user
DIR=$(mktemp -d /tmp/antiban-bench.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$DIR"
cleanup() {
	stop_cluster "$DIR"
	[ -S "$DIR/redis.sock" ] && redis-cli -s "$DIR/redis.sock" shutdown nosave >/dev/null 2>&1
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

start_cluster "$DIR" "$PORT"
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
cluster_psql "$DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/bench/setup.sql"
cluster_psql "$DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/bench/plpgsql_bucket.sql"
sleep 2		# buckets seen first right after start count as empty

script() {	# script NAME SQL...: a pgbench script file
	f="$DIR/$1.sql"; shift
	printf '%s\n' "$@" > "$f"
	chmod 644 "$f"
	echo "$f"
}

pgbench_tps() {	# pgbench_tps SCRIPT: transactions per second
	as_cluster_user "$(pg_bindir)/pgbench" -n -M prepared -c $CLIENTS -j 2 -T "$SECONDS_EACH" \
		-h "$DIR" -p "$PORT" -f "$1" antiban 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

redis_tps() {	# redis_tps KEY RANGE: EVALSHA calls per second over ~SECONDS_EACH
	sha=$1 key=$2 range=$3
	probe=$(redis-benchmark -s "$DIR/redis.sock" -c $CLIENTS -n 50000 -r "$range" -q \
		EVALSHA "$sha" 1 "$key" 1000 1000 1 | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | cut -d. -f1)
	n=$((probe * SECONDS_EACH))
	redis-benchmark -s "$DIR/redis.sock" -c $CLIENTS -n "$n" -r "$range" -q \
		EVALSHA "$sha" 1 "$key" 1000 1000 1 | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | cut -d. -f1
}

say "measuring ($SECONDS_EACH s each, $CLIENTS clients)"
select1=$(pgbench_tps "$(script select1 'SELECT 1;')")
consume_many=$(pgbench_tps "$(script consume_many '\set n random(1000001, 1001000)' \
	'SELECT allowed FROM antiban.try_consume(:n::text);')")
consume_hot=$(pgbench_tps "$(script consume_hot "SELECT allowed FROM antiban.try_consume('1000001');")")
decide_many=$(pgbench_tps "$(script decide_many '\set r random(1, 100000)' \
	"SELECT outcome FROM antiban.decide('+55119' || lpad(:r::text, 8, '0'), 'utility');")")
decide_hot=$(pgbench_tps "$(script decide_hot '\set r random(1, 100000)' \
	"SELECT outcome FROM antiban.decide('+55119' || lpad(:r::text, 8, '0'), 'utility', from_number => '1000001');")")
plpgsql_many=$(pgbench_tps "$(script plpgsql_many '\set n random(1, 1000)' \
	'SELECT bench.try_consume(:n, 1000, 1000);')")
plpgsql_hot=$(pgbench_tps "$(script plpgsql_hot 'SELECT bench.try_consume(1, 100000, 100000);')")

redis-server --port 0 --unixsocket "$DIR/redis.sock" --unixsocketperm 777 --save '' \
	--appendonly no --daemonize yes --logfile "$DIR/redis.log" >/dev/null
i=0; while [ ! -S "$DIR/redis.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sha=$(redis-cli -s "$DIR/redis.sock" SCRIPT LOAD "$(cat "$ANTIBAN_ROOT/bench/token_bucket.lua")")
redis_many=$(redis_tps "$sha" 'tb:__rand_int__' 1000)
redis_hot=$(redis_tps "$sha" 'tb:hot' 1)
journal=$(cluster_psql "$DIR" "$PORT" antiban -tAc \
	"SELECT format('%s stored, %s written directly', flushed, written_directly) FROM antiban.journal_stats()")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '| %-44s | %9s | %8s | %-22s |\n' "$1" "$2" "$3" "$4"; }
echo
echo "antiban foundation benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, pgbench -M prepared -c $CLIENTS -j 2 -T $SECONDS_EACH, $(cluster_pages "$DIR")"
row "workload" "tps" "ratio" "target"
row "--------------------------------------------" "---------" "--------" "----------------------"
row "SELECT 1 (the ceiling)" "$select1" "1.00" ""
row "antiban.try_consume, 1,000 numbers" "$consume_many" "$(ratio "$consume_many" "$select1")" ">= 0.70 x SELECT 1"
row "antiban.try_consume, one hot number" "$consume_hot" "$(ratio "$consume_hot" "$select1")" ">= 0.50 x SELECT 1"
row "antiban.decide, rotation over 1,000 numbers" "$decide_many" "$(ratio "$decide_many" "$select1")" ">= 0.60 x SELECT 1"
row "antiban.decide, one hot number" "$decide_hot" "$(ratio "$decide_hot" "$select1")" ">= 0.60 x SELECT 1"
row "PL/pgSQL table-row bucket, 1,000 keys" "$plpgsql_many" "$(ratio "$plpgsql_many" "$select1")" ""
row "PL/pgSQL table-row bucket, hot key" "$plpgsql_hot" "$(ratio "$plpgsql_hot" "$select1")" ""
row "Redis 7 Lua bucket (EVALSHA), 1,000 keys" "$redis_many" "$(ratio "$redis_many" "$select1")" ""
row "Redis 7 Lua bucket (EVALSHA), hot key" "$redis_hot" "$(ratio "$redis_hot" "$select1")" ""
echo
echo "try_consume hot / PL/pgSQL hot: $(ratio "$consume_hot" "$plpgsql_hot") x (target >= 10)"
echo "try_consume hot / Redis hot:    $(ratio "$consume_hot" "$redis_hot") x"
echo "decision journal: $journal"
