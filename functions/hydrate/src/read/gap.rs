//! What the document does not carry, and why: gaps in the range, named as
//! inclusive sequence ranges with a reason.

use super::caller::Stop;
use super::{ShardRange, StreamShard};
use crate::input::sequence::SequenceNumber;

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

impl GapReason {
    /// The reason as the document writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Trimmed => "trimmed",
            GapReason::NotFound => "not_found",
            GapReason::ShardEnded => "shard_ended",
            GapReason::BeyondTip => "beyond_tip",
            GapReason::ReadLimit => "read_limit",
            GapReason::CountMismatch => "count_mismatch",
            GapReason::TooLarge => "too_large",
            GapReason::Deadline => "deadline",
            GapReason::StreamNotFound => "stream_not_found",
            GapReason::OverBudget => "over_budget",
        }
    }
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

/// Names, as inclusive sequence ranges, every part of `range` that `records`
/// does not cover, with the reason it is missing.
pub(super) fn account_for_gaps<S: StreamShard>(
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

fn seq_of<S: StreamShard>(record: &S::Record) -> SequenceNumber {
    SequenceNumber::parse(S::sequence_number(record))
        .expect("read_range validated every sequence number it kept")
}

#[cfg(test)]
mod tests {
    use super::GapReason::{self, *};

    #[test]
    fn each_reason_reads_as_the_document_writes_it() {
        let all = [
            Trimmed,
            NotFound,
            ShardEnded,
            BeyondTip,
            ReadLimit,
            CountMismatch,
            TooLarge,
            Deadline,
            StreamNotFound,
            OverBudget,
        ];
        for reason in all {
            let written = serde_json::to_value(reason).unwrap();
            assert_eq!(written, reason.as_str());
            let read: GapReason = serde_json::from_value(written).unwrap();
            assert_eq!(read, reason);
        }
    }
}
