//! A shard that answers from what a run already read.
//!
//! A failure of a run is hydrated by the very reader that reads a failure
//! alone, against this shard: iterators that point into the recorded span
//! and the pages behind them are served from memory, anything else (a start
//! before the span, the trim horizon, reading on past its end) goes to the
//! real shard. The recorded span is a contiguous stretch of the shard as the
//! real shard served it, so the reader sees the records it would have seen
//! reading alone; only the pages are cut differently.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};

use crate::input::sequence::{compare_decimal, SequenceNumber};
use crate::read::{Page, StartingPosition, StreamError, StreamShard};

/// Starts every iterator this shard makes up. A NUL never occurs in an
/// iterator a service hands out, so the two cannot be confused.
const MARK: &str = "\u{0}recorded:";
/// The iterator past the last recorded record: the real shard takes over.
const PAST_END: &str = "\u{0}recorded:end";

pub struct RecordedShard<'a, S: StreamShard> {
    real: &'a S,
    /// Contiguous, in shard order, with valid sequence numbers (the run's
    /// reader checked them).
    recorded: &'a [S::Record],
    real_iterator_calls: AtomicU32,
    real_records_calls: AtomicU32,
}

impl<'a, S: StreamShard> RecordedShard<'a, S> {
    pub fn new(real: &'a S, recorded: &'a [S::Record]) -> Self {
        Self {
            real,
            recorded,
            real_iterator_calls: AtomicU32::new(0),
            real_records_calls: AtomicU32::new(0),
        }
    }

    /// `GetShardIterator` and `GetRecords` calls that reached the real shard.
    pub fn real_calls(&self) -> (u32, u32) {
        (
            self.real_iterator_calls.load(AtomicOrdering::Relaxed),
            self.real_records_calls.load(AtomicOrdering::Relaxed),
        )
    }

    /// Where an iterator at `from` would start within the recorded span,
    /// when that is known from the span alone.
    fn index_of(&self, from: StartingPosition<'_>) -> Option<usize> {
        let index = match from {
            StartingPosition::At(seq) => {
                let index = self
                    .recorded
                    .partition_point(|r| seq.cmp_str(S::sequence_number(r)) == Ordering::Greater);
                // Before the first record, what lies between is unknown.
                let known = index > 0
                    || self
                        .recorded
                        .first()
                        .is_some_and(|r| seq.cmp_str(S::sequence_number(r)) == Ordering::Equal);
                known.then_some(index)?
            }
            StartingPosition::After(seq) => {
                let index = self
                    .recorded
                    .partition_point(|r| seq.cmp_str(S::sequence_number(r)) != Ordering::Less);
                (index > 0).then_some(index)?
            }
            StartingPosition::TrimHorizon => return None,
        };
        (index < self.recorded.len()).then_some(index)
    }

    async fn real_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        self.real_iterator_calls
            .fetch_add(1, AtomicOrdering::Relaxed);
        self.real.shard_iterator(from).await
    }

    async fn real_records(
        &self,
        iterator: &str,
        limit: u32,
    ) -> Result<Page<S::Record>, StreamError> {
        self.real_records_calls
            .fetch_add(1, AtomicOrdering::Relaxed);
        self.real.records(iterator, limit).await
    }
}

impl<S: StreamShard> StreamShard for RecordedShard<'_, S>
where
    S::Record: Clone,
{
    type Record = S::Record;
    const MAX_PAGE: u32 = S::MAX_PAGE;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        match self.index_of(from) {
            Some(index) => Ok(format!("{MARK}{index}")),
            None => self.real_iterator(from).await,
        }
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<S::Record>, StreamError> {
        let Some(position) = iterator.strip_prefix(MARK) else {
            return self.real_records(iterator, limit).await;
        };
        let at = match position.parse::<usize>() {
            Ok(at) if at < self.recorded.len() => at,
            _ if iterator == PAST_END => return self.past_end(limit).await,
            _ => return Err(StreamError::Service("an unknown recorded iterator".into())),
        };
        let next = at
            .saturating_add(usize::try_from(limit.max(1)).unwrap_or(usize::MAX))
            .min(self.recorded.len());
        Ok(Page {
            records: self.recorded[at..next].to_vec(),
            next_iterator: Some(match next == self.recorded.len() {
                true => PAST_END.to_owned(),
                false => format!("{MARK}{next}"),
            }),
            // Read only on empty pages, which are never served from memory.
            millis_behind_latest: None,
        })
    }

    fn sequence_number(record: &S::Record) -> &str {
        S::sequence_number(record)
    }

    fn size_of(record: &S::Record) -> usize {
        S::size_of(record)
    }
}

impl<S: StreamShard> RecordedShard<'_, S> {
    /// The reader went on past the recorded span: a real iterator just past
    /// its last record, and the page there.
    async fn past_end(&self, limit: u32) -> Result<Page<S::Record>, StreamError> {
        let last = self
            .recorded
            .last()
            .map(|r| SequenceNumber::parse(S::sequence_number(r)));
        let Some(Ok(last)) = last else {
            return Err(StreamError::Service("an unknown recorded iterator".into()));
        };
        let iterator = self.real_iterator(StartingPosition::After(&last)).await?;
        self.real_records(&iterator, limit).await
    }
}

/// Whether `records` are in strictly increasing shard order: what a
/// recorded span must be.
pub fn in_order<S: StreamShard>(records: &[S::Record]) -> bool {
    records.windows(2).all(|pair| {
        compare_decimal(S::sequence_number(&pair[0]), S::sequence_number(&pair[1]))
            == Ordering::Less
    })
}
