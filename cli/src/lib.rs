//! `hydrator`, the operator's tool for what the hydrate function leaves in
//! the dead-letter queue. One module a job:
//! - [`args`]: the command line, and the help text that teaches it.
//! - [`saved`]: failures saved on disk (documents, parts, events) read back.
//! - [`assemble`]: dead-letter messages grouped back into whole documents.
//! - [`dlq`]: `dlq list` and `dlq drain`: receive, assemble, save, delete.
//! - [`offloaded`]: message bodies kept in S3 followed back, and deleted when asked.
//! - [`hydrate_file`]: `hydrate <file>`: the function's work on a saved event.
//! - [`replay`]: saved events into the consumer function, local or on AWS.
//! - [`redrive`]: Kinesis records back into a stream, every entry accounted for.
//! - [`show`]: one saved failure record by record, KPL aggregates taken apart.
//! - [`report`]: tables for people, JSON for scripts, progress bars on long work.
//! - [`gather`]: the documents `dlq stats` and `dlq report` read, from the queue or a folder.
//! - [`stats`]: `dlq stats`: counts, the oldest and newest failure, a chart over time.
//! - [`html_report`]: `dlq report`: one self-contained HTML page for an incident review.
//! - [`doctor`]: `doctor`: how a consumer is wired to the hydrator, and what to fix.
//!
//! Exit codes: 0 when everything asked for was done, 1 when the command
//! could not run (bad arguments, unreadable files, unreachable service), 2
//! when it ran but some items were not done (listed in its report).

pub mod args;
pub mod assemble;
pub mod dlq;
pub mod doctor;
mod drain_report;
pub mod file_names;
pub mod gather;
pub mod html_report;
pub mod hydrate_file;
pub mod offloaded;
pub mod redrive;
mod redrive_target;
pub mod replay;
pub mod report;
pub mod saved;
pub mod show;
pub mod stats;

/// How a command ended, when it ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every item was done.
    Done,
    /// Some items were not; the report says which.
    Incomplete,
}

/// The SDK configuration: the environment's (profiles, `AWS_ENDPOINT_URL*`,
/// `AWS_REGION`), with the command line's endpoint and region on top.
pub async fn sdk_config(global: &args::Global) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = &global.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = &global.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    loader.load().await
}
