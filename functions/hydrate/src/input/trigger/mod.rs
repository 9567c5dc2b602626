//! Trigger envelopes in: turns an invocation payload into the on-failure
//! records it carries, so nothing past this module knows how a record arrived.
//!
//! Accepted shapes:
//! - an SNS event from the on-failure topic (every record of it);
//! - an SQS event from an on-failure queue, each body the record itself or the
//!   SNS notification wrapping it; messages stand alone, so one bad message
//!   never holds up the others;
//! - a bare on-failure record (direct invocation, replays), from an event
//!   source mapping or an EventBridge Pipe;
//! - an S3 event notification for objects an S3 on-failure destination wrote.
//!
//! Errors name the problem in one line and never quote payload data.

mod s3;
mod sns;
mod sqs;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::input::failure::{BatchInfo, OnFailureRecord, RecordError};
use crate::input::fault::{FieldFault, JsonFault};

pub use s3::S3ObjectRef;

/// What one invocation asks for.
#[derive(Debug)]
pub enum Invocation {
    /// SNS, direct and S3 invocations succeed or fail as a whole: on failure
    /// the platform retries and then keeps the raw event.
    Whole(Vec<FailureInput>),
    /// SQS invocations answer message by message (a partial batch response).
    Queue(Vec<QueueMessage>),
}

/// Where one failure comes from.
#[derive(Debug)]
pub enum FailureInput {
    /// The on-failure record itself.
    Record(OnFailureRecord),
    /// An object written by an S3 on-failure destination, to be fetched.
    S3Object(S3ObjectRef),
}

impl FailureInput {
    /// The failed batch, when known before anything is fetched.
    pub fn batch(&self) -> Option<&BatchInfo> {
        match self {
            FailureInput::Record(record) => Some(&record.batch),
            FailureInput::S3Object(_) => None,
        }
    }
}

impl QueueMessage {
    /// The failed batch, when the message held a valid record.
    pub fn batch(&self) -> Option<&BatchInfo> {
        self.content.as_ref().ok().map(|record| &record.batch)
    }
}

/// One SQS message: its id, for the partial batch response, and what it held.
#[derive(Debug)]
pub struct QueueMessage {
    /// Given back to SQS as it came; logged only by `index`, since it is input.
    pub message_id: String,
    /// The message's place in the event.
    pub index: usize,
    pub content: Result<OnFailureRecord, InputError>,
}

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

/// The services whose events carry failure records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Sns,
    Sqs,
    S3,
}

impl Transport {
    /// SNS writes `Transport`, SQS and S3 write `eventSource`.
    fn of(record: &Value) -> Option<Self> {
        let source = record
            .get("EventSource")
            .or_else(|| record.get("eventSource"))
            .and_then(Value::as_str)?;
        match source {
            "aws:sns" => Some(Transport::Sns),
            "aws:sqs" => Some(Transport::Sqs),
            "aws:s3" => Some(Transport::S3),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Transport::Sns => "SNS",
            Transport::Sqs => "SQS",
            Transport::S3 => "S3",
        }
    }
}

/// Reads an invocation payload.
pub fn parse(payload: &[u8]) -> Result<Invocation, InputError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(InputError::PayloadTooLarge {
            bytes: payload.len(),
        });
    }
    let text = std::str::from_utf8(payload).map_err(|_| InputError::NotUtf8)?;
    let value: Value = serde_json::from_str(text).map_err(|e| InputError::InvalidJson(e.into()))?;
    let Some(object) = value.as_object() else {
        return Err(InputError::UnsupportedEvent);
    };
    if is_failure_record(object) {
        let record = OnFailureRecord::parse(text).map_err(InputError::Record)?;
        return Ok(Invocation::Whole(vec![FailureInput::Record(record)]));
    }
    let Some(records) = object.get("Records").and_then(Value::as_array) else {
        return Err(InputError::UnsupportedEvent);
    };
    let Some(first) = records.first() else {
        return Err(InputError::EmptyEvent);
    };
    if records.len() > MAX_EVENT_RECORDS {
        return Err(InputError::TooManyRecords(records.len()));
    }
    let source = Transport::of(first).ok_or(InputError::UnsupportedEvent)?;
    if let Some(index) = records
        .iter()
        .position(|r| Transport::of(r) != Some(source))
    {
        return Err(InputError::MixedEvent {
            index,
            expected: source.name(),
        });
    }
    match source {
        Transport::Sns => sns::records(records).map(|records| {
            Invocation::Whole(records.into_iter().map(FailureInput::Record).collect())
        }),
        Transport::Sqs => Ok(Invocation::Queue(sqs::messages(records))),
        Transport::S3 => s3::objects(records).map(|objects| {
            Invocation::Whole(objects.into_iter().map(FailureInput::S3Object).collect())
        }),
    }
}

/// A bare on-failure record names its batch at the top level.
fn is_failure_record(object: &serde_json::Map<String, Value>) -> bool {
    object.contains_key("KinesisBatchInfo") || object.contains_key("DDBStreamBatchInfo")
}
