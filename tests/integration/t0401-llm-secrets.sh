#!/bin/bash
# Scenario 27 of the LLM reference: the API key reaches the server in
# the auth header of every dialect and nowhere else - not in kreview's
# output, debug log (curl verbose with redaction) or error messages.
set -eu
: "${KREVIEW_BUILD:?}"
key=sk-mock-SECRET-4242
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

KREVIEW_MOCK_KEY=$key LLM_TEST_KEEP_DIR=$tmp \
	"$KREVIEW_BUILD/tests/test-llm-engine" >"$tmp/stdout" 2>"$tmp/stderr" || {
	cat "$tmp/stdout" "$tmp/stderr"
	echo "FAIL: engine tests failed"
	exit 1
}

# The server saw the key, in the right header of each dialect.
grep -q "\"authorization\":\"Bearer $key\"" "$tmp/requests.jsonl" ||
	{ echo "FAIL: no Authorization header in the request log"; exit 1; }
grep -q "\"x-api-key\":\"$key\"" "$tmp/requests.jsonl" ||
	{ echo "FAIL: no x-api-key header in the request log"; exit 1; }
grep -q "\"x-goog-api-key\":\"$key\"" "$tmp/requests.jsonl" ||
	{ echo "FAIL: no x-goog-api-key header in the request log"; exit 1; }
# The debug test really produced verbose curl output with redaction.
grep -q 'Authorization: \[redacted\]' "$tmp/stderr" ||
	{ echo "FAIL: no redacted debug output"; exit 1; }

# Nothing the client printed contains the key (nor its distinctive tail).
for f in "$tmp"/*; do
	[ "$f" = "$tmp/requests.jsonl" ] && continue
	if grep -q -e "$key" -e "SECRET-4242" "$f"; then
		echo "FAIL: key leaked into $(basename "$f")"
		grep -n -e "SECRET-4242" "$f" | head -5
		exit 1
	fi
done
echo "ok: key only in the auth headers the server received"
