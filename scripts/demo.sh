#!/usr/bin/env bash
# Install dependencies, build kreview, and run a real job: ingest the
# bundled io-uring list archive (2,026 real messages, first half of 2024)
# into a fresh database, list the assembled patch series, and show one.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" --target kreview
work=$(mktemp -d)
xz -dc tests/data/archives/io-uring-2024H1.mbox.xz > "$work/io-uring.mbox"
./build/kreview ingest --db "$work/kreview.db" --mbox "$work/io-uring.mbox"
./build/kreview series list --db "$work/kreview.db" | tail -n 25
echo
./build/kreview series show --db "$work/kreview.db" \
	20240320225750.1769647-1-axboe@kernel.dk
echo
echo "database: $work/kreview.db (try: ./build/kreview series list --db $work/kreview.db --json)"
