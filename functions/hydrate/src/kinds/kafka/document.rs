//! A hydrated Kafka failure: the on-failure record as received, what reading
//! achieved (status, gaps by partition and reason, fetches), and the batch
//! as the Kafka event the consumer got, so `event` replays as it is.

use serde::Serialize;
use serde_json::value::RawValue;

use super::batch::{KafkaFailure, PartitionRange};
use super::event::KafkaEvent;
use super::read::{KafkaGap, KafkaGapReason, PartitionRead};
use crate::document::{Origin, Status, VERSION};

/// One Kafka failure's document, over the records read for it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaDocument<'a> {
    pub version: &'static str,
    /// `aws:kafka` or `SelfManagedKafka`: which Kafka event `event` is.
    pub source: &'static str,
    pub failure: &'a RawValue,
    pub hydration: KafkaHydration,
    pub event: EventBody<'a>,
}

/// The Kafka event: read back and written here, or as Lambda saved it.
#[derive(Serialize)]
#[serde(untagged)]
pub enum EventBody<'a> {
    Read(KafkaEvent<'a>),
    /// The S3 destination's payload, as written.
    Delivered(&'a RawValue),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaHydration {
    pub status: Status,
    pub origin: Origin,
    pub expected_records: u32,
    pub hydrated_records: u32,
    pub missing: Vec<KafkaGap>,
    pub fetch_calls: u32,
}

impl<'a> KafkaDocument<'a> {
    /// The document of `failure` from one read for each of its partitions,
    /// in the failure's order.
    pub fn new(failure: &'a KafkaFailure, reads: &'a [PartitionRead]) -> Self {
        let partitions: Vec<(&PartitionRange, &[_])> = failure
            .partitions
            .iter()
            .zip(reads)
            .map(|(range, read)| (range, read.records.as_slice()))
            .collect();
        let missing: Vec<KafkaGap> = reads.iter().flat_map(|r| r.gaps.iter().cloned()).collect();
        let hydrated = reads.iter().map(|r| r.records.len()).sum::<usize>();
        let all_gone = !missing.is_empty()
            && missing
                .iter()
                .all(|g| g.reason == KafkaGapReason::TopicOrPartitionGone);
        let hydration = KafkaHydration {
            status: status(missing.is_empty(), all_gone && hydrated == 0),
            origin: Origin::Stream,
            expected_records: failure.batch_size,
            // At most KafkaLimits::max_records a partition, and partitions are bounded.
            hydrated_records: u32::try_from(hydrated).unwrap_or(u32::MAX),
            missing,
            fetch_calls: reads.iter().map(|r| r.fetches).sum(),
        };
        let event = KafkaEvent {
            failure,
            partitions,
        };
        Self {
            version: VERSION,
            source: event.event_source(),
            failure: &failure.raw,
            hydration,
            event: EventBody::Read(event),
        }
    }

    /// The document of a failure an S3 destination saved with its batch: no
    /// read, the event as Lambda wrote it. `None` without a payload.
    pub fn delivered(failure: &'a KafkaFailure) -> Option<Self> {
        let payload = failure.payload.as_deref()?;
        #[derive(serde::Deserialize)]
        struct Counted {
            records: std::collections::BTreeMap<String, Vec<serde::de::IgnoredAny>>,
        }
        // Checked when the record was parsed: `records` is an object of arrays.
        let count = serde_json::from_str::<Counted>(payload.get())
            .map_or(0, |c| c.records.values().map(Vec::len).sum::<usize>());
        let source = KafkaEvent {
            failure,
            partitions: Vec::new(),
        }
        .event_source();
        Some(Self {
            version: VERSION,
            source,
            failure: &failure.raw,
            hydration: KafkaHydration {
                status: Status::Complete,
                origin: Origin::S3Payload,
                expected_records: failure.batch_size,
                hydrated_records: u32::try_from(count).unwrap_or(u32::MAX),
                missing: Vec::new(),
                fetch_calls: 0,
            },
            event: EventBody::Delivered(payload),
        })
    }
}

/// The status rule for Kafka: `complete` with no gap (compaction may leave
/// fewer records than the batch had, and each hole is a gap); `unavailable`
/// when every gap is a gone topic or partition and nothing was read.
fn status(no_gaps: bool, nothing_there: bool) -> Status {
    match (no_gaps, nothing_there) {
        (true, _) => Status::Complete,
        (false, true) => Status::Unavailable,
        (false, false) => Status::Partial,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_s3_payload_is_the_document_without_a_read() {
        let event = json!({"eventSource": "SelfManagedKafka", "bootstrapServers": "h:9092",
            "records": {"t-0": [{"offset": 4}, {"offset": 5}], "t-1": [{"offset": 9}]}});
        let record = json!({
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "KafkaBatchInfo": {"batchSize": 3, "bootstrapServers": "h:9092",
                "recordsInfo": {"t-0": {"firstRecordOffset": "4", "lastRecordOffset": "5"}}},
            "payload": event.to_string(),
        });
        let failure = KafkaFailure::parse(&record.to_string()).expect("a valid record");
        let document = serde_json::to_value(KafkaDocument::delivered(&failure)).unwrap();
        assert_eq!(document["event"], event);
        assert_eq!(document["source"], "SelfManagedKafka");
        assert_eq!(document["hydration"]["origin"], "s3-payload");
        assert_eq!(document["hydration"]["hydratedRecords"], 3);
        assert_eq!(document["hydration"]["fetchCalls"], 0);
        assert_eq!(document["failure"], record);

        let without = KafkaFailure::parse(&record.to_string().replace("payload", "other"));
        assert!(KafkaDocument::delivered(&without.expect("still valid")).is_none());
    }
}
