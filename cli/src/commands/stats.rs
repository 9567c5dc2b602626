//! `dlq stats`: what the queue (or a drained folder) holds, counted
//! ([`crate::output::stats`]), as a table and a chart or as JSON.

use std::time::SystemTime;

use crate::args::{Format, SourceArgs};
use crate::output::report;
use crate::output::stats::{render, stats_of};
use crate::sources::gather::gather;
use crate::Outcome;

pub async fn run(
    sdk: &aws_config::SdkConfig,
    args: &SourceArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let gathered = gather(sdk, args, format).await?;
    let stats = stats_of(&gathered, SystemTime::now());
    match format {
        Format::Json => report::print_json(&stats)?,
        Format::Human => print!("{}", render(&stats)),
    }
    Ok(Outcome::Done)
}
