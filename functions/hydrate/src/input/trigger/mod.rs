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
//! - in each of these, a Kafka event source mapping's record
//!   (`KafkaBatchInfo`), passed on whole for `crate::kinds::kafka`;
//! - a Kafka event from a Kafka topic destination, each message's value an
//!   on-failure record that holds its one failed record;
//! - an S3 event notification for objects an S3 on-failure destination wrote.
//!
//! Errors name the problem in one line and never quote payload data.

mod error;
mod kafka;
mod s3;
mod sns;
mod sqs;
#[cfg(test)]
mod tests;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::input::failure::{AnyRecord, BatchInfo, OnFailureRecord};

pub use error::{InputError, MAX_EVENT_RECORDS, MAX_PAYLOAD_BYTES};
pub use s3::S3ObjectRef;
pub use sqs::QueueMessage;

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
    /// A Kafka on-failure record, whole, for `crate::kinds::kafka` to
    /// validate and read.
    Kafka(Box<RawValue>),
    /// An object written by an S3 on-failure destination, to be fetched.
    S3Object(S3ObjectRef),
}

impl FailureInput {
    /// The failed shard's batch, when known before anything is fetched.
    pub fn batch(&self) -> Option<&BatchInfo> {
        self.stream_record().map(|record| &record.batch)
    }

    /// A stream's on-failure record, when this is one.
    pub fn stream_record(&self) -> Option<&OnFailureRecord> {
        match self {
            FailureInput::Record(record) => Some(record),
            FailureInput::Kafka(_) | FailureInput::S3Object(_) => None,
        }
    }

    /// A record of either family.
    fn record(record: AnyRecord) -> Self {
        match record {
            AnyRecord::Stream(record) => FailureInput::Record(record),
            AnyRecord::Kafka(raw) => FailureInput::Kafka(raw),
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
        let record = OnFailureRecord::parse_any(text).map_err(InputError::Record)?;
        return Ok(Invocation::Whole(vec![FailureInput::record(record)]));
    }
    if kafka::is_kafka_event(object) {
        let records = kafka::records(object)?;
        return Ok(Invocation::Whole(
            records.into_iter().map(FailureInput::record).collect(),
        ));
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
            Invocation::Whole(records.into_iter().map(FailureInput::record).collect())
        }),
        Transport::Sqs => Ok(Invocation::Queue(sqs::messages(records))),
        Transport::S3 => s3::objects(records).map(|objects| {
            Invocation::Whole(objects.into_iter().map(FailureInput::S3Object).collect())
        }),
    }
}

/// A bare on-failure record names its batch at the top level.
fn is_failure_record(object: &serde_json::Map<String, Value>) -> bool {
    ["KinesisBatchInfo", "DDBStreamBatchInfo", "KafkaBatchInfo"]
        .iter()
        .any(|info| object.contains_key(*info))
}
