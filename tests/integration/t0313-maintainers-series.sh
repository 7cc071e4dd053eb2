#!/bin/bash
# kreview maintainers --series: both names of a rename, every file of
# every patch, and K: keywords in the commit message and +/- lines (not
# in context lines).
. "$KREVIEW_TESTS/integration/lib.sh"

db="$TRASH/k.db"
r="$TRASH/repo"
git init -q -b master "$r"
cd "$r"
git config user.name "Jane Hacker"
git config user.email jane@example.org
mkdir -p old new other
cat > MAINTAINERS <<'M'
OLD PLACE
F:	old/

NEW PLACE
F:	new/

OTHER
F:	other/

KEYWORD IN MESSAGE
K:	\bfrobnicate\b

KEYWORD IN CONTEXT ONLY
K:	quuxify

THE REST
F:	*
F:	*/
M
seq 1 20 > old/file.txt
printf 'a\nquuxify\nb\nc\nd\n' > other/x.c
git add . && git commit -qm base
git mv old/file.txt new/file.txt
git commit -qm "move the file" -m "We frobnicate it elsewhere."
sed -i 's/^c$/c2/' other/x.c
git commit -qam "other: change"
"$KREVIEW" series from-git --db "$db" master~2..master >/dev/null ||
	fail "from-git failed"

out=$("$KREVIEW" maintainers --series 1 --db "$db" --file MAINTAINERS --json) ||
	fail "maintainers --series failed"
echo "$out"
python3 - "$out" <<'PY' || fail "wrong sections"
import json, sys
d = json.loads(sys.argv[1])
assert d["paths"] == ["new/file.txt", "old/file.txt", "other/x.c"], d["paths"]
s = d["sections"]
for want in ("OLD PLACE", "NEW PLACE", "OTHER", "THE REST", "KEYWORD IN MESSAGE"):
    assert want in s, (want, s)
assert "KEYWORD IN CONTEXT ONLY" not in s, s
assert s.index("KEYWORD IN MESSAGE") == len(s) - 1, s
PY
echo "ok 1 - maintainers --series --json"

out=$(cd "$r" && "$KREVIEW" maintainers --series 1 --db "$db" --depth) ||
	fail "maintainers --series --depth failed"
echo "$out"
echo "$out" | grepq "^K	KEYWORD IN MESSAGE$" || fail "no keyword depth"
st=0
"$KREVIEW" maintainers --series 1 --db "$db" --file MAINTAINERS new/x 2>/dev/null || st=$?
[ $st = 2 ] || fail "--series with PATH is not a usage error"
echo "ok 2 - maintainers --series text, usage"
