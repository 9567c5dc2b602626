//! `dlq report`: the queue (or a drained folder) gathered and written as
//! one self-contained HTML page ([`crate::output::html`]).

use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;
use serde::Serialize;

use crate::args::{Format, ReportArgs};
use crate::output::html::page;
use crate::output::report;
use crate::sources::gather::gather;
use crate::Outcome;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Written<'a> {
    file: &'a Path,
    bytes: usize,
    failures: usize,
}

pub async fn run(
    sdk: &aws_config::SdkConfig,
    args: &ReportArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let gathered = gather(sdk, &args.source, format).await?;
    let page = page(&gathered, args.max_records as usize, SystemTime::now());
    std::fs::write(&args.out, &page)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let written = Written {
        file: &args.out,
        bytes: page.len(),
        failures: gathered.assembled.failures.len(),
    };
    match format {
        Format::Json => report::print_json(&written)?,
        Format::Human => println!(
            "wrote {} ({} bytes): {} failure(s)",
            args.out.display(),
            written.bytes,
            written.failures
        ),
    }
    Ok(Outcome::Done)
}
