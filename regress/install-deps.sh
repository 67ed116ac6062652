#!/bin/sh
# Installs the Debian packages antiban needs: install-deps.sh [build] [test] [dashboard] [bench]
set -eu
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
packages=""
for set in "${@:-build}"; do
	case $set in
		build) packages="$packages $ANTIBAN_BUILD_PACKAGES" ;;
		test) packages="$packages $ANTIBAN_TEST_PACKAGES" ;;
		dashboard) packages="$packages $ANTIBAN_DASHBOARD_TEST_PACKAGES" ;;
		bench) packages="$packages $ANTIBAN_BENCH_PACKAGES" ;;
		*) die "unknown package set '$set' (build, test, dashboard, bench)" ;;
	esac
done
install_packages $packages
