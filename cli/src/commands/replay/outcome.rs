//! What a replay did: a row a chunk (table or JSON), the records that still
//! fail, and those records saved as events for the next replay.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use super::answer::{record_name, Verdict};
use crate::args::Format;
use crate::output::report;
use crate::sources::saved::{Envelope, SavedEvent};

/// One chunk of one saved event, as replayed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub file: PathBuf,
    /// 1-based; `chunks` is 1 unless the event was over what one Invoke takes.
    pub chunk: usize,
    pub chunks: usize,
    pub records: usize,
    pub succeeded: bool,
    /// `succeeded`, `recordsFailed` (the consumer named them) or `batchFailed`.
    pub result: &'static str,
    /// Calls made; 0 when the chunk could not be sent at all.
    pub attempts: u32,
    /// The stream records the consumer failed, by sequence number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_sequence_numbers: Vec<String>,
    /// The Kafka records the consumer failed, as `<topic>-<partition>@<offset>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_records: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl Row {
    pub fn new(
        file: &Path,
        (chunk, chunks): (usize, usize),
        records: usize,
        verdict: Verdict,
        attempts: u32,
        envelope: &Envelope,
    ) -> Self {
        let mut row = Row {
            file: file.to_path_buf(),
            chunk,
            chunks,
            records,
            succeeded: false,
            result: "batchFailed",
            attempts,
            failed_sequence_numbers: Vec::new(),
            failed_records: Vec::new(),
            error_type: None,
            error_message: None,
        };
        match verdict {
            Verdict::Succeeded => {
                row.succeeded = true;
                row.result = "succeeded";
            }
            Verdict::RecordsFailed(names) => {
                row.result = "recordsFailed";
                match envelope {
                    Envelope::Streams => row.failed_sequence_numbers = names,
                    Envelope::Kafka(_) => row.failed_records = names,
                }
            }
            Verdict::BatchFailed(failure) => {
                row.error_type = Some(failure.error_type);
                row.error_message = failure.error_message;
            }
        }
        row
    }

    fn failed(&self) -> &[String] {
        if self.failed_records.is_empty() {
            &self.failed_sequence_numbers
        } else {
            &self.failed_records
        }
    }

    fn event(&self) -> String {
        let file = self.file.display().to_string();
        if self.chunks > 1 {
            format!("{file} [{}/{}]", self.chunk, self.chunks)
        } else {
            file
        }
    }
}

/// The records of a chunk that still fail, given its verdict.
pub fn failing_records(verdict: &Verdict, records: &[Value]) -> Vec<Value> {
    match verdict {
        Verdict::Succeeded => Vec::new(),
        Verdict::RecordsFailed(named) => records
            .iter()
            .filter(|r| record_name(r).is_some_and(|name| named.contains(&name)))
            .cloned()
            .collect(),
        Verdict::BatchFailed(_) => records.to_vec(),
    }
}

/// Where the still-failing records of `source` are saved in `dir`.
fn failed_file(dir: &Path, source: &Path) -> PathBuf {
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".event.json")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    dir.join(format!("{stem}.event.json"))
}

/// Refuses, before anything is invoked, a `--failed-to` that would write
/// over a file being replayed: its records would be lost.
pub fn refuse_overwriting(dir: &Path, events: &[SavedEvent]) -> anyhow::Result<()> {
    for event in events {
        let target = failed_file(dir, &event.path);
        let same = match (target.canonicalize(), event.path.canonicalize()) {
            (Ok(target), Ok(source)) => target == source,
            _ => false,
        };
        if same {
            anyhow::bail!(
                "--failed-to {} would write over {}, which is being replayed: choose another folder",
                dir.display(),
                event.path.display()
            );
        }
    }
    Ok(())
}

/// The records of one saved event that still fail, in its envelope.
pub struct StillFailing<'a> {
    pub source: &'a Path,
    pub envelope: &'a Envelope,
    pub records: Vec<Value>,
}

/// Writes each event's still-failing records as an event of the same shape.
pub fn save_failing(dir: &Path, failing: &[StillFailing]) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for StillFailing {
        source,
        envelope,
        records,
    } in failing
    {
        let file = failed_file(dir, source);
        let event = envelope.event(records);
        let text = serde_json::to_vec_pretty(&event)?;
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
        written.push(file);
    }
    Ok(written)
}

/// The report: a table and the failed records by sequence number, or JSON.
pub fn print(
    function: &str,
    rows: &[Row],
    saved_to: &[PathBuf],
    format: Format,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return report::print_json(&serde_json::json!({
            "function": function,
            "events": rows,
            "failedTo": saved_to,
        }));
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let result = match r.result {
                "recordsFailed" => format!("{} FAILED", r.failed().len()),
                "succeeded" => "succeeded".to_owned(),
                _ => "FAILED".to_owned(),
            };
            vec![
                r.event(),
                r.records.to_string(),
                result,
                r.attempts.to_string(),
                [r.error_type.as_deref(), r.error_message.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": "),
            ]
        })
        .collect();
    print!(
        "{}",
        report::table(&["EVENT", "RECORDS", "RESULT", "CALLS", "ERROR"], &cells)
    );
    let named: Vec<&Row> = rows.iter().filter(|r| !r.failed().is_empty()).collect();
    if !named.is_empty() {
        println!("Records the consumer failed (sequence numbers; Kafka: topic-partition@offset):");
        for row in named {
            for name in row.failed() {
                println!("  {}  {}", row.event(), report::printable(name));
            }
        }
    }
    let failed = rows.iter().filter(|r| !r.succeeded).count();
    println!(
        "{} chunk(s) replayed into {function}: {} succeeded, {failed} failed",
        rows.len(),
        rows.len() - failed
    );
    for file in saved_to {
        println!("still failing, saved to {}", file.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::answer::Failure;
    use super::*;

    #[test]
    fn still_failing_records_are_the_named_ones_or_the_whole_chunk() {
        let records: Vec<Value> = ["1", "2", "3"]
            .iter()
            .map(|s| json!({"kinesis": {"sequenceNumber": s}}))
            .collect();
        let named = Verdict::RecordsFailed(vec!["1".into(), "3".into()]);
        assert_eq!(
            failing_records(&named, &records),
            [records[0].clone(), records[2].clone()]
        );
        let whole = Verdict::BatchFailed(Failure::new("Throttled", "not invoked"));
        assert_eq!(failing_records(&whole, &records), records);
        assert!(failing_records(&Verdict::Succeeded, &records).is_empty());
    }

    #[test]
    fn saved_failures_keep_the_source_name_as_an_event_file() {
        let dir = Path::new("out");
        assert_eq!(
            failed_file(dir, Path::new("in/a.shardId-0.49.event.json")),
            dir.join("a.shardId-0.49.event.json")
        );
        assert_eq!(
            failed_file(dir, Path::new("in/doc.json")),
            dir.join("doc.event.json")
        );
    }

    #[test]
    fn failed_to_may_not_write_over_what_is_replayed() {
        let temp = tempfile::Builder::new()
            .prefix("hydrator-replay-")
            .tempdir()
            .unwrap();
        let dir = temp.path();
        let source = dir.join("x.event.json");
        std::fs::write(&source, r#"{"Records":[]}"#).unwrap();
        let events = vec![SavedEvent::streams(source, Vec::new())];
        assert!(refuse_overwriting(dir, &events).is_err());
        assert!(refuse_overwriting(&dir.join("next"), &events).is_ok());
    }
}
