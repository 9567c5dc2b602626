#!/usr/bin/env bash
# The main job, locally: start kinesis-mock, write orders to a stream, build
# the on-failure record an event source mapping sends for a failed batch, run
# the hydrate function through the Lambda runtime interface, and print the
# document's summary and where it was written (.demo/).
# KEEP_EMULATORS=1 leaves the emulator running, to replay .demo/sns-event.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators
say "building the function and the demo"
cargo build -q -p hydrate --bin hydrate
cargo build -q -p hydrator-tests --bin demo
say "hydrating a failed batch"
"$CARGO_TARGET_DIR/debug/demo"
