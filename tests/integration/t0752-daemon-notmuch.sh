#!/usr/bin/env bash
# kreview daemon on a notmuch source made from real io_uring mail: the
# reviewed messages are tagged kreview-reviewed (and kreview-<severity>
# where findings were reported), tagging succeeds although another
# process holds the write lock as the run starts, and a dry-run reply,
# indexed together with the source, is threaded under the patch it
# answers.
. "$(dirname "$0")/lib.sh"
MOCK="$KREVIEW_BUILD/tests/mockllm"
MAIL="$TRASH/mail"

python3 - "$(slice_mbox)" "$TRASH" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
parts = [p for p in re.split(rb'(?m)^(?=From )', data) if p.startswith(b'From ')]
open(sys.argv[2] + '/a.mbox', 'wb').write(b''.join(parts[:60]))
PY
"$KREVIEW_BUILD/tests/mkmaildir" "$TRASH/a.mbox" "$MAIL" > /dev/null 2>&1
"$KREVIEW_BUILD/tests/mknotmuch" "$MAIL" > /dev/null

"$MOCK" --dir "$KREVIEW_TESTS/data/daemon/mock" --port-file "$TRASH/port" \
	--log "$TRASH/mock.log" &
mock=$!
holder=
cleanup() {
	if [ -n "$holder" ]; then kill "$holder" 2>/dev/null || true; fi
	kill "$mock" 2>/dev/null || true
	rm -rf "$TRASH"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$TRASH/port" ] && break; sleep 0.1; done
cat > "$TRASH/config.yaml" <<Y
state_dir: $TRASH/state
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$(cat "$TRASH/port")/v1
    model: daemon-reply
    max_attempts: 1
review:
  runs: 1
  profile: quick
  verify: false
  prompts: $KREVIEW_TESTS/data/review/prompts
lists:
  - name: io-uring
    address: io-uring@vger.kernel.org
    mode: dry-run
    severity: low
mail:
  from: "kreview <kreview@example.org>"
  drafts: $TRASH/drafts
daemon:
  concurrency: 4
  sources:
    - kind: notmuch
      path: $MAIL
      query: "*"
      list: io-uring
      tag: true
Y
nm() { NOTMUCH_DATABASE="$MAIL" notmuch --config="" "$@"; }

# Another writer holds the database for the first two seconds.
python3 - "$MAIL" "$TRASH/held" <<'PY' &
import ctypes, sys, time
nm = ctypes.CDLL("libnotmuch.so.5")
db = ctypes.c_void_p()
msg = ctypes.c_char_p()
st = nm.notmuch_database_open_with_config(sys.argv[1].encode(), 1, b"", None,
                                          ctypes.byref(db), ctypes.byref(msg))
assert st == 0, st
open(sys.argv[2], "w").write("held\n")
time.sleep(2)
nm.notmuch_database_close(db)
PY
holder=$!
for _ in $(seq 50); do [ -s "$TRASH/held" ] && break; sleep 0.1; done
"$KREVIEW" daemon --config "$TRASH/config.yaml" --once 2> "$TRASH/err" ||
	{ cat "$TRASH/err"; fail "daemon --once"; }
wait "$holder"
holder=
grep -q "cannot tag" "$TRASH/err" && { cat "$TRASH/err"; fail "tagging failed"; }
grep -q "1 findings reported, 1 replies queued" "$TRASH/err" || { cat "$TRASH/err"; fail "no reply"; }

reviewed=$(nm count tag:kreview-reviewed)
patches=$(sqlite3 "$TRASH/state/kreview.db" "select count(distinct p.msgid) from series_patch p
	join job j on j.series_id = p.series_id where j.state = 'done'")
[ "$reviewed" -gt 0 ] && [ "$reviewed" = "$patches" ] ||
	fail "$reviewed messages tagged kreview-reviewed, $patches patches reviewed"
[ "$(nm count tag:kreview-high)" = 1 ] || fail "kreview-high"
nm search --output=messages tag:kreview-high | grepq "80eceef8-b2d7-47e8-9ef9-7264249dedbb@kernel.dk" ||
	fail "the wrong message is tagged kreview-high"

# The reply, indexed with the source, threads under its patch.
reply=$(ls "$TRASH/drafts/new")
[ "$(echo "$reply" | wc -l)" = 1 ] || fail "drafts: $reply"
cp "$TRASH/drafts/new/$reply" "$MAIL/cur/$reply:2,"
"$KREVIEW_BUILD/tests/mknotmuch" "$MAIL" > /dev/null
t_reply=$(nm search --output=threads "id:$reply")
t_patch=$(nm search --output=threads "id:80eceef8-b2d7-47e8-9ef9-7264249dedbb@kernel.dk")
[ -n "$t_reply" ] && [ "$t_reply" = "$t_patch" ] || fail "reply in $t_reply, patch in $t_patch"
nm show --format=json --entire-thread=true "id:$reply" | python3 -c '
import json, sys
def walk(node, parent, out):
    msg, kids = node
    if msg:
        out[msg["id"]] = parent
        for k in kids:
            walk(k, msg["id"], out)
out = {}
for thread in json.load(sys.stdin):
    for node in thread:
        walk(node, None, out)
r = [m for m in out if m.startswith("kreview.")][0]
assert out[r] == "80eceef8-b2d7-47e8-9ef9-7264249dedbb@kernel.dk", out
' || fail "the reply is not a child of the patch"
echo ok
