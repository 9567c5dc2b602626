//! `dlq list` and `dlq drain`: the dead-letter queue read to its end,
//! failures put back together, saved, and deleted only once saved.
//!
//! Every received message stays hidden for the visibility timeout while the
//! command runs, which is what lets one pass see each message once. When the
//! command ends, messages it does not delete are made visible again at once
//! rather than left hidden for the rest of the timeout.
//!
//! File names come from the failure (stream, shard, first sequence number),
//! the part's group id, or the message id: only `[A-Za-z0-9._-]`, at most
//! [`MAX_FILE_NAME`] bytes, and a short hash of the full name when it had to
//! be cut or changed, so two long names never share a file. A file that
//! cannot be written is reported with its failure, which stays in the queue;
//! the drain goes on with the rest and ends with exit status 2.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use hydrate::{ObjectReader, S3Pointer};
use serde_json::Value;

use crate::args::{DrainArgs, Format, ListArgs, QueueArgs};
use crate::assemble::{assemble, Assembled, Message};
use crate::drain_report::{report_of, Report};
use crate::file_names::Names;
use crate::report::{self, FailureSummary};
use crate::Outcome;

/// SQS's most messages a receive, delete or visibility change.
const SQS_BATCH: usize = 10;

/// What the dead-letter queue is read with: SQS, and S3 for the bodies
/// delivery offloaded ([`crate::offloaded`]).
pub struct DlqClients {
    pub sqs: aws_sdk_sqs::Client,
    pub objects: ObjectReader,
}

impl DlqClients {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            objects: ObjectReader::new(sdk),
        }
    }
}

/// Shows what the queue holds and leaves it as it was.
pub async fn list(
    clients: &DlqClients,
    args: &ListArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let (count, assembled) = look(clients, &args.queue, format).await?;
    let report = report_of(count, &assembled, SystemTime::now());
    crate::show::dlq_report(&report, &assembled, format, args.records)?;
    Ok(Outcome::Done)
}

/// Everything in the queue, put together in stream order, and the queue left
/// as it was: the messages received, and the failures they make.
pub(crate) async fn look(
    clients: &DlqClients,
    args: &QueueArgs,
    format: Format,
) -> anyhow::Result<(usize, Assembled)> {
    let (messages, _) = receive_all(clients, args, format).await?;
    let count = messages.len();
    let mut assembled = assemble(messages.clone());
    in_stream_order(&mut assembled);
    release(&clients.sqs, &args.queue_url, &messages).await;
    Ok((count, assembled))
}

/// Saves every failure under `args.to`, then deletes what was saved if asked.
pub async fn drain(
    clients: &DlqClients,
    args: &DrainArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let sqs = &clients.sqs;
    std::fs::create_dir_all(&args.to)
        .with_context(|| format!("cannot create {}", args.to.display()))?;
    let (messages, offloaded) = receive_all(clients, &args.queue, format).await?;
    let count = messages.len();
    let mut assembled = assemble(messages);
    in_stream_order(&mut assembled);
    let mut report = report_of(count, &assembled, SystemTime::now());

    // Everything is written before anything is deleted, and only what was
    // written is deleted: a failure whose files could not be written is
    // reported and stays in the queue, and the drain goes on.
    save_all(&args.to, &assembled, &mut report);

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
        .chain(
            unsaved
                .into_iter()
                .flat_map(|(f, _)| f.messages.iter().cloned()),
        )
        .collect();
    if args.delete {
        let failed = delete(sqs, &args.queue.queue_url, &saved).await;
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
            report.objects_not_deleted = crate::offloaded::delete(&clients.objects, pointers).await;
        }
        report.not_deleted = failed.into_iter().collect();
        report.not_deleted.sort();
    } else {
        keep.extend(saved);
    }
    release(sqs, &args.queue.queue_url, &keep).await;

    crate::show::dlq_report(&report, &assembled, format, args.records)?;
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

/// Receives until a receive comes back empty (or `max_messages`), with each
/// offloaded body put back; gives the pointers followed, by message id.
async fn receive_all(
    clients: &DlqClients,
    args: &QueueArgs,
    format: Format,
) -> anyhow::Result<(Vec<Message>, HashMap<String, S3Pointer>)> {
    let sqs = &clients.sqs;
    let progress = report::spinner(format, "receiving");
    let mut messages = Vec::new();
    loop {
        let wanted = args.receive.max_messages.map_or(SQS_BATCH, |max| {
            max.saturating_sub(messages.len()).min(SQS_BATCH)
        });
        if wanted == 0 {
            break;
        }
        let output = sqs
            .receive_message()
            .queue_url(&args.queue_url)
            .max_number_of_messages(wanted as i32)
            .wait_time_seconds(args.receive.wait_seconds)
            .visibility_timeout(args.receive.visibility_timeout)
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
    let offloaded = crate::offloaded::follow(&clients.objects, &mut messages).await;
    Ok((messages, offloaded))
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

/// Stream, shard, then range order (sequence numbers are decimal strings
/// compared by length first), so reports are stable from run to run.
pub(crate) fn in_stream_order(assembled: &mut Assembled) {
    let now = SystemTime::now();
    assembled.failures.sort_by_cached_key(|f| {
        let s = FailureSummary::of(&f.document, now);
        let start = s.start_sequence_number;
        (s.stream, s.shard, start.len(), start)
    });
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
    let records = document
        .get("Records")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let written = serde_json::to_vec_pretty(document)
        .map_err(anyhow::Error::from)
        .and_then(|whole| write(&paths[0], &whole))
        .and_then(|()| {
            let event = serde_json::to_vec_pretty(&serde_json::json!({ "Records": records }))?;
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
mod tests {
    use super::*;
    use crate::assemble::Failure;
    use crate::file_names::{file_stem, MAX_FILE_NAME, TAKEN_ROOM};
    use crate::report::printable;
    use serde_json::json;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hydrator-dlq-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A DynamoDB failure of `table`, with one record.
    fn failure(table: &str) -> Failure {
        let arn = format!(
            "arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-11-21T06:00:00.000"
        );
        Failure {
            document: json!({
                "version": "1",
                "source": "aws:dynamodb",
                "failure": {"DDBStreamBatchInfo": {
                    "streamArn": arn,
                    "shardId": "shardId-00000001763452800000-8a4b1f3e",
                    "startSequenceNumber": "4321000000000012345678901",
                    "endSequenceNumber": "4321000000000012345678999",
                    "batchSize": 1}},
                "hydration": {"status": "complete"},
                "Records": [{"eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"id": {"S": "1"}}}}]
            }),
            messages: Vec::new(),
            parts: 1,
        }
    }

    /// Saves `tables`' failures under a new folder: the report and the folder.
    fn saved(tables: &[&str]) -> (Report, PathBuf) {
        let assembled = Assembled {
            failures: tables.iter().map(|t| failure(t)).collect(),
            ..Assembled::default()
        };
        let dir = temp_dir();
        let mut report = report_of(0, &assembled, SystemTime::now());
        save_all(&dir, &assembled, &mut report);
        (report, dir)
    }

    fn name_of(path: &Path) -> &str {
        path.file_name().unwrap().to_str().unwrap()
    }

    fn is_safe(name: &str) -> bool {
        name.len() <= MAX_FILE_NAME
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    }

    #[test]
    fn the_longest_table_name_is_saved_under_a_bounded_name() {
        // 255 characters, the most DynamoDB allows.
        let table = "t".repeat(255);
        let (report, dir) = saved(&[&table]);
        let row = &report.failures[0];
        assert_eq!(row.error, None);
        assert_eq!(row.files.len(), 2);
        for path in &row.files {
            let name = name_of(path);
            assert!(is_safe(name), "{name} ({} bytes)", name.len());
            assert_eq!(path.parent(), Some(dir.as_path()));
            let written: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            assert_eq!(written["Records"].as_array().map(Vec::len), Some(1));
        }
        // The pair shares its stem, so replay and redrive find the event.
        let whole = name_of(&row.files[0]).strip_suffix(".json").unwrap();
        assert_eq!(name_of(&row.files[1]), format!("{whole}.event.json"));
        // Still recognisable: as much of the name as fits, then the hash.
        assert!(whole.contains(&"t".repeat(100)), "{whole}");
    }

    #[test]
    fn unsafe_characters_never_reach_a_file_name() {
        let names = [
            "../../etc/passwd",
            "a/b\\c",
            "..",
            "line\nbreak\r\0nul",
            "commandes-été-注文-🚀",
            "",
        ];
        let (report, dir) = saved(&names);
        let mut seen = HashSet::new();
        for row in &report.failures {
            assert_eq!(row.error, None);
            for path in &row.files {
                let name = name_of(path);
                assert!(is_safe(name), "{name:?}");
                assert_eq!(path.parent(), Some(dir.as_path()), "{path:?}");
                assert!(path.exists());
                assert!(seen.insert(name.to_owned()), "{name} twice");
            }
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2 * names.len());
    }

    #[test]
    fn long_names_that_differ_only_at_the_end_get_different_files() {
        let one = format!("{}-a", "x".repeat(298));
        let two = format!("{}-b", "x".repeat(298));
        let (report, _) = saved(&[&one, &two]);
        let (a, b) = (&report.failures[0].files[0], &report.failures[1].files[0]);
        assert_ne!(a, b);
        assert!(is_safe(name_of(a)) && is_safe(name_of(b)));
        // Without the run's bookkeeping too: the hash tells them apart.
        assert_ne!(file_stem(&one, 150), file_stem(&two, 150));
        // And a name changed by sanitizing never takes a safe name's file.
        assert_ne!(file_stem("a/b", 150), file_stem("a_b", 150));
    }

    #[test]
    fn stems_are_cut_to_their_room_and_short_safe_names_kept_as_they_are() {
        assert_eq!(
            file_stem("orders.shardId-000000000000.4968", 181),
            "orders.shardId-000000000000.4968"
        );
        for len in [150, 181, 182, 400] {
            let stem = file_stem(&"é".repeat(len), 181);
            assert!(stem.len() <= 181 && is_safe(&stem), "{stem}");
        }
        let taken = Names::new(Path::new("d")).claim(&"n".repeat(500), &[".json"]);
        assert_eq!(name_of(&taken[0]).len(), MAX_FILE_NAME - TAKEN_ROOM);
    }

    #[test]
    fn the_same_name_twice_gets_a_second_file_even_when_only_case_differs() {
        let (report, _) = saved(&["orders", "orders", "Orders"]);
        let names: Vec<&str> = report
            .failures
            .iter()
            .map(|f| name_of(&f.files[1]))
            .collect();
        assert_eq!(
            names,
            [
                "orders.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901.event.json",
                "orders.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901_2.event.json",
                "Orders.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901_3.event.json",
            ]
        );
    }

    #[test]
    fn a_failure_that_cannot_be_written_is_reported_and_the_rest_are_saved() {
        let assembled = Assembled {
            failures: vec![failure("first"), failure("blocked"), failure("last")],
            incomplete: Vec::new(),
            unrecognized: vec![Message {
                message_id: "m-1".into(),
                receipt_handle: "r".into(),
                body: "{\"secret\": \"4111 1111 1111 1111\"}".into(),
            }],
        };
        let dir = temp_dir();
        // A folder where the second failure's document goes: that write fails.
        let blocked = Names::new(&dir).claim(
            "blocked.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901",
            &[".json"],
        );
        std::fs::create_dir(&blocked[0]).unwrap();
        let mut report = report_of(4, &assembled, SystemTime::now());
        save_all(&dir, &assembled, &mut report);

        let [first, second, last] = &report.failures[..] else {
            panic!()
        };
        assert_eq!((first.error.as_ref(), last.error.as_ref()), (None, None));
        assert!(first.files.iter().chain(&last.files).all(|p| p.is_file()));
        let error = second.error.as_deref().expect("reported");
        assert!(
            error.contains("cannot write") && error.contains("blocked."),
            "{error}"
        );
        assert!(second.files.is_empty());
        assert_eq!(
            report.unrecognized[0].file.as_ref().map(|p| p.is_file()),
            Some(true)
        );
        // Nothing half-written is left for replay to trip on.
        let event = blocked[0].with_file_name(name_of(&blocked[0]).replace(".json", ".event.json"));
        assert!(!event.exists());
        // The report names the file, never the record.
        assert!(!serde_json::to_string(&report).unwrap().contains("4111"));
    }

    #[test]
    fn printed_values_cannot_drive_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\nc"), "a?[2Jb?c");
        assert_eq!(printable(&"x".repeat(150)).chars().count(), 101);
    }
}
