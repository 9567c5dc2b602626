//! Sending so that each partition key's records are written in their order,
//! whatever part of a call the service rejects.
//!
//! `PutRecords` may write some entries of a call and reject others. An entry
//! resent after the rest of its call has landed would follow later records
//! of its own partition key, and a consumer that relies on per-key order (an
//! order placed, then shipped) would see them the wrong way round. So a call
//! carries at most one record of a key, the first of that key not yet
//! written, and the next record of the key goes only once the service has
//! written it. The calls of a round are cut by [`hydrate::send_all`] as
//! usual (500 records, 5 MiB), each sent once; what was rejected is the
//! first of its key again in the next round, after a backoff. A record given
//! up on (permanently rejected, or out of attempts) holds back every later
//! record of its key: they are reported as not written, never sent.
//!
//! The cost: a round per record of the busiest key at least, so calls grow
//! with how many records share a key, where unordered sending needs calls
//! for every 500 records only.

use std::collections::{HashMap, VecDeque};

use hydrate::{Backoff, BatchApi, CallFailure, EntryAnswer, EntryFailure, ErrorClass, Sent};

/// The code a held-back record is reported with.
pub const HELD_BACK: &str = "HeldBack";

/// `api` over borrowed entries, so a round can send any subset of them
/// without copying their data.
struct Borrowed<'a, A>(&'a A);

impl<'a, A: BatchApi> BatchApi for Borrowed<'a, A> {
    type Entry = &'a A::Entry;
    type Receipt = A::Receipt;
    const MAX_ENTRIES: usize = A::MAX_ENTRIES;
    const MAX_BYTES: usize = A::MAX_BYTES;

    fn size(entry: &Self::Entry) -> usize {
        A::size(*entry)
    }

    async fn call(
        &self,
        entries: &[&Self::Entry],
    ) -> Result<Vec<EntryAnswer<Self::Receipt>>, CallFailure> {
        let entries: Vec<&A::Entry> = entries.iter().map(|e| **e).collect();
        self.0.call(&entries).await
    }
}

/// Sends every entry, never one while an earlier entry with the same
/// `key` is unwritten. `backoff.attempts` bounds the calls that carry one
/// entry.
pub async fn send_in_key_order<A: BatchApi>(
    api: &A,
    entries: &[A::Entry],
    key: impl Fn(&A::Entry) -> &str,
    backoff: Backoff,
) -> Sent<A::Receipt> {
    let mut sent = Sent::none(entries.len());
    let mut queues: HashMap<&str, VecDeque<usize>> = HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        queues.entry(key(entry)).or_default().push_back(index);
    }
    let once = Backoff {
        attempts: 1,
        ..backoff
    };
    loop {
        let mut heads: Vec<usize> = queues.values().filter_map(|q| q.front().copied()).collect();
        if heads.is_empty() {
            break;
        }
        heads.sort_unstable();
        let round: Vec<&A::Entry> = heads.iter().map(|&i| &entries[i]).collect();
        let answered = hydrate::send_all(&Borrowed(api), &round, once).await;
        sent.calls += answered.calls;
        for (&index, accepted) in heads.iter().zip(answered.accepted) {
            sent.attempts[index] += 1;
            if let Some(receipt) = accepted {
                sent.accepted[index] = Some(receipt);
                pop(&mut queues, key(&entries[index]));
            }
        }
        // The fewest attempts among the records to resend sets the wait, as
        // a batch's first retry waits least.
        let mut fewest_attempts = None;
        for failure in answered.failures {
            let index = heads[failure.index];
            let out_of_attempts = sent.attempts[index] >= backoff.attempts;
            if failure.class == ErrorClass::Permanent || out_of_attempts {
                let held = queues.remove(key(&entries[index])).unwrap_or_default();
                give_up(&mut sent, index, failure, held);
            } else {
                let attempts = sent.attempts[index];
                fewest_attempts = Some(fewest_attempts.map_or(attempts, |f: u32| f.min(attempts)));
            }
        }
        if let Some(attempts) = fewest_attempts {
            backoff.wait(attempts.saturating_sub(1)).await;
        }
    }
    sent.failures.sort_by_key(|failure| failure.index);
    sent
}

fn pop(queues: &mut HashMap<&str, VecDeque<usize>>, key: &str) {
    if let Some(queue) = queues.get_mut(key) {
        queue.pop_front();
        if queue.is_empty() {
            queues.remove(key);
        }
    }
}

/// Records `index` as given up on with `failure`, and the rest of its key's
/// queue (`held`, `index` first) as held back behind it.
fn give_up<R>(sent: &mut Sent<R>, index: usize, failure: EntryFailure, held: VecDeque<usize>) {
    sent.failures.push(EntryFailure { index, ..failure });
    for later in held.into_iter().filter(|&i| i != index) {
        sent.failures.push(EntryFailure {
            index: later,
            class: ErrorClass::Permanent,
            code: HELD_BACK.to_owned(),
            error: format!(
                "{HELD_BACK}: not sent, an earlier record with its partition key was not written"
            ),
        });
    }
}
