#!/usr/bin/env bash
# Install dependencies, build kreview, and run real jobs on bundled real
# data: ingest the io-uring list archive (2,026 real messages, first
# half of 2024), list the assembled series, then review one real series
# from it with `kreview check`: against the LLM endpoint configured in
# ~/.config/kreview/config.yaml or a local server if one answers,
# otherwise kreview prints the review plan and says how to configure one.
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
# With an endpoint in ~/.config/kreview/config.yaml, or a local llama.cpp
# or Ollama server answering, this is a real review; otherwise kreview
# prints the review plan and how to configure an endpoint (exit 3).
set +e
./build/kreview check --db "$work/kreview.db" "$work/series.mbox"
status=$?
set -e
echo
echo "kreview check exited $status (0 clean, 1 findings, 2 usage, 3 endpoint trouble)"
echo "database: $work/kreview.db"
