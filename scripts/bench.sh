#!/usr/bin/env bash
# Benchmarks the release Lambda artefact against kinesis-mock and prints the
# figures (cold init, hydration of 1,000 and 10,000 records, peak memory).
# Not part of the test run: writing 10,000 records into kinesis-mock takes minutes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators
say "cargo lambda build --release"
cargo lambda build --release --bin hydrate
cargo build -q -p hydrator-local --bin bench
"$CARGO_TARGET_DIR/debug/bench" "$@"
