//! Reading exactly one failed batch back from its shard.
//!
//! One algorithm serves every stream: start an iterator at the batch's first
//! sequence number, page through `GetRecords` until the last one is reached,
//! keep what lies in the range and nothing else, and account for every record
//! that could not be read as a [`Gap`] with a reason. What differs between
//! Kinesis and DynamoDB Streams (the client calls, the record type) sits behind
//! [`ShardSource`].

pub mod dynamodb;
pub mod kinesis;
mod source_error;

pub use source_error::{describe_sdk_error, Call, SourceError};

use std::cmp::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::sequence::{self, SequenceNumber};

/// The records of one failed batch: a shard, an inclusive sequence range and
/// how many records the event source mapping says it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRange {
    pub shard_id: String,
    pub start: SequenceNumber,
    pub end: SequenceNumber,
    pub expected: u32,
}

/// Where a new shard iterator points.
#[derive(Debug, Clone, Copy)]
pub enum StartingPosition<'a> {
    At(&'a SequenceNumber),
    /// Just past a record already read: where a read resumes after its
    /// iterator expired.
    After(&'a SequenceNumber),
    TrimHorizon,
}

/// One `GetRecords` answer.
#[derive(Debug)]
pub struct Page<R> {
    pub records: Vec<R>,
    /// Absent once a closed shard has been read to its end.
    pub next_iterator: Option<String>,
    /// Kinesis only: zero on an empty page means the reader is at the tip.
    pub millis_behind_latest: Option<i64>,
}

/// The calls a stream service offers for reading one shard.
#[allow(async_fn_in_trait)] // used with concrete types only, so the futures' Send-ness is known
pub trait ShardSource {
    type Record;

    /// The most records one `GetRecords` call may ask for.
    const MAX_PAGE: u32;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, SourceError>;

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<Self::Record>, SourceError>;

    fn sequence_number(record: &Self::Record) -> &str;

    /// The bytes a record holds, as counted against [`ReadLimits::max_bytes`].
    fn size_of(record: &Self::Record) -> usize;
}

/// Why records of the range are not in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// The stream's retention removed them: the start lies before the trim horizon.
    Trimmed,
    /// Records around them were read, but the shard had none at these numbers.
    NotFound,
    /// The shard was closed (split or merged) before the end of the range.
    ShardEnded,
    /// The reader reached the tip of the open shard before the end of the range.
    BeyondTip,
    /// The reader gave up after its bound on calls or empty pages.
    ReadLimit,
    /// Every position was read, but the count differs from the batch size.
    CountMismatch,
    /// The record was read but is larger than a message may be, so delivery
    /// could not carry it (set on delivery, never by the reader).
    TooLarge,
    /// The invocation's time ran out before the reader got here.
    Deadline,
    /// The stream or shard no longer exists.
    StreamNotFound,
    /// The range holds more records than `batchSize`, or more bytes than
    /// one failure may read: the on-failure record claims more than a batch
    /// can hold, so what lies past the bound is named, not read.
    OverBudget,
}

/// An inclusive run of sequence numbers that may hold records of the batch
/// which the document does not carry. Gaps and the records read together
/// cover the whole range.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gap {
    pub from_sequence_number: SequenceNumber,
    pub to_sequence_number: SequenceNumber,
    pub reason: GapReason,
}

/// Bounds that keep a read from polling forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Consecutive empty pages allowed while the service does not say it is at the tip.
    pub max_empty_pages: u32,
    /// `GetRecords` calls allowed for one range.
    pub max_calls: u32,
    /// Record bytes one range may keep. The first record is always kept,
    /// whatever its size (a stream record may be up to 10 MiB), so that a
    /// batch of one oversized record is still read.
    pub max_bytes: usize,
    /// How throttled and failed calls are retried. The failing consumer reads
    /// the same shard (five reads a second per shard, shared), so the reader
    /// backs off rather than compete with it.
    pub retry: Backoff,
}

/// What one Lambda batch can hold: a 6 MB invocation payload.
pub const DEFAULT_MAX_BYTES: usize = 6 * 1024 * 1024;

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_empty_pages: 20,
            max_calls: 2_000,
            max_bytes: DEFAULT_MAX_BYTES,
            retry: Backoff {
                base: Duration::from_millis(200),
                cap: Duration::from_secs(5),
                attempts: 8,
            },
        }
    }
}

/// What reading a range produced.
#[derive(Debug)]
pub struct RangeRead<R> {
    /// Every record read with `start <= seq <= end`, in shard order.
    pub records: Vec<R>,
    pub gaps: Vec<Gap>,
    pub get_records_calls: u32,
    pub shard_iterator_calls: u32,
    /// The service's words when the stream or shard turned out not to exist.
    pub unavailable: Option<String>,
}

/// How a read went, apart from the records.
#[derive(Debug)]
pub struct ReadSummary {
    pub gaps: Vec<Gap>,
    pub get_records_calls: u32,
    pub shard_iterator_calls: u32,
    pub unavailable: Option<String>,
}

impl<R> RangeRead<R> {
    /// Every record of the batch is here, and only those.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Splits the records from the account of reading them, so the records
    /// can be turned into their event shape.
    pub fn into_parts(self) -> (ReadSummary, Vec<R>) {
        let summary = ReadSummary {
            gaps: self.gaps,
            get_records_calls: self.get_records_calls,
            shard_iterator_calls: self.shard_iterator_calls,
            unavailable: self.unavailable,
        };
        (summary, self.records)
    }
}

/// Why a range could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("the stream rejected start sequence number {start}, and it is not before the trim horizon: {message}")]
    InvalidStart {
        start: SequenceNumber,
        message: String,
    },
}

/// How the paging loop stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    /// A record at or past `end` was seen.
    PassedEnd,
    ShardEnded,
    AtTip,
    ReadLimit,
    Deadline,
    /// A record of the range lies past `batchSize` records or the byte budget.
    OverBudget,
    /// The stream or shard does not exist (any more).
    Gone(String),
}

/// Why a call did not return what was asked.
enum Interrupt {
    Stop(Stop),
    Failed(ReadError),
}

impl From<ReadError> for Interrupt {
    fn from(error: ReadError) -> Self {
        Interrupt::Failed(error)
    }
}

/// The number of records to ask for once the expected count has been read
/// without reaching the end: one record tells whether the range ends here
/// (it lies past the end) or claims more than its batch (it does not), and
/// a forged end far down the shard then costs one record, not a page.
const PROBE_PAGE: u32 = 1;

/// Calls to the service, each bounded by the deadline, with throttled and
/// failed calls retried on the backoff schedule while time allows.
struct Caller {
    retry: Backoff,
    deadline: Option<Instant>,
    /// Consecutive failures of the call being retried.
    failures: u32,
}

impl Caller {
    /// Runs `call`, or says why not: out of time, or an error to act on.
    async fn run<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, SourceError>>,
    ) -> Result<Result<T, SourceError>, Interrupt> {
        match self.deadline {
            None => Ok(call.await),
            Some(deadline) if Instant::now() >= deadline => Err(Interrupt::Stop(Stop::Deadline)),
            Some(deadline) => tokio::time::timeout_at(deadline, call)
                .await
                .map_err(|_| Interrupt::Stop(Stop::Deadline)),
        }
    }

    /// After a failed call: waits and returns to retry it, or gives up.
    async fn after_failure(&mut self, error: SourceError) -> Result<(), Interrupt> {
        match error {
            SourceError::Throttled(_) | SourceError::Service(_) => {}
            SourceError::NotFound(message) => return Err(Interrupt::Stop(Stop::Gone(message))),
            other => return Err(Interrupt::Failed(other.into())),
        }
        if self.failures + 1 >= self.retry.attempts {
            return Err(Interrupt::Failed(error.into()));
        }
        let wait = self.retry.delay(self.failures);
        self.failures += 1;
        if self.deadline.is_some_and(|d| Instant::now() + wait >= d) {
            return Err(Interrupt::Stop(Stop::Deadline));
        }
        tracing::warn!(retry = self.failures, wait_ms = wait.as_millis() as u64, error = %error, "retrying a stream read");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// A new shard iterator, retried like any call.
    async fn iterator<S: ShardSource>(
        &mut self,
        source: &S,
        from: StartingPosition<'_>,
    ) -> Result<Result<String, SourceError>, Interrupt> {
        loop {
            match self.run(source.shard_iterator(from)).await? {
                Ok(iterator) => {
                    self.succeeded();
                    return Ok(Ok(iterator));
                }
                Err(SourceError::StartRejected(message)) => {
                    return Ok(Err(SourceError::StartRejected(message)))
                }
                Err(error) => self.after_failure(error).await?,
            }
        }
    }
}

/// Reads every record of `range` from `source`, stopping early, with what it
/// has, when `deadline` comes.
///
/// Asks for no more records a call than the range still needs, so a range
/// that is whole costs one iterator call and as few pages as the service's
/// page limits allow, and nothing past `end` is transferred when it can be avoided.
pub async fn read_range<S: ShardSource>(
    source: &S,
    range: &ShardRange,
    limits: ReadLimits,
    deadline: Option<Instant>,
) -> Result<RangeRead<S::Record>, ReadError> {
    let mut caller = Caller {
        retry: limits.retry,
        deadline,
        failures: 0,
    };
    let mut state = ReadState {
        records: Vec::new(),
        bytes: 0,
        largest: 0,
        iterator_calls: 0,
        calls: 0,
        from_trim_horizon: false,
        unconfirmed_rejection: None,
    };
    let stop = match state.read(source, range, limits, &mut caller).await {
        Ok(stop) | Err(Interrupt::Stop(stop)) => stop,
        Err(Interrupt::Failed(error)) => return Err(error),
    };
    let unavailable = match &stop {
        Stop::Gone(message) => Some(message.clone()),
        _ => None,
    };
    let gaps = account_for_gaps::<S>(range, &state.records, &stop, state.from_trim_horizon);
    Ok(RangeRead {
        records: state.records,
        gaps,
        get_records_calls: state.calls,
        shard_iterator_calls: state.iterator_calls,
        unavailable,
    })
}

/// What a read has so far.
struct ReadState<R> {
    records: Vec<R>,
    /// Bytes of the records kept, and the largest record seen.
    bytes: usize,
    largest: usize,
    iterator_calls: u32,
    calls: u32,
    /// The start was rejected and the read began at the trim horizon.
    from_trim_horizon: bool,
    /// The service's words when it rejected the start, kept until the first
    /// record shows whether it was a trim.
    unconfirmed_rejection: Option<String>,
}

impl<R> ReadState<R> {
    /// An iterator at `from`, or at the trim horizon if the service rejects it.
    async fn iterator_at<S: ShardSource<Record = R>>(
        &mut self,
        source: &S,
        from: StartingPosition<'_>,
        caller: &mut Caller,
    ) -> Result<String, Interrupt> {
        self.iterator_calls += 1;
        match caller.iterator(source, from).await? {
            Ok(iterator) => Ok(iterator),
            Err(SourceError::StartRejected(message)) if self.records.is_empty() => {
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
    fn page_limit<S: ShardSource<Record = R>>(
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
    async fn resume<S: ShardSource<Record = R>>(
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

    async fn read<S: ShardSource<Record = R>>(
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
                Err(SourceError::ExpiredIterator(message)) => {
                    tracing::info!(error = %message, "shard iterator expired; resuming after the last record kept");
                    iterator = Some(self.resume(source, range, caller).await?);
                    continue;
                }
                // DynamoDB Streams: the iterator points into trimmed data.
                Err(SourceError::StartRejected(message))
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
                return Err(Interrupt::Failed(ReadError::Source(SourceError::Service(
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

/// Names, as inclusive sequence ranges, every part of `range` that `records`
/// does not cover, with the reason it is missing.
fn account_for_gaps<S: ShardSource>(
    range: &ShardRange,
    records: &[S::Record],
    stop: &Stop,
    from_trim_horizon: bool,
) -> Vec<Gap> {
    let head_reason = if from_trim_horizon {
        GapReason::Trimmed
    } else {
        GapReason::NotFound
    };
    let tail_reason = match stop {
        Stop::PassedEnd => GapReason::NotFound,
        Stop::ShardEnded => GapReason::ShardEnded,
        Stop::AtTip => GapReason::BeyondTip,
        Stop::ReadLimit => GapReason::ReadLimit,
        Stop::Deadline => GapReason::Deadline,
        Stop::OverBudget => GapReason::OverBudget,
        Stop::Gone(_) => GapReason::StreamNotFound,
    };
    let gap = |from: SequenceNumber, to: SequenceNumber, reason| Gap {
        from_sequence_number: from,
        to_sequence_number: to,
        reason,
    };

    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        // Nothing read: a trim explains it if the start was trimmed,
        // otherwise whatever stopped the read does.
        let reason = if from_trim_horizon {
            GapReason::Trimmed
        } else {
            tail_reason
        };
        return vec![gap(range.start.clone(), range.end.clone(), reason)];
    };

    let mut gaps = Vec::new();
    let first = seq_of::<S>(first);
    let last = seq_of::<S>(last);
    if first > range.start {
        // first > start >= 0, so it has a predecessor.
        let before_first = first.predecessor().unwrap_or_else(|| range.start.clone());
        gaps.push(gap(range.start.clone(), before_first, head_reason));
    }
    if last < range.end {
        gaps.push(gap(last.successor(), range.end.clone(), tail_reason));
    }
    if gaps.is_empty() && records.len() != range.expected as usize {
        gaps.push(gap(
            range.start.clone(),
            range.end.clone(),
            GapReason::CountMismatch,
        ));
    }
    gaps
}

fn seq_of<S: ShardSource>(record: &S::Record) -> SequenceNumber {
    SequenceNumber::parse(S::sequence_number(record))
        .expect("read_range validated every sequence number it kept")
}

#[cfg(test)]
mod tests;
