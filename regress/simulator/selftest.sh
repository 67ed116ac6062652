#!/bin/sh
# selftest.sh — start antiban-sim on free ports and exercise every feature
# with curl.  Prints one line per check and, last, "selftest: N passed, M
# failed"; exits non-zero when anything failed.
#
# Needs: curl, grep, sed, awk, openssl (for an independent HMAC check).
# SIM_WRAPPER runs the simulator under a tool, e.g.
#   SIM_WRAPPER="valgrind --error-exitcode=99 --leak-check=full" ./selftest.sh
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SIM="$HERE/antiban-sim"
WRAP=${SIM_WRAPPER:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/antiban-sim-selftest.XXXXXX")
TOKEN=s3lftest-token
SECRET=app-s3cret
PASS=0
FAIL=0
SIM_PID=
BASE=

# ---- reporting ---------------------------------------------------------

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
not_ok() {
	FAIL=$((FAIL + 1))
	echo "FAIL - $1"
	[ -n "${2:-}" ] && echo "       got: $(printf '%s' "$2" | cut -c1-400)"
	return 0
}

# check NAME EXPECTED ACTUAL — equality
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi
}

# check_has NAME NEEDLE HAYSTACK — substring
check_has() {
	case $3 in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "[$2] not in [$3]" ;;
	esac
}

# check_lacks NAME NEEDLE HAYSTACK
check_lacks() {
	case $3 in
	*"$2"*) not_ok "$1" "[$2] unexpectedly in [$3]" ;;
	*) ok "$1" ;;
	esac
}

# check_cmp NAME A OP B — numeric comparison (-ge, -le, -gt, -eq ...)
check_cmp() {
	if [ -n "$2" ] && [ -n "$4" ] && [ "$2" "$3" "$4" ] 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1" "[$2] $3 [$4] is false"
	fi
}

# ---- JSON without jq ------------------------------------------------------

# jget KEY [TEXT] — value of the first "KEY": in TEXT (default $RESP)
jget() {
	printf '%s' "${2-$RESP}" |
		grep -o "\"$1\":\(\"[^\"]*\"\|-\{0,1\}[0-9.]*\|true\|false\|null\)" |
		head -n 1 | sed "s/^\"$1\"://; s/^\"//; s/\"\$//"
}

# after MARKER [TEXT] — TEXT from just after the first MARKER
after() {
	printf '%s' "${2-$RESP}" | awk -v m="$1" '{ i = index($0, m); if (i) { print substr($0, i + length(m)); found = 1; exit } }'
}

# ---- HTTP ----------------------------------------------------------------

# api METHOD PATH [BODY] — Graph call with the bearer token; sets CODE, RESP
api() {
	if [ -n "${3:-}" ]; then
		CODE=$(curl -s -m 20 -o "$TMP/resp" -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			--data-binary "$3" "$BASE$2")
	else
		CODE=$(curl -s -m 20 -o "$TMP/resp" -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $TOKEN" "$BASE$2")
	fi
	RESP=$(cat "$TMP/resp" 2>/dev/null)
}

# sim METHOD PATH [BODY] — control API; sets CODE, RESP
sim() {
	if [ -n "${3:-}" ]; then
		CODE=$(curl -s -m 20 -o "$TMP/resp" -w '%{http_code}' -X "$1" --data-binary "$3" "$BASE/_sim/$2")
	else
		CODE=$(curl -s -m 20 -o "$TMP/resp" -w '%{http_code}' -X "$1" "$BASE/_sim/$2")
	fi
	RESP=$(cat "$TMP/resp" 2>/dev/null)
}

# send NUMBER BODY — POST a message
send() { api POST "/v24.0/$1/messages" "$2"; }

text_msg() { # TO [CALLBACK]
	if [ -n "${2:-}" ]; then
		printf '{"messaging_product":"whatsapp","to":"%s","type":"text","text":{"body":"hello"},"biz_opaque_callback_data":"%s"}' "$1" "$2"
	else
		printf '{"messaging_product":"whatsapp","to":"%s","type":"text","text":{"body":"hello"}}' "$1"
	fi
}

tpl_msg() { # TO NAME [LANG] [CALLBACK]
	printf '{"messaging_product":"whatsapp","to":"%s","type":"template","template":{"name":"%s","language":{"code":"%s"}}%s}' \
		"$1" "$2" "${3:-en_US}" "${4:+,\"biz_opaque_callback_data\":\"$4\"}"
}

# burst N NUMBER BODY — N sends over one keep-alive connection; prints codes
burst() {
	n=$1; url="$BASE/v24.0/$2/messages"; body=$3
	set --
	i=0
	while [ $i -lt "$n" ]; do set -- "$@" -o /dev/null "$url"; i=$((i + 1)); done
	curl -s -m 30 -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" --data-binary "$body" "$@"
}

count_of() { printf '%s\n' "$2" | grep -c "^$1\$"; }

ledger() { sim GET ledger; }

# repeat_str N STRING
repeat_str() { awk -v n="$1" -v s="$2" 'BEGIN { r = ""; for (i = 0; i < n; i++) r = r s; printf "%s", r }'; }

# wait_for DESCRIPTION SECONDS COMMAND... — poll until COMMAND succeeds
wait_for() {
	what=$1; secs=$2; shift 2
	i=0
	while [ $i -lt $((secs * 10)) ]; do
		if "$@"; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "       (timed out waiting for $what)"
	return 1
}

# ---- process control --------------------------------------------------------

start_sim() {
	rm -f "$TMP/port"
	# shellcheck disable=SC2086
	$WRAP "$SIM" --port 0 --port-file "$TMP/port" "$@" >"$TMP/sim.out" 2>>"$TMP/sim.err" &
	SIM_PID=$!
	i=0
	while [ ! -s "$TMP/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if [ ! -s "$TMP/port" ]; then
		echo "selftest: simulator did not start"; cat "$TMP/sim.err"
		return 1
	fi
	BASE="http://127.0.0.1:$(cat "$TMP/port")"
}

# stop_sim — SIGTERM; sets STOP_RC (124 when it did not exit in 30 s)
stop_sim() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	i=0
	while kill -0 "$SIM_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$SIM_PID" 2>/dev/null; then
		kill -KILL "$SIM_PID" 2>/dev/null
		STOP_RC=124
	else
		wait "$SIM_PID"
		STOP_RC=$?
	fi
	SIM_PID=
}

cleanup() {
	[ -n "$SIM_PID" ] && kill -KILL "$SIM_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SIM" ] || { echo "selftest: build antiban-sim first (make)"; echo "selftest: 0 passed, 1 failed"; exit 1; }

# ==== command line =========================================================

HELP=$("$SIM" --help)
missing=
for opt in listen port port-file threads version-prefix token strict-numbers \
	default-throughput pair-capacity pair-refill-seconds marketing-cap mgmt-limit config \
	fail-rate error-rate-2 slow-rate slow-ms drop-rate lost-reply-rate seed webhook-url \
	app-secret webhook-batch webhook-delay-ms read-rate webhook-concurrency webhook-retry-ms \
	webhook-retry-max-ms ledger-file max-ledger verbose help version; do
	case $HELP in *"--$opt"*) ;; *) missing="$missing $opt" ;; esac
done
check "--help documents every option" "" "$missing"
"$SIM" --no-such-option >/dev/null 2>&1
check "an unknown option exits with status 2" 2 $?
"$SIM" --fail-rate 2 >/dev/null 2>&1
check "an out-of-range share exits with status 2" 2 $?

# ==== main instance ========================================================

start_sim --token "$TOKEN" --seed 42 --app-secret "$SECRET" --webhook-delay-ms 20 \
	--ledger-file "$TMP/ledger.jsonl" || { echo "selftest: 0 passed, 1 failed"; exit 1; }

sim GET health
check "GET /_sim/health answers ok" "ok" "$RESP"

# ---- auth ------------------------------------------------------------------
CODE=$(curl -s -o "$TMP/resp" -w '%{http_code}' --data-binary "$(text_msg +15551230001)" "$BASE/v24.0/1001/messages")
RESP=$(cat "$TMP/resp")
check "no bearer token: HTTP 401" 401 "$CODE"
check "no bearer token: code 190" 190 "$(jget code)"
check "no bearer token: type OAuthException" OAuthException "$(jget type)"
check_has "no bearer token: message" "Invalid OAuth access token" "$(jget message)"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' --data-binary "$(text_msg +15551230001)" "$BASE/v24.0/1001/messages")
check "wrong bearer token: HTTP 401" 401 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$(text_msg +15551230001)" "$BASE/v24.0/1001/messages?access_token=$TOKEN")
check "access_token query parameter accepted" 200 "$CODE"

# ---- successful sends ------------------------------------------------------
send 1001 "$(text_msg '+55 (11) 91234-5678')"
check "text send: HTTP 200" 200 "$CODE"
check "text send: messaging_product" whatsapp "$(jget messaging_product)"
check "text send: contacts[].input echoes 'to' as given" "+55 (11) 91234-5678" "$(jget input)"
check "text send: contacts[].wa_id is the digits" 5511912345678 "$(jget wa_id)"
check_has "text send: messages[].id is a wamid" '"id":"wamid.' "$RESP"
check_lacks "text send: no message_status for non-templates" message_status "$RESP"
WAMID1=$(jget id)
send 1001 "$(text_msg +5511912345678)"
check_lacks "wamids are unique" "$WAMID1" "$RESP"

send 1001 "$(tpl_msg +5511912345678 hello_world)"
check "template send: HTTP 200" 200 "$CODE"
check "template send: message_status accepted" accepted "$(jget message_status)"

api POST /v23.0/1001/messages "$(text_msg +15551230002)"
check "any /vNN.N/ prefix is accepted" 200 "$CODE"
api POST /1001/messages "$(text_msg +15551230002)"
check "no version prefix is accepted" 200 "$CODE"

send 1001 '{"messaging_product":"whatsapp","to":"US.13491208655302741918","type":"text","text":{"body":"hi"}}'
check "BSUID recipient: HTTP 200" 200 "$CODE"
check "BSUID recipient: wa_id is empty" "" "$(jget wa_id)"

send 1001 '{"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN123"}'
check "mark as read: {\"success\":true}" '{"success":true}' "$RESP"
send 1001 '{"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN123","typing_indicator":{"type":"text"}}'
check "mark as read with typing indicator" '{"success":true}' "$RESP"

for body in \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"image","image":{"link":"https://example.com/a.jpg","caption":"c"}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"document","document":{"id":"123","filename":"a.pdf"}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"audio","audio":{"id":"123","voice":true}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"sticker","sticker":{"id":"123"}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"video","video":{"link":"https://example.com/v.mp4"}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"location","location":{"latitude":-23.5,"longitude":"-46.6","name":"SP"}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"contacts","contacts":[{"name":{"formatted_name":"Ana"},"phones":[{"phone":"+1555"}]}]}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"reaction","reaction":{"message_id":"wamid.X","emoji":""}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"interactive","interactive":{"type":"button","body":{"text":"Pick"},"footer":{"text":"f"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"Yes"}},{"type":"reply","reply":{"id":"b","title":"No"}}]}}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"interactive","interactive":{"type":"list","body":{"text":"Pick"},"action":{"button":"Choose","sections":[{"title":"S1","rows":[{"id":"r1","title":"One","description":"d"}]},{"title":"S2","rows":[{"id":"r2","title":"Two"}]}]}}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"interactive","interactive":{"type":"cta_url","body":{"text":"Go"},"action":{"name":"cta_url","parameters":{"display_text":"Open","url":"https://example.com"}}}}' \
	'{"messaging_product":"whatsapp","to":"+15551230003","type":"template","template":{"name":"t","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":1000}}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"STOP"}]}]}}'; do
	send 1004 "$body"
	kind=$(jget type "$body")
	[ "$kind" = interactive ] && kind="interactive $(jget type "$(after '"interactive":' "$body")")"
	check "valid $kind payload accepted" 200 "$CODE"
done

# ---- validation errors ----------------------------------------------------------
# expect_error NAME CODE DETAIL-SUBSTRING BODY
expect_error() {
	send 1002 "$4"
	if [ "$CODE" = 400 ] && [ "$(jget code)" = "$2" ]; then
		case $(jget details) in
		*"$3"*) ok "$1" ;;
		*) not_ok "$1: details" "$RESP" ;;
		esac
	else
		not_ok "$1: HTTP 400 code $2" "$CODE $RESP"
	fi
}
L4096=$(repeat_str 4096 a)
expect_error "missing messaging_product -> 131008" 131008 messaging_product '{"to":"+15551230004","text":{"body":"x"}}'
expect_error "messaging_product not whatsapp -> 100" 100 messaging_product '{"messaging_product":"sms","to":"+15551230004","text":{"body":"x"}}'
expect_error "missing to -> 131008" 131008 "parameter to" '{"messaging_product":"whatsapp","text":{"body":"x"}}'
expect_error "bad to -> 131009" 131009 "to" '{"messaging_product":"whatsapp","to":"12!!","text":{"body":"x"}}'
expect_error "unknown type -> 100" 100 "Param type" '{"messaging_product":"whatsapp","to":"+15551230004","type":"fax","fax":{}}'
expect_error "type object missing -> 131008" 131008 "image" '{"messaging_product":"whatsapp","to":"+15551230004","type":"image"}'
expect_error "text body missing -> 131008" 131008 "text['body']" '{"messaging_product":"whatsapp","to":"+15551230004","type":"text","text":{}}'
expect_error "text body 4097 chars -> 100" 100 "at most 4096" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"text\":{\"body\":\"${L4096}b\"}}"
send 1002 "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"text\":{\"body\":\"$L4096\"}}"
check "text body of exactly 4096 chars accepted" 200 "$CODE"
send 1002 "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"text\":{\"body\":\"$(repeat_str 4096 'é')\"}}"
check "4096 two-byte chars accepted (chars, not bytes)" 200 "$CODE"
expect_error "text body as number -> 100" 100 "must be a string" '{"messaging_product":"whatsapp","to":"+15551230004","text":{"body":5}}'
expect_error "media with id and link -> 131009" 131009 "only one of id or link" '{"messaging_product":"whatsapp","to":"+15551230004","type":"image","image":{"id":"1","link":"https://x/y.png"}}'
expect_error "media with neither id nor link -> 131008" 131008 "image['id']" '{"messaging_product":"whatsapp","to":"+15551230004","type":"image","image":{"caption":"c"}}'
B4='{"type":"reply","reply":{"id":"a","title":"A"}},{"type":"reply","reply":{"id":"b","title":"B"}},{"type":"reply","reply":{"id":"c","title":"C"}},{"type":"reply","reply":{"id":"d","title":"D"}}'
expect_error "4 reply buttons -> 131009" 131009 "between 1 and 3" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"button\",\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":[$B4]}}}"
expect_error "button title 21 chars -> 100" 100 "at most 20" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"button\",\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":[{\"type\":\"reply\",\"reply\":{\"id\":\"a\",\"title\":\"$(repeat_str 21 t)\"}}]}}}"
expect_error "interactive body 1025 chars -> 100" 100 "at most 1024" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"button\",\"body\":{\"text\":\"$(repeat_str 1025 b)\"},\"action\":{\"buttons\":[{\"type\":\"reply\",\"reply\":{\"id\":\"a\",\"title\":\"A\"}}]}}}"
expect_error "interactive footer 61 chars -> 100" 100 "at most 60" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"button\",\"body\":{\"text\":\"b\"},\"footer\":{\"text\":\"$(repeat_str 61 f)\"},\"action\":{\"buttons\":[{\"type\":\"reply\",\"reply\":{\"id\":\"a\",\"title\":\"A\"}}]}}}"
expect_error "duplicate button ids -> 131009" 131009 "duplicate button id" '{"messaging_product":"whatsapp","to":"+15551230004","type":"interactive","interactive":{"type":"button","body":{"text":"b"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}},{"type":"reply","reply":{"id":"a","title":"B"}}]}}}'
SEC='{"title":"s","rows":[{"id":"ID","title":"t"}]}'
S11=$(i=0; while [ $i -lt 11 ]; do [ $i -gt 0 ] && printf ','; printf '%s' "$SEC" | sed "s/ID/r$i/"; i=$((i + 1)); done)
expect_error "list with 11 sections -> 131009" 131009 "between 1 and 10 sections" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\",\"sections\":[$S11]}}}"
R11=$(i=0; while [ $i -lt 11 ]; do [ $i -gt 0 ] && printf ','; printf '{"id":"r%d","title":"t"}' $i; i=$((i + 1)); done)
expect_error "list with 11 rows in total -> 131009" 131009 "at most 10 rows" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\",\"sections\":[{\"title\":\"s\",\"rows\":[$R11]}]}}}"
expect_error "list button 21 chars -> 100" 100 "at most 20" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"$(repeat_str 21 g)\",\"sections\":[$SEC]}}}"
expect_error "row title 25 chars -> 100" 100 "at most 24" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\",\"sections\":[{\"rows\":[{\"id\":\"r\",\"title\":\"$(repeat_str 25 t)\"}]}]}}}"
expect_error "row description 73 chars -> 100" 100 "at most 72" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"type\":\"interactive\",\"interactive\":{\"type\":\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\",\"sections\":[{\"rows\":[{\"id\":\"r\",\"title\":\"t\",\"description\":\"$(repeat_str 73 d)\"}]}]}}}"
expect_error "template without name -> 131008" 131008 "template['name']" '{"messaging_product":"whatsapp","to":"+15551230004","type":"template","template":{"language":{"code":"en"}}}'
expect_error "template without language.code -> 131008" 131008 "template['language']['code']" '{"messaging_product":"whatsapp","to":"+15551230004","type":"template","template":{"name":"t","language":{}}}'
# template parameters by type, button sub_types and indexes (what Meta refuses)
TPL='{"messaging_product":"whatsapp","to":"+15551230004","type":"template","template":{"name":"t","language":{"code":"pt_BR"},"components":'
expect_error "currency without amount_1000 -> 131008" 131008 "amount_1000" "$TPL"'[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"R$1","code":"BRL"}}]}]}}'
expect_error "currency code not ISO 4217 -> 131009" 131009 "ISO 4217" "$TPL"'[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"R$1","code":"real","amount_1000":1000}}]}]}}'
expect_error "date_time without fallback_value -> 131008" 131008 "fallback_value" "$TPL"'[{"type":"body","parameters":[{"type":"date_time","date_time":{}}]}]}}'
expect_error "media parameter without its object -> 131008" 131008 "['image']" "$TPL"'[{"type":"header","parameters":[{"type":"image"}]}]}}'
expect_error "media parameter with neither id nor link -> 131008" 131008 "['image']['id']" "$TPL"'[{"type":"header","parameters":[{"type":"image","image":{"caption":"c"}}]}]}}'
expect_error "unknown parameter type -> 100" 100 "must be one of {TEXT, CURRENCY" "$TPL"'[{"type":"body","parameters":[{"type":"emoji","emoji":"x"}]}]}}'
expect_error "image parameter in a body -> 132012" 132012 "does not fit a body" "$TPL"'[{"type":"body","parameters":[{"type":"image","image":{"id":"1"}}]}]}}'
expect_error "body text parameter with a new line -> 131009" 131009 "new-line" "$TPL"'[{"type":"body","parameters":[{"type":"text","text":"a\nb"}]}]}}'
expect_error "unknown button sub_type -> 100" 100 "must be one of {QUICK_REPLY" "$TPL"'[{"type":"button","sub_type":"call","index":"0","parameters":[{"type":"text","text":"x"}]}]}}'
expect_error "button index 10 -> 131009" 131009 "index from 0 to 9" "$TPL"'[{"type":"button","sub_type":"url","index":"10","parameters":[{"type":"text","text":"x"}]}]}}'
expect_error "quick reply with a text parameter -> 132012" 132012 "does not fit a quick_reply" "$TPL"'[{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"text","text":"x"}]}]}}'
expect_error "flow button without its action -> 131008" 131008 "['action']" "$TPL"'[{"type":"button","sub_type":"flow","index":"0","parameters":[{"type":"action"}]}]}}'
# interactive: media headers carry their media; products their catalog fields
IA='{"messaging_product":"whatsapp","to":"+15551230004","type":"interactive","interactive":'
expect_error "image header without its image -> 131008" 131008 "['header']['image']" "$IA"'{"type":"cta_url","header":{"type":"image"},"body":{"text":"b"},"action":{"name":"cta_url","parameters":{"display_text":"Open","url":"https://example.com"}}}}'
expect_error "product without catalog_id -> 131008" 131008 "catalog_id" "$IA"'{"type":"product","action":{"product_retailer_id":"SKU-1"}}}'
expect_error "product_list item without product_retailer_id -> 131008" 131008 "product_retailer_id" "$IA"'{"type":"product_list","header":{"type":"text","text":"h"},"body":{"text":"b"},"action":{"catalog_id":"9","sections":[{"title":"s","product_items":[{}]}]}}}'
expect_error "product_list with an image header -> 100" 100 "{TEXT}" "$IA"'{"type":"product_list","header":{"type":"image","image":{"id":"1"}},"body":{"text":"b"},"action":{"catalog_id":"9","sections":[{"title":"s","product_items":[{"product_retailer_id":"SKU-1"}]}]}}}'
expect_error "duplicate row ids across sections -> 131009" 131009 "duplicate row id" "$IA"'{"type":"list","body":{"text":"b"},"action":{"button":"Go","sections":[{"title":"a","rows":[{"id":"r","title":"t"}]},{"title":"b","rows":[{"id":"r","title":"u"}]}]}}}'
send 1002 "$IA"'{"type":"product","action":{"catalog_id":"9","product_retailer_id":"SKU-1"}}}'
check "a single product with its catalog fields is accepted" 200 "$CODE"
expect_error "mark as read with a blank message id -> 100" 100 "message_id" '{"messaging_product":"whatsapp","status":"read","message_id":"  "}'
expect_error "location without latitude -> 131008" 131008 latitude '{"messaging_product":"whatsapp","to":"+15551230004","type":"location","location":{"longitude":1}}'
expect_error "empty contacts -> 131009" 131009 contacts '{"messaging_product":"whatsapp","to":"+15551230004","type":"contacts","contacts":[]}'
expect_error "callback data of 513 chars -> 100" 100 "at most 512" "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"text\":{\"body\":\"x\"},\"biz_opaque_callback_data\":\"$(repeat_str 513 c)\"}"
send 1002 "{\"messaging_product\":\"whatsapp\",\"to\":\"+15551230004\",\"text\":{\"body\":\"x\"},\"biz_opaque_callback_data\":\"$(repeat_str 512 c)\"}"
check "callback data of 512 chars accepted" 200 "$CODE"
send 1002 '{"messaging_product":"whatsapp","to":"+5511","text":{"body":"x"}}'
check_has "error bodies carry fbtrace_id" '"fbtrace_id":"' "$RESP"
check_has "error bodies carry error_data.messaging_product" '"error_data":{"messaging_product":"whatsapp"' "$RESP"

# ---- garbage input -----------------------------------------------------------
send 1002 '{"messaging_product":"whatsapp","to":"+1555'
check "truncated JSON: HTTP 400 code 100" "400 100" "$CODE $(jget code)"
printf '{"messaging_product":"whatsapp","to":"+15551230004","text":{"body":"\377\376"}}' >"$TMP/bad-utf8"
CODE=$(curl -s -o "$TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" --data-binary @"$TMP/bad-utf8" "$BASE/v24.0/1002/messages")
check "non-UTF-8 body: HTTP 400" 400 "$CODE"
send 1002 '{"messaging_product":"whatsapp","to":"+15551230004","text":{"body":"x"}} trailing'
check "trailing garbage: HTTP 400" 400 "$CODE"
send 1002 '[1,2,3]'
check "JSON array body: HTTP 400 code 100" "400 100" "$CODE $(jget code)"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/v24.0/1002/messages")
check "empty body: HTTP 400" 400 "$CODE"
head -c 3200000 /dev/zero | tr '\0' 'x' >"$TMP/huge"
CODE=$(curl -s -m 30 -o "$TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" --data-binary @"$TMP/huge" "$BASE/v24.0/1002/messages")
check "body over 3 MB: HTTP 413" 413 "$CODE"
CODE=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/huge" "$BASE/v24.0/1002/messages")
check "chunked body over 3 MB: HTTP 413" 413 "$CODE"
api GET /v24.0/1002/messages/extra/parts
check "unknown path: HTTP 400 code 2500" "400 2500" "$CODE $(jget code)"
api GET /v24.0/1002/messages
check "GET on the messages edge: code 100 (unsupported)" "400 100" "$CODE $(jget code)"
sim GET health
check "server still healthy after garbage" ok "$RESP"

# ---- throughput (130429) ---------------------------------------------------------
sim POST config '{"numbers":{"3001":{"throughput":5}}}'
check "POST /_sim/config accepted" 200 "$CODE"
CODES=$(burst 8 3001 "$(text_msg +15552220001)")
check "throughput 5 mps: 5 of 8 sends accepted" 5 "$(count_of 200 "$CODES")"
check "throughput 5 mps: 3 of 8 sends HTTP 400" 3 "$(count_of 400 "$CODES")"
send 3001 "$(text_msg +15552220002)"
check "over throughput: code 130429" 130429 "$(jget code)"
check "over throughput: details" "Cloud API message throughput has been reached." "$(jget details)"
check "over throughput: message" "(#130429) Rate limit hit" "$(jget message)"
sleep 1.1
send 3001 "$(text_msg +15552220003)"
check "throughput window slides: accepted again after 1 s" 200 "$CODE"
ledger
N3001=$(after '"3001":{')
check "ledger: throughput violations for 3001" 4 "$(jget throughput "$(after '"violations":{' "$N3001")")"
check "ledger: max_in_1s for 3001 never above 5" 5 "$(jget max_in_1s "$N3001")"

# ---- pair rate (131056) ----------------------------------------------------------
sim POST config '{"pair_capacity":3,"pair_refill_seconds":60,"numbers":{"3002":{"throughput":1000}}}'
CODES=$(burst 4 3002 "$(text_msg +15552220010)")
check "pair capacity 3: 3 of 4 sends to one user accepted" 3 "$(count_of 200 "$CODES")"
send 3002 "$(text_msg +15552220010)"
check "pair rate: code 131056" 131056 "$(jget code)"
check_has "pair rate: message" "pair rate limit hit" "$(jget message)"
send 3002 "$(text_msg +15552220011)"
check "pair rate: another recipient is fine" 200 "$CODE"
sim POST config '{"pair_refill_seconds":0.2}'
sleep 0.3
send 3002 "$(text_msg +15552220010)"
check "pair bucket refills" 200 "$CODE"
sim POST config '{"pair_capacity":45,"pair_refill_seconds":6}'

# ---- portfolio messaging limit ----------------------------------------------------------
sim POST config '{"numbers":{"3003":{"portfolio":"p1","waba":"w3","throughput":1000}},"portfolios":{"p1":{"limit":2}}}'
send 3003 "$(tpl_msg +15553330001 hello)"; C1=$CODE
send 3003 "$(tpl_msg +15553330002 hello)"; C2=$CODE
check "messaging limit 2: two unique template recipients accepted" "200 200" "$C1 $C2"
send 3003 "$(tpl_msg +15553330003 hello)"
check "messaging limit: third unique recipient -> HTTP 400 code 100" "400 100" "$CODE $(jget code)"
check "messaging limit: details" "messaging limit reached (simulator)" "$(jget details)"
send 3003 "$(tpl_msg +15553330001 hello)"
check "messaging limit: a recipient already in the window is fine" 200 "$CODE"
send 3003 "$(text_msg +15553330004)"
check "messaging limit: non-template sends do not count" 200 "$CODE"
sim POST script '{"advance_ms":86400001}'
check "advance_ms accepted" 200 "$CODE"
send 3003 "$(tpl_msg +15553330005 hello)"
check "messaging limit: the 24 h window moves" 200 "$CODE"

# ---- per-user marketing cap (131049) and templates ---------------------------------
sim POST config '{"marketing_cap":2,"numbers":{"3004":{"waba":"w4","throughput":1000}},"templates":{"w4":[{"name":"promo","language":"pt_BR","category":"MARKETING","status":"APPROVED","quality":"GREEN"},{"name":"receipt","language":"pt_BR","category":"UTILITY"},{"name":"otp","language":"en_US","category":"AUTHENTICATION","params":1}]}}'
send 3004 "$(tpl_msg +15554440001 promo pt_BR)"; C1=$CODE
send 3004 "$(tpl_msg +15554440001 promo pt_BR)"; C2=$CODE
check "marketing cap 2: two marketing templates accepted" "200 200" "$C1 $C2"
send 3004 "$(tpl_msg +15554440001 promo pt_BR)"
check "marketing cap: third -> code 131049" "400 131049" "$CODE $(jget code)"
check "marketing cap: message" "(#131049) This message was not delivered to maintain healthy ecosystem engagement." "$(jget message)"
send 3004 "$(tpl_msg +15554440001 receipt pt_BR)"
check "marketing cap: utility templates are not capped" 200 "$CODE"
send 3004 "$(tpl_msg +15554440002 promo pt_BR)"
check "marketing cap: is per recipient" 200 "$CODE"
send 3004 "$(tpl_msg +15554440003 nope pt_BR)"
check "unknown template: HTTP 404 code 132001" "404 132001" "$CODE $(jget code)"
send 3004 "$(tpl_msg +15554440003 promo en_US)"
check "template in another language: code 132001" 132001 "$(jget code)"
send 3004 '{"messaging_product":"whatsapp","to":"+15554440003","type":"template","template":{"name":"otp","language":{"code":"en_US"}}}'
check "template parameter count mismatch: code 132000" 132000 "$(jget code)"
send 3004 '{"messaging_product":"whatsapp","to":"+15554440003","type":"template","template":{"name":"otp","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"123456"}]}]}}'
check "template with the right parameter count" 200 "$CODE"
# a template configured with its components: sends must fit them
sim POST config '{"templates":{"w4":[{"name":"oferta","language":"pt_BR","category":"MARKETING","components":[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Olá {{1}}, o CDB rende {{2}} ao ano."},{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Quero"},{"type":"URL","text":"Ver","url":"https://example.com/o/{{1}}"}]}]},{"name":"nomeado","language":"pt_BR","category":"UTILITY","components":[{"type":"BODY","text":"Olá {{nome}}, seu pedido chegou."}]}]}}'
OF='{"messaging_product":"whatsapp","to":"+15554440005","type":"template","template":{"name":"oferta","language":{"code":"pt_BR"},"components":'
HDR='{"type":"header","parameters":[{"type":"image","image":{"link":"https://x/a.jpg"}}]}'
BODY='{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"12%"}]}'
URLB='{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"nov"}]}'
send 3004 "$OF[$HDR,$BODY,$URLB]}}"
check "a send that fits its template is accepted" 200 "$CODE"
send 3004 "$OF[$HDR,{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"Ana\"}]},$URLB]}}"
check "one body parameter of two: code 132000" 132000 "$(jget code)"
send 3004 "$OF[{\"type\":\"header\",\"parameters\":[{\"type\":\"video\",\"video\":{\"id\":\"1\"}}]},$BODY,$URLB]}}"
check "a VIDEO header on an IMAGE template: code 132012" 132012 "$(jget code)"
check_has "header format mismatch details" "expected IMAGE, received video" "$(jget details)"
send 3004 "$OF[$BODY,$URLB]}}"
check "no header on an IMAGE template: code 131008" 131008 "$(jget code)"
send 3004 "$OF[$HDR,$BODY]}}"
check "the dynamic URL button left unfilled: code 131008" 131008 "$(jget code)"
send 3004 "$OF[$HDR,$BODY,{\"type\":\"button\",\"sub_type\":\"quick_reply\",\"index\":\"1\",\"parameters\":[{\"type\":\"payload\",\"payload\":\"x\"}]}]}}"
check "a quick_reply sub_type on a URL button: code 132012" 132012 "$(jget code)"
send 3004 "$OF[$HDR,$BODY,$URLB,{\"type\":\"button\",\"sub_type\":\"url\",\"index\":\"4\",\"parameters\":[{\"type\":\"text\",\"text\":\"x\"}]}]}}"
check "a button index the template lacks: code 131009" 131009 "$(jget code)"
send 3004 "$OF[$HDR,{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"$(repeat_str 1000 a)\"},{\"type\":\"text\",\"text\":\"12%\"}]},$URLB]}}"
check "a body over 1024 characters once filled in: code 132005" 132005 "$(jget code)"
NM='{"messaging_product":"whatsapp","to":"+15554440005","type":"template","template":{"name":"nomeado","language":{"code":"pt_BR"},"components":'
send 3004 "$NM"'[{"type":"body","parameters":[{"type":"text","parameter_name":"primeiro_nome","text":"Ana"}]}]}}'
check "a named parameter the template lacks: code 132012" 132012 "$(jget code)"
send 3004 "$NM"'[{"type":"body","parameters":[{"type":"text","parameter_name":"nome","text":"Ana"}]}]}}'
check "the named parameter the template has: accepted" 200 "$CODE"
sim POST script '{"template":{"waba":"w4","name":"receipt","status":"PAUSED"}}'
send 3004 "$(tpl_msg +15554440004 receipt pt_BR)"
check "paused template: code 132015" 132015 "$(jget code)"
sim POST script '{"template":{"waba":"w4","name":"receipt","status":"DISABLED"}}'
send 3004 "$(tpl_msg +15554440004 receipt pt_BR)"
check "disabled template: code 132016" 132016 "$(jget code)"
sim POST script '{"template":{"waba":"w4","name":"receipt","status":"APPROVED"}}'
ledger
check "ledger: violations.pair_rate" 2 "$(jget pair_rate)"
check "ledger: violations.messaging_limit" 1 "$(jget messaging_limit)"
check "ledger: violations.marketing_cap" 1 "$(jget marketing_cap)"

# ---- scripted errors -----------------------------------------------------------------
sim POST script '{"number":"3005","fail_next":2,"code":131048}'
check "number script accepted" 200 "$CODE"
send 3005 "$(text_msg +15555550001)"; C1="$CODE $(jget code)"
send 3005 "$(text_msg +15555550002)"; C2="$CODE $(jget code)"
send 3005 "$(text_msg +15555550003)"; C3=$CODE
check "fail_next 2: two sends fail with 131048" "400 131048 400 131048" "$C1 $C2"
check "fail_next: then sends succeed again" 200 "$C3"
sim POST script '{"number":"3005","fail_next":1,"code":368}'
send 3005 "$(text_msg +15555550004)"
check "scripted 368: HTTP 403" "403 368" "$CODE $(jget code)"
sim POST script '{"number":"3005","fail_next":1,"code":131026,"http_status":400,"details":"custom details"}'
send 3005 "$(text_msg +15555550005)"
check "scripted error with custom details" "131026 custom details" "$(jget code) $(jget details)"
ledger
check "ledger: errors_injected counts scripted errors" 4 "$(jget errors_injected)"

# ---- unknown numbers ----------------------------------------------------------------------
send 9001 "$(text_msg +15556660001)"
check "unknown phone-number id is auto-registered" 200 "$CODE"
check_has "auto-registration is logged" "auto-registered phone number id 9001" "$(cat "$TMP/sim.err")"
sim POST config '{"strict_numbers":true}'
send 9002 "$(text_msg +15556660001)"
check "strict numbers: unknown id -> 400 code 100" "400 100" "$CODE $(jget code)"
check_has "strict numbers: details name the object id" "9002" "$(jget details)"
check "strict numbers: GraphMethodException" GraphMethodException "$(jget type)"
send 9001 "$(text_msg +15556660002)"
check "strict numbers: known ids still work" 200 "$CODE"
sim POST config '{"strict_numbers":false}'

# ---- management endpoints --------------------------------------------------------------
sim POST config '{"mgmt_limit":1000,"numbers":{"4001":{"waba":"w5","portfolio":"p5","throughput":1000,"display":"+55 11 90000-4001","quality":"GREEN"},"4002":{"waba":"w5","portfolio":"p5"}},"portfolios":{"p5":{"limit":250}},"templates":{"w5":[{"name":"a_tpl","language":"en_US","category":"MARKETING"},{"name":"b_tpl","language":"en_US","category":"UTILITY","status":"APPROVED","quality":"YELLOW"}]}}'
api GET /v24.0/4001
check "phone node: HTTP 200" 200 "$CODE"
check "phone node default fields: display_phone_number" "+55 11 90000-4001" "$(jget display_phone_number)"
check "phone node default fields: quality_rating" GREEN "$(jget quality_rating)"
check_lacks "phone node default fields: no throughput" throughput "$RESP"
api GET "/v24.0/4001?fields=quality_rating,status,throughput,whatsapp_business_manager_messaging_limit,health_status"
check "fields: throughput level HIGH at 1000 mps" HIGH "$(jget level)"
check "fields: messaging limit tier" TIER_250 "$(jget whatsapp_business_manager_messaging_limit)"
check "fields: status" CONNECTED "$(jget status)"
check "fields: health can_send_message" AVAILABLE "$(jget can_send_message)"
check "fields: id always present" 4001 "$(jget id)"
check_lacks "fields: only the requested ones" verified_name "$RESP"
api GET "/v24.0/4002?fields=throughput"
check "throughput level STANDARD at 80 mps" STANDARD "$(jget level)"
sim POST script '{"number":"4001","quality":"RED","status":"FLAGGED","health":"BLOCKED"}'
api GET "/v24.0/4001?fields=quality_rating,status,health_status"
check "scripted quality shows up" RED "$(jget quality_rating)"
check "scripted status shows up" FLAGGED "$(jget status)"
check "scripted health shows up" BLOCKED "$(jget can_send_message)"
check_has "blocked health lists errors" '"errors":[' "$RESP"
api GET "/v24.0/4001?fields=nonsense"
check "unknown field: code 100" "400 100" "$CODE $(jget code)"
check_has "unknown field: message" "nonexisting field (nonsense)" "$(jget message)"
api GET /v24.0/w5/message_templates
check "message_templates: HTTP 200" 200 "$CODE"
check_has "message_templates: data[]" '"data":[{' "$RESP"
check_has "message_templates: quality_score" '"quality_score":{"score":"YELLOW"' "$RESP"
check_has "message_templates: category" '"category":"MARKETING"' "$RESP"
check_has "message_templates: paging" '"paging":{"cursors":{"before":' "$RESP"
api GET "/v24.0/w5/message_templates?limit=1"
check "paging: limit=1 returns one template" a_tpl "$(jget name)"
check_has "paging: next link when more remain" '"next":"' "$RESP"
AFTER=$(jget after)
api GET "/v24.0/w5/message_templates?limit=1&after=$AFTER"
check "paging: after cursor returns the next template" b_tpl "$(jget name)"
check_lacks "paging: no next on the last page" '"next"' "$RESP"
api GET "/v24.0/w5/message_templates?status=APPROVED&name=b_tpl"
check "message_templates: filters" b_tpl "$(jget name)"
sim POST script '{"template":{"waba":"w5","name":"a_tpl","status":"PAUSED","quality":"RED"}}'
api GET "/v24.0/w5/message_templates?name=a_tpl"
check "scripted template status shows up" PAUSED "$(jget status)"
api GET /v24.0/w5/phone_numbers
check_has "phone_numbers: lists the WABA's numbers" '"id":"4001"' "$RESP"
check_has "phone_numbers: both numbers" '"id":"4002"' "$RESP"
check_lacks "phone_numbers: not other WABAs' numbers" '"id":"3004"' "$RESP"
api GET /v24.0/w5
check "WABA node" w5 "$(jget id)"

# ---- management rate limit (80007) ----------------------------------------------------
sim POST config '{"mgmt_limit":3,"numbers":{"4101":{"waba":"w6"}}}'
for i in 1 2 3; do api GET /v24.0/4101; done
C3=$CODE
HDRS=$(curl -s -D - -o "$TMP/resp" -H "Authorization: Bearer $TOKEN" "$BASE/v24.0/w6/phone_numbers")
RESP=$(cat "$TMP/resp")
check "mgmt limit 3: third call fine" 200 "$C3"
check "mgmt limit: fourth call -> code 80007" 80007 "$(jget code)"
check_has "mgmt calls carry X-Business-Use-Case-Usage" "X-Business-Use-Case-Usage" "$HDRS"
ledger
W6=$(after '"mgmt_calls":{')
W6=$(after '"w6":{' "$W6")
check "ledger: mgmt_calls total for w6" 4 "$(jget total "$W6")"
check "ledger: mgmt_calls max_per_hour for w6" 4 "$(jget max_per_hour "$W6")"
check "ledger: mgmt_calls rejected for w6" 1 "$(jget rejected "$W6")"
sim GET mgmt_calls
check "GET /_sim/mgmt_calls: one TSV line per call" 4 "$(printf '%s\n' "$RESP" | grep -c '^w6	')"
check "mgmt_calls lines: waba, path, time, status" 1 "$(printf '%s\n' "$RESP" | grep -c '^w6	/v24.0/w6/phone_numbers	[0-9]*\.[0-9][0-9][0-9]	400$')"
sim POST config '{"mgmt_limit":200}'

# ---- ledger, duplicates, messages -------------------------------------------------------
sim POST reset
check "POST /_sim/reset" 200 "$CODE"
ledger
check "reset clears the ledger" 0 "$(jget accepted)"
sim POST config '{"numbers":{"5001":{"throughput":1000}}}'
send 5001 "$(text_msg +15557770001 row-1)"
send 5001 "$(text_msg +15557770002 row-2)"
send 5001 "$(tpl_msg +15557770003 welcome en_US row-3)"
send 5001 "$(text_msg +15557770004 row-1)"
send 5001 "$(text_msg +15557770005)"
ledger
check "ledger: accepted" 5 "$(jget accepted)"
check "ledger: unique_callback_data" 3 "$(jget unique_callback_data)"
check "ledger: duplicates (same callback data twice)" 1 "$(jget duplicates)"
check_has "ledger: duplicate callback listed" '"duplicate_callbacks":["row-1"]' "$RESP"
check "ledger: per_number accepted" 5 "$(jget accepted "$(after '"5001":{')")"
sim GET messages
check "messages: one line per accepted message" 5 "$(printf '%s\n' "$RESP" | grep -c '^wamid\.')"
check "messages: seven tab-separated fields" 5 "$(printf '%s\n' "$RESP" | awk -F '\t' 'NF == 7' | grep -c .)"
check "messages: template line" 1 "$(printf '%s\n' "$RESP" | grep -c "	5001	+15557770003	template	welcome	row-3	[0-9]*\.[0-9][0-9][0-9]\$")"
check "messages: '-' for no template and no callback" 1 "$(printf '%s\n' "$RESP" | grep -c '	text	-	-	')"
sim GET "messages?from=4&limit=10"
check "messages?from= pages" 1 "$(printf '%s\n' "$RESP" | grep -c '^wamid\.')"
send 5001 "$(text_msg +15557770006 row-1)"
ledger
check "ledger: a third use of the same callback data" 2 "$(jget duplicates)"
check_has "ledger: duplicate_callbacks lists distinct values" '"duplicate_callbacks":["row-1"]' "$RESP"

# ---- faults -----------------------------------------------------------------------
sim POST script '{"fail_rate":1}'
send 5001 "$(text_msg +15557770010)"
check "fail_rate 1: HTTP 500 code 131000" "500 131000" "$CODE $(jget code)"
sim POST script '{"fail_rate":0,"error_rate_2":1}'
send 5001 "$(text_msg +15557770011)"
check "error_rate_2 1: HTTP 503 code 2" "503 2" "$CODE $(jget code)"
sim POST script '{"error_rate_2":0,"drop_rate":1}'
send 5001 "$(text_msg +15557770012)"
check "drop_rate 1: connection closed without a response" 000 "$CODE"
sim POST script '{"drop_rate":0,"lost_reply_rate":1}'
send 5001 "$(text_msg +15557770013)"
check "lost_reply_rate 1: no response" 000 "$CODE"
sim POST script '{"lost_reply_rate":0}'
ledger
check "lost reply: the message was still accepted" 7 "$(jget accepted)"
check "dropped request: not accepted, counted" 1 "$(jget dropped)"
sim POST script '{"slow_rate":1,"slow_ms":800}'
curl -s -m 20 -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
	--data-binary "$(text_msg +15557770014)" "$BASE/v24.0/5001/messages" >"$TMP/slow" &
SLOW_CURL=$!
sleep 0.2
FAST=$(curl -s -m 20 -o /dev/null -w '%{time_total}' "$BASE/_sim/health")
wait $SLOW_CURL
SLOW=$(cat "$TMP/slow")
check "slow answer: still HTTP 200" 200 "${SLOW%% *}"
check "slow answer: arrives after slow_ms" 1 "$(echo "${SLOW#* }" | awk '{ print ($1 >= 0.75) }')"
check "slow answer does not block other requests" 1 "$(echo "$FAST" | awk '{ print ($1 < 0.5) }')"
sim POST script '{"slow_rate":1,"slow_ms":500}'
T0=$(date +%s%N)
i=0
while [ $i -lt 8 ]; do
	curl -s -m 20 -o /dev/null -H "Authorization: Bearer $TOKEN" --data-binary "$(text_msg +1555777002$i)" "$BASE/v24.0/5001/messages" &
	SLOW_PIDS="${SLOW_PIDS:-} $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $SLOW_PIDS
T1=$(date +%s%N)
check "8 concurrent slow answers overlap (no thread sleeps)" 1 "$(echo $(((T1 - T0) / 1000000)) | awk '{ print ($1 < 1500) }')"
sim POST script '{"slow_rate":0}'
ledger
check "ledger: faults counted (500, 503, slow)" "1 1 9" "$(jget failed_500) $(jget error_2) $(jget slowed)"

# ---- deterministic faults with --seed ------------------------------------------------
fault_pattern() {
	sim POST reset
	sim POST script '{"fail_rate":0.5}'
	burst 16 5002 "$(text_msg +15557770020)" | tr '\n' ' '
}
P1=$(fault_pattern)
P2=$(fault_pattern)
check "seeded fault sequence repeats after reset" "$P1" "$P2"
check_has "seeded fault sequence has failures" 500 "$P1"
check_has "seeded fault sequence has successes" 200 "$P1"
sim POST reset

# ---- webhooks --------------------------------------------------------------------------
sim POST config "{\"webhook_url\":\"$BASE/_sim/sink\",\"app_secret\":\"$SECRET\",\"numbers\":{\"6001\":{\"waba\":\"w7\",\"display\":\"+1 555-000-6001\",\"throughput\":1000}},\"templates\":{\"w7\":[{\"name\":\"promo\",\"language\":\"en_US\",\"category\":\"MARKETING\"}]}}"
check "webhook config accepted" 200 "$CODE"
send 6001 "$(text_msg +15558880001 cb-1)"; WAMID_T=$(jget id)
send 6001 "$(tpl_msg +15558880002 promo en_US cb-2)"; WAMID_P=$(jget id)
sim POST script '{"number":"6001","fail_async_next":1,"code":131049}'
send 6001 "$(tpl_msg +15558880003 promo en_US cb-3)"
check "async failure: the send itself is accepted" 200 "$CODE"
WAMID_F=$(jget id)
sink_has() { sim GET sink; [ "$(jget_line "$1")" = "$2" ]; }
jget_line() { printf '%s\n' "$RESP" | sed -n "s/^$1 //p"; }
wait_for "7 statuses at the sink" 10 sink_has statuses 7
sim GET sink
check "sink: sent statuses" 2 "$(jget_line sent)"
check "sink: delivered statuses" 2 "$(jget_line delivered)"
check "sink: read statuses (read rate 1.0)" 2 "$(jget_line read)"
check "sink: failed statuses" 1 "$(jget_line failed)"
check "sink: every signature verifies" "$(jget_line posts) 0" "$(jget_line sig_ok) $(jget_line sig_bad)"
check "sink: Content-Type application/json" 0 "$(jget_line bad_content_type)"
sim GET "sink/body?i=0"
BODY0=$RESP
curl -s -o "$TMP/body0" "$BASE/_sim/sink/body?i=0"
sim GET "sink/sig?i=0"
WANT=$(openssl dgst -sha256 -hmac "$SECRET" "$TMP/body0" | sed 's/.*= *//')
check "X-Hub-Signature-256 is HMAC-SHA256(app secret, body), checked with openssl" "sha256=$WANT" "$RESP"
check_has "envelope: object" '{"object":"whatsapp_business_account","entry":[{"id":"w7","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550006001","phone_number_id":"6001"},"statuses":[' "$BODY0"
check_has "envelope: field messages" '"field":"messages"' "$BODY0"
check_has "statuses: timestamp is a string" '"timestamp":"' "$BODY0"
check_lacks "statuses: no conversation object" conversation "$BODY0"
sim GET sink/statuses
ST=$RESP
line_of() { printf '%s\n' "$ST" | grep "	$1	$2	"; }
check_has "text sent: service pricing" "cb-1	service	false	free_customer_service	-" "$(line_of "$WAMID_T" sent)"
check_has "text delivered: recipient_id" "	15558880001	cb-1	service" "$(line_of "$WAMID_T" delivered)"
check_has "template sent: marketing, billable, regular" "cb-2	marketing	true	regular	-" "$(line_of "$WAMID_P" sent)"
check_has "template delivered: pricing too" "cb-2	marketing	true	regular" "$(line_of "$WAMID_P" delivered)"
check_has "read: no pricing" "cb-2	-	-	-	-" "$(line_of "$WAMID_P" read)"
check_has "failed status: errors[0].code 131049" "cb-3	-	-	-	131049" "$(line_of "$WAMID_F" failed)"
check "failed message gets no sent/delivered" "" "$(line_of "$WAMID_F" sent)$(line_of "$WAMID_F" delivered)"
i=0
while [ $i -lt 8 ]; do curl -s "$BASE/_sim/sink/body?i=$i" >>"$TMP/bodies"; echo >>"$TMP/bodies"; i=$((i + 1)); done
check_has "failed status: errors carry title, message, error_data.details" '"errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.","message":' "$(cat "$TMP/bodies")"
check_has "failed status: error_data.details" '"error_data":{"details":"' "$(cat "$TMP/bodies")"
ledger
check "ledger: webhooks.statuses" 7 "$(jget statuses "$(after '"webhooks":{')")"
check "ledger: webhooks.pending" 0 "$(jget pending "$(after '"webhooks":{')")"
check "ledger: async_failed" 1 "$(jget async_failed)"

# read rate 0, batching and retries
ledger
POSTED0=$(jget posted "$(after '"webhooks":{')")
sim GET sink
SINKPOSTS0=$(jget_line posts)
sim POST config '{"read_rate":0,"webhook_batch":2,"webhook_delay_ms":200}'
sim POST script '{"sink_fail_next":3}'
CODES=$(burst 6 6001 "$(text_msg +15558880010)")
check "six more sends accepted" 6 "$(count_of 200 "$CODES")"
wait_for "19 statuses at the sink" 20 sink_has statuses 19
sleep 0.6					# let any late (wrong) read statuses arrive
sim GET sink
check "read_rate 0: no new read statuses" 2 "$(jget_line read)"
check "exactly 19 statuses in the end" 19 "$(jget_line statuses)"
check "sink rejected 3 POSTs as scripted" 3 "$(jget_line rejected)"
ledger
WH=$(after '"webhooks":{')
check_cmp "retries: failed attempts counted" "$(jget failed "$WH")" -ge 3
check "retries: nothing lost, nothing pending" "19 0" "$(jget statuses "$WH") $(jget pending "$WH")"
check_cmp "batching: 12 new statuses in at least 6 POSTs" "$(jget posted "$WH")" -ge $((POSTED0 + 6))
MAXPER=$(i=$SINKPOSTS0; while [ $i -lt $((SINKPOSTS0 + 12)) ]; do curl -s "$BASE/_sim/sink/body?i=$i" | grep -o '"status":"' | grep -c .; i=$((i + 1)); done | sort -n | tail -n 1)
check_cmp "batching: no POST carries more than webhook_batch statuses" "$MAXPER" -le 2

# ---- SIGUSR1 ledger file ----------------------------------------------------------------
ledger
ACC=$(jget accepted)
kill -USR1 "$SIM_PID"
wait_for "the ledger file" 5 test -s "$TMP/ledger.jsonl"
check "SIGUSR1: one JSON line per accepted message" "$ACC" "$(grep -c '^{"wamid":"wamid\.' "$TMP/ledger.jsonl")"
check "SIGUSR1: summary line last" 1 "$(tail -n 1 "$TMP/ledger.jsonl" | grep -c '^{"summary":{"accepted":')"
rm -f "$TMP/ledger.jsonl"
sim POST ledger/write
check "POST /_sim/ledger/write" 200 "$CODE"
check "ledger/write wrote the file" 1 "$(test -s "$TMP/ledger.jsonl" && echo 1)"

# ---- control API errors, reset ----------------------------------------------------------
sim POST config '{"numbers":{"5001":{"throughputt":5}}}'
check "config with a typo: HTTP 400" 400 "$CODE"
check_has "config with a typo: names the key" throughputt "$RESP"
sim POST config '{"numbers":{"5001":{"throughput":-1}}}'
check "config with a bad value: HTTP 400" 400 "$CODE"
sim POST config '{"numbers":'
check "config with bad JSON: HTTP 400" 400 "$CODE"
sim POST script '{"number":"5001","fail_next":"x"}'
check "script with a bad value: HTTP 400" 400 "$CODE"
sim GET nowhere
check "unknown control endpoint: 404" 404 "$CODE"
sim POST "reset?keep_config=1"
sim GET config
check "reset?keep_config=1 keeps numbers" 1000 "$(jget throughput "$(after '"6001":{')")"
sim POST reset
sim GET config
check "full reset drops runtime configuration" "" "$(jget throughput "$(after '"6001":{')")"

# ---- shutdown ---------------------------------------------------------------------------
send 5001 "$(text_msg +15557770030)"
rm -f "$TMP/ledger.jsonl"
stop_sim
check "SIGTERM: clean exit 0" 0 "$STOP_RC"
check "ledger file written at exit" 1 "$(grep -c '^{"wamid":' "$TMP/ledger.jsonl" 2>/dev/null)"

# ==== second instance: strict numbers, version prefix, config file =======================

cat >"$TMP/config.json" <<'EOF'
{"numbers":{"7001":{"waba":"w8"}},"default_throughput":2}
EOF
start_sim --strict-numbers --version-prefix v24.0 --config "$TMP/config.json" --default-throughput 50 --max-ledger 1 \
	|| { echo "selftest: $PASS passed, $((FAIL + 1)) failed"; exit 1; }
send 7002 "$(text_msg +15559990001)"
check "--strict-numbers: unknown id rejected" "400 100" "$CODE $(jget code)"
api POST /v23.0/7001/messages "$(text_msg +15559990001)"
check "--version-prefix v24.0: other versions rejected (2500)" "400 2500" "$CODE $(jget code)"
api POST /7001/messages "$(text_msg +15559990001)"
check "--version-prefix v24.0: missing version rejected" 400 "$CODE"
CODES=$(burst 3 7001 "$(text_msg +15559990001)")
check "--config applied: default_throughput 2 from the file" "2 1" "$(count_of 200 "$CODES") $(count_of 400 "$CODES")"
ledger
check "--max-ledger 1: one message kept, the other only counted" "2 1 1" "$(jget accepted) $(jget stored) $(jget not_stored)"
sim GET messages
check "--max-ledger 1: GET /_sim/messages lists what was kept" 1 "$(printf '%s\n' "$RESP" | grep -c '^wamid\.')"
sim POST reset
sim GET config
check "reset re-applies --config" w8 "$(jget waba "$(after '"7001":{')")"
stop_sim
check "second instance: clean exit" 0 "$STOP_RC"

if [ -n "$WRAP" ]; then
	check "no errors reported by $(echo "$WRAP" | cut -d' ' -f1)" 0 "$(grep -c 'ERROR SUMMARY: [1-9]' "$TMP/sim.err")"
	grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$TMP/sim.err" | sed 's/^/       /'
fi

echo "selftest: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
