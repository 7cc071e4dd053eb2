# Shared setup for integration tests: a trash directory, a private
# configuration home, and helpers.  Source it from a tNNNN-*.sh script.
set -euo pipefail
: "${KREVIEW:?run through ctest (KREVIEW unset)}"
TRASH=$(mktemp -d /tmp/kreview-it.XXXXXX)
trap 'rm -rf "$TRASH"' EXIT
export HOME="$TRASH/home" XDG_CONFIG_HOME="$TRASH/config" \
	XDG_STATE_HOME="$TRASH/state" XDG_CACHE_HOME="$TRASH/cache"
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
unset NOTMUCH_CONFIG NOTMUCH_DATABASE NOTMUCH_PROFILE
SLICE_XZ="$KREVIEW_SHARED/data/io-uring-2024H1.mbox.xz"
ORACLE="$KREVIEW_SHARED/data/io-uring-2024H1.series.jsonl"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# The mock LLM server (tests/helpers/mockllm.c) answering from the
# scenario folder $1, its requests logged to $TRASH/mock.log; $mock is
# its pid and $TRASH/port holds its port.  It is killed on exit, and the
# trash directory removed.
start_mock() {
	"$KREVIEW_BUILD/tests/mockllm" --dir "$1" --port-file "$TRASH/port" \
		--log "$TRASH/mock.log" &
	mock=$!
	trap 'kill $mock 2>/dev/null; rm -rf "$TRASH"' EXIT
	for _ in $(seq 50); do [ -s "$TRASH/port" ] && break; sleep 0.1; done
}

# The configuration of the mock endpoint start_mock() serves, with the
# quick review profile and the test prompts: the start of a config.yaml.
mock_review_yaml() {
	cat <<Y
endpoints:
  - name: mock
    dialect: openai
    url: http://127.0.0.1:$(cat "$TRASH/port")/v1
    model: check
    concurrency: 1
    max_attempts: 1
review:
  runs: 2
  profile: quick
  prompts: $KREVIEW_TESTS/data/review/prompts
Y
}

# "cmd | grepq PATTERN": like grep -q, but reads all its input.  grep -q
# exits at the first match; a writer with more to say then dies of
# SIGPIPE, and under pipefail the test fails when the machine is busy.
grepq() {
	grep "$@" >/dev/null
}

# The real archive slice, decompressed once per test.
slice_mbox() {
	if [ ! -f "$TRASH/slice.mbox" ]; then
		xz -dc "$SLICE_XZ" > "$TRASH/slice.mbox"
	fi
	echo "$TRASH/slice.mbox"
}

# The series of the mock review tests (tests/data/review/mock/check): a
# git repository at $1 whose branch 'topic' holds three patches to net.c
# on top of 'main', which is left checked out.  $2, if given, is
# committed on 'main' as MAINTAINERS.
mock_net_repo() {
	local repo=$1 maint=${2:-}

	git init -q -b main "$repo"
	(
		export GIT_AUTHOR_NAME="A Dev" GIT_AUTHOR_EMAIL=a@example.org \
			GIT_COMMITTER_NAME="A Dev" GIT_COMMITTER_EMAIL=a@example.org
		cd "$repo"
		printf 'int do_recv(struct sock *sk, int len)\n{\n\tchar *buf;\n\tint ret;\n\n\tret = prepare(sk);\n\tsk->sk_prot->close(sk);\n\treturn ret;\n}\n\nint do_send(struct sock *sk)\n{\n\treturn 0;\n}\n' > net.c
		[ -z "$maint" ] || printf '%s' "$maint" > MAINTAINERS
		git add -A && git commit -q -m "base"
		git checkout -q -b topic
		python3 - <<'PY'
s = open("net.c").read()
s = s.replace("\tint ret;\n", "\tint ret;\n\tbuf = kmalloc(len, GFP_KERNEL);\n")
s = s.replace("{\n\treturn 0;", "{\n\tif (!sk)\n\t\treturn -EINVAL;\n\treturn 0;")
open("net.c", "w").write(s)
PY
		git commit -q -a -m "net: allocate a receive buffer"
		printf '\nint do_poll(struct sock *sk)\n{\n\treturn 1;\n}\n' >> net.c
		git commit -q -a -m "net: add do_poll"
		python3 - <<'PY'
s = open("net.c").read()
s = s.replace("\tif (!sk)\n\t\treturn -EINVAL;\n", "")
s = s.replace("GFP_KERNEL);\n", "GFP_KERNEL);\n\tlen = min(len, 64);\n")
open("net.c", "w").write(s)
PY
		git commit -q -a -m "net: clamp receive length"
		git checkout -q main
	)
}
