#!/usr/bin/env bash
# The archive's partial rerolls ([PATCH vM i/N] replying to vK i/N)
# against b4's answers (../shared/data/b4-partial-reroll.series.jsonl).
. "$(dirname "$0")/lib.sh"
xz -dc "$KREVIEW_SHARED/data/b4-partial-reroll.mbox.xz" > "$TRASH/pr.mbox"
"$KREVIEW" ingest --db "$TRASH/k.db" --mbox "$TRASH/pr.mbox"
"$KREVIEW" series list --db "$TRASH/k.db" --json > "$TRASH/series.jsonl"
python3 "$KREVIEW_TESTS/integration/compare_b4.py" \
	"$KREVIEW_SHARED/data/b4-partial-reroll.series.jsonl" "$TRASH/series.jsonl"
# a partial reroll says so and where its borrowed patches came from
id=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    s = json.loads(l)
    if "37e91ddf-6658-e587-7895-edc1c9b2e83b@kernel.dk" in s["patches"]:
        print(s["id"])' "$TRASH/series.jsonl")
[ -n "$id" ] || fail "rerolled series not found"
"$KREVIEW" series show --db "$TRASH/k.db" "$id" > "$TRASH/show"
grep -q 'partial reroll' "$TRASH/show" || fail "series show does not mention the partial reroll"
echo ok
