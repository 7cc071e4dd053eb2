#!/usr/bin/env bash
# The same slice ingested as an mbox, as stdin, as a maildir, as a
# public-inbox epoch (built from the mbox with libgit2) and through a
# notmuch query yields identical `series list --json`.
. "$(dirname "$0")/lib.sh"
mbox=$(slice_mbox)
H="$KREVIEW_BUILD/tests"

"$KREVIEW" ingest --db "$TRASH/mbox.db" --mbox "$mbox" > /dev/null 2>&1
"$KREVIEW" series list --db "$TRASH/mbox.db" --json > "$TRASH/mbox.jsonl"
[ "$(wc -l < "$TRASH/mbox.jsonl")" -gt 200 ] || fail "too few series from the mbox"

"$KREVIEW" ingest --db "$TRASH/stdin.db" --mbox - < "$mbox" > /dev/null 2>&1
"$KREVIEW" series list --db "$TRASH/stdin.db" --json > "$TRASH/stdin.jsonl"
cmp "$TRASH/mbox.jsonl" "$TRASH/stdin.jsonl" || fail "stdin differs from mbox"

"$H/mkmaildir" "$mbox" "$TRASH/maildir"
"$KREVIEW" ingest --db "$TRASH/maildir.db" --maildir "$TRASH/maildir" > /dev/null 2>&1
"$KREVIEW" series list --db "$TRASH/maildir.db" --json > "$TRASH/maildir.jsonl"
cmp "$TRASH/mbox.jsonl" "$TRASH/maildir.jsonl" || fail "maildir differs from mbox"

"$H/mkinbox" "$mbox" "$TRASH/0.git"
"$KREVIEW" ingest --db "$TRASH/inbox.db" --public-inbox "$TRASH/0.git" > "$TRASH/inbox.out" 2>&1
"$KREVIEW" series list --db "$TRASH/inbox.db" --json > "$TRASH/inbox.jsonl"
cmp "$TRASH/mbox.jsonl" "$TRASH/inbox.jsonl" || fail "public-inbox differs from mbox"
# resuming from the stored cursor reads nothing new
"$KREVIEW" ingest --db "$TRASH/inbox.db" --public-inbox "$TRASH/0.git" > "$TRASH/inbox2.out"
grep -q '^0 messages read' "$TRASH/inbox2.out" || fail "public-inbox resume re-read: $(cat "$TRASH/inbox2.out")"

"$H/mknotmuch" "$TRASH/maildir" > /dev/null
"$KREVIEW" ingest --db "$TRASH/nm.db" --notmuch "$TRASH/maildir" --query '*' > /dev/null 2>&1
"$KREVIEW" series list --db "$TRASH/nm.db" --json > "$TRASH/nm.jsonl"
# notmuch hands messages out oldest first by Date, not in archive order,
# so series ids may be numbered differently: compare the content, with
# prev_version mapped to the subject/version it points at
norm() {
	python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by_id = {r["id"]: r for r in rows}
out = []
for r in rows:
    p = by_id.get(r["prev_version"])
    r["prev_version"] = (p["subject"], p["version"]) if p else None
    del r["id"]
    out.append(json.dumps(r, sort_keys=True))
print("\n".join(sorted(out)))' "$1"
}
norm "$TRASH/mbox.jsonl" > "$TRASH/mbox.norm"
norm "$TRASH/nm.jsonl" > "$TRASH/nm.norm"
diff "$TRASH/mbox.norm" "$TRASH/nm.norm" || fail "notmuch differs from mbox"
echo ok
