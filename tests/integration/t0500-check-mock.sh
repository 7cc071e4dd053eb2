#!/usr/bin/env bash
# kreview check end to end against the mock LLM: a 3-patch series made
# with git, two passes of one stage, verification, series attribution.
# The mock answers in request order (endpoint concurrency 1) with the
# scripted findings of tests/data/review/mock/check/any.N:
#   A  leak added by patch 1, seen in both passes      -> reported, 2/2
#   A' the same leak reported on patch 2               -> duplicate
#   X  error path added by patch 1, removed by patch 3 -> fixed later
#   Q  old code, marked pre-existing                   -> reported, pre-existing
#   R  logic bug on patch 3, refuted by the verifier   -> refuted
#   M  medium race seen in one pass of two             -> below threshold
#   two findings pointing at no code                   -> rejected
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
	GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
repo="$TRASH/repo"
git init -q -b main "$repo"
cd "$repo"
cat > net.c <<'C'
int do_recv(struct sock *sk, int len)
{
	char *buf;
	int ret;

	ret = prepare(sk);
	sk->sk_prot->close(sk);
	return ret;
}

int do_send(struct sock *sk)
{
	return 0;
}
C
git add net.c && git commit -q -m "base"
git checkout -q -b topic
python3 - <<'PY'
s = open("net.c").read()
s = s.replace("\tint ret;\n", "\tint ret;\n\tbuf = kmalloc(len, GFP_KERNEL);\n")
s = s.replace("{\n\treturn 0;", "{\n\tif (!sk)\n\t\treturn -EINVAL;\n\treturn 0;")
open("net.c", "w").write(s)
PY
git commit -q -a -m "net: allocate a receive buffer" -m "Signed-off-by: A Dev <a@example.org>"
printf '\nint do_poll(struct sock *sk)\n{\n\treturn 1;\n}\n' >> net.c
git commit -q -a -m "net: add do_poll" -m "Signed-off-by: A Dev <a@example.org>"
python3 - <<'PY'
s = open("net.c").read()
s = s.replace("\tif (!sk)\n\t\treturn -EINVAL;\n", "")
s = s.replace("GFP_KERNEL);\n", "GFP_KERNEL);\n\tlen = min(len, 64);\n")
open("net.c", "w").write(s)
PY
git commit -q -a -m "net: clamp receive length" -m "Signed-off-by: A Dev <a@example.org>"

start_mock "$KREVIEW_TESTS/data/review/mock"
port=$(cat "$TRASH/port")
export MOCK_KEY=sk-test-secret-kreview-0123456789
cat > "$TRASH/config.yaml" <<Y
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$port/v1
    model: check
    key_env: MOCK_KEY
    concurrency: 1
    max_attempts: 1
    price: {input: 3, output: 15, cache_read: 0.3}
review:
  endpoint: mock
  runs: 2
  profile: quick
  prompts: $KREVIEW_TESTS/data/review/prompts
Y

set +e
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k.db" \
	--format json --all main..HEAD > "$TRASH/out.json" 2> "$TRASH/err"
status=$?
set -e
cat "$TRASH/err"
[ "$status" = 1 ] || fail "exit status $status, want 1 (a high finding)"
[ "$(grep -c '"n":' "$TRASH/mock.log")" = 9 ] || fail "expected 9 requests: $(grep -c '"n":' "$TRASH/mock.log")"
python3 - "$TRASH/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
fs = r["findings"]
def one(title_part):
    m = [f for f in fs if title_part in f["title"]]
    assert len(m) == 1, (title_part, [f["title"] for f in fs])
    return m[0]
a = [f for f in fs if "never freed" in f["title"]]
rep = [f for f in a if f["reported"]]
assert len(rep) == 1 and rep[0]["patch"] == 1 and rep[0]["support"] == 2 and rep[0]["runs"] == 2, a
assert rep[0]["verified"] == "confirmed" and rep[0]["severity"] == "high", rep[0]
dup = [f for f in a if not f["reported"]]
assert len(dup) == 1 and dup[0]["patch"] == 2 and dup[0]["dropped"] == "duplicate", dup
x = one("returns -EINVAL")
assert not x["reported"] and x["dropped"] == "fixed-later" and x["patch"] == 1, x
q = one("sk_prot may be NULL")
assert q["reported"] and q["pre_existing"] is True, q
rr = one("min() clamps")
assert not rr["reported"] and rr["dropped"] == "refuted" and rr["verified"] == "refuted", rr
m = one("races with a concurrent close")
assert not m["reported"] and m["dropped"] == "threshold", m
assert a[0]["fingerprint"] == a[1]["fingerprint"]
assert [f["reported"] for f in fs].count(True) == 2
u = r["usage"]
assert u["requests"] == 9 and u["cached"] == 0 and u["failed"] == 0, u
print("findings as expected:", len(fs), "clusters, 2 reported")
PY

# what was sent: the key only in the auth header, the patch fenced,
# the same prefix for both passes of a patch, different seeds
python3 - "$TRASH/mock.log" "$MOCK_KEY" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
key = sys.argv[2]
for r in reqs:
    assert r["headers"]["authorization"] == "Bearer " + key
    assert key not in r["body"]
bodies = [json.loads(r["body"]) for r in reqs]
b1, b4 = bodies[0], bodies[3]
assert b1["messages"][:-1] == b4["messages"][:-1], "prefix differs between passes"
assert b1["seed"] != b4["seed"]
sysmsg = json.dumps(b1["messages"])
assert "untrusted" in sysmsg and "buf = kmalloc(len, GFP_KERNEL);" in sysmsg
assert b1["response_format"]["type"] == "json_schema"
assert "Verify each finding" in json.dumps(bodies[6]["messages"])
print("requests as expected")
PY
! grep -q "$MOCK_KEY" "$TRASH/err" "$TRASH/out.json" || fail "the key leaked into the output"

# again: every answer comes from the cache, no request, same findings
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k.db" \
	--format json --all main..HEAD > "$TRASH/out2.json" 2> /dev/null || true
[ "$(grep -c '"n":' "$TRASH/mock.log")" = 9 ] || fail "the second run sent requests"
python3 - "$TRASH/out.json" "$TRASH/out2.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["findings"] == b["findings"], "cached run differs"
assert b["usage"]["cached"] == 9 and b["usage"]["requests"] == 0, b["usage"]
print("cached run identical")
PY

# text output and SARIF
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k.db" main..HEAD > "$TRASH/out.txt" 2>&1 || true
grep -q "never freed" "$TRASH/out.txt" || fail "text output lacks the finding"
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k.db" --format sarif main..HEAD > "$TRASH/out.sarif" 2>/dev/null || true
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"]=="2.1.0" and len(d["runs"][0]["results"])==2' "$TRASH/out.sarif"

# --fail-on critical: nothing critical, exit 0
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k.db" --fail-on critical main..HEAD > /dev/null 2>&1 ||
	fail "--fail-on critical should pass"
# --dry-run: the plan, no request
"$KREVIEW" check --config "$TRASH/config.yaml" --dry-run main..HEAD > "$TRASH/plan" 2>&1
grep -q "flow" "$TRASH/plan" && grep -q "3 patches" "$TRASH/plan" || fail "plan: $(cat "$TRASH/plan")"
[ "$(grep -c '"n":' "$TRASH/mock.log")" = 9 ] || fail "dry run sent requests"
# an unreachable endpoint is an infrastructure failure
sed -i "s/127.0.0.1:$port/127.0.0.1:1/" "$TRASH/config.yaml"
set +e
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k2.db" main..HEAD > /dev/null 2>&1
status=$?
set -e
[ "$status" = 3 ] || fail "unreachable endpoint: exit $status, want 3"
echo ok
