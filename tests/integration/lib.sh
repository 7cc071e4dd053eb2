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

# The real archive slice, decompressed once per test.
slice_mbox() {
	if [ ! -f "$TRASH/slice.mbox" ]; then
		xz -dc "$SLICE_XZ" > "$TRASH/slice.mbox"
	fi
	echo "$TRASH/slice.mbox"
}
