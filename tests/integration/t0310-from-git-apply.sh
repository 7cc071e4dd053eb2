#!/bin/bash
# kreview series from-git turns a branch into a stored series; kreview
# apply finds its base (the base-commit: line) and applies it in memory
# to the very tree of the branch tip, with renames, new, deleted and
# mode-changed files.  Running from-git again adds nothing.
. "$KREVIEW_TESTS/integration/lib.sh"

db="$TRASH/k.db"
q() {
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$db" "$1"
}
r="$TRASH/repo"
git init -q -b master "$r"
cd "$r"
git config user.name "Jane Q. Hacker"
git config user.email jane@example.org
mkdir -p io_uring include/linux
cat > io_uring/net.c <<'C'
#include <linux/net.h>

static int io_send_prep(struct io_kiocb *req)
{
	int ret = 0;

	if (!req)
		return -EINVAL;
	return ret;
}

int io_send(struct io_kiocb *req)
{
	return io_send_prep(req);
}
C
printf '#define IO_NET 1\nstruct io_kiocb {\n\tint flags;\n};\n' > include/linux/net.h
seq 1 40 > io_uring/old-name.txt
printf '#!/bin/sh\necho hi\n' > io_uring/run.sh
echo gone > io_uring/gone.c
git add . && git commit -qm "base"
git tag base

sed -i 's/int ret = 0;/int ret = -EAGAIN;/' io_uring/net.c
git commit -qam "io_uring/net: start from -EAGAIN" -m "Signed-off-by: Jane Q. Hacker <jane@example.org>"
git mv io_uring/old-name.txt io_uring/new-name.txt
sed -i 's/^20$/twenty/' io_uring/new-name.txt
git commit -qam "io_uring: rename the list"
git rm -q io_uring/gone.c
printf 'int added(void)\n{\n\treturn 1;\n}\n' > io_uring/added.c
git add io_uring/added.c
chmod +x io_uring/run.sh
git commit -qam "io_uring: add one file, drop another, make run.sh executable"
# an empty commit is left out, as git format-patch does
git commit -q --allow-empty -m "nothing"

id=$("$KREVIEW" series from-git --db "$db" base..master) ||
	fail "from-git failed"
[ "$id" = 1 ] || fail "from-git printed '$id', wanted 1"
n1=$(q 'SELECT count(*) FROM message')
[ "$n1" = 3 ] || fail "$n1 messages stored, wanted 3"
id2=$("$KREVIEW" series from-git --db "$db" --tree "$r" base..) ||
	fail "from-git again failed"
[ "$id2" = "$id" ] || fail "second run gave series '$id2'"
[ "$(q 'SELECT count(*) FROM message')" = 3 ] ||
	fail "second run stored messages"
[ "$(q 'SELECT count(*) FROM series')" = 1 ] ||
	fail "more than one series"
"$KREVIEW" series show --db "$db" 1 | grepq 'base:     '"$(git rev-parse base)" ||
	fail "series has no base-commit"
echo "ok 1 - from-git stores one series of 3 patches, idempotent"

# a throw-away branch at HEAD that the series does not apply to
git checkout -q -b elsewhere base
echo "different" > io_uring/net.c
git commit -qam "elsewhere"

out=$("$KREVIEW" apply --tree "$r" --series 1 --db "$db") ||
	{ echo "$out"; fail "apply failed"; }
echo "$out"
want="base $(git rev-parse base) tip $(git rev-parse master^{tree})"
[ "$(echo "$out" | tail -n 1)" = "$want" ] ||
	fail "last line is not '$want'"
echo "$out" | grepq '^attempt 1: base-commit .*: applied: all 3 patches$' ||
	fail "no attempt line for base-commit"
echo "ok 2 - apply: base-commit wins, tip tree equals the branch's"

# --base first: a wrong one is recorded as failed, then base-commit wins
out=$("$KREVIEW" apply --tree "$r" --series 1 --db "$db" --base elsewhere) ||
	{ echo "$out"; fail "apply --base failed"; }
echo "$out" | grepq '^attempt 1: --base elsewhere .*failed after 0 of 3 patches: patch 1: io_uring/net.c' ||
	{ echo "$out"; fail "no failed --base attempt"; }
[ "$(echo "$out" | tail -n 1)" = "$want" ] || fail "wrong result with --base"
echo "ok 3 - apply --base: every attempt shown"

# --mbox gives the same result; --keep writes refs/kreview/ only
"$KREVIEW" series show --db "$db" --mbox 1 > "$TRASH/s.mbox"
before=$(git for-each-ref | wc -l)
out=$("$KREVIEW" apply --tree "$r" --mbox "$TRASH/s.mbox") ||
	fail "apply --mbox failed"
[ "$(echo "$out" | tail -n 1)" = "$want" ] || fail "wrong result with --mbox"
[ "$(git for-each-ref | wc -l)" = "$before" ] || fail "refs written without --keep"
git status --porcelain | grepq . && fail "the worktree changed"
"$KREVIEW" apply --tree "$r" --mbox "$TRASH/s.mbox" --keep >/dev/null ||
	fail "apply --keep failed"
[ "$(git for-each-ref refs/kreview | wc -l)" = 4 ] || fail "--keep wrote no 4 refs"
[ "$(git rev-parse "$(git for-each-ref --format='%(refname)' refs/kreview | tail -n 1)")" = \
  "$(git rev-parse master^{tree})" ] || fail "last kept ref is not the tip tree"
echo "ok 4 - apply --mbox, --keep"

# what git am makes of the same mbox
git checkout -q -b am base
git am -q "$TRASH/s.mbox" || fail "git am failed"
[ "$(git rev-parse HEAD^{tree})" = "$(git rev-parse master^{tree})" ] ||
	fail "git am differs"
echo "ok 5 - git am agrees"
