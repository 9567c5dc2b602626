//! `redrive`: Kinesis records of saved failures written back to a stream,
//! as the producer wrote them.
//!
//! `PutRecords` takes at most 500 records and 5 MiB a call, and answers a
//! call that succeeded with a per-record result: some entries may have
//! failed (`ErrorCode`, counted in `FailedRecordCount`) while the rest were
//! written. Only those entries are sent again, after a full-jitter backoff,
//! until they are written or the attempts run out; every record ends in the
//! report as written (with its new sequence number) or not (with the last
//! error). Nothing is fire-and-forget.
//!
//! By default each partition key's records land in their saved order
//! ([`ordered`]): a call carries at most one record of a key. `--unordered`
//! sends the records in calls of 500 and resends the rejected ones after the
//! rest, in fewer calls. `--deaggregate` writes the user records of KPL
//! aggregates one by one ([`entries`]).
//!
//! A stream given by ARN is written by ARN (`StreamARN`), with the client in
//! the ARN's region: the records land in the ARN's account, not in a stream
//! of the same name in the caller's own. A bare name is the caller's stream.
//!
//! Reports and errors name records by file, index and original sequence
//! number, never by their data or partition key.

mod entries;
pub mod ordered;
mod target;

use std::path::PathBuf;
use std::time::Instant;

use hydrate::Backoff;
use serde::Serialize;

use crate::args::{Format, RedriveArgs};
use crate::output::report;
use crate::sources::bucket;
use crate::Outcome;
pub use entries::{
    batches, entries, Entry, RedriveError, MAX_BYTES_PER_CALL, MAX_BYTES_PER_RECORD,
    MAX_RECORDS_PER_CALL,
};
pub use target::Target;
use target::{client_config, PutRecords};

/// How one record ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordResult {
    pub file: PathBuf,
    pub original_sequence_number: String,
    /// With `--deaggregate`: the user record's place in its aggregate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_record: Option<usize>,
    /// Calls that carried it.
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl RecordResult {
    pub fn written(&self) -> bool {
        self.sequence_number.is_some()
    }

    /// The original sequence number, and the user record's place if any.
    fn shown_sequence(&self) -> String {
        let short = report::short(&self.original_sequence_number);
        match self.user_record {
            Some(at) => format!("{short} #{at}"),
            None => short,
        }
    }
}

pub async fn run(
    sdk: aws_config::SdkConfig,
    args: &RedriveArgs,
    format: Format,
    backoff: Backoff,
) -> anyhow::Result<Outcome> {
    let target = Target::parse(&args.to_stream)?;
    let (events, left_out) = bucket::load_events(&sdk, &args.path, &args.filter).await?;
    if !left_out.is_empty() {
        eprintln!("{} file(s) left out by the filters", left_out.len());
    }
    let entries = entries(&events, args.deaggregate)?;
    if args.dry_run {
        return dry_run(&entries, &target, format);
    }
    let client = aws_sdk_kinesis::Client::from_conf(client_config(&sdk, &target).build());

    let progress = crate::progress::bar(entries.len() as u64, format, "redriving");
    let backoff = Backoff {
        attempts: args.max_attempts,
        ..backoff
    };
    let call = PutRecords {
        client: &client,
        target: &target,
        explicit_hash_key: args.explicit_hash_key.as_deref(),
    };
    let started = Instant::now();
    let sent = if args.unordered {
        hydrate::send_all(&call, &entries, backoff).await
    } else {
        ordered::send_in_key_order(&call, &entries, |e| &e.partition_key, backoff).await
    };
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    let calls = sent.calls;
    let results = results_of(&entries, sent);

    let written = results.iter().filter(|r| r.written()).count();
    if format == Format::Json {
        let mut json = serde_json::json!({
            "stream": target.name(),
            "written": written,
            "notWritten": results.len() - written,
            "orderedByPartitionKey": !args.unordered,
            "calls": calls,
            "elapsedMillis": elapsed.as_millis() as u64,
            "records": results,
        });
        if let Target::Arn { arn } = &target {
            json["streamArn"] = arn.as_str().into();
        }
        report::print_json(&json)?;
    } else {
        print_human(&results, written, &target, calls);
    }
    Ok(if written == results.len() {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// What a redrive would send, sent nowhere.
fn dry_run(entries: &[Entry], target: &Target, format: Format) -> anyhow::Result<Outcome> {
    let bytes: usize = entries.iter().map(Entry::size).sum();
    let calls = batches(entries).len();
    if format == Format::Json {
        report::print_json(&serde_json::json!({
            "stream": target.name(),
            "dryRun": true,
            "records": entries.len(),
            "bytes": bytes,
            "fewestCalls": calls,
        }))?;
    } else {
        println!(
            "dry run: {} record(s), {bytes} bytes, in {calls} call(s) at the fewest, would go to {}; nothing written",
            entries.len(),
            target.shown()
        );
    }
    Ok(Outcome::Done)
}

fn print_human(results: &[RecordResult], written: usize, target: &Target, calls: u32) {
    let failed: Vec<Vec<String>> = results
        .iter()
        .filter(|r| !r.written())
        .map(|r| {
            vec![
                r.file.display().to_string(),
                r.shown_sequence(),
                r.attempts.to_string(),
                format!(
                    "{}: {}",
                    r.error_code.as_deref().unwrap_or("?"),
                    r.error_message.as_deref().unwrap_or("")
                ),
            ]
        })
        .collect();
    println!(
        "{written} of {} record(s) written to {} in {calls} call(s)",
        results.len(),
        target.shown()
    );
    if !failed.is_empty() {
        println!("not written:");
        print!(
            "{}",
            report::table(&["FILE", "SEQUENCE", "ATTEMPTS", "LAST ERROR"], &failed)
        );
    }
}

/// Each record's end, from what sending did.
fn results_of(
    entries: &[Entry],
    sent: hydrate::Sent<(Option<String>, String)>,
) -> Vec<RecordResult> {
    let mut results: Vec<RecordResult> = entries
        .iter()
        .zip(sent.accepted)
        .zip(&sent.attempts)
        .map(|((entry, accepted), attempts)| {
            let (shard_id, sequence_number) =
                accepted.map_or((None, None), |(shard, seq)| (shard, Some(seq)));
            RecordResult {
                file: entry.file.clone(),
                original_sequence_number: entry.sequence_number.clone(),
                user_record: entry.user_record,
                attempts: *attempts,
                shard_id,
                sequence_number,
                error_code: None,
                error_message: None,
            }
        })
        .collect();
    for failure in sent.failures {
        let Some(result) = results.get_mut(failure.index) else {
            continue;
        };
        let prefix = format!("{}: ", failure.code);
        let message = failure
            .error
            .strip_prefix(&prefix)
            .unwrap_or(&failure.error);
        result.error_message = Some(message.to_owned());
        result.error_code = Some(failure.code);
    }
    results
}

#[cfg(test)]
mod tests;
