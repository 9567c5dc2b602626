//! Coalesced reads against reading alone, over the in-memory shard: random
//! ranges, overlaps, gaps, trims, short and empty pages, expired iterators
//! and throttled calls.

use proptest::prelude::*;

use super::plan::FailureKey;
use super::*;
use crate::input::sequence::SequenceNumber;
use crate::read::tests::{kinesis_numbers, tokio_test_block_on as block_on, MemoryShard};
use crate::read::StreamError;

const ARN: &str = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";

/// A shard as the case describes it; every read gets its own copy, with the
/// same pages and faults.
#[derive(Debug, Clone)]
struct Case {
    count: usize,
    trim_horizon: usize,
    closed: bool,
    page_cuts: Vec<usize>,
    faults: Vec<Option<u8>>,
    /// Per failure: first and last index (into a shard twice as long as
    /// written, so some point past the tip), a shift of the start or end off
    /// the record, and how much its batch size is off.
    failures: Vec<(usize, usize, bool, bool, i8)>,
    /// What runs may hold: per run, in all, and the least worth a run.
    bounds: RunBounds,
}

fn shard(case: &Case) -> MemoryShard {
    let mut shard = MemoryShard::new(kinesis_numbers(case.count));
    shard.trim_horizon = case.trim_horizon.min(case.count);
    shard.closed = case.closed;
    *shard.page_cuts.borrow_mut() = case.page_cuts.clone();
    *shard.faults.borrow_mut() = case
        .faults
        .iter()
        .map(|f| {
            f.map(|kind| match kind % 2 {
                0 => StreamError::ExpiredIterator("expired".into()),
                _ => StreamError::Throttled("slow down".into()),
            })
        })
        .collect();
    shard
}

fn ranges(case: &Case) -> Vec<ShardRange> {
    let numbers = kinesis_numbers(case.count * 2);
    case.failures
        .iter()
        .map(|&(a, b, shift_start, shift_end, off)| {
            let (from, to) = (a.min(b) % numbers.len(), a.max(b) % numbers.len());
            let (from, to) = (from.min(to), from.max(to));
            let at = |i: usize, shift: bool| {
                let s = SequenceNumber::parse(&numbers[i]).unwrap();
                // A number between two records: none is written there.
                if shift {
                    s.successor()
                } else {
                    s
                }
            };
            let start = at(from, shift_start);
            let end = at(to, shift_end).max(start.clone());
            let expected = ((to - from + 1) as i64 + i64::from(off)).clamp(1, 10_000) as u32;
            ShardRange {
                shard_id: "shardId-000000000000".into(),
                start,
                end,
                expected,
            }
        })
        .collect()
}

fn key(range: &ShardRange) -> (FailureKey, u32) {
    (key_of(ARN, range), range.expected)
}

fn case() -> impl Strategy<Value = Case> {
    (20usize..120).prop_flat_map(|count| {
        (
            Just(count),
            prop_oneof![3 => Just(0usize), 1 => 0..count / 3],
            any::<bool>(),
            prop::collection::vec(prop_oneof![4 => 1usize..40, 1 => Just(0usize)], 0..12),
            prop::collection::vec(
                prop_oneof![6 => Just(None), 1 => any::<u8>().prop_map(Some)],
                0..12,
            ),
            prop::collection::vec(
                (
                    0..count * 2,
                    0..count * 2,
                    prop::bool::weighted(0.2),
                    prop::bool::weighted(0.2),
                    -3i8..3,
                ),
                2..10,
            ),
            prop_oneof![
                2 => Just(RunBounds::default()),
                // Records here are 56 bytes: runs cut short, or not read at all.
                1 => (0usize..3_000, 0usize..5_000, 0usize..500).prop_map(
                    |(max_bytes, held_bytes, min_run_bytes)| RunBounds {
                        max_bytes,
                        held_bytes,
                        min_run_bytes,
                        ..RunBounds::default()
                    }
                ),
            ],
        )
            .prop_map(
                |(count, trim_horizon, closed, page_cuts, faults, failures, bounds)| Case {
                    count,
                    trim_horizon,
                    closed,
                    page_cuts,
                    faults,
                    failures,
                    bounds,
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_coalesced_failure_reads_as_it_reads_alone(case in case()) {
        let ranges = ranges(&case);
        let limits = ReadLimits::default();
        let alone: Vec<_> = ranges
            .iter()
            .map(|range| block_on(read_range(&shard(&case), range, limits, None)))
            .map(|read| read.map(|r| (r.records, r.gaps, r.unavailable)))
            .collect();
        let storm = Storm::new(5, case.bounds);
        let keys: Vec<_> = ranges.iter().map(key).collect();
        let planned = storm.plan_failures(&keys);
        let shared = shard(&case);
        let coalesced: Vec<_> = ranges
            .iter()
            .map(|range| block_on(storm.read(&shared, ARN, range, limits, None)))
            .map(|read| read.map(|r| (r.records, r.gaps, r.unavailable)))
            .collect();
        prop_assert_eq!(coalesced, alone);
        drop(planned);
        prop_assert_eq!(storm.held_bytes(), 0, "every run's bytes given back");
    }
}

#[test]
fn fifty_contiguous_failures_cost_one_iterator_and_one_page() {
    let shard = MemoryShard::new(kinesis_numbers(600));
    let numbers = &shard.records;
    let ranges: Vec<ShardRange> = (0..50)
        .map(|i| ShardRange {
            shard_id: "shardId-000000000000".into(),
            start: SequenceNumber::parse(&numbers[50 + i * 10]).unwrap(),
            end: SequenceNumber::parse(&numbers[59 + i * 10]).unwrap(),
            expected: 10,
        })
        .collect();
    let storm = Storm::new(2, RunBounds::default());
    let keys: Vec<_> = ranges.iter().map(key).collect();
    let planned = storm.plan_failures(&keys);
    let reads: Vec<_> = ranges
        .iter()
        .map(|range| block_on(storm.read(&shard, ARN, range, ReadLimits::default(), None)).unwrap())
        .collect();
    for (i, read) in reads.iter().enumerate() {
        assert_eq!(read.records, numbers[50 + i * 10..60 + i * 10]);
        assert!(read.gaps.is_empty());
    }
    assert_eq!(
        (*shard.calls.borrow(), shard.iterators.borrow().len()),
        (1, 1)
    );
    // The run's calls are in the document of the failure that made them.
    assert_eq!(
        (reads[0].get_records_calls, reads[0].shard_iterator_calls),
        (1, 1)
    );
    assert!(reads[1..]
        .iter()
        .all(|r| r.get_records_calls + r.shard_iterator_calls == 0));
    assert!(
        lock(&storm.runs).is_empty(),
        "a run's records are let go once its failures are served"
    );
    drop(planned);
    // Failures never served are forgotten when their invocation ends.
    let planned = storm.plan_failures(&keys);
    assert_eq!(lock(&storm.runs).len(), 50);
    drop(planned);
    assert!(lock(&storm.runs).is_empty());
}

#[test]
fn reads_of_one_shard_take_turns() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// A shard that notes how many of its calls are under way at once.
    struct Overlaps {
        inner: MemoryShard,
        now: AtomicU32,
        most: AtomicU32,
    }
    impl StreamShard for Overlaps {
        type Record = String;
        const MAX_PAGE: u32 = 10_000;
        async fn shard_iterator(
            &self,
            from: crate::read::StartingPosition<'_>,
        ) -> Result<String, StreamError> {
            self.inner.shard_iterator(from).await
        }
        async fn records(
            &self,
            iterator: &str,
            limit: u32,
        ) -> Result<crate::read::Page<String>, StreamError> {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.inner.records(iterator, limit).await
        }
        fn sequence_number(record: &String) -> &str {
            record
        }
        fn size_of(record: &String) -> usize {
            record.len()
        }
    }
    let shard = Overlaps {
        inner: MemoryShard::new(kinesis_numbers(100)),
        now: AtomicU32::new(0),
        most: AtomicU32::new(0),
    };
    let storm = Arc::new(Storm::new(100, RunBounds::default()));
    let numbers = shard.inner.records.clone();
    block_on(async {
        let reads = (0..8).map(|i| {
            let range = ShardRange {
                shard_id: "shardId-000000000000".into(),
                start: SequenceNumber::parse(&numbers[i * 10]).unwrap(),
                end: SequenceNumber::parse(&numbers[i * 10 + 9]).unwrap(),
                expected: 10,
            };
            let (storm, shard) = (&storm, &shard);
            async move {
                storm
                    .read(shard, ARN, &range, ReadLimits::default(), None)
                    .await
            }
        });
        let reads = futures_util::future::join_all(reads).await;
        assert!(reads
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.records.len() == 10)));
    });
    assert_eq!(shard.most.load(Ordering::SeqCst), 1);
    assert_eq!(*shard.inner.calls.borrow(), 8, "unplanned, each read alone");
}

#[test]
fn the_runs_a_process_holds_share_one_byte_budget() {
    // Records of 56 bytes: each shard's run of 5 failures keeps 2,800.
    let bounds = RunBounds {
        max_bytes: 10_000,
        held_bytes: 4_000,
        min_run_bytes: 1_500,
        ..RunBounds::default()
    };
    let storm = Storm::new(100, bounds);
    let (a, b) = (
        MemoryShard::new(kinesis_numbers(100)),
        MemoryShard::new(kinesis_numbers(100)),
    );
    let numbers = a.records.clone();
    let ranges = |shard_id: &str| -> Vec<ShardRange> {
        (0..5)
            .map(|i| ShardRange {
                shard_id: shard_id.into(),
                start: SequenceNumber::parse(&numbers[i * 10]).unwrap(),
                end: SequenceNumber::parse(&numbers[i * 10 + 9]).unwrap(),
                expected: 10,
            })
            .collect()
    };
    let (of_a, of_b) = (ranges("shardId-a"), ranges("shardId-b"));
    let keys: Vec<_> = of_a.iter().chain(&of_b).map(key).collect();
    let planned = storm.plan_failures(&keys);
    // Interleaved, as an input in the wrong order would have it.
    for (in_a, in_b) in of_a.iter().zip(&of_b) {
        for (shard, range) in [(&a, in_a), (&b, in_b)] {
            let read =
                block_on(storm.read(shard, ARN, range, ReadLimits::default(), None)).unwrap();
            assert_eq!(read.records.len(), 10);
            assert!(storm.held_bytes() <= bounds.held_bytes);
        }
    }
    // A's run took the budget; B's failures, with too little left, were read alone.
    assert_eq!(a.iterators.borrow().len(), 1);
    assert_eq!(b.iterators.borrow().len(), 5);
    assert_eq!(storm.peak_held_runs(), 1);
    assert_eq!(
        storm.held_bytes(),
        0,
        "A's run let go once its failures were served"
    );
    drop(planned);

    // With A's run gone, the budget serves the next run.
    let planned = storm.plan_failures(&of_b.iter().map(key).collect::<Vec<_>>());
    for range in &of_b {
        block_on(storm.read(&b, ARN, range, ReadLimits::default(), None)).unwrap();
    }
    assert_eq!(b.iterators.borrow().len(), 6);
    drop(planned);
}
