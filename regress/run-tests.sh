#!/bin/sh
# Runs every antiban test on this machine: C unit tests of src/core, the
# libFuzzer harnesses in regress/fuzz (about a minute each), the
# pg_regress cases in sql/ and the TAP tests in regress/t, each against a
# temporary preloaded PostgreSQL; then the README's main job (regress/demo.sh)
# from a clean clone of HEAD.  Installs what it needs (Debian 12).
# The last line is "N passed, M failed"; the exit status is 0 only if M is 0.
set -u
ANTIBAN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"

install_packages $ANTIBAN_BUILD_PACKAGES $ANTIBAN_TEST_PACKAGES
# The dashboard's Prometheus and browser tests skip, saying why, only when
# these cannot be had.
(install_packages $ANTIBAN_DASHBOARD_TEST_PACKAGES) ||
	say "could not install $ANTIBAN_DASHBOARD_TEST_PACKAGES: the dashboard's Prometheus and browser tests will skip"
build_and_install
# playwright-core drives Debian's /usr/bin/chromium (it downloads no browser).
(cd "$ANTIBAN_ROOT/regress/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
	say "npm ci in regress/browser failed: the browser test will skip"
passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

say "unit tests (src/core)"
unit_out=$(make -s -C "$ANTIBAN_ROOT" unit 2>&1)
echo "$unit_out" | grep -E '^\[  (FAILED|ERROR)|^unit:' >&2
unit_pass=$(echo "$unit_out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
unit_fail=$(echo "$unit_out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
count "${unit_pass:-0}" "${unit_fail:-1}"

# The C that reads untrusted bytes (payloads, recipients, the receiver's
# request handling) under libFuzzer with AddressSanitizer and UBSan, about
# a minute per harness (ANTIBAN_FUZZ_SECONDS); one test each.
if [ "${ANTIBAN_SKIP_FUZZ:-}" = 1 ]; then
	say "fuzzing: skipped (ANTIBAN_SKIP_FUZZ=1)"
else
	fuzz_out=$(sh "$ANTIBAN_ROOT/regress/fuzz/run.sh")
	echo "$fuzz_out" >&2
	fuzz_pass=$(echo "$fuzz_out" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	fuzz_fail=$(echo "$fuzz_out" | sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	count "${fuzz_pass:-0}" "${fuzz_fail:-1}"
fi

work=$(copy_tree_for_pg_user)
say "pg_regress and TAP tests in $work"
log="$work/installcheck.log"
# glibc fills freed memory with a pattern and keeps no per-thread free
# lists: a read of freed memory reads that pattern, not stale plausible
# bytes, and the test that made it fails (TAP 104 shows the kind).
run_as_pg_user env GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.perturb=165 \
	make -C "$work" installcheck PROVE_FLAGS=-v > "$log" 2>&1
# A log that vanished (the folder removed under us) counts as a failure, not as a crash of this script.
[ -f "$log" ] || { say "the test log $log is gone"; log=/dev/null; count 0 1; }
regress_pass=$(grep -cE '^(test| ) *[0-9a-z_]+ +\.\.\. ok' "$log")
regress_fail=$(grep -cE '^(test| ) *[0-9a-z_]+ +\.\.\. (FAILED|failed)' "$log")
tap_pass=$(grep -cE '^ok [0-9]+' "$log")
tap_fail=$(grep -cE '^not ok [0-9]+' "$log")
# A TAP file that dies before its plan leaves no "not ok": count it as a failure.
tap_dead=$(grep -cE '^(Dubious|Parse errors|Bad plan)' "$log")
count "$regress_pass" "$regress_fail"
count "$tap_pass" "$((tap_fail + tap_dead))"
grep -E '\.\.\. (ok|FAILED|failed)|^not ok|^(Dubious|Parse errors|Bad plan)|^Result:' "$log" >&2
if [ "$regress_fail" -gt 0 ] && [ -f "$work/regression.diffs" ]; then
	head -100 "$work/regression.diffs" >&2
fi
if [ "$((tap_fail + tap_dead))" -gt 0 ]; then
	grep -B2 -A12 -E '^not ok|Dubious' "$log" | head -80 >&2
	tail -30 "$work"/tmp_check/log/regress_log_* 2>/dev/null | head -60 >&2
fi
if [ "$((regress_pass + regress_fail + tap_pass + tap_fail))" -eq 0 ]; then
	tail -30 "$log" >&2
	count 0 1
fi
# Screenshots the tests took (the dashboard's) are kept in the project's tmp_check/.
if ls "$work"/tmp_check/*.png >/dev/null 2>&1; then
	mkdir -p "$ANTIBAN_ROOT/tmp_check"
	cp "$work"/tmp_check/*.png "$ANTIBAN_ROOT/tmp_check/"
	say "screenshots kept: $(cd "$ANTIBAN_ROOT" && ls tmp_check/*.png | tr '\n' ' ')"
fi
[ "${KEEP_TEST_DIR:-}" = 1 ] || [ "$failed" -gt 0 ] || rm -rf "$work"

# The README's main job, exactly as a newcomer runs it: a fresh clone of HEAD
# (untracked build output cannot hide a missing step) in a folder only root
# can enter, on its own port, then stopped.  Its verdict is counted here.
# ANTIBAN_SKIP_DEMO=1 leaves it out.
# demo_check RESULT LABEL: one test
demo_check() {
	if [ "$1" = 0 ]; then count 1 0; echo "ok - demo: $2" >&2
	else count 0 1; echo "not ok - demo: $2" >&2; fi
}
run_demo_from_clean_clone() {
	clone=$(mktemp -d /tmp/antiban-demo-check.XXXXXX)
	log="$clone.log"
	say "the main job (sh regress/demo.sh) from a clean clone of HEAD in $clone"
	if ! git clone -q "$ANTIBAN_ROOT" "$clone/main" 2>"$log"; then
		cat "$log" >&2
		demo_check 1 "clone the project"
		return
	fi
	(cd "$clone/main" && ANTIBAN_DEMO_PORT=${ANTIBAN_DEMO_PORT:-55478} sh regress/demo.sh) > "$log" 2>&1
	demo_status=$?
	verdict=$(sed -n 's/^== simulator ledger: //p' "$log")
	home=$(sed -n 's/^== starting PostgreSQL in \(.*\) (port [0-9]*)$/\1/p' "$log")
	(cd "$clone/main" && sh regress/demo.sh stop) >> "$log" 2>&1
	demo_check "$demo_status" "sh regress/demo.sh ran to its end (status $demo_status)"
	accepted=$(echo "$verdict" | sed -n 's/^\([0-9]*\) messages accepted, .*/\1/p')
	[ "${accepted:-0}" -gt 0 ]
	demo_check $? "the simulator accepted the campaign (${verdict:-no ledger line})"
	echo "$verdict" | grep -q ', 0 duplicates, '
	demo_check $? "no message reached the simulator twice"
	echo "$verdict" | grep -q ', 0 violations$'
	demo_check $? "no limit was violated"
	stopped=1
	if [ -n "$home" ]; then
		ensure_cluster_user
		as_cluster_user "$(pg_bindir)/pg_ctl" -D "$home/pgdata" status >/dev/null 2>&1
		[ $? = 3 ] && stopped=0
	fi
	demo_check $stopped "sh regress/demo.sh stop stopped its PostgreSQL"
	if [ "$demo_status" != 0 ] || [ -z "$verdict" ]; then tail -40 "$log" >&2; fi
	case $home in /var/tmp/antiban-*) rm -rf "$home" ;; esac
	rm -rf "$clone" "$log"
}
if [ "${ANTIBAN_SKIP_DEMO:-}" = 1 ]; then
	say "the main job from a clean clone: skipped (ANTIBAN_SKIP_DEMO=1)"
elif ! git -C "$ANTIBAN_ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	say "the main job from a clean clone: skipped (not a git checkout)"
else
	run_demo_from_clean_clone
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
