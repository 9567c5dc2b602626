//! hydrator: turns the metadata-only on-failure records of Kinesis and
//! DynamoDB stream event source mappings into complete, replayable documents.
//!
//! The flow, one module a step:
//! - [`trigger`]: an invocation payload (SNS, SQS or S3 event, bare record) in, on-failure records out.
//! - [`failure_object`]: an S3 on-failure destination's object: the record and the payload it saved.
//! - [`failure`]: the on-failure record, validated: stream ARN ([`stream_arn`]), shard, sequence range, batch size.
//! - [`read`]: the exact sequence range read back from its shard, every gap named, within bounds.
//! - [`document`]: the version 1 document whose `Records` replay into the failed consumer.
//! - [`clients`]: one Kinesis or DynamoDB Streams client per region ([`regions`]), from the stream's ARN.
//! - [`deliver`]: documents out to the SQS dead-letter queue, when the function sends them itself.
//! - [`hydrator`]: ties them together for one invocation, answering with a [`response`] or an [`error`].
//!
//! Beside the flow: [`fault`] (input errors that cannot quote input), [`logging`]
//! (JSON lines), [`raw_payload`] (the payload's bytes, past the runtime's parse);
//! `main.rs` only wires them to the runtime.

pub mod aws_error;
pub mod backoff;
pub mod batch_send;
pub mod clients;
pub mod deliver;
pub mod document;
pub mod error;
pub mod failure;
pub mod failure_object;
pub mod fault;
pub mod hydrator;
pub mod logging;
pub mod raw_payload;
pub mod read;
pub mod regions;
pub mod response;
pub mod sequence;
pub mod settings;
pub mod stream_arn;
pub mod trigger;

pub use hydrator::{HydrateError, Hydrator, Response};
pub use settings::Settings;

/// Loads the SDK configuration from the environment. Per-service endpoint
/// variables such as `AWS_ENDPOINT_URL_KINESIS` take precedence over
/// `AWS_ENDPOINT_URL`, which is how local runs reach the emulators.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// The invocation deadline Lambda gives (milliseconds since the epoch) as an
/// instant on this process's clock.
pub fn deadline_from_epoch_millis(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    tokio::time::Instant::now()
        + std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
