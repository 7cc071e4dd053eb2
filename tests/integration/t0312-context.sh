#!/bin/bash
# kreview context: per patch the enclosing functions (pre and post
# image), the definitions of referenced types and functions found
# through the symbol index, byte counts per item, per patch and in
# total; --json parses; a small --budget drops items and says so.
. "$KREVIEW_TESTS/integration/lib.sh"

db="$TRASH/k.db"
r="$TRASH/repo"
git init -q -b master "$r"
cd "$r"
git config user.name "Jane Hacker"
git config user.email jane@example.org
mkdir -p io_uring include/linux
cat > include/linux/io_uring_types.h <<'C'
struct io_kiocb {
	unsigned int flags;
	int result;
};

static inline bool req_has_flag(struct io_kiocb *req, unsigned int f)
{
	return req->flags & f;
}
C
cat > io_uring/rw.c <<'C'
#include <linux/io_uring_types.h>

static int io_rw_init(struct io_kiocb *req)
{
	req->result = 0;
	return 0;
}

int io_read(struct io_kiocb *req, unsigned int issue_flags)
{
	int ret;

	ret = io_rw_init(req);
	if (ret)
		return ret;
	return 0;
}
C
git add . && git commit -qm base
sed -i 's/\tif (ret)/\tif (ret || req_has_flag(req, issue_flags) ||\n\t    sizeof(struct io_kiocb) > 64)/' io_uring/rw.c
git commit -qam "io_uring/rw: honour the flags"

"$KREVIEW" series from-git --db "$db" master~1..master >/dev/null ||
	fail "from-git failed"
out=$("$KREVIEW" context --tree "$r" --series 1 --db "$db") ||
	{ echo "$out"; fail "context failed"; }
echo "$out"
echo "$out" | grepq '^=== patch 1/1: \[PATCH\] io_uring/rw: honour the flags ([0-9]* bytes of context) ===$' ||
	fail "no patch header with bytes"
echo "$out" | grepq '^== io_uring/rw.c:9-18 function io_read (post-image, [0-9]* bytes) ==$' ||
	fail "no enclosing function"
echo "$out" | grepq '^== io_uring/rw.c:9-17 function io_read (pre-image, [0-9]* bytes) ==$' ||
	fail "no pre-image function"
echo "$out" | grepq '^== include/linux/io_uring_types.h:6-9 function req_has_flag (post-image, [0-9]* bytes) ==$' ||
	fail "no referenced function definition"
echo "$out" | grepq '^== include/linux/io_uring_types.h:1-4 struct io_kiocb' ||
	fail "no struct definition"
echo "$out" | grepq '^=== 1 of 1 patches, [0-9]* bytes of context (budget 49152 per patch) ===$' ||
	fail "no total"
echo "ok 1 - context: functions, definitions, byte counts"

"$KREVIEW" context --tree "$r" --series 1 --db "$db" --json > "$TRASH/c.json" ||
	fail "context --json failed"
python3 - "$TRASH/c.json" <<'PY' || fail "bad JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["applied"] == 1 and d["total"] == 1, d
p = d["patches"][0]
c = p["context"]
assert c["bytes"] == sum(i["bytes"] for i in c["items"]), c["bytes"]
assert d["bytes"] == c["bytes"]
names = {(i["name"], i["role"]) for i in c["items"]}
assert ("io_read", "enclosing") in names, names
assert ("req_has_flag", "definition") in names, names
PY
echo "ok 2 - context --json"

out=$("$KREVIEW" context --tree "$r" --series 1 --db "$db" --budget 200) ||
	fail "context --budget failed"
echo "$out" | tail -n 2
echo "$out" | grepq '^== [0-9]* items, [0-9]* bytes; dropped [1-9][0-9]* items, [0-9]* bytes ==$' ||
	fail "nothing dropped with a budget of 200"
echo "ok 3 - context --budget"

st=0
"$KREVIEW" context --tree "$r" --series 1 --db "$db" --budget x 2>/dev/null || st=$?
[ $st = 2 ] || fail "bad --budget is not a usage error"
"$KREVIEW" context --tree "$r" --series 9 --db "$db" 2>"$TRASH/err" && fail "unknown series"
grep -q 'no series 9' "$TRASH/err" || fail "unknown series not named"
echo "ok 4 - bad arguments"
