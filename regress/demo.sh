#!/bin/sh
# The main job: installs what antiban needs (Debian 12), builds and installs
# it, starts a local PostgreSQL in var/ of the project (as an unprivileged
# user), creates the extension, starts the Cloud API simulator and the
# webhook receiver (with its dashboard), and runs the demo: decisions
# (regress/demo.sql), a campaign drained by the sender worker (demo_send.sql)
# whose statuses come back as signed webhooks, inbound leads, a campaign
# planned and paced with antiban.pace_campaigns (demo_campaign.sql), a
# summary (demo_summary.sql), then the leads they became: scored with
# reasons and assigned (demo_leads.sql).  It ends with the dashboard's URL.
#   sh regress/demo.sh          set up and run the demo (re-runnable)
#   sh regress/demo.sh stop     stop the demo's PostgreSQL, simulator and receiver
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
# PostgreSQL listens on a Unix socket in the cluster's folder only, so the
# port only names that socket: set ANTIBAN_DEMO_PORT to run beside another.
PORT=${ANTIBAN_DEMO_PORT:-5499}

APP_SECRET=demo-app-secret-not-a-real-one
VERIFY_TOKEN=demo-verify-token

# post_inbound FROM NAME TEXT [N]: a lead writes (their Nth message) to number 3000000001, signed like Meta
post_inbound() {
	body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"2000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"551140000001","phone_number_id":"3000000001"},"contacts":[{"profile":{"name":"%s"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.demo-in-%s%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]}}]}]}' \
		"$2" "$1" "$1" "$1" "${4:+-$4}" "$(date +%s)" "$3")
	# (psql interpolates :'variables' in scripts, not in -c)
	signature=$(echo "SELECT encode(hmac(convert_to(:'body', 'UTF8'), :'secret', 'sha256'), 'hex')" |
		cluster_psql "$HOME_DIR" "$PORT" antiban -tA -v body="$body" -v secret="$APP_SECRET")
	code=$(printf '%s' "$body" | curl -s -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "X-Hub-Signature-256: sha256=$signature" \
		--data-binary @- "$RECEIVER_URL/webhook") || true
	echo "   POST from $2: HTTP $code"
	[ "$code" = 200 ] || die "the receiver did not store the message from $2"
}

# wait_until SECONDS SQL: poll until the query answers t; false on timeout
wait_until() {
	deadline=$(($(date +%s) + $1))
	while [ "$(cluster_psql "$HOME_DIR" "$PORT" antiban -tAc "$2")" != t ]; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

if [ "${1:-}" = stop ]; then
	ensure_cluster_user
	HOME_DIR=$(cluster_home)
	stop_process "$HOME_DIR" receiver
	rm -f "$HOME_DIR/receiver.admin-port"
	stop_process "$HOME_DIR" simulator
	stop_cluster "$HOME_DIR"
	exit 0
fi

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
HOME_DIR=$(cluster_home)
# A step that fails stops the demo with a non-zero status and says where to
# look, instead of printing a summary of nothing.
trap 'rc=$?; [ $rc = 0 ] || printf "error: the demo failed (status %s); logs in %s; stop it: sh regress/demo.sh stop\n" $rc "$HOME_DIR" >&2' EXIT

say "starting PostgreSQL in $HOME_DIR (port $PORT)"
init_cluster "$HOME_DIR"
# The sender points nowhere until the demo database is fresh: rows left by an
# earlier run must not reach this run's simulator.
demo_conf() {
	as_cluster_user sh -c "cat > '$HOME_DIR/pgdata/antiban-demo.conf'" <<EOC
antiban.graph_base_url = '$1'
antiban.sender_workers = 1
EOC
}
demo_conf "http://127.0.0.1:9"
start_cluster "$HOME_DIR" "$PORT"
cluster_psql "$HOME_DIR" "$PORT" postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS antiban WITH (FORCE)" -c "CREATE DATABASE antiban"
cluster_psql "$HOME_DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "CREATE EXTENSION pg_cron" \
	-c "CREATE EXTENSION pgcrypto" -c "SELECT antiban.set_secret('app_secret', '$APP_SECRET')" \
	-c "SELECT antiban.set_secret('webhook_verify_token', '$VERIFY_TOKEN')" \
	-c "DO \$\$ BEGIN CREATE ROLE receiver LOGIN IN ROLE antiban_receiver;
	    EXCEPTION WHEN duplicate_object THEN GRANT antiban_receiver TO receiver; END \$\$" \
	-c "DO \$\$ BEGIN CREATE ROLE dashboard LOGIN IN ROLE antiban_dashboard;
	    EXCEPTION WHEN duplicate_object THEN GRANT antiban_dashboard TO dashboard; END \$\$" >/dev/null

# The webhook receiver: Meta (here the simulator) posts to it; it stores
# every signed body through antiban.ingest_webhook as role 'receiver'.  Its
# private admin listener serves the dashboard and /metrics as the read-only
# role 'dashboard' (on 127.0.0.1, a free port unless ANTIBAN_DASHBOARD_PORT).
RECEIVER_URL=$(start_process "$HOME_DIR" receiver "$(pg_bindir)/antiban-receiver" \
	--conninfo "host=$HOME_DIR port=$PORT dbname=antiban user=receiver" \
	--admin-port "${ANTIBAN_DASHBOARD_PORT:-0}" --admin-port-file "$HOME_DIR/receiver.admin-port" \
	--admin-conninfo "host=$HOME_DIR port=$PORT dbname=antiban user=dashboard")
DASHBOARD_URL="http://127.0.0.1:$(cat "$HOME_DIR/receiver.admin-port")"
say "webhook receiver at $RECEIVER_URL/webhook; Meta's verification handshake:"
challenge=$(curl -s "$RECEIVER_URL/webhook?hub.mode=subscribe&hub.verify_token=$VERIFY_TOKEN&hub.challenge=1158201444") || true
echo "   GET ?hub.mode=subscribe&hub.verify_token=...: $challenge (the challenge, echoed)"
[ "$challenge" = 1158201444 ] || die "the receiver did not answer Meta's verification handshake"

# The Cloud API simulator stands in for graph.facebook.com: 2 % of requests
# fail with a 500, number 3000000002 is scripted to be flagged for spam
# (131048) as soon as it sends, and statuses come back as signed webhooks
# (70 % of messages get read).
SIM_URL=$(start_process "$HOME_DIR" simulator "$ANTIBAN_ROOT/regress/simulator/antiban-sim" \
	--token EAAG-demo-token-not-a-real-one --fail-rate 0.02 --seed 42 \
	--webhook-url "$RECEIVER_URL/webhook" --app-secret "$APP_SECRET" --webhook-delay-ms 300)
curl -s -X POST "$SIM_URL/_sim/config" -d '{"numbers": {
	"3000000001": {"throughput": 1000, "portfolio": "p1", "waba": "2000000001"},
	"3000000002": {"throughput": 80, "portfolio": "p1", "waba": "2000000001"},
	"3000000003": {"throughput": 80, "portfolio": "p1", "waba": "2000000001"}},
	"portfolios": {"p1": {"limit": 2000}}, "read_rate": 0.7,
	"templates": {"2000000001": [
		{"name": "oferta_cdb", "language": "pt_BR", "category": "MARKETING", "status": "APPROVED"},
		{"name": "atualizacao_pedido", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED"}]}}' \
	| grep -q '"ok":true' || die "the simulator refused the demo configuration"
say "Cloud API simulator at $SIM_URL"
demo_conf "$SIM_URL"
cluster_psql "$HOME_DIR" "$PORT" postgres -c "SELECT pg_reload_conf()" >/dev/null
# The journal writer (re)connects within seconds of the database appearing;
# until it has read how the last run ended, new buckets start empty.
wait_until 120 "SELECT previous_shutdown <> 'unknown' FROM antiban.journal_stats()" ||
	die "antiban's journal writer did not start (see $HOME_DIR/postgresql.log)"
say "running the demo"
cluster_psql "$HOME_DIR" "$PORT" antiban < "$ANTIBAN_ROOT/regress/demo.sql"
cluster_psql "$HOME_DIR" "$PORT" antiban -c "UPDATE antiban.numbers SET burst_override = NULL, rate_override = NULL"
curl -s -X POST "$SIM_URL/_sim/script" -d '{"number": "3000000002", "fail_next": 1000, "code": 131048}' >/dev/null
say "two leads write in through the receiver: one asks (and becomes a hot lead), one opts out"
cluster_psql "$HOME_DIR" "$PORT" antiban < "$ANTIBAN_ROOT/regress/demo_agents.sql"
post_inbound 5521900000001 "Ana Souza" "Olá! Vi o anúncio do CDB, quanto rende?"
post_inbound 5521900000002 "Bruno Lima" "PARE"
post_inbound 5521900000001 "Ana Souza" "Tenho R\$ 300 mil parados, quero aplicar em CDB e Tesouro Direto por 3 anos" 2
post_inbound 5521900000001 "Ana Souza" "Pode me ligar hoje à tarde?" 3
cluster_psql "$HOME_DIR" "$PORT" antiban < "$ANTIBAN_ROOT/regress/demo_send.sql"
say "the sender worker drains the outbox to the simulator; statuses come back as webhooks"
# (a loaded machine is slow, not wrong: the timeout is generous)
if ! wait_until 300 "SELECT count(*) = 0 FROM antiban.outbox WHERE state IN ('queued', 'retry_wait', 'sending', 'sent')"; then
	cluster_psql "$HOME_DIR" "$PORT" antiban -c "SELECT state, reason, count(*) FROM antiban.outbox GROUP BY 1, 2 ORDER BY 1" >&2
	die "the outbox did not drain in 300 s"
fi
say "a campaign planned, then paced: antiban.pace_campaigns() releases a slice each second (pg_cron would run it each minute)"
cluster_psql "$HOME_DIR" "$PORT" antiban < "$ANTIBAN_ROOT/regress/demo_campaign.sql"
deadline=$(($(date +%s) + 120))
while [ "$(cluster_psql "$HOME_DIR" "$PORT" antiban -tAc "SELECT state FROM antiban.campaigns WHERE name = 'cdb-dezembro'")" = running ]; do
	[ "$(date +%s)" -lt "$deadline" ] || die "the campaign did not complete in 120 s"
	cluster_psql "$HOME_DIR" "$PORT" antiban -tAc "SELECT format('   %s: released %s', to_char(clock_timestamp(), 'HH24:MI:SS'), released)
		FROM antiban.pace_campaigns() WHERE released > 0"
	sleep 1
done
if ! wait_until 300 "SELECT count(*) = 0 FROM antiban.outbox WHERE state IN ('queued', 'retry_wait', 'sending', 'sent')"; then
	die "the campaign's messages did not drain in 300 s"
fi
cluster_psql "$HOME_DIR" "$PORT" antiban -c "SELECT name, state, audience, skipped, queued, sent, delivered, read, failed, failed_by_code, cost, currency
	FROM antiban.campaign_funnel" -c "SELECT string_agg(to_state::text, ' -> ' ORDER BY e.id) AS campaign_states
	FROM antiban.campaign_events e JOIN antiban.campaigns c ON c.id = e.campaign_id WHERE c.name = 'cdb-dezembro'"
cluster_psql "$HOME_DIR" "$PORT" antiban < "$ANTIBAN_ROOT/regress/demo_summary.sql"
cluster_psql "$HOME_DIR" "$PORT" antiban < "$ANTIBAN_ROOT/regress/demo_leads.sql"
# every conversation is a lead, scored; the hot one is assigned
[ "$(cluster_psql "$HOME_DIR" "$PORT" antiban -tAc "SELECT count(*) = 2 AND bool_and(score IS NOT NULL) AND count(owner_agent_id) >= 1 FROM antiban.leads")" = t ] ||
	die "the two people who wrote are not two scored leads with the hot one assigned (see the leads above)"
echo "== What the simulator saw (its ledger)"
ledger=$(curl -s "$SIM_URL/_sim/ledger") || die "the simulator's ledger could not be read"
printf '%s\n' "$ledger" | sed 's/,"per_number".*/}/'
# One line that CI (and a person) can check: what Meta accepted, and the two
# things that must never happen.
verdict=$(cluster_psql "$HOME_DIR" "$PORT" antiban -tA -v ledger="$ledger" < "$ANTIBAN_ROOT/regress/demo_ledger.sql") ||
	die "the simulator's ledger is not the JSON expected: $ledger"
echo "== simulator ledger: $verdict"
case $verdict in
	"0 messages accepted,"*) die "the simulator accepted no message" ;;
	*", 0 duplicates, 0 violations") ;;
	*) die "messages were sent twice or over a limit" ;;
esac
# The dashboard must show what SQL says, and /metrics must answer.
page=$(curl -s -o /dev/null -w '%{http_code}' "$DASHBOARD_URL/") || true
[ "$page" = 200 ] || die "the dashboard page did not load (HTTP $page; see $HOME_DIR/receiver.log)"
curl -s "$DASHBOARD_URL/metrics" | grep -q '^antiban_number_health{phone_number_id="3000000001"}' ||
	die "the dashboard's /metrics has no number health (see $HOME_DIR/receiver.log)"
say "done. Connect: psql -h $HOME_DIR -p $PORT -d antiban   Stop: sh regress/demo.sh stop"
echo "== dashboard: $DASHBOARD_URL/   (Prometheus metrics: $DASHBOARD_URL/metrics; the demo keeps running until: sh regress/demo.sh stop)"
