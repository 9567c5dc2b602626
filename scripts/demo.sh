#!/usr/bin/env bash
# The main job, locally: start kinesis-mock and moto, then run the whole
# failure path (tests/support/pipeline.rs): orders written to a Kinesis
# stream, the orders-consumer failing on two of them, an event source
# mapping that retries and bisects, the on-failure records published to SNS
# and queued in SQS, the hydrate function invoked through the Lambda runtime
# interface, and the DLQ shown with `hydrator dlq list`. Logs go to .demo/.
#   scripts/demo.sh sources   hydrates a failed Kinesis batch and a failed
#                             DynamoDB stream batch directly instead.
#   scripts/demo.sh storm     a failure storm: reads made against one a failure.
#   scripts/demo.sh kafka     the Kafka failure path: kafka-python orders on the
#                             local broker, failed batches' records through SNS
#                             and SQS, the hydrator reading their offsets back.
# KEEP_EMULATORS=1 leaves the emulators running, to drain, replay and redrive.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators
say "building the functions, the hydrator tool and the pipeline"
cargo build -q $dev_features --workspace --bins
if [ "${1:-}" = storm ]; then
  say "a failure storm: a consumer failing every batch for a while, SNS, SQS with batching, the hydrator, the DLQ"
  "$CARGO_TARGET_DIR/debug/storm_demo"
elif [ "${1:-}" = kafka ]; then
  say "the Kafka failure path: orders on the local broker, failing consumer, SNS, SQS, hydrator, DLQ"
  "$CARGO_TARGET_DIR/debug/kafka_demo"
elif [ "${1:-}" = sources ]; then
  say "hydrating a failed Kinesis batch and a failed DynamoDB stream batch"
  "$CARGO_TARGET_DIR/debug/demo"
else
  say "running the local pipeline: stream, failing consumer, SNS, SQS, hydrator, DLQ"
  "$CARGO_TARGET_DIR/debug/pipeline"
fi
