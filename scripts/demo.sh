#!/usr/bin/env bash
# The main job, locally: start kinesis-mock and moto, write orders to a Kinesis
# stream and changes to a DynamoDB table, build the on-failure record an event
# source mapping sends for a failed batch of each, run the hydrate function
# through the Lambda runtime interface, and print each document's summary and
# where it was written (.demo/).
# KEEP_EMULATORS=1 leaves the emulators running, to replay .demo/sns-*-event.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators
say "building the function and the demo"
cargo build -q -p hydrate --bin hydrate
cargo build -q -p hydrator-tests --bin demo
say "hydrating a failed Kinesis batch and a failed DynamoDB stream batch"
"$CARGO_TARGET_DIR/debug/demo"
