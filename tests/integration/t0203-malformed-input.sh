#!/usr/bin/env bash
# Malformed input: each bad message gets an error naming it, the others
# are stored, the exit status stays 0, and nothing stored is lost.
. "$(dirname "$0")/lib.sh"
m="$TRASH/bad.mbox"
good() { # msgid subject
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: A Dev <a@example.org>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <%s>\nSubject: %s\n\nbody of %s\n\n' "$1" "$2" "$1"
}
{
	good ok-1@x "[PATCH] ok one"
	# broken MIME: multipart without its boundary
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: B <b@example.org>\nMessage-ID: <broken-mime@x>\nSubject: broken mime\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="nope"\n\nno parts here\n\n'
	# raw 8-bit (latin-1) headers
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: J\xf6rg <j@example.org>\nMessage-ID: <eightbit@x>\nSubject: caf\xe9 [PATCH] x\n\nhi\n\n'
	# no Message-ID
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: C <c@example.org>\nSubject: no id\n\nhi\n\n'
	# duplicate Message-ID with different content
	good ok-1@x "[PATCH] ok one, but changed"
	# a 20 MB message
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: D <d@example.org>\nMessage-ID: <huge@x>\nSubject: huge\n\n'
	head -c 20000000 /dev/zero | tr '\0' 'a' | fold -w 70
	printf '\n\n'
	good ok-2@x "[PATCH] ok two"
	# truncated: the file ends inside the headers of the last message
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: E <e@example.org>\nMessage-ID: <trunc@x>\nSubj'
} > "$m"

"$KREVIEW" ingest --db "$TRASH/k.db" --mbox "$m" > "$TRASH/out" 2> "$TRASH/err" ||
	{ cat "$TRASH/err"; fail "ingest exited non-zero on malformed messages"; }
cat "$TRASH/out" "$TRASH/err"
grep -q 'Message-ID <ok-1@x> was seen before with different content' "$TRASH/err" || fail "no duplicate error"
grep -q 'no Message-ID' "$TRASH/err" || fail "no missing Message-ID error"
grep -q 'larger than' "$TRASH/err" || fail "no size error for the 20 MB message"
grep -q "$m: message 6 at line" "$TRASH/err" || fail "the big message is not named by position"
q() { sqlite3 "$TRASH/k.db" "$1" 2>/dev/null || python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$TRASH/k.db" "$1"; }
[ "$(q "select count(*) from message where msgid in ('ok-1@x','ok-2@x','broken-mime@x','eightbit@x','trunc@x')")" = 5 ] ||
	fail "good, broken-MIME, 8-bit or truncated messages were not stored"
[ "$(q "select subject from message where msgid = 'ok-1@x'")" = "[PATCH] ok one" ] || fail "the first copy was not kept"
[ "$(q "select count(*) from message where msgid = 'huge@x'")" = 0 ] || fail "the huge message was stored"
# valid UTF-8 stored for raw 8-bit headers
q "select sender from message where msgid = 'eightbit@x'" | grepq 'Jörg' || fail "8-bit From not decoded"

# a source that cannot be read fails the run, and stored data stays
if "$KREVIEW" ingest --db "$TRASH/k.db" --mbox "$TRASH/missing.mbox" 2> "$TRASH/err2"; then
	fail "missing source did not fail"
fi
grep -q "missing.mbox" "$TRASH/err2" || fail "missing source not named"
[ "$(q "select count(*) from message")" -ge 6 ] || fail "stored messages lost"
echo ok
