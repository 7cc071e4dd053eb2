#!/bin/bash
# kreview maintainers against get_maintainer.pl: the oracle file lists,
# for 411 paths touched in the io_uring 2024H1 slice, the sections that
# "scripts/get_maintainer.pl --sections -f PATH" printed for the
# MAINTAINERS of linux-source-6.12.  We map all 411 paths with one
# --json call and compare as sets (ties come in Perl hash order) and,
# separately, the order of sections of different depth.  The test fails
# below 100% set agreement unless the path is listed in KNOWN below
# with the reason for the disagreement.
set -euo pipefail

: "${KREVIEW:?}" "${KREVIEW_SHARED:?}"
oracle="$KREVIEW_SHARED/data/maintainers-oracle-2024H1.jsonl"
maint="$KREVIEW_SHARED/data/MAINTAINERS"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "not ok - $*"; exit 1; }

# Disagreements we accept, one "path<TAB>reason" per line.  Empty:
# every path agrees.
KNOWN=""

python3 -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["path"])
' "$oracle" >"$tmp/paths"
[ "$(wc -l <"$tmp/paths")" -eq 411 ] || fail "oracle does not have 411 paths"

# Run away from any kernel tree: no --tree, the heuristic decides
# directories (the oracle was made in a full tree).
(cd "$tmp" && xargs -d '\n' "$KREVIEW" maintainers --no-tree --json \
	--file "$maint" <"$tmp/paths" >"$tmp/out.json" 2>"$tmp/err") ||
	{ cat "$tmp/err"; fail "kreview maintainers failed"; }
[ ! -s "$tmp/err" ] || { cat "$tmp/err"; fail "unexpected stderr"; }
(cd "$tmp" && xargs -d '\n' "$KREVIEW" maintainers --no-tree --depth \
	--file "$maint" <"$tmp/paths" >"$tmp/out.depth") ||
	fail "kreview maintainers --depth failed"
echo "ok 1 - kreview maintainers --json over 411 paths"

KNOWN="$KNOWN" python3 - "$oracle" "$tmp/out.json" "$tmp/out.depth" \
	<<'PY' || fail "oracle disagreement"
import json, os, sys
oracle = [json.loads(l) for l in open(sys.argv[1])]
got = json.load(open(sys.argv[2]))
depth = {}  # (path, title) -> our depth
cur = None
for line in open(sys.argv[3]):
    line = line.rstrip("\n")
    if not line.startswith("\t"):
        cur = line[:-1]
        continue
    d, title = line[1:].split("\t", 1)
    depth[(cur, title)] = int(d)
known = {}
for line in os.environ.get("KNOWN", "").splitlines():
    if line.strip():
        p, why = line.split("\t", 1)
        known[p] = why
set_ok = order_ok = tie_ok = 0
bad = []
for rec in oracle:
    path, want = rec["path"], rec["sections"]
    have = got.get(path)
    if have is None:
        bad.append((path, "missing from output"))
        continue
    if set(have) == set(want) and len(have) == len(want):
        set_ok += 1
        if have == want:
            order_ok += 1
        # the oracle's order must be ours up to permutations among
        # sections of equal depth (Perl hash order)
        dw = [depth[(path, t)] for t in want]
        if dw == sorted(dw, reverse=True):
            tie_ok += 1
        else:
            bad.append((path, f"order {want} vs depths {dw}"))
    elif path in known:
        print(f"# known disagreement {path}: {known[path]}")
    else:
        bad.append((path, f"want {want} have {have}"))
n = len(oracle)
print(f"# set agreement {set_ok}/{n} = {100.0 * set_ok / n:.2f}%")
print(f"# order agreement up to ties {tie_ok}/{n} = {100.0 * tie_ok / n:.2f}%")
print(f"# identical order (ties broken by file order) {order_ok}/{n}")
for p, why in bad:
    print(f"# DISAGREE {p}: {why}")
sys.exit(1 if bad else 0)
PY
echo "ok 2 - set agreement with get_maintainer.pl"

# A fixture kernel tree: directories decide the auto-slash rule.
tree="$tmp/linux"
mkdir -p "$tree/fs/foo" "$tree/drivers/foo.bar" "$tree/kernel" \
	"$tree/scripts" "$tree/lib/broken"
touch "$tree/Kbuild"
cp "$KREVIEW_TESTS/data/maint/MAINTAINERS" "$tree/MAINTAINERS"

expect() { # expect WANT -- command...
	local want=$1 got
	shift
	got=$("$@" 2>"$tmp/stderr") || fail "'$*' failed: $(cat "$tmp/stderr")"
	[ "$got" = "$want" ] || fail "'$*': want '$want', got '$got'"
}

(
	cd "$tree"
	# default ./MAINTAINERS, the tree found next to it
	expect $'FOO FILESYSTEM\nTHE REST' "$KREVIEW" maintainers fs/foo/a/b.c
	# fs/foo is a directory: fs/foobar.c is not below it
	expect 'THE REST' "$KREVIEW" maintainers fs/foobar.c
	# without a tree the script would treat "fs/foo" as a file pattern
	expect $'FOO FILESYSTEM\nTHE REST' "$KREVIEW" maintainers --no-tree \
		fs/foobar.c
	# the script tests -d on "drivers/foo\.bar": a dotted directory
	# never gets its slash
	expect 'THE REST' "$KREVIEW" maintainers drivers/foo.bar/x.c
	# a directory argument gets its slash back; ./ and // cleaned up
	expect $'FOO FILESYSTEM\nTHE REST' "$KREVIEW" maintainers ./fs//foo
	expect '{"fs/foo/": ["FOO FILESYSTEM", "THE REST"], "Makefile": ["THE REST"]}' \
		"$KREVIEW" maintainers --json fs/foo Makefile
	expect $'fs/foo/x.c:\n\t2\tFOO FILESYSTEM\n\t-1\tTHE REST\nlib/broken/y.c:\n\t2\tBROKEN REGEX\n\t-1\tTHE REST' \
		"$KREVIEW" maintainers --depth fs/foo/x.c lib/broken/y.c
	# the bad N: is reported with file and line, the section still works
	grep -q "MAINTAINERS:19: bad N: pattern 'broken('" "$tmp/stderr" ||
		fail "no diagnostic for the bad regex: $(cat "$tmp/stderr")"
) || exit 1
echo "ok 3 - directories from a tree, path clean-up, text/json/depth output"

set +e
(cd "$tmp" && "$KREVIEW" maintainers fs/x.c) >/dev/null 2>"$tmp/stderr"
rc=$?
set -e
[ $rc -eq 1 ] || fail "no MAINTAINERS: exit $rc, want 1"
grep -q "no ./MAINTAINERS here" "$tmp/stderr" || fail "no clear message"
for args in "" "--file" "--bogus x" "--file $tree/MAINTAINERS"; do
	set +e
	# shellcheck disable=SC2086
	"$KREVIEW" maintainers $args >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "usage error '$args': exit $rc, want 2"
done
printf '\tprose only\n' >"$tmp/M3"
set +e
"$KREVIEW" maintainers --file "$tmp/M3" x >/dev/null 2>"$tmp/stderr"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "no sections found" "$tmp/stderr" ||
	fail "prose-only file: exit $rc $(cat "$tmp/stderr")"
echo "ok 4 - errors: missing file, usage, file without sections"
echo "1..4"
