//! Kinesis records as Lambda delivers them to a Kinesis consumer.

use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::record::{Base64Text, KinesisRecord};
use crate::document::{BatchContext, RawRecord, UnwrittenRecord};

/// One Kinesis record as Lambda delivers it to a Kinesis consumer: the
/// record as the shard gave it, with what its batch shares. It is written
/// only where it is serialized, straight into a part, its data the very
/// text of the answer it came in ([`RawRecord::unwritten`]).
#[derive(Debug)]
pub struct KinesisEventRecord {
    context: KinesisBatchContext,
    record: KinesisRecord,
}

impl UnwrittenRecord for KinesisEventRecord {
    fn sequence_number(&self) -> &str {
        &self.record.sequence_number
    }
}

impl Serialize for KinesisEventRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (context, record) = (&*self.context.0, &self.record);
        EventShape {
            kinesis: PayloadShape {
                kinesis_schema_version: "1.0",
                partition_key: &record.partition_key,
                sequence_number: &record.sequence_number,
                data: &record.data,
                approximate_arrival_timestamp: record.arrival_millis.map(epoch_seconds),
                encryption_type: record.encryption_type.as_deref(),
            },
            event_source: "aws:kinesis",
            event_version: "1.0",
            event_id: EventId {
                shard_id: &context.shard_id,
                sequence_number: &record.sequence_number,
            },
            event_name: "aws:kinesis:record",
            invoke_identity_arn: &context.invoke_identity_arn,
            aws_region: &context.aws_region,
            event_source_arn: &context.event_source_arn,
        }
        .serialize(serializer)
    }
}

/// The record's fields in the order and with the names Lambda writes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventShape<'a> {
    kinesis: PayloadShape<'a>,
    event_source: &'static str,
    event_version: &'static str,
    #[serde(rename = "eventID")]
    event_id: EventId<'a>,
    event_name: &'static str,
    invoke_identity_arn: &'a str,
    aws_region: &'a str,
    #[serde(rename = "eventSourceARN")]
    event_source_arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PayloadShape<'a> {
    kinesis_schema_version: &'static str,
    partition_key: &'a str,
    sequence_number: &'a str,
    data: &'a Base64Text,
    /// Epoch seconds with millisecond fraction, as Lambda writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    approximate_arrival_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_type: Option<&'a str>,
}

/// `shardId-000000000006:4959...`, written as a string without being made one.
struct EventId<'a> {
    shard_id: &'a str,
    sequence_number: &'a str,
}

impl std::fmt::Display for EventId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.shard_id, self.sequence_number)
    }
}

impl Serialize for EventId<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What every record of one batch shares. Each record holds it, so it is
/// one shared pointer: a word a record, not four.
#[derive(Debug, Clone)]
pub struct KinesisBatchContext(Arc<BatchFields>);

#[derive(Debug)]
struct BatchFields {
    shard_id: Arc<str>,
    invoke_identity_arn: Arc<str>,
    aws_region: Arc<str>,
    event_source_arn: Arc<str>,
}

impl BatchContext for KinesisBatchContext {
    type Record = KinesisRecord;

    fn event_record(&self, record: KinesisRecord) -> Result<RawRecord, serde_json::Error> {
        RawRecord::unwritten(self.kinesis_record(record))
    }
}

impl KinesisBatchContext {
    pub fn new(
        shard_id: Arc<str>,
        invoke_identity_arn: Arc<str>,
        aws_region: Arc<str>,
        event_source_arn: Arc<str>,
    ) -> Self {
        KinesisBatchContext(Arc::new(BatchFields {
            shard_id,
            invoke_identity_arn,
            aws_region,
            event_source_arn,
        }))
    }

    pub fn kinesis_record(&self, record: KinesisRecord) -> KinesisEventRecord {
        KinesisEventRecord {
            context: self.clone(),
            record,
        }
    }
}

/// Kinesis keeps arrival times to the millisecond; dividing whole
/// milliseconds gives the double nearest that decimal, which prints as it.
fn epoch_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> KinesisBatchContext {
        KinesisBatchContext::new(
            "shardId-000000000006".into(),
            "arn:aws:iam::123456789012:role/lambda-role".into(),
            "us-east-2".into(),
            "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
        )
    }

    #[test]
    fn a_record_serializes_as_lambda_delivers_it() {
        let seq = "49590338271490256608559692538361571095921575989136588898";
        let record = KinesisRecord {
            sequence_number: seq.into(),
            partition_key: "1".into(),
            data: Base64Text::encode(b"Hello, this is a test."),
            arrival_millis: Some(1_545_084_650_987),
            encryption_type: Some("NONE".into()),
        };
        let json = serde_json::to_value(context().kinesis_record(record.clone())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "1",
                    "sequenceNumber": seq,
                    "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                    "approximateArrivalTimestamp": 1545084650.987,
                    "encryptionType": "NONE"
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000006:{seq}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
                "awsRegion": "us-east-2",
                "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
            })
        );
        // Byte for byte, in Lambda's field order: the document's records are
        // compared as text downstream.
        let text = serde_json::to_string(&context().kinesis_record(record)).unwrap();
        assert_eq!(
            text,
            format!(
                concat!(
                    r#"{{"kinesis":{{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"{seq}","#,
                    r#""data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987,"#,
                    r#""encryptionType":"NONE"}},"eventSource":"aws:kinesis","eventVersion":"1.0","#,
                    r#""eventID":"shardId-000000000006:{seq}","eventName":"aws:kinesis:record","#,
                    r#""invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","#,
                    r#""eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}}"#
                ),
                seq = seq
            )
        );
    }

    #[test]
    fn a_large_record_is_written_as_a_small_one_is() {
        for size in [10, 64 * 1024, 1024 * 1024] {
            let record = KinesisRecord {
                sequence_number: "49590338271490256608559692538361571095921575989136588898".into(),
                partition_key: "k\"\u{1}".repeat(50).into(),
                data: Base64Text::encode(&vec![0xfb; size]),
                arrival_millis: Some(1_700_000_000_001),
                encryption_type: None,
            };
            let written = context().event_record(record.clone()).unwrap();
            let plain = serde_json::to_string(&context().kinesis_record(record)).unwrap();
            assert_eq!(
                serde_json::to_string(&written).unwrap(),
                plain,
                "{size} bytes"
            );
            assert_eq!(written.len(), plain.len(), "{size} bytes");
        }
    }

    #[test]
    fn written_records_keep_no_buffer_of_the_records_read() {
        // As a shard's records come: a list grown by doubling, past its length.
        let mut read = Vec::with_capacity(1_024);
        read.extend((0..600).map(|n| KinesisRecord {
            sequence_number: n.to_string().into(),
            partition_key: "k".into(),
            data: Base64Text::encode(b"x"),
            arrival_millis: None,
            encryption_type: None,
        }));
        let written = context().event_records(read).unwrap();
        assert_eq!(written.0.len(), 600);
        assert_eq!(written.0.capacity(), 600);
    }

    #[test]
    fn binary_data_round_trips_through_the_lambda_event_type() {
        let bytes: Vec<u8> = (0..=255).rev().collect();
        let record = KinesisRecord {
            sequence_number: "1".into(),
            partition_key: "k".into(),
            data: Base64Text::encode(&bytes),
            arrival_millis: Some(1_700_000_000_001),
            encryption_type: None,
        };
        let event = serde_json::json!({ "Records": [context().kinesis_record(record)] });
        let parsed: aws_lambda_events::event::kinesis::KinesisEvent =
            serde_json::from_value(event).unwrap();
        assert_eq!(parsed.records[0].kinesis.data.0, bytes);
        assert_eq!(
            parsed.records[0]
                .kinesis
                .approximate_arrival_timestamp
                .0
                .timestamp_millis(),
            1_700_000_000_001
        );
    }
}
