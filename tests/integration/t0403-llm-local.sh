#!/usr/bin/env bash
# With no endpoint configured, kreview finds a local OpenAI-dialect
# server (llama.cpp, Ollama) through its model list and uses it; with
# none answering it says so.  The server here is a small stand-in on
# loopback; $KREVIEW_LOCAL_URLS points kreview at it instead of the
# usual ports.
. "$(dirname "$0")/lib.sh"
cat > "$TRASH/server.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
    def reply(self, obj):
        b = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        if self.path == "/v1/models":
            self.reply({"object": "list", "data": [{"id": "qwen-local.gguf", "object": "model"}]})
        else:
            self.send_error(404)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(n))
        with open(sys.argv[2], "a") as f:
            f.write("model=%s max_tokens=%s\n" % (req.get("model"), "max_tokens" in req))
        self.reply({"id": "x", "object": "chat.completion", "model": req.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "pong"}}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}})
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$TRASH/server.py" "$TRASH/port" "$TRASH/log" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$TRASH"' EXIT
for _ in $(seq 50); do [ -s "$TRASH/port" ] && break; sleep 0.1; done
port=$(cat "$TRASH/port")

# a closed port first: it is skipped, the live server is taken
export KREVIEW_LOCAL_URLS="http://127.0.0.1:1/v1 http://127.0.0.1:$port/v1"
"$KREVIEW" llm ping > "$TRASH/out" 2> "$TRASH/err" || { cat "$TRASH/out" "$TRASH/err"; fail "ping failed"; }
cat "$TRASH/out" "$TRASH/err"
grep -q "using the local server at http://127.0.0.1:$port/v1 (model qwen-local.gguf)" "$TRASH/err" ||
	fail "no note about the local server"
grep -q "GET /v1/models" "$TRASH/log" || fail "model list not asked"
grep -q "model=qwen-local.gguf max_tokens=True" "$TRASH/log" || fail "request not sent with the listed model"

# nothing answers: ping fails with exit 3
export KREVIEW_LOCAL_URLS="http://127.0.0.1:1/v1"
set +e
"$KREVIEW" llm ping > /dev/null 2>&1
status=$?
set -e
[ "$status" != 0 ] || fail "ping with no endpoint succeeded"
# KREVIEW_CONFIG names the configuration for every command
printf 'review:\n  runs: 99\n' > "$TRASH/bad.yaml"
set +e
KREVIEW_CONFIG="$TRASH/bad.yaml" "$KREVIEW" check --dry-run 2> "$TRASH/err2"
status=$?
set -e
[ "$status" = 2 ] && grep -q "bad.yaml:2:9" "$TRASH/err2" || fail "KREVIEW_CONFIG not used: $(cat "$TRASH/err2")"
echo ok
