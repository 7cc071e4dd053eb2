#!/usr/bin/env bash
# With a kernel tree configured, the daemon's replies Cc the people
# MAINTAINERS names for the touched files (M:, R:) besides the author
# and the list, never anyone named in the model's text.
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
	GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
tree="$TRASH/linux"
git init -q -b master "$tree"
cd "$tree"
mkdir -p net
printf 'X NETWORKING\nM:\tNet Maint <net@example.org>\nR:\tNet Reviewer <rev@example.org>\nL:\tnetdev@example.org\nS:\tMaintained\nF:\tnet/\n\nTHE REST\nM:\tLinus <torvalds@example.org>\nL:\tlkml@example.org\nS:\tBuried alive in reporters\nF:\t*\nF:\t*/\n' > MAINTAINERS
printf 'int x_open(void)\n{\n\treturn 0;\n}\n' > net/x.c
git add . && git commit -q -m "base"
git checkout -q -b topic
printf 'int x_open(void)\n{\n\tp = kmalloc(64, GFP_KERNEL);\n\treturn 0;\n}\n' > net/x.c
git commit -q -a -m "net: allocate in x_open"
git format-patch -q --thread --to=l@example.org -o "$TRASH/out" master..topic
cat "$TRASH"/out/*.patch > "$TRASH/series.mbox"
"$KREVIEW_BUILD/tests/mkinbox" "$TRASH/series.mbox" "$TRASH/inbox.git" > /dev/null

start_mock "$KREVIEW_TESTS/data/review/mock"
cat > "$TRASH/config.yaml" <<Y
state_dir: $TRASH/state
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$(cat "$TRASH/port")/v1
    model: mcc
    concurrency: 1
    max_attempts: 1
review:
  runs: 1
  profile: quick
  prompts: $KREVIEW_TESTS/data/review/prompts
daemon:
  tree: $tree
  sources:
    - kind: public-inbox
      path: $TRASH/inbox.git
      list: test
lists:
  - name: test
    address: l@example.org
    mode: dry-run
mail:
  from: "kreview <kreview@example.org>"
  drafts: $TRASH/drafts
Y
"$KREVIEW" daemon --config "$TRASH/config.yaml" --once 2> "$TRASH/err" ||
	{ cat "$TRASH/err"; fail "daemon failed"; }
draft=$(find "$TRASH/drafts" -type f | head -1)
[ -n "$draft" ] || { cat "$TRASH/err"; fail "no reply drafted"; }
python3 - "$draft" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
rcpt = " ".join(str(m.get_all(h, [])) for h in ("To", "Cc")).lower()
for want in ("a@example.org", "l@example.org", "net@example.org", "rev@example.org"):
    assert want in rcpt, (want, rcpt)
assert "torvalds@example.org" not in rcpt, rcpt
assert "kmalloc" in m.get_payload(decode=True).decode(), "finding missing"
print("reply recipients:", rcpt)
PY
echo ok
