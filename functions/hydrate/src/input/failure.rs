//! The on-failure record: what a stream event source mapping (or an
//! EventBridge Pipe) writes when a batch exhausts its retries.
//!
//! It names a batch (stream, shard, first and last sequence number, size) but
//! holds none of its data. Parsing validates everything the reader relies on,
//! so that a record which gets past this module can be read without surprises,
//! and keeps the record's exact text for the document. Errors name fields and
//! classes only (see [`crate::input::fault`]): the record may be forged.

use serde_json::value::RawValue;
use serde_json::Value;

use crate::input::fault::{is_identifier, FieldFault, JsonFault, Members};
use crate::input::sequence::{SequenceNumber, SequenceNumberError};
pub use crate::input::stream_arn::{ArnError, StreamArn, StreamKind};

/// Lambda's largest stream batch; the on-failure record of a larger one is not real.
pub const MAX_BATCH_SIZE: u32 = 10_000;

/// The batch an on-failure record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    pub shard_id: String,
    pub start: SequenceNumber,
    pub end: SequenceNumber,
    pub batch_size: u32,
    pub stream_arn: StreamArn,
}

/// One on-failure record, validated, with its exact text kept.
#[derive(Debug, Clone)]
pub struct OnFailureRecord {
    /// The record exactly as received, to be carried into the document.
    pub raw: Box<RawValue>,
    pub batch: BatchInfo,
    /// Who consumed the batch: `requestContext.functionArn` for an event
    /// source mapping, `context.partnerResourceArn` for a Pipe.
    pub consumer_arn: Option<String>,
}

impl OnFailureRecord {
    pub fn kind(&self) -> StreamKind {
        self.batch.stream_arn.kind
    }
}

/// Why a JSON document is not an on-failure record the hydrator accepts.
/// Each variant is one line an operator can act on; none holds input text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the on-failure record is not UTF-8")]
    NotUtf8,
    #[error("the on-failure record is not valid JSON: {0}")]
    InvalidJson(JsonFault),
    #[error("the on-failure record is not a JSON object")]
    NotAnObject,
    #[error("the record has neither KinesisBatchInfo nor DDBStreamBatchInfo")]
    MissingBatchInfo,
    /// Kafka failures are parsed and read by `crate::kinds::kafka`
    /// ([`OnFailureRecord::parse_any`] passes them on): said plainly to a
    /// caller that expects a stream's record, not as a missing field.
    #[error("the record names a Kafka batch (KafkaBatchInfo), not a stream's")]
    KafkaBatch,
    #[error("the record has both KinesisBatchInfo and DDBStreamBatchInfo")]
    AmbiguousBatchInfo,
    #[error("`{0}` occurs more than once")]
    DuplicateField(&'static str),
    #[error("the batch info is malformed: {0}")]
    MalformedBatchInfo(FieldFault),
    #[error("the batch info has no `{0}`")]
    MissingField(&'static str),
    #[error("`{field}` {problem}")]
    InvalidSequenceNumber {
        field: &'static str,
        problem: SequenceNumberError,
    },
    #[error("the stream ARN {0}")]
    InvalidStreamArn(ArnError),
    #[error("{info} names a {found} stream ARN")]
    StreamKindMismatch {
        info: &'static str,
        found: &'static str,
    },
    #[error("startSequenceNumber is after endSequenceNumber")]
    StartAfterEnd,
    #[error("batchSize {0} is outside 1..={MAX_BATCH_SIZE}")]
    BatchSizeOutOfRange(u64),
    #[error("the shard id is empty")]
    EmptyShardId,
    #[error("the shard id ({0} bytes) is not 1 to 128 characters of [A-Za-z0-9_.-]")]
    InvalidShardId(usize),
    #[error("the record's context is malformed: {0}")]
    MalformedContext(FieldFault),
    #[error("the object's payload is not an event with Records: {0}")]
    MalformedPayload(PayloadFault),
}

/// What is wrong with an S3 object's `payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayloadFault {
    #[error("{0}")]
    Json(JsonFault),
    #[error("{0}")]
    Field(FieldFault),
}

impl RecordError {
    /// A stable class name for logs, metrics and the Lambda error type.
    pub fn class(&self) -> &'static str {
        match self {
            RecordError::NotUtf8 => "NotUtf8",
            RecordError::InvalidJson(_) => "InvalidJson",
            RecordError::NotAnObject => "NotAnObject",
            RecordError::MissingBatchInfo => "MissingBatchInfo",
            RecordError::KafkaBatch => "KafkaBatch",
            RecordError::AmbiguousBatchInfo => "AmbiguousBatchInfo",
            RecordError::DuplicateField(_) => "DuplicateField",
            RecordError::MalformedBatchInfo(_) => "MalformedBatchInfo",
            RecordError::MissingField(_) => "MissingField",
            RecordError::InvalidSequenceNumber { .. } => "InvalidSequenceNumber",
            RecordError::InvalidStreamArn(_) => "InvalidStreamArn",
            RecordError::StreamKindMismatch { .. } => "StreamKindMismatch",
            RecordError::StartAfterEnd => "StartAfterEnd",
            RecordError::BatchSizeOutOfRange(_) => "BatchSizeOutOfRange",
            RecordError::EmptyShardId => "EmptyShardId",
            RecordError::InvalidShardId(_) => "InvalidShardId",
            RecordError::MalformedContext(_) => "MalformedContext",
            RecordError::MalformedPayload(_) => "MalformedPayload",
        }
    }
}

impl From<JsonFault> for RecordError {
    fn from(fault: JsonFault) -> Self {
        RecordError::InvalidJson(fault)
    }
}

/// An on-failure record of either family.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "held only while a trigger hands it on, one at a time"
)]
pub enum AnyRecord {
    /// A Kinesis or DynamoDB Streams record, validated.
    Stream(OnFailureRecord),
    /// A Kafka record (`KafkaBatchInfo` alone), its text kept whole:
    /// `crate::kinds::kafka` validates it, knowing what Kafka allows.
    Kafka(Box<RawValue>),
}

impl OnFailureRecord {
    /// Parses and validates one stream's on-failure record from its JSON text.
    pub fn parse(text: &str) -> Result<Self, RecordError> {
        match Self::parse_any(text)? {
            AnyRecord::Stream(record) => Ok(record),
            AnyRecord::Kafka(_) => Err(RecordError::KafkaBatch),
        }
    }

    /// Parses one on-failure record of either family from its JSON text: a
    /// stream's validated, a Kafka one passed on whole.
    pub fn parse_any(text: &str) -> Result<AnyRecord, RecordError> {
        let raw: Box<RawValue> = serde_json::from_str(text).map_err(JsonFault::from)?;
        let members = Members::parse(raw.get())?.ok_or(RecordError::NotAnObject)?;
        let unique = |key| members.unique(key).map_err(RecordError::DuplicateField);
        let (info_name, info, expected_kind) =
            match (unique("KinesisBatchInfo")?, unique("DDBStreamBatchInfo")?) {
                (Some(k), None) => ("KinesisBatchInfo", k, StreamKind::Kinesis),
                (None, Some(d)) => ("DDBStreamBatchInfo", d, StreamKind::DynamoDb),
                (None, None) if unique("KafkaBatchInfo")?.is_some() => {
                    return Ok(AnyRecord::Kafka(raw))
                }
                (None, None) => return Err(RecordError::MissingBatchInfo),
                (Some(_), Some(_)) => return Err(RecordError::AmbiguousBatchInfo),
            };
        let batch = validate(info, info_name, expected_kind)?;
        let request_context = context(unique("requestContext")?, "requestContext")?;
        let pipe_context = context(unique("context")?, "context")?;
        let consumer_arn = consumer(request_context, "functionArn")
            .or_else(|| consumer(pipe_context, "partnerResourceArn"));
        Ok(AnyRecord::Stream(Self {
            raw,
            batch,
            consumer_arn,
        }))
    }
}

/// The record's context, which is copied into the document with the record:
/// an object when present (`requestContext` from an event source mapping,
/// `context` from a Pipe), or the record is not one AWS wrote. Kafka records
/// (`crate::kinds::kafka::batch`) are held to it too.
pub(crate) fn context<'a>(
    value: Option<&'a RawValue>,
    path: &'static str,
) -> Result<Option<&'a RawValue>, RecordError> {
    match value {
        Some(raw) if !raw.get().trim_start().starts_with('{') => Err(
            RecordError::MalformedContext(FieldFault::not(path, "an object")),
        ),
        other => Ok(other),
    }
}

/// The consumer's ARN, when the context names one. It is copied into
/// records as their `invokeIdentityArn`, never into errors or logs.
fn consumer(context: Option<&RawValue>, key: &str) -> Option<String> {
    let context: Value = serde_json::from_str(context?.get()).ok()?;
    context.get(key)?.as_str().map(str::to_owned)
}

/// The batch info's fields, each checked against what the services allow.
fn validate(
    info: &RawValue,
    info_name: &'static str,
    expected: StreamKind,
) -> Result<BatchInfo, RecordError> {
    let members = Members::parse(info.get())?.ok_or(RecordError::MalformedBatchInfo(
        FieldFault::not(info_name, "an object"),
    ))?;
    let field = |key: &'static str| -> Result<Option<Value>, RecordError> {
        match members.unique(key).map_err(RecordError::DuplicateField)? {
            None => Ok(None),
            // Already parsed once as part of the record, so it parses again.
            Some(raw) => Ok(serde_json::from_str::<Value>(raw.get())
                .ok()
                .filter(|v| !v.is_null())),
        }
    };
    let text = |key: &'static str| -> Result<String, RecordError> {
        match field(key)? {
            None => Err(RecordError::MissingField(key)),
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(RecordError::MalformedBatchInfo(FieldFault::not(
                key, "a string",
            ))),
        }
    };

    let shard_id = text("shardId")?;
    if shard_id.trim().is_empty() {
        return Err(RecordError::EmptyShardId);
    }
    if !is_identifier(&shard_id, 1, 128) {
        return Err(RecordError::InvalidShardId(shard_id.len()));
    }
    let start = sequence(text("startSequenceNumber")?, "startSequenceNumber")?;
    let end = sequence(text("endSequenceNumber")?, "endSequenceNumber")?;
    let batch_size = match field("batchSize")? {
        None => return Err(RecordError::MissingField("batchSize")),
        Some(value) => value
            .as_u64()
            .ok_or(RecordError::MalformedBatchInfo(FieldFault::not(
                "batchSize",
                "a whole number",
            )))?,
    };
    if batch_size == 0 || batch_size > u64::from(MAX_BATCH_SIZE) {
        return Err(RecordError::BatchSizeOutOfRange(batch_size));
    }
    let stream_arn =
        StreamArn::parse(&text("streamArn")?).map_err(RecordError::InvalidStreamArn)?;
    if stream_arn.kind != expected {
        return Err(RecordError::StreamKindMismatch {
            info: info_name,
            found: stream_arn.kind.name(),
        });
    }
    if start > end {
        return Err(RecordError::StartAfterEnd);
    }
    Ok(BatchInfo {
        shard_id,
        start,
        end,
        // Checked against MAX_BATCH_SIZE above, so it fits.
        batch_size: batch_size as u32,
        stream_arn,
    })
}

fn sequence(text: String, field: &'static str) -> Result<SequenceNumber, RecordError> {
    SequenceNumber::parse(&text)
        .map_err(|problem| RecordError::InvalidSequenceNumber { field, problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINESIS: &str = r#"{
      "requestContext": {"requestId": "c9b8fa9f", "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:consumer",
        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
      "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
      "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
      "KinesisBatchInfo": {"shardId": "shardId-000000000001",
        "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
        "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
        "batchSize": 500, "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;

    #[test]
    fn a_kinesis_record_parses_and_keeps_its_exact_text() {
        let record = OnFailureRecord::parse(KINESIS).unwrap();
        assert_eq!(record.raw.get(), KINESIS);
        assert_eq!(record.kind(), StreamKind::Kinesis);
        assert_eq!(record.batch.shard_id, "shardId-000000000001");
        assert_eq!(record.batch.batch_size, 500);
        assert_eq!(record.batch.stream_arn.region, "us-east-2");
        assert_eq!(
            record.consumer_arn.as_deref(),
            Some("arn:aws:lambda:us-east-2:123456789012:function:consumer")
        );
    }

    #[test]
    fn a_pipe_record_names_the_pipe_as_consumer() {
        let text = r#"{"context": {"partnerResourceArn": "arn:aws:pipes:eu-west-2:123456789123:pipe/my-pipe", "condition": "RetryAttemptsExhausted"},
          "version": "1.0", "timestamp": "2024-03-08T00:00:00Z",
          "DDBStreamBatchInfo": {"shardId": "shardId-00000001", "startSequenceNumber": "100000000053490326648",
            "endSequenceNumber": "100000000053490326648", "batchSize": 1,
            "streamArn": "arn:aws:dynamodb:eu-west-2:123456789123:table/orders/stream/2023-12-10T22:52:22.419"}}"#;
        let record = OnFailureRecord::parse(text).unwrap();
        assert_eq!(record.kind(), StreamKind::DynamoDb);
        assert_eq!(
            record.consumer_arn.as_deref(),
            Some("arn:aws:pipes:eu-west-2:123456789123:pipe/my-pipe")
        );
    }

    /// The context is copied into the document with the record, so one that
    /// is not an object marks a record AWS did not write, as a bad batch does.
    #[test]
    fn a_context_that_is_not_an_object_is_refused() {
        let batch = r#""KinesisBatchInfo": {"shardId": "shardId-000000000000", "startSequenceNumber": "1",
            "endSequenceNumber": "4", "batchSize": 1, "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#;
        for (key, value) in [
            ("requestContext", r#""a string""#),
            ("requestContext", "[1]"),
            ("requestContext", "null"),
            ("requestContext", "7"),
            ("context", r#""a string""#),
        ] {
            let text = format!(r#"{{"{key}": {value}, {batch}}}"#);
            let error = OnFailureRecord::parse(&text).unwrap_err();
            assert_eq!(error.class(), "MalformedContext", "{key}: {value}");
            assert_eq!(
                error.to_string(),
                format!("the record's context is malformed: `{key}` is not an object")
            );
        }
        let fine = format!(r#"{{"requestContext": {{}}, {batch}}}"#);
        assert!(OnFailureRecord::parse(&fine).is_ok());
    }

    fn with_batch(batch: &str) -> String {
        format!(r#"{{"requestContext": {{}}, "KinesisBatchInfo": {batch}}}"#)
    }

    /// A valid Kinesis batch with one field set to `value` (or removed, for null).
    fn batch_with(field: &str, value: serde_json::Value) -> String {
        let mut batch = serde_json::json!({
            "shardId": "shardId-000000000000", "startSequenceNumber": "1", "endSequenceNumber": "4",
            "batchSize": 1, "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"
        });
        if value.is_null() {
            batch.as_object_mut().unwrap().remove(field);
        } else {
            batch[field] = value;
        }
        with_batch(&batch.to_string())
    }

    #[test]
    fn a_valid_batch_with_nothing_changed_parses() {
        assert!(
            OnFailureRecord::parse(&batch_with("shardId", "shardId-000000000000".into())).is_ok()
        );
    }

    #[test]
    fn malformed_batches_get_their_class() {
        use serde_json::json;
        let cases: Vec<(String, &str)> = vec![
            ("not json".into(), "InvalidJson"),
            ("[1,2]".into(), "NotAnObject"),
            ("{}".into(), "MissingBatchInfo"),
            (r#"{"KafkaBatchInfo": {}}"#.into(), "KafkaBatch"),
            (
                r#"{"KinesisBatchInfo": {}, "DDBStreamBatchInfo": {}}"#.into(),
                "AmbiguousBatchInfo",
            ),
            (with_batch("[]"), "MalformedBatchInfo"),
            (batch_with("shardId", json!(5)), "MalformedBatchInfo"),
            (batch_with("batchSize", json!(-1)), "MalformedBatchInfo"),
            (batch_with("batchSize", json!(1.5)), "MalformedBatchInfo"),
            (batch_with("shardId", json!(null)), "MissingField"),
            (
                batch_with("startSequenceNumber", json!(null)),
                "MissingField",
            ),
            (batch_with("endSequenceNumber", json!(null)), "MissingField"),
            (batch_with("batchSize", json!(null)), "MissingField"),
            (batch_with("streamArn", json!(null)), "MissingField"),
            (
                batch_with("startSequenceNumber", json!("0x1")),
                "InvalidSequenceNumber",
            ),
            (
                batch_with("endSequenceNumber", json!("")),
                "InvalidSequenceNumber",
            ),
            (
                batch_with("startSequenceNumber", json!("5")),
                "StartAfterEnd",
            ),
            (batch_with("batchSize", json!(0)), "BatchSizeOutOfRange"),
            (
                batch_with("batchSize", json!(10_001)),
                "BatchSizeOutOfRange",
            ),
            (
                batch_with(
                    "streamArn",
                    json!("arn:aws:dynamodb:us-east-1:123456789012:table/tbl/stream/x"),
                ),
                "StreamKindMismatch",
            ),
            (batch_with("streamArn", json!("nope")), "InvalidStreamArn"),
            (batch_with("shardId", json!(" ")), "EmptyShardId"),
            (
                batch_with("shardId", json!("a\nERROR forged")),
                "InvalidShardId",
            ),
            (
                batch_with("shardId", json!("x".repeat(100_000))),
                "InvalidShardId",
            ),
            (
                batch_with(
                    "streamArn",
                    json!("arn:aws:kinesis:us-fake-9:123456789012:stream/s"),
                ),
                "InvalidStreamArn",
            ),
            (
                with_batch(r#"{"shardId": "a", "shardId": "b"}"#),
                "DuplicateField",
            ),
            (
                r#"{"KinesisBatchInfo": {}, "KinesisBatchInfo": {}}"#.into(),
                "DuplicateField",
            ),
            (
                r#"{"KinesisBatchInfo": "text"}"#.into(),
                "MalformedBatchInfo",
            ),
        ];
        for (input, class) in cases {
            let err = OnFailureRecord::parse(&input).unwrap_err();
            assert_eq!(err.class(), class, "{input}: {err}");
        }
    }

    /// Every string of a record replaced by one holding a marker, with the
    /// escapes and line breaks that broke the old scrubbing around it.
    #[test]
    fn no_error_quotes_the_record() {
        let marker = "ZQXMARKER";
        let planted = format!("a\"{marker}\n\\\"");
        let base: serde_json::Value = serde_json::from_str(KINESIS).unwrap();
        let mut paths = Vec::new();
        string_paths(&base, &mut Vec::new(), &mut paths);
        assert!(paths.len() >= 10, "{paths:?}");
        for path in paths {
            for value in [
                serde_json::json!(planted),
                serde_json::json!(5),
                serde_json::json!([planted]),
            ] {
                let mut record = base.clone();
                *path.iter().fold(&mut record, |v, key| &mut v[key.as_str()]) = value;
                // A `\u` escape beside the marker, as the JSON text holds it.
                let text = record
                    .to_string()
                    .replace(marker, &format!("{marker}\\u0041"));
                if let Err(error) = OnFailureRecord::parse(&text) {
                    assert!(!error.to_string().contains(marker), "{path:?}: {error}");
                    assert!(
                        !format!("{error:?}").contains(marker),
                        "{path:?}: {error:?}"
                    );
                }
                // Truncated just after the marker: a syntax error there.
                let cut = &text[..text.find(marker).map_or(text.len() / 2, |i| i + 4)];
                let error = OnFailureRecord::parse(cut).unwrap_err();
                assert!(!error.to_string().contains("ZQXM"), "{path:?}: {error}");
            }
        }
    }

    fn string_paths(value: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    at.push(key.clone());
                    string_paths(inner, at, out);
                    at.pop();
                }
            }
            serde_json::Value::String(_) => out.push(at.clone()),
            _ => {}
        }
    }
}
