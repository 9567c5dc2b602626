//! `show`: one saved document or event, record by record, with KPL
//! aggregates taken apart and each record's data as pretty JSON, text or
//! hex, whichever it is. `dlq list`, `dlq drain` and `hydrate` use the same
//! views: a count of aggregates and user records a failure, and with
//! `--records` every record.
//!
//! The document itself keeps its records as Lambda delivered them; this is
//! only a way to read them. What is shown comes from the records: partition
//! keys and text have their control characters escaped, so a record cannot
//! drive the terminal, and data is cut at `--max-bytes`.

mod contents;
mod data;

use std::path::Path;

use hydrate::Kpl;
use serde::Serialize;
use serde_json::Value;

use crate::args::{Format, ShowArgs};
use crate::report::{self, FailureSummary, SUMMARY_HEADERS};
use crate::saved;
use crate::Outcome;
pub(crate) use contents::dlq_report;
pub use contents::{contents_json, print_contents};
pub use data::{DataView, DEFAULT_MAX_BYTES};

/// One record of the document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// `aggregate`, `invalid aggregate` (the KPL magic, but it fails the
    /// check), or absent for a record of the user's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpl: Option<&'static str>,
    /// Why an `invalid aggregate` is shown as raw data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpl_error: Option<String>,
    /// The record's data, unless it is an aggregate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_records: Option<Vec<UserRecordView>>,
    /// A DynamoDB stream record's change, as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamodb: Option<Value>,
    /// What kept the record from being read (its data not base64, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One user record of an aggregate.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecordView {
    pub index: usize,
    pub partition_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_hash_key: Option<String>,
    pub data: DataView,
}

/// How many records of a document are aggregates, and what they hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KplCounts {
    pub aggregates: usize,
    pub user_records: usize,
    pub invalid_aggregates: usize,
}

/// Every record of `records`, aggregates taken apart.
pub fn views(records: &[Value], max_bytes: usize) -> Vec<RecordView> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| view(index, record, max_bytes))
        .collect()
}

fn view(index: usize, record: &Value, max_bytes: usize) -> RecordView {
    let kinesis = &record["kinesis"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut view = RecordView {
        index,
        sequence_number: text(&kinesis["sequenceNumber"])
            .or_else(|| text(&record["dynamodb"]["SequenceNumber"])),
        partition_key: text(&kinesis["partitionKey"]),
        kpl: None,
        kpl_error: None,
        data: None,
        user_records: None,
        dynamodb: record.get("dynamodb").cloned(),
        error: None,
    };
    if view.dynamodb.is_some() {
        return view;
    }
    let Some(bytes) = data::kinesis_data(kinesis) else {
        view.error = Some("no base64 kinesis.data".to_owned());
        return view;
    };
    match hydrate::deaggregate(&bytes) {
        Kpl::Plain => view.data = Some(DataView::of(&bytes, max_bytes)),
        Kpl::Invalid(error) => {
            view.kpl = Some("invalid aggregate");
            view.kpl_error = Some(error.to_string());
            view.data = Some(DataView::of(&bytes, max_bytes));
        }
        Kpl::Aggregated(users) => {
            view.kpl = Some("aggregate");
            view.user_records = Some(
                users
                    .into_iter()
                    .enumerate()
                    .map(|(index, user)| UserRecordView {
                        index,
                        partition_key: user.partition_key.to_owned(),
                        explicit_hash_key: user.explicit_hash_key.map(str::to_owned),
                        data: DataView::of(user.data, max_bytes),
                    })
                    .collect(),
            );
        }
    }
    view
}

/// The aggregates among `records`, counted without keeping their data.
pub fn kpl_counts(records: &[Value]) -> KplCounts {
    let mut counts = KplCounts::default();
    for record in records {
        let Some(bytes) = data::kinesis_data(&record["kinesis"]) else {
            continue;
        };
        match hydrate::deaggregate(&bytes) {
            Kpl::Plain => {}
            Kpl::Invalid(_) => counts.invalid_aggregates += 1,
            Kpl::Aggregated(users) => {
                counts.aggregates += 1;
                counts.user_records += users.len();
            }
        }
    }
    counts
}

impl KplCounts {
    /// One line for a failure's summary, or `None` when it holds no aggregate.
    pub fn line(&self) -> Option<String> {
        if self.aggregates == 0 && self.invalid_aggregates == 0 {
            return None;
        }
        let mut line = format!(
            "{} KPL aggregate(s) holding {} user record(s)",
            self.aggregates, self.user_records
        );
        if self.invalid_aggregates > 0 {
            line += &format!(
                ", {} record(s) with the KPL magic that fail the check (shown as raw data)",
                self.invalid_aggregates
            );
        }
        Some(line)
    }
}

/// Writes `views` for a person to `out`.
pub fn print_views(out: &mut dyn std::io::Write, views: &[RecordView]) {
    for view in views {
        // A closed pipe ends the listing early; nothing else is lost.
        let _ = out.write_all(data::record_text(view).as_bytes());
    }
}

pub fn run(args: &ShowArgs, format: Format) -> anyhow::Result<Outcome> {
    let saved = saved::load(&args.file)?;
    let document = read_document(&args.file);
    let views = views(&saved.records, args.max_bytes);
    let counts = kpl_counts(&saved.records);
    if format == Format::Json {
        report::print_json(&serde_json::json!({
            "file": args.file,
            "kpl": counts,
            "records": views,
        }))?;
        return Ok(Outcome::Done);
    }
    if let Some(document) = document.filter(|d| d.get("failure").is_some()) {
        let summary = FailureSummary::of(&document, std::time::SystemTime::now());
        let cells: Vec<String> = summary
            .cells()
            .iter()
            .map(|c| report::printable(c))
            .collect();
        print!("{}", report::table(&SUMMARY_HEADERS, &[cells]));
    }
    println!(
        "{} record(s){}",
        views.len(),
        counts.line().map(|l| format!(", {l}")).unwrap_or_default()
    );
    print_views(&mut std::io::stdout().lock(), &views);
    Ok(Outcome::Done)
}

fn read_document(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[cfg(test)]
mod tests;
