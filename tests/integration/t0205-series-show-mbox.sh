#!/usr/bin/env bash
# `series show --mbox` gives an mbox that `git am` applies unchanged:
# a series made with git format-patch (cover letter, 3 patches, sent out
# of order) is ingested, shown as an mbox and applied to its base; the
# result has the same tree as the original branch.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
	GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
repo="$TRASH/repo"
git init -q -b main "$repo"
cd "$repo"
printf 'int a(void)\n{\n\treturn 1;\n}\n' > a.c
git add a.c && git commit -q -m "base"
git checkout -q -b topic
for i in 1 2 3; do
	printf 'int f%d(void)\n{\n\treturn %d;\n}\n' "$i" "$i" >> a.c
	printf 'From mbox line in body %d\n' "$i" > "note$i.txt"
	git add a.c "note$i.txt"
	git commit -q -m "add f$i" -m "Body of patch $i.

Signed-off-by: A Dev <a@example.org>"
done
git format-patch -q --cover-letter --thread --base=main -o "$TRASH/out" main..topic
# deliver out of order: 2, 0, 3, 1
{ for n in 2 0 3 1; do
	echo "From mboxrd@z Thu Jan  1 00:00:00 1970"
	sed -e '1d' -e 's/^\(>*From \)/>\1/' "$TRASH"/out/000"$n"-*.patch
	echo
done; } > "$TRASH/series.mbox"
cd "$TRASH"
"$KREVIEW" ingest --db k.db --mbox series.mbox
"$KREVIEW" series list --db k.db --json > list.jsonl
[ "$(wc -l < list.jsonl)" = 1 ] || fail "expected one series: $(cat list.jsonl)"
python3 - list.jsonl <<'PY'
import json, sys
s = json.loads(open(sys.argv[1]).read())
assert s["total"] == 3 and s["complete"] and s["cover"], s
assert all(s["patches"]), s
PY
"$KREVIEW" series show --db k.db 1 > show.txt
grep -q '^base:     ' show.txt || fail "base-commit not shown"
"$KREVIEW" series show --db k.db --mbox 1 > am.mbox
git clone -q "$repo" applied
cd applied
git checkout -q main
git am -q ../am.mbox || fail "git am refused the mbox"
[ "$(git rev-parse HEAD^{tree})" = "$(git -C "$repo" rev-parse topic^{tree})" ] ||
	fail "applied tree differs from the original branch"
[ "$(git log --format=%s main~3..main | tr '\n' ' ')" = "add f3 add f2 add f1 " ] ||
	fail "commit subjects differ"
echo ok
