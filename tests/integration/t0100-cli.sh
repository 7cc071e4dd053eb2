#!/usr/bin/env bash
# Command-line basics: --help, help CMD, --version, usage errors exit 2.
. "$(dirname "$0")/lib.sh"
"$KREVIEW" --version | grepq '^kreview [0-9]' || fail "--version"
"$KREVIEW" --help > "$TRASH/help"
for c in ingest series maintainers; do
	grep -q "^   $c " "$TRASH/help" || fail "--help does not list $c"
	"$KREVIEW" help "$c" | grepq "^usage: kreview $c" || fail "help $c"
	"$KREVIEW" "$c" --help | grepq "^usage: kreview $c" || fail "$c --help"
done
set +e
"$KREVIEW" frobnicate 2> "$TRASH/err"; [ $? = 2 ] || fail "unknown command must exit 2"
grep -q "'frobnicate' is not a kreview command" "$TRASH/err" || fail "unknown command message"
"$KREVIEW" ingest 2> /dev/null; [ $? = 2 ] || fail "ingest without a source must exit 2"
"$KREVIEW" ingest --bogus 2> /dev/null; [ $? = 2 ] || fail "unknown option must exit 2"
"$KREVIEW" series list --db "$TRASH/x.db" extra 2> /dev/null; [ $? = 2 ] || fail "extra argument must exit 2"
"$KREVIEW" series show --db "$TRASH/x.db" 99 2> "$TRASH/err"; [ $? = 1 ] || fail "unknown series must exit 1"
grep -q "no series '99'" "$TRASH/err" || fail "unknown series message"
# a foreign SQLite file is refused and left alone
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table t(x)"); c.commit()' "$TRASH/foreign.db"
"$KREVIEW" series list --db "$TRASH/foreign.db" 2> "$TRASH/err"; [ $? = 1 ] || fail "foreign database accepted"
grep -q "is not a kreview database" "$TRASH/err" || fail "foreign database message"
# a broken config file is reported with its position
printf 'ingest:\n  stall_afterr: 2h\n' > "$TRASH/bad.yaml"
"$KREVIEW" ingest --config "$TRASH/bad.yaml" --db "$TRASH/y.db" --mbox /dev/null 2> "$TRASH/err"; [ $? = 1 ] || fail "bad config accepted"
grep -q "bad.yaml:2:3: unknown key 'stall_afterr'" "$TRASH/err" || fail "config error position: $(cat "$TRASH/err")"
set -e
# the default database lives under $XDG_STATE_HOME
"$KREVIEW" ingest --mbox /dev/null > /dev/null
[ -f "$XDG_STATE_HOME/kreview/kreview.db" ] || fail "default database path"
echo ok
