//! A read budget per shard: at most so many `GetRecords` calls in any one
//! second, in this process, leaving the rest of the shard's five a second to
//! the consumer that is trying to recover.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::read::{Page, StartingPosition, StreamError, StreamShard};

/// When a shard's last calls went out.
#[derive(Debug, Default)]
pub struct Pace {
    /// The start of each of the last `per_second` calls, oldest first.
    recent: Mutex<VecDeque<Instant>>,
}

impl Pace {
    /// Reserves the next call's turn and waits for it: a call goes out once
    /// the call `per_second` calls before it is a second old.
    pub async fn turn(&self, per_second: u32) {
        let per_second = usize::try_from(per_second.max(1)).unwrap_or(usize::MAX);
        let at = {
            // A poisoned lock only means another call panicked mid-update;
            // the timestamps are still usable.
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let at = match recent.len() >= per_second {
                true => recent
                    .pop_front()
                    .map_or(now, |oldest| (oldest + Duration::from_secs(1)).max(now)),
                false => now,
            };
            recent.push_back(at);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// A shard whose `GetRecords` calls wait their turn.
pub struct Paced<'a, S> {
    pub inner: &'a S,
    pub pace: &'a Pace,
    pub per_second: u32,
}

impl<S: StreamShard> StreamShard for Paced<'_, S> {
    type Record = S::Record;
    const MAX_PAGE: u32 = S::MAX_PAGE;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        self.inner.shard_iterator(from).await
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<S::Record>, StreamError> {
        self.pace.turn(self.per_second).await;
        self.inner.records(iterator, limit).await
    }

    fn sequence_number(record: &S::Record) -> &str {
        S::sequence_number(record)
    }

    fn size_of(record: &S::Record) -> usize {
        S::size_of(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_budget_goes_out_in_any_second() {
        let pace = Pace::default();
        let started = Instant::now();
        let mut times = Vec::new();
        for _ in 0..7 {
            pace.turn(2).await;
            times.push(started.elapsed());
        }
        // Two at once, then two a second.
        let millis: Vec<u128> = times.iter().map(|t| t.as_millis()).collect();
        assert_eq!(millis, vec![0, 0, 1000, 1000, 2000, 2000, 3000]);
        for window in times.windows(3) {
            assert!(window[2] - window[0] >= Duration::from_secs(1));
        }
    }
}
