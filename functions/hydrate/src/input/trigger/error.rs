//! Why a payload, or one message of it, yields no on-failure record, and
//! the bounds that make a payload not a real invocation. Every envelope
//! reports through these, so they sit apart from the envelopes.

use crate::input::failure::RecordError;
use crate::input::fault::{FieldFault, JsonFault};

/// Lambda's largest synchronous payload; nothing larger is a real invocation.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// More records than an SQS batch may hold (10,000) are not a real event.
pub const MAX_EVENT_RECORDS: usize = 10_000;

/// Why a payload, or one message of it, yields no on-failure record. Built
/// from classes, positions and field paths only: no variant holds input text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("the invocation payload is not UTF-8")]
    NotUtf8,
    #[error("the invocation payload is {bytes} bytes, more than the {MAX_PAYLOAD_BYTES} an invocation carries")]
    PayloadTooLarge { bytes: usize },
    #[error("the invocation payload is not valid JSON: {0}")]
    InvalidJson(JsonFault),
    #[error("the payload is not an SNS, SQS or S3 event, nor an on-failure record")]
    UnsupportedEvent,
    #[error("the event has no records")]
    EmptyEvent,
    #[error("the event has {0} records, more than the {MAX_EVENT_RECORDS} an event carries")]
    TooManyRecords(usize),
    #[error("the event mixes record sources (record {index} is not from {expected})")]
    MixedEvent {
        index: usize,
        expected: &'static str,
    },
    #[error("{envelope} record {index} is malformed: {reason}")]
    MalformedEnvelope {
        envelope: &'static str,
        index: usize,
        reason: EnvelopeFault,
    },
    #[error("{envelope} record {index} names a region that does not exist")]
    UnknownRegion {
        envelope: &'static str,
        index: usize,
    },
    #[error("{envelope} record {index}: {error}")]
    InRecord {
        envelope: &'static str,
        index: usize,
        error: RecordError,
    },
    #[error("{0}")]
    Record(RecordError),
}

/// What is wrong with a transport's own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeFault {
    #[error("{0}")]
    Field(FieldFault),
    #[error("the object key is not valid URL encoding of UTF-8")]
    KeyEncoding,
    #[error("the object key is empty or longer than 1024 bytes")]
    KeyLength,
    #[error("the bucket name is not a valid S3 bucket name")]
    BucketName,
}

impl From<FieldFault> for EnvelopeFault {
    fn from(fault: FieldFault) -> Self {
        EnvelopeFault::Field(fault)
    }
}

impl InputError {
    /// A stable class name for logs and the Lambda error type.
    pub fn class(&self) -> &'static str {
        match self {
            InputError::NotUtf8 => "NotUtf8",
            InputError::PayloadTooLarge { .. } => "PayloadTooLarge",
            InputError::InvalidJson(_) => "InvalidJson",
            InputError::UnsupportedEvent => "UnsupportedEvent",
            InputError::EmptyEvent => "EmptyEvent",
            InputError::TooManyRecords(_) => "TooManyRecords",
            InputError::MixedEvent { .. } => "MixedEvent",
            InputError::MalformedEnvelope { .. } => "MalformedEnvelope",
            InputError::UnknownRegion { .. } => "UnknownRegion",
            InputError::InRecord { error, .. } | InputError::Record(error) => error.class(),
        }
    }
}
