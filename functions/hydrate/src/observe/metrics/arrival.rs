//! Where a failure sits and how old it is, read again from the on-failure
//! record the document carries: the one place that says when the batch's
//! first record reached the stream (`approximateArrivalOfFirstRecord`; for
//! Kafka, the earliest `firstRecordTimestamp` of its partitions).

use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::input::fault::is_identifier;
use crate::input::sequence::SequenceNumber;

/// The failure's stream, shard, first sequence number and first arrival,
/// each only when it is well formed: a field that is not is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailurePosition {
    pub stream_arn: Option<String>,
    pub shard_id: Option<String>,
    pub start_sequence_number: Option<String>,
    pub first_arrival: Option<SystemTime>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "KinesisBatchInfo")]
    kinesis: Option<BatchInfo>,
    #[serde(rename = "DDBStreamBatchInfo")]
    dynamodb: Option<BatchInfo>,
    #[serde(rename = "KafkaBatchInfo")]
    kafka: Option<KafkaBatchInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KafkaBatchInfo {
    #[serde(default)]
    records_info: std::collections::BTreeMap<String, KafkaRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KafkaRange {
    first_record_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchInfo {
    stream_arn: Option<String>,
    shard_id: Option<String>,
    start_sequence_number: Option<String>,
    approximate_arrival_of_first_record: Option<String>,
}

/// An RFC 3339 timestamp is at most this long; a longer value is not one.
const MAX_TIMESTAMP_LEN: usize = 40;

impl FailurePosition {
    pub fn of(failure: &RawValue) -> Self {
        let Ok(record) = serde_json::from_str::<Record>(failure.get()) else {
            return Self::default();
        };
        if let Some(kafka) = record.kafka {
            // The failure's partitions are bounded when the record is read;
            // its oldest first record is the failure's age.
            let first_arrival = kafka
                .records_info
                .values()
                .filter_map(|range| range.first_record_timestamp.as_deref().and_then(parse_time))
                .min();
            return Self {
                first_arrival,
                ..Self::default()
            };
        }
        let Some(info) = record.kinesis.or(record.dynamodb) else {
            return Self::default();
        };
        Self {
            stream_arn: info
                .stream_arn
                .filter(|arn| crate::input::stream_arn::StreamArn::parse(arn).is_ok()),
            shard_id: info.shard_id.filter(|id| is_identifier(id, 1, 128)),
            start_sequence_number: info
                .start_sequence_number
                .filter(|s| SequenceNumber::parse(s).is_ok()),
            first_arrival: info
                .approximate_arrival_of_first_record
                .as_deref()
                .and_then(parse_time),
        }
    }
}

fn parse_time(text: &str) -> Option<SystemTime> {
    if text.len() > MAX_TIMESTAMP_LEN {
        return None;
    }
    let time = DateTime::from_str(text, Format::DateTime).ok()?;
    SystemTime::try_from(time).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn raw(text: &str) -> Box<RawValue> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_kinesis_record_gives_its_position_and_first_arrival() {
        let position = FailurePosition::of(&raw(
            r#"{"KinesisBatchInfo": {"shardId": "shardId-000000000000",
                "startSequenceNumber": "49680491060156423900702611019402176917130074637438287874",
                "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
                "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}}"#,
        ));
        assert_eq!(
            position.first_arrival,
            Some(UNIX_EPOCH + Duration::from_millis(1_573_691_884_835))
        );
        assert_eq!(position.shard_id.as_deref(), Some("shardId-000000000000"));
        assert!(position.stream_arn.is_some());
        assert!(position.start_sequence_number.is_some());
    }

    #[test]
    fn a_kafka_failure_is_as_old_as_its_oldest_partitions_first_record() {
        let position = FailurePosition::of(&raw(
            r#"{"KafkaBatchInfo": {"batchSize": 9, "recordsInfo": {
                "order-events-0": {"firstRecordOffset": "49", "lastRecordOffset": "52",
                    "firstRecordTimestamp": "2019-11-14T00:38:04.835Z"},
                "order-events-3": {"firstRecordOffset": "12", "lastRecordOffset": "16",
                    "firstRecordTimestamp": "2019-11-14T00:37:04.835Z"},
                "order-events-4": {"firstRecordOffset": "1", "lastRecordOffset": "1",
                    "firstRecordTimestamp": "soon"}}}}"#,
        ));
        assert_eq!(
            position.first_arrival,
            Some(UNIX_EPOCH + Duration::from_millis(1_573_691_824_835))
        );
        assert_eq!(position.stream_arn, None);
    }

    #[test]
    fn malformed_fields_are_left_out_not_quoted() {
        let position = FailurePosition::of(&raw(r#"{"DDBStreamBatchInfo": {"shardId": "<script>",
                "startSequenceNumber": "12x",
                "approximateArrivalOfFirstRecord": "yesterday",
                "streamArn": "arn:aws:evil"}}"#));
        assert_eq!(position, FailurePosition::default());
        assert_eq!(
            FailurePosition::of(&raw("[1, 2]")),
            FailurePosition::default()
        );
        let long = format!(
            r#"{{"KinesisBatchInfo": {{"approximateArrivalOfFirstRecord": "{}"}}}}"#,
            "9".repeat(10_000)
        );
        assert_eq!(FailurePosition::of(&raw(&long)).first_arrival, None);
    }
}
