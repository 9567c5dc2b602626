//! The reader against an in-memory shard whose pages are cut short, come back
//! empty and start at a trim horizon in every way a real service may.

use std::cell::RefCell;
use std::cmp::Ordering;

use proptest::prelude::*;

use super::*;

/// A shard held in memory. Iterators are indexes into `records`.
pub(crate) struct MemoryShard {
    /// Sequence numbers in shard order; everything before `trim_horizon` is gone.
    pub(crate) records: Vec<String>,
    pub(crate) trim_horizon: usize,
    pub(crate) closed: bool,
    /// Per call: the most records the "service" returns, whatever the limit (0 = an empty page).
    pub(crate) page_cuts: RefCell<Vec<usize>>,
    reports_lag: bool,
    pub(crate) calls: RefCell<u32>,
    /// Per `GetRecords` call, popped from the end: a fault to answer with
    /// instead of a page (`None` = answer normally).
    pub(crate) faults: RefCell<Vec<Option<StreamError>>>,
    /// Iterator calls, with where they pointed.
    pub(crate) iterators: RefCell<Vec<String>>,
}

impl MemoryShard {
    pub(crate) fn new(records: Vec<String>) -> Self {
        Self {
            records,
            trim_horizon: 0,
            closed: false,
            page_cuts: RefCell::new(Vec::new()),
            reports_lag: true,
            calls: RefCell::new(0),
            faults: RefCell::new(Vec::new()),
            iterators: RefCell::new(Vec::new()),
        }
    }

    fn position(iterator: &str) -> usize {
        iterator.parse().expect("test iterators are indexes")
    }
}

impl StreamShard for MemoryShard {
    type Record = String;
    const MAX_PAGE: u32 = 10_000;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        self.iterators.borrow_mut().push(match from {
            StartingPosition::TrimHorizon => "TRIM_HORIZON".to_owned(),
            StartingPosition::At(seq) => format!("AT {seq}"),
            StartingPosition::After(seq) => format!("AFTER {seq}"),
        });
        match from {
            StartingPosition::TrimHorizon => Ok(self.trim_horizon.to_string()),
            StartingPosition::After(seq) => {
                let index = self
                    .records
                    .partition_point(|r| seq.cmp_str(r) != Ordering::Less);
                Ok(index.max(self.trim_horizon).to_string())
            }
            StartingPosition::At(seq) => {
                let index = self
                    .records
                    .partition_point(|r| seq.cmp_str(r) == Ordering::Greater);
                if index < self.trim_horizon {
                    return Err(StreamError::StartRejected(
                        "StartingSequenceNumber is past retention".into(),
                    ));
                }
                Ok(index.to_string())
            }
        }
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<String>, StreamError> {
        *self.calls.borrow_mut() += 1;
        if let Some(fault) = self.faults.borrow_mut().pop().flatten() {
            return Err(fault);
        }
        let at = Self::position(iterator);
        let cut = self.page_cuts.borrow_mut().pop().unwrap_or(usize::MAX);
        let take = cut.min(limit as usize).min(self.records.len() - at);
        let next = at + take;
        let at_end = next == self.records.len();
        Ok(Page {
            records: self.records[at..next].to_vec(),
            next_iterator: if at_end && self.closed {
                None
            } else {
                Some(next.to_string())
            },
            millis_behind_latest: self.reports_lag.then_some(if at_end { 0 } else { 1_000 }),
        })
    }

    fn sequence_number(record: &String) -> &str {
        record
    }

    fn size_of(record: &String) -> usize {
        record.len()
    }
}

fn seq(s: &str) -> SequenceNumber {
    SequenceNumber::parse(s).unwrap()
}

/// Sequence numbers of Kinesis length, increasing with gaps between them.
pub(crate) fn kinesis_numbers(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            format!(
                "4960118965842235937883629852182763847532018901230970{:04}",
                i * 7 + 3
            )
        })
        .collect()
}

fn range(records: &[String], from: usize, to: usize) -> ShardRange {
    ShardRange {
        shard_id: "shardId-000000000000".into(),
        start: seq(&records[from]),
        end: seq(&records[to]),
        expected: (to - from + 1) as u32,
    }
}

fn read(shard: &MemoryShard, range: &ShardRange) -> RangeRead<String> {
    tokio_test_block_on(read_range(shard, range, ReadLimits::default(), None)).unwrap()
}

pub(crate) fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn a_range_in_the_middle_returns_exactly_the_range_in_one_call() {
    let shard = MemoryShard::new(kinesis_numbers(50));
    let read = read(&shard, &range(&shard.records, 10, 19));
    assert_eq!(read.records, shard.records[10..=19]);
    assert!(read.is_complete());
    assert_eq!((read.get_records_calls, read.shard_iterator_calls), (1, 1));
}

#[test]
fn short_and_empty_pages_are_read_through() {
    let shard = MemoryShard::new(kinesis_numbers(100));
    // Popped from the back: 3 records, empty, empty, 1, then whatever is asked.
    *shard.page_cuts.borrow_mut() = vec![1, 0, 0, 3];
    let read = read(&shard, &range(&shard.records, 0, 99));
    assert_eq!(read.records, shard.records);
    assert!(read.is_complete());
    assert_eq!(read.get_records_calls, 5);
}

#[test]
fn a_batch_reaching_past_the_open_shard_tip_is_partial_and_stops() {
    let shard = MemoryShard::new(kinesis_numbers(5));
    let mut wanted = range(&shard.records, 2, 4);
    wanted.end = seq("49601189658422359378836298521827638475320189012309709999");
    wanted.expected = 6;
    let read = read(&shard, &wanted);
    assert_eq!(read.records, shard.records[2..=4]);
    assert_eq!(
        read.gaps,
        vec![Gap {
            from_sequence_number: seq(&shard.records[4]).successor(),
            to_sequence_number: wanted.end.clone(),
            reason: GapReason::BeyondTip,
        }]
    );
    // One page with the three records, one empty page at zero lag.
    assert_eq!(read.get_records_calls, 2);
}

#[test]
fn a_closed_shard_ending_inside_the_range_reports_shard_ended() {
    let mut shard = MemoryShard::new(kinesis_numbers(5));
    shard.closed = true;
    let mut wanted = range(&shard.records, 0, 4);
    wanted.end = seq("49601189658422359378836298521827638475320189012309709999");
    let read = read(&shard, &wanted);
    assert_eq!(read.records.len(), 5);
    assert_eq!(read.gaps[0].reason, GapReason::ShardEnded);
}

#[test]
fn without_lag_reports_empty_pages_are_bounded() {
    let mut shard = MemoryShard::new(kinesis_numbers(5));
    shard.reports_lag = false;
    let mut wanted = range(&shard.records, 0, 4);
    wanted.end = seq("49601189658422359378836298521827638475320189012309709999");
    let read = read(&shard, &wanted);
    assert_eq!(read.gaps[0].reason, GapReason::ReadLimit);
    assert_eq!(
        read.get_records_calls,
        1 + ReadLimits::default().max_empty_pages
    );
}

#[test]
fn a_trimmed_start_is_read_from_the_horizon_and_the_gap_named() {
    let mut shard = MemoryShard::new(kinesis_numbers(20));
    shard.trim_horizon = 8;
    let read = read(&shard, &range(&shard.records, 5, 12));
    assert_eq!(read.records, shard.records[8..=12]);
    assert_eq!(
        read.gaps,
        vec![Gap {
            from_sequence_number: seq(&shard.records[5]),
            to_sequence_number: seq(&shard.records[8]).predecessor().unwrap(),
            reason: GapReason::Trimmed,
        }]
    );
    assert_eq!(read.shard_iterator_calls, 2);
}

#[test]
fn a_wholly_trimmed_range_is_one_trimmed_gap() {
    let mut shard = MemoryShard::new(kinesis_numbers(20));
    shard.trim_horizon = 15;
    let wanted = range(&shard.records, 2, 6);
    let read = read(&shard, &wanted);
    assert!(read.records.is_empty());
    assert_eq!(read.gaps.len(), 1);
    assert_eq!(read.gaps[0].reason, GapReason::Trimmed);
    assert_eq!(
        (
            &read.gaps[0].from_sequence_number,
            &read.gaps[0].to_sequence_number
        ),
        (&wanted.start, &wanted.end)
    );
}

#[test]
fn a_rejected_start_that_is_not_trimmed_is_an_error() {
    struct Rejecting(MemoryShard);
    impl StreamShard for Rejecting {
        type Record = String;
        const MAX_PAGE: u32 = 10_000;
        async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
            match from {
                StartingPosition::At(_) => Err(StreamError::StartRejected(
                    "did not come from this stream".into(),
                )),
                other => self.0.shard_iterator(other).await,
            }
        }
        async fn records(&self, iterator: &str, limit: u32) -> Result<Page<String>, StreamError> {
            self.0.records(iterator, limit).await
        }
        fn sequence_number(record: &String) -> &str {
            record
        }
        fn size_of(record: &String) -> usize {
            record.len()
        }
    }
    let shard = Rejecting(MemoryShard::new(kinesis_numbers(10)));
    let result = tokio_test_block_on(read_range(
        &shard,
        &range(&shard.0.records, 3, 5),
        ReadLimits::default(),
        None,
    ));
    assert!(
        matches!(result, Err(ReadError::InvalidStart { .. })),
        "{result:?}"
    );
}

#[test]
fn a_missing_record_inside_the_range_is_a_count_mismatch() {
    let shard = MemoryShard::new(kinesis_numbers(10));
    let mut wanted = range(&shard.records, 2, 6);
    wanted.expected += 1;
    let read = read(&shard, &wanted);
    assert_eq!(read.records.len(), 5);
    assert_eq!(read.gaps[0].reason, GapReason::CountMismatch);
}

/// A forged record: batchSize 1, but an end far down the shard. One record
/// is kept, one more is looked at, and the rest is named, never read.
#[test]
fn a_range_wider_than_its_batch_keeps_batch_size_records_and_names_the_rest() {
    let shard = MemoryShard::new(kinesis_numbers(300));
    let mut wanted = range(&shard.records, 10, 299);
    wanted.expected = 1;
    let read = read(&shard, &wanted);
    assert_eq!(read.records, shard.records[10..=10]);
    assert_eq!(
        read.get_records_calls, 2,
        "the batch, then a one-record probe"
    );
    assert_eq!(
        read.gaps,
        vec![Gap {
            from_sequence_number: seq(&shard.records[10]).successor(),
            to_sequence_number: seq(&shard.records[299]),
            reason: GapReason::OverBudget,
        }]
    );
    assert_covers(&wanted, &read);
}

#[test]
fn the_byte_budget_bounds_what_is_kept_but_never_the_first_record() {
    let shard = MemoryShard::new(kinesis_numbers(50));
    let wanted = range(&shard.records, 0, 49);
    let size = shard.records[0].len();
    let limits = ReadLimits {
        max_bytes: 3 * size + size / 2,
        ..ReadLimits::default()
    };
    let read = tokio_test_block_on(read_range(&shard, &wanted, limits, None)).unwrap();
    assert_eq!(read.records, shard.records[0..3]);
    assert_eq!(read.gaps.len(), 1);
    assert_eq!(read.gaps[0].reason, GapReason::OverBudget);
    assert_eq!(
        read.gaps[0].from_sequence_number,
        seq(&shard.records[2]).successor()
    );
    assert_covers(&wanted, &read);

    // A budget smaller than one record still keeps that record.
    let tiny = ReadLimits {
        max_bytes: 1,
        ..ReadLimits::default()
    };
    let one = range(&shard.records, 7, 7);
    let read = tokio_test_block_on(read_range(&shard, &one, tiny, None)).unwrap();
    assert_eq!(read.records, shard.records[7..=7]);
    assert!(read.gaps.is_empty());
}

#[test]
fn pages_ask_for_no_more_than_the_budget_has_room_for() {
    let shard = MemoryShard::new(kinesis_numbers(100));
    let wanted = range(&shard.records, 0, 99);
    let size = shard.records[0].len();
    // The first page is cut to 2 records; after it, room for 10 records is
    // left, so the next page may ask for 10 and no more.
    *shard.page_cuts.borrow_mut() = vec![usize::MAX, 2];
    let limits = ReadLimits {
        max_bytes: 12 * size,
        ..ReadLimits::default()
    };
    let read = tokio_test_block_on(read_range(&shard, &wanted, limits, None)).unwrap();
    assert_eq!(read.records, shard.records[0..12]);
    assert_eq!(read.gaps[0].reason, GapReason::OverBudget);
    assert_eq!(read.get_records_calls, 3, "2 records, 10 records, a probe");
}

#[test]
fn a_start_that_is_not_a_record_leaves_a_not_found_head_gap() {
    let shard = MemoryShard::new(kinesis_numbers(10));
    let mut wanted = range(&shard.records, 3, 6);
    wanted.start = seq(&shard.records[2]).successor();
    let read = read(&shard, &wanted);
    assert_eq!(read.records, shard.records[3..=6]);
    assert_eq!(read.gaps[0].reason, GapReason::NotFound);
    assert_eq!(
        read.gaps[0].to_sequence_number,
        seq(&shard.records[3]).predecessor().unwrap()
    );
}

#[test]
fn a_malformed_sequence_number_from_the_service_is_an_error_not_a_panic() {
    let shard = MemoryShard::new(vec!["1".into(), "02".into(), "3".into()]);
    let wanted = ShardRange {
        shard_id: "s".into(),
        start: seq("1"),
        end: seq("3"),
        expected: 3,
    };
    let result = tokio_test_block_on(read_range(&shard, &wanted, ReadLimits::default(), None));
    assert!(
        matches!(result, Err(ReadError::Source(StreamError::Service(_)))),
        "{result:?}"
    );
}

/// Gaps and records together cover the range exactly: every sequence number
/// read is in the range and in no gap, and gaps do not overlap.
fn assert_covers(range: &ShardRange, read: &RangeRead<String>) {
    for r in &read.records {
        assert!(
            range.start.cmp_str(r) != Ordering::Greater && range.end.cmp_str(r) != Ordering::Less
        );
        for g in &read.gaps {
            if g.reason != GapReason::CountMismatch {
                assert!(
                    g.from_sequence_number.cmp_str(r) == Ordering::Greater
                        || g.to_sequence_number.cmp_str(r) == Ordering::Less
                );
            }
        }
    }
}

fn throttled() -> Option<StreamError> {
    Some(StreamError::Throttled(
        "ProvisionedThroughputExceededException: Rate exceeded".into(),
    ))
}

fn expired() -> Option<StreamError> {
    Some(StreamError::ExpiredIterator(
        "ExpiredIteratorException: Iterator expired".into(),
    ))
}

/// Faults in call order (the shard pops them from the end).
fn schedule(faults: Vec<Option<StreamError>>) -> RefCell<Vec<Option<StreamError>>> {
    RefCell::new(faults.into_iter().rev().collect())
}

#[test]
fn throttled_and_failed_reads_are_retried_until_they_succeed() {
    let mut shard = MemoryShard::new(kinesis_numbers(50));
    shard.faults = schedule(vec![
        throttled(),
        Some(StreamError::Service("InternalFailure: boom".into())),
        throttled(),
    ]);
    let wanted = range(&shard.records, 10, 29);
    let read = read(&shard, &wanted);
    assert_eq!(read.records, &shard.records[10..=29]);
    assert!(read.is_complete());
    assert_eq!(read.get_records_calls, 4, "three failures, then the page");
    assert_eq!(
        read.throttled_calls, 2,
        "the service failure is not a throttle"
    );
}

#[test]
fn a_read_that_keeps_failing_is_an_error() {
    let shard = MemoryShard::new(kinesis_numbers(10));
    *shard.faults.borrow_mut() = (0..20).map(|_| throttled()).collect();
    let wanted = range(&shard.records, 0, 9);
    let result = tokio_test_block_on(read_range(&shard, &wanted, ReadLimits::default(), None));
    assert!(
        matches!(result, Err(ReadError::Source(StreamError::Throttled(_)))),
        "{result:?}"
    );
    assert_eq!(*shard.calls.borrow(), ReadLimits::default().retry.attempts);
}

/// A request the service calls invalid fails the same way every time:
/// it is reported at once, never retried into the deadline.
#[test]
fn a_validation_error_is_not_retried() {
    let shard = MemoryShard::new(kinesis_numbers(10));
    *shard.faults.borrow_mut() = (0..20)
        .map(|_| {
            Some(StreamError::Invalid(
                "ValidationException: 1 validation error".into(),
            ))
        })
        .collect();
    let wanted = range(&shard.records, 0, 9);
    let result = tokio_test_block_on(read_range(&shard, &wanted, ReadLimits::default(), None));
    assert!(
        matches!(result, Err(ReadError::Source(StreamError::Invalid(_)))),
        "{result:?}"
    );
    assert_eq!(*shard.calls.borrow(), 1);
}

#[test]
fn an_expired_iterator_resumes_after_the_last_record_kept() {
    let mut shard = MemoryShard::new(kinesis_numbers(100));
    *shard.page_cuts.borrow_mut() = vec![30, 30, 30, 30].into_iter().rev().collect();
    // The second page's call finds its iterator expired.
    shard.faults = schedule(vec![None, expired(), None, None]);
    let wanted = range(&shard.records, 5, 84);
    let read = read(&shard, &wanted);
    assert_eq!(
        read.records,
        &shard.records[5..=84],
        "nothing twice, nothing skipped"
    );
    assert!(read.is_complete());
    let iterators = shard.iterators.borrow();
    assert_eq!(iterators.len(), 2);
    assert_eq!(iterators[1], format!("AFTER {}", shard.records[34]));
    assert_eq!(read.shard_iterator_calls, 2);
}

#[test]
fn an_iterator_that_expires_before_any_record_resumes_at_the_start() {
    let mut shard = MemoryShard::new(kinesis_numbers(20));
    shard.faults = schedule(vec![expired()]);
    let wanted = range(&shard.records, 3, 7);
    let read = read(&shard, &wanted);
    assert_eq!(read.records, &shard.records[3..=7]);
    assert_eq!(
        shard.iterators.borrow()[1],
        format!("AT {}", shard.records[3])
    );
}

#[test]
fn a_shard_that_disappears_is_unavailable_with_the_rest_missing() {
    let mut shard = MemoryShard::new(kinesis_numbers(60));
    *shard.page_cuts.borrow_mut() = vec![10, 10].into_iter().rev().collect();
    shard.faults = schedule(vec![
        None,
        Some(StreamError::NotFound(
            "ResourceNotFoundException: Shard gone".into(),
        )),
    ]);
    let wanted = range(&shard.records, 0, 29);
    let read = read(&shard, &wanted);
    assert_eq!(read.records, &shard.records[0..10]);
    assert_eq!(
        read.unavailable.as_deref(),
        Some("ResourceNotFoundException: Shard gone")
    );
    assert_eq!(read.gaps.len(), 1);
    assert_eq!(read.gaps[0].reason, GapReason::StreamNotFound);
    assert_covers(&wanted, &read);
}

#[test]
fn the_deadline_stops_the_read_with_what_it_has() {
    let mut shard = MemoryShard::new(kinesis_numbers(100));
    *shard.page_cuts.borrow_mut() = vec![10; 10];
    // Throttled calls back off; the deadline comes before the range is read.
    shard.faults = schedule(
        std::iter::once(None)
            .chain((0..200).map(|_| throttled()))
            .collect(),
    );
    let wanted = range(&shard.records, 0, 99);
    // Retries enough to outlast the deadline.
    let limits = ReadLimits {
        retry: Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(100),
            attempts: 1_000,
        },
        ..ReadLimits::default()
    };
    let read = tokio_test_block_on(async {
        let deadline = Instant::now() + Duration::from_millis(500);
        let read = read_range(&shard, &wanted, limits, Some(deadline))
            .await
            .unwrap();
        assert!(
            Instant::now() <= deadline,
            "the reader stops before the deadline"
        );
        read
    });
    assert_eq!(read.records, &shard.records[0..10]);
    assert_eq!(read.gaps.len(), 1);
    assert_eq!(read.gaps[0].reason, GapReason::Deadline);
    assert_covers(&wanted, &read);
}

/// A fault for each `GetRecords` call, drawn from `seeds`: about one call in
/// four fails (throttled, failed, expired), the rest answer.
fn fault_schedule(seeds: &[u8]) -> Vec<Option<StreamError>> {
    seeds
        .iter()
        .map(|s| match s % 12 {
            0 => throttled(),
            1 => Some(StreamError::Service("InternalFailure: boom".into())),
            2 => expired(),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Under any mix of throttling, failures and expired iterators, the range
    /// comes back whole, in order, without duplicates.
    #[test]
    fn faults_never_lose_or_repeat_a_record(
        len in 1usize..300,
        bounds in (0usize..300, 0usize..300),
        cuts in proptest::collection::vec(1usize..40, 0..40),
        seeds in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut shard = MemoryShard::new(kinesis_numbers(len));
        *shard.page_cuts.borrow_mut() = cuts;
        shard.faults = schedule(fault_schedule(&seeds));
        let (a, b) = (bounds.0 % len, bounds.1 % len);
        let (from, to) = (a.min(b), a.max(b));
        let wanted = range(&shard.records, from, to);
        let read = read(&shard, &wanted);
        prop_assert_eq!(&read.records[..], &shard.records[from..=to]);
        prop_assert!(read.is_complete(), "{:?}", read.gaps);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Whatever the paging does, a range whose records are all in the shard
    /// comes back whole, in order, with nothing outside it.
    #[test]
    fn any_paging_returns_exactly_the_range(
        len in 1usize..400,
        bounds in (0usize..400, 0usize..400),
        cuts in proptest::collection::vec(0usize..50, 0..60),
        closed in any::<bool>(),
    ) {
        let mut shard = MemoryShard::new(kinesis_numbers(len));
        shard.closed = closed;
        *shard.page_cuts.borrow_mut() = cuts;
        let (a, b) = (bounds.0 % len, bounds.1 % len);
        let (from, to) = (a.min(b), a.max(b));
        let wanted = range(&shard.records, from, to);
        let read = read(&shard, &wanted);
        prop_assert_eq!(&read.records[..], &shard.records[from..=to]);
        prop_assert!(read.is_complete(), "{:?}", read.gaps);
    }

    /// With a trim horizon anywhere and a range reaching anywhere past the
    /// shard, what is read is in the range and the gaps name the rest.
    #[test]
    fn trims_and_overreaching_ranges_are_accounted_for(
        len in 1usize..200,
        from in 0usize..200,
        extra in 0usize..20,
        horizon in 0usize..200,
        cuts in proptest::collection::vec(0usize..30, 0..30),
    ) {
        let mut shard = MemoryShard::new(kinesis_numbers(len));
        shard.trim_horizon = horizon % (len + 1);
        *shard.page_cuts.borrow_mut() = cuts;
        let from = from % len;
        let all = kinesis_numbers(len + extra);
        let to = (from + extra).min(len + extra - 1);
        let wanted = range(&all, from, to);
        let read = read(&shard, &wanted);
        let (lo, hi) = (shard.trim_horizon.max(from), len.min(to + 1));
        let present: Vec<String> = if lo < hi { shard.records[lo..hi].to_vec() } else { Vec::new() };
        prop_assert_eq!(&read.records, &present);
        prop_assert_eq!(read.is_complete(), present.len() == to - from + 1);
        assert_covers(&wanted, &read);
    }
}
