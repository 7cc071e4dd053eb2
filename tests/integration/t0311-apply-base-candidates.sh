#!/bin/bash
# Base candidates without a base-commit: line.  A series mailed by
# "git format-patch" (no --base) against a subsystem tree: kreview finds
# the remote-tracking branch whose URL is the MAINTAINERS "T:" entry of
# the touched section, or the one named by the subject's tree tag, and
# applies there even though HEAD and master carry conflicting changes.
# The patch applies with shifted context (offset) on the T: branch.
. "$KREVIEW_TESTS/integration/lib.sh"

r="$TRASH/repo"
git init -q -b master "$r"
cd "$r"
git config user.name "Jane Hacker"
git config user.email jane@example.org
mkdir -p io_uring net
printf 'IO_URING\nM:\tJens <j@example.org>\nT:\tgit git://git.kernel.dk/linux-block io_uring-next\nF:\tio_uring/\n\nNETWORKING\nT:\tgit https://git.kernel.org/pub/scm/linux/kernel/git/netdev/net-next.git\nF:\tnet/\n\nTHE REST\nF:\t*\nF:\t*/\n' > MAINTAINERS
seq 1 50 | sed 's/^/\t/' > io_uring/rw.c
seq 1 50 | sed 's/^/\t/' > net/core.c
git add . && git commit -qm base
git tag base

# the subsystem tree: the file moved down by 5 lines
git checkout -q -b io-next
{ printf '/* a */\n/* b */\n/* c */\n/* d */\n/* e */\n'; seq 1 50 | sed 's/^/\t/'; } > io_uring/rw.c
git commit -qam "io_uring: comments on top"
git checkout -q -b work
sed -i 's/^\t25$/\t25 changed/' io_uring/rw.c
git commit -qam "io_uring/rw: change 25"
git format-patch -q -1 --stdout > "$TRASH/io.mbox"
# master and HEAD conflict with the patch
git checkout -q master
sed -i 's/^\t25$/\t25 other/' io_uring/rw.c
git commit -qam "master: other 25"
# the io-next branch is only known as a remote-tracking branch
git remote add jens git://git.kernel.dk/linux-block.git
git update-ref refs/remotes/jens/io_uring-next io-next
git branch -q -D io-next work

out=$("$KREVIEW" apply --tree "$r" --mbox "$TRASH/io.mbox") ||
	{ echo "$out"; fail "apply failed"; }
echo "$out"
echo "$out" | grepq '^attempt 1: maintainers-tree jens/io_uring-next .*\[T: git git://git.kernel.dk/linux-block io_uring-next (IO_URING)\]: applied' ||
	fail "T: branch not found first"
tip=$(echo "$out" | tail -n 1 | sed -n 's/^base .* tip //p')
git checkout -q -b check jens/io_uring-next
git am -q "$TRASH/io.mbox" || fail "git am failed"
[ "$tip" = "$(git rev-parse HEAD^{tree})" ] || fail "tip differs from git am"
echo "ok 1 - T: remote-tracking branch, shifted context, same tree as git am"

# the same with --no-3way and a tree tag: [PATCH net-next] picks the
# remote named after the tag before the T: match
git checkout -q base
git checkout -q -b nn
sed -i 's/^\t7$/\t7 net/' net/core.c
git commit -qam "net: change 7"
git format-patch -q -1 --stdout --subject-prefix="PATCH net-next" > "$TRASH/net.mbox"
git checkout -q master
git remote add net-next https://git.kernel.org/pub/scm/linux/kernel/git/netdev/net-next.git
git update-ref refs/remotes/net-next/main base
sed -i 's/^\t7$/\t7 master/' net/core.c
git commit -qam "master: 7"
out=$("$KREVIEW" apply --tree "$r" --mbox "$TRASH/net.mbox" --no-3way) ||
	{ echo "$out"; fail "apply (tag) failed"; }
echo "$out"
echo "$out" | grepq '^attempt 1: maintainers-tree net-next/main .*\[subject tag \[net-next\] = remote name\]: applied' ||
	fail "tag candidate not first"
echo "$out" | grepq "^attempt 2: maintainers-tree net-next/main" &&
	fail "a candidate was listed twice"
echo "ok 2 - subject tree tag"

# configured branches come before the defaults, HEAD last
printf 'THE REST\nF:\t*\nF:\t*/\n' > "$TRASH/M"
git remote remove net-next
out=$("$KREVIEW" apply --tree "$r" --mbox "$TRASH/net.mbox" --branch nosuch \
	--branch base --maintainers "$TRASH/M") || { echo "$out"; fail "apply (configured)"; }
echo "$out"
echo "$out" | grepq '^attempt 1: default nosuch \[configured branch\]: not in the repository$' ||
	fail "missing configured branch not reported"
echo "$out" | grepq '^attempt 2: default base (.*) \[configured branch\]: applied' ||
	fail "configured branch not tried before the defaults"
echo "ok 3 - configured branches before the defaults"

# nothing applies: every attempt, the closest failure, exit 1
out=$("$KREVIEW" apply --tree "$r" --mbox "$TRASH/net.mbox" --no-3way) &&
	fail "apply succeeded on master"
echo "$out"
echo "$out" | grepq '^attempt 2: default master .*: failed after 0 of 1 patches: patch 1: net/core.c: hunk #1 (@@ -4,7 +4,7 @@) at line 4: context not found' ||
	fail "no failed attempt line"
echo "$out" | grepq '^closest: ' || fail "no closest failure"
echo "$out" | grepq '^failing patch: \[PATCH net-next\] net: change 7$' ||
	fail "no failing patch subject"
echo "ok 4 - no base: failure report, exit 1"
