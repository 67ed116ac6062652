#!/bin/sh
# bench.sh [SECONDS] [CONNECTIONS] — measure antiban-sim with wrk: 100
# numbers at 1,000,000 mps, valid text messages (bench.lua).  Prints wrk's
# summary and the ledger's accepted/violation counts.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${1:-10}
CONNS=${2:-64}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/antiban-sim-bench.XXXXXX")
"$HERE/antiban-sim" --port 0 --port-file "$TMP/port" >/dev/null 2>"$TMP/err" &
SIM=$!
trap 'kill $SIM 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$TMP/port")"
cfg=$(awk 'BEGIN { printf "{\"numbers\":{"; for (i = 2001; i <= 2100; i++) printf "%s\"%d\":{\"throughput\":1000000}", (i > 2001 ? "," : ""), i; printf "}}" }')
curl -s -d "$cfg" "$BASE/_sim/config" >/dev/null
wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$HERE/bench.lua" "$BASE"
curl -s "$BASE/_sim/ledger" | grep -o '"accepted":[0-9]*\|"violations":{[^}]*}' | head -n 2
