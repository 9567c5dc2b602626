//! The records read back, in the shape Lambda delivered them to the Kafka
//! consumer: `eventSource` (`aws:kafka` for MSK, `SelfManagedKafka`
//! otherwise), `eventSourceArn` (MSK only), `bootstrapServers`, and
//! `records` keyed by `<topic>-<partition>`, each record with its base64
//! `key` and `value` (null kept null) and its headers as Lambda writes them:
//! an array of one-name objects whose value is the bytes as numbers.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;

use super::batch::{KafkaFailure, PartitionRange};
use super::read::KafkaRecord;

/// A Kafka event, as the consumer received it, over borrowed records.
pub struct KafkaEvent<'a> {
    pub failure: &'a KafkaFailure,
    /// Each partition's range with its records, in the failure's order.
    pub partitions: Vec<(&'a PartitionRange, &'a [KafkaRecord])>,
}

impl KafkaEvent<'_> {
    pub fn event_source(&self) -> &'static str {
        if self.failure.is_msk() {
            "aws:kafka"
        } else {
            "SelfManagedKafka"
        }
    }
}

impl Serialize for KafkaEvent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut event = serializer.serialize_map(None)?;
        event.serialize_entry("eventSource", self.event_source())?;
        if self.failure.is_msk() {
            event.serialize_entry("eventSourceArn", &self.failure.event_source_arn)?;
        }
        event.serialize_entry("bootstrapServers", &self.failure.bootstrap_servers)?;
        event.serialize_entry("records", &Partitions(&self.partitions))?;
        event.end()
    }
}

struct Partitions<'a>(&'a [(&'a PartitionRange, &'a [KafkaRecord])]);

impl Serialize for Partitions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (range, records) in self.0 {
            let records: Vec<_> = records
                .iter()
                .map(|r| EventRecord { range, record: r })
                .collect();
            map.serialize_entry(&range.key(), &records)?;
        }
        map.end()
    }
}

/// One record as the consumer got it; `hydrated.rs` writes records one by one.
pub(super) struct EventRecord<'a> {
    pub range: &'a PartitionRange,
    pub record: &'a KafkaRecord,
}

impl Serialize for EventRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_map(Some(8))?;
        record.serialize_entry("topic", &self.range.topic)?;
        record.serialize_entry("partition", &self.range.partition)?;
        record.serialize_entry("offset", &self.record.offset)?;
        record.serialize_entry("timestamp", &self.record.timestamp_ms)?;
        record.serialize_entry("timestampType", self.record.timestamp_type.as_str())?;
        record.serialize_entry("key", &self.record.key.as_deref().map(Base64))?;
        record.serialize_entry("value", &self.record.value.as_deref().map(Base64))?;
        record.serialize_entry("headers", &Headers(&self.record.headers))?;
        record.end()
    }
}

impl EventRecord<'_> {
    /// At least the length of the record's JSON: base64 for the key and the
    /// value, up to four characters a header byte (`255,`), six a character
    /// of a name (`\u001f`), and room for the rest. A large record is then
    /// written into a buffer made once at this size (`RawRecord::of_sized`).
    pub(super) fn json_len_bound(&self) -> usize {
        let base64 =
            |bytes: &Option<Vec<u8>>| bytes.as_ref().map_or(0, |b| b.len().div_ceil(3) * 4);
        let headers: usize = (self.record.headers.iter())
            .map(|(name, value)| 6 * name.len() + 4 * value.len() + 8)
            .sum();
        base64(&self.record.key)
            + base64(&self.record.value)
            + headers
            + 6 * self.range.topic.len()
            + 256
    }
}

/// Bytes written straight out as standard base64, not copied first.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

struct Headers<'a>(&'a [(String, Vec<u8>)]);

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut headers = serializer.serialize_seq(Some(self.0.len()))?;
        for (name, value) in self.0 {
            headers.serialize_element(&Header(name, value))?;
        }
        headers.end()
    }
}

/// `{"<name>": [bytes as numbers]}`: one header, as Lambda writes it.
struct Header<'a>(&'a str, &'a [u8]);

impl Serialize for Header<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut header = serializer.serialize_map(Some(1))?;
        header.serialize_entry(self.0, self.1)?;
        header.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::kafka::read::TimestampType;

    fn failure(event_source_arn: Option<&str>) -> KafkaFailure {
        let mut info = json!({
            "batchSize": 2, "bootstrapServers": "b-1:9098,b-2:9098",
            "recordsInfo": {"order-events-v1-0": {"firstRecordOffset": "4", "lastRecordOffset": "5"}}
        });
        if let Some(arn) = event_source_arn {
            info["eventSourceArn"] = json!(arn);
        }
        KafkaFailure::parse(&json!({ "KafkaBatchInfo": info }).to_string()).expect("a valid record")
    }

    fn records() -> Vec<KafkaRecord> {
        vec![
            KafkaRecord {
                offset: 4,
                timestamp_ms: 1_731_608_164_835,
                timestamp_type: TimestampType::CreateTime,
                key: Some(b"order-1".to_vec()),
                value: Some(b"{\"id\":1}".to_vec()),
                headers: vec![("traceparent".to_owned(), vec![48, 48, 45, 97])],
            },
            KafkaRecord {
                offset: 5,
                timestamp_ms: 1_731_608_164_836,
                timestamp_type: TimestampType::LogAppendTime,
                key: None,
                value: None,
                headers: vec![],
            },
        ]
    }

    #[test]
    fn a_record_fits_in_its_bound_whatever_its_size() {
        let range = &failure(None).partitions[0];
        for size in [0, 10, 64 * 1024, 1024 * 1024 + 1] {
            let record = KafkaRecord {
                offset: 4,
                timestamp_ms: 1_731_608_164_835,
                timestamp_type: TimestampType::CreateTime,
                key: Some(vec![0xfe; size / 2]),
                value: Some(vec![0x00; size]),
                headers: vec![("\u{1}\"".repeat(40), vec![255; size / 4])],
            };
            let written = EventRecord {
                range,
                record: &record,
            };
            let json = serde_json::to_string(&written).unwrap();
            assert!(json.len() <= written.json_len_bound(), "{size} bytes");
        }
    }

    #[test]
    fn an_msk_event_has_the_documented_shape_with_nulls_kept() {
        let failure = failure(Some(
            "arn:aws:kafka:us-east-1:123456789012:cluster/orders/7-2",
        ));
        let records = records();
        let event = KafkaEvent {
            failure: &failure,
            partitions: vec![(&failure.partitions[0], &records)],
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "eventSource": "aws:kafka",
                "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/7-2",
                "bootstrapServers": "b-1:9098,b-2:9098",
                "records": {"order-events-v1-0": [
                    {"topic": "order-events-v1", "partition": 0, "offset": 4,
                     "timestamp": 1_731_608_164_835_i64, "timestampType": "CREATE_TIME",
                     "key": "b3JkZXItMQ==", "value": "eyJpZCI6MX0=",
                     "headers": [{"traceparent": [48, 48, 45, 97]}]},
                    {"topic": "order-events-v1", "partition": 0, "offset": 5,
                     "timestamp": 1_731_608_164_836_i64, "timestampType": "LOG_APPEND_TIME",
                     "key": null, "value": null, "headers": []}
                ]}
            })
        );
    }

    #[test]
    fn a_self_managed_event_names_no_source_arn() {
        let failure = failure(None);
        let event = KafkaEvent {
            failure: &failure,
            partitions: vec![(&failure.partitions[0], &[])],
        };
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["eventSource"], "SelfManagedKafka");
        assert!(value.get("eventSourceArn").is_none());
        assert_eq!(value["records"]["order-events-v1-0"], json!([]));
    }
}
