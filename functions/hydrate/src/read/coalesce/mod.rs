//! Failure storms: many failures of the same shards in one invocation cost
//! a handful of reads, and no two reads of a shard run at once.
//!
//! Before an invocation's failures are hydrated, they are grouped into runs
//! ([`plan`]). The first failure of a run to be hydrated reads the whole run
//! once, through the real shard, into memory; then every failure of the run
//! is read by the ordinary range reader against a [`RecordedShard`] that
//! answers from that memory and falls back to the real shard for anything
//! outside it. A coalesced failure's document is therefore the one reading
//! it alone gives, apart from `hydration`'s call counts and duration: the
//! calls counted are those really made, the run's own read counted in the
//! document of the failure that made it.
//!
//! Every read of a shard holds that shard's lock and waits its turn on the
//! shard's read budget ([`pacing`]).
//!
//! Memory: an invocation hydrates its failures run by run
//! ([`Storm::in_run_order`]), so a run's records are let go before the
//! next run is read, and the runs a process holds share one byte budget
//! ([`RunBounds::held_bytes`]): what the input claims or interleaves never
//! decides how much is held.

mod pacing;
mod plan;
mod recorded;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::cmp::Ordering as Order;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::time::Instant;

use crate::input::failure::{BatchInfo, OnFailureRecord};
use crate::input::trigger::{FailureInput, QueueMessage};
use crate::read::{read_range, RangeRead, ReadError, ReadLimits, ShardRange, StreamShard};
use pacing::{Pace, Paced};
pub use plan::RunBounds;
use plan::{FailureKey, RunPlan};
use recorded::{in_order, RecordedShard};

/// The default read budget: two `GetRecords` a second a shard, of the five
/// a shard allows, so the consumer keeps the larger share.
pub const DEFAULT_READS_PER_SHARD_PER_SECOND: u32 = 2;

/// A shard whose records a run can hold and hand out again.
pub trait Recordable: StreamShard<Record: Clone + Send + Sync + 'static> {}

impl<S: StreamShard<Record: Clone + Send + Sync + 'static>> Recordable for S {}

/// One shard's lock and read budget.
#[derive(Debug, Default)]
struct ShardSlot {
    lock: tokio::sync::Mutex<()>,
    pace: Pace,
}

/// A run's records once read: `None` when the run read failed, and its
/// failures are then read alone. Type-erased so one plan serves both kinds
/// of stream; the reader's record type is the only one ever stored.
type Recorded = Option<(Arc<dyn Any + Send + Sync>, HeldRun)>;

/// The runs whose records this process holds, and their bytes: one budget
/// ([`RunBounds::held_bytes`]) however many runs the invocations plan.
#[derive(Debug, Default)]
struct HeldRuns {
    bytes: AtomicUsize,
    runs: AtomicUsize,
    peak_runs: AtomicUsize,
}

impl HeldRuns {
    /// Takes up to `bounds.max_bytes` of what is left of the process's
    /// budget for one run read; `None` when too little is left.
    fn reserve(self: &Arc<Self>, bounds: &RunBounds) -> Option<HeldRun> {
        let mut now = self.bytes.load(Ordering::SeqCst);
        let granted = loop {
            let grant = bounds.held_bytes.saturating_sub(now).min(bounds.max_bytes);
            if grant < bounds.min_run_bytes.max(1) {
                return None;
            }
            match self
                .bytes
                .compare_exchange(now, now + grant, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break grant,
                Err(actual) => now = actual,
            }
        };
        let runs = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_runs.fetch_max(runs, Ordering::SeqCst);
        Some(HeldRun {
            held: self.clone(),
            bytes: granted,
        })
    }
}

/// One run's share of the budget, given back when its records are dropped.
struct HeldRun {
    held: Arc<HeldRuns>,
    bytes: usize,
}

impl HeldRun {
    /// Counts what the run really keeps: usually less than it was granted,
    /// and more only by a first record larger than the grant (always kept).
    fn settle(&mut self, bytes: usize) {
        if bytes < self.bytes {
            self.held
                .bytes
                .fetch_sub(self.bytes - bytes, Ordering::SeqCst);
        } else {
            self.held
                .bytes
                .fetch_add(bytes - self.bytes, Ordering::SeqCst);
        }
        self.bytes = bytes;
    }
}

impl Drop for HeldRun {
    fn drop(&mut self) {
        self.held.bytes.fetch_sub(self.bytes, Ordering::SeqCst);
        self.held.runs.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Run {
    plan: RunPlan,
    recorded: tokio::sync::OnceCell<Recorded>,
}

/// What lives across invocations: shard slots, and the runs of the
/// invocations under way.
pub struct Storm {
    reads_per_second: u32,
    bounds: RunBounds,
    shards: Mutex<HashMap<(String, String), Weak<ShardSlot>>>,
    runs: Mutex<HashMap<FailureKey, Arc<Run>>>,
    held: Arc<HeldRuns>,
}

/// The runs one invocation planned; dropped when the invocation ends, which
/// forgets them.
pub struct Planned<'a> {
    storm: &'a Storm,
    keys: Vec<FailureKey>,
}

impl Drop for Planned<'_> {
    fn drop(&mut self) {
        let mut runs = lock(&self.storm.runs);
        for key in &self.keys {
            runs.remove(key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned map is still consistent: entries are inserted and removed whole.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn key_of(stream_arn: &str, range: &ShardRange) -> FailureKey {
    FailureKey {
        stream_arn: stream_arn.to_owned(),
        shard_id: range.shard_id.clone(),
        start: range.start.clone(),
        end: range.end.clone(),
    }
}

impl Storm {
    pub fn new(reads_per_second: u32, bounds: RunBounds) -> Self {
        Self {
            reads_per_second,
            bounds,
            shards: Mutex::new(HashMap::new()),
            runs: Mutex::new(HashMap::new()),
            held: Arc::default(),
        }
    }

    /// The most runs whose records this process has held at once.
    #[cfg(test)]
    pub fn peak_held_runs(&self) -> usize {
        self.held.peak_runs.load(Ordering::SeqCst)
    }

    /// The record bytes the runs held now keep.
    #[cfg(test)]
    pub fn held_bytes(&self) -> usize {
        self.held.bytes.load(Ordering::SeqCst)
    }

    /// Plans the runs of one invocation's failures. A failure another
    /// invocation under way already planned keeps that plan.
    pub fn plan<'r>(&self, records: impl IntoIterator<Item = &'r OnFailureRecord>) -> Planned<'_> {
        let failures: Vec<(FailureKey, u32)> = records
            .into_iter()
            .map(|record| {
                let batch = &record.batch;
                let key = FailureKey {
                    stream_arn: batch.stream_arn.as_str().to_owned(),
                    shard_id: batch.shard_id.clone(),
                    start: batch.start.clone(),
                    end: batch.end.clone(),
                };
                (key, batch.batch_size)
            })
            .collect();
        self.plan_failures(&failures)
    }

    fn plan_failures(&self, failures: &[(FailureKey, u32)]) -> Planned<'_> {
        let mut keys = Vec::new();
        let mut runs = lock(&self.runs);
        for plan in plan::runs(failures, self.bounds) {
            let run = Arc::new(Run {
                recorded: tokio::sync::OnceCell::new(),
                plan,
            });
            for key in &run.plan.failures {
                if !runs.contains_key(key) {
                    runs.insert(key.clone(), run.clone());
                    keys.push(key.clone());
                }
            }
        }
        Planned { storm: self, keys }
    }

    /// The shard's slot, made when no read of it is under way. The map
    /// holds only shards being read: a slot lives while a read holds it.
    fn slot(&self, stream_arn: &str, shard_id: &str) -> Arc<ShardSlot> {
        let mut shards = lock(&self.shards);
        let key = (stream_arn.to_owned(), shard_id.to_owned());
        if let Some(slot) = shards.get(&key).and_then(Weak::upgrade) {
            return slot;
        }
        shards.retain(|_, slot| slot.strong_count() > 0);
        let slot = Arc::new(ShardSlot::default());
        shards.insert(key, Arc::downgrade(&slot));
        slot
    }

    /// Reads `range` of `shard` as [`read_range`] does, holding the shard's
    /// lock, within its read budget, and from its run's records when it is
    /// part of a run.
    pub async fn read<S: Recordable>(
        &self,
        shard: &S,
        stream_arn: &str,
        range: &ShardRange,
        limits: ReadLimits,
        deadline: Option<Instant>,
    ) -> Result<RangeRead<S::Record>, ReadError> {
        let slot = self.slot(stream_arn, &range.shard_id);
        let _held = slot.lock.lock().await;
        let paced = Paced {
            inner: shard,
            pace: &slot.pace,
            per_second: self.reads_per_second,
        };
        // Taken out, not looked up: once every failure of a run has been
        // served, nothing holds the run's records any more.
        let run = lock(&self.runs).remove(&key_of(stream_arn, range));
        let Some(run) = run else {
            return read_range(&paced, range, limits, deadline).await;
        };
        let mut run_read = None;
        let recorded = run
            .recorded
            .get_or_init(|| async {
                // No budget left: the run's failures are read alone.
                let mut held = self.held.reserve(&self.bounds)?;
                let limits = ReadLimits {
                    max_bytes: held.bytes,
                    ..limits
                };
                let read = read_range(&paced, &run.plan.range, limits, deadline).await;
                let read = read.ok()?;
                let calls = (
                    read.shard_iterator_calls,
                    read.get_records_calls,
                    read.throttled_calls,
                );
                run_read = Some(calls);
                let records: Vec<S::Record> = read.records;
                held.settle(records.iter().map(S::size_of).sum());
                in_order::<S>(&records).then(|| {
                    let records = Arc::new(records) as Arc<dyn Any + Send + Sync>;
                    (records, held)
                })
            })
            .await;
        let (iterator_calls, records_calls, throttled) = run_read.unwrap_or_default();
        let records = recorded
            .as_ref()
            .and_then(|(r, _)| r.downcast_ref::<Vec<S::Record>>());
        let mut read = match records {
            Some(records) => {
                let served = RecordedShard::new(&paced, records);
                let mut read = read_range(&served, range, limits, deadline).await?;
                (read.shard_iterator_calls, read.get_records_calls) = served.real_calls();
                read
            }
            None => read_range(&paced, range, limits, deadline).await?,
        };
        read.shard_iterator_calls += iterator_calls;
        read.get_records_calls += records_calls;
        read.throttled_calls += throttled;
        Ok(read)
    }
}

impl Storm {
    /// Reads a failure's batch as [`Storm::read`] does.
    pub async fn read_batch<S: Recordable>(
        &self,
        shard: &S,
        batch: &BatchInfo,
        limits: ReadLimits,
        deadline: Option<Instant>,
    ) -> Result<RangeRead<S::Record>, ReadError> {
        let range = ShardRange {
            shard_id: batch.shard_id.clone(),
            start: batch.start.clone(),
            end: batch.end.clone(),
            expected: batch.batch_size,
        };
        self.read(shard, batch.stream_arn.as_str(), &range, limits, deadline)
            .await
    }

    /// Puts an invocation's items in the order to hydrate them: each run's
    /// failures one after another (by stream, shard and start), so that a
    /// run's records are held only while its own failures are served, and
    /// the runs held at once are bounded by the failures hydrated at once,
    /// not by how many shards the input interleaves. Items without a batch
    /// (an S3 object, a malformed message) come last; each keeps its index,
    /// to give the answers back in the input's order.
    pub fn in_run_order<T>(
        items: Vec<T>,
        batch: impl Fn(&T) -> Option<&BatchInfo>,
    ) -> Vec<(usize, T)> {
        let mut indexed: Vec<(usize, T)> = items.into_iter().enumerate().collect();
        indexed.sort_by(|(_, a), (_, b)| match (batch(a), batch(b)) {
            (Some(a), Some(b)) => (a.stream_arn.as_str(), &a.shard_id, &a.start).cmp(&(
                b.stream_arn.as_str(),
                &b.shard_id,
                &b.start,
            )),
            (Some(_), None) => Order::Less,
            (None, Some(_)) => Order::Greater,
            (None, None) => Order::Equal,
        });
        indexed
    }

    /// Plans the runs of an invocation's failure records (S3 objects, whose
    /// records are known only once fetched, are read alone; Kafka failures
    /// are read from their clusters).
    pub fn plan_inputs(&self, inputs: &[FailureInput]) -> Planned<'_> {
        self.plan(inputs.iter().filter_map(FailureInput::stream_record))
    }

    /// Plans the runs of an SQS event's failure records.
    pub fn plan_messages(&self, messages: &[QueueMessage]) -> Planned<'_> {
        let inputs = messages.iter().filter_map(|m| m.content.as_ref().ok());
        self.plan(inputs.filter_map(FailureInput::stream_record))
    }
}
