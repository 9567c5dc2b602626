//! Documents out, over the wire: the dead-letter queue and the archive without loss, Kafka
//! failures read from the local broker (kafka.rs), bodies
//! offloaded to S3 for the Python extended client, the metrics lines, and the failure path
//! end to end with both functions.
//!
//! One test binary an area, so that the support library and the SDK are linked once for
//! all of the area's modules.

mod delivery;
mod kafka;
mod metrics;
mod metrics_runtime;
mod offload;
mod pipeline;
