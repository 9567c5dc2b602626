//! What `dlq list` and `dlq drain` report: one row a failure, incomplete
//! failure or unrecognized message, as JSON or a table.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;

use crate::args::Format;
use crate::output::file_names::file_stem;
use crate::output::report::{self, printable, FailureSummary, SUMMARY_HEADERS};
use crate::sources::assemble::Assembled;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
    pub(crate) messages: usize,
    pub(crate) failures: Vec<FailureReport>,
    pub(crate) incomplete: Vec<IncompleteReport>,
    pub(crate) unrecognized: Vec<UnrecognizedReport>,
    pub(crate) not_deleted: Vec<String>,
    /// Offloaded bodies of deleted messages that could not be deleted.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) objects_not_deleted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FailureReport {
    #[serde(flatten)]
    pub(crate) summary: FailureSummary,
    pub(crate) parts: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) files: Vec<PathBuf>,
    pub(crate) deleted: bool,
    /// Why it was not saved (it stays in the queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IncompleteReport {
    pub(crate) group_id: String,
    pub(crate) count: u32,
    pub(crate) received: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) files: Vec<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnrecognizedReport {
    pub(crate) message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

pub(crate) fn report_of(messages: usize, assembled: &Assembled, now: SystemTime) -> Report {
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
                error: None,
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
                error: None,
            })
            .collect(),
        unrecognized: assembled
            .unrecognized
            .iter()
            .map(|m| UnrecognizedReport {
                message_id: m.message_id.clone(),
                file: None,
                error: None,
            })
            .collect(),
        not_deleted: Vec::new(),
        objects_not_deleted: 0,
    }
}

pub(crate) fn show(report: &Report, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return report::print_json(report);
    }
    // `list` saves nothing; `drain` says where each failure went.
    let drained = report
        .failures
        .iter()
        .any(|f| !f.files.is_empty() || f.error.is_some());
    let rows: Vec<Vec<String>> = report
        .failures
        .iter()
        .map(|f| {
            // Read from the message bodies: shown, never let loose on the terminal.
            let mut cells: Vec<String> = f.summary.cells().iter().map(|c| printable(c)).collect();
            cells.push(f.parts.to_string());
            if drained {
                let file = f
                    .files
                    .first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "(not saved)".to_owned());
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
    for failure in &report.failures {
        if let Some(error) = &failure.error {
            println!(
                "not saved: {} {} from {}: {error}; kept in the queue",
                printable(&failure.summary.stream),
                printable(&failure.summary.shard),
                printable(&failure.summary.start_sequence_number),
            );
        }
    }
    for incomplete in &report.incomplete {
        println!(
            "incomplete: group {} has parts {:?} of {}; kept in the queue",
            file_stem(&incomplete.group_id, 64),
            incomplete.received,
            incomplete.count
        );
        if let Some(error) = &incomplete.error {
            println!("  not all saved: {error}");
        }
    }
    for message in &report.unrecognized {
        println!(
            "not a hydrated document: message {}{}; kept in the queue",
            file_stem(&message.message_id, 64),
            match (&message.file, &message.error) {
                (Some(f), _) => format!(", saved as {}", f.display()),
                (None, Some(error)) => format!(", not saved: {error}"),
                (None, None) => String::new(),
            }
        );
    }
    for id in &report.not_deleted {
        println!("not deleted: message {id} (it reappears after its visibility timeout)");
    }
    if report.objects_not_deleted > 0 {
        let count = report.objects_not_deleted;
        println!("not deleted: {count} offloaded bodies, left in the offload bucket");
    }
    Ok(())
}
