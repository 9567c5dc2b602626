//! How long each stream keeps its records, for the retention margin: a
//! Kinesis stream's own setting (`DescribeStreamSummary`), asked once per
//! stream and kept for the life of the execution environment; 24 hours for
//! every DynamoDB stream, which cannot be changed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// DynamoDB Streams keep records for 24 hours.
pub const DYNAMODB_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Streams remembered; past it, a stream is asked about again each time
/// rather than grow the map (a function reads few streams).
const MAX_STREAMS: usize = 64;

/// An answer is asked again after this long: an operator may change a
/// stream's retention, and a failed lookup (throttled, no permission yet)
/// should not stick for the life of the container.
const REFRESH: Duration = Duration::from_secs(3600);

/// The longest a lookup may take: the metric is not worth delaying delivery.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct RetentionCache {
    streams: Mutex<HashMap<String, (Option<Duration>, Instant)>>,
}

impl RetentionCache {
    /// The retention of the Kinesis stream `stream_arn`, from the cache or
    /// from `lookup` (bounded by [`LOOKUP_TIMEOUT`]); `None` when unknown.
    pub async fn kinesis<F>(&self, stream_arn: &str, lookup: impl FnOnce() -> F) -> Option<Duration>
    where
        F: Future<Output = Option<Duration>>,
    {
        if let Some((retention, at)) = self.lock().get(stream_arn) {
            if at.elapsed() < REFRESH {
                return *retention;
            }
        }
        let retention = tokio::time::timeout(LOOKUP_TIMEOUT, lookup())
            .await
            .ok()
            .flatten();
        let mut streams = self.lock();
        if streams.len() < MAX_STREAMS || streams.contains_key(stream_arn) {
            streams.insert(stream_arn.to_owned(), (retention, Instant::now()));
        }
        retention
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<Duration>, Instant)>> {
        // A poisoned lock only means another task panicked mid-insert; the
        // map is still sound.
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn each_stream_is_asked_once_within_the_refresh_and_the_map_is_bounded() {
        let cache = RetentionCache::default();
        let asked = AtomicU32::new(0);
        let lookup = |hours: u64| {
            let asked = &asked;
            move || {
                asked.fetch_add(1, Ordering::SeqCst);
                async move { Some(Duration::from_secs(hours * 3600)) }
            }
        };
        for _ in 0..3 {
            assert_eq!(
                cache.kinesis("arn-a", lookup(48)).await,
                Some(Duration::from_secs(48 * 3600))
            );
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        tokio::time::advance(REFRESH).await;
        cache.kinesis("arn-a", lookup(72)).await;
        assert_eq!(asked.load(Ordering::SeqCst), 2);

        for i in 0..(2 * MAX_STREAMS) {
            cache.kinesis(&format!("arn-{i}"), lookup(24)).await;
        }
        assert_eq!(cache.lock().len(), MAX_STREAMS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lookup_that_hangs_is_cut_off_and_counts_as_unknown() {
        let cache = RetentionCache::default();
        let hangs = std::future::pending::<Option<Duration>>;
        assert_eq!(cache.kinesis("arn-slow", hangs).await, None);
    }
}
