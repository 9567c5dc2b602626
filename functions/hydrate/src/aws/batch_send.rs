//! Sending in batches, and sending again only what failed.
//!
//! SQS's `SendMessageBatch`, Firehose's `PutRecordBatch` and Kinesis's
//! `PutRecords` each take a batch bounded by count and bytes and may accept
//! part of it. One loop serves them all: entries are cut into batches, each
//! batch is sent, and only the entries that failed with an error worth
//! retrying ([`ErrorClass`]) are sent again, after a backoff, while attempts
//! remain. A call or an entry that fails permanently (access denied, a
//! validation error) is never sent again. An API supplies only how a request
//! is built and its answer read: [`BatchApi`].

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::backoff::Backoff;
use crate::aws::error::{class_of_code, one_line, ErrorClass};

/// One batch API.
#[allow(async_fn_in_trait)] // used with concrete types only
pub trait BatchApi {
    type Entry;
    /// What the service gives back for an accepted entry (a message id, a
    /// shard and sequence number).
    type Receipt;
    /// The most entries, and bytes, one call may carry.
    const MAX_ENTRIES: usize;
    const MAX_BYTES: usize;

    /// What an entry counts against [`BatchApi::MAX_BYTES`].
    fn size(entry: &Self::Entry) -> usize;

    /// One call with `entries`: an answer for each, in the order given.
    async fn call(
        &self,
        entries: &[&Self::Entry],
    ) -> Result<Vec<EntryAnswer<Self::Receipt>>, CallFailure>;
}

/// What the service said of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryAnswer<R> {
    /// Taken, with what the service gave back for it.
    Accepted(R),
    Rejected {
        code: String,
        message: String,
    },
}

/// A call that failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub class: ErrorClass,
    /// The service's error code, when it answered.
    pub code: Option<String>,
    pub message: String,
}

impl CallFailure {
    /// A failed SDK call, classed as [`crate::aws::error::classify`] does.
    pub fn of<E, R>(error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let (class, message) = crate::aws::error::classify(error);
        let code = error
            .as_service_error()
            .and_then(|e| e.code())
            .map(str::to_owned);
        Self {
            class,
            code,
            message,
        }
    }
}

/// What sending did, entry by entry.
#[derive(Debug)]
pub struct Sent<R> {
    /// What each entry was accepted with; `None` for those that failed.
    pub accepted: Vec<Option<R>>,
    /// The entries that were not accepted, in entry order.
    pub failures: Vec<EntryFailure>,
    /// Calls made, retries included.
    pub calls: u32,
    /// How many calls carried each entry.
    pub attempts: Vec<u32>,
}

impl<R> Sent<R> {
    /// Nothing sent yet, of `entries` entries.
    pub fn none(entries: usize) -> Self {
        Self {
            accepted: (0..entries).map(|_| None).collect(),
            failures: Vec::new(),
            calls: 0,
            attempts: vec![0; entries],
        }
    }
}

/// An entry given up on, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    pub index: usize,
    pub class: ErrorClass,
    /// The last error's code (`CallFailed` when a whole call failed without
    /// one), and the error as one bounded line.
    pub code: String,
    pub error: String,
}

/// The last error an entry met, kept until it is accepted or given up on.
type LastError = (ErrorClass, String, String);

/// Sends every entry, batch by batch, in order.
pub async fn send_all<A: BatchApi>(
    api: &A,
    entries: &[A::Entry],
    backoff: Backoff,
) -> Sent<A::Receipt> {
    let mut sent = Sent::none(entries.len());
    for batch in batches(entries, A::MAX_ENTRIES, A::MAX_BYTES, A::size) {
        send_batch(api, entries, batch, backoff, &mut sent).await;
    }
    sent.failures.sort_by_key(|failure| failure.index);
    sent
}

async fn send_batch<A: BatchApi>(
    api: &A,
    entries: &[A::Entry],
    mut pending: Vec<usize>,
    backoff: Backoff,
    sent: &mut Sent<A::Receipt>,
) {
    let mut last_error: Vec<LastError> = Vec::new();
    for attempt in 0..backoff.attempts {
        if attempt > 0 {
            backoff.wait(attempt - 1).await;
        }
        let request: Vec<&A::Entry> = pending.iter().map(|&i| &entries[i]).collect();
        sent.calls += 1;
        for &i in &pending {
            sent.attempts[i] += 1;
        }
        let answers = match api.call(&request).await {
            Ok(answers) => answers,
            Err(failure) => {
                tracing::warn!(attempt, class = ?failure.class, error = %failure.message, "batch call failed");
                let permanent = failure.class == ErrorClass::Permanent;
                let code = failure.code.unwrap_or_else(|| "CallFailed".to_owned());
                last_error = vec![(failure.class, code, failure.message); pending.len()];
                if permanent {
                    break;
                }
                continue;
            }
        };
        let mut retry = Vec::new();
        last_error.clear();
        let mut answers = answers.into_iter();
        for &i in &pending {
            let (code, message) = match answers.next() {
                Some(EntryAnswer::Accepted(receipt)) => {
                    sent.accepted[i] = Some(receipt);
                    continue;
                }
                Some(EntryAnswer::Rejected { code, message }) => (code, message),
                None => (
                    "NoAnswer".to_owned(),
                    "the answer named no outcome for this entry".to_owned(),
                ),
            };
            let class = class_of_code(&code);
            let error = one_line(&format!("{code}: {message}"));
            if class == ErrorClass::Permanent {
                sent.failures.push(EntryFailure {
                    index: i,
                    class,
                    code,
                    error,
                });
            } else {
                retry.push(i);
                last_error.push((class, code, error));
            }
        }
        if !retry.is_empty() {
            tracing::warn!(attempt, failed = retry.len(), "batch entries failed");
        }
        pending = retry;
        if pending.is_empty() {
            return;
        }
    }
    for (index, (class, code, error)) in pending.into_iter().zip(last_error) {
        sent.failures.push(EntryFailure {
            index,
            class,
            code,
            error,
        });
    }
}

/// Consecutive entry indexes in batches of at most `max_entries` entries and
/// `max_bytes` bytes (an entry larger than `max_bytes` goes alone).
pub fn batches<T>(
    entries: &[T],
    max_entries: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0;
    for (index, entry) in entries.iter().enumerate() {
        let entry_size = size(entry);
        match batches.last_mut() {
            Some(batch) if batch.len() < max_entries && bytes + entry_size <= max_bytes => {
                bytes += entry_size;
                batch.push(index);
            }
            _ => {
                bytes = entry_size;
                batches.push(vec![index]);
            }
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;

    /// A batch API whose answers are scripted call by call; it records what
    /// each call carried.
    struct Scripted {
        answers: RefCell<Vec<Result<Vec<&'static str>, CallFailure>>>,
        carried: RefCell<Vec<Vec<u32>>>,
    }

    impl Scripted {
        /// Each call's answer: entry codes (`ok` for accepted), or a failure.
        fn new(mut answers: Vec<Result<Vec<&'static str>, CallFailure>>) -> Self {
            answers.reverse();
            Self {
                answers: RefCell::new(answers),
                carried: RefCell::default(),
            }
        }
    }

    impl BatchApi for Scripted {
        type Entry = u32;
        type Receipt = String;
        const MAX_ENTRIES: usize = 5;
        const MAX_BYTES: usize = 100;

        fn size(entry: &u32) -> usize {
            *entry as usize
        }

        async fn call(&self, entries: &[&u32]) -> Result<Vec<EntryAnswer<String>>, CallFailure> {
            self.carried
                .borrow_mut()
                .push(entries.iter().map(|e| **e).collect());
            let answer = self.answers.borrow_mut().pop().unwrap_or(Ok(Vec::new()));
            let codes = answer?;
            Ok(entries
                .iter()
                .enumerate()
                .map(|(i, entry)| match codes.get(i).copied().unwrap_or("ok") {
                    "ok" => EntryAnswer::Accepted(format!("id-{entry}")),
                    code => EntryAnswer::Rejected {
                        code: code.to_owned(),
                        message: "no".to_owned(),
                    },
                })
                .collect())
        }
    }

    fn quick() -> Backoff {
        Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(4),
            attempts: 4,
        }
    }

    fn run(api: &Scripted, entries: &[u32]) -> Sent<String> {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(send_all(api, entries, quick()))
    }

    const THROTTLED: &str = "ProvisionedThroughputExceededException";

    #[test]
    fn only_the_failed_entries_are_sent_again() {
        let api = Scripted::new(vec![Ok(vec!["ok", THROTTLED, "ok", "InternalError", "ok"])]);
        let sent = run(&api, &[1, 2, 3, 4, 5]);
        assert_eq!(*api.carried.borrow(), vec![vec![1, 2, 3, 4, 5], vec![2, 4]]);
        assert!(sent.failures.is_empty());
        assert_eq!(sent.attempts, vec![1, 2, 1, 2, 1]);
        assert_eq!(sent.accepted[1].as_deref(), Some("id-2"));
        assert_eq!(sent.calls, 2);
    }

    #[test]
    fn a_permanent_call_error_is_not_retried() {
        let denied = CallFailure {
            class: ErrorClass::Permanent,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: no".into(),
        };
        let api = Scripted::new(vec![Err(denied)]);
        let sent = run(&api, &[1, 2, 3]);
        assert_eq!(api.carried.borrow().len(), 1);
        assert_eq!(sent.failures.len(), 3);
        assert!(sent
            .failures
            .iter()
            .all(|f| f.class == ErrorClass::Permanent));
        assert!(sent.accepted.iter().all(Option::is_none));
    }

    #[test]
    fn throttled_and_transient_calls_are_retried_until_attempts_run_out() {
        let throttled = || CallFailure {
            class: ErrorClass::Throttled,
            code: None,
            message: "slow down".into(),
        };
        let api = Scripted::new(vec![Err(throttled()), Err(throttled()), Ok(vec![])]);
        let sent = run(&api, &[1, 2]);
        assert_eq!(sent.calls, 3);
        assert!(sent.failures.is_empty());

        let api = Scripted::new((0..10).map(|_| Err(throttled())).collect());
        let sent = run(&api, &[1, 2]);
        assert_eq!(sent.calls, quick().attempts);
        assert_eq!(sent.failures.len(), 2);
        assert_eq!(sent.failures[0].class, ErrorClass::Throttled);
    }

    #[test]
    fn an_entry_rejected_permanently_is_not_sent_again() {
        let api = Scripted::new(vec![Ok(vec!["InvalidMessageContents", THROTTLED, "ok"])]);
        let sent = run(&api, &[1, 2, 3]);
        assert_eq!(*api.carried.borrow(), vec![vec![1, 2, 3], vec![2]]);
        assert_eq!(sent.failures.len(), 1);
        assert_eq!(sent.failures[0].index, 0);
        assert_eq!(sent.failures[0].class, ErrorClass::Permanent);
        assert!(sent.failures[0].error.starts_with("InvalidMessageContents"));
    }

    #[test]
    fn batches_respect_both_bounds_and_keep_order() {
        let sizes = vec![4, 4, 4, 9, 1, 1, 1, 1, 20, 2];
        let batches = batches(&sizes, 3, 10, |s| *s);
        assert_eq!(
            batches,
            vec![
                vec![0, 1],
                vec![2],
                vec![3, 4],
                vec![5, 6, 7],
                vec![8],
                vec![9]
            ]
        );
    }

    #[test]
    fn every_entry_is_sent_in_batches_within_the_bounds() {
        let entries: Vec<u32> = (0..23).map(|i| 10 + i % 40).collect();
        let api = Scripted::new(Vec::new());
        let sent = run(&api, &entries);
        let carried = api.carried.borrow();
        assert_eq!(carried.concat(), entries);
        for call in carried.iter() {
            assert!(call.len() <= Scripted::MAX_ENTRIES);
            assert!(call.len() == 1 || call.iter().sum::<u32>() as usize <= Scripted::MAX_BYTES);
        }
        assert!(sent.accepted.iter().all(Option::is_some));
    }
}
