#!/usr/bin/env bash
# kreview daemon --once on #kreview command mail: replies to a bug digest
# and to an answer kreview queued are applied and answered through the
# outbox with LKML reply headers (Re:, In-Reply-To, References, To the
# sender, Cc the list, Auto-Submitted); an unauthorised sender is
# refused with the help text and logged; a mail with no list in Cc gets
# the "the list copy is the history" reminder; mail that does not answer
# kreview, bot mail and a second copy of a processed mail do nothing;
# move:, poke, uncc and (un)set no-reminders change the bug.  The bug
# comes from a review against the mock LLM, as in t0600.
. "$(dirname "$0")/lib.sh"
repo="$TRASH/repo"
mock_net_repo "$repo" "IO_URING
M:	Io Maint <io@example.org>
L:	io-uring@vger.kernel.org
S:	Maintained
F:	io_uring/

NETWORKING [GENERAL]
M:	Net Maint <maint@example.org>
L:	netdev@vger.kernel.org
S:	Maintained
F:	net.c
"

start_mock "$KREVIEW_TESTS/data/review/mock"
state="$TRASH/state"
bugs="$state/bugs"
: > "$TRASH/list.mbox"
: > "$TRASH/direct.mbox"
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
bugs:
  min_support: 1
  maintainers: $repo/MAINTAINERS
  digest_min_bugs: 1
  digest_min_age: 0s
  digest_quiet_after_reply: 0s
daemon:
  poll_interval: 1s
  sources:
    - kind: mbox
      path: $TRASH/list.mbox
      list: netdev
    - kind: mbox
      path: $TRASH/direct.mbox
      list: direct
Y
} > "$TRASH/config.yaml"
K() { "$KREVIEW" bugs --config "$TRASH/config.yaml" "$@"; }
db="$state/kreview.db"
daemon() {
	"$KREVIEW" daemon --config "$TRASH/config.yaml" --once --verbose 2> "$TRASH/$1.err" ||
		{ cat "$TRASH/$1.err"; fail "daemon --once ($1)"; }
}
outbox_count() {
	"$KREVIEW" outbox list --config "$TRASH/config.yaml" --json |
		python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}
# the outbox row answering Message-ID $1, as JSON with the message
answer_of() {
	local id
	id=$("$KREVIEW" outbox list --config "$TRASH/config.yaml" --json |
		python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin) if r['in_reply_to'] == '$1']
assert len(rows) <= 1, rows
print(rows[0]['id'] if rows else '')")
	[ -n "$id" ] || return 1
	"$KREVIEW" outbox show --config "$TRASH/config.yaml" --json "$id"
}
# mail FILE FROM TO CC MSGID IRT REFS BODY [EXTRA-HEADER]
mail() {
	{
		echo "From $2 Mon Jun  3 10:02:11 2024"
		echo "From: $2"
		echo "To: $3"
		[ -n "$4" ] && echo "Cc: $4"
		echo "Subject: Re: [kreview] NETWORKING [GENERAL] open-bug digest"
		echo "Date: Mon, 3 Jun 2024 10:02:11 +0000"
		echo "Message-ID: <$5>"
		[ -n "$6" ] && echo "In-Reply-To: <$6>"
		[ -n "$7" ] && echo "References: $7"
		[ -n "${9:-}" ] && echo "$9"
		echo
		printf '%s\n\n' "$8"
	} >> "$1"
}

# a bug, recorded by a review, and a digest that numbers it <1>
"$KREVIEW" series from-git --db "$db" --tree "$repo" main..topic > "$TRASH/id"
sid=$(grep -o '[0-9]\+' "$TRASH/id" | head -1)
"$KREVIEW" review --config "$TRASH/config.yaml" --db "$db" --tree "$repo" \
	"$sid" > /dev/null 2> "$TRASH/err" || { cat "$TRASH/err"; fail "review"; }
bug=$(K list --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["bugs"][0]["id"])')
case "$bug" in NET-*) ;; *) fail "no bug: $bug" ;; esac
K digest --subsystem "NETWORKING [GENERAL]" > "$TRASH/digest"
dg=$(sed -n 's/^Message-ID: <\(.*\)>$/\1/p' "$TRASH/digest")
[ -n "$dg" ] || fail "digest has no Message-ID"

# ---- the commands ----------------------------------------------------------
# through the list, from the maintainer, below a quoted command
mail "$TRASH/list.mbox" "Net Maint <maint@example.org>" "kreview@example.org" \
	"netdev@vger.kernel.org" m1@example.org "$dg" "<$dg>" \
	"> #kreview <1> invalid
#kreview <1> set prio: high
#kreview <1> poke
#kreview <1> set no-reminders"
# a stranger: refused, except for uncc
mail "$TRASH/list.mbox" "Some One <someone@example.com>" "kreview@example.org" \
	"netdev@vger.kernel.org" m2@example.com "$dg" "<$dg>" \
	"#kreview <1> invalid false alarm
#kreview <1> uncc"
# commands in mail that answers nothing of kreview's: not processed
mail "$TRASH/list.mbox" "Net Maint <maint@example.org>" "netdev@vger.kernel.org" \
	"" m3@example.org "unrelated@example.org" "<unrelated@example.org>" \
	"#kreview $bug wontfix"
# bot mail answering the digest: never processed
mail "$TRASH/list.mbox" "Net Maint <maint@example.org>" "kreview@example.org" \
	"netdev@vger.kernel.org" m4@example.org "$dg" "<$dg>" \
	"#kreview <1> wontfix" "Auto-Submitted: auto-replied"
# to kreview alone: acted on, answered privately, with the reminder
mail "$TRASH/direct.mbox" "Net Maint <maint@example.org>" "kreview@example.org" \
	"" m5@example.org "$dg" "<$dg>" \
	"#kreview <1> unset no-reminders"
# the same mail as m1 received directly too: once only
python3 - "$TRASH/list.mbox" "$TRASH/direct.mbox" <<'PY'
import re, sys
data = open(sys.argv[1]).read()
m1 = [p for p in re.split(r'(?m)^(?=From )', data) if '<m1@example.org>' in p][0]
open(sys.argv[2], 'a').write(m1)
PY

daemon once1
grep -q "command mail <m1@example.org> from maint@example.org: 3 commands, 0 refused or malformed; answer [0-9]* queued (outbox)" \
	"$TRASH/once1.err" || { cat "$TRASH/once1.err"; fail "m1 not answered"; }
grep -q "command mail <m2@example.com> from someone@example.com: 2 commands, 1 refused" \
	"$TRASH/once1.err" || { cat "$TRASH/once1.err"; fail "m2 refusal not logged"; }
grep -q "command mail <m4@example.org> .*no answer: Auto-Submitted mail" "$TRASH/once1.err" ||
	{ cat "$TRASH/once1.err"; fail "m4"; }
grep -q "command mail <m5@example.org> .*queued (dry-run), no list was in Cc" "$TRASH/once1.err" ||
	{ cat "$TRASH/once1.err"; fail "m5"; }
grep -q "m3@example.org" "$TRASH/once1.err" && fail "m3 (answers no kreview mail) was looked at"
[ "$(grep -c '<m1@example.org>' "$TRASH/once1.err")" = 1 ] || fail "m1 processed twice"

# the bug changed; the stranger changed nothing but his own Cc
K show "$bug" > "$TRASH/show"
grep -q "^status:     open" "$TRASH/show" || { cat "$TRASH/show"; fail "status changed"; }
python3 - "$bugs/networking-general.db" "$bug" <<'PY' || fail "bug state"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
bug = sys.argv[2]
prio, stale = db.execute("select prio, stale from bug where id = ?", (bug,)).fetchone()
assert prio == 2 and stale == 1, (prio, stale)
kinds = [r[0] for r in db.execute("select kind || ':' || actor from bug_event where bug_id = ? order by id", (bug,))]
assert "prio:maint@example.org" in kinds and "poke:maint@example.org" in kinds, kinds
assert "no-reminders:maint@example.org" in kinds, kinds
assert kinds.count("no-reminders:maint@example.org") == 2, kinds   # set, then unset by m5
assert not any(k.startswith("status:") and "someone" in k for k in kinds), kinds
labels = db.execute("select label, value from bug_label where bug_id = ?", (bug,)).fetchall()
assert ("uncc", "someone@example.com") in labels, labels
assert not any(l == "no-reminders" for l, _ in labels), labels
log = db.execute("select message_id, sender, line, result, ok from command_log order by id").fetchall()
refused = [r for r in log if r[1] == "someone@example.com" and not r[4]]
assert len(refused) == 1 and "refused" in refused[0][3], log
assert len([r for r in log if r[0] == "m1@example.org"]) == 3, log
assert not any(r[0] in ("m3@example.org", "m4@example.org") for r in log), log
PY

# the answers: LKML reply headers, the list in Cc, in the list's mode
[ "$(outbox_count)" = 3 ] || { "$KREVIEW" outbox list --config "$TRASH/config.yaml"; fail "outbox rows"; }
answer_of m1@example.org > "$TRASH/a1.json" || fail "no answer to m1"
python3 - "$TRASH/a1.json" "$dg" <<'PY' || fail "answer to m1"
import email, json, sys
row = json.load(open(sys.argv[1]))
dg = sys.argv[2]
assert row["kind"] == "command" and row["mode"] == "outbox" and row["state"] == "held", row
assert row["lists"] == "netdev", row
m = email.message_from_string(row["message"])
assert m["Subject"] == "Re: [kreview] NETWORKING [GENERAL] open-bug digest", m["Subject"]
assert m["In-Reply-To"] == "<m1@example.org>", m["In-Reply-To"]
assert m["References"].split() == ["<%s>" % dg, "<m1@example.org>"], m["References"]
assert m["To"] == "Net Maint <maint@example.org>", m["To"]
assert m["Cc"] == "netdev@vger.kernel.org", m["Cc"]
assert m["Auto-Submitted"] == "auto-generated", m["Auto-Submitted"]
assert m["From"] == "kreview <kreview@example.org>", m["From"]
assert m["Message-ID"].startswith("<kreview."), m["Message-ID"]
assert m["Date"], "no Date"
body = m.get_payload()
assert "Thanks; kreview processed 3 commands" in body, body
assert ": prio high" in body and "re-verification requested" in body, body
assert "no reminders in digests" in body, body
assert "Commands, one per line" not in body and "no mailing list" not in body, body
assert "\n-- \n" in body
PY
answer_of m2@example.com > "$TRASH/a2.json" || fail "no answer to m2"
python3 - "$TRASH/a2.json" <<'PY' || fail "answer to m2"
import email, json, sys
row = json.load(open(sys.argv[1]))
m = email.message_from_string(row["message"])
assert m["To"] == "Some One <someone@example.com>" and m["Cc"] == "netdev@vger.kernel.org", (m["To"], m["Cc"])
body = m.get_payload()
assert "refused: someone@example.com is not a maintainer or reviewer of NETWORKING [GENERAL]" in body, body
assert "someone@example.com will not be Cc'd on it again" in body, body
assert "Commands, one per line" in body and "#kreview move: SECTION" in body, body
assert "#kreview uncc" in body and "#kreview poke" in body, body
PY
answer_of m5@example.org > "$TRASH/a5.json" || fail "no answer to m5"
python3 - "$TRASH/a5.json" <<'PY' || fail "answer to m5"
import email, json, sys
row = json.load(open(sys.argv[1]))
assert row["mode"] == "dry-run" and row["lists"] == "", row
m = email.message_from_string(row["message"])
assert m["To"] == "Net Maint <maint@example.org>" and m["Cc"] is None, (m["To"], m["Cc"])
assert "no mailing list in To or Cc" in m.get_payload(), m.get_payload()
PY
answer_of m3@example.org > /dev/null && fail "m3 answered"
answer_of m4@example.org > /dev/null && fail "bot mail answered"

# ---- once only ------------------------------------------------------------
# another copy of m2 (through the list again) and a rerun: nothing new
python3 - "$TRASH/list.mbox" <<'PY'
import re, sys
data = open(sys.argv[1]).read()
m2 = [p for p in re.split(r'(?m)^(?=From )', data) if '<m2@example.com>' in p][0]
open(sys.argv[1], 'a').write(m2)
PY
events() {
	python3 -c "import sqlite3; print(sqlite3.connect('$bugs/networking-general.db').execute('select count(*) from bug_event').fetchone()[0])"
}
before=$(events)
daemon once2
[ "$(outbox_count)" = 3 ] || fail "a second pass queued more"
[ "$(events)" = "$before" ] || fail "a second pass changed the bug"
grep -q "command mail" "$TRASH/once2.err" && { cat "$TRASH/once2.err"; fail "a second pass processed mail"; }

# 'bugs mail --queue' first, then the daemon ingests the same mail: one
# answer, one application
mail "$TRASH/m6" "Net Maint <maint@example.org>" "kreview@example.org" \
	"netdev@vger.kernel.org" m6@example.org "$dg" "<$dg>" \
	"#kreview <1> confirm"
K mail --queue "$TRASH/m6" > "$TRASH/r6" 2> "$TRASH/e6" || { cat "$TRASH/e6"; fail "bugs mail --queue"; }
grep -q "answer queued in the outbox as [0-9]* (outbox)" "$TRASH/e6" || { cat "$TRASH/e6"; fail "--queue message"; }
grep -q "$bug: open -> confirmed" "$TRASH/r6" || fail "--queue reply: $(cat "$TRASH/r6")"
K mail --queue "$TRASH/m6" > /dev/null 2> "$TRASH/e6b"
grep -q "processed before" "$TRASH/e6b" || fail "--queue twice"
cat "$TRASH/m6" >> "$TRASH/list.mbox"
# a reply to kreview's answer (not to the digest) with the bug id
a6=$(answer_of m6@example.org | python3 -c 'import json, sys; print(json.load(sys.stdin)["msgid"])')
mail "$TRASH/list.mbox" "Net Maint <maint@example.org>" "kreview@example.org" \
	"netdev@vger.kernel.org" m7@example.org "$a6" "<$a6>" \
	"#kreview $bug move: IO_URING"
daemon once3
grep -q "command mail <m6@example.org> from maint@example.org was processed before" "$TRASH/once3.err" ||
	{ cat "$TRASH/once3.err"; fail "m6 via the daemon"; }
[ "$(outbox_count)" = 5 ] || { "$KREVIEW" outbox list --config "$TRASH/config.yaml"; fail "m6/m7 answers"; }
answer_of m7@example.org > "$TRASH/a7.json" || fail "no answer to m7"
new=$(python3 - "$TRASH/a7.json" "$a6" <<'PY'
import email, json, re, sys
row = json.load(open(sys.argv[1]))
m = email.message_from_string(row["message"])
assert m["References"].split() == ["<%s>" % sys.argv[2], "<m7@example.org>"], m["References"]
body = m.get_payload()
found = re.search(r": moved to IO_URING as (IOU-[0-9a-f]+)", body)
assert found, body
print(found.group(1))
PY
) || fail "answer to m7"
[ -f "$bugs/io-uring.db" ] || fail "no IO_URING database"
K show "$new" > "$TRASH/shownew"
grep -q "^status:     confirmed" "$TRASH/shownew" || { cat "$TRASH/shownew"; fail "moved bug"; }
K show "$bug" | grepq "^status:     dup" || fail "no stub left"

# the CLI equivalents: move back, no-reminders
K move "$new" "NETWORKING [GENERAL]" > "$TRASH/mv" || fail "bugs move"
grep -q "$new moved to NETWORKING \[GENERAL\] as $bug" "$TRASH/mv" || fail "move back: $(cat "$TRASH/mv")"
K show "$bug" | grepq "^status:     confirmed" || fail "stub not revived"
K move "$bug" NOWHERE 2> "$TRASH/e" && fail "move to an unknown section"
grep -q "no bug database for section 'NOWHERE'" "$TRASH/e" || fail "move error: $(cat "$TRASH/e")"
K set "$bug" no-reminders
K show "$bug" | grepq "^label: *no-reminders=on" || fail "no-reminders label"
K digest --subsystem "NETWORKING [GENERAL]" --dry-run > /dev/null 2> "$TRASH/e"
grep -q "nothing to send" "$TRASH/e" || fail "no-reminders bug in a digest"
K unset "$bug" no-reminders
K unset "$bug" prio=low 2> /dev/null && fail "unset prio accepted"
K show "$bug" | grepq "^label: *no-reminders" && fail "no-reminders label left"
echo ok
