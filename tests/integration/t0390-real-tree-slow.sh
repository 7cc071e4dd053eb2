#!/bin/bash
# Real kernel code (label: slow).  Debian's linux-source-6.1 package
# ships /usr/src/linux-source-6.1.tar.xz; io_uring/, include/linux/ and
# MAINTAINERS are imported into a fresh git repository.  Two real
# io_uring patches from the 2024H1 archive slice that still apply to
# 6.1 are applied in memory (the tree must equal what git apply makes),
# their code context is extracted (enclosing functions, definitions
# found through the symbol index in io_uring/ and include/linux/), and
# MAINTAINERS maps real paths to IO_URING.
. "$KREVIEW_TESTS/integration/lib.sh"

tarball=/usr/src/linux-source-6.1.tar.xz
if [ ! -r "$tarball" ]; then
	echo "SKIP: $tarball not found: install the Debian package" \
		"linux-source-6.1 (apt-get install linux-source-6.1) to run" \
		"the real-tree test"
	exit 0
fi

r="$TRASH/linux"
start=$(date +%s)
tar -C "$TRASH" -xJf "$tarball" linux-source-6.1/io_uring \
	linux-source-6.1/include/linux linux-source-6.1/MAINTAINERS ||
	fail "cannot extract $tarball"
mv "$TRASH/linux-source-6.1" "$r"
cd "$r"
git init -q -b master .
git add .
git -c user.name=kreview -c user.email=kreview@localhost commit -qm "linux 6.1: io_uring, include/linux, MAINTAINERS"
echo "# imported $(git ls-files | wc -l) files in $(( $(date +%s) - start )) s"

# 1: "io_uring/net: ensure async prep handlers always initialize
# ->done_io" (net.c, three functions); 2: "io_uring: refill request
# cache in memory order" (io_uring.c, struct io_kiocb)
python3 - "$(slice_mbox)" "$TRASH/series.mbox" <<'PY' || fail "patches not in the slice"
import mailbox, sys
want = ["<95eec2d1-e1f2-4514-b4ed-d33a0c81a6ab@kernel.dk>",
        "<eb71eb39-abaf-4ba5-8a71-a112bd5de377@kernel.dk>"]
found = {}
for key, m in mailbox.mbox(sys.argv[1]).iteritems():
    if m["message-id"] in want:
        found[m["message-id"]] = m
out = mailbox.mbox(sys.argv[2])
for w in want:
    out.add(found[w])
out.flush()
PY

out=$("$KREVIEW" apply --tree "$r" --mbox "$TRASH/series.mbox") ||
	{ echo "$out"; fail "apply failed"; }
echo "$out"
tip=$(echo "$out" | tail -n 1 | sed -n 's/^base [0-9a-f]* tip //p')
mkdir "$TRASH/split"
git mailsplit -o"$TRASH/split" "$TRASH/series.mbox" >/dev/null
export GIT_INDEX_FILE="$TRASH/index"
git read-tree HEAD
for p in "$TRASH"/split/*; do
	git apply --cached "$p" || fail "git apply failed on $p"
done
want=$(git write-tree)
unset GIT_INDEX_FILE
[ "$tip" = "$want" ] || fail "tip $tip, git apply made $want"
echo "ok 1 - two 2024 patches applied to 6.1 in memory, same tree as git apply"

"$KREVIEW" -v context --tree "$r" --mbox "$TRASH/series.mbox" --json \
	> "$TRASH/ctx.json" 2> "$TRASH/ctx.err" ||
	{ cat "$TRASH/ctx.err"; fail "context failed"; }
grep 'symbol index' "$TRASH/ctx.err"
python3 - "$TRASH/ctx.json" <<'PY' || fail "context is missing something"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["applied"] == 2, d["applied"]
items = [[(i["path"], i["kind"], i["name"], i["role"], i["image"])
          for i in p["context"]["items"]] for p in d["patches"]]
for p in d["patches"]:
    c = p["context"]
    print("patch %d: %d items, %d bytes" % (p["index"], len(c["items"]), c["bytes"]))
    for i in c["items"]:
        print("   %s:%d-%d %s %s (%s, %s, %d bytes)" % (i["path"], i["start"],
              i["end"], i["kind"], i["name"], i["role"], i["image"], i["bytes"]))
one, two = items
for fn in ("io_send_prep_async", "io_sendmsg_prep_async", "io_recvmsg_prep_async"):
    for img in ("pre", "post"):
        assert ("io_uring/net.c", "function", fn, "enclosing", img) in one, (fn, img)
assert ("io_uring/net.c", "struct", "io_sr_msg", "definition", "post") in one
assert ("include/linux/io_uring_types.h", "macro", "io_kiocb_to_cmd",
        "definition", "post") in one
assert ("io_uring/io_uring.c", "function", "__io_alloc_req_refill",
        "enclosing", "post") in two
assert ("include/linux/io_uring_types.h", "struct", "io_kiocb",
        "definition", "post") in two
assert d["bytes"] == sum(p["context"]["bytes"] for p in d["patches"])
PY
echo "ok 2 - context: enclosing functions and definitions from the symbol index"

out=$("$KREVIEW" maintainers --file "$r/MAINTAINERS" --tree "$r" --json \
	io_uring/net.c io_uring/io_uring.c include/linux/io_uring_types.h \
	include/linux/mm.h) || fail "maintainers failed"
echo "$out"
python3 - "$out" <<'PY' || fail "wrong MAINTAINERS mapping"
import json, sys
d = json.loads(sys.argv[1])
for p in ("io_uring/net.c", "io_uring/io_uring.c", "include/linux/io_uring_types.h"):
    assert d[p][0] == "IO_URING", (p, d[p])
    assert d[p][-1] == "THE REST", (p, d[p])
assert "NETWORKING [GENERAL]" not in d["io_uring/net.c"], d["io_uring/net.c"]
assert d["include/linux/mm.h"][0] == "MEMORY MANAGEMENT", d["include/linux/mm.h"]
PY
echo "ok 3 - MAINTAINERS of 6.1: io_uring paths map to IO_URING"

db="$TRASH/k.db"
"$KREVIEW" ingest --db "$db" --mbox "$TRASH/series.mbox" >/dev/null ||
	fail "ingest failed"
out=$("$KREVIEW" maintainers --file "$r/MAINTAINERS" --series 1 --db "$db") ||
	fail "maintainers --series failed"
echo "$out"
[ "${out%%$'\n'*}" = "IO_URING" ] || fail "series not IO_URING first"
echo "ok 4 - maintainers --series on a real patch"
echo "# $(( $(date +%s) - start )) s in all"
