//! Trigger envelopes in: turns an invocation payload into the on-failure
//! records it carries, so nothing past this module knows how a record arrived.
//!
//! Accepted shapes: an SNS event (the on-failure topic's subscription, every
//! record of it) and a bare on-failure record (direct invocation and replays).

use serde::Deserialize;

use crate::failure::{OnFailureRecord, RecordError};

/// Why a payload yields no on-failure records. One line each, no payload data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("the invocation payload is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the payload is neither an SNS event nor an on-failure record")]
    UnsupportedEvent,
    #[error("the SNS event has no records")]
    EmptySnsEvent,
    #[error("SNS record {index} is malformed: {reason}")]
    MalformedSnsRecord { index: usize, reason: String },
    #[error("SNS record {index}: {error}")]
    InSnsRecord { index: usize, error: RecordError },
    #[error("{0}")]
    Record(RecordError),
}

impl InputError {
    /// A stable class name for logs and the Lambda error type.
    pub fn class(&self) -> &'static str {
        match self {
            InputError::InvalidJson(_) => "InvalidJson",
            InputError::UnsupportedEvent => "UnsupportedEvent",
            InputError::EmptySnsEvent => "EmptySnsEvent",
            InputError::MalformedSnsRecord { .. } => "MalformedSnsRecord",
            InputError::InSnsRecord { error, .. } | InputError::Record(error) => error.class(),
        }
    }
}

#[derive(Deserialize)]
struct SnsEvent {
    #[serde(rename = "Records")]
    records: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct SnsRecord {
    #[serde(rename = "Sns")]
    sns: SnsNotification,
}

#[derive(Deserialize)]
struct SnsNotification {
    #[serde(rename = "Message")]
    message: String,
}

/// The on-failure records in an invocation payload, in the order they came.
pub fn failure_records(payload: &str) -> Result<Vec<OnFailureRecord>, InputError> {
    let value: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| InputError::InvalidJson(e.to_string()))?;
    let Some(object) = value.as_object() else {
        return Err(InputError::UnsupportedEvent);
    };
    if object.contains_key("KinesisBatchInfo") || object.contains_key("DDBStreamBatchInfo") {
        return OnFailureRecord::parse(payload)
            .map(|r| vec![r])
            .map_err(InputError::Record);
    }
    if !is_sns_event(object) {
        return Err(InputError::UnsupportedEvent);
    }
    let event: SnsEvent =
        serde_json::from_value(value).map_err(|_| InputError::UnsupportedEvent)?;
    if event.records.is_empty() {
        return Err(InputError::EmptySnsEvent);
    }
    event
        .records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let record: SnsRecord =
                serde_json::from_value(record).map_err(|e| InputError::MalformedSnsRecord {
                    index,
                    reason: e.to_string(),
                })?;
            OnFailureRecord::parse(&record.sns.message)
                .map_err(|error| InputError::InSnsRecord { index, error })
        })
        .collect()
}

fn is_sns_event(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    object
        .get("Records")
        .and_then(|r| r.as_array())
        .is_some_and(|records| records.is_empty() || records.iter().any(|r| r.get("Sns").is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(start: &str, end: &str) -> String {
        format!(
            r#"{{"requestContext":{{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:c"}},"KinesisBatchInfo":{{"shardId":"shardId-000000000000","startSequenceNumber":"{start}","endSequenceNumber":"{end}","batchSize":2,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}}}}"#
        )
    }

    fn sns(messages: &[String]) -> String {
        let records: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| serde_json::json!({"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {"Type": "Notification", "Message": m}}))
            .collect();
        serde_json::json!({ "Records": records }).to_string()
    }

    #[test]
    fn every_sns_record_is_taken_in_order() {
        let records = failure_records(&sns(&[record("1", "2"), record("5", "9")])).unwrap();
        let starts: Vec<&str> = records.iter().map(|r| r.batch.start.as_str()).collect();
        assert_eq!(starts, ["1", "5"]);
        assert_eq!(records[1].raw.get(), record("5", "9"));
    }

    #[test]
    fn a_bare_record_is_a_direct_invocation() {
        let records = failure_records(&record("3", "4")).unwrap();
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn payloads_that_are_not_failures_are_classified() {
        for (payload, class) in [
            ("{".to_string(), "InvalidJson"),
            ("42".to_string(), "UnsupportedEvent"),
            (r#"{"hello": "world"}"#.to_string(), "UnsupportedEvent"),
            (
                r#"{"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}"#.to_string(),
                "UnsupportedEvent",
            ),
            (r#"{"Records": []}"#.to_string(), "EmptySnsEvent"),
            (
                r#"{"Records": [{"Sns": {"Message": 5}}]}"#.to_string(),
                "MalformedSnsRecord",
            ),
            (sns(&["not json".to_string()]), "InvalidJson"),
            (sns(&["{\"Records\": 1}".to_string()]), "MissingBatchInfo"),
            (sns(&[record("9", "1")]), "StartAfterEnd"),
        ] {
            let err = failure_records(&payload).unwrap_err();
            assert_eq!(err.class(), class, "{payload}: {err}");
        }
    }
}
