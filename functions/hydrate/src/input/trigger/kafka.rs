//! A Kafka topic destination's messages, as a function subscribed to that
//! topic gets them: a Kafka event whose `records` are keyed by partition, each
//! record's `value` the base64 of an on-failure record that names one failed
//! record (`KafkaBatchInfo.recordInfo`) and holds it (`payload`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::error::{InputError, MAX_EVENT_RECORDS};
use crate::input::failure::{AnyRecord, OnFailureRecord, RecordError};
use crate::input::fault::{self, FieldFault};

/// A Kafka event: `eventSource` of MSK or self-managed Kafka, and `records`.
pub(super) fn is_kafka_event(object: &Map<String, Value>) -> bool {
    let source = object.get("eventSource").and_then(Value::as_str);
    matches!(source, Some("aws:kafka" | "SelfManagedKafka")) && object.contains_key("records")
}

/// Every message's on-failure record, in the event's order; the first bad
/// one fails them all, since the invocation fails or succeeds as a whole.
pub(super) fn records(event: &Map<String, Value>) -> Result<Vec<AnyRecord>, InputError> {
    let malformed = |index, fault: FieldFault| InputError::MalformedEnvelope {
        envelope: "Kafka",
        index,
        reason: fault.into(),
    };
    let partitions = event
        .get("records")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(0, FieldFault::not("records", "an object")))?;
    let mut messages = Vec::new();
    for partition in partitions.values() {
        let array = partition
            .as_array()
            .ok_or_else(|| malformed(messages.len(), FieldFault::not("records.*", "an array")))?;
        messages.extend(array);
        if messages.len() > MAX_EVENT_RECORDS {
            return Err(InputError::TooManyRecords(messages.len()));
        }
    }
    if messages.is_empty() {
        return Err(InputError::EmptyEvent);
    }
    messages
        .into_iter()
        .enumerate()
        .map(|(index, message)| {
            let value = fault::string(message, "value", "records.*.value")
                .map_err(|fault| malformed(index, fault))?;
            let bytes = STANDARD
                .decode(value)
                .map_err(|_| malformed(index, FieldFault::not("records.*.value", "base64")))?;
            let in_record = |error| InputError::InRecord {
                envelope: "Kafka",
                index,
                error,
            };
            let text = String::from_utf8(bytes).map_err(|_| in_record(RecordError::NotUtf8))?;
            OnFailureRecord::parse_any(&text).map_err(in_record)
        })
        .collect()
}
