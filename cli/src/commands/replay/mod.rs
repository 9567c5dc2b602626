//! `replay`: saved events into the consumer function, one synchronous
//! invocation a chunk, with the consumer's answer read as Lambda reads it and
//! reported per chunk; what still fails can be saved for the next replay.
//!
//! `local[:NAME]` sends the same Invoke API call to `cargo lambda watch`, so
//! a fix can be tried on the real failed records before it is deployed.
//! - [`answer`]: the consumer's answer, read by Lambda's rule.
//! - [`chunks`]: events cut to what one Invoke takes.
//! - [`invoke`]: one invocation, retried within a bound.
//! - [`outcome`]: the rows, the table and JSON, and the events still failing.

mod answer;
mod chunks;
mod invoke;
mod outcome;

use std::time::Duration;

use crate::args::{Format, ReplayArgs};
use crate::output::report;
use crate::sources::bucket;
use crate::sources::saved;
use crate::Outcome;

pub use answer::{Failure, Verdict};
pub use chunks::MAX_INVOKE_PAYLOAD;
use outcome::Row;

/// Where the invocations go.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Aws {
        function: String,
    },
    /// `cargo lambda watch`; `_` is its name for the project's only function.
    Local {
        function: String,
    },
}

impl Target {
    pub fn parse(value: &str) -> Target {
        match value.strip_prefix("local") {
            Some("") => Target::Local {
                function: "_".into(),
            },
            Some(rest) if rest.starts_with(':') => Target::Local {
                function: rest[1..].to_owned(),
            },
            _ => Target::Aws {
                function: value.to_owned(),
            },
        }
    }

    fn function(&self) -> &str {
        match self {
            Target::Aws { function } | Target::Local { function } => function,
        }
    }
}

pub async fn run(
    sdk: aws_config::SdkConfig,
    args: &ReplayArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let (events, left_out) = bucket::load_events(&sdk, &args.path, &args.filter).await?;
    if !left_out.is_empty() {
        eprintln!("{} file(s) left out by the filters", left_out.len());
    }
    if args.dry_run {
        return dry_run(&events, &args.to_function, format);
    }
    if let Some(dir) = &args.failed_to {
        outcome::refuse_overwriting(dir, &events)?;
    }
    let target = Target::parse(&args.to_function);
    let endpoint = match &target {
        Target::Aws { .. } => None,
        Target::Local { .. } => Some(args.local_endpoint.as_str()),
    };
    let backoff = hydrate::Backoff {
        attempts: args.max_attempts,
        ..hydrate::Backoff::default()
    };
    let invoker = invoke::Invoker::new(
        &sdk,
        target.function(),
        endpoint,
        Duration::from_secs(args.timeout),
        backoff,
    );

    let progress = crate::progress::bar(events.len() as u64, format, "replaying");
    let mut rows: Vec<Row> = Vec::new();
    let mut still_failing = Vec::new();
    for event in &events {
        progress.set_message(event.path.display().to_string());
        let chunks = chunks::chunks(&event.envelope, &event.records, MAX_INVOKE_PAYLOAD);
        let mut failing = Vec::new();
        for (index, chunk) in chunks.iter().enumerate() {
            let records = &event.records[chunk.records.clone()];
            let (verdict, attempts) = if chunk.too_large(MAX_INVOKE_PAYLOAD) {
                let failure = Failure::new(
                    "RecordTooLarge",
                    format!("not invoked: one record is over the {MAX_INVOKE_PAYLOAD} bytes an Invoke takes"),
                );
                (Verdict::BatchFailed(failure), 0)
            } else {
                let invoked = invoker.invoke(&chunk.payload, records).await;
                (invoked.verdict, invoked.attempts)
            };
            failing.extend(outcome::failing_records(&verdict, records));
            rows.push(Row::new(
                &event.path,
                (index + 1, chunks.len()),
                records.len(),
                verdict,
                attempts,
                &event.envelope,
            ));
        }
        if !failing.is_empty() {
            still_failing.push(outcome::StillFailing {
                source: &event.path,
                envelope: &event.envelope,
                records: failing,
            });
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    let saved_to = match &args.failed_to {
        Some(dir) => outcome::save_failing(dir, &still_failing)?,
        None => Vec::new(),
    };
    outcome::print(target.function(), &rows, &saved_to, format)?;
    Ok(if rows.iter().all(|r| r.succeeded) {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// The chunks a replay would send, invoked nowhere.
fn dry_run(
    events: &[saved::SavedEvent],
    function: &str,
    format: Format,
) -> anyhow::Result<Outcome> {
    let mut rows = Vec::new();
    for event in events {
        let chunks = chunks::chunks(&event.envelope, &event.records, MAX_INVOKE_PAYLOAD);
        for (index, chunk) in chunks.iter().enumerate() {
            rows.push(serde_json::json!({
                "file": event.path,
                "chunk": index + 1,
                "chunks": chunks.len(),
                "records": chunk.records.len(),
                "bytes": chunk.payload.len(),
                "sendable": !chunk.too_large(MAX_INVOKE_PAYLOAD),
            }));
        }
    }
    if format == Format::Json {
        report::print_json(&serde_json::json!({
            "function": function,
            "dryRun": true,
            "events": rows,
        }))?;
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                ["file", "chunk", "records", "bytes"]
                    .iter()
                    .map(|k| r[k].to_string().trim_matches('"').to_owned())
                    .collect()
            })
            .collect();
        print!(
            "{}",
            report::table(&["EVENT", "CHUNK", "RECORDS", "BYTES"], &cells)
        );
        println!(
            "dry run: {} invocation(s) of {function} would be made; none was",
            rows.len()
        );
    }
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_targets_name_the_watched_function() {
        assert_eq!(
            Target::parse("local"),
            Target::Local {
                function: "_".into()
            }
        );
        assert_eq!(
            Target::parse("local:orders-consumer"),
            Target::Local {
                function: "orders-consumer".into()
            }
        );
        assert_eq!(
            Target::parse("localizer"),
            Target::Aws {
                function: "localizer".into()
            }
        );
    }
}
