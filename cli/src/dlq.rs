//! `dlq list` and `dlq drain`: the dead-letter queue read to its end,
//! failures put back together, saved, and deleted only once saved.
//!
//! Every received message stays hidden for the visibility timeout while the
//! command runs, which is what lets one pass see each message once. When the
//! command ends, messages it does not delete are made visible again at once
//! rather than left hidden for the rest of the timeout.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use serde::Serialize;
use serde_json::Value;

use crate::args::{DrainArgs, Format, QueueArgs};
use crate::assemble::{assemble, Assembled, Message};
use crate::report::{self, FailureSummary, SUMMARY_HEADERS};
use crate::Outcome;

/// SQS's most messages a receive, delete or visibility change.
const SQS_BATCH: usize = 10;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    messages: usize,
    failures: Vec<FailureReport>,
    incomplete: Vec<IncompleteReport>,
    unrecognized: Vec<UnrecognizedReport>,
    not_deleted: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FailureReport {
    #[serde(flatten)]
    summary: FailureSummary,
    parts: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<PathBuf>,
    deleted: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IncompleteReport {
    group_id: String,
    count: u32,
    received: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UnrecognizedReport {
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<PathBuf>,
}

/// Shows what the queue holds and leaves it as it was.
pub async fn list(
    sqs: &aws_sdk_sqs::Client,
    args: &QueueArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let messages = receive_all(sqs, args, format).await?;
    let count = messages.len();
    let mut assembled = assemble(messages.clone());
    in_stream_order(&mut assembled);
    release(sqs, &args.queue_url, &messages).await;
    let report = report_of(count, &assembled, SystemTime::now());
    show(&report, format)?;
    Ok(Outcome::Done)
}

/// Saves every failure under `args.to`, then deletes what was saved if asked.
pub async fn drain(
    sqs: &aws_sdk_sqs::Client,
    args: &DrainArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&args.to)
        .with_context(|| format!("cannot create {}", args.to.display()))?;
    let messages = receive_all(sqs, &args.queue, format).await?;
    let count = messages.len();
    let mut assembled = assemble(messages);
    in_stream_order(&mut assembled);
    let mut report = report_of(count, &assembled, SystemTime::now());

    // Everything is written before anything is deleted: a failed write
    // stops the command with the queue untouched (the messages reappear
    // when their visibility timeout ends).
    let mut names = HashSet::new();
    for (failure, row) in assembled.failures.iter().zip(&mut report.failures) {
        row.files = save_failure(&args.to, &failure.document, &row.summary, &mut names)?;
    }
    for (incomplete, row) in assembled.incomplete.iter().zip(&mut report.incomplete) {
        for (index, messages) in &incomplete.parts {
            let path = args.to.join(format!(
                "{}.part-{index}-of-{}.json",
                sanitize(&incomplete.group_id),
                incomplete.count
            ));
            write(&path, messages[0].body.as_bytes())?;
            row.files.push(path);
        }
    }
    for (message, row) in assembled.unrecognized.iter().zip(&mut report.unrecognized) {
        let path = args
            .to
            .join(format!("message-{}.body", sanitize(&message.message_id)));
        write(&path, message.body.as_bytes())?;
        row.file = Some(path);
    }

    // Only whole failures are deleted: the missing parts of an incomplete one
    // may still be in flight, and a body that is not a document is for a
    // person to look at.
    let mut keep: Vec<Message> = assembled
        .incomplete
        .iter()
        .flat_map(|i| i.parts.values().flatten().cloned())
        .chain(assembled.unrecognized.iter().cloned())
        .collect();
    let saved: Vec<Message> = assembled
        .failures
        .iter()
        .flat_map(|f| f.messages.iter().cloned())
        .collect();
    if args.delete {
        let failed = delete(sqs, &args.queue.queue_url, &saved).await;
        for (failure, row) in assembled.failures.iter().zip(&mut report.failures) {
            row.deleted = failure
                .messages
                .iter()
                .all(|m| !failed.contains(&m.message_id));
        }
        report.not_deleted = failed.into_iter().collect();
        report.not_deleted.sort();
    } else {
        keep.extend(saved);
    }
    release(sqs, &args.queue.queue_url, &keep).await;

    show(&report, format)?;
    let done = report.incomplete.is_empty()
        && report.unrecognized.is_empty()
        && report.not_deleted.is_empty();
    Ok(if done {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// Receives until a receive comes back empty (or `max_messages`).
async fn receive_all(
    sqs: &aws_sdk_sqs::Client,
    args: &QueueArgs,
    format: Format,
) -> anyhow::Result<Vec<Message>> {
    let progress = report::spinner(format, "receiving");
    let mut messages = Vec::new();
    loop {
        let wanted = args.max_messages.map_or(SQS_BATCH, |max| {
            max.saturating_sub(messages.len()).min(SQS_BATCH)
        });
        if wanted == 0 {
            break;
        }
        let output = sqs
            .receive_message()
            .queue_url(&args.queue_url)
            .max_number_of_messages(wanted as i32)
            .wait_time_seconds(args.wait_seconds)
            .visibility_timeout(args.visibility_timeout)
            .send()
            .await
            .with_context(|| format!("cannot receive from {}", args.queue_url))?;
        let received = output.messages.unwrap_or_default();
        if received.is_empty() {
            break;
        }
        for message in received {
            messages.push(Message {
                message_id: message.message_id.unwrap_or_default(),
                receipt_handle: message.receipt_handle.unwrap_or_default(),
                body: message.body.unwrap_or_default(),
            });
        }
        progress.set_position(messages.len() as u64);
    }
    progress.finish_and_clear();
    Ok(messages)
}

/// Deletes `messages`; returns the ids of those that were not deleted.
async fn delete(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: &[Message],
) -> HashSet<String> {
    let mut failed = HashSet::new();
    for chunk in messages.chunks(SQS_BATCH) {
        let entries = chunk.iter().enumerate().map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(&m.receipt_handle)
                .build()
        });
        let entries: Result<Vec<_>, _> = entries.collect();
        let result = match entries {
            Ok(entries) => sqs
                .delete_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(output) => {
                for entry in output.failed {
                    if let Some(message) = entry.id.parse::<usize>().ok().and_then(|i| chunk.get(i))
                    {
                        failed.insert(message.message_id.clone());
                    }
                }
            }
            Err(_) => failed.extend(chunk.iter().map(|m| m.message_id.clone())),
        }
    }
    failed
}

/// Makes `messages` visible again now. Best effort: if this fails they
/// reappear anyway when their visibility timeout ends.
async fn release(sqs: &aws_sdk_sqs::Client, queue_url: &str, messages: &[Message]) {
    for chunk in messages.chunks(SQS_BATCH) {
        let entries: Result<Vec<_>, _> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt_handle)
                    .visibility_timeout(0)
                    .build()
            })
            .collect();
        if let Ok(entries) = entries {
            let _ = sqs
                .change_message_visibility_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
        }
    }
}

fn report_of(messages: usize, assembled: &Assembled, now: SystemTime) -> Report {
    Report {
        messages,
        failures: assembled
            .failures
            .iter()
            .map(|f| FailureReport {
                summary: FailureSummary::of(&f.document, now),
                parts: f.parts,
                files: Vec::new(),
                deleted: false,
            })
            .collect(),
        incomplete: assembled
            .incomplete
            .iter()
            .map(|i| IncompleteReport {
                group_id: i.group_id.clone(),
                count: i.count,
                received: i.parts.keys().copied().collect(),
                files: Vec::new(),
            })
            .collect(),
        unrecognized: assembled
            .unrecognized
            .iter()
            .map(|m| UnrecognizedReport {
                message_id: m.message_id.clone(),
                file: None,
            })
            .collect(),
        not_deleted: Vec::new(),
    }
}

/// Stream, shard, then range order (sequence numbers are decimal strings
/// compared by length first), so reports are stable from run to run.
fn in_stream_order(assembled: &mut Assembled) {
    let now = SystemTime::now();
    assembled.failures.sort_by_cached_key(|f| {
        let s = FailureSummary::of(&f.document, now);
        let start = s.start_sequence_number;
        (s.stream, s.shard, start.len(), start)
    });
}

fn show(report: &Report, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return report::print_json(report);
    }
    // `list` saves nothing; `drain` says where each failure went.
    let drained = report.failures.iter().any(|f| !f.files.is_empty());
    let rows: Vec<Vec<String>> = report
        .failures
        .iter()
        .map(|f| {
            let mut cells = f.summary.cells();
            cells.push(f.parts.to_string());
            if drained {
                let file = f
                    .files
                    .first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                cells.push(if f.deleted {
                    format!("{file} (deleted)")
                } else {
                    file
                });
            }
            cells
        })
        .collect();
    let mut headers = SUMMARY_HEADERS.to_vec();
    headers.push("PARTS");
    if drained {
        headers.push("SAVED AS");
    }
    print!("{}", report::table(&headers, &rows));
    println!(
        "{} message(s), {} failure(s)",
        report.messages,
        report.failures.len()
    );
    for incomplete in &report.incomplete {
        println!(
            "incomplete: group {} has parts {:?} of {}; kept in the queue",
            incomplete.group_id, incomplete.received, incomplete.count
        );
    }
    for message in &report.unrecognized {
        println!(
            "not a hydrated document: message {}{}; kept in the queue",
            message.message_id,
            message
                .file
                .as_ref()
                .map_or(String::new(), |f| format!(", saved as {}", f.display()))
        );
    }
    for id in &report.not_deleted {
        println!("not deleted: message {id} (it reappears after its visibility timeout)");
    }
    Ok(())
}

/// Writes NAME.json and NAME.event.json for one failure.
fn save_failure(
    dir: &Path,
    document: &Value,
    summary: &FailureSummary,
    names: &mut HashSet<String>,
) -> anyhow::Result<Vec<PathBuf>> {
    let base = sanitize(&format!(
        "{}.{}.{}",
        summary.stream, summary.shard, summary.start_sequence_number
    ));
    let mut name = base.clone();
    let mut n = 1;
    while !names.insert(name.clone()) {
        n += 1;
        name = format!("{base}~{n}");
    }
    let whole = dir.join(format!("{name}.json"));
    let event = dir.join(format!("{name}.event.json"));
    write(&whole, &serde_json::to_vec_pretty(document)?)?;
    let records = document
        .get("Records")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    write(
        &event,
        &serde_json::to_vec_pretty(&serde_json::json!({ "Records": records }))?,
    )?;
    Ok(vec![whole, event])
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Letters, digits, `.`, `-` and `_` only: a file name on any system.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .collect()
}
