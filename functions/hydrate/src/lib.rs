//! hydrator: turns the metadata-only on-failure records of Kinesis and
//! DynamoDB stream event source mappings into complete, replayable documents.
//!
//! The flow, one private module a step (the layout, in order):
//! - `trigger`: an invocation payload (SNS, SQS or S3 event, bare record) in, on-failure records out.
//! - `failure_object`: an S3 on-failure destination's object: the record and the payload it saved.
//! - `failure`: the on-failure record, validated: stream ARN (`stream_arn`), shard, sequence range, batch size.
//! - `read`: the exact sequence range read back from its shard, every gap named, within bounds.
//! - `document`: the version 1 document whose `Records` replay into the failed consumer, and its read side.
//! - `clients`: one Kinesis or DynamoDB Streams client per region (`regions`), from the stream's ARN;
//!   the real side of `aws_api`, the small traits the hydrator reaches AWS through.
//! - `deliver`: documents out to the SQS dead-letter queue and the archive, through `batch_send`.
//! - `hydrator`: ties them together for one invocation, answering with a `response` or an `error`.
//!
//! Beside the flow: `fault` (input errors that cannot quote input), `aws_error`
//! (one classification of AWS errors), `kpl` (KPL aggregated records taken
//! apart, for the tool), `logging` (JSON lines), `metrics` (one
//! embedded-metric-format line a document), `raw_payload`
//! (the payload's bytes, past the runtime's parse), `storm` (failure storms:
//! coalesced reads, one read of a shard at a time, a read budget, the
//! idempotency table). The modules are private;
//! what the binary, the tool, the tests and the fuzzer use is re-exported
//! below. `main.rs` only wires it to the runtime.

mod aws_api;
mod aws_error;
mod backoff;
mod batch_send;
mod bounded_object;
mod clients;
mod deliver;
mod document;
mod error;
mod failure;
mod failure_object;
mod fault;
mod hydrator;
mod kpl;
mod logging;
mod metrics;
mod raw_payload;
mod read;
mod regions;
mod response;
mod sequence;
mod settings;
mod storm;
mod stream_arn;
mod trigger;

// What the binary, the tool, the tests and the fuzzer use; the rest stays inside.
pub use aws_error::ErrorClass;
pub use backoff::Backoff;
pub use batch_send::{batches, send_all, BatchApi, CallFailure, EntryAnswer, EntryFailure, Sent};
pub use bounded_object::{ObjectError, ObjectReader};
pub use deliver::{Offload, S3Pointer};
pub use document::{join, Document, JoinError};
pub use error::HydrateError;
pub use failure::{OnFailureRecord, RecordError};
pub use failure_object::FailureObject;
pub use hydrator::Hydrator;
pub use kpl::{deaggregate, Kpl, KplError, UserRecord, MAGIC as KPL_MAGIC};
pub use logging::init as init_logging;
pub use metrics::{
    line_for as metrics_line, names as metric_names, Counts as MetricCounts,
    Dimension as MetricDimension, MetricsSettings,
};
pub use raw_payload::{RawPayload, RawPayloadLayer};
pub use read::ReadLimits;
pub use response::Response;
pub use sequence::{compare_decimal, SequenceNumber};
pub use settings::Settings;
pub use stream_arn::{ArnError, StreamArn, StreamKind};
pub use trigger::{parse as parse_invocation, FailureInput, InputError, Invocation, QueueMessage};

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
