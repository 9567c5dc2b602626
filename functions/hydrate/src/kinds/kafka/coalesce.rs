//! A storm of Kafka failures served with few fetches: the ranges every
//! failure names in one partition are merged where they overlap or touch,
//! each merged span is read once, and each failure gets the slice of it that
//! its own range covers, records and gaps alike.
//!
//! The spans share one budget, the sum of the failures' own, so the storm
//! holds what the failures' separate reads would have held, and no more.

use std::collections::BTreeMap;

use super::batch::{KafkaFailure, PartitionRange};
use super::read::{
    read_range, KafkaLimits, KafkaPartition, PartitionError, PartitionRead, ReadBudget,
};

/// One merged span of a partition, and how many failure ranges it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub range: PartitionRange,
    pub serves: u32,
}

/// The spans to read for `failures`: per topic-partition, their ranges
/// merged where they overlap or touch, in offset order.
pub fn spans(failures: &[&KafkaFailure]) -> Vec<Span> {
    let mut by_partition: BTreeMap<(&str, i32), Vec<(i64, i64)>> = BTreeMap::new();
    for range in failures.iter().flat_map(|f| &f.partitions) {
        by_partition
            .entry((&range.topic, range.partition))
            .or_default()
            .push((range.first, range.last));
    }
    let mut spans = Vec::new();
    for ((topic, partition), mut ranges) in by_partition {
        ranges.sort_unstable();
        let mut current: Option<Span> = None;
        for (first, last) in ranges {
            match current.as_mut() {
                Some(span) if first <= span.range.last.saturating_add(1) => {
                    span.range.last = span.range.last.max(last);
                    span.serves += 1;
                }
                _ => {
                    spans.extend(current.take());
                    current = Some(Span {
                        range: PartitionRange {
                            topic: topic.to_owned(),
                            partition,
                            first,
                            last,
                        },
                        serves: 1,
                    });
                }
            }
        }
        spans.extend(current);
    }
    spans
}

/// Reads each span once through `open` (a partition of the cluster, or
/// `None` when it is gone), and gives every failure its partitions' reads,
/// in its own order. A span's fetches are counted on the first slice cut
/// from it, so that the sum over failures is what was fetched.
pub async fn read_spans<P, F, Fut>(
    failures: &[&KafkaFailure],
    limits: &KafkaLimits,
    mut open: F,
) -> Result<Vec<Vec<PartitionRead>>, PartitionError>
where
    P: KafkaPartition,
    // A plain closure that returns a future, not an async closure: the
    // invocation's future must be `Send` for every lifetime, which the
    // compiler cannot yet prove through an async closure's borrows.
    F: FnMut(PartitionRange) -> Fut,
    Fut: std::future::Future<Output = Result<P, PartitionError>>,
{
    let budget = &mut ReadBudget::of(limits, failures.len());
    let mut read_spans = Vec::new();
    for span in spans(failures) {
        let partition = open(span.range.clone()).await?;
        let read = read_range(&partition, &span.range, limits, budget).await?;
        read_spans.push((span.range, read));
    }
    let mut counted = vec![false; read_spans.len()];
    Ok(failures
        .iter()
        .map(|failure| {
            failure
                .partitions
                .iter()
                .map(|range| {
                    let index = read_spans.iter().position(|(span, _)| {
                        span.topic == range.topic
                            && span.partition == range.partition
                            && span.first <= range.first
                            && range.last <= span.last
                    });
                    // Every range lies inside the span merged from it.
                    let Some(index) = index else {
                        return PartitionRead::default();
                    };
                    let fetches = if counted[index] {
                        0
                    } else {
                        counted[index] = true;
                        read_spans[index].1.fetches
                    };
                    slice(&read_spans[index].1, range, fetches)
                })
                .collect()
        })
        .collect())
}

/// What of `span` falls inside `range`.
fn slice(span: &PartitionRead, range: &PartitionRange, fetches: u32) -> PartitionRead {
    let inside = |offset: i64| (range.first..=range.last).contains(&offset);
    PartitionRead {
        records: span
            .records
            .iter()
            .filter(|r| inside(r.offset))
            .cloned()
            .collect(),
        gaps: span
            .gaps
            .iter()
            .filter(|g| g.first_offset <= range.last && range.first <= g.last_offset)
            .map(|g| {
                let mut gap = g.clone();
                gap.first_offset = gap.first_offset.max(range.first);
                gap.last_offset = gap.last_offset.min(range.last);
                gap
            })
            .collect(),
        fetches,
    }
}

#[cfg(test)]
mod tests;
