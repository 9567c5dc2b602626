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
#   scripts/bench.sh lean     CPU per invocation and peak memory of the release
#                             artefact delivering five batches (3 x 100 B to one
#                             10 MiB record) to the queue, each beside the floor:
#                             serde_json alone, optimized (local/floor), parsing
#                             the same GetRecords answers and writing the same
#                             document (#27), and the cold start; options after
#                             `lean` go to it (`--only 10,000`).
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
if [ "${1:-}" = lean ]; then
  shift
  say "cargo lambda build --release"
  cargo lambda build --release --bin hydrate
  # The floor runs optimized; it depends on serde and serde_json only, so
  # its release build takes seconds and the SDK is not compiled again.
  cargo build -q --release -p lean-floor
  cargo build -q -p hydrator-local --bin lean_bench
  "$CARGO_TARGET_DIR/debug/lean_bench" --floor "$CARGO_TARGET_DIR/release/lean_floor" "$@"
  exit
fi
say "cargo lambda build --release"
cargo lambda build --release --bin hydrate
cargo build -q -p hydrator-local --bin bench
"$CARGO_TARGET_DIR/debug/bench" "$@"
