#!/usr/bin/env bash
# Benchmarks against the emulators and prints the figures.
#   scripts/bench.sh          the release Lambda artefact against kinesis-mock:
#                             cold init, hydration of 1,000 and 10,000 records,
#                             peak memory (docs/benchmark.md).
#   scripts/bench.sh storm    a failure storm of 500 on-failure records over one
#                             shard, in SQS batches, against one read a failure,
#                             then delivered twice with the idempotency table on
#                             (docs/storms.md), and the release artefact's peak
#                             memory for a storm interleaving 24 shards in one
#                             invocation; options after `storm` go to it.
# Not part of the test run: writing 10,000 records into kinesis-mock takes minutes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators
if [ "${1:-}" = storm ]; then
  shift
  say "cargo lambda build --release (the memory pass runs the artefact)"
  cargo lambda build --release --bin hydrate
  cargo build -q -p hydrator-local --bin storm_bench
  "$CARGO_TARGET_DIR/debug/storm_bench" "$@"
  exit
fi
say "cargo lambda build --release"
cargo lambda build --release --bin hydrate
cargo build -q -p hydrator-local --bin bench
"$CARGO_TARGET_DIR/debug/bench" "$@"
