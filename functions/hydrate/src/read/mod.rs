//! Reading exactly one failed batch back from its shard.
//!
//! One algorithm serves every stream: start an iterator at the batch's first
//! sequence number, page through `GetRecords` until the last one is reached,
//! keep what lies in the range and nothing else, and account for every record
//! that could not be read as a [`Gap`] with a reason. What differs between
//! Kinesis and DynamoDB Streams (the client calls, the record type) sits behind
//! [`StreamShard`].

mod caller;
pub mod coalesce;
mod gap;
mod state;
pub(crate) mod stream_error;

pub use gap::{Gap, GapReason};
pub use stream_error::StreamError;

use std::time::Duration;

use tokio::time::Instant;

use crate::aws::backoff::Backoff;
use crate::input::sequence::SequenceNumber;
use caller::{Caller, Interrupt, Stop};
use gap::account_for_gaps;
use state::ReadState;

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
pub trait StreamShard {
    type Record;

    /// The most records one `GetRecords` call may ask for.
    const MAX_PAGE: u32;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError>;

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<Self::Record>, StreamError>;

    fn sequence_number(record: &Self::Record) -> &str;

    /// The bytes a record holds, as counted against [`ReadLimits::max_bytes`].
    fn size_of(record: &Self::Record) -> usize;
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
    /// Calls the service throttled (each retried, or the last one failed the read).
    pub throttled_calls: u32,
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
    /// Calls the service throttled.
    pub throttled_calls: u32,
}

impl<R> RangeRead<R> {
    /// Every record of the batch is here, and only those.
    #[cfg(test)]
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Splits the records from the account of reading them, so the records
    /// can be turned into their event shape.
    pub fn into_parts(self) -> (ReadSummary, Vec<R>) {
        let summary = ReadSummary {
            throttled_calls: self.throttled_calls,
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
    Source(#[from] StreamError),
    #[error("the stream rejected start sequence number {start}, and it is not before the trim horizon: {message}")]
    InvalidStart {
        start: SequenceNumber,
        message: String,
    },
}

/// Reads every record of `range` from `source`, stopping early, with what it
/// has, when `deadline` comes.
///
/// Asks for no more records a call than the range still needs, so a range
/// that is whole costs one iterator call and as few pages as the service's
/// page limits allow, and nothing past `end` is transferred when it can be avoided.
pub async fn read_range<S: StreamShard>(
    source: &S,
    range: &ShardRange,
    limits: ReadLimits,
    deadline: Option<Instant>,
) -> Result<RangeRead<S::Record>, ReadError> {
    let mut caller = Caller {
        retry: limits.retry,
        deadline,
        failures: 0,
        throttled: 0,
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
        throttled_calls: caller.throttled,
        unavailable,
    })
}

#[cfg(test)]
pub(crate) mod tests;
