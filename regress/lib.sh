# Shared shell helpers for antiban's scripts (POSIX sh).  Sourced, not run.

# Debian packages each job needs.  A fresh Debian 12 has none of them.
ANTIBAN_BUILD_PACKAGES="build-essential pkg-config postgresql-15 postgresql-server-dev-15 postgresql-15-cron libpq-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libjson-c-dev"
ANTIBAN_TEST_PACKAGES="libcmocka-dev libipc-run-perl curl"
ANTIBAN_BENCH_PACKAGES="redis-server redis-tools wrk"

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
