//! Exponential backoff with full jitter: the wait before retry `n` is drawn
//! uniformly from zero to `min(cap, base * 2^n)`, so clients that failed
//! together do not retry together.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// Calls in all, the first included.
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
            attempts: 6,
        }
    }
}

impl Backoff {
    /// The wait before retry `retry` (0 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.min(31)))
            .min(self.cap);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }

    pub async fn wait(&self, retry: u32) {
        tokio::time::sleep(self.delay(retry)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_growing_ceiling_and_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(300),
            attempts: 10,
        };
        for retry in 0..12 {
            let ceiling = Duration::from_millis((10u64 << retry).min(300));
            let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(retry)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Full jitter: the draws spread over the range rather than sit at its top.
            assert!(delays.iter().any(|d| *d < ceiling / 2), "retry {retry}");
        }
    }
}
