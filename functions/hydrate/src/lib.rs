//! hydrator: turns the metadata-only on-failure records of Kinesis, DynamoDB
//! stream and Kafka event source mappings into complete, replayable documents.
//!
//! The folders, in the order the data flows through them:
//! - `input`: an invocation payload in (SNS, SQS, S3 or Kafka event, bare
//!   record, an S3 on-failure object); on-failure records out, every field
//!   validated (a Kafka record by `kinds::kafka`).
//! - `read`: the exact sequence range read back from its shard, every gap
//!   named, within bounds; `read::coalesce` serves a storm of failures of one
//!   shard from one paced read.
//! - `kinds`: what differs between stream kinds, one folder a kind
//!   (`kinesis`, `dynamodb`): the shard read and Lambda's event shape (a
//!   Kinesis answer read from its own text, its data passed through);
//!   `kafka`: Kafka failures, read partition by partition from the cluster,
//!   made documents the same delivery sends.
//! - `document`: the version 1 document (records, gaps, status), split into
//!   parts and read back and joined again, with one type for both directions.
//! - `deliver`: documents out: the SQS dead-letter queue (offload to S3 for a
//!   body too large) and the Firehose archive.
//! - `hydrator`: one invocation, from payload to answer: the orchestration,
//!   delivery once a failure, its settings, its error and its response.
//!
//! Beside the flow: `aws` (every trait AWS is reached through, the real
//! clients, one classification of AWS errors, batched sends, backoff, the
//! idempotency table), `observe` (JSON logs, one metrics line a document).
//! The modules are private; what the binary, the tool, the tests and the
//! fuzzer use is re-exported below. `main.rs` only wires it to the runtime.

mod aws;
mod deliver;
mod document;
mod hydrator;
mod input;
mod kinds;
mod observe;
mod read;

// What the binary, the tool, the tests and the fuzzer use; the rest stays inside.
pub use aws::backoff::Backoff;
pub use aws::batch_send::{
    batches, send_all, BatchApi, CallFailure, EntryAnswer, EntryFailure, Sent,
};
pub use aws::bounded_object::{ObjectError, ObjectReader};
pub use aws::error::ErrorClass;
pub use aws::https::https_client;
pub use deliver::{Offload, S3Pointer};
pub use document::{join, Document, JoinError};
pub use hydrator::settings::{KafkaAuthMode, KafkaSettings, Settings};
pub use hydrator::{HydrateError, Hydrator, Response};
pub use input::failure::{OnFailureRecord, RecordError};
pub use input::failure_object::FailureObject;
pub use input::raw_payload::{RawPayload, RawPayloadLayer};
pub use input::sequence::{compare_decimal, SequenceNumber};
pub use input::stream_arn::{ArnError, StreamArn, StreamKind};
pub use input::trigger::{
    parse as parse_invocation, FailureInput, InputError, Invocation, QueueMessage,
};
pub use kinds::kafka::batch::{Condition as KafkaCondition, KafkaFailure, KafkaRecordError};
pub use kinds::kafka::broker::{ClientCertificate, ClientCertificateError, KafkaAuth};
pub use kinds::kafka::document::KafkaDocument;
pub use kinds::kafka::read::{
    KafkaGap, KafkaGapReason, KafkaLimits, PartitionError, PartitionRead,
};
pub use kinds::kafka::{read_failure as read_kafka_failure, read_failures as read_kafka_failures};
pub use observe::logging::init as init_logging;
pub use observe::metrics::{
    line_for as metrics_line, names as metric_names, Counts as MetricCounts,
    Dimension as MetricDimension, MetricsSettings,
};
pub use read::ReadLimits;

/// Loads the SDK configuration from the environment. Per-service endpoint
/// variables such as `AWS_ENDPOINT_URL_KINESIS` take precedence over
/// `AWS_ENDPOINT_URL`, which is how local runs reach the emulators.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
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
