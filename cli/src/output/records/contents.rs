//! The KPL view of whole failures, for the commands that list them (`dlq
//! list`, `dlq drain`, `hydrate`): a line a failure that holds aggregates,
//! and with `--records` every record as `show` prints it.

use serde_json::Value;

use super::view::{kpl_counts, print_views, views};
use crate::args::{Format, DEFAULT_MAX_BYTES};
use crate::output::drain_report::{self, Report};
use crate::output::report;
use crate::sources::assemble::Assembled;

/// `dlq list` and `dlq drain`'s report with each failure's contents: in
/// JSON, a `contents` object in each failure's row; for people, lines after
/// the table.
pub(crate) fn dlq_report(
    report: &Report,
    assembled: &Assembled,
    format: Format,
    records: bool,
) -> anyhow::Result<()> {
    let documents: Vec<&Value> = assembled.failures.iter().map(|f| &f.document).collect();
    if format == Format::Json {
        let mut json = serde_json::to_value(report)?;
        let contents = contents_json(&documents, records, DEFAULT_MAX_BYTES);
        if let Some(rows) = json["failures"].as_array_mut() {
            for (row, contents) in rows.iter_mut().zip(contents) {
                row["contents"] = contents;
            }
        }
        return report::print_json(&json);
    }
    drain_report::show(report, Format::Human)?;
    let named: Vec<(String, &Value)> = report
        .failures
        .iter()
        .map(|row| {
            let s = &row.summary;
            format!("{} {} {}", s.stream, s.shard, s.start_sequence_number)
        })
        .zip(documents)
        .collect();
    print_contents(
        &mut std::io::stdout().lock(),
        &named,
        records,
        DEFAULT_MAX_BYTES,
    );
    Ok(())
}

/// A document's records: a stream's `Records`, or a Kafka document's
/// records partition after partition.
fn records_of(document: &Value) -> Vec<Value> {
    crate::sources::document::records(document)
        .into_iter()
        .cloned()
        .collect()
}

/// The KPL counts, and with `records` every record, of each document: for
/// the JSON report of `dlq` and `hydrate`, one entry a document.
pub fn contents_json(documents: &[&Value], records: bool, max_bytes: usize) -> Vec<Value> {
    documents
        .iter()
        .map(|document| {
            let list = records_of(document);
            let mut json = serde_json::json!({ "kpl": kpl_counts(&list) });
            if records {
                json["records"] = serde_json::json!(views(&list, max_bytes));
            }
            json
        })
        .collect()
}

/// For people, to `out`: each document's KPL line, and with `records`
/// every record. Each document comes with its name (stream, shard, first
/// sequence number).
pub fn print_contents(
    out: &mut dyn std::io::Write,
    documents: &[(String, &Value)],
    records: bool,
    max_bytes: usize,
) {
    for (name, document) in documents {
        let list = records_of(document);
        let line = kpl_counts(&list).line();
        if !records && line.is_none() {
            continue;
        }
        let _ = writeln!(
            out,
            "── {} ──{}",
            report::printable(name),
            line.map(|l| format!(" {l}")).unwrap_or_default()
        );
        if records {
            print_views(out, &views(&list, max_bytes));
        }
    }
}
