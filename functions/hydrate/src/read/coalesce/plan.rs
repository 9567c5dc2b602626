//! The failures of one invocation grouped into runs: those of one shard,
//! sorted by start, merged while the run stays within its bounds.
//!
//! Whether two ranges are contiguous cannot be told from their sequence
//! numbers (they are not dense), so any two failures of a shard may share a
//! run; what lies between them is bounded by the run's record budget instead
//! (see [`RunBounds`]): a wide gap exhausts the budget, and the failures past
//! it are then read on their own.

use crate::input::sequence::SequenceNumber;
use crate::read::ShardRange;

/// What one run may read, whatever its failures claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunBounds {
    /// Records the run read keeps at most (the sum of its failures' batch
    /// sizes and the gap allowance, capped here).
    pub max_records: u32,
    /// Records allowed for what lies between failures of a run.
    pub gap_records: u32,
    /// Record bytes one run read keeps at most.
    pub max_bytes: usize,
    /// Record bytes all the runs a process holds keep at most: a run that
    /// finds less than `min_run_bytes` of it left is not read as a run, and
    /// its failures are read alone.
    pub held_bytes: usize,
    /// The least of that budget worth reading a run into.
    pub min_run_bytes: usize,
    /// Failures one run serves at most.
    pub max_failures: usize,
}

impl Default for RunBounds {
    fn default() -> Self {
        Self {
            // One Kinesis page.
            max_records: 10_000,
            gap_records: 100,
            max_bytes: 8 * 1024 * 1024,
            held_bytes: 32 * 1024 * 1024,
            min_run_bytes: 1024 * 1024,
            max_failures: 1_000,
        }
    }
}

/// One failure of the invocation: its stream and range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FailureKey {
    pub stream_arn: String,
    pub shard_id: String,
    pub start: SequenceNumber,
    pub end: SequenceNumber,
}

/// A run: the range read once, and the failures it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    pub stream_arn: String,
    pub range: ShardRange,
    pub failures: Vec<FailureKey>,
}

/// Groups `failures` (with their batch sizes) into runs of at least two
/// failures; a failure alone in its run is left out, to be read on its own.
pub fn runs(failures: &[(FailureKey, u32)], bounds: RunBounds) -> Vec<RunPlan> {
    let mut sorted: Vec<&(FailureKey, u32)> = failures.iter().collect();
    sorted.sort_by(|(a, _), (b, _)| {
        (&a.stream_arn, &a.shard_id, &a.start, &a.end).cmp(&(
            &b.stream_arn,
            &b.shard_id,
            &b.start,
            &b.end,
        ))
    });
    sorted.dedup_by(|(a, _), (b, _)| a == b);
    let mut plans: Vec<RunPlan> = Vec::new();
    let mut current: Option<RunPlan> = None;
    for (key, batch_size) in sorted {
        let joins = current.as_ref().is_some_and(|run| {
            run.stream_arn == key.stream_arn
                && run.range.shard_id == key.shard_id
                && run.failures.len() < bounds.max_failures
                && run
                    .range
                    .expected
                    .saturating_add(*batch_size)
                    .saturating_add(bounds.gap_records)
                    <= bounds.max_records
        });
        match current.as_mut() {
            Some(run) if joins => {
                run.range.expected += batch_size + bounds.gap_records;
                if key.end > run.range.end {
                    run.range.end = key.end.clone();
                }
                run.failures.push(key.clone());
            }
            _ => {
                plans.extend(current.take());
                current = Some(RunPlan {
                    stream_arn: key.stream_arn.clone(),
                    range: ShardRange {
                        shard_id: key.shard_id.clone(),
                        start: key.start.clone(),
                        end: key.end.clone(),
                        expected: (*batch_size).min(bounds.max_records),
                    },
                    failures: vec![key.clone()],
                });
            }
        }
    }
    plans.extend(current);
    plans.retain(|run| run.failures.len() > 1);
    plans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(shard: &str, start: &str, end: &str) -> FailureKey {
        FailureKey {
            stream_arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/orders".into(),
            shard_id: shard.into(),
            start: SequenceNumber::parse(start).unwrap(),
            end: SequenceNumber::parse(end).unwrap(),
        }
    }

    #[test]
    fn failures_of_one_shard_merge_across_overlaps_and_gaps_and_shards_stay_apart() {
        let failures = vec![
            (key("shardId-1", "300", "390"), 10),
            (key("shardId-1", "100", "190"), 10),
            (key("shardId-1", "150", "250"), 10),
            (key("shardId-2", "100", "190"), 10),
            (key("shardId-1", "100", "190"), 10),
        ];
        let plans = runs(&failures, RunBounds::default());
        assert_eq!(plans.len(), 1, "shard 2's lone failure is read alone");
        let run = &plans[0];
        assert_eq!(run.range.start.as_str(), "100");
        assert_eq!(run.range.end.as_str(), "390");
        assert_eq!(run.failures.len(), 3, "the duplicate failure counts once");
        assert_eq!(run.range.expected, 10 + 2 * 110);
    }

    /// `count` consecutive failures of one shard, each claiming `batch_size`.
    fn consecutive(count: u32, batch_size: u32) -> Vec<(FailureKey, u32)> {
        (0..count)
            .map(|i| {
                let (start, end) = (1000 + i * 10, 1009 + i * 10);
                (
                    key("shardId-1", &start.to_string(), &end.to_string()),
                    batch_size,
                )
            })
            .collect()
    }

    #[test]
    fn a_run_stops_at_its_record_budget_whatever_the_failures_claim() {
        let plans = runs(&consecutive(50, 10_000), RunBounds::default());
        assert!(plans.is_empty(), "no two such batches fit one run");
        let small = consecutive(200, 100);
        let plans = runs(&small, RunBounds::default());
        assert!(plans.len() > 1);
        assert!(plans.iter().all(|p| p.range.expected <= 10_000));
        assert_eq!(plans.iter().map(|p| p.failures.len()).sum::<usize>(), 200);
    }
}
