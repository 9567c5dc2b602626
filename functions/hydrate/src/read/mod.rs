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
}

/// Why records of the range are not in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
}

/// An inclusive run of sequence numbers that may hold records of the batch
/// which the document does not carry. Gaps and the records read together
/// cover the whole range.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_empty_pages: 20,
            max_calls: 2_000,
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
}

/// How a read went, apart from the records.
#[derive(Debug)]
pub struct ReadSummary {
    pub gaps: Vec<Gap>,
    pub get_records_calls: u32,
    pub shard_iterator_calls: u32,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A record at or past `end` was seen.
    PassedEnd,
    ShardEnded,
    AtTip,
    ReadLimit,
}

/// The number of records to ask for once the expected count has been read
/// without reaching the end: the batch info and the shard disagree, so read on
/// in small steps rather than pull a full page past the range.
const PROBE_PAGE: u32 = 100;

/// Reads every record of `range` from `source`.
///
/// Asks for no more records a call than the range still needs, so a range
/// that is whole costs one iterator call and as few pages as the service's
/// page limits allow, and nothing past `end` is transferred when it can be avoided.
pub async fn read_range<S: ShardSource>(
    source: &S,
    range: &ShardRange,
    limits: ReadLimits,
) -> Result<RangeRead<S::Record>, ReadError> {
    let mut iterator_calls = 1;
    // When the start is rejected, read from the trim horizon and keep the
    // service's words until the first record shows whether it was a trim.
    let (first_iterator, mut unconfirmed_rejection) = match source
        .shard_iterator(StartingPosition::At(&range.start))
        .await
    {
        Ok(iterator) => (iterator, None),
        Err(SourceError::StartRejected(message)) => {
            iterator_calls += 1;
            (
                source.shard_iterator(StartingPosition::TrimHorizon).await?,
                Some(message),
            )
        }
        Err(other) => return Err(other.into()),
    };
    let from_trim_horizon = unconfirmed_rejection.is_some();

    let mut records = Vec::new();
    let mut iterator = Some(first_iterator);
    let mut calls = 0;
    let mut empty_streak = 0;
    let stop = loop {
        let Some(current) = iterator.take() else {
            break Stop::ShardEnded;
        };
        if calls >= limits.max_calls {
            break Stop::ReadLimit;
        }
        let remaining = range.expected.saturating_sub(records.len() as u32);
        let limit = if remaining == 0 {
            PROBE_PAGE
        } else {
            remaining.min(S::MAX_PAGE)
        };
        let page = source.records(&current, limit).await?;
        calls += 1;

        if let Some(bad) = page
            .records
            .iter()
            .map(S::sequence_number)
            .find(|s| sequence::validate(s).is_err())
        {
            return Err(ReadError::Source(SourceError::Service(format!(
                "the service returned a malformed sequence number of {} characters",
                bad.len()
            ))));
        }
        if let (Some(message), Some(first)) = (&unconfirmed_rejection, page.records.first()) {
            // It was a trim only if the oldest record left is later than the start.
            if range.start.cmp_str(S::sequence_number(first)) != Ordering::Less {
                return Err(ReadError::InvalidStart {
                    start: range.start.clone(),
                    message: message.clone(),
                });
            }
            unconfirmed_rejection = None;
        }

        let page_was_empty = page.records.is_empty();
        let mut passed_end = false;
        for record in page.records {
            let seq = S::sequence_number(&record);
            if range.start.cmp_str(seq) == Ordering::Greater {
                continue;
            }
            match range.end.cmp_str(seq) {
                Ordering::Less => {
                    passed_end = true;
                    break;
                }
                Ordering::Equal => {
                    records.push(record);
                    passed_end = true;
                    break;
                }
                Ordering::Greater => records.push(record),
            }
        }
        if passed_end {
            break Stop::PassedEnd;
        }

        iterator = page.next_iterator;
        if page_was_empty {
            empty_streak += 1;
            // An empty page at zero lag proves nothing more is in the shard
            // now; the failed batch was written long before, so it never will be.
            if page.millis_behind_latest == Some(0) && iterator.is_some() {
                break Stop::AtTip;
            }
            if empty_streak >= limits.max_empty_pages {
                break Stop::ReadLimit;
            }
        } else {
            empty_streak = 0;
        }
    };

    let gaps = account_for_gaps::<S>(range, &records, stop, from_trim_horizon);
    Ok(RangeRead {
        records,
        gaps,
        get_records_calls: calls,
        shard_iterator_calls: iterator_calls,
    })
}

/// Names, as inclusive sequence ranges, every part of `range` that `records`
/// does not cover, with the reason it is missing.
fn account_for_gaps<S: ShardSource>(
    range: &ShardRange,
    records: &[S::Record],
    stop: Stop,
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
