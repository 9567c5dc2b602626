//! Coalescing: merged spans, one read each, and slices that give every
//! failure exactly what its own read would have given.

use std::cell::Cell;

use serde_json::json;

use super::*;
use crate::kinds::kafka::read::{KafkaGapReason, KafkaRecord, TimestampType};

fn failure(ranges: &[(&str, i64, i64)]) -> KafkaFailure {
    let info: serde_json::Map<_, _> = ranges
        .iter()
        .map(|(key, first, last)| {
            (
                key.to_string(),
                json!({"firstRecordOffset": first.to_string(), "lastRecordOffset": last.to_string()}),
            )
        })
        .collect();
    let record = json!({"KafkaBatchInfo": {"batchSize": 10, "bootstrapServers": "h:9092", "recordsInfo": info}});
    KafkaFailure::parse(&record.to_string()).expect("a valid record")
}

/// Every offset of 0..100 holds a record; fetches are counted.
struct Full<'a>(&'a Cell<u32>);

impl KafkaPartition for Full<'_> {
    async fn watermarks(&self) -> Result<(i64, i64), PartitionError> {
        Ok((0, 100))
    }

    async fn fetch(&self, offset: i64, _: i32) -> Result<Vec<KafkaRecord>, PartitionError> {
        self.0.set(self.0.get() + 1);
        Ok((offset..(offset + 10).min(100))
            .map(|o| KafkaRecord {
                offset: o,
                timestamp_ms: o,
                timestamp_type: TimestampType::CreateTime,
                key: None,
                value: Some(vec![o as u8]),
                headers: vec![],
            })
            .collect())
    }
}

#[test]
fn overlapping_and_touching_ranges_merge_and_distant_ones_do_not() {
    let a = failure(&[("t-0", 0, 9), ("t-1", 5, 5)]);
    let b = failure(&[("t-0", 10, 19)]);
    let c = failure(&[("t-0", 15, 30), ("t-0-x-0", 0, 1)]);
    let d = failure(&[("t-0", 50, 60)]);
    let spans: Vec<_> = spans(&[&a, &b, &c, &d])
        .into_iter()
        .map(|s| (s.range.key(), s.range.first, s.range.last, s.serves))
        .collect();
    assert_eq!(
        spans,
        [
            ("t-0".to_owned(), 0, 30, 3),
            ("t-0".to_owned(), 50, 60, 1),
            ("t-1".to_owned(), 5, 5, 1),
            ("t-0-x-0".to_owned(), 0, 1, 1),
        ]
    );
}

#[test]
fn a_storm_of_one_partition_is_read_once_and_each_failure_gets_its_own_slice() {
    let failures: Vec<_> = (0..20)
        .map(|i| failure(&[("t-0", i * 5, i * 5 + 4)]))
        .collect();
    let mut storm: Vec<_> = failures.iter().collect();
    let beyond = failure(&[("t-0", 95, 120)]);
    storm.push(&beyond);
    let fetches = Cell::new(0);
    let reads = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime with no I/O builds")
        .block_on(read_spans(&storm, &KafkaLimits::default(), |_| async {
            Ok(Full(&fetches))
        }))
        .expect("in memory");
    assert_eq!(fetches.get(), 10, "one read of 0..=99, ten records a fetch");
    for (i, read) in reads.iter().take(20).enumerate() {
        let offsets: Vec<_> = read[0].records.iter().map(|r| r.offset).collect();
        let first = i as i64 * 5;
        assert_eq!(offsets, (first..first + 5).collect::<Vec<_>>());
        assert!(read[0].gaps.is_empty());
    }
    let last = &reads[20][0];
    assert_eq!(last.records.len(), 5);
    assert_eq!(
        last.gaps
            .iter()
            .map(|g| (g.first_offset, g.last_offset, g.reason))
            .collect::<Vec<_>>(),
        [(100, 120, KafkaGapReason::BeyondHighWatermark)]
    );
    let counted: u32 = reads.iter().flatten().map(|r| r.fetches).sum();
    assert_eq!(counted, 10, "the fetches are counted once");
}
