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
    pub event: KafkaEvent<'a>,
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
            event,
        }
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
