#!/usr/bin/env bash
# kreview review: the t0500 series stored with 'series from-git', then
# reviewed from the database against the mock; the review, its usage and
# every finding (reported and dropped) are stored.
. "$(dirname "$0")/lib.sh"
repo="$TRASH/repo"
mock_net_repo "$repo"
"$KREVIEW" series from-git --db "$TRASH/k.db" --tree "$repo" main..topic > "$TRASH/id"
id=$(grep -o '[0-9]\+' "$TRASH/id" | head -1)
[ -n "$id" ] || fail "from-git printed no series id: $(cat "$TRASH/id")"

start_mock "$KREVIEW_TESTS/data/review/mock"
mock_review_yaml > "$TRASH/config.yaml"
"$KREVIEW" review --config "$TRASH/config.yaml" --db "$TRASH/k.db" --tree "$repo" \
	--format json "$id" > "$TRASH/out.json" 2> "$TRASH/err" ||
	{ cat "$TRASH/err"; fail "review failed"; }
cat "$TRASH/err"
grep -q "stored: 2 findings reported, 4 dropped" "$TRASH/err" || fail "summary"
python3 - "$TRASH/k.db" "$id" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rev = db.execute("select id, series_id, runs, requests, cached, failed from review").fetchall()
assert len(rev) == 1 and rev[0][1] == int(sys.argv[2]) and rev[0][2] == 2 and rev[0][3] == 9, rev
rows = db.execute("select patch, reported, dropped, verdict, pre_existing, title from review_finding order by id").fetchall()
assert len(rows) == 6, rows
rep = [r for r in rows if r[1]]
assert sorted(r[5][:20] for r in rep) == sorted(["buf from kmalloc is ", "sk_prot may be NULL "]), rep
drops = sorted(r[2] for r in rows if not r[1])
assert drops == ["duplicate", "fixed-later", "refuted", "threshold"], drops
print("stored review as expected")
PY
echo ok
