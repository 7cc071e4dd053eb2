#!/usr/bin/env bash
# List mode (kreview review) with three passes: a high finding seen in
# two passes of three is reported with support 2/3 after verification;
# a low finding seen once is dropped (low findings are for local checks
# only).  Four requests: three passes of one stage, one verification.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
	GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
repo="$TRASH/repo"
git init -q -b main "$repo"
cd "$repo"
printf 'int do_recv(struct sock *sk, int len)\n{\n\tchar *buf;\n\tint ret;\n\n\tret = prepare(sk);\n\treturn ret;\n}\n' > net.c
git add net.c && git commit -q -m "base"
git checkout -q -b topic
sed -i 's/^\tint ret;$/\tint ret;\n\tbuf = kmalloc(len, GFP_KERNEL);/' net.c
git commit -q -a -m "net: allocate a receive buffer"
id=$("$KREVIEW" series from-git --db "$TRASH/k.db" --tree "$repo" main..topic | grep -o '[0-9]\+' | head -1)

start_mock "$KREVIEW_TESTS/data/review/mock"
cat > "$TRASH/config.yaml" <<Y
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$(cat "$TRASH/port")/v1
    model: list3
    concurrency: 1
    max_attempts: 1
review:
  runs: 3
  profile: quick
  prompts: $KREVIEW_TESTS/data/review/prompts
Y
"$KREVIEW" review --config "$TRASH/config.yaml" --db "$TRASH/k.db" --tree "$repo" \
	"$id" > "$TRASH/out" 2> "$TRASH/err" || { cat "$TRASH/err"; fail "review failed"; }
[ "$(grep -c '"n":' "$TRASH/mock.log")" = 4 ] || fail "expected 4 requests"
python3 - "$TRASH/k.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select severity, support, runs, reported, dropped, verdict from review_finding"
                  " order by severity").fetchall()
assert sorted(rows) == sorted([("high", 2, 3, 1, None, "confirmed"),
                               ("low", 1, 3, 0, "threshold", "unverified")]), rows
print("support 2/3 reported, lone low dropped in list mode")
PY
grep -q "buf from kmalloc leaks" "$TRASH/out" || fail "text output lacks the finding"
echo ok
