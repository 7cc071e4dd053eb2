#!/usr/bin/env bash
# A provider that says the prompt is over its context window: the stage
# is sent once more without the code context (not retried blindly), and
# the review goes on and says so.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
	GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
repo="$TRASH/repo"
git init -q -b main "$repo"
cd "$repo"
printf 'int do_recv(struct sock *sk, int len)\n{\n\tint ret;\n\n\tret = prepare(sk);\n\treturn ret;\n}\n' > net.c
git add net.c && git commit -q -m "base"
git checkout -q -b topic
sed -i 's/^\tret = prepare(sk);$/\tret = prepare(sk);\n\tif (ret)\n\t\treturn ret;/' net.c
git commit -q -a -m "net: return early"

start_mock "$KREVIEW_TESTS/data/review/mock"
cat > "$TRASH/config.yaml" <<Y
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$(cat "$TRASH/port")/v1
    model: overflow
    concurrency: 1
review:
  runs: 1
  profile: quick
  prompts: $KREVIEW_TESTS/data/review/prompts
Y
"$KREVIEW" check --config "$TRASH/config.yaml" --db "$TRASH/k.db" --format json \
	main..topic > "$TRASH/out.json" 2> "$TRASH/err" || { cat "$TRASH/err"; fail "check failed"; }
[ "$(grep -c '"n":' "$TRASH/mock.log")" = 2 ] || fail "expected exactly 2 requests (no blind retry)"
python3 - "$TRASH/mock.log" "$TRASH/out.json" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
first, second = (json.dumps(json.loads(r["body"])["messages"]) for r in reqs)
assert "code-context" in first, "the first request had no code context"
assert "code-context" not in second, "the second request still carries the context"
assert "do_recv" in second, "the patch itself must stay"
out = json.load(open(sys.argv[2]))
assert any("over the model's context" in n for n in out["notes"]), out["notes"]
assert out["usage"]["failed"] == 0, out["usage"]
print("shrunk once, review completed")
PY
echo ok
