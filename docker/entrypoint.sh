#!/bin/sh
# antiban's container entrypoint: one image (docker/Dockerfile, built by the
# scripts CI runs), a role per service of docker/compose.yaml.
#   db         PostgreSQL 15 with antiban and pg_cron preloaded; on the first
#              start: initdb, the antiban database and extensions (pg_partman
#              keeping the webhook posts by month), secrets,
#              the receiver's login role and the pg_cron maintenance jobs
#   receiver   antiban-receiver, connecting to db as role "receiver"
#   simulator  the Cloud API simulator (compose profile "demo"), posting
#              signed status webhooks to the receiver
#   demo       sh regress/demo.sh, the README's main job (the default)
#   any other command is run as given
# Secrets are files (compose mounts them in /run/secrets; ANTIBAN_SECRETS_DIR
# moves that): db_password, receiver_password, app_secret,
# webhook_verify_token.  Their values never reach argv, the environment or
# the output.  ANTIBAN_DRY_RUN=1 prints what would be done instead of doing
# it: CI runs every role that way, without Docker, and the db role's first
# start for real with ANTIBAN_INIT_ONLY=1 (set up the cluster, do not serve).
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDATA=${PGDATA:-/var/lib/antiban/pgdata}
SECRETS=${ANTIBAN_SECRETS_DIR:-/run/secrets}
DB=${ANTIBAN_DB_NAME:-antiban}
PGPORT=${ANTIBAN_PG_PORT:-5432}
PGHOST=${ANTIBAN_PG_SOCKET_DIR:-/var/run/postgresql}
export PGPORT PGHOST
ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() { printf 'antiban entrypoint: %s\n' "$*" >&2; exit 1; }
dry() { [ "${ANTIBAN_DRY_RUN:-}" = 1 ]; }
# run CMD...: run it, or print it in a dry run
run() { if dry; then printf '+ %s\n' "$*"; else "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then run runuser -u postgres -- "$@"; else run "$@"; fi; }
# secret NAME: the path of a secret file, which must be readable and not empty
secret() {
	[ -s "$SECRETS/$1" ] && [ -r "$SECRETS/$1" ] ||
		die "secret $1 is missing: mount it as a file at $SECRETS/$1 (see docker/compose.yaml)"
	printf '%s' "$SECRETS/$1"
}
# write FILE: standard input into FILE (owned by postgres), or show it in a dry run
write() {
	if dry; then printf '+ cat > %s <<EOF\n' "$1"; cat; printf 'EOF\n'; return; fi
	cat > "$1"
	[ "$(id -u)" = 0 ] && chown postgres "$1"
	return 0
}

# Settings that follow the environment on every start.
db_settings() {
	write "$PGDATA/antiban-compose.conf" <<EOC
port = $PGPORT
unix_socket_directories = '$PGHOST'
antiban.graph_base_url = '${ANTIBAN_GRAPH_BASE_URL:-https://graph.facebook.com}'
antiban.sender_workers = ${ANTIBAN_SENDER_WORKERS:-1}
EOC
}

db_init() {
	# every secret is checked before anything is created
	password=$(secret db_password)
	app_secret=$(secret app_secret)
	verify_token=$(secret webhook_verify_token)
	receiver_password=$(secret receiver_password)
	run install -d -m 700 "$PGDATA"
	[ "$(id -u)" = 0 ] && run chown postgres "$PGDATA"
	as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres -A scram-sha-256 --pwfile="$password" -E UTF8 --locale=C.UTF-8
	write "$PGDATA/conf.d.antiban" <<'EOC'
listen_addresses = '*'
shared_preload_libraries = 'antiban, pg_cron'
antiban.database_name = 'antiban'
cron.database_name = 'antiban'
cron.use_background_workers = on
max_worker_processes = 16
include_if_exists = 'antiban-compose.conf'
EOC
	run sh -c "cat '$PGDATA/conf.d.antiban' >> '$PGDATA/postgresql.conf'"
	write "$PGDATA/pg_hba.conf" <<'EOC'
local all all               peer
host  all all 127.0.0.1/32  scram-sha-256
host  all all ::1/128       scram-sha-256
host  all all 0.0.0.0/0     scram-sha-256
host  all all ::/0          scram-sha-256
EOC
	db_settings
	# first start on the Unix socket only, to set antiban up
	as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses=''" start
	# secrets reach psql through its own file reads, never argv
	write "$PGDATA/antiban-setup.sql" <<EOS
\set ON_ERROR_STOP on
CREATE DATABASE $DB;
\c $DB
CREATE EXTENSION antiban;
CREATE EXTENSION pg_cron;
-- webhook posts by month, old months dropped whole (postgresql-15-partman)
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
SELECT antiban.manage_partitions();
\set value \`cat $app_secret\`
SELECT antiban.set_secret('app_secret', :'value');
\set value \`cat $verify_token\`
SELECT antiban.set_secret('webhook_verify_token', :'value');
\set value \`cat $receiver_password\`
CREATE ROLE receiver LOGIN PASSWORD :'value' IN ROLE antiban_receiver;
\unset value
SELECT job_name, schedule FROM antiban.schedule_maintenance();
EOS
	as_postgres "$PGBIN/psql" -X -q -d postgres -f "$PGDATA/antiban-setup.sql"
	run rm -f "$PGDATA/antiban-setup.sql" "$PGDATA/conf.d.antiban"
	as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -w -m fast stop
}

db() {
	if [ -s "$PGDATA/PG_VERSION" ]; then db_settings; else db_init; fi
	[ "${ANTIBAN_INIT_ONLY:-}" = 1 ] && return 0
	if dry; then printf '+ exec %s\n' "$PGBIN/postgres -D $PGDATA"; return; fi
	if [ "$(id -u)" = 0 ]; then exec runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA"; fi
	exec "$PGBIN/postgres" -D "$PGDATA"
}

receiver() {
	# the password goes through a private pgpass file, not the connection string
	pgpass=${ANTIBAN_PGPASS:-/tmp/antiban-receiver.pgpass}
	password=$(secret receiver_password)
	if dry; then
		printf '+ write %s: *:*:%s:receiver:<receiver_password> (mode 600)\n' "$pgpass" "$DB"
	else
		umask 077
		printf '*:*:%s:receiver:%s\n' "$DB" "$(cat "$password")" > "$pgpass"
	fi
	PGPASSFILE=$pgpass
	export PGPASSFILE
	run exec "$(command -v antiban-receiver || echo "$PGBIN/antiban-receiver")" --listen "${ANTIBAN_RECEIVER_LISTEN:-0.0.0.0}" \
		--port "${ANTIBAN_RECEIVER_PORT:-8080}" \
		--conninfo "host=${ANTIBAN_DB_HOST:-db} port=${ANTIBAN_DB_PORT:-5432} dbname=$DB user=receiver"
}

simulator() {
	# the simulator is a test double: its app secret (to sign webhooks) may sit in argv
	app_secret=$(secret app_secret)
	if dry; then
		printf '+ exec %s --listen 0.0.0.0 --port %s --webhook-url %s --app-secret <app_secret>\n' \
			"$ROOT/regress/simulator/antiban-sim" "${ANTIBAN_SIM_PORT:-8990}" \
			"${ANTIBAN_WEBHOOK_URL:-http://receiver:8080/webhook}"
		return
	fi
	exec "$ROOT/regress/simulator/antiban-sim" --listen 0.0.0.0 --port "${ANTIBAN_SIM_PORT:-8990}" \
		--webhook-url "${ANTIBAN_WEBHOOK_URL:-http://receiver:8080/webhook}" --app-secret "$(cat "$app_secret")"
}

role=${1:-demo}
case $role in
	db) db ;;
	receiver) receiver ;;
	simulator) simulator ;;
	demo) shift 2>/dev/null || true; run exec sh "$ROOT/regress/demo.sh" "$@" ;;
	*) run exec "$@" ;;
esac
