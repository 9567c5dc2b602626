//! `show`: one saved document or event, record by record, with KPL
//! aggregates taken apart and each record's data as pretty JSON, text or
//! hex, whichever it is ([`crate::output::records`] makes the views).
//!
//! The document itself keeps its records as Lambda delivered them; this is
//! only a way to read them. What is shown comes from the records: partition
//! keys and text have their control characters escaped, so a record cannot
//! drive the terminal, and data is cut at `--max-bytes`. `s3://bucket/prefix`
//! shows every object of an S3 failure destination under the prefix, each
//! with its batch, as `dlq list` finds them there.

use std::path::Path;

use serde_json::Value;

use crate::args::{Format, ShowArgs};
use crate::output::records::{kpl_counts, print_views, views};
use crate::output::report::{self, FailureSummary, SUMMARY_HEADERS};
use crate::sources::bucket::{self, Location};
use crate::sources::document::records;
use crate::sources::saved::{self, SavedEvent};
use crate::Outcome;

/// One thing shown: a saved file, or an object of an S3 failure destination.
struct Shown {
    name: String,
    /// The document, when what was saved is one (an event has no `failure`).
    document: Option<Value>,
    records: Vec<Value>,
}

pub async fn run(
    sdk: &aws_config::SdkConfig,
    args: &ShowArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let Some(location) = args.file.to_str().and_then(Location::parse) else {
        let SavedEvent { path, records, .. } = saved::load(&args.file)?;
        let shown = Shown {
            name: path.display().to_string(),
            document: read_document(&path),
            records,
        };
        match format {
            Format::Json => report::print_json(&json_of(&shown, args.max_bytes))?,
            _ => print_table(&shown, args.max_bytes),
        }
        return Ok(Outcome::Done);
    };
    // `s3://bucket/prefix`: every object under it, in key order.
    let shown: Vec<Shown> = bucket::documents(sdk, &location)
        .await?
        .into_iter()
        .map(|(name, document)| Shown {
            name,
            records: records(&document).into_iter().cloned().collect(),
            document: Some(document),
        })
        .collect();
    match format {
        Format::Json => report::print_json(&Value::Array(
            shown.iter().map(|s| json_of(s, args.max_bytes)).collect(),
        ))?,
        _ => {
            for one in &shown {
                println!("{}", report::printable(&one.name));
                print_table(one, args.max_bytes);
            }
            println!("{} object(s)", shown.len());
        }
    }
    Ok(Outcome::Done)
}

fn json_of(shown: &Shown, max_bytes: usize) -> Value {
    serde_json::json!({
        "file": shown.name,
        "kpl": kpl_counts(&shown.records),
        "records": views(&shown.records, max_bytes),
    })
}

fn print_table(shown: &Shown, max_bytes: usize) {
    let views = views(&shown.records, max_bytes);
    let counts = kpl_counts(&shown.records);
    if let Some(document) = shown
        .document
        .as_ref()
        .filter(|d| d.get("failure").is_some())
    {
        let summary = FailureSummary::of(document, std::time::SystemTime::now());
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
}

fn read_document(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
