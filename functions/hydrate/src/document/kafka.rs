//! What a Kafka document carries in place of a stream's `Records`: Lambda's
//! Kafka event around the records (`event`, its records keyed by
//! `<topic>-<partition>`), its hydration block as the Kafka reader writes it
//! (gaps by topic, partition and offsets), and the names delivery gives it.
//!
//! The records themselves stay in the document's [`EventRecords`], in the
//! event's order (partition by partition), so parts are cut from them as from
//! any document's: each part's `event` holds every partition's key, with the
//! records of the run that fall in it, and the parts' arrays joined key by key
//! give the whole event again.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::{Hydration, Origin, Status};

/// A Kafka document's own blocks: its event around the records, and its
/// hydration block.
#[derive(Debug, Clone)]
pub struct KafkaBody {
    /// The event's members but `records`, in order, as written: read back,
    /// `eventSource`, `eventSourceArn` (MSK only) and `bootstrapServers`;
    /// from an S3 destination, whatever Lambda wrote there.
    pub header: Vec<(String, Box<RawValue>)>,
    /// Each partition's key, and how many of the document's records, in
    /// order, are its.
    pub partitions: Vec<(String, usize)>,
    /// The hydration block as the Kafka reader writes it.
    pub hydration: Box<RawValue>,
}

/// A Kafka failure as delivery names it, and the blocks its document carries.
#[derive(Debug, Clone)]
pub struct KafkaBatch {
    pub body: KafkaBody,
    /// The same for the same failure, whichever invocation delivers it.
    pub group_id: String,
    /// The MSK cluster's ARN, or the bootstrap servers of a self-managed
    /// cluster: what the failure's messages are grouped by.
    pub cluster: String,
    /// The partitions' keys and ranges, `t-0:4-9,t-1:2-2`, for message
    /// attributes and logs; made of validated names and numbers only.
    pub ranges: String,
}

impl KafkaBody {
    /// The event holding `run`, records `first..first + run.len()` of the
    /// document: every partition's key, each with the records of the run
    /// that are its (none for a partition the run does not reach).
    pub fn event<'a, R: Serialize>(&'a self, first: usize, run: &'a [R]) -> Event<'a, R> {
        Event {
            body: self,
            first,
            run,
        }
    }

    /// The counts and status of the hydration block, in the shared
    /// [`Hydration`] (the metrics, receipts and the tool read them there);
    /// the gaps stay in the block, by partition and offset.
    pub fn counts(&self) -> Option<Hydration> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Counts {
            status: Status,
            origin: Origin,
            expected_records: u32,
            hydrated_records: u32,
            #[serde(default)]
            fetch_calls: u32,
            #[serde(default)]
            duration_ms: u64,
        }
        let counts: Counts = serde_json::from_str(self.hydration.get()).ok()?;
        Some(Hydration {
            status: counts.status,
            origin: counts.origin,
            expected_records: counts.expected_records,
            hydrated_records: counts.hydrated_records,
            missing: Vec::new(),
            get_records_calls: counts.fetch_calls,
            get_shard_iterator_calls: 0,
            duration_ms: counts.duration_ms,
            unavailable: None,
        })
    }
}

/// Lambda's Kafka event over a run of a document's records.
pub struct Event<'a, R> {
    body: &'a KafkaBody,
    first: usize,
    run: &'a [R],
}

impl<R: Serialize> Serialize for Event<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut event = serializer.serialize_map(None)?;
        for (name, value) in &self.body.header {
            event.serialize_entry(name, value)?;
        }
        event.serialize_entry("records", &ByPartition(self))?;
        event.end()
    }
}

struct ByPartition<'a, R>(&'a Event<'a, R>);

impl<R: Serialize> Serialize for ByPartition<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let event = self.0;
        let end = event.first + event.run.len();
        let mut map = serializer.serialize_map(Some(event.body.partitions.len()))?;
        let mut start = 0;
        for (key, count) in &event.body.partitions {
            // The part of this partition's records that the run holds.
            let from = start.max(event.first).min(end);
            let to = (start + count).max(event.first).min(end);
            let records = &event.run[from - event.first..to - event.first];
            map.serialize_entry(key, &Records(records))?;
            start += count;
        }
        map.end()
    }
}

struct Records<'a, R>(&'a [R]);

impl<R: Serialize> Serialize for Records<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn body() -> KafkaBody {
        KafkaBody {
            header: vec![("eventSource".into(), raw(r#""SelfManagedKafka""#))],
            partitions: vec![("t-0".into(), 2), ("t-1".into(), 0), ("t-2".into(), 1)],
            hydration: raw(
                r#"{"status":"partial","origin":"stream","expectedRecords":4,"hydratedRecords":3,"missing":[],"fetchCalls":2}"#,
            ),
        }
    }

    #[test]
    fn a_run_lists_every_partition_with_its_own_records() {
        let body = body();
        let records: Vec<Box<RawValue>> = ["1", "2", "3"]
            .iter()
            .map(|offset| raw(&format!(r#"{{"offset":{offset}}}"#)))
            .collect();
        let all: Vec<&RawValue> = records.iter().map(|r| &**r).collect();
        let whole = serde_json::to_string(&body.event(0, &all)).unwrap();
        assert_eq!(
            whole,
            r#"{"eventSource":"SelfManagedKafka","records":{"t-0":[{"offset":1},{"offset":2}],"t-1":[],"t-2":[{"offset":3}]}}"#
        );
        let middle = serde_json::to_string(&body.event(1, &all[1..3])).unwrap();
        assert_eq!(
            middle,
            r#"{"eventSource":"SelfManagedKafka","records":{"t-0":[{"offset":2}],"t-1":[],"t-2":[{"offset":3}]}}"#
        );
        let none = serde_json::to_string(&body.event::<&RawValue>(3, &[])).unwrap();
        assert_eq!(
            none,
            r#"{"eventSource":"SelfManagedKafka","records":{"t-0":[],"t-1":[],"t-2":[]}}"#
        );
    }

    #[test]
    fn the_counts_come_from_the_kafka_block() {
        let counts = body().counts().expect("a Kafka hydration block");
        assert_eq!(counts.status, Status::Partial);
        assert_eq!(counts.expected_records, 4);
        assert_eq!(counts.hydrated_records, 3);
        assert_eq!(counts.get_records_calls, 2);
        let mut broken = body();
        broken.hydration = raw(r#"{"status":"gone"}"#);
        assert!(broken.counts().is_none());
    }
}
