#!/bin/sh
# Runs every libFuzzer harness in regress/fuzz (fuzz_NAME.c, built by
# `make fuzz` into regress/fuzz/bin) for ANTIBAN_FUZZ_SECONDS each (60 by
# default), from the seeds in regress/fuzz/corpus/NAME when there are any.
# New inputs go to a scratch folder: the committed seeds do not change.
# One test per harness: passed when it ran with no crash, leak, hang or
# out-of-memory; otherwise the input that did it is printed in base64
# (replay: base64 -d > x; regress/fuzz/bin/fuzz_NAME x).
# The last line is "fuzz: N passed, M failed".
#   sh regress/fuzz/run.sh [NAME...]
set -u
ANTIBAN_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ANTIBAN_ROOT/regress/lib.sh"
SECONDS_EACH=${ANTIBAN_FUZZ_SECONDS:-60}
FUZZ="$ANTIBAN_ROOT/regress/fuzz"
passed=0
failed=0

names=${*:-$(cd "$FUZZ" && ls fuzz_*.c | sed 's/^fuzz_\(.*\)\.c$/\1/')}
if ! make -s -C "$ANTIBAN_ROOT" fuzz >&2; then
	say "the fuzz harnesses did not build (clang-14 and libclang-rt-14-dev are needed)"
	for name in $names; do echo "not ok - fuzz $name: not built" >&2; done
	echo "fuzz: 0 passed, $(echo $names | wc -w) failed"
	exit 1
fi

for name in $names; do
	scratch=$(mktemp -d /tmp/antiban-fuzz-$name.XXXXXX)
	seeds=""
	[ -d "$FUZZ/corpus/$name" ] && seeds="$FUZZ/corpus/$name"
	mkdir -p "$scratch/corpus"
	say "fuzzing $name for $SECONDS_EACH s"
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway
	# allocation is a failure, not a machine swapping.
	"$FUZZ/bin/fuzz_$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$scratch/" \
		"$scratch/corpus" $seeds > "$scratch/log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/log")
	found=$(ls "$scratch" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
	if [ "$status" = 0 ] && [ -z "$found" ] && [ -n "$runs" ]; then
		passed=$((passed + 1))
		echo "ok - fuzz $name: ${runs} inputs in $SECONDS_EACH s, 0 crashes" >&2
		rm -rf "$scratch"
	else
		failed=$((failed + 1))
		echo "not ok - fuzz $name: exit status $status after ${runs:-?} inputs" >&2
		grep -E -A25 '^==[0-9]+==ERROR|runtime error|^(fuzz|receiver|recipient|payload)' "$scratch/log" | head -40 >&2
		for f in $found; do
			echo "# $f (base64):" >&2
			base64 -w0 "$scratch/$f" >&2
			echo >&2
		done
		[ -n "$found" ] || tail -20 "$scratch/log" >&2
		echo "# kept in $scratch" >&2
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
