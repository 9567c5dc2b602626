//! Kinesis records as Lambda delivers them to a Kinesis consumer.

use std::sync::Arc;

use serde::Serialize;

use super::record::{Base64Text, KinesisRecord};
use crate::document::{BatchContext, RawRecord};

/// One Kinesis record as Lambda delivers it to a Kinesis consumer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisEventRecord {
    pub kinesis: KinesisPayload,
    pub event_source: &'static str,
    pub event_version: &'static str,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub event_name: &'static str,
    pub invoke_identity_arn: Arc<str>,
    pub aws_region: Arc<str>,
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: Arc<str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisPayload {
    pub kinesis_schema_version: &'static str,
    pub partition_key: String,
    pub sequence_number: String,
    pub data: Base64Text,
    /// Epoch seconds with millisecond fraction, as Lambda writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approximate_arrival_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
}

/// What every record of one batch shares.
#[derive(Debug, Clone)]
pub struct KinesisBatchContext {
    pub shard_id: String,
    pub invoke_identity_arn: Arc<str>,
    pub aws_region: Arc<str>,
    pub event_source_arn: Arc<str>,
}

impl BatchContext for KinesisBatchContext {
    type Record = KinesisRecord;

    fn event_record(&self, record: KinesisRecord) -> Result<RawRecord, serde_json::Error> {
        let sequence_number = record.sequence_number.clone();
        // The data, and room for the rest with every character of the key escaped.
        let expected = record.data.len()
            + 6 * record.partition_key.len()
            + 2 * sequence_number.len()
            + self.shard_id.len()
            + self.invoke_identity_arn.len()
            + self.aws_region.len()
            + self.event_source_arn.len()
            + 512;
        RawRecord::of_sized(&self.kinesis_record(record), expected, sequence_number)
    }
}

impl KinesisBatchContext {
    pub fn kinesis_record(&self, record: KinesisRecord) -> KinesisEventRecord {
        let event_id = format!("{}:{}", self.shard_id, record.sequence_number);
        KinesisEventRecord {
            kinesis: KinesisPayload {
                kinesis_schema_version: "1.0",
                partition_key: record.partition_key,
                sequence_number: record.sequence_number,
                data: record.data,
                approximate_arrival_timestamp: record.arrival_millis.map(epoch_seconds),
                encryption_type: record.encryption_type,
            },
            event_source: "aws:kinesis",
            event_version: "1.0",
            event_id,
            event_name: "aws:kinesis:record",
            invoke_identity_arn: self.invoke_identity_arn.clone(),
            aws_region: self.aws_region.clone(),
            event_source_arn: self.event_source_arn.clone(),
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
        KinesisBatchContext {
            shard_id: "shardId-000000000006".into(),
            invoke_identity_arn: "arn:aws:iam::123456789012:role/lambda-role".into(),
            aws_region: "us-east-2".into(),
            event_source_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
        }
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
        let json = serde_json::to_value(context().kinesis_record(record)).unwrap();
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
        let text = serde_json::to_string(&json).unwrap();
        assert!(
            text.contains("\"approximateArrivalTimestamp\":1545084650.987"),
            "{text}"
        );
    }

    #[test]
    fn a_large_record_is_written_as_a_small_one_is() {
        for size in [10, 64 * 1024, 1024 * 1024] {
            let record = KinesisRecord {
                sequence_number: "49590338271490256608559692538361571095921575989136588898".into(),
                partition_key: "k\"\u{1}".repeat(50),
                data: Base64Text::encode(&vec![0xfb; size]),
                arrival_millis: Some(1_700_000_000_001),
                encryption_type: None,
            };
            let written = context().event_record(record.clone()).unwrap();
            let plain = serde_json::to_string(&context().kinesis_record(record)).unwrap();
            assert_eq!(written.json.get(), plain, "{size} bytes");
        }
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
