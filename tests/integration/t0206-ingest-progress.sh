#!/usr/bin/env bash
# Progress of "kreview ingest" on stderr: shown with --progress or when
# stderr is a terminal, never otherwise; the summary line on stdout and
# the per-message errors stay as they are, each on a line of its own.
. "$(dirname "$0")/lib.sh"
m="$TRASH/in.mbox"
msg() { # msgid subject
	printf 'From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: A Dev <a@example.org>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <%s>\nSubject: %s\n\nbody of %s\n\n' "$1" "$2" "$1"
}
{
	msg one@x "[PATCH] one"
	msg two@x "[PATCH] two"
	msg one@x "[PATCH] one, changed" # a conflicting copy: an error line
} > "$m"
summary='3 messages read, 2 new, 0 patches'

# --progress: the count, ended, on stderr; stdout unchanged
"$KREVIEW" ingest --db "$TRASH/a.db" --progress --mbox "$m" > "$TRASH/out" 2> "$TRASH/err" ||
	fail "ingest --progress failed"
cat -A "$TRASH/err"
grepq "^$summary" < "$TRASH/out" || fail "summary line changed"
[ "$(wc -l < "$TRASH/out")" = 1 ] || fail "more than the summary on stdout"
tr '\r' '\n' < "$TRASH/err" | grepq "^kreview: $m: 3 messages read.*, done\$" ||
	fail "no final progress line"
# the error is a line of its own, not glued to a progress line
grepq "^kreview: $m: message 3 at line [0-9]*: Message-ID <one@x> was seen before" < "$TRASH/err" ||
	fail "error line missing or mangled"

# not a terminal, no option: no progress
"$KREVIEW" ingest --db "$TRASH/b.db" --mbox "$m" > /dev/null 2> "$TRASH/err" ||
	fail "ingest failed"
if grep 'messages read' "$TRASH/err" > /dev/null; then
	fail "progress shown on a non-terminal stderr"
fi
grepq "was seen before" < "$TRASH/err" || fail "error line lost without progress"

# a terminal: shown by default, and --no-progress turns it off
if command -v script > /dev/null; then
	script -qec "'$KREVIEW' ingest --db '$TRASH/c.db' --mbox '$m'" /dev/null > "$TRASH/tty" ||
		fail "ingest on a terminal failed"
	tr '\r' '\n' < "$TRASH/tty" | grepq "^kreview: $m: 3 messages read.*, done" ||
		fail "no progress on a terminal"
	script -qec "'$KREVIEW' ingest --db '$TRASH/d.db' --no-progress --mbox '$m'" /dev/null > "$TRASH/tty" ||
		fail "ingest --no-progress on a terminal failed"
	if grep 'messages read.*done' "$TRASH/tty" > /dev/null; then
		fail "--no-progress still shows progress"
	fi
fi
echo ok
