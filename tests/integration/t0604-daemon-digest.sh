#!/usr/bin/env bash
# kreview daemon --once sends the per-subsystem bug digests (digest.h):
# the first digest of a section goes to the curator (moderation) with
# the digest headers; it is not queued again before bugs.digest_period,
# even across restarts; "#kreview upstream" from the curator queues the
# list copy (To the list, Cc the section's M:, same body, new
# Message-ID); bugs.digest_daily_limit caps the digests of a day, the
# other section waiting for the next day (round robin).  The clock is
# KREVIEW_TEST_NOW_MS; 'kreview bugs digest --queue' queues one too.  The bug comes from a review against the mock LLM
# as in t0602, and a copy of its database plays a second section.
. "$(dirname "$0")/lib.sh"
repo="$TRASH/repo"
mock_net_repo "$repo" "IO_URING
M:	Io Maint <io@example.org>
L:	io-uring@vger.kernel.org
S:	Maintained
F:	io_uring/

NETWORKING [GENERAL]
M:	Net Maint <maint@example.org>
R:	Net Rev <rev@example.org>
L:	netdev@vger.kernel.org
S:	Maintained
F:	net.c
"

start_mock "$KREVIEW_TESTS/data/review/mock"
state="$TRASH/state"
bugs="$state/bugs"
: > "$TRASH/list.mbox"
{
	mock_review_yaml
	cat <<Y
state_dir: $state
ingest:
  own_address: kreview@example.org
mail:
  from: kreview <kreview@example.org>
lists:
  - name: netdev
    address: netdev@vger.kernel.org
    mode: outbox
  - name: io-uring
    address: io-uring@vger.kernel.org
    mode: outbox
bugs:
  min_support: 1
  maintainers: $repo/MAINTAINERS
  reverify_interval: 0s
  digest_min_bugs: 1
  digest_min_age: 0s
  digest_quiet_after_reply: 0s
  digest_reverify_max_age: 0s
  digest_sections: ["NETWORKING [GENERAL]", IO_URING]
  digest_period: 30d
  digest_daily_limit: 1
  digest_curator: curator@example.org
daemon:
  poll_interval: 1s
  sources:
    - kind: mbox
      path: $TRASH/list.mbox
      list: netdev
Y
} > "$TRASH/config.yaml"
db="$state/kreview.db"
once() {
	local name=$1
	shift
	env "$@" "$KREVIEW" daemon --config "$TRASH/config.yaml" --once --verbose \
		2> "$TRASH/$name.err" || { cat "$TRASH/$name.err"; fail "daemon --once ($name)"; }
}
# the digest rows of the outbox as JSON, oldest first, with messages
digests() {
	"$KREVIEW" outbox list --config "$TRASH/config.yaml" --json |
		python3 -c '
import json, subprocess, sys
rows = sorted((r for r in json.load(sys.stdin) if r["kind"] == "digest"), key=lambda r: r["id"])
out = []
for r in rows:
    out.append(json.loads(subprocess.check_output([sys.argv[1], "outbox", "show", "--config", sys.argv[2], "--json", str(r["id"])])))
print(json.dumps(out))' "$KREVIEW" "$TRASH/config.yaml"
}

# a bug in NETWORKING [GENERAL], and a copy of its database as IO_URING
"$KREVIEW" series from-git --db "$db" --tree "$repo" main..topic > "$TRASH/id"
sid=$(grep -o '[0-9]\+' "$TRASH/id" | head -1)
"$KREVIEW" review --config "$TRASH/config.yaml" --db "$db" --tree "$repo" \
	"$sid" > /dev/null 2> "$TRASH/err" || { cat "$TRASH/err"; fail "review"; }
[ -f "$bugs/networking-general.db" ] || fail "no bug database"
cp "$bugs/networking-general.db" "$bugs/io-uring.db"
python3 - "$bugs/io-uring.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("update meta set value = 'IO_URING' where key = 'section'")
db.commit()
PY

now=$(python3 -c 'import time; print(int(time.time() * 1000))')
h=3600000
T=$((now + 24 * h))

# ---- day 1: one digest (the daily limit), to the curator -------------------
once d1 KREVIEW_TEST_NOW_MS=$T
grepq "digest of NETWORKING \[GENERAL\] (1 bugs) queued as [0-9]* <kreview\..*>, to the curator for moderation" "$TRASH/d1.err" ||
	{ cat "$TRASH/d1.err"; fail "no digest queued"; }
grepq "1 digests due wait for tomorrow" "$TRASH/d1.err" || { cat "$TRASH/d1.err"; fail "limit not logged"; }
digests > "$TRASH/d1.json"
python3 - "$TRASH/d1.json" <<'PY' || fail "curator copy"
import email, json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1, rows
r = rows[0]
assert r["mode"] == "outbox" and r["state"] == "held", r
m = email.message_from_string(r["message"])
assert m["To"] == "curator@example.org" and m["Cc"] is None, (m["To"], m["Cc"])
assert m["Subject"].startswith("[kreview] NETWORKING [GENERAL] open-bug digest ("), m["Subject"]
assert m["Auto-Submitted"] == "auto-generated", m["Auto-Submitted"]
assert m["From"] == "kreview <kreview@example.org>"
assert m["Message-ID"] == "<%s>" % r["msgid"] and r["in_reply_to"] == r["msgid"], r
assert m["In-Reply-To"] is None
body = m.get_payload()
assert "held for moderation" in body and "netdev@vger.kernel.org" in body, body
assert "Hello NETWORKING [GENERAL] maintainers/reviewers" in body, body
PY
dg=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["msgid"])' "$TRASH/d1.json")

# ---- a restart an hour later: nothing again --------------------------------
once d1b KREVIEW_TEST_NOW_MS=$((T + h))
[ "$(digests | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "a digest was queued again within the day"

# ---- the curator releases it ------------------------------------------------
{
	echo "From curator@example.org Mon Jun  3 10:02:11 2024"
	echo "From: The Curator <curator@example.org>"
	echo "To: kreview@example.org"
	echo "Subject: Re: [kreview] NETWORKING [GENERAL] open-bug digest"
	echo "Date: Mon, 3 Jun 2024 10:02:11 +0000"
	echo "Message-ID: <up1@example.org>"
	echo "In-Reply-To: <$dg>"
	echo "References: <$dg>"
	echo
	echo "Looks good."
	echo "#kreview upstream"
	echo
} >> "$TRASH/list.mbox"
once up KREVIEW_TEST_NOW_MS=$((T + 2 * h))
grepq "command mail <up1@example.org> from curator@example.org: 1 commands, 0 refused" "$TRASH/up.err" ||
	{ cat "$TRASH/up.err"; fail "upstream not applied"; }
digests > "$TRASH/up.json"
python3 - "$TRASH/up.json" "$dg" <<'PY' || fail "list copy"
import email, json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 2, [r["subject"] for r in rows]
a, b = (email.message_from_string(r["message"]) for r in rows)
assert rows[1]["msgid"] != sys.argv[2]
assert b["To"] == "netdev@vger.kernel.org", b["To"]
assert b["Cc"] == "Net Maint <maint@example.org>, Net Rev <rev@example.org>", b["Cc"]
assert rows[1]["lists"] == "netdev" and rows[1]["mode"] == "outbox", rows[1]
assert b["Subject"] == a["Subject"] and b["Auto-Submitted"] == "auto-generated"
body = b.get_payload()
assert "held for moderation" not in body
assert a.get_payload().endswith(body), (a.get_payload(), body)
PY
"$KREVIEW" outbox list --config "$TRASH/config.yaml" --json | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["kind"] == "command"]
assert len(rows) == 1 and rows[0]["in_reply_to"] == "up1@example.org", rows' ||
	fail "no answer to the upstream mail"

# ---- day 2: the other section's turn (round robin) -------------------------
once d2 KREVIEW_TEST_NOW_MS=$((T + 25 * h))
grepq "digest of IO_URING (1 bugs) queued .*to the curator" "$TRASH/d2.err" ||
	{ cat "$TRASH/d2.err"; fail "IO_URING not queued on day 2"; }
once d2b KREVIEW_TEST_NOW_MS=$((T + 26 * h))
[ "$(digests | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
	fail "digests queued before the period"
grepq "digest of" "$TRASH/d2b.err" && { cat "$TRASH/d2b.err"; fail "digest before the period"; }

# ---- after the period: the released section goes straight to its list -------
once d31 KREVIEW_TEST_NOW_MS=$((T + 31 * 24 * h))
grepq "digest of NETWORKING \[GENERAL\] (1 bugs) queued as [0-9]* <kreview\.[^>]*>$" "$TRASH/d31.err" ||
	{ cat "$TRASH/d31.err"; fail "released section not sent to the list"; }

# ---- the CLI queues one as the daemon would ---------------------------------
"$KREVIEW" bugs digest --config "$TRASH/config.yaml" --subsystem IO_URING --queue \
	> "$TRASH/cli.out" 2>&1 || { cat "$TRASH/cli.out"; fail "bugs digest --queue"; }
grepq "^digest of IO_URING (1 bugs) queued as outbox row [0-9]* <kreview\..*>, to the curator for moderation$" \
	"$TRASH/cli.out" || { cat "$TRASH/cli.out"; fail "bugs digest --queue output"; }
[ "$(digests | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 5 ] ||
	fail "the CLI digest is not in the outbox"
exit 0
