//! Exactly the failed offsets of one topic-partition read back, first through
//! last, over a [`KafkaPartition`]; every offset not read is named in a gap
//! with its reason. The broker itself is reached in `broker.rs`.
//!
//! Bounded as the other kinds are: the range a record claims decides only
//! where reading starts and stops, never how much is held. Records, bytes
//! and fetches each have a limit; what a limit cuts off is a gap too.

use serde::{Deserialize, Serialize};

use super::batch::PartitionRange;

/// Which time a record's `timestamp` is, as its batch says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// The producer's time: Kafka's default.
    CreateTime,
    /// The time the broker appended the batch (a topic whose
    /// `message.timestamp.type` is `LogAppendTime`): one time for every
    /// record of the batch.
    LogAppendTime,
}

impl TimestampType {
    /// As Lambda's Kafka event names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateTime => "CREATE_TIME",
            Self::LogAppendTime => "LOG_APPEND_TIME",
        }
    }
}

/// One Kafka record as the broker gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaRecord {
    pub offset: i64,
    pub timestamp_ms: i64,
    pub timestamp_type: TimestampType,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// In the order they were written, a name as often as it was written.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl KafkaRecord {
    fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// Why a partition's read failed outright (no gap can say it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// The topic or the partition does not exist (any more).
    #[error("the topic or partition does not exist")]
    Gone,
    /// The offset asked for is outside the log (it moved while reading).
    #[error("the offset is outside the partition's log")]
    OutOfRange,
    /// Anything else, by class: the broker's words may hold topic names.
    #[error("the broker could not be read: {0}")]
    Broker(&'static str),
}

/// One partition of a topic, as the reader needs it. The real one is
/// `broker::BrokerPartition`; tests supply logs held in memory.
#[allow(async_fn_in_trait)] // used with concrete types only
pub trait KafkaPartition {
    /// The log start offset and the high watermark (one past the last record).
    async fn watermarks(&self) -> Result<(i64, i64), PartitionError>;
    /// Records from `offset` on, at most about `max_bytes` of them (the broker
    /// always returns at least one whole batch). May begin before `offset`:
    /// a broker answers with whole record batches.
    async fn fetch(&self, offset: i64, max_bytes: i32) -> Result<Vec<KafkaRecord>, PartitionError>;
}

/// Why offsets of a failed range are not in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KafkaGapReason {
    /// Before the log start offset: retention or a deletion took them.
    BeforeLogStart,
    /// At or past the high watermark: the log never held them (or was truncated).
    BeyondHighWatermark,
    /// The topic or the partition is gone.
    TopicOrPartitionGone,
    /// Inside the log but no record: compacted away, or a transaction marker
    /// (control records are never delivered to consumers).
    CompactedOrControl,
    /// The read limits stopped the read; the offsets may still be in the log.
    ReadLimit,
}

impl KafkaGapReason {
    /// The reason in a metric's name (`RecordsMissing_<reason>`), in the
    /// form the other kinds' reasons take there.
    pub fn metric_name(self) -> &'static str {
        match self {
            KafkaGapReason::BeforeLogStart => "before_log_start",
            KafkaGapReason::BeyondHighWatermark => "beyond_high_watermark",
            KafkaGapReason::TopicOrPartitionGone => "topic_or_partition_gone",
            KafkaGapReason::CompactedOrControl => "compacted_or_control",
            KafkaGapReason::ReadLimit => "read_limit",
        }
    }
}

/// Offsets `first..=last` of one partition that the document does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaGap {
    pub topic: String,
    pub partition: i32,
    pub first_offset: i64,
    pub last_offset: i64,
    pub reason: KafkaGapReason,
}

/// How much one failure's read may fetch and hold, over all its partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KafkaLimits {
    /// Records kept: a Lambda batch holds at most 10,000.
    pub max_records: usize,
    /// Record bytes kept; the first record is always kept.
    pub max_bytes: usize,
    /// Fetch requests.
    pub max_fetches: u32,
    /// Bytes asked for in one fetch.
    pub fetch_bytes: i32,
}

impl Default for KafkaLimits {
    fn default() -> Self {
        Self {
            max_records: 10_000,
            max_bytes: crate::read::DEFAULT_MAX_BYTES,
            max_fetches: 200,
            fetch_bytes: 1024 * 1024,
        }
    }
}

/// What a read may still fetch and keep, shared by every range it covers:
/// the partitions of one failure, as Lambda's batch is bounded over all its
/// partitions, or the spans of failures read together, whose budget is the
/// sum of theirs. A failure may name 10,000 partitions: what it claims never
/// multiplies what is fetched or held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget {
    records: usize,
    bytes: usize,
    fetches: u32,
    /// Whether a record was kept: the first is, whatever its size.
    kept_any: bool,
}

impl ReadBudget {
    /// The budget of `failures` failures read together under `limits`.
    pub fn of(limits: &KafkaLimits, failures: usize) -> Self {
        let times = u32::try_from(failures).unwrap_or(u32::MAX);
        Self {
            records: limits.max_records.saturating_mul(failures),
            bytes: limits.max_bytes.saturating_mul(failures),
            fetches: limits.max_fetches.saturating_mul(times),
            kept_any: false,
        }
    }

    /// Nothing more may be fetched or kept: the ranges left are not read.
    fn spent(&self) -> bool {
        self.records == 0 || self.fetches == 0
    }

    /// Keeps `record` if it fits; once one does not, the budget is spent.
    fn keep(&mut self, record: &KafkaRecord) -> bool {
        let size = record.size();
        if self.records == 0 || (self.kept_any && size > self.bytes) {
            self.records = 0;
            return false;
        }
        self.records -= 1;
        self.bytes = self.bytes.saturating_sub(size);
        self.kept_any = true;
        true
    }
}

/// What reading one partition's range gave: its records in offset order,
/// each inside the range, and its gaps in offset order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PartitionRead {
    pub records: Vec<KafkaRecord>,
    pub gaps: Vec<KafkaGap>,
    pub fetches: u32,
}

impl PartitionRead {
    /// The bytes of the records it holds (keys, values, headers).
    pub fn record_bytes(&self) -> usize {
        self.records.iter().map(KafkaRecord::size).sum()
    }

    fn gap(&mut self, range: &PartitionRange, first: i64, last: i64, reason: KafkaGapReason) {
        if first <= last {
            self.gaps.push(KafkaGap {
                topic: range.topic.clone(),
                partition: range.partition,
                first_offset: first,
                last_offset: last,
                reason,
            });
        }
    }
}

/// Reads `range` from `partition`, fetching `limits.fetch_bytes` at a time
/// and keeping what `budget` allows: the records it holds, the rest as gaps.
/// With the budget spent, the range is one `read-limit` gap and nothing is
/// asked of the broker. A broker that cannot be reached at all is an error,
/// for the caller to retry.
pub async fn read_range<P: KafkaPartition>(
    partition: &P,
    range: &PartitionRange,
    limits: &KafkaLimits,
    budget: &mut ReadBudget,
) -> Result<PartitionRead, PartitionError> {
    let mut read = PartitionRead::default();
    if budget.spent() {
        read.gap(range, range.first, range.last, KafkaGapReason::ReadLimit);
        return Ok(read);
    }
    let (log_start, high_watermark) = match partition.watermarks().await {
        Ok(marks) => marks,
        Err(PartitionError::Gone) => {
            read.gap(
                range,
                range.first,
                range.last,
                KafkaGapReason::TopicOrPartitionGone,
            );
            return Ok(read);
        }
        Err(other) => return Err(other),
    };
    read.gap(
        range,
        range.first,
        range.last.min(log_start.saturating_sub(1)),
        KafkaGapReason::BeforeLogStart,
    );
    read.gap(
        range,
        range.first.max(high_watermark),
        range.last,
        KafkaGapReason::BeyondHighWatermark,
    );
    let end = range.last.min(high_watermark.saturating_sub(1));
    let mut next = range.first.max(log_start);
    let mut in_log_gaps = Vec::new();
    while next <= end {
        if budget.fetches == 0 {
            in_log_gaps.push((next, end, KafkaGapReason::ReadLimit));
            break;
        }
        budget.fetches -= 1;
        read.fetches += 1;
        let fetched = match partition.fetch(next, limits.fetch_bytes).await {
            Ok(records) => records,
            Err(PartitionError::Gone) => {
                in_log_gaps.push((next, end, KafkaGapReason::TopicOrPartitionGone));
                break;
            }
            // Retention moved the start while reading: what is left is gone.
            Err(PartitionError::OutOfRange) => {
                in_log_gaps.push((next, end, KafkaGapReason::BeforeLogStart));
                break;
            }
            Err(other) => return Err(other),
        };
        let before = next;
        for record in fetched {
            // A batch may begin before `next`, and run past the range's end.
            if record.offset < next || record.offset > end {
                continue;
            }
            if !budget.keep(&record) {
                in_log_gaps.push((record.offset, end, KafkaGapReason::ReadLimit));
                next = end.saturating_add(1);
                break;
            }
            if record.offset > next {
                in_log_gaps.push((next, record.offset - 1, KafkaGapReason::CompactedOrControl));
            }
            next = record.offset.saturating_add(1);
            read.records.push(record);
        }
        if next == before {
            // Nothing at or after `next` below the high watermark: the rest
            // of the log holds only control records, or was compacted.
            in_log_gaps.push((next, end, KafkaGapReason::CompactedOrControl));
            break;
        }
    }
    for (first, last, reason) in in_log_gaps {
        read.gap(range, first, last, reason);
    }
    read.gaps.sort_by_key(|gap| gap.first_offset);
    Ok(read)
}

#[cfg(test)]
mod tests;
