//! The consumer's answer read as Lambda reads it for a stream event source
//! mapping with `ReportBatchItemFailures`, so replay never calls a batch
//! done that Lambda would retry.
//!
//! Lambda's rule: no answer, `null`, `{}`, and a null or empty
//! `batchItemFailures` are complete success; each `itemIdentifier` names a
//! failed record by its sequence number (`kinesis.sequenceNumber`,
//! `dynamodb.SequenceNumber`); an answer Lambda cannot read, or an item whose
//! identifier is missing, null, empty or not a record of the event, fails the
//! whole batch. An answer that is JSON but not an object is one Lambda cannot
//! read as a batch response, so it fails the batch too.
//!
//! Messages name the item by its index and never quote the answer.

use serde_json::Value;

/// What the consumer made of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Succeeded,
    /// The consumer named these records as failed (their sequence numbers,
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

/// The sequence number Lambda's `itemIdentifier` names a stream record by.
pub fn sequence_number(record: &Value) -> Option<&str> {
    record
        .pointer("/kinesis/sequenceNumber")
        .or_else(|| record.pointer("/dynamodb/SequenceNumber"))
        .and_then(Value::as_str)
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
    let mut named = vec![false; records.len()];
    for (index, item) in failures.iter().enumerate() {
        let identifier = match item.get("itemIdentifier") {
            None => return bad_item("BadItemIdentifier", index, "has no itemIdentifier"),
            Some(Value::Null) => return bad_item("NullItemIdentifier", index, "is null"),
            Some(Value::String(s)) if s.is_empty() => {
                return bad_item("EmptyItemIdentifier", index, "is empty")
            }
            Some(Value::String(s)) => s,
            Some(_) => return bad_item("BadItemIdentifier", index, "is not a string"),
        };
        let position = records
            .iter()
            .position(|r| sequence_number(r) == Some(identifier.as_str()));
        match position {
            Some(position) => named[position] = true,
            None => {
                return bad_item(
                    "UnknownItemIdentifier",
                    index,
                    "is not the sequence number of a record in the event",
                )
            }
        }
    }
    let failed: Vec<String> = records
        .iter()
        .zip(&named)
        .filter(|(_, named)| **named)
        .filter_map(|(record, _)| sequence_number(record).map(str::to_owned))
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
