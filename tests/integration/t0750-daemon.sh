#!/usr/bin/env bash
# kreview daemon on a public-inbox epoch built from real io_uring mail,
# against the mock LLM: --once, a long-running daemon with messages
# appended while it runs, sd_notify, the instance lock, SIGHUP with a
# valid and an invalid configuration, SIGTERM, kreview status, and a
# daily token budget exhausted and recovered the next (injected) day.
. "$(dirname "$0")/lib.sh"
MOCK="$KREVIEW_BUILD/tests/mockllm"
MKINBOX="$KREVIEW_BUILD/tests/mkinbox"

python3 - "$(slice_mbox)" "$TRASH" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
parts = [p for p in re.split(rb'(?m)^(?=From )', data) if p.startswith(b'From ')]
open(sys.argv[2] + '/a.mbox', 'wb').write(b''.join(parts[:60]))
open(sys.argv[2] + '/b.mbox', 'wb').write(b''.join(parts[60:100]))
PY
"$MKINBOX" "$TRASH/a.mbox" "$TRASH/inbox.git" > /dev/null

"$MOCK" --dir "$KREVIEW_TESTS/data/daemon/mock" --port-file "$TRASH/port" \
	--log "$TRASH/mock.log" &
mock=$!
daemon=
notify=
cleanup() {
	if [ -n "$daemon" ]; then kill -9 "$daemon" 2>/dev/null || true; fi
	if [ -n "$notify" ]; then kill "$notify" 2>/dev/null || true; fi
	kill "$mock" 2>/dev/null || true
	rm -rf "$TRASH"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$TRASH/port" ] && break; sleep 0.1; done
port=$(cat "$TRASH/port")

# config STATE_DIR [EXTRA DAEMON KEYS...]
config() {
	local dir=$1
	shift
	cat <<Y
state_dir: $dir
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$port/v1
    model: daemon
    max_attempts: 1
review:
  runs: 1
  profile: quick
  prompts: $KREVIEW_TESTS/data/review/prompts
daemon:
  poll_interval: 1s
  drain_timeout: 10s
  endpoint_concurrency: {mock: 2}
  sources:
    - kind: public-inbox
      path: $TRASH/inbox.git
      list: io-uring
Y
	for kv in "$@"; do echo "  $kv"; done
}

# Every series revision that is complete (or stalled) was reviewed
# exactly once unless a newer revision superseded it; nothing is left.
check_db() {
	python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = lambda s: db.execute(s).fetchall()
twice = q("select series_id, count(*) from review group by series_id having count(*) > 1")
assert not twice, ("reviewed twice", twice)
left = q("select id, state from job where state not in ('done', 'superseded')")
assert not left, ("jobs left", left)
missing = q("select s.id, s.subject from series s where (s.complete or s.stalled)"
            " and not exists (select 1 from job j where j.series_id = s.id)")
assert not missing, ("never queued", missing)
norev = q("select j.series_id from job j where j.state = 'done' and not exists"
          " (select 1 from review r where r.id = j.review_id and r.series_id = j.series_id)")
assert not norev, ("done without review", norev)
dup = q("select msgid, count(*) from message group by msgid having count(*) > 1")
assert not dup, dup
print(q("select count(*) from review")[0][0])
PY
}

# ---- --once ---------------------------------------------------------------
config "$TRASH/once" > "$TRASH/once.yaml"
"$KREVIEW" daemon --config "$TRASH/once.yaml" --check-config | grepq "configuration OK: 1 sources" ||
	fail "--check-config"
"$KREVIEW" daemon --config "$TRASH/once.yaml" --once 2> "$TRASH/once.err" ||
	{ cat "$TRASH/once.err"; fail "daemon --once"; }
n_once=$(check_db "$TRASH/once/kreview.db") || fail "after --once"
[ "$n_once" -ge 5 ] || fail "only $n_once reviews after --once"
grep -q "stopped: $n_once reviews done, 0 failed" "$TRASH/once.err" ||
	{ cat "$TRASH/once.err"; fail "--once summary"; }
# a second run finds nothing new: never twice
"$KREVIEW" daemon --config "$TRASH/once.yaml" --once 2> "$TRASH/once2.err"
grep -q "stopped: 0 reviews done" "$TRASH/once2.err" || fail "second --once reviewed again"
"$KREVIEW" status --config "$TRASH/once.yaml" > "$TRASH/status.txt"
grep -q "done $n_once " "$TRASH/status.txt" || { cat "$TRASH/status.txt"; fail "status"; }
grep -q "inbox:$TRASH/inbox.git: " "$TRASH/status.txt" || fail "status cursor"
"$KREVIEW" status --config "$TRASH/once.yaml" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["version"] == 1 and s["queue"]["running"] == 0, s
assert s["usage_today"][0]["list"] == "io-uring" and s["usage_today"][0]["tokens"] > 0, s
' || fail "status --json"

# ---- a long-running daemon ---------------------------------------------
python3 - "$TRASH/notify.sock" "$TRASH/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
PY
notify=$!
for _ in $(seq 50); do [ -S "$TRASH/notify.sock" ] && break; sleep 0.1; done
config "$TRASH/live" > "$TRASH/live.yaml"
NOTIFY_SOCKET="$TRASH/notify.sock" "$KREVIEW" daemon --config "$TRASH/live.yaml" \
	--verbose 2> "$TRASH/live.err" &
daemon=$!
# status opens the same database: wait until the daemon created it
for _ in $(seq 100); do grep -q "READY=1" "$TRASH/notify.log" 2>/dev/null && break; sleep 0.1; done

wait_idle() {
	local want=$1
	for _ in $(seq 200); do
		if "$KREVIEW" status --config "$TRASH/live.yaml" --json 2>/dev/null |
			python3 -c "
import json, sys
s = json.load(sys.stdin)
q = s['queue']
sys.exit(0 if q['queued'] == 0 and q['running'] == 0 and q['done'] >= $want else 1)"; then
			return 0
		fi
		sleep 0.1
	done
	cat "$TRASH/live.err"
	fail "daemon did not finish its queue"
}
wait_idle "$n_once"
grep -q "READY=1" "$TRASH/notify.log" || fail "no READY=1"
grep -q "STATUS=" "$TRASH/notify.log" || fail "no STATUS="

# the lock: a second daemon on the same state directory refuses
if "$KREVIEW" daemon --config "$TRASH/live.yaml" --once 2> "$TRASH/second.err"; then
	fail "a second daemon ran"
fi
grep -q "another kreview daemon (pid $daemon) holds" "$TRASH/second.err" ||
	{ cat "$TRASH/second.err"; fail "lock message"; }

# new mail while it runs
"$MKINBOX" "$TRASH/b.mbox" "$TRASH/inbox.git" > /dev/null
sleep 1.5
wait_idle "$((n_once + 1))"

# SIGHUP: a valid new configuration is taken, an invalid one refused
config "$TRASH/live" "concurrency: 1" > "$TRASH/live.yaml.new"
mv "$TRASH/live.yaml.new" "$TRASH/live.yaml"
kill -HUP "$daemon"
for _ in $(seq 50); do grep -q "configuration reloaded" "$TRASH/live.err" && break; sleep 0.1; done
grep -q "configuration reloaded" "$TRASH/live.err" || { cat "$TRASH/live.err"; fail "reload"; }
grep -q "RELOADING=1" "$TRASH/notify.log" || fail "no RELOADING=1"
cp "$TRASH/live.yaml" "$TRASH/good.yaml"
printf 'daemon:\n  concurrency: many\n' > "$TRASH/live.yaml"
kill -HUP "$daemon"
for _ in $(seq 50); do grep -q "rejected, keeping the old one" "$TRASH/live.err" && break; sleep 0.1; done
grep -q "rejected, keeping the old one" "$TRASH/live.err" || { cat "$TRASH/live.err"; fail "bad reload"; }
grep -q "live.yaml:2:16: expected an integer" "$TRASH/live.err" || { cat "$TRASH/live.err"; fail "reload error position"; }
kill -0 "$daemon" || fail "daemon died on a bad config"
cp "$TRASH/good.yaml" "$TRASH/live.yaml"

kill -TERM "$daemon"
wait "$daemon" || fail "daemon exit status $?"
daemon=
grep -q "STOPPING=1" "$TRASH/notify.log" || fail "no STOPPING=1"
check_db "$TRASH/live/kreview.db" > /dev/null || fail "after the live run"

# the same mail in one go gives the same reviews
"$MKINBOX" "$TRASH/a.mbox" "$TRASH/ref.git" > /dev/null
"$MKINBOX" "$TRASH/b.mbox" "$TRASH/ref.git" > /dev/null
config "$TRASH/ref" | sed "s|$TRASH/inbox.git|$TRASH/ref.git|" > "$TRASH/ref.yaml"
"$KREVIEW" daemon --config "$TRASH/ref.yaml" --once 2> /dev/null
check_db "$TRASH/ref/kreview.db" > /dev/null || fail "one-go run"
# what one go reviews, the live run reviewed too; the live run may also
# have reviewed a revision before its successor arrived, never more
python3 - "$TRASH/live/kreview.db" "$TRASH/ref/kreview.db" <<'PY' || fail "live and one-go runs differ"
import sqlite3, sys
def reviewed(path):
    db = sqlite3.connect(path)
    rows = db.execute("select (select msgid from series_patch p where p.series_id = s.id"
                      " order by idx limit 1), s.version, j.state from job j"
                      " join series s on s.id = j.series_id").fetchall()
    return {(r[0], r[1]): r[2] for r in rows}
live, ref = reviewed(sys.argv[1]), reviewed(sys.argv[2])
assert set(live) == set(ref), set(live) ^ set(ref)
for k, st in ref.items():
    assert st == live[k] or (st == "superseded" and live[k] == "done"), (k, st, live[k])
PY

# ---- budgets: exhausted, the rest waits, the next day goes on ----------
config "$TRASH/budget" "concurrency: 1" "tokens_per_day: 1000" > "$TRASH/budget.yaml"
day1=1780000000000
KREVIEW_TEST_NOW_MS=$day1 "$KREVIEW" daemon --config "$TRASH/budget.yaml" --once \
	2> "$TRASH/budget1.err"
grep -q "stopped: 1 reviews done" "$TRASH/budget1.err" || { cat "$TRASH/budget1.err"; fail "budget day 1"; }
grep -q "spent its budget" "$TRASH/budget1.err" || fail "budget not announced"
KREVIEW_TEST_NOW_MS=$((day1 + 3600000)) "$KREVIEW" daemon --config "$TRASH/budget.yaml" \
	--once 2> "$TRASH/budget2.err"
grep -q "stopped: 0 reviews done" "$TRASH/budget2.err" || fail "budget ignored"
KREVIEW_TEST_NOW_MS=$((day1 + 3600000)) "$KREVIEW" status --config "$TRASH/budget.yaml" \
	--json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["queue"]["queued"] >= 3 and s["queue"]["done"] == 1, s
assert s["usage_today"][0]["reviews"] == 1, s' || fail "budget status"
KREVIEW_TEST_NOW_MS=$((day1 + 86400000)) "$KREVIEW" daemon --config "$TRASH/budget.yaml" \
	--once 2> "$TRASH/budget3.err"
grep -q "stopped: 1 reviews done" "$TRASH/budget3.err" || { cat "$TRASH/budget3.err"; fail "next day"; }
echo ok
