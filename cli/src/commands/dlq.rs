//! `dlq list` and `dlq drain`: the dead-letter queue read to its end
//! ([`crate::sources::queue`]), failures put back together, saved, and
//! deleted only once saved.
//!
//! File names come from the failure (stream, shard, first sequence number),
//! the part's group id, or the message id: only `[A-Za-z0-9._-]`, at most
//! [`MAX_FILE_NAME`](crate::output::file_names::MAX_FILE_NAME) bytes, and a short hash of the full name when it had to
//! be cut or changed, so two long names never share a file. A file that
//! cannot be written is reported with its failure, which stays in the queue;
//! the drain goes on with the rest and ends with exit status 2.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde_json::Value;

use crate::args::{DrainArgs, Format, ListArgs};
use crate::output::drain_report::{report_of, Report};
use crate::output::file_names::Names;
use crate::output::records::dlq_report;
use crate::output::report::FailureSummary;
use crate::sources::assemble::{assemble, Assembled, Message};
use crate::sources::bucket::{self, Location};
use crate::sources::document::is_kafka;
use crate::sources::queue::{
    delete, in_stream_order, look, receive_all, release, resolve, DlqClients,
};
use crate::Outcome;

/// Shows what the queue holds and leaves it as it was.
pub async fn list(
    clients: &DlqClients,
    args: &ListArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let (count, mut assembled) = look(clients, &args.queue, format).await?;
    assembled
        .failures
        .retain(|f| args.filter.matches(&f.document));
    let report = report_of(count, &assembled, SystemTime::now());
    dlq_report(&report, &assembled, format, args.records)?;
    Ok(Outcome::Done)
}

/// Saves every failure under `args.to`, then deletes what was saved if asked.
pub async fn drain(
    clients: &DlqClients,
    args: &DrainArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let sqs = &clients.sqs;
    let queue = resolve(sqs, &args.queue).await?;
    if !args.dry_run {
        std::fs::create_dir_all(&args.to)
            .with_context(|| format!("cannot create {}", args.to.display()))?;
    }
    let bucket = Location::parse(&queue.queue_url);
    let (messages, offloaded) = match &bucket {
        Some(location) => {
            let max = queue.receive.max_messages;
            let objects = bucket::receive_all(&clients.sdk, &clients.objects, location, max);
            (objects.await?, Default::default())
        }
        None => receive_all(clients, &queue, format).await?,
    };
    let count = messages.len();
    let mut assembled = match &bucket {
        Some(_) => bucket::assemble(messages),
        None => assemble(messages),
    };
    in_stream_order(&mut assembled);
    // Failures the filters pass over are neither saved nor deleted.
    let (taken, passed_over): (Vec<_>, Vec<_>) = std::mem::take(&mut assembled.failures)
        .into_iter()
        .partition(|f| args.filter.matches(&f.document));
    assembled.failures = taken;
    let mut report = report_of(count, &assembled, SystemTime::now());

    // Everything is written before anything is deleted, and only what was
    // written is deleted: a failure whose files could not be written is
    // reported and stays in the queue, and the drain goes on.
    if !args.dry_run {
        save_all(&args.to, &assembled, &mut report);
    }

    // Only whole failures that were saved are deleted: the missing parts of
    // an incomplete one may still be in flight, a body that is not a
    // document is for a person to look at, and an unsaved failure would be lost.
    let (saved, unsaved): (Vec<_>, Vec<_>) = assembled
        .failures
        .iter()
        .zip(&report.failures)
        .partition(|(_, row)| row.error.is_none());
    let saved: Vec<Message> = saved
        .into_iter()
        .flat_map(|(f, _)| f.messages.iter().cloned())
        .collect();
    let mut keep: Vec<Message> = assembled
        .incomplete
        .iter()
        .flat_map(|i| i.parts.values().flatten().cloned())
        .chain(assembled.unrecognized.iter().cloned())
        .chain(passed_over.iter().flat_map(|f| f.messages.iter().cloned()))
        .chain(
            unsaved
                .into_iter()
                .flat_map(|(f, _)| f.messages.iter().cloned()),
        )
        .collect();
    if args.delete && !args.dry_run {
        let failed = match &bucket {
            Some(location) => bucket::delete(&clients.objects, &location.bucket, &saved).await,
            None => delete(sqs, &queue.queue_url, &saved).await,
        };
        for (failure, row) in assembled.failures.iter().zip(&mut report.failures) {
            row.deleted = row.error.is_none()
                && failure
                    .messages
                    .iter()
                    .all(|m| !failed.contains(&m.message_id));
        }
        if args.delete_offloaded {
            let deleted = saved.iter().filter(|m| !failed.contains(&m.message_id));
            let pointers = deleted.filter_map(|m| offloaded.get(&m.message_id));
            report.objects_not_deleted =
                crate::sources::offloaded::delete(&clients.objects, pointers).await;
        }
        report.not_deleted = failed.into_iter().collect();
        report.not_deleted.sort();
    } else {
        keep.extend(saved);
    }
    if bucket.is_none() {
        release(sqs, &queue.queue_url, &keep).await;
    }
    if args.dry_run {
        eprintln!("dry run: no file written, no message deleted, every message visible again");
    }

    dlq_report(&report, &assembled, format, args.records)?;
    let done = report.failures.iter().all(|f| f.error.is_none())
        && report.incomplete.is_empty()
        && report.unrecognized.is_empty()
        && report.not_deleted.is_empty()
        && report.objects_not_deleted == 0;
    Ok(if done {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// Saves every failure, part and unrecognized body under `dir`, each
/// file's error in its row: one that cannot be written stops nothing else.
fn save_all(dir: &Path, assembled: &Assembled, report: &mut Report) {
    let mut names = Names::new(dir);
    for (failure, row) in assembled.failures.iter().zip(&mut report.failures) {
        match save_failure(&mut names, &failure.document, &row.summary) {
            Ok(files) => row.files = files,
            Err(error) => row.error = Some(format!("{error:#}")),
        }
    }
    for (incomplete, row) in assembled.incomplete.iter().zip(&mut report.incomplete) {
        let suffixes: Vec<String> = incomplete
            .parts
            .keys()
            .map(|index| format!(".part-{index}-of-{}.json", incomplete.count))
            .collect();
        let paths = names.claim(&incomplete.group_id, &suffixes);
        for (messages, path) in incomplete.parts.values().zip(paths) {
            match write(&path, messages[0].body.as_bytes()) {
                Ok(()) => row.files.push(path),
                Err(error) => {
                    row.error.get_or_insert_with(|| format!("{error:#}"));
                }
            }
        }
    }
    for (message, row) in assembled.unrecognized.iter().zip(&mut report.unrecognized) {
        let stem = format!("message-{}", message.message_id);
        let path = names.claim(&stem, &[".body"]).remove(0);
        match write(&path, message.body.as_bytes()) {
            Ok(()) => row.file = Some(path),
            Err(error) => row.error = Some(format!("{error:#}")),
        }
    }
}

/// Writes NAME.json and NAME.event.json for one failure, or neither: a
/// half-written pair is removed.
fn save_failure(
    names: &mut Names,
    document: &Value,
    summary: &FailureSummary,
) -> anyhow::Result<Vec<PathBuf>> {
    let stem = format!(
        "{}.{}.{}",
        summary.stream, summary.shard, summary.start_sequence_number
    );
    let paths = names.claim(&stem, &[".json", ".event.json"]);
    // The event the consumer got: a Kafka document's `event` as it is.
    let event = if is_kafka(document) {
        document["event"].clone()
    } else {
        let records = document
            .get("Records")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        serde_json::json!({ "Records": records })
    };
    let written = serde_json::to_vec_pretty(document)
        .map_err(anyhow::Error::from)
        .and_then(|whole| write(&paths[0], &whole))
        .and_then(|()| {
            let event = serde_json::to_vec_pretty(&event)?;
            write(&paths[1], &event)
        });
    if let Err(error) = written {
        for path in &paths {
            let _ = std::fs::remove_file(path);
        }
        return Err(error);
    }
    Ok(paths)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests;
