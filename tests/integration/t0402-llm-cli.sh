#!/bin/bash
# kreview llm ping / ask against the mock server, one endpoint per
# dialect: the output, the requests the mock received, exit status 3
# for an endpoint that is down, and the key in no output at all.
set -eu
: "${KREVIEW:?}" "${KREVIEW_BUILD:?}" "${KREVIEW_SRC:?}"
key=sk-t0402-SECRET-9191
tmp=$(mktemp -d)
mock_pid=
cleanup() {
	[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/out.* "$tmp"/err.*; do
		[ -f "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
	done
	exit 1
}

"$KREVIEW_BUILD/tests/mockllm" --dir "$KREVIEW_SRC/tests/mockllm" \
	--port-file "$tmp/port" --log "$tmp/requests.jsonl" &
mock_pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")

# The model name selects the mock's scenario.
cat >"$tmp/config.yaml" <<EOF
endpoints:
  - name: oa
    dialect: openai
    url: http://127.0.0.1:$port/v1
    model: s01-ok
    key_env: T0402_KEY
  - name: an
    dialect: anthropic
    url: http://127.0.0.1:$port
    model: s01-ok
    key_env: T0402_KEY
  - name: gm
    dialect: gemini
    url: http://127.0.0.1:$port
    model: s01-ok
    key_env: T0402_KEY
  - name: fence
    dialect: openai
    url: http://127.0.0.1:$port/v1
    model: s03-fence
    key_env: T0402_KEY
EOF
# Port 1 on loopback: nothing listens there.
{
	sed '/name: fence/,$d' "$tmp/config.yaml"
	cat <<EOF
  - name: down
    dialect: openai
    url: http://127.0.0.1:1/v1
    model: s01-ok
EOF
} >"$tmp/down.yaml"
export T0402_KEY=$key

run() {	# run NAME EXPECTED-STATUS ARGS...
	local name=$1 want=$2 st=0
	shift 2
	"$KREVIEW" "$@" >"$tmp/out.$name" 2>"$tmp/err.$name" || st=$?
	[ "$st" = "$want" ] || fail "$name: exit $st, expected $want"
}

# ---- ping, every dialect ----
run ping 0 llm ping --config "$tmp/config.yaml" oa an gm
for ep in "oa +openai" "an +anthropic" "gm +gemini"; do
	grep -Eq "^${ep% *} ${ep#* } +s01-ok +ok +[0-9]+ ms  in=120 out=6\$" \
		"$tmp/out.ping" || fail "ping line for $ep"
done
[ "$(wc -l <"$tmp/out.ping")" = 3 ] || fail "ping printed extra lines"
# what was sent: a tiny request, each dialect at its path and auth header
grep -c '"method":"POST"' "$tmp/requests.jsonl" | grep -qx 3 ||
	fail "expected 3 requests"
grep '"dialect":"openai"' "$tmp/requests.jsonl" |
	grep -F '"path":"/v1/chat/completions"' |
	grep -F "\"authorization\":\"Bearer $key\"" |
	grep -F 'Reply with the single word: ok' |
	grep -Fq '\"max_completion_tokens\":16,\"stream\":false' ||
	fail "openai ping request"
grep '"dialect":"anthropic"' "$tmp/requests.jsonl" |
	grep -F '"path":"/v1/messages"' | grep -F "\"x-api-key\":\"$key\"" |
	grep -F '"anthropic-version":"2023-06-01"' |
	grep -Fq '\"max_tokens\":16,' || fail "anthropic ping request"
grep -F '"path":"/v1beta/models/s01-ok:generateContent"' \
	"$tmp/requests.jsonl" | grep -Fq "\"x-goog-api-key\":\"$key\"" ||
	fail "gemini ping request"

# ---- an endpoint that is down: exit 3, the reason, the rest still ok ----
run down 3 llm ping --config "$tmp/down.yaml"
grep -Eq '^down +openai +s01-ok +server-error ' "$tmp/out.down" ||
	fail "down endpoint not reported"
grep -q "endpoint 'down': .*onnect" "$tmp/out.down" ||
	fail "no reason for the down endpoint"
[ "$(grep -c ' ok ' "$tmp/out.down")" = 3 ] || fail "others not ok"
run unknown 2 llm ping --config "$tmp/config.yaml" nosuch
grep -q "no endpoint named 'nosuch'" "$tmp/err.unknown" ||
	fail "unknown endpoint message"

# ---- ask ----
run ask 0 llm ask --config "$tmp/config.yaml" --endpoint an \
	--system "You review kernel patches." "Is this patch fine?"
[ "$(cat "$tmp/out.ask")" = "Hello from the mock." ] || fail "ask answer"
grep -Eq '^usage: endpoint=an calls=1 in=120 cache_write=0 cache_read=0 out=6 reasoning=0 cost=\$0\.000000 latency=[0-9]+ms$' \
	"$tmp/err.ask" || fail "ask usage line"
grep '"dialect":"anthropic"' "$tmp/requests.jsonl" | tail -n 1 |
	grep -F '\"system\":[{\"type\":\"text\",\"text\":\"You review kernel patches.\",\"cache_control\":{\"type\":\"ephemeral\"}}]' |
	grep -Fq '\"content\":[{\"type\":\"text\",\"text\":\"Is this patch fine?\"}]' ||
	fail "ask request body"

echo "Prompt from stdin." |
	run stdin 0 llm ask --config "$tmp/config.yaml" --endpoint gm -
grep '"dialect":"gemini"' "$tmp/requests.jsonl" | tail -n 1 |
	grep -Fq 'Prompt from stdin.' || fail "stdin prompt not sent"

cat >"$tmp/schema.json" <<'EOF'
{"type": "object", "required": ["findings"], "properties": {
 "findings": {"type": "array", "items": {"type": "object",
  "required": ["file", "line"], "properties": {
   "file": {"type": "string"}, "line": {"type": "integer"}}}}}}
EOF
run schema 0 llm ask --config "$tmp/config.yaml" --endpoint fence \
	--json-schema "$tmp/schema.json" "Review it."
[ "$(cat "$tmp/out.schema")" = '{"findings":[{"file":"io_uring/net.c","line":812,"severity":"high"}]}' ] ||
	fail "schema answer not extracted from the fence"
grep -F '"model\":\"s03-fence\"' "$tmp/requests.jsonl" |
	grep -Fq '\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"answer\",\"strict\":true,\"schema\":{\"type\":\"object\"' ||
	fail "schema not sent as response_format"

# without --endpoint, ask uses the first endpoint
run noep 0 llm ask --config "$tmp/config.yaml" "no endpoint given"
run badschema 2 llm ask --config "$tmp/config.yaml" --endpoint oa \
	--json-schema "$tmp/nonexistent.json" "x"

# ---- verbose run: curl's debug output is redacted ----
run verbose 0 -v -v llm ping --config "$tmp/config.yaml" oa
grep -q 'Authorization: \[redacted\]' "$tmp/err.verbose" ||
	fail "no redacted debug output"

# ---- the key: in the auth headers the mock received, nowhere else ----
grep -q "$key" "$tmp/requests.jsonl" || fail "mock never saw the key"
for f in "$tmp"/out.* "$tmp"/err.*; do
	if grep -q -e "$key" -e "SECRET-9191" "$f"; then
		fail "key leaked into $(basename "$f")"
	fi
done
echo "ok: llm ping/ask in three dialects, down endpoint, no key leaks"
