#!/usr/bin/env python3
"""Compare `kreview series list --json` with b4's assembly (the oracle).

For every revision b4 produced, find the kreview revision holding the
same patches and check version, cover and ordered patch list.  Known
disagreements where b4 0.12 is wrong are listed in KNOWN with the
reason; they are reported separately.  Exit 1 when the agreement over
all b4 revisions (documented b4 errors, verified, counted for kreview)
is below the threshold.
"""
import json
import sys

THRESHOLD = float(sys.argv[3]) if len(sys.argv) > 3 else 0.98

# (thread_root, b4 revision) -> (kreview's version, kreview's cover, why).
# b4 0.12 trusts a cover letter only when it carries a diffstat: Jens
# Axboe's "[PATCHSET vN 0/M]" covers have none, so b4 leaves the
# "[PATCH i/M]" replies in v1 without a cover and makes vN a cover-only
# revision (data/README.md, "How b4 behaves", case 3).  kreview gives
# the patches the revision and cover of the 0/M letter they reply to.
# Each entry is checked: kreview must give exactly that answer.
B4_NO_DIFFSTAT = "b4 0.12 ignores a 0/M cover without diffstat (case 3)"
KNOWN = {
    ("20240206163422.646218-1-axboe@kernel.dk", 1):
        (16, "20240206163422.646218-1-axboe@kernel.dk", B4_NO_DIFFSTAT),
    ("20240207171941.1091453-1-axboe@kernel.dk", 1):
        (2, "20240207171941.1091453-1-axboe@kernel.dk", B4_NO_DIFFSTAT),
    ("20240225003941.129030-1-axboe@kernel.dk", 1):
        (3, "20240225003941.129030-1-axboe@kernel.dk", B4_NO_DIFFSTAT),
    ("20240226192458.396832-1-axboe@kernel.dk", 1):
        (4, "20240226192458.396832-1-axboe@kernel.dk", B4_NO_DIFFSTAT),
    ("20240530152822.535791-2-axboe@kernel.dk", 1):
        (2, "20240530152822.535791-2-axboe@kernel.dk", B4_NO_DIFFSTAT),
    # b4-partial-reroll slice: the same cover problem, and then the
    # "[PATCH v2 4/4]" reroll of that v4 series borrows patches 1-3 and
    # the cover from it.
    ("20211216160537.73236-1-axboe@kernel.dk", 1):
        (4, "20211216160537.73236-1-axboe@kernel.dk", B4_NO_DIFFSTAT),
    ("20211216160537.73236-1-axboe@kernel.dk", 2):
        (2, "20211216160537.73236-1-axboe@kernel.dk",
         "the partial reroll inherits the cover of the v4 series b4 did not see (case 3)"),
}

def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]

def main():
    oracle = load(sys.argv[1])
    ours = load(sys.argv[2])
    by_msgid = {}
    for s in ours:
        for m in s["patches"] + [s["cover"]]:
            if m:
                by_msgid.setdefault(m, []).append(s)
    total = agree = known = 0
    problems = []
    for t in oracle:
        for r in t["revisions"]:
            total += 1
            key = (t["thread_root"], r["revision"])
            first = next((p for p in r["patches"] if p), None)
            cands = by_msgid.get(first, []) if first else []
            match = None
            for s in cands:
                if s["patches"] == r["patches"]:
                    match = s
                    break
            if match is None and cands:
                match = cands[0]
            why = []
            if match is None:
                why.append("no kreview series holds %s" % first)
            else:
                if match["version"] != r["revision"]:
                    why.append("version %s, b4 %s" % (match["version"], r["revision"]))
                if match["cover"] != r["cover"]:
                    why.append("cover %s, b4 %s" % (match["cover"], r["cover"]))
                if match["patches"] != r["patches"]:
                    why.append("patches %s, b4 %s" % (match["patches"], r["patches"]))
                if match["complete"] != r["complete"]:
                    why.append("complete %s, b4 %s" % (match["complete"], r["complete"]))
            if not why:
                agree += 1
            elif (key in KNOWN and match is not None
                  and match["version"] == KNOWN[key][0]
                  and match["cover"] == KNOWN[key][1]
                  and match["patches"] == r["patches"]):
                known += 1
                problems.append("b4 wrong: %s v%s: %s -- %s" % (key[0], key[1], "; ".join(why), KNOWN[key][2]))
            else:
                problems.append("DISAGREE: %s v%s [%s]: %s" % (key[0], key[1], t["root_subject"][:60], "; ".join(why)))
    for p in problems:
        print(p)
    raw = agree / total if total else 0.0
    ratio = (agree + known) / total if total else 0.0
    print("agreement with b4: %d of %d revisions (%.1f%%); with the %d documented b4 errors"
          " counted for kreview: %.1f%%; %d unexplained"
          % (agree, total, 100 * raw, known, 100 * ratio, total - agree - known))
    if ratio < THRESHOLD:
        print("FAIL: below %.0f%%" % (100 * THRESHOLD))
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
