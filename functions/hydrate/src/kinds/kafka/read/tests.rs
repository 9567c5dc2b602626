//! The partition reader against logs held in memory: exact ranges, every
//! kind of gap, and limits that hold whatever a failure record claims.

use std::cell::Cell;

use super::*;

/// A partition log in memory: records at their offsets (holes where
/// compaction or control records left none), a log start and a high
/// watermark, and fetches that return whole batches of `batch` offsets.
struct Log {
    records: Vec<KafkaRecord>,
    log_start: i64,
    high_watermark: i64,
    batch: i64,
    gone: bool,
    fetches: Cell<u32>,
}

fn record(offset: i64, size: usize) -> KafkaRecord {
    KafkaRecord {
        offset,
        timestamp_ms: 1_700_000_000_000 + offset,
        timestamp_type: TimestampType::CreateTime,
        key: (offset % 3 != 0).then(|| offset.to_be_bytes().to_vec()),
        value: Some(vec![offset as u8; size]),
        headers: vec![("h".to_owned(), vec![0, 1])],
    }
}

fn log(offsets: impl IntoIterator<Item = i64>, log_start: i64, high_watermark: i64) -> Log {
    Log {
        records: offsets.into_iter().map(|o| record(o, 10)).collect(),
        log_start,
        high_watermark,
        batch: 4,
        gone: false,
        fetches: Cell::new(0),
    }
}

impl KafkaPartition for Log {
    async fn watermarks(&self) -> Result<(i64, i64), PartitionError> {
        if self.gone {
            return Err(PartitionError::Gone);
        }
        Ok((self.log_start, self.high_watermark))
    }

    async fn fetch(
        &self,
        offset: i64,
        _max_bytes: i32,
    ) -> Result<Vec<KafkaRecord>, PartitionError> {
        self.fetches.set(self.fetches.get() + 1);
        if offset < self.log_start || offset > self.high_watermark {
            return Err(PartitionError::OutOfRange);
        }
        // Whole batches: from the batch that holds `offset`, `batch` offsets long.
        let batch_start = offset - offset % self.batch;
        Ok(self
            .records
            .iter()
            .filter(|r| r.offset >= batch_start && r.offset < batch_start + self.batch)
            .cloned()
            .collect())
    }
}

fn range(first: i64, last: i64) -> PartitionRange {
    PartitionRange {
        topic: "order-events".to_owned(),
        partition: 2,
        first,
        last,
    }
}

fn read(log: &Log, first: i64, last: i64, limits: KafkaLimits) -> PartitionRead {
    read_within(log, first, last, &limits, &mut ReadBudget::of(&limits, 1))
}

/// A read that spends `budget`, which other reads may share.
fn read_within(
    log: &Log,
    first: i64,
    last: i64,
    limits: &KafkaLimits,
    budget: &mut ReadBudget,
) -> PartitionRead {
    let range = range(first, last);
    let future = read_range(log, &range, limits, budget);
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime with no I/O builds")
        .block_on(future)
        .expect("an in-memory log never fails outright")
}

fn offsets(read: &PartitionRead) -> Vec<i64> {
    read.records.iter().map(|r| r.offset).collect()
}

fn gaps(read: &PartitionRead) -> Vec<(i64, i64, KafkaGapReason)> {
    read.gaps
        .iter()
        .map(|g| (g.first_offset, g.last_offset, g.reason))
        .collect()
}

#[test]
fn a_range_in_the_middle_of_the_log_returns_exactly_the_range() {
    let log = log(0..40, 0, 40);
    let read = read(&log, 7, 21, KafkaLimits::default());
    assert_eq!(offsets(&read), (7..=21).collect::<Vec<_>>());
    assert!(read.gaps.is_empty());
    assert_eq!(read.records[0], record(7, 10));
}

#[test]
fn offsets_before_the_log_start_and_past_the_high_watermark_are_gaps() {
    let log = log(10..20, 10, 20);
    let read = read(&log, 5, 24, KafkaLimits::default());
    assert_eq!(offsets(&read), (10..20).collect::<Vec<_>>());
    assert_eq!(
        gaps(&read),
        [
            (5, 9, KafkaGapReason::BeforeLogStart),
            (20, 24, KafkaGapReason::BeyondHighWatermark)
        ]
    );
    let fresh = super::tests::log(10..20, 10, 20);
    let read = super::tests::read(&fresh, 0, 3, KafkaLimits::default());
    assert_eq!(gaps(&read), [(0, 3, KafkaGapReason::BeforeLogStart)]);
    assert_eq!(
        fresh.fetches.get(),
        0,
        "nothing before the log start is fetched"
    );
}

#[test]
fn holes_inside_the_log_are_compacted_or_control_records() {
    // 13 and 14 compacted away; 19 a commit marker at the end of the log.
    let log = log((10..19).filter(|o| !(13..=14).contains(o)), 10, 20);
    let read = read(&log, 11, 19, KafkaLimits::default());
    assert_eq!(offsets(&read), [11, 12, 15, 16, 17, 18]);
    assert_eq!(
        gaps(&read),
        [
            (13, 14, KafkaGapReason::CompactedOrControl),
            (19, 19, KafkaGapReason::CompactedOrControl)
        ]
    );
}

#[test]
fn a_gone_topic_is_one_gap_over_the_whole_range() {
    let mut log = log(0..5, 0, 5);
    log.gone = true;
    let read = read(&log, 1, 3, KafkaLimits::default());
    assert!(read.records.is_empty());
    assert_eq!(gaps(&read), [(1, 3, KafkaGapReason::TopicOrPartitionGone)]);
}

#[test]
fn a_claimed_range_of_the_whole_offset_space_reads_only_what_the_limits_allow() {
    let log = log(0..1_000, 0, 1_000);
    let limits = KafkaLimits {
        max_records: 25,
        ..KafkaLimits::default()
    };
    let read = read(&log, 0, i64::MAX, limits);
    assert_eq!(offsets(&read), (0..25).collect::<Vec<_>>());
    assert_eq!(
        gaps(&read),
        [
            (25, 999, KafkaGapReason::ReadLimit),
            (1_000, i64::MAX, KafkaGapReason::BeyondHighWatermark)
        ]
    );
}

#[test]
fn bytes_and_fetches_are_bounded_too_and_the_first_record_is_always_kept() {
    let mut big = log(0..10, 0, 10);
    big.records = (0..10).map(|o| record(o, 1_000)).collect();
    let limits = KafkaLimits {
        max_bytes: 10,
        ..KafkaLimits::default()
    };
    let read = read(&big, 0, 9, limits);
    assert_eq!(offsets(&read), [0]);
    assert_eq!(gaps(&read), [(1, 9, KafkaGapReason::ReadLimit)]);

    let log = log(0..100, 0, 100);
    let limits = KafkaLimits {
        max_fetches: 3,
        ..KafkaLimits::default()
    };
    let read = super::tests::read(&log, 0, 99, limits);
    assert_eq!(offsets(&read), (0..12).collect::<Vec<_>>());
    assert_eq!(gaps(&read), [(12, 99, KafkaGapReason::ReadLimit)]);
    assert_eq!(log.fetches.get(), 3);
}

#[test]
fn the_partitions_of_one_failure_share_its_limits() {
    let limits = KafkaLimits {
        max_records: 25,
        ..KafkaLimits::default()
    };
    let budget = &mut ReadBudget::of(&limits, 1);
    let logs: Vec<Log> = (0..3).map(|_| log(0..20, 0, 20)).collect();
    let first = read_within(&logs[0], 0, 19, &limits, budget);
    assert_eq!(offsets(&first), (0..20).collect::<Vec<_>>());
    let second = read_within(&logs[1], 0, 19, &limits, budget);
    assert_eq!(offsets(&second), (0..5).collect::<Vec<_>>());
    assert_eq!(gaps(&second), [(5, 19, KafkaGapReason::ReadLimit)]);
    // Spent: the third partition is named, and never asked for.
    let third = read_within(&logs[2], 0, 19, &limits, budget);
    assert!(third.records.is_empty());
    assert_eq!(gaps(&third), [(0, 19, KafkaGapReason::ReadLimit)]);
    assert_eq!(logs[2].fetches.get(), 0);

    // Bytes too: after a record that does not fit, nothing more is read.
    let mut big = log(0..10, 0, 10);
    big.records = (0..10).map(|o| record(o, 1_000)).collect();
    let limits = KafkaLimits {
        max_bytes: 2_500,
        ..KafkaLimits::default()
    };
    let budget = &mut ReadBudget::of(&limits, 1);
    let kept = read_within(&big, 0, 9, &limits, budget);
    assert_eq!(offsets(&kept), [0, 1]);
    let after = log(0..4, 0, 4);
    let none = read_within(&after, 0, 3, &limits, budget);
    assert_eq!(gaps(&none), [(0, 3, KafkaGapReason::ReadLimit)]);
    assert_eq!(after.fetches.get(), 0);
}
