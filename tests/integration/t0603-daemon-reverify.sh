#!/usr/bin/env bash
# kreview daemon re-verifies the bug databases itself (reference §7,
# bugs.reverify_*), against the mock LLM and a git tree built here.
# Five bugs are recorded at commit A: P (to be poked), C (never
# changes) and X1..X3 (changed by commit B).
#   run 1  the first pass (none recorded): the code is as recorded, so
#          every bug is bumped without a request
#   run 2  at once again: the interval (1d) is not up, no pass
#   run 3  a "#kreview poke" reply to a digest: applied, and the pass it
#          makes due runs in the same --once run: one request (P, fresh),
#          its verdict recorded; the unchanged bugs cause no request
#   run 4  B moves HEAD, but the interval is not up: no pass
#   run 5  two days later (KREVIEW_TEST_NOW_MS): a pass; X1..X3 changed,
#          the budget (2 requests) asks about two, one waits
#   run 6  a long-running daemon whose verifier is slow gets SIGTERM in
#          the middle of a pass: it stops after the bug it is checking,
#          records the rest as left for later, and exits in time
# Also: kreview status shows the last pass; 'kreview bugs reverify
# --limit' caps the CLI's questions the same way; without a tree the
# daemon says once that re-verification is off.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
	GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
repo="$TRASH/repo"
state="$TRASH/state"
bugs="$state/bugs"
git init -q -b main "$repo"
cd "$repo"
fn() { printf 'int %s(struct q *q)\n{\n\treturn q->%s;\n}\n\n' "$1" "$2"; }
{ fn f_poked a; fn f_same b; fn f_x1 c; fn f_x2 d; fn f_x3 e; } > net.c
git add net.c && git commit -q -m "base"
A=$(git rev-parse HEAD)
cd - > /dev/null

json_bug() {
	printf '{"title": "%s reads q unlocked", "file": "net.c", "function": "%s", "category": "race", "severity": "medium", "line": %d, "end_line": %d, "code_commit": "%s", "evidence": "\\treturn q->%s;", "explanation": "No lock."}' \
		"$1" "$1" "$2" "$2" "$A" "$3"
}
{
	echo "["
	json_bug f_poked 3 a; echo ","
	json_bug f_same 8 b; echo ","
	json_bug f_x1 13 c; echo ","
	json_bug f_x2 18 d; echo ","
	json_bug f_x3 23 e
	echo "]"
} > "$TRASH/bugs.json"
"$KREVIEW_BUILD/tests/bugrecord" "$bugs" "NETWORKING [GENERAL]" "$TRASH/bugs.json" > "$TRASH/ids"
mapfile -t ids < "$TRASH/ids"
[ "${#ids[@]}" = 5 ] || fail "fixture: $(cat "$TRASH/ids")"
P=${ids[0]} C=${ids[1]} X1=${ids[2]} X2=${ids[3]} X3=${ids[4]}
db="$bugs/networking-general.db"

"$KREVIEW_BUILD/tests/mockllm" --dir "$KREVIEW_TESTS/data/bugs/mock" \
	--port-file "$TRASH/port" --log "$TRASH/mock.log" &
mock=$!
daemon=
cleanup() {
	if [ -n "$daemon" ]; then kill -9 "$daemon" 2>/dev/null || true; fi
	kill "$mock" 2>/dev/null || true
	rm -rf "$TRASH"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$TRASH/port" ] && break; sleep 0.1; done
: > "$TRASH/list.mbox"

# config MODEL BUDGET
config() {
	local model=$1 budget=$2
	cat <<Y
state_dir: $state
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$(cat "$TRASH/port")/v1
    model: $model
    concurrency: 1
    max_attempts: 1
    price: {input: 3, output: 15}
review:
  prompts: $KREVIEW_SRC/prompts
ingest:
  own_address: kreview@example.org
mail:
  from: kreview <kreview@example.org>
bugs:
  triagers: ["*@example.org"]
  digest_min_bugs: 1
  digest_min_age: 0s
  digest_quiet_after_reply: 0s
  reverify_interval: 1d
  reverify_tree: $repo
  reverify_budget: $budget
daemon:
  poll_interval: 1s
  drain_timeout: 20s
  sources:
    - kind: mbox
      path: $TRASH/list.mbox
      list: netdev
Y
}
config rvdaemon 2 > "$TRASH/config.yaml"
requests() { grep -c '"n":' "$TRASH/mock.log" || true; }
col() {
	python3 - "$db" "$1" "$2" <<'PY'
import sqlite3, sys
v = sqlite3.connect(sys.argv[1]).execute("select %s from bug where id = ?" % sys.argv[3], (sys.argv[2],)).fetchone()[0]
print(v)
PY
}
once() {
	local name=$1
	shift
	env "$@" "$KREVIEW" daemon --config "$TRASH/config.yaml" --once --verbose \
		2> "$TRASH/$name.err" || { cat "$TRASH/$name.err"; fail "daemon --once ($name)"; }
}
passes() { grep -c "bug re-verification (" "$TRASH/$1.err" || true; }

# ---- run 1: the first pass; nothing changed, nothing asked ----------------
once run1
grep -q "bug re-verification pass 1 started (interval)" "$TRASH/run1.err" ||
	{ cat "$TRASH/run1.err"; fail "run 1: no pass"; }
grep -q "bug re-verification (interval): 5 bugs at ${A:0:12}: 5 still present, 0 obsolete, 0 stale, 0 fixed, 0 errors (5 unchanged, 0 asked the verifier, 0 answered from the cache)" \
	"$TRASH/run1.err" || { cat "$TRASH/run1.err"; fail "run 1 summary"; }
grep -q "bug re-verification: $C unchanged since ${A:0:12}: still present" "$TRASH/run1.err" ||
	fail "run 1: no per-bug line"
[ "$(requests)" = 0 ] || fail "run 1: unchanged bugs were sent to the verifier"
[ "$(col "$C" last_verified_commit)" = "$A" ] || fail "run 1: C not bumped"
"$KREVIEW" status --config "$TRASH/config.yaml" > "$TRASH/status"
grep -q "^bug re-verification: last pass 1 (interval) started 0 min ago, at ${A:0:12}: 5 bugs, 0 asked the verifier" \
	"$TRASH/status" || { cat "$TRASH/status"; fail "status"; }

# ---- run 2: the interval is not up ------------------------------------------
once run2
[ "$(passes run2)" = 0 ] || { cat "$TRASH/run2.err"; fail "run 2 re-verified again"; }

# ---- run 3: a poke mail; its pass runs in the same --once run -------------------
K() { "$KREVIEW" bugs --config "$TRASH/config.yaml" "$@"; }
K digest --subsystem "NETWORKING [GENERAL]" > "$TRASH/digest"
dg=$(sed -n 's/^Message-ID: <\(.*\)>$/\1/p' "$TRASH/digest")
[ -n "$dg" ] || fail "digest has no Message-ID"
{
	echo "From maint@example.org Mon Jun  3 10:02:11 2024"
	echo "From: Net Maint <maint@example.org>"
	echo "To: kreview@example.org"
	echo "Cc: netdev@vger.kernel.org"
	echo "Subject: Re: [kreview] NETWORKING [GENERAL] open-bug digest"
	echo "Date: Mon, 3 Jun 2024 10:02:11 +0000"
	echo "Message-ID: <poke1@example.org>"
	echo "In-Reply-To: <$dg>"
	echo "References: <$dg>"
	echo
	echo "#kreview $P poke"
	echo
} >> "$TRASH/list.mbox"
once run3
grep -q "command mail <poke1@example.org> from maint@example.org: 1 commands, 0 refused" "$TRASH/run3.err" ||
	{ cat "$TRASH/run3.err"; fail "run 3: poke not applied"; }
grep -q "bug re-verification (poke): 5 bugs at ${A:0:12}: 5 still present, 0 obsolete, 0 stale, 0 fixed, 0 errors (4 unchanged, 1 asked the verifier, 0 answered from the cache); 800 tokens in, 30 out" \
	"$TRASH/run3.err" || { cat "$TRASH/run3.err"; fail "run 3 summary"; }
grep -q "bug re-verification: $P still present at ${A:0:12}: the code still does what the record says." \
	"$TRASH/run3.err" || fail "run 3: P's verdict line"
[ "$(requests)" = 1 ] || fail "run 3: $(requests) requests, want 1"
grep -q "f_poked" "$TRASH/mock.log" || fail "run 3: the request is not about P"
[ "$(col "$P" stale)" = 0 ] || fail "run 3: P still stale"
python3 - "$db" "$P" <<'PY' || fail "run 3: P's events"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
kinds = [r[0] for r in db.execute("select kind || ':' || actor from bug_event where bug_id = ? order by id", (sys.argv[2],))]
assert kinds[-2:] == ["poke:maint@example.org", "verified:kreview"], kinds
PY
# the question's cost is counted as the 'reverify' list's usage
"$KREVIEW" status --config "$TRASH/config.yaml" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
u = [x for x in s["usage_today"] if x["list"] == "reverify"]
assert u and u[0]["tokens"] == 830 and u[0]["endpoint"] == "mock", s["usage_today"]
rv = s["reverify"]
assert rv["pass"] == 2 and rv["cause"] == "poke" and rv["asked"] == 1 and rv["bugs"] == 5, rv
assert rv["finished_ms"] >= rv["started_ms"] and rv["tokens"] == 830, rv
' || fail "status --json"

# ---- run 4: the tree moves, the interval is not up ----------------------------
cd "$repo"
sed -i 's/q->c;/q->c + 1;/; s/q->d;/q->d + 1;/; s/q->e;/q->e + 1;/' net.c
git commit -q -a -m "net: change f_x1..f_x3"
B=$(git rev-parse HEAD)
cd - > /dev/null
once run4
[ "$(passes run4)" = 0 ] || { cat "$TRASH/run4.err"; fail "run 4 re-verified before the interval"; }
[ "$(requests)" = 1 ] || fail "run 4 sent requests"

# ---- run 5: two days later; the budget caps the requests -------------------------
later=$(( $(date +%s) * 1000 + 2 * 86400 * 1000 ))
once run5 KREVIEW_TEST_NOW_MS=$later
grep -q "bug re-verification (interval): 5 bugs at ${B:0:12}: 4 still present, 0 obsolete, 0 stale, 0 fixed, 0 errors (2 unchanged, 2 asked the verifier, 0 answered from the cache); 1600 tokens in, 60 out, \$0.0057; 1 left for a later pass" \
	"$TRASH/run5.err" || { cat "$TRASH/run5.err"; fail "run 5 summary"; }
grep -q "left as it was: the pass's budget of verifier requests is spent" "$TRASH/run5.err" ||
	fail "run 5: no line for the bug left"
[ "$(requests)" = 3 ] || fail "run 5: $(requests) requests, want 3"
left=0
for id in "$X1" "$X2" "$X3"; do
	[ "$(col "$id" last_verified_commit)" = "$A" ] && left=$((left + 1))
done
[ "$left" = 1 ] || fail "run 5: $left bugs not verified at B, want 1"
[ "$(col "$C" last_verified_commit)" = "$B" ] || fail "run 5: C not bumped to B"

# ---- run 6: SIGTERM in the middle of a slow pass ------------------------------
cd "$repo"
sed -i 's/ + 1;/ + 2;/' net.c
git commit -q -a -m "net: change f_x1..f_x3 again"
cd - > /dev/null
config rvslow 0 > "$TRASH/config.yaml"
before=$(requests)
evenlater=$(( $(date +%s) * 1000 + 4 * 86400 * 1000 ))
KREVIEW_TEST_NOW_MS=$evenlater "$KREVIEW" daemon --config "$TRASH/config.yaml" --verbose \
	2> "$TRASH/run6.err" &
daemon=$!
for _ in $(seq 100); do [ "$(requests)" -gt "$before" ] && break; sleep 0.1; done
[ "$(requests)" -gt "$before" ] || { cat "$TRASH/run6.err"; fail "run 6: the pass asked nothing"; }
start=$(date +%s)
kill -TERM "$daemon"
status=0
wait "$daemon" || status=$?
daemon=
took=$(( $(date +%s) - start ))
cat "$TRASH/run6.err"
[ "$status" = 0 ] || fail "run 6: exit $status"
[ "$took" -lt 10 ] || fail "run 6: took ${took}s to stop"
grep -q "bug re-verification stops after the bug it is checking" "$TRASH/run6.err" ||
	fail "run 6: no stopping note"
grep -q "bug re-verification: stopped: [0-9]* bugs\? left for the next pass" "$TRASH/run6.err" ||
	fail "run 6: the pass did not stop"
grep -q "bug re-verification (interval): .*left for a later pass" "$TRASH/run6.err" ||
	fail "run 6: no summary"
[ "$(requests)" -lt $((before + 3)) ] || fail "run 6: every bug was asked despite SIGTERM"
"$KREVIEW" status --config "$TRASH/config.yaml" --json | python3 -c '
import json, sys
rv = json.load(sys.stdin)["reverify"]
assert rv["pass"] == 4 and rv["finished_ms"] and rv["deferred"] >= 1, rv
' || fail "run 6: the pass record"

# ---- the CLI's budget: reverify --limit ----------------------------------------
# one of X1..X3 was verified at the tip in run 6, two need the verifier
before=$(requests)
K reverify --tree "$repo" --dry-run --limit 1 > "$TRASH/limit.out" 2> "$TRASH/limit.err" ||
	{ cat "$TRASH/limit.out" "$TRASH/limit.err"; fail "reverify --limit"; }
[ "$(grep -c " would ask 'mock' whether" "$TRASH/limit.out")" = 1 ] || fail "--limit: asks"
[ "$(grep -c " would be left as it was: the pass's budget of verifier requests is spent" "$TRASH/limit.out")" = 1 ] ||
	fail "--limit: left"
grep -q "3 unchanged, 0 obsolete, 1 to ask the verifier (about [0-9]* tokens in), 0 errors, 1 would be left for a later pass; nothing was changed or sent" \
	"$TRASH/limit.err" || fail "--limit summary: $(cat "$TRASH/limit.err")"
[ "$(requests)" = "$before" ] || fail "--limit --dry-run sent requests"

# ---- without a tree: said once, nothing done --------------------------------
config rvdaemon 2 > "$TRASH/notree.yaml"
sed -i '/reverify_tree:/d' "$TRASH/notree.yaml"
"$KREVIEW" daemon --config "$TRASH/notree.yaml" --once 2> "$TRASH/notree.err" ||
	{ cat "$TRASH/notree.err"; fail "daemon without a tree"; }
[ "$(grep -c "bug re-verification is off: no tree is configured" "$TRASH/notree.err")" = 1 ] ||
	{ cat "$TRASH/notree.err"; fail "no 'off' note"; }
echo ok
