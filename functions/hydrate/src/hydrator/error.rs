//! Why an invocation, or one message of it, produced no delivered document.
//!
//! Each error has a stable class (`Input.StartAfterEnd`, `Read.Throttled`)
//! that becomes the Lambda `errorType`; messages are built from classes,
//! validated identifiers and numbers, never from input text.

use crate::deliver::DeliveryError;
use crate::hydrator::kafka::KafkaRefusal;
use crate::input::failure::RecordError;
use crate::input::trigger::InputError;
use crate::kinds::kafka::batch::KafkaRecordError;
use crate::kinds::kafka::read::PartitionError;
use crate::read::ReadError;

/// Why a failure record produced no delivered document. For SNS, direct and
/// S3 invocations the platform then retries and finally hands the raw event
/// to the hydrator's own OnFailure destination; for SQS the message returns
/// to the queue.
#[derive(Debug, thiserror::Error)]
pub enum HydrateError {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("reading {stream} {shard} failed: {error}")]
    Read {
        stream: String,
        shard: String,
        error: ReadError,
    },
    /// `key` is [`crate::input::trigger::S3ObjectRef::key_for_logs`]: the key itself only when it
    /// has the documented form.
    #[error("fetching s3://{bucket}/{key} failed: {message}")]
    Fetch {
        bucket: String,
        key: String,
        message: String,
    },
    #[error("s3://{bucket}/{key} is {size} bytes or more, over the {limit}-byte bound for an on-failure object (S3_OBJECT_MAX_BYTES); it was not read")]
    ObjectTooLarge {
        bucket: String,
        key: String,
        size: u64,
        limit: usize,
    },
    #[error("s3://{bucket}/{key}: {error}")]
    Object {
        bucket: String,
        key: String,
        error: RecordError,
    },
    #[error("{0}")]
    Delivery(#[from] DeliveryError),
    #[error("DLQ_QUEUE_URL is not set: an SQS-triggered invocation returns no payload, so documents must be sent to a queue")]
    NoDlqQueueUrl,
    #[error("the response is {size} bytes and the request {request} bytes, more than the {limit} bytes an OnSuccess destination carries: set DLQ_QUEUE_URL so the function sends documents to the queue itself, in parts")]
    ResponseTooLarge {
        size: usize,
        request: usize,
        limit: usize,
    },
    #[error("{0}")]
    Ledger(#[from] crate::aws::ledger::LedgerError),
    #[error("{0}")]
    KafkaRecord(KafkaRecordError),
    #[error("{0}")]
    KafkaNotAllowed(KafkaRefusal),
    #[error("KAFKA_AUTH: {0} is not supported: none, tls, mtls, scram-sha-512 and iam (with an MSK cluster) are")]
    KafkaAuthNotSupported(&'static str),
    #[error("{0}")]
    KafkaSecret(crate::hydrator::kafka_secrets::KafkaSecretError),
    #[error("reading the Kafka cluster failed: {0}")]
    KafkaRead(PartitionError),
}

impl HydrateError {
    /// A stable class for logs and the Lambda error type, e.g. `Input.StartAfterEnd`.
    pub fn class(&self) -> String {
        match self {
            HydrateError::Input(e) => format!("Input.{}", e.class()),
            HydrateError::Read { error, .. } => match error {
                ReadError::InvalidStart { .. } => "Read.InvalidStart".into(),
                ReadError::Source(s) => format!("Read.{}", s.class()),
            },
            HydrateError::Fetch { .. } => "Fetch.S3".into(),
            HydrateError::ObjectTooLarge { .. } => "Input.ObjectTooLarge".into(),
            HydrateError::Object { error, .. } => format!("Input.{}", error.class()),
            HydrateError::Delivery(e) => format!("Delivery.{}", e.class()),
            HydrateError::NoDlqQueueUrl => "Config.NoDlqQueueUrl".into(),
            HydrateError::ResponseTooLarge { .. } => "Response.TooLarge".into(),
            HydrateError::Ledger(e) => format!("Ledger.{}", e.class()),
            HydrateError::KafkaRecord(e) => format!("Input.{}", e.class()),
            HydrateError::KafkaNotAllowed(refusal) => format!("Input.{}", refusal.class()),
            HydrateError::KafkaAuthNotSupported(_) => "Config.KafkaAuthNotSupported".into(),
            HydrateError::KafkaSecret(error) => error.class(),
            HydrateError::KafkaRead(error) => match error {
                PartitionError::Gone => "Read.Kafka.Gone".into(),
                PartitionError::OutOfRange => "Read.Kafka.OutOfRange".into(),
                PartitionError::Broker(class) => format!("Read.Kafka.{class}"),
            },
        }
    }
}

impl From<HydrateError> for lambda_runtime::Diagnostic {
    fn from(error: HydrateError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.class(),
            error_message: error.to_string(),
        }
    }
}
