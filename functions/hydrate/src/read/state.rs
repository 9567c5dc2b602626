//! The paging loop: one read's records, calls and bounds as it goes.

use std::cmp::Ordering;

use super::caller::{Caller, Interrupt, Stop};
use super::{ReadError, ReadLimits, ShardRange, StartingPosition, StreamError, StreamShard};
use crate::input::sequence::{self, SequenceNumber};

/// The number of records to ask for once the expected count has been read
/// without reaching the end: one record tells whether the range ends here
/// (it lies past the end) or claims more than its batch (it does not), and
/// a forged end far down the shard then costs one record, not a page.
const PROBE_PAGE: u32 = 1;

/// What a read has so far.
pub(super) struct ReadState<R> {
    pub(super) records: Vec<R>,
    /// Bytes of the records kept, and the largest record seen.
    pub(super) bytes: usize,
    pub(super) largest: usize,
    pub(super) iterator_calls: u32,
    pub(super) calls: u32,
    /// The start was rejected and the read began at the trim horizon.
    pub(super) from_trim_horizon: bool,
    /// The service's words when it rejected the start, kept until the first
    /// record shows whether it was a trim.
    pub(super) unconfirmed_rejection: Option<String>,
}

impl<R> ReadState<R> {
    /// An iterator at `from`, or at the trim horizon if the service rejects it.
    async fn iterator_at<S: StreamShard<Record = R>>(
        &mut self,
        source: &S,
        from: StartingPosition<'_>,
        caller: &mut Caller,
    ) -> Result<String, Interrupt> {
        self.iterator_calls += 1;
        match caller.iterator(source, from).await? {
            Ok(iterator) => Ok(iterator),
            Err(StreamError::StartRejected(message)) if self.records.is_empty() => {
                self.from_trim_horizon = true;
                self.unconfirmed_rejection = Some(message);
                self.iterator_calls += 1;
                caller
                    .iterator(source, StartingPosition::TrimHorizon)
                    .await?
                    .map_err(|e| Interrupt::Failed(e.into()))
            }
            Err(error) => Err(Interrupt::Failed(error.into())),
        }
    }

    /// How many records the next `GetRecords` asks for: no more than the
    /// batch still needs, and, once record sizes are known, no more than
    /// the byte budget has room for, so a page never holds far more than
    /// the range may keep.
    fn page_limit<S: StreamShard<Record = R>>(
        &self,
        range: &ShardRange,
        limits: ReadLimits,
    ) -> u32 {
        let remaining = range.expected.saturating_sub(self.records.len() as u32);
        if remaining == 0 {
            return PROBE_PAGE;
        }
        let by_count = remaining.min(S::MAX_PAGE);
        match self.largest {
            0 => by_count,
            largest => {
                let room = limits.max_bytes.saturating_sub(self.bytes) / largest;
                by_count.min(u32::try_from(room).unwrap_or(u32::MAX)).max(1)
            }
        }
    }

    /// Where to pick up with a new iterator: just past the last record kept,
    /// or where the read began.
    async fn resume<S: StreamShard<Record = R>>(
        &mut self,
        source: &S,
        range: &ShardRange,
        caller: &mut Caller,
    ) -> Result<String, Interrupt> {
        let last = self
            .records
            .last()
            .map(|r| SequenceNumber::parse(S::sequence_number(r)));
        match last {
            Some(Ok(last)) => {
                self.iterator_at(source, StartingPosition::After(&last), caller)
                    .await
            }
            _ if self.from_trim_horizon => {
                self.iterator_calls += 1;
                caller
                    .iterator(source, StartingPosition::TrimHorizon)
                    .await?
                    .map_err(|e| Interrupt::Failed(e.into()))
            }
            _ => {
                self.iterator_at(source, StartingPosition::At(&range.start), caller)
                    .await
            }
        }
    }

    pub(super) async fn read<S: StreamShard<Record = R>>(
        &mut self,
        source: &S,
        range: &ShardRange,
        limits: ReadLimits,
        caller: &mut Caller,
    ) -> Result<Stop, Interrupt> {
        let mut iterator = Some(
            self.iterator_at(source, StartingPosition::At(&range.start), caller)
                .await?,
        );
        let mut empty_streak = 0;
        loop {
            let Some(current) = iterator.take() else {
                return Ok(Stop::ShardEnded);
            };
            if self.calls >= limits.max_calls {
                return Ok(Stop::ReadLimit);
            }
            let limit = self.page_limit::<S>(range, limits);
            self.calls += 1;
            let page = match caller.run(source.records(&current, limit)).await? {
                Ok(page) => {
                    caller.succeeded();
                    page
                }
                Err(StreamError::ExpiredIterator(message)) => {
                    tracing::info!(error = %message, "shard iterator expired; resuming after the last record kept");
                    iterator = Some(self.resume(source, range, caller).await?);
                    continue;
                }
                // DynamoDB Streams: the iterator points into trimmed data.
                Err(StreamError::StartRejected(message))
                    if self.records.is_empty() && !self.from_trim_horizon =>
                {
                    self.from_trim_horizon = true;
                    self.unconfirmed_rejection = Some(message);
                    self.iterator_calls += 1;
                    iterator = Some(
                        caller
                            .iterator(source, StartingPosition::TrimHorizon)
                            .await?
                            .map_err(|e| Interrupt::Failed(e.into()))?,
                    );
                    continue;
                }
                Err(error) => {
                    caller.after_failure(error).await?;
                    iterator = Some(current);
                    continue;
                }
            };

            if let Some(bad) = page
                .records
                .iter()
                .map(S::sequence_number)
                .find(|s| sequence::validate(s).is_err())
            {
                return Err(Interrupt::Failed(ReadError::Source(StreamError::Service(
                    format!(
                        "the service returned a malformed sequence number of {} characters",
                        bad.len()
                    ),
                ))));
            }
            if let (Some(message), Some(first)) =
                (&self.unconfirmed_rejection, page.records.first())
            {
                // It was a trim only if the oldest record left is later than the start.
                if range.start.cmp_str(S::sequence_number(first)) != Ordering::Less {
                    return Err(Interrupt::Failed(ReadError::InvalidStart {
                        start: range.start.clone(),
                        message: message.clone(),
                    }));
                }
                self.unconfirmed_rejection = None;
            }

            let page_was_empty = page.records.is_empty();
            for record in page.records {
                let seq = S::sequence_number(&record);
                // Records before the start, or again after a resumed
                // iterator, are not part of what is kept.
                let after_last = self.records.last().is_none_or(|last| {
                    sequence::compare_decimal(S::sequence_number(last), seq) == Ordering::Less
                });
                if range.start.cmp_str(seq) == Ordering::Greater || !after_last {
                    continue;
                }
                let at_end = match range.end.cmp_str(seq) {
                    Ordering::Less => return Ok(Stop::PassedEnd),
                    Ordering::Equal => true,
                    Ordering::Greater => false,
                };
                let size = S::size_of(&record);
                self.largest = self.largest.max(size);
                let over_count = self.records.len() >= range.expected as usize;
                let over_bytes =
                    !self.records.is_empty() && self.bytes.saturating_add(size) > limits.max_bytes;
                if over_count || over_bytes {
                    return Ok(Stop::OverBudget);
                }
                self.bytes += size;
                self.records.push(record);
                if at_end {
                    return Ok(Stop::PassedEnd);
                }
            }

            iterator = page.next_iterator;
            if page_was_empty {
                empty_streak += 1;
                // An empty page at zero lag proves nothing more is in the shard
                // now; the failed batch was written long before, so it never will be.
                if page.millis_behind_latest == Some(0) && iterator.is_some() {
                    return Ok(Stop::AtTip);
                }
                if empty_streak >= limits.max_empty_pages {
                    return Ok(Stop::ReadLimit);
                }
            } else {
                empty_streak = 0;
            }
        }
    }
}
