#!/bin/bash
# kreview outbox against a loopback SMTP responder: the exact DATA
# received, AUTH from the environment, a crash between hand-over and
# commit (same Message-ID, same bytes), 4xx retry and 5xx dead, held
# mail released by hand, dry-run drafts, and recipients that never come
# from the finding's text.  Nothing is sent beyond 127.0.0.1.
. "$KREVIEW_TESTS/integration/lib.sh"

COMPOSE="$KREVIEW_BUILD/tests/outbox-compose"
EML="$KREVIEW_TESTS/data/reply/patch2.eml"
SMTP="$TRASH/smtp"
mkdir -p "$SMTP"
FAIL= python3 "$KREVIEW_TESTS/data/reply/smtpd.py" "$SMTP" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$TRASH"' EXIT
for _ in $(seq 100); do [ -f "$SMTP/port" ] && break; sleep 0.1; done
PORT=$(cat "$SMTP/port")

write_config() { # MODE
	cat > "$TRASH/config.yaml" <<EOC
state_dir: $TRASH/state
lists:
  - name: io-uring
    address: io-uring@vger.kernel.org
    mode: $1
mail:
  from: "kreview bot <kreview@example.org>"
  transport: smtp
  smtp_url: smtp://127.0.0.1:$PORT
  starttls: false
  smtp_user: kreview
  password_env: KREVIEW_TEST_SMTP_PASSWORD
  timeout: 10s
  retry_base: 1m
  max_attempts: 2
EOC
}
export KREVIEW_CONFIG="$TRASH/config.yaml" KREVIEW_TEST_SMTP_PASSWORD=hunter2
write_config send
DB="$TRASH/state/kreview.db"

ID=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$EML")
"$KREVIEW" outbox list | grepq "^$ID	pending	send	io-uring	" ||
	fail "not pending: $("$KREVIEW" outbox list)"
# answering the same patch twice is refused
if "$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$EML" 2>/dev/null; then
	fail "a second reply to the same patch was queued"
fi

"$KREVIEW" outbox send > "$TRASH/out" || fail "send: $(cat "$TRASH/out") $("$KREVIEW" outbox show "$ID" | grep error)"
grep -q "^sent 1," "$TRASH/out" || fail "$(cat "$TRASH/out")"
[ -f "$SMTP/1.txt" ] || fail "nothing received"
# envelope: from, recipients computed from the headers only, AUTH PLAIN
printf '\0kreview\0hunter2' | base64 > "$TRASH/auth"
grep -q "^AUTH PLAIN $(cat "$TRASH/auth")\$" "$SMTP/1.txt" ||
	fail "AUTH: $(grep AUTH "$SMTP/1.txt")"
grep -q "^MAIL FROM:<kreview@example.org>" "$SMTP/1.txt" || fail "MAIL FROM"
grep "^RCPT TO:" "$SMTP/1.txt" | sort > "$TRASH/rcpt"
cat > "$TRASH/rcpt.want" <<EOW
RCPT TO:<asml.silence@gmail.com>
RCPT TO:<axboe@kernel.dk>
RCPT TO:<io-uring@vger.kernel.org>
RCPT TO:<jane@example.com>
RCPT TO:<john@example.net>
EOW
diff -u "$TRASH/rcpt.want" "$TRASH/rcpt" || fail "recipients"
grep -qi "evil" "$TRASH/rcpt" && fail "a recipient from the finding text"
# DATA is the stored message with its Date:, CRLF on the wire
sed '1,/^$/d' "$SMTP/1.txt" > "$TRASH/data"
"$KREVIEW" outbox show --raw "$ID" | sed 's/$/\r/' > "$TRASH/want"
cmp "$TRASH/want" "$TRASH/data" || fail "DATA differs from the stored mail"
grep -q "^Subject: Re: \[PATCH v3 2/2\] io_uring/net: recycle buffer on -EAGAIN" "$TRASH/data" ||
	fail "subject"
grep -q "^In-Reply-To: <20240603020211.2-jane@example.com>" "$TRASH/data" || fail "irt"
grep -q "^Date: " "$TRASH/data" || fail "no Date"
grep -q "^> +#define REQ_F_BL_EMPTY" "$TRASH/data" || fail "no quoted hunk"
"$KREVIEW" outbox list --state sent | grepq "^$ID	sent" || fail "not sent"
"$KREVIEW" outbox drop "$ID" 2>/dev/null && fail "dropped a sent mail"

# crash between hand-over and commit: at-least-once, same bytes
sed 's/\.2-jane@example\.com>$/.2b-jane@example.com>/' "$EML" > "$TRASH/eml2"
ID2=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$TRASH/eml2")
set +e
KREVIEW_TEST_OUTBOX_CRASH=1 "$KREVIEW" outbox send
rc=$?
set -e
[ $rc = 137 ] || fail "simulated crash: exit $rc"
"$KREVIEW" outbox list | grepq "^$ID2	sending" || fail "not left sending"
"$KREVIEW" outbox send --recover > "$TRASH/out" || fail "recover"
"$KREVIEW" outbox list | grepq "^$ID2	sent" || fail "not sent after recovery"
[ -f "$SMTP/3.txt" ] || fail "not handed over again"
[ -f "$SMTP/4.txt" ] && fail "handed over three times"
cmp "$SMTP/2.txt" "$SMTP/3.txt" || fail "the resent mail differs"

# held (outbox mode): nothing goes out until released by hand
write_config outbox
sed 's/\.2-jane@example\.com>$/.2c-jane@example.com>/' "$EML" > "$TRASH/eml3"
ID3=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$TRASH/eml3")
"$KREVIEW" outbox send > /dev/null
"$KREVIEW" outbox list | grepq "^$ID3	held" || fail "held mail was sent"
"$KREVIEW" outbox send "$ID3" | grepq "^$ID3 sent <kreview\." || fail "release"
[ -f "$SMTP/4.txt" ] || fail "released mail not received"

# 4xx: retrying; 5xx: dead (the server is restarted failing)
kill $SRV; wait $SRV 2>/dev/null || true
rm -f "$SMTP/port"
FAIL=451 python3 "$KREVIEW_TESTS/data/reply/smtpd.py" "$SMTP" &
SRV=$!
for _ in $(seq 100); do [ -f "$SMTP/port" ] && break; sleep 0.1; done
PORT=$(cat "$SMTP/port")
write_config send
sed 's/\.2-jane@example\.com>$/.2d-jane@example.com>/' "$EML" > "$TRASH/eml4"
ID4=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$TRASH/eml4")
"$KREVIEW" outbox send > "$TRASH/out" && fail "a 451 counted as success"
"$KREVIEW" outbox list | grepq "^$ID4	failed-retrying" || fail "not retrying"
"$KREVIEW" outbox show "$ID4" | grepq "last error: .*451" || fail "error text"
kill $SRV; wait $SRV 2>/dev/null || true
rm -f "$SMTP/port"
FAIL=554 python3 "$KREVIEW_TESTS/data/reply/smtpd.py" "$SMTP" &
SRV=$!
for _ in $(seq 100); do [ -f "$SMTP/port" ] && break; sleep 0.1; done
PORT=$(cat "$SMTP/port")
write_config send
"$KREVIEW" outbox send "$ID4" 2> "$TRASH/err" && fail "a 554 counted as success"
"$KREVIEW" outbox list | grepq "^$ID4	dead" || fail "not dead: $(cat "$TRASH/err")"
"$KREVIEW" outbox drop "$ID4" | grepq dropped || fail "drop"

# dry-run: drafts maildir only, never the network
write_config dry-run
sed 's/\.2-jane@example\.com>$/.2e-jane@example.com>/' "$EML" > "$TRASH/eml5"
ID5=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$TRASH/eml5")
N=$(ls "$SMTP" | grep -c txt)
"$KREVIEW" outbox send > /dev/null
[ "$(ls "$SMTP" | grep -c txt)" = "$N" ] || fail "dry-run used SMTP"
MID=$("$KREVIEW" outbox show --json "$ID5" | python3 -c 'import json,sys; print(json.load(sys.stdin)["msgid"])')
[ -f "$TRASH/state/drafts/new/$MID" ] || fail "no draft named after the Message-ID"
[ -z "$(ls "$TRASH/state/drafts/tmp")" ] || fail "a file left in tmp/"
echo ok
