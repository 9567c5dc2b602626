//! The consumer's answer read as Lambda reads it for a stream event source
//! mapping with `ReportBatchItemFailures`, so replay never calls a batch
//! done that Lambda would retry.
//!
//! Lambda's rule: no answer, `null`, `{}`, and a null or empty
//! `batchItemFailures` are complete success; each `itemIdentifier` names a
//! failed record: a stream record by its sequence number
//! (`kinesis.sequenceNumber`, `dynamodb.SequenceNumber`), a Kafka record by
//! `{"partition": "<topic>-<partition>", "offset": N}` (the form Powertools'
//! `BatchProcessor` writes for Kafka); an answer Lambda cannot read, or an
//! item whose identifier is missing, null, empty or not a record of the
//! event, fails the whole batch. An answer that is JSON but not an object is
//! one Lambda cannot read as a batch response, so it fails the batch too.
//!
//! Messages name the item by its index and never quote the answer.

use serde_json::Value;

use crate::sources::saved::kafka_partition;

/// What the consumer made of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Succeeded,
    /// The consumer named these records as failed (their [`record_name`]s,
    /// in the event's order); the rest succeeded.
    RecordsFailed(Vec<String>),
    /// Every record of the invocation counts as failed.
    BatchFailed(Failure),
}

/// Why a whole batch failed: a class for scripts, a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error_type: String,
    pub error_message: Option<String>,
}

impl Failure {
    pub fn new(error_type: &str, error_message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.to_owned(),
            error_message: Some(error_message.into()),
        }
    }
}

/// What an `itemIdentifier` names a record by.
#[derive(Debug, PartialEq, Eq)]
enum Item<'a> {
    /// A stream record's sequence number, compared as text.
    Sequence(&'a str),
    /// A Kafka record's `<topic>-<partition>` and offset.
    Kafka { partition: String, offset: i64 },
}

/// The sequence number Lambda's `itemIdentifier` names a stream record by.
fn sequence_number(record: &Value) -> Option<&str> {
    record
        .pointer("/kinesis/sequenceNumber")
        .or_else(|| record.pointer("/dynamodb/SequenceNumber"))
        .and_then(Value::as_str)
}

fn item_of(record: &Value) -> Option<Item<'_>> {
    if let Some(sequence) = sequence_number(record) {
        return Some(Item::Sequence(sequence));
    }
    Some(Item::Kafka {
        partition: kafka_partition(record)?,
        offset: record.get("offset")?.as_i64()?,
    })
}

/// How reports name a record: a stream record by its sequence number, a
/// Kafka record as `<topic>-<partition>@<offset>`.
pub fn record_name(record: &Value) -> Option<String> {
    match item_of(record)? {
        Item::Sequence(sequence) => Some(sequence.to_owned()),
        Item::Kafka { partition, offset } => Some(format!("{partition}@{offset}")),
    }
}

/// The record an `itemIdentifier` names, in either form; `Err` says why it
/// names none.
fn item_named(identifier: &Value) -> Result<Item<'_>, (&'static str, &'static str)> {
    match identifier {
        Value::Null => Err(("NullItemIdentifier", "is null")),
        Value::String(s) if s.is_empty() => Err(("EmptyItemIdentifier", "is empty")),
        Value::String(s) => Ok(Item::Sequence(s)),
        Value::Object(fields) => {
            let partition = fields.get("partition").and_then(Value::as_str);
            let offset = match fields.get("offset") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s))
                    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    s.parse().ok()
                }
                _ => None,
            };
            match (partition, offset) {
                (Some(partition), Some(offset)) if !partition.is_empty() => Ok(Item::Kafka {
                    partition: partition.to_owned(),
                    offset,
                }),
                _ => Err((
                    "BadItemIdentifier",
                    "is not a Kafka record's partition and offset",
                )),
            }
        }
        _ => Err(("BadItemIdentifier", "is not a string")),
    }
}

/// Reads a 200 answer without a function error. `records` are the records
/// the invocation carried.
pub fn read(payload: &[u8], records: &[Value]) -> Verdict {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Succeeded;
    }
    let answer: Value = match serde_json::from_slice(payload) {
        Ok(answer) => answer,
        Err(_) => return invalid("the answer is not JSON"),
    };
    let failures = match &answer {
        Value::Null => return Verdict::Succeeded,
        Value::Object(fields) => match fields.get("batchItemFailures") {
            None | Some(Value::Null) => return Verdict::Succeeded,
            Some(Value::Array(items)) => items,
            Some(_) => return invalid("batchItemFailures is not an array"),
        },
        _ => return invalid("the answer is not an object"),
    };
    let items: Vec<Option<Item>> = records.iter().map(item_of).collect();
    let mut named = vec![false; records.len()];
    for (index, failure) in failures.iter().enumerate() {
        let Some(identifier) = failure.get("itemIdentifier") else {
            return bad_item("BadItemIdentifier", index, "has no itemIdentifier");
        };
        let item = match item_named(identifier) {
            Ok(item) => item,
            Err((class, why)) => return bad_item(class, index, why),
        };
        match items.iter().position(|i| i.as_ref() == Some(&item)) {
            Some(position) => named[position] = true,
            None => {
                return bad_item(
                    "UnknownItemIdentifier",
                    index,
                    "names no record of the event",
                )
            }
        }
    }
    let failed: Vec<String> = records
        .iter()
        .zip(&named)
        .filter(|(_, named)| **named)
        .filter_map(|(record, _)| record_name(record))
        .collect();
    if failed.is_empty() {
        Verdict::Succeeded
    } else {
        Verdict::RecordsFailed(failed)
    }
}

/// Reads the error document of an answer flagged as a function error.
pub fn function_error(kind: &str, payload: &[u8]) -> Verdict {
    let document: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::to_owned);
    Verdict::BatchFailed(Failure {
        error_type: text("errorType").unwrap_or_else(|| kind.to_owned()),
        error_message: text("errorMessage"),
    })
}

fn invalid(why: &str) -> Verdict {
    Verdict::BatchFailed(Failure::new(
        "InvalidBatchResponse",
        format!("{why}: Lambda fails the whole batch"),
    ))
}

fn bad_item(class: &str, index: usize, why: &str) -> Verdict {
    Verdict::BatchFailed(Failure::new(
        class,
        format!("batchItemFailures[{index}].itemIdentifier {why}: Lambda fails the whole batch"),
    ))
}

#[cfg(test)]
mod tests;
