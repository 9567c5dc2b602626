//! Calls to the stream service, each bounded by the deadline, and what
//! ends a read: throttled and failed calls are retried on the backoff
//! schedule while time allows; anything else stops the read with a reason.

use tokio::time::Instant;

use super::{ReadError, StartingPosition, StreamError, StreamShard};
use crate::aws::backoff::Backoff;

/// How the paging loop stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stop {
    /// A record at or past `end` was seen.
    PassedEnd,
    ShardEnded,
    AtTip,
    ReadLimit,
    Deadline,
    /// A record of the range lies past `batchSize` records or the byte budget.
    OverBudget,
    /// The stream or shard does not exist (any more).
    Gone(String),
}

/// Why a call did not return what was asked.
pub(super) enum Interrupt {
    Stop(Stop),
    Failed(ReadError),
}

impl From<ReadError> for Interrupt {
    fn from(error: ReadError) -> Self {
        Interrupt::Failed(error)
    }
}

/// Calls to the service, each bounded by the deadline, with throttled and
/// failed calls retried on the backoff schedule while time allows.
pub(super) struct Caller {
    pub(super) retry: Backoff,
    pub(super) deadline: Option<Instant>,
    /// Consecutive failures of the call being retried.
    pub(super) failures: u32,
    /// Calls the service throttled in the whole read, for the metrics.
    pub(super) throttled: u32,
}

impl Caller {
    /// Runs `call`, or says why not: out of time, or an error to act on.
    pub(super) async fn run<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StreamError>>,
    ) -> Result<Result<T, StreamError>, Interrupt> {
        match self.deadline {
            None => Ok(call.await),
            Some(deadline) if Instant::now() >= deadline => Err(Interrupt::Stop(Stop::Deadline)),
            Some(deadline) => tokio::time::timeout_at(deadline, call)
                .await
                .map_err(|_| Interrupt::Stop(Stop::Deadline)),
        }
    }

    /// After a failed call: waits and returns to retry it, or gives up.
    pub(super) async fn after_failure(&mut self, error: StreamError) -> Result<(), Interrupt> {
        match error {
            StreamError::Throttled(_) => self.throttled += 1,
            StreamError::Service(_) => {}
            StreamError::NotFound(message) => return Err(Interrupt::Stop(Stop::Gone(message))),
            other => return Err(Interrupt::Failed(other.into())),
        }
        if self.failures + 1 >= self.retry.attempts {
            return Err(Interrupt::Failed(error.into()));
        }
        let wait = self.retry.delay(self.failures);
        self.failures += 1;
        if self.deadline.is_some_and(|d| Instant::now() + wait >= d) {
            return Err(Interrupt::Stop(Stop::Deadline));
        }
        tracing::warn!(retry = self.failures, wait_ms = wait.as_millis() as u64, error = %error, "retrying a stream read");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    pub(super) fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// A new shard iterator, retried like any call.
    pub(super) async fn iterator<S: StreamShard>(
        &mut self,
        source: &S,
        from: StartingPosition<'_>,
    ) -> Result<Result<String, StreamError>, Interrupt> {
        loop {
            match self.run(source.shard_iterator(from)).await? {
                Ok(iterator) => {
                    self.succeeded();
                    return Ok(Ok(iterator));
                }
                Err(StreamError::StartRejected(message)) => {
                    return Ok(Err(StreamError::StartRejected(message)))
                }
                Err(error) => self.after_failure(error).await?,
            }
        }
    }
}
