#!/usr/bin/env bash
# Ingest the real io-uring slice as an mbox and compare series assembly
# with b4's (../shared/data/io-uring-2024H1.series.jsonl).
. "$(dirname "$0")/lib.sh"
mbox=$(slice_mbox)
"$KREVIEW" ingest --db "$TRASH/k.db" --mbox "$mbox" > "$TRASH/out" 2> "$TRASH/err" ||
	{ cat "$TRASH/err"; fail "ingest failed"; }
cat "$TRASH/out"
grep -q '^2026 messages read, 2022 new, ' "$TRASH/out" || fail "unexpected summary"
"$KREVIEW" series list --db "$TRASH/k.db" --json > "$TRASH/series.jsonl"
python3 "$KREVIEW_TESTS/integration/compare_b4.py" "$ORACLE" "$TRASH/series.jsonl"

# Ingesting the same file again adds nothing and changes nothing.
"$KREVIEW" ingest --db "$TRASH/k.db" --mbox "$mbox" > "$TRASH/out2"
grep -q '^0 messages read, 0 new, 0 patches, 0 series revisions created, 0 updated' "$TRASH/out2" ||
	fail "re-ingest was not a no-op: $(cat "$TRASH/out2")"
"$KREVIEW" series list --db "$TRASH/k.db" --json > "$TRASH/series2.jsonl"
cmp -s "$TRASH/series.jsonl" "$TRASH/series2.jsonl" || fail "series changed on re-ingest"
echo "ok"
