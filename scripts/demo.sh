#!/usr/bin/env bash
# Install dependencies, build kreview, and run real jobs on bundled real
# data: ingest the io-uring list archive (2,026 real messages, first
# half of 2024), list the assembled series, then review one real series
# from it with `kreview check`: against the LLM endpoint configured in
# ~/.config/kreview/config.yaml if there is one, otherwise as a dry run
# that prints the review plan and says how to configure an endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" --target kreview
work=$(mktemp -d)
xz -dc tests/data/archives/io-uring-2024H1.mbox.xz > "$work/io-uring.mbox"
./build/kreview ingest --db "$work/kreview.db" --mbox "$work/io-uring.mbox"
./build/kreview series list --db "$work/kreview.db" | tail -n 15
echo
# "[PATCHSET v2 0/3] Support for provided buffers for send", Jens Axboe
series=20240219212748.3826830-1-axboe@kernel.dk
./build/kreview series show --db "$work/kreview.db" "$series"
./build/kreview series show --db "$work/kreview.db" --mbox "$series" > "$work/series.mbox"
echo
config=()
if [ ! -f "${XDG_CONFIG_HOME:-$HOME/.config}/kreview/config.yaml" ]; then
	echo "No configuration: showing the review plan (kreview check --dry-run)."
	config=(--dry-run)
fi
set +e
./build/kreview check --db "$work/kreview.db" "${config[@]}" "$work/series.mbox"
status=$?
set -e
echo
echo "kreview check exited $status (0 clean, 1 findings, 2 usage, 3 endpoint trouble)"
echo "database: $work/kreview.db"
