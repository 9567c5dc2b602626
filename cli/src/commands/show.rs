//! `show`: one saved document or event, record by record, with KPL
//! aggregates taken apart and each record's data as pretty JSON, text or
//! hex, whichever it is ([`crate::output::records`] makes the views).
//!
//! The document itself keeps its records as Lambda delivered them; this is
//! only a way to read them. What is shown comes from the records: partition
//! keys and text have their control characters escaped, so a record cannot
//! drive the terminal, and data is cut at `--max-bytes`.

use std::path::Path;

use serde_json::Value;

use crate::args::{Format, ShowArgs};
use crate::output::records::{kpl_counts, print_views, views};
use crate::output::report::{self, FailureSummary, SUMMARY_HEADERS};
use crate::sources::saved;
use crate::Outcome;

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
