//! The on-failure record: what a stream event source mapping (or an
//! EventBridge Pipe) writes when a batch exhausts its retries.
//!
//! It names a batch (stream, shard, first and last sequence number, size) but
//! holds none of its data. Parsing validates everything the reader relies on,
//! so that a record which gets past this module can be read without surprises,
//! and keeps the record's exact text for the document.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::sequence::{SequenceNumber, SequenceNumberError};

/// Lambda's largest stream batch; the on-failure record of a larger one is not real.
pub const MAX_BATCH_SIZE: u32 = 10_000;

/// The kind of stream a batch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Kinesis,
    DynamoDb,
}

impl StreamKind {
    /// The `eventSource` Lambda gives records of this kind.
    pub fn event_source(self) -> &'static str {
        match self {
            StreamKind::Kinesis => "aws:kinesis",
            StreamKind::DynamoDb => "aws:dynamodb",
        }
    }
}

/// A stream ARN, checked and split. The region the stream lives in comes from
/// here, never from the environment: a hydrator may serve streams anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamArn {
    arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub kind: StreamKind,
}

/// Why a string is not a stream ARN the hydrator can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("is not of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")]
    Malformed,
    #[error("names service `{0}`, not kinesis or dynamodb")]
    UnsupportedService(String),
    #[error("is not a stream ARN (expected `stream/NAME` or `table/NAME/stream/LABEL`)")]
    NotAStream,
    #[error("has no region")]
    NoRegion,
    #[error("has an account id that is not 12 digits")]
    BadAccount,
}

impl StreamArn {
    pub fn parse(arn: &str) -> Result<Self, ArnError> {
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(ArnError::Malformed);
        };
        if !partition.starts_with("aws") {
            return Err(ArnError::Malformed);
        }
        if region.is_empty() {
            return Err(ArnError::NoRegion);
        }
        if !is_region(region) {
            return Err(ArnError::Malformed);
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ArnError::BadAccount);
        }
        let kind = match service {
            "kinesis" => StreamKind::Kinesis,
            "dynamodb" => StreamKind::DynamoDb,
            other => return Err(ArnError::UnsupportedService(other.to_owned())),
        };
        let is_stream = match kind {
            StreamKind::Kinesis => resource
                .strip_prefix("stream/")
                .is_some_and(|name| !name.is_empty() && !name.contains('/')),
            StreamKind::DynamoDb => {
                let segments: Vec<&str> = resource.split('/').collect();
                segments.len() == 4
                    && segments[0] == "table"
                    && segments[2] == "stream"
                    && !segments[1].is_empty()
                    && !segments[3].is_empty()
            }
        };
        if !is_stream {
            return Err(ArnError::NotAStream);
        }
        Ok(Self {
            arn: arn.to_owned(),
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            kind,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The stream's name, or for a DynamoDB stream its table's: the second
    /// segment of `stream/NAME` and `table/NAME/stream/LABEL` alike.
    pub fn name(&self) -> &str {
        let resource = self.arn.splitn(6, ':').nth(5).unwrap_or_default();
        resource.split('/').nth(1).unwrap_or_default()
    }
}

fn is_region(region: &str) -> bool {
    region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

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
/// Each variant is one line an operator can act on; none quotes payload data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the on-failure record is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the on-failure record is not a JSON object")]
    NotAnObject,
    #[error("the record has neither KinesisBatchInfo nor DDBStreamBatchInfo")]
    MissingBatchInfo,
    #[error("the record has both KinesisBatchInfo and DDBStreamBatchInfo")]
    AmbiguousBatchInfo,
    #[error("the batch info is malformed: {0}")]
    MalformedBatchInfo(String),
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
    #[error("the object's payload is not an event with Records: {0}")]
    MalformedPayload(String),
}

impl RecordError {
    /// A stable class name for logs, metrics and the Lambda error type.
    pub fn class(&self) -> &'static str {
        match self {
            RecordError::InvalidJson(_) => "InvalidJson",
            RecordError::NotAnObject => "NotAnObject",
            RecordError::MissingBatchInfo => "MissingBatchInfo",
            RecordError::AmbiguousBatchInfo => "AmbiguousBatchInfo",
            RecordError::MalformedBatchInfo(_) => "MalformedBatchInfo",
            RecordError::MissingField(_) => "MissingField",
            RecordError::InvalidSequenceNumber { .. } => "InvalidSequenceNumber",
            RecordError::InvalidStreamArn(_) => "InvalidStreamArn",
            RecordError::StreamKindMismatch { .. } => "StreamKindMismatch",
            RecordError::StartAfterEnd => "StartAfterEnd",
            RecordError::BatchSizeOutOfRange(_) => "BatchSizeOutOfRange",
            RecordError::EmptyShardId => "EmptyShardId",
            RecordError::MalformedPayload(_) => "MalformedPayload",
        }
    }
}

/// The parts of the record the hydrator reads; everything else rides along in `raw`.
#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "KinesisBatchInfo")]
    kinesis: Option<Box<RawValue>>,
    #[serde(rename = "DDBStreamBatchInfo")]
    dynamodb: Option<Box<RawValue>>,
    #[serde(rename = "requestContext")]
    request_context: Option<WireContext>,
    context: Option<WireContext>,
}

#[derive(Deserialize)]
struct WireContext {
    #[serde(rename = "functionArn")]
    function_arn: Option<serde_json::Value>,
    #[serde(rename = "partnerResourceArn")]
    partner_resource_arn: Option<serde_json::Value>,
}

/// Fields are optional here so that a missing one is named, not reported as
/// a generic type error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatch {
    shard_id: Option<String>,
    start_sequence_number: Option<String>,
    end_sequence_number: Option<String>,
    batch_size: Option<u64>,
    stream_arn: Option<String>,
}

impl OnFailureRecord {
    /// Parses and validates one on-failure record from its JSON text.
    pub fn parse(text: &str) -> Result<Self, RecordError> {
        let raw: Box<RawValue> =
            serde_json::from_str(text).map_err(|e| RecordError::InvalidJson(redacted(&e)))?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(RecordError::NotAnObject);
        }
        let wire: Wire = serde_json::from_str(raw.get())
            .map_err(|e| RecordError::MalformedBatchInfo(redacted(&e)))?;
        let (info_name, info, expected_kind) = match (wire.kinesis, wire.dynamodb) {
            (Some(k), None) => ("KinesisBatchInfo", k, StreamKind::Kinesis),
            (None, Some(d)) => ("DDBStreamBatchInfo", d, StreamKind::DynamoDb),
            (None, None) => return Err(RecordError::MissingBatchInfo),
            (Some(_), Some(_)) => return Err(RecordError::AmbiguousBatchInfo),
        };
        let batch: WireBatch = serde_json::from_str(info.get())
            .map_err(|e| RecordError::MalformedBatchInfo(redacted(&e)))?;
        let batch = validate(batch, info_name, expected_kind)?;
        let consumer_arn = wire
            .request_context
            .and_then(|c| c.function_arn)
            .or_else(|| wire.context.and_then(|c| c.partner_resource_arn))
            .and_then(|v| v.as_str().map(str::to_owned));
        Ok(Self {
            raw,
            batch,
            consumer_arn,
        })
    }
}

fn validate(
    batch: WireBatch,
    info_name: &'static str,
    expected: StreamKind,
) -> Result<BatchInfo, RecordError> {
    let shard_id = batch.shard_id.ok_or(RecordError::MissingField("shardId"))?;
    if shard_id.trim().is_empty() {
        return Err(RecordError::EmptyShardId);
    }
    let start = sequence(batch.start_sequence_number, "startSequenceNumber")?;
    let end = sequence(batch.end_sequence_number, "endSequenceNumber")?;
    let batch_size = batch
        .batch_size
        .ok_or(RecordError::MissingField("batchSize"))?;
    if batch_size == 0 || batch_size > u64::from(MAX_BATCH_SIZE) {
        return Err(RecordError::BatchSizeOutOfRange(batch_size));
    }
    let arn = batch
        .stream_arn
        .ok_or(RecordError::MissingField("streamArn"))?;
    let stream_arn = StreamArn::parse(&arn).map_err(RecordError::InvalidStreamArn)?;
    if stream_arn.kind != expected {
        return Err(RecordError::StreamKindMismatch {
            info: info_name,
            found: match stream_arn.kind {
                StreamKind::Kinesis => "Kinesis",
                StreamKind::DynamoDb => "DynamoDB",
            },
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

/// A serde error without the values it quotes (`invalid type: string "…"`):
/// what was wrong and where, never what the input said.
pub(crate) fn redacted(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match (c, quoted) {
            ('"', false) => {
                out.push_str("\"…");
                quoted = true;
            }
            ('"', true) => {
                out.push('"');
                quoted = false;
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

fn sequence(value: Option<String>, field: &'static str) -> Result<SequenceNumber, RecordError> {
    let text = value.ok_or(RecordError::MissingField(field))?;
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
    fn a_stream_arn_names_its_stream_or_table() {
        let kinesis =
            StreamArn::parse("arn:aws:kinesis:us-east-2:123456789012:stream/orders").unwrap();
        assert_eq!(kinesis.name(), "orders");
        let dynamodb = StreamArn::parse(
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000",
        )
        .unwrap();
        assert_eq!(dynamodb.name(), "orders");
    }

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

    #[test]
    fn arns_in_every_partition_parse_with_their_region() {
        for (arn, partition, region) in [
            ("arn:aws:kinesis:us-east-1:123456789012:stream/a", "aws", "us-east-1"),
            ("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a", "aws-cn", "cn-north-1"),
            ("arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/a", "aws-us-gov", "us-gov-west-1"),
            (
                "arn:aws-cn:dynamodb:cn-northwest-1:123456789012:table/t/stream/2024-01-01T00:00:00.000",
                "aws-cn",
                "cn-northwest-1",
            ),
        ] {
            let parsed = StreamArn::parse(arn).unwrap();
            assert_eq!((parsed.partition.as_str(), parsed.region.as_str()), (partition, region), "{arn}");
            assert_eq!(parsed.as_str(), arn);
        }
    }

    #[test]
    fn arns_that_are_not_streams_are_refused_with_the_reason() {
        for (arn, expected) in [
            ("", ArnError::Malformed),
            (
                "arn:aws:kinesis:us-east-1:123456789012",
                ArnError::Malformed,
            ),
            (
                "urn:aws:kinesis:us-east-1:123456789012:stream/a",
                ArnError::Malformed,
            ),
            (
                "arn:gcp:kinesis:us-east-1:123456789012:stream/a",
                ArnError::Malformed,
            ),
            ("arn:aws:kinesis::123456789012:stream/a", ArnError::NoRegion),
            (
                "arn:aws:kinesis:US EAST:123456789012:stream/a",
                ArnError::Malformed,
            ),
            (
                "arn:aws:kinesis:us-east-1:1234:stream/a",
                ArnError::BadAccount,
            ),
            (
                "arn:aws:sqs:us-east-1:123456789012:queue",
                ArnError::UnsupportedService("sqs".into()),
            ),
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/",
                ArnError::NotAStream,
            ),
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/a/consumer/b:1",
                ArnError::NotAStream,
            ),
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
                ArnError::NotAStream,
            ),
        ] {
            assert_eq!(StreamArn::parse(arn), Err(expected), "{arn}");
        }
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
                    json!("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"),
                ),
                "StreamKindMismatch",
            ),
            (batch_with("streamArn", json!("nope")), "InvalidStreamArn"),
            (batch_with("shardId", json!(" ")), "EmptyShardId"),
        ];
        for (input, class) in cases {
            let err = OnFailureRecord::parse(&input).unwrap_err();
            assert_eq!(err.class(), class, "{input}: {err}");
        }
    }
}
