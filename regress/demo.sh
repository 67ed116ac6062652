#!/bin/sh
# The main job: installs what antiban needs (Debian 12), builds and installs
# it, starts a local PostgreSQL in var/ of the project (as an unprivileged
# user), creates the extension and runs the demo in regress/demo.sql.
#   sh regress/demo.sh          set up and run the demo (re-runnable)
#   sh regress/demo.sh stop     stop the demo's PostgreSQL
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
PORT=${ANTIBAN_DEMO_PORT:-5499}

if [ "${1:-}" = stop ]; then
	ensure_cluster_user
	stop_cluster "$(cluster_home)"
	exit 0
fi

install_packages $ANTIBAN_BUILD_PACKAGES
build_and_install
ensure_cluster_user
HOME_DIR=$(cluster_home)
say "starting PostgreSQL in $HOME_DIR (port $PORT)"
start_cluster "$HOME_DIR" "$PORT"
cluster_psql "$HOME_DIR" "$PORT" postgres -c "DROP DATABASE IF EXISTS antiban WITH (FORCE)" -c "CREATE DATABASE antiban"
cluster_psql "$HOME_DIR" "$PORT" antiban -c "CREATE EXTENSION antiban" -c "CREATE EXTENSION pg_cron"
# The journal writer (re)connects within seconds of the database appearing;
# until it has read how the last run ended, new buckets start empty.
i=0
while [ $i -lt 40 ] && [ "$(cluster_psql "$HOME_DIR" "$PORT" antiban -tAc \
	"SELECT previous_shutdown FROM antiban.journal_stats()")" = unknown ]; do
	sleep 0.25; i=$((i + 1))
done
say "running the demo"
cluster_psql "$HOME_DIR" "$PORT" antiban -f "$ANTIBAN_ROOT/regress/demo.sql"
say "done. Connect: psql -h $HOME_DIR -p $PORT -d antiban   Stop: sh regress/demo.sh stop"
