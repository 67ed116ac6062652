#!/bin/sh
# History benchmark (issue 13 §4): claim latency, decide, webhook ingest and
# drain on empty tables, then again with BENCH_ROWS (default 10,000,000)
# historical rows in antiban.outbox and in antiban.webhook_events (a year of
# a busy tenant: settled messages and applied webhooks, set-based INSERTs),
# after VACUUM ANALYZE; prints both, their ratio, and the load average at
# each measurement.  Peers from the same run: SELECT 1 (pgbench) and the
# simulator's wrk ceiling.  The senders (2) and the monitor run all along,
# as in production: what history costs them shows in the figures.
#   claim   - the sender's due-message query (outbox_claim.c, FOR UPDATE
#             SKIP LOCKED, 256 rows of 2,000 waiting), pgbench -c 1, ms
#   decide  - antiban.decide over 10 HIGH numbers, pgbench -c 8, calls/s
#   ingest  - antiban.ingest_webhooks, 10 signed status POSTs per call,
#             applied inline, pgbench -c 8, POSTs/s
#   drain   - BENCH_DRAIN messages (default 10,000) over 10 HIGH numbers
#             to the simulator, msgs/s from the first accepted to the last
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# shared memory on huge pages when root may reserve them (README, "Huge pages")
ANTIBAN_HUGE_PAGES=${BENCH_HUGE_PAGES:-on}
ROWS=${BENCH_ROWS:-10000000}
SECONDS_EACH=${BENCH_SECONDS:-10}
DRAIN=${BENCH_DRAIN:-10000}
PORT=${BENCH_PORT:-5493}
NUMBERS=10
SECRET=bench-app-secret

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_BENCH_PACKAGES
[ -n "${BENCH_NO_BUILD:-}" ] || build_and_install
ensure_cluster_user
DIR=$(work_dir history)
cleanup() { stop_cluster "$DIR"; stop_process "$DIR" simulator; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

SIM=$(start_process "$DIR" simulator "$ANTIBAN_ROOT/regress/simulator/antiban-sim" --max-ledger 200000)
numbers=$(i=1; while [ $i -le $NUMBERS ]; do
	printf '"%d": {"throughput": 1000, "portfolio": "p1", "waba": "200"},' $((4000000 + i)); i=$((i + 1)); done)
sim_config() {
	curl -s -X POST "$SIM/_sim/reset" >/dev/null
	curl -s -X POST "$SIM/_sim/config" -d "{\"numbers\": {${numbers%,}}, \"portfolios\": {\"p1\": {\"limit\": \"unlimited\"}}}" >/dev/null
}
sim_config

start_cluster "$DIR" "$PORT"
sql() { cluster_psql "$DIR" "$PORT" antiban -tA "$@"; }
cluster_psql "$DIR" "$PORT" postgres -c "CREATE DATABASE antiban"
# pg_partman where it is installed: antiban hands its large tables to it
sql -c "CREATE EXTENSION antiban" -c "
	DO \$\$ BEGIN
		IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_partman') THEN
			CREATE SCHEMA partman;
			CREATE EXTENSION pg_partman SCHEMA partman;
		END IF;
	END \$\$;
	CREATE EXTENSION pgcrypto;
	INSERT INTO antiban.portfolios (business_id, messaging_limit) VALUES ('1', 'TIER_UNLIMITED');
	INSERT INTO antiban.wabas (waba_id, portfolio_id) VALUES ('200', 1);
	INSERT INTO antiban.numbers (phone_number_id, waba_id, throughput_level)
	SELECT (4000000 + i)::text, 1, 'HIGH' FROM generate_series(1, $NUMBERS) i;
	SELECT antiban.set_secret('access_token', 'EAAG-bench-token', '200');
	SELECT antiban.set_secret('app_secret', '$SECRET');
	-- a tenant that keeps its year of webhooks
	UPDATE antiban.settings SET value = '400 days' WHERE name = 'retention.webhook_events';" >/dev/null
as_cluster_user sh -c "cat >> '$DIR/pgdata/postgresql.conf'" <<EOC
antiban.sender_workers = 2
antiban.max_inflight = 256
antiban.claim_batch = 256
antiban.graph_base_url = '$SIM'
shared_buffers = 256MB
max_wal_size = 4GB
EOC
start_cluster "$DIR" "$PORT"
# the partitions (pg_partman) before any row arrives
[ "$(sql -c "SELECT to_regprocedure('antiban.manage_partitions(text)') IS NOT NULL
	AND to_regclass('partman.part_config') IS NOT NULL")" = t ] && sql -c "SELECT antiban.manage_partitions()" >/dev/null
jit=$(sql -c "SHOW jit")

script() {	# script NAME SQL...: a pgbench script file
	f="$DIR/$1.sql"; shift
	printf '%s\n' "$@" > "$f"
	chmod 644 "$f"
	echo "$f"
}
pgbench_run() {	# pgbench_run CLIENTS SCRIPT [ARGS]: pgbench's report
	clients=$1 file=$2; shift 2
	as_cluster_user "$(pg_bindir)/pgbench" -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" \
		-T "$SECONDS_EACH" -h "$DIR" -p "$PORT" "$@" -f "$file" antiban 2>"$DIR/pgbench.err"
}
tps() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1; }
latency() { sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p'; }
load() { cut -d' ' -f1 /proc/loadavg; }

# The sender's due query (outbox_claim.c), on 2,000 messages queued for
# tomorrow (the senders leave them), as if it were tomorrow; rolled back.
claim_sql="SELECT d.id FROM (SELECT level FROM unnest(enum_range(NULL::antiban.priority)) AS level ORDER BY level DESC) p
 CROSS JOIN LATERAL (SELECT o.id, o.not_before FROM antiban.outbox o
  WHERE o.state IN ('queued', 'retry_wait') AND o.priority = p.level AND o.not_before <= now() + interval '2 days'
   AND (o.metadata @> '{\"independent\": true}' OR NOT EXISTS (SELECT FROM antiban.outbox e
    WHERE e.recipient = o.recipient AND e.id < o.id AND e.state IN ('queued', 'retry_wait', 'sending')
     AND NOT e.metadata @> '{\"independent\": true}' AND (e.state <> 'queued' OR e.not_before <= now() + interval '2 days')))
  ORDER BY o.not_before, o.id LIMIT 256 FOR UPDATE SKIP LOCKED) d
 ORDER BY d.not_before, d.id LIMIT 256;"
claim=$(script claim "BEGIN;" "$claim_sql" "ROLLBACK;")
select1=$(script select1 "SELECT 1;")
decide=$(script decide '\set r random(1, 100000)' \
	"SELECT outcome FROM antiban.decide('+55119' || lpad(:r::text, 8, '0'), 'utility');")
# 10 signed status POSTs (delivered or read, with pricing) about the 20,000
# sent messages from :first; unique bytes (random messages, times in the last hour)
ingest=$(script ingest '\set m random(0, 19999)' '\set t random(0, 100000000)' "WITH b AS (
	SELECT convert_to(format('{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"200\",\"changes\":[{\"value\":'
		'{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"55119%s\",\"phone_number_id\":\"%s\"},'
		'\"statuses\":[{\"id\":\"%s\",\"status\":\"%s\",\"timestamp\":\"%s\",\"recipient_id\":\"%s\",\"biz_opaque_callback_data\":\"%s\",'
		'\"pricing\":{\"billable\": true,\"pricing_model\":\"PMP\",\"type\":\"regular\",\"category\":\"utility\"}}]},\"field\":\"messages\"}]}]}',
		o.phone_number_id, o.phone_number_id, o.wamid, (ARRAY['delivered', 'read'])[1 + (:m + g) % 2],
		extract(epoch FROM now())::bigint - (:t + g) % 3600, ltrim(o.recipient, '+'), o.id), 'UTF8') AS body
	FROM generate_series(1, 10) g
	CROSS JOIN LATERAL (SELECT * FROM antiban.outbox WHERE id = :first::bigint + (:m + g * 1999) % 20000) o)
SELECT count(*) FROM antiban.ingest_webhooks(ARRAY(SELECT body FROM b),
	ARRAY(SELECT 'sha256=' || encode(hmac(body, '$SECRET', 'sha256'), 'hex') FROM b));")

accepted() { curl -s "$SIM/_sim/ledger" | sed -n 's/^{"accepted":\([0-9]*\).*/\1/p'; }

# measure LABEL PREFIX: "claim_ms decide_per_s ingest_posts_per_s drain_msgs_per_s select1 load"
measure() {
	label=$1 prefix=$2
	# 20,000 sent messages for the statuses; 2,000 waiting for tomorrow
	first=$(sql -c "SELECT coalesce(max(id), 0) + 1 FROM antiban.outbox")
	# (one transaction each: the senders never see them due)
	sql -c "SELECT count(antiban.send_template('+55' || $prefix || '1' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR', NULL, 'utility'))
		FROM generate_series(1, 20000) i;
		UPDATE antiban.outbox o SET state = 'sending', number_id = n.id, phone_number_id = n.phone_number_id
		FROM antiban.numbers n WHERE o.id >= $first AND n.id = 1 + o.id % $NUMBERS;
		UPDATE antiban.outbox SET state = 'sent', wamid = 'wamid.HIST' || id WHERE id >= $first" >/dev/null
	sql -c "SELECT count(antiban.send_template('+55' || $prefix || '2' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR', NULL, 'utility'))
		FROM generate_series(1, 2000) i;
		UPDATE antiban.outbox SET not_before = now() + interval '1 day' WHERE id >= $first AND state = 'queued'" >/dev/null
	sql -c "VACUUM ANALYZE antiban.outbox" >/dev/null
	l0=$(load)
	s1=$(pgbench_run 8 "$select1" | tps)
	c=$(pgbench_run 1 "$claim" | latency)
	d=$(pgbench_run 8 "$decide" | tps)
	i=$(pgbench_run 8 "$ingest" -D first="$first" | tps)
	# the drain: queued now, timed as Meta sees it
	sim_config
	sql -c "SELECT count(antiban.send_template('+55' || $prefix || '3' || lpad(i::text, 8, '0'), 'oferta', 'pt_BR', NULL, 'utility'))
		FROM generate_series(1, $DRAIN) i" >/dev/null
	n=0
	while [ $n -lt 6000 ] && [ "$(accepted)" -lt "$DRAIN" ]; do sleep 0.05; n=$((n + 1)); done
	curl -s "$SIM/_sim/messages" > "$DIR/messages.$label.tsv"
	t0=$(cut -f7 "$DIR/messages.$label.tsv" | sort -n | head -1)
	t1=$(cut -f7 "$DIR/messages.$label.tsv" | sort -n | tail -1)
	dr=$(awk -v n="$(accepted)" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b > a ? n / (b - a) : 0) }')
	echo "$c $((i * 10)) $d $dr $s1 $l0-$(load)"
}

say "measuring on empty tables ($SECONDS_EACH s each)"
sleep 2		# buckets seen first right after start count as empty
empty=$(measure empty "'119'")

say "loading $ROWS historical rows into the outbox and into webhook_events"
t_load=$(date +%s)
CHUNK=1000000
k=0
while [ $k -lt "$ROWS" ]; do
	hi=$((k + CHUNK < ROWS ? k + CHUNK : ROWS))
	# a year of settled messages, oldest first: 60 % read, 25 % delivered,
	# 5 % sent, 5 % failed, the rest expired, rejected or cancelled
	sql -c "SET session_replication_role = replica" -c "
	INSERT INTO antiban.outbox (created_at, recipient, message_type, category, payload, state, not_before,
		metadata, number_id, phone_number_id, portfolio_id, attempts, wamid, reason, error_code,
		queued_at, sending_at, sent_at, delivered_at, read_at, failed_at, expired_at, rejected_at, cancelled_at,
		updated_at, billable, pricing_model, pricing_type, pricing_category)
	SELECT t, '+55' || (11 + i % 80) || '9' || lpad((i % 4999999)::text, 8, '0'), 'template',
		(CASE WHEN i % 3 = 0 THEN 'utility' ELSE 'marketing' END)::antiban.category,
		jsonb_build_object('template', jsonb_build_object('name', 'oferta_' || i % 20, 'language', jsonb_build_object('code', 'pt_BR'),
			'components', jsonb_build_array(jsonb_build_object('type', 'body', 'parameters',
				jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'Cliente ' || i)))))),
		st::antiban.message_state, t, '{}', n.id, n.phone_number_id, 1, 1,
		CASE WHEN st IN ('sent', 'delivered', 'read', 'failed') THEN 'wamid.H' || i END, 'send', 
		CASE WHEN st = 'failed' THEN 131026 END,
		t, CASE WHEN st IN ('sent', 'delivered', 'read', 'failed') THEN t + interval '1 second' END,
		CASE WHEN st IN ('sent', 'delivered', 'read', 'failed') THEN t + interval '2 seconds' END,
		CASE WHEN st IN ('delivered', 'read') THEN t + interval '5 seconds' END,
		CASE WHEN st = 'read' THEN t + interval '10 minutes' END,
		CASE WHEN st = 'failed' THEN t + interval '3 seconds' END,
		CASE WHEN st = 'expired' THEN t + interval '1 day' END,
		CASE WHEN st = 'rejected' THEN t END,
		CASE WHEN st = 'cancelled' THEN t + interval '1 minute' END,
		t + interval '10 minutes',
		st IN ('delivered', 'read'), 'PMP', 'regular', 'marketing'
	FROM generate_series($k + 1, $hi) i
	CROSS JOIN LATERAL (SELECT now() - interval '365 days' * (1 - i::float8 / $ROWS) - interval '1 hour' AS t,
		CASE WHEN i % 100 < 60 THEN 'read' WHEN i % 100 < 85 THEN 'delivered' WHEN i % 100 < 90 THEN 'sent'
		     WHEN i % 100 < 95 THEN 'failed' WHEN i % 100 < 97 THEN 'expired' WHEN i % 100 < 99 THEN 'rejected'
		     ELSE 'cancelled' END AS st) x
	JOIN antiban.numbers n ON n.id = 1 + i % $NUMBERS" >/dev/null
	# a year of applied status webhooks, one status each (what Meta posts)
	# (each a post as it arrived and its outcome: antiban.webhook_events shows both)
	sql -c "SET session_replication_role = replica" -c "
	WITH p AS (
	INSERT INTO antiban.webhook_posts (received_at, body_raw, body_size, body_sha256, body, signature_valid)
	SELECT t, convert_to(b, 'UTF8'), octet_length(b), sha256(convert_to(b, 'UTF8')), b::jsonb, true
	FROM generate_series($k + 1, $hi) i
	CROSS JOIN LATERAL (SELECT now() - interval '365 days' * (1 - i::float8 / $ROWS) - interval '1 hour' AS t) x
	CROSS JOIN LATERAL (SELECT format('{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"200\",\"changes\":[{\"value\":'
		'{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"5511900000001\",\"phone_number_id\":\"%s\"},'
		'\"statuses\":[{\"id\":\"wamid.H%s\",\"status\":\"%s\",\"timestamp\":\"%s\",\"recipient_id\":\"55119%s\",\"biz_opaque_callback_data\":\"%s\",'
		'\"pricing\":{\"billable\": true,\"pricing_model\":\"PMP\",\"type\":\"regular\",\"category\":\"marketing\"}}]},\"field\":\"messages\"}]}]}',
		4000001 + i % $NUMBERS, i, (ARRAY['sent', 'delivered', 'read'])[1 + i % 3], extract(epoch FROM t)::bigint,
		lpad(i::text, 8, '0'), i) AS b) y
	RETURNING id, received_at)
	INSERT INTO antiban.webhook_outcomes (id, received_at, status, updates, applied_at)
	SELECT id, received_at, 'applied', 1, received_at FROM p" >/dev/null
	k=$hi
done
# the digests that keep a webhook stored once, where the events are partitioned
sql -c "DO \$\$ BEGIN IF to_regclass('antiban.webhook_digests') IS NOT NULL THEN
	INSERT INTO antiban.webhook_digests (body_sha256, signature_valid, received_at)
	SELECT body_sha256, signature_valid, received_at FROM antiban.webhook_posts ON CONFLICT DO NOTHING;
	END IF; END \$\$" \
	-c "DO \$\$ BEGIN IF to_regprocedure('antiban.rebuild_send_minutes(timestamptz)') IS NOT NULL THEN
	PERFORM antiban.rebuild_send_minutes(now() - interval '2 days'); END IF; END \$\$" >/dev/null
sql -c "VACUUM ANALYZE" >/dev/null
t_load=$(( $(date +%s) - t_load ))
sizes=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('antiban.outbox')) || ' outbox, '
	|| pg_size_pretty(sum(pg_total_relation_size(relid))) || ' webhook posts and outcomes in ' || count(*) || ' table(s)'
	FROM (SELECT relid FROM pg_partition_tree('antiban.webhook_posts') WHERE isleaf
	      UNION SELECT 'antiban.webhook_outcomes'::regclass) t")

say "measuring with history"
full=$(measure full "'129'")

f() { echo "$1" | cut -d' ' -f"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '| %-44s | %10s | %10s | %6s |\n' "$1" "$2" "$3" "$4"; }
echo
echo "antiban history benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, jit = $jit, $ROWS rows each loaded in $t_load s ($sizes)"
row "measure" "empty" "$ROWS rows" "ratio"
row "--------------------------------------------" "----------" "----------" "------"
row "claim latency, ms (256 of 2,000 due; lower is better)" "$(f "$empty" 1)" "$(f "$full" 1)" "$(ratio "$(f "$full" 1)" "$(f "$empty" 1)")"
row "webhook ingest, POSTs/s (10 per call, inline)" "$(f "$empty" 2)" "$(f "$full" 2)" "$(ratio "$(f "$full" 2)" "$(f "$empty" 2)")"
row "decide, calls/s (pgbench -c 8)" "$(f "$empty" 3)" "$(f "$full" 3)" "$(ratio "$(f "$full" 3)" "$(f "$empty" 3)")"
row "drain, msgs/s ($DRAIN over $NUMBERS HIGH numbers)" "$(f "$empty" 4)" "$(f "$full" 4)" "$(ratio "$(f "$full" 4)" "$(f "$empty" 4)")"
row "SELECT 1, per s (peer)" "$(f "$empty" 5)" "$(f "$full" 5)" "$(ratio "$(f "$full" 5)" "$(f "$empty" 5)")"
row "load average (1 min) before-after" "$(f "$empty" 6)" "$(f "$full" 6)" ""
