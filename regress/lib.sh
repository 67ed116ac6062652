# Shared shell helpers for antiban's scripts (POSIX sh).  Sourced, not run.

# Debian packages each job needs.  A fresh Debian 12 has none of them.
# npm builds the dashboard page (front-end packages only): machines of this
# kind come with NodeSource's nodejs, which bundles npm; where npm is missing,
# Debian's nodejs and npm.
if command -v npm >/dev/null 2>&1; then ANTIBAN_NODE_PACKAGES=""; else ANTIBAN_NODE_PACKAGES="nodejs npm"; fi
ANTIBAN_BUILD_PACKAGES="build-essential pkg-config postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-partman libpq-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libjson-c-dev liblinear-dev $ANTIBAN_NODE_PACKAGES"
# (clang-14 and its compiler-rt: the libFuzzer harnesses in regress/fuzz)
# (python3-yaml, python3-jsonschema and docker-compose: regress/t/060_compose.pl checks docker/compose.yaml
# against the Compose schema docker-compose ships, with no Docker engine)
# (libio-socket-ssl-perl: the TLS server that offers HTTP/2 in regress/t/039_transport_retry.pl)
ANTIBAN_TEST_PACKAGES="libcmocka-dev libipc-run-perl libio-socket-ssl-perl curl clang-14 libclang-rt-14-dev python3-yaml python3-jsonschema docker-compose"
ANTIBAN_BENCH_PACKAGES="redis-server redis-tools wrk curl"
# The dashboard's tests (run-tests.sh): a real Prometheus scrapes /metrics,
# headless Chromium (driven by playwright-core from npm) loads the page.
ANTIBAN_DASHBOARD_TEST_PACKAGES="prometheus chromium fonts-dejavu-core"

say() { printf '%s\n' "== $*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else die "need root (or sudo) to run: $*"
	fi
}

# Install what is missing; CI always refreshes the package index first.
install_packages() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	if [ -z "$missing" ] && [ "${CI:-}" != true ]; then return 0; fi
	say "installing Debian packages:${missing:- (refreshing)}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
	[ -z "$missing" ] && return 0
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null \
		|| die "apt-get install failed for:$missing"
}

pg_bindir() { echo "$(pg_config --bindir)"; }

# Build and install the extension and the receiver as root; LLVM bitcode is off.
build_and_install() {
	say "building antiban"
	make -s -C "$ANTIBAN_ROOT" >/dev/null || die "build failed"
	as_root make -s -C "$ANTIBAN_ROOT" install >/dev/null || die "install failed"
}

# PostgreSQL refuses to run as root: work as 'postgres' on a copy it owns,
# in a folder whose parents it can traverse.
run_as_pg_user() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

copy_tree_for_pg_user() {
	dest=$(mktemp -d /tmp/antiban.XXXXXX)
	(cd "$ANTIBAN_ROOT" && tar --exclude=.git --exclude=./var -cf - .) | (cd "$dest" && tar -xf -)
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dest"
	chmod 755 "$dest"
	echo "$dest"
}

# ---- a local cluster in a folder of the project, run by an unprivileged user ----

ANTIBAN_USER=${ANTIBAN_USER:-antiban}

ensure_cluster_user() {
	[ "$(id -u)" = 0 ] || { ANTIBAN_USER=$(id -un); return 0; }
	id "$ANTIBAN_USER" >/dev/null 2>&1 && return 0
	say "creating system user $ANTIBAN_USER to run PostgreSQL (initdb refuses root)"
	useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin "$ANTIBAN_USER"
}

# (from /: the caller's folder may be one the cluster user cannot enter;
# every path given is absolute)
as_cluster_user() {
	if [ "$(id -u)" = 0 ]; then (cd / && runuser -u "$ANTIBAN_USER" -- "$@"); else "$@"; fi
}

# The project's var/ when the cluster user can reach it, else a folder in
# /var/tmp named after this checkout (two clones never share a cluster).
cluster_home() {
	home="$ANTIBAN_ROOT/var"
	mkdir -p "$home" 2>/dev/null || true
	[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$home" 2>/dev/null
	if ! as_cluster_user test -w "$home" 2>/dev/null; then
		home=/var/tmp/antiban-$ANTIBAN_USER-$(printf '%s' "$ANTIBAN_ROOT" | cksum | cut -d' ' -f1)
		mkdir -p "$home"
		[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$home"
		say "the project folder is not reachable by $ANTIBAN_USER; using $home"
	fi
	echo "$home"
}

# init_cluster HOME: initdb once, with antiban and pg_cron preloaded; per-run
# settings (the simulator's URL...) go in HOME/pgdata/antiban-demo.conf,
# which may be written once this has run.
init_cluster() {
	home=$1 bin=$(pg_bindir)
	if [ ! -f "$home/pgdata/PG_VERSION" ]; then
		as_cluster_user "$bin/initdb" -D "$home/pgdata" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null \
			|| die "initdb failed"
		as_cluster_user sh -c "cat >> '$home/pgdata/postgresql.conf'" <<EOC
# antiban demo settings (the port is given to pg_ctl at each start)
listen_addresses = ''
unix_socket_directories = '$home'
shared_preload_libraries = 'antiban, pg_cron'
antiban.database_name = 'antiban'
cron.database_name = 'antiban'
cron.use_background_workers = on
max_worker_processes = 16
EOC
	fi
	grep -q "antiban-demo.conf" "$home/pgdata/postgresql.conf" 2>/dev/null ||
		as_cluster_user sh -c "echo \"include_if_exists = 'antiban-demo.conf'\" >> '$home/pgdata/postgresql.conf'"
}

# start_cluster HOME PORT: init_cluster, then (re)start on PORT (a Unix
# socket in HOME only: no TCP port is taken).
start_cluster() {
	home=$1 port=$2 bin=$(pg_bindir)
	init_cluster "$home"
	stop_cluster "$home"
	reserve_huge_pages "$home"
	opts="-p $port"
	[ "${ANTIBAN_HUGE_PAGES:-}" = off ] && opts="$opts -c huge_pages=off"
	as_cluster_user "$bin/pg_ctl" -D "$home/pgdata" -l "$home/postgresql.log" -o "$opts" -w start >/dev/null \
		|| { tail -20 "$home/postgresql.log" >&2; release_huge_pages "$home"; die "PostgreSQL did not start"; }
	[ -z "${ANTIBAN_HUGE_PAGES:-}" ] || say "shared memory: $(cluster_pages "$home")"
}

stop_cluster() {
	as_cluster_user "$(pg_bindir)/pg_ctl" -D "$1/pgdata" -w stop -m fast >/dev/null 2>&1 || true
	release_huge_pages "$1"
}

# Huge pages for the benchmarks' clusters (ANTIBAN_HUGE_PAGES; the benchmarks
# set it from BENCH_HUGE_PAGES, on by default; README, "Huge pages"):
#   on    as root, before the cluster starts, add to the kernel's pool
#         (vm.nr_hugepages) the 2 MB pages its shared memory needs, and give
#         them back when it stops: PostgreSQL's huge_pages = try uses them;
#   off   start it with huge_pages = off: 4 kB pages, whatever the host has;
#   unset PostgreSQL's default (the demo, the tests).
# What was added is recorded in $HUGE_PAGES_RUN, root's own, with the pid of
# the script that added it (never in the cluster's folder, nor read from it:
# its owner, and any login that is a superuser of a trust-authenticated
# cluster, could rewrite what root then acts on), under a lock, so benchmarks
# running at once and the host's own pool add up; a record whose script is
# gone (a benchmark killed) is given back by the next.
HUGE_PAGES_RUN=/run/antiban-huge-pages

huge_pages_record() {
	printf '%s/%s' "$HUGE_PAGES_RUN" "$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
}

reserve_huge_pages() {
	[ "${ANTIBAN_HUGE_PAGES:-}" = on ] || return 0
	if [ "$(id -u)" != 0 ] || [ ! -w /proc/sys/vm/nr_hugepages ] ||
		! mkdir -p -m 700 "$HUGE_PAGES_RUN" 2>/dev/null || [ -L "$HUGE_PAGES_RUN" ]; then
		say "huge pages: none reserved (vm.nr_hugepages is not writable here); PostgreSQL takes what the kernel has free"
		return 0
	fi
	[ "$(as_cluster_user "$(pg_bindir)/postgres" -D "$1/pgdata" -C huge_pages 2>/dev/null)" != off ] || return 0
	hp_need=$(as_cluster_user "$(pg_bindir)/postgres" -D "$1/pgdata" -C shared_memory_size_in_huge_pages 2>/dev/null) || hp_need=
	# (at most a quarter of the memory: the figure comes from the cluster's own settings)
	hp_most=$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 2048 / 4))
	case $hp_need in
		'' | *[!0-9]*) say "huge pages: postgres -C could not size them; none reserved"; return 0 ;;
	esac
	[ "$hp_need" -le "$hp_most" ] || { say "huge pages: $hp_need pages is more than a quarter of the memory; none reserved"; return 0; }
	(
		flock 9
		release_stale_huge_pages
		hp_record=$(huge_pages_record "$1")
		[ ! -e "$hp_record" ] || exit 0
		hp_before=$(cat /proc/sys/vm/nr_hugepages)
		echo $((hp_before + hp_need)) > /proc/sys/vm/nr_hugepages 2>/dev/null || true
		hp_got=$(($(cat /proc/sys/vm/nr_hugepages) - hp_before))
		if [ "$hp_got" -lt "$hp_need" ]; then
			# PostgreSQL maps its segment on huge pages whole or not at all
			[ "$hp_got" -le 0 ] || echo "$hp_before" > /proc/sys/vm/nr_hugepages
			say "huge pages: the kernel had $hp_got of $hp_need to give; none kept"
			exit 0
		fi
		printf '%s %s\n' "$hp_need" "$$" > "$hp_record"
		hp_free=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
		[ "${hp_free:-0}" -ge "$hp_need" ] ||
			say "huge pages: $hp_free of the pool free (others still map theirs); PostgreSQL may fall back to 4 kB pages"
	) 9> "$HUGE_PAGES_RUN/lock"
}

release_huge_pages() {
	[ "$(id -u)" = 0 ] && [ -f "$(huge_pages_record "$1")" ] || return 0
	( flock 9; give_back_huge_pages "$(huge_pages_record "$1")" ) 9> "$HUGE_PAGES_RUN/lock"
}

# give_back_huge_pages RECORD (under the lock): what it added, no more than the pool holds
give_back_huge_pages() {
	read -r hp_n hp_owner < "$1" || hp_n=0
	case $hp_n in '' | *[!0-9]*) hp_n=0 ;; esac
	hp_now=$(cat /proc/sys/vm/nr_hugepages)
	[ "$hp_n" -le "$hp_now" ] || hp_n=$hp_now
	echo $((hp_now - hp_n)) > /proc/sys/vm/nr_hugepages 2>/dev/null || true
	rm -f "$1"
}

# (under the lock) records whose script no longer runs
release_stale_huge_pages() {
	for hp_r in "$HUGE_PAGES_RUN"/[0-9]*; do
		[ -f "$hp_r" ] || continue
		read -r hp_n hp_owner < "$hp_r" || hp_owner=
		case $hp_owner in '' | *[!0-9]*) ;; *) kill -0 "$hp_owner" 2>/dev/null && continue ;; esac
		give_back_huge_pages "$hp_r"
	done
}

# cluster_pages HOME: what backs the running cluster's shared memory, from its
# postmaster's smaps (its pid file read with a bound: its owner could make it
# a pipe); start_cluster and the benchmark headers say it
cluster_pages() {
	hp_pid=$(timeout 2 head -c 32 "$1/pgdata/postmaster.pid" 2>/dev/null | head -1) || hp_pid=
	case $hp_pid in '' | *[!0-9]*) echo "pages unknown"; return 0 ;; esac
	if timeout 5 grep -q '/anon_hugepage' "/proc/$hp_pid/smaps" 2>/dev/null; then
		echo "huge pages"
	else
		echo "4 kB pages"
	fi
}

cluster_psql() {
	home=$1 port=$2 db=$3
	shift 3
	as_cluster_user "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$home" -p "$port" -d "$db" "$@"
}

# cluster_wait HOME PORT DB CONDITION [SECONDS]: wait until the SQL boolean
# CONDITION holds, checking it every 0.2 s inside one session (each check in
# its own transaction); false after SECONDS (default 600) or when
# cluster_wait_cancel ends it.  A benchmark that polled with a psql per
# check (runuser, pg_config, a new backend five times a second) took a
# tenth of the machine from what it measured.
cluster_wait() {
	home=$1 port=$2 db=$3 cond=$4 limit=${5:-600}
	[ "$(cluster_psql "$home" "$port" "$db" -tA -c "SET application_name = 'antiban bench wait'" -c "
		DO \$wait\$ BEGIN
			FOR i IN 1 .. $limit * 5 LOOP
				EXIT WHEN ($cond);
				COMMIT;
				PERFORM pg_sleep(0.2);
				COMMIT;
			END LOOP;
		END \$wait\$" -c "SELECT ($cond)" 2>/dev/null)" = t ]
}

# cluster_wait_cancel HOME PORT: end every cluster_wait on that cluster
cluster_wait_cancel() {
	cluster_psql "$1" "$2" postgres -tA -c "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'antiban bench wait'" >/dev/null
}

# cluster_cpu HOME [TITLE]: CPU seconds the cluster in HOME has used so far:
# the postmaster, its children alive and those it reaped (benchmarks take the
# difference around a run: what it cost the database, whatever else the
# machine runs).  With TITLE, only the live children whose process title
# contains it (e.g. "antiban sender").
cluster_cpu() {
	pm=$(head -1 "$1/pgdata/postmaster.pid")
	for p in $pm $(ps -o pid= --ppid "$pm"); do
		[ -r "/proc/$p/stat" ] || continue
		if [ -n "${2:-}" ]; then
			[ "$p" != "$pm" ] && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2" || continue
		fi
		# (fields after the command name: utime, stime, then the reaped children's)
		sed 's/^.*) //' "/proc/$p/stat" | awk -v own="$([ "$p" = "$pm" ] && [ -z "${2:-}" ] && echo 1)" \
			'{ t = $12 + $13; if (own) t += $14 + $15; print t }'
	done | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.2f\n", s / hz }'
}

# process_cpu PIDFILE: CPU seconds (user + system) of the process whose pid
# the file holds (a start_process one), 0 when it is gone
process_cpu() {
	pid=$(cat "$1" 2>/dev/null || true)
	if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
		sed 's/^.*) //' "/proc/$pid/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / hz }'
	else
		echo 0
	fi
}

# machine_idle: the machine's idle CPU seconds so far, all cores (/proc/stat)
machine_idle() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f\n", ($5 + $6) / hz }' /proc/stat
}

# work_dir NAME: a fresh directory under /tmp the cluster user can write to
work_dir() {
	dir=$(mktemp -d "/tmp/antiban-$1.XXXXXX")
	chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown "$ANTIBAN_USER" "$dir"
	echo "$dir"
}

# start_process HOME NAME PROGRAM ARGS...: in the background, on a free port
# (the program takes --port 0 --port-file); prints its URL.  The pid is kept
# in HOME/NAME.pid, so this may run in a command substitution.
start_process() {
	home=$1 name=$2
	shift 2
	stop_process "$home" "$name"
	"$@" --port 0 --port-file "$home/$name.port" >> "$home/$name.log" 2>&1 &
	echo $! > "$home/$name.pid"
	i=0; while [ ! -s "$home/$name.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$home/$name.port" ] || { tail -5 "$home/$name.log" >&2; die "the $name did not start"; }
	echo "http://127.0.0.1:$(cat "$home/$name.port")"
}

# stop_process HOME NAME: stop what start_process started and wait (10 s at
# most) until it has finished what it was doing
stop_process() {
	if [ -f "$1/$2.pid" ]; then
		pid=$(cat "$1/$2.pid")
		kill "$pid" 2>/dev/null || true
		i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	rm -f "$1/$2.pid" "$1/$2.port"
}
