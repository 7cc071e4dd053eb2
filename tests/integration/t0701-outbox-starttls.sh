#!/bin/bash
# kreview outbox over SMTP with STARTTLS against a loopback server with
# a certificate made here: the mail goes out only after the TLS
# handshake (AUTH and MAIL FROM inside it), the server's certificate is
# checked against 'cainfo' (an unknown CA is refused, nothing sent), and
# a server that offers no STARTTLS gets nothing in the clear.  Nothing is
# sent beyond 127.0.0.1.
. "$KREVIEW_TESTS/integration/lib.sh"

COMPOSE="$KREVIEW_BUILD/tests/outbox-compose"
EML="$KREVIEW_TESTS/data/reply/patch2.eml"
SRV=
STARTS=0
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; rm -rf "$TRASH"' EXIT

# a self-signed certificate for 127.0.0.1, and an unrelated one
for n in server other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$n" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$TRASH/$n.key" -out "$TRASH/$n.pem" 2>/dev/null ||
		fail "openssl cannot make a certificate"
done

start_server() { # TLS(yes|no); each server writes 1.txt, 2.txt... in $SMTP
	[ -n "$SRV" ] && { kill $SRV; wait $SRV 2>/dev/null || true; }
	STARTS=$((STARTS + 1))
	SMTP="$TRASH/smtp$STARTS"
	mkdir -p "$SMTP"
	if [ "$1" = yes ]; then
		TLS_CERT="$TRASH/server.pem" TLS_KEY="$TRASH/server.key" \
			python3 "$KREVIEW_TESTS/data/reply/smtpd.py" "$SMTP" &
	else
		python3 "$KREVIEW_TESTS/data/reply/smtpd.py" "$SMTP" &
	fi
	SRV=$!
	for _ in $(seq 100); do [ -f "$SMTP/port" ] && break; sleep 0.1; done
	PORT=$(cat "$SMTP/port")
}

write_config() { # CAFILE
	cat > "$TRASH/config.yaml" <<EOC
state_dir: $TRASH/state
lists:
  - name: io-uring
    address: io-uring@vger.kernel.org
    mode: send
mail:
  from: "kreview bot <kreview@example.org>"
  transport: smtp
  smtp_url: smtp://127.0.0.1:$PORT
  starttls: true
  cainfo: $1
  smtp_user: kreview
  password_env: KREVIEW_TEST_SMTP_PASSWORD
  timeout: 10s
  retry_base: 1m
  max_attempts: 3
EOC
}
export KREVIEW_CONFIG="$TRASH/config.yaml" KREVIEW_TEST_SMTP_PASSWORD=hunter2
DB="$TRASH/state/kreview.db"

# 1. STARTTLS, certificate checked against our CA: sent inside TLS
start_server yes
write_config "$TRASH/server.pem"
ID=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$EML")
"$KREVIEW" outbox send > "$TRASH/out" 2>&1 ||
	fail "send: $(cat "$TRASH/out") $("$KREVIEW" outbox show "$ID" | grep error)"
[ -f "$SMTP/1.txt" ] || fail "nothing received"
head -n 1 "$SMTP/1.txt" | grepq -E '^STARTTLS TLSv1\.[23]$' ||
	fail "not sent inside TLS: $(head -n 3 "$SMTP/1.txt")"
# AUTH and the envelope came after the handshake, in that order
sed -n '2,3p' "$SMTP/1.txt" | cut -d' ' -f1-2 | tr '\n' '|' |
	grepq -x 'AUTH PLAIN|MAIL FROM:<kreview@example.org>|' ||
	fail "order: $(sed -n '1,4p' "$SMTP/1.txt")"
grep -q "^Subject: Re: \[PATCH v3 2/2\]" "$SMTP/1.txt" || fail "no DATA"
"$KREVIEW" outbox list | grepq "^$ID	sent" || fail "not marked sent"

# 2. the server's certificate is not from the configured CA: refused
write_config "$TRASH/other.pem"
sed 's/\.2-jane@example\.com>$/.2f-jane@example.com>/' "$EML" > "$TRASH/eml2"
ID2=$("$COMPOSE" "$DB" "$KREVIEW_CONFIG" "$TRASH/eml2")
"$KREVIEW" outbox send > "$TRASH/out" 2>&1 && fail "sent to an unverified server"
[ -f "$SMTP/2.txt" ] && fail "mail handed to an unverified server"
"$KREVIEW" outbox list | grepq "^$ID2	failed-retrying" ||
	fail "not retrying: $("$KREVIEW" outbox list)"
"$KREVIEW" outbox show "$ID2" | grepq -i "last error: .*\(certificate\|ssl\)" ||
	fail "error text: $("$KREVIEW" outbox show "$ID2" | grep error)"

# 3. a server without STARTTLS: nothing in the clear
start_server no
write_config "$TRASH/server.pem"
"$KREVIEW" outbox send "$ID2" > "$TRASH/out" 2>&1 &&
	fail "sent without TLS"
ls "$SMTP" | grepq '\.txt$' && fail "mail handed over in the clear"
"$KREVIEW" outbox show "$ID2" | grepq -i "last error: .*\(starttls\|ssl\|tls\)" ||
	fail "error text: $("$KREVIEW" outbox show "$ID2" | grep error)"

# 4. STARTTLS back: the waiting mail goes out on the next send
start_server yes
write_config "$TRASH/server.pem"
"$KREVIEW" outbox send "$ID2" > "$TRASH/out" 2>&1 ||
	fail "retry: $(cat "$TRASH/out")"
"$KREVIEW" outbox list | grepq "^$ID2	sent" || fail "retry not sent"
head -n 1 "$SMTP/1.txt" | grepq '^STARTTLS ' || fail "retry outside TLS"
grep -q "^In-Reply-To: <20240603020211.2f-jane@example.com>" "$SMTP/1.txt" ||
	fail "not the waiting mail"
echo ok
