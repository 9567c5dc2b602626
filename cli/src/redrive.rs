//! `redrive`: Kinesis records of saved failures written back to a stream.
//!
//! `PutRecords` takes at most 500 records and 5 MiB a call, and answers a
//! call that succeeded with a per-record result: some entries may have
//! failed (`ErrorCode`, counted in `FailedRecordCount`) while the rest were
//! written. Only those entries are sent again, after a full-jitter backoff,
//! until they are written or the attempts run out; every record ends in the
//! report as written (with its new sequence number) or not (with the last
//! error). Nothing is fire-and-forget.

use std::ops::Range;
use std::path::PathBuf;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrate::backoff::Backoff;
use hydrate::failure::{StreamArn, StreamKind};
use serde::Serialize;

use crate::args::{Format, RedriveArgs};
use crate::report;
use crate::saved::{self, SavedEvent};
use crate::Outcome;

/// Kinesis limits for one `PutRecords` call and one record (data and
/// partition key count toward both).
pub const MAX_RECORDS_PER_CALL: usize = 500;
pub const MAX_BYTES_PER_CALL: usize = 5 * 1024 * 1024;
pub const MAX_BYTES_PER_RECORD: usize = 1024 * 1024;

/// One record to write: where it was saved, and what it holds.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: PathBuf,
    /// The original sequence number, to tell the records apart in reports.
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
}

impl Entry {
    fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("{file}: record {index} is a {source_name} record; only Kinesis records can be put on a stream")]
    NotKinesis {
        file: PathBuf,
        index: usize,
        source_name: String,
    },
    #[error("{file}: record {index} has no {field}")]
    Missing {
        file: PathBuf,
        index: usize,
        field: &'static str,
    },
    #[error("{file}: record {index}'s data is not base64")]
    NotBase64 { file: PathBuf, index: usize },
}

/// The Kinesis records of `events`, in file and record order.
pub fn entries(events: &[SavedEvent]) -> Result<Vec<Entry>, RedriveError> {
    let mut entries = Vec::new();
    for event in events {
        for (index, record) in event.records.iter().enumerate() {
            let file = event.path.clone();
            let source = record["eventSource"].as_str().unwrap_or("unknown");
            if source != "aws:kinesis" {
                return Err(RedriveError::NotKinesis {
                    file,
                    index,
                    source_name: source.to_owned(),
                });
            }
            let field = |name: &'static str| {
                record["kinesis"][name]
                    .as_str()
                    .ok_or_else(|| RedriveError::Missing {
                        file: file.clone(),
                        index,
                        field: name,
                    })
            };
            let data = STANDARD
                .decode(field("data")?)
                .map_err(|_| RedriveError::NotBase64 {
                    file: file.clone(),
                    index,
                })?;
            entries.push(Entry {
                sequence_number: field("sequenceNumber")?.to_owned(),
                partition_key: field("partitionKey")?.to_owned(),
                data,
                file,
            });
        }
    }
    Ok(entries)
}

/// Consecutive runs of entries that each fit one call. A record too large
/// for any call gets a run of its own, and the service names the error.
pub fn batches(entries: &[Entry]) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let full = i - start == MAX_RECORDS_PER_CALL || bytes + entry.size() > MAX_BYTES_PER_CALL;
        if i > start && full {
            batches.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += entry.size();
    }
    if start < entries.len() {
        batches.push(start..entries.len());
    }
    batches
}

/// How one record ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordResult {
    pub file: PathBuf,
    pub original_sequence_number: String,
    pub partition_key: String,
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
}

/// The stream to write to: name and region from a Kinesis stream ARN, or a bare name.
fn stream_target(value: &str) -> (String, Option<String>) {
    match StreamArn::parse(value) {
        Ok(arn) if arn.kind == StreamKind::Kinesis => {
            (arn.name().to_owned(), Some(arn.region.clone()))
        }
        _ => (value.to_owned(), None),
    }
}

pub async fn run(
    sdk: aws_config::SdkConfig,
    args: &RedriveArgs,
    format: Format,
    backoff: Backoff,
) -> anyhow::Result<Outcome> {
    let events = saved::load_all(&args.path)?;
    let entries = entries(&events)?;
    let (stream, region) = stream_target(&args.to_stream);
    let mut config = aws_sdk_kinesis::config::Builder::from(&sdk);
    if let Some(region) = region {
        config = config.region(aws_config::Region::new(region));
    }
    let client = aws_sdk_kinesis::Client::from_conf(config.build());

    let progress = report::progress(entries.len() as u64, format, "redriving");
    let mut results: Vec<RecordResult> = entries
        .iter()
        .map(|e| RecordResult {
            file: e.file.clone(),
            original_sequence_number: e.sequence_number.clone(),
            partition_key: e.partition_key.clone(),
            attempts: 0,
            shard_id: None,
            sequence_number: None,
            error_code: None,
            error_message: None,
        })
        .collect();
    let backoff = Backoff {
        attempts: args.max_attempts,
        ..backoff
    };
    for batch in batches(&entries) {
        put_batch(
            &client,
            &stream,
            args,
            &entries,
            batch,
            &mut results,
            backoff,
        )
        .await;
        progress.set_position(results.iter().filter(|r| r.written()).count() as u64);
    }
    progress.finish_and_clear();

    let written = results.iter().filter(|r| r.written()).count();
    if format == Format::Json {
        report::print_json(&serde_json::json!({
            "stream": stream,
            "written": written,
            "notWritten": results.len() - written,
            "records": results,
        }))?;
    } else {
        let failed: Vec<Vec<String>> = results
            .iter()
            .filter(|r| !r.written())
            .map(|r| {
                vec![
                    r.file.display().to_string(),
                    report::short(&r.original_sequence_number),
                    r.partition_key.clone(),
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
            "{written} of {} record(s) written to {stream}",
            results.len()
        );
        if !failed.is_empty() {
            println!("not written:");
            print!(
                "{}",
                report::table(
                    &[
                        "FILE",
                        "SEQUENCE",
                        "PARTITION KEY",
                        "ATTEMPTS",
                        "LAST ERROR"
                    ],
                    &failed
                )
            );
        }
    }
    Ok(if written == results.len() {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// Writes one batch, resending only what failed, until written or out of attempts.
async fn put_batch(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    args: &RedriveArgs,
    entries: &[Entry],
    batch: Range<usize>,
    results: &mut [RecordResult],
    backoff: Backoff,
) {
    let mut pending: Vec<usize> = batch.collect();
    for attempt in 0..backoff.attempts {
        if attempt > 0 {
            backoff.wait(attempt - 1).await;
        }
        let records: Vec<PutRecordsRequestEntry> = pending
            .iter()
            .filter_map(|&i| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(entries[i].data.clone()))
                    .partition_key(&entries[i].partition_key)
                    .set_explicit_hash_key(args.explicit_hash_key.clone())
                    .build()
                    .ok()
            })
            .collect();
        for &i in &pending {
            results[i].attempts += 1;
        }
        let answer = client
            .put_records()
            .stream_name(stream)
            .set_records(Some(records))
            .send()
            .await;
        match answer {
            Ok(output) => {
                let mut still = Vec::new();
                for (&i, record) in pending.iter().zip(output.records()) {
                    let result = &mut results[i];
                    match (&record.sequence_number, &record.error_code) {
                        (Some(sequence_number), None) => {
                            result.sequence_number = Some(sequence_number.clone());
                            result.shard_id = record.shard_id.clone();
                            result.error_code = None;
                            result.error_message = None;
                        }
                        _ => {
                            result.error_code = record.error_code.clone();
                            result.error_message = record.error_message.clone();
                            still.push(i);
                        }
                    }
                }
                // An answer shorter than the request leaves the rest unaccounted for: send them again.
                still.extend(pending.iter().skip(output.records().len()));
                pending = still;
            }
            Err(error) => {
                let retryable = is_retryable(&error);
                let code = error.code().unwrap_or("CallFailed").to_owned();
                let message = error
                    .message()
                    .map_or_else(|| error.to_string(), str::to_owned);
                for &i in &pending {
                    results[i].error_code = Some(code.clone());
                    results[i].error_message = Some(message.clone());
                }
                if !retryable {
                    return;
                }
            }
        }
        if pending.is_empty() {
            return;
        }
    }
}

/// Throttling, server errors and lost connections pass; a missing stream,
/// a bad argument or a denied call would fail the same way again.
fn is_retryable<R>(
    error: &aws_sdk_kinesis::error::SdkError<
        aws_sdk_kinesis::operation::put_records::PutRecordsError,
        R,
    >,
) -> bool {
    match error.as_service_error() {
        Some(e) => {
            e.is_provisioned_throughput_exceeded_exception()
                || e.is_kms_throttling_exception()
                || matches!(
                    e.code(),
                    Some("InternalFailure" | "ServiceUnavailable" | "LimitExceededException")
                )
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn entry(size: usize) -> Entry {
        Entry {
            file: PathBuf::from("f.json"),
            sequence_number: "1".into(),
            partition_key: "k".into(),
            data: vec![0; size.saturating_sub(1)],
        }
    }

    #[test]
    fn batches_hold_at_most_500_records() {
        let entries: Vec<Entry> = (0..1201).map(|_| entry(10)).collect();
        assert_eq!(batches(&entries), [0..500, 500..1000, 1000..1201]);
    }

    #[test]
    fn batches_hold_at_most_5_mib() {
        // Six records of 1 MiB: five fill a call exactly, the sixth starts the next.
        let entries: Vec<Entry> = (0..6).map(|_| entry(MAX_BYTES_PER_RECORD)).collect();
        assert_eq!(batches(&entries), [0..5, 5..6]);
        let uneven = vec![entry(3 << 20), entry(3 << 20), entry(10)];
        assert_eq!(batches(&uneven), [0..1, 1..3]);
    }

    #[test]
    fn every_entry_is_in_exactly_one_batch_in_order() {
        let entries: Vec<Entry> = (0..777).map(|i| entry(1 + (i * 7919) % 40_000)).collect();
        let covered: Vec<usize> = batches(&entries).into_iter().flatten().collect();
        assert_eq!(covered, (0..777).collect::<Vec<_>>());
        for range in batches(&entries) {
            let bytes: usize = entries[range.clone()].iter().map(Entry::size).sum();
            assert!(range.len() <= MAX_RECORDS_PER_CALL && bytes <= MAX_BYTES_PER_CALL);
        }
    }

    #[test]
    fn only_kinesis_records_with_base64_data_are_taken() {
        let event = |record: Value| SavedEvent {
            path: PathBuf::from("x.event.json"),
            records: vec![record],
        };
        let good = event(
            serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
            "data": "AAEC/w==", "partitionKey": "p", "sequenceNumber": "49"}}),
        );
        let taken = entries(&[good]).unwrap();
        assert_eq!(
            (taken[0].data.as_slice(), taken[0].partition_key.as_str()),
            (&[0u8, 1, 2, 255][..], "p")
        );
        let dynamodb = event(serde_json::json!({"eventSource": "aws:dynamodb"}));
        assert!(matches!(
            entries(&[dynamodb]),
            Err(RedriveError::NotKinesis { .. })
        ));
        let bad = event(
            serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
            "data": "!!", "partitionKey": "p", "sequenceNumber": "49"}}),
        );
        assert!(matches!(
            entries(&[bad]),
            Err(RedriveError::NotBase64 { .. })
        ));
    }

    #[test]
    fn stream_arns_give_name_and_region() {
        assert_eq!(
            stream_target("arn:aws:kinesis:eu-west-1:123456789012:stream/orders"),
            ("orders".to_owned(), Some("eu-west-1".to_owned()))
        );
        assert_eq!(stream_target("orders"), ("orders".to_owned(), None));
    }
}
