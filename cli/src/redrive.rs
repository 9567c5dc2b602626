//! `redrive`: Kinesis records of saved failures written back to a stream.
//!
//! `PutRecords` takes at most 500 records and 5 MiB a call, and answers a
//! call that succeeded with a per-record result: some entries may have
//! failed (`ErrorCode`, counted in `FailedRecordCount`) while the rest were
//! written. Only those entries are sent again, after a full-jitter backoff,
//! until they are written or the attempts run out; every record ends in the
//! report as written (with its new sequence number) or not (with the last
//! error). Nothing is fire-and-forget.
//!
//! A stream given by ARN is written by ARN (`StreamARN`), with the client in
//! the ARN's region: the records land in the ARN's account, not in a stream
//! of the same name in the caller's own. A bare name is the caller's stream.
//!
//! Reports and errors name records by file, index and original sequence
//! number, never by their data or partition key.

use std::path::PathBuf;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrate::Backoff;
use hydrate::{BatchApi, CallFailure, EntryAnswer};
use serde::Serialize;

use crate::args::{Format, RedriveArgs};
pub use crate::redrive_target::Target;
use crate::redrive_target::{client_config, put_records};
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
    #[error(
        "{file}: record {index} is {source_name}; only Kinesis records can be put on a stream"
    )]
    NotKinesis {
        file: PathBuf,
        index: usize,
        /// `an aws:dynamodb record`, or words of ours when the field is not a
        /// service name: the file's own text is never quoted.
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
            let source = record["eventSource"].as_str();
            if source != Some("aws:kinesis") {
                return Err(RedriveError::NotKinesis {
                    file,
                    index,
                    source_name: source_name(source),
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

/// How an error names a record's `eventSource`: `aws:SERVICE` as it is,
/// anything else only by what it is not, so no text of the file is echoed.
fn source_name(source: Option<&str>) -> String {
    match source {
        None => "a record without an eventSource".to_owned(),
        Some(s)
            if s.len() <= 40
                && s.strip_prefix("aws:").is_some_and(|service| {
                    !service.is_empty()
                        && service
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                }) =>
        {
            format!("an {s} record")
        }
        Some(_) => "a record with an unrecognized eventSource".to_owned(),
    }
}

/// Consecutive runs of entries that each fit one call. A record too large
/// for any call gets a run of its own, and the service names the error.
pub fn batches(entries: &[Entry]) -> Vec<Vec<usize>> {
    hydrate::batches(
        entries,
        MAX_RECORDS_PER_CALL,
        MAX_BYTES_PER_CALL,
        Entry::size,
    )
}

/// How one record ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordResult {
    pub file: PathBuf,
    pub original_sequence_number: String,
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

pub async fn run(
    sdk: aws_config::SdkConfig,
    args: &RedriveArgs,
    format: Format,
    backoff: Backoff,
) -> anyhow::Result<Outcome> {
    let target = Target::parse(&args.to_stream)?;
    let events = saved::load_all(&args.path)?;
    let entries = entries(&events)?;
    let client = aws_sdk_kinesis::Client::from_conf(client_config(&sdk, &target).build());

    let progress = report::progress(entries.len() as u64, format, "redriving");
    let backoff = Backoff {
        attempts: args.max_attempts,
        ..backoff
    };
    let call = PutRecords {
        client: &client,
        target: &target,
        explicit_hash_key: args.explicit_hash_key.as_deref(),
    };
    let sent = hydrate::send_all(&call, &entries, backoff).await;
    progress.finish_and_clear();
    let results = results_of(&entries, sent);

    let written = results.iter().filter(|r| r.written()).count();
    if format == Format::Json {
        let mut json = serde_json::json!({
            "stream": target.name(),
            "written": written,
            "notWritten": results.len() - written,
            "records": results,
        });
        if let Target::Arn { arn } = &target {
            json["streamArn"] = arn.as_str().into();
        }
        report::print_json(&json)?;
    } else {
        let failed: Vec<Vec<String>> = results
            .iter()
            .filter(|r| !r.written())
            .map(|r| {
                vec![
                    r.file.display().to_string(),
                    report::short(&r.original_sequence_number),
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
            "{written} of {} record(s) written to {}",
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
    Ok(if written == results.len() {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// `PutRecords` to the target: the answer is positional, one result a
/// record sent, each with a shard and sequence number or an error code.
struct PutRecords<'a> {
    client: &'a aws_sdk_kinesis::Client,
    target: &'a Target,
    explicit_hash_key: Option<&'a str>,
}

impl BatchApi for PutRecords<'_> {
    type Entry = Entry;
    /// The shard and the new sequence number.
    type Receipt = (Option<String>, String);
    const MAX_ENTRIES: usize = MAX_RECORDS_PER_CALL;
    const MAX_BYTES: usize = MAX_BYTES_PER_CALL;

    fn size(entry: &Entry) -> usize {
        entry.size()
    }

    async fn call(
        &self,
        entries: &[&Entry],
    ) -> Result<Vec<EntryAnswer<Self::Receipt>>, CallFailure> {
        let records: Vec<PutRecordsRequestEntry> = entries
            .iter()
            .filter_map(|entry| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(entry.data.clone()))
                    .partition_key(&entry.partition_key)
                    .set_explicit_hash_key(self.explicit_hash_key.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        let output = put_records(self.client, self.target, records)
            .send()
            .await
            .map_err(|e| {
                let failure = CallFailure::of(&e);
                CallFailure {
                    message: redacted(&failure.message),
                    ..failure
                }
            })?;
        Ok(output
            .records
            .into_iter()
            .map(|record| match (record.sequence_number, record.error_code) {
                (Some(sequence_number), None) => {
                    EntryAnswer::Accepted((record.shard_id, sequence_number))
                }
                (_, code) => EntryAnswer::Rejected {
                    code: code.unwrap_or_else(|| "NoSequenceNumber".to_owned()),
                    message: redacted(record.error_message.as_deref().unwrap_or("")),
                },
            })
            .collect())
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
                attempts: *attempts,
                shard_id,
                sequence_number,
                error_code: None,
                error_message: None,
            }
        })
        .collect();
    for failure in sent.failures {
        let result = &mut results[failure.index];
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

/// A service message without the values it quotes: a validation error
/// reads `Value 'KEY' at 'records.1.member.partitionKey' failed to satisfy
/// constraint`, and the report must not carry a partition key.
fn redacted(message: &str) -> String {
    const VALUE: &str = "Value '";
    const AT: &str = "' at '";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(VALUE) {
        let after = &rest[start + VALUE.len()..];
        let Some(end) = after.find(AT) else { break };
        out.push_str(&rest[..start]);
        out.push_str("Value (not shown) at '");
        rest = &after[end + AT.len()..];
    }
    out.push_str(rest);
    out
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
        let sizes: Vec<usize> = batches(&entries).iter().map(Vec::len).collect();
        assert_eq!(sizes, [500, 500, 201]);
    }

    #[test]
    fn batches_hold_at_most_5_mib() {
        // Six records of 1 MiB: five fill a call exactly, the sixth starts the next.
        let entries: Vec<Entry> = (0..6).map(|_| entry(MAX_BYTES_PER_RECORD)).collect();
        assert_eq!(batches(&entries), [vec![0, 1, 2, 3, 4], vec![5]]);
        let uneven = vec![entry(3 << 20), entry(3 << 20), entry(10)];
        assert_eq!(batches(&uneven), [vec![0], vec![1, 2]]);
    }

    #[test]
    fn every_entry_is_in_exactly_one_batch_in_order() {
        let entries: Vec<Entry> = (0..777).map(|i| entry(1 + (i * 7919) % 40_000)).collect();
        let covered: Vec<usize> = batches(&entries).into_iter().flatten().collect();
        assert_eq!(covered, (0..777).collect::<Vec<_>>());
        for batch in batches(&entries) {
            let bytes: usize = batch.iter().map(|&i| entries[i].size()).sum();
            assert!(batch.len() <= MAX_RECORDS_PER_CALL && bytes <= MAX_BYTES_PER_CALL);
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
    fn a_stream_arn_is_a_target_by_arn_and_a_bare_name_by_name() {
        let arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
        let target = Target::parse(arn).unwrap();
        assert!(
            matches!(&target, Target::Arn { arn: a } if a.as_str() == arn && a.region == "eu-west-1")
        );
        assert_eq!((target.name(), target.shown()), ("orders", arn));
        assert_eq!(
            Target::parse("orders").unwrap(),
            Target::Name("orders".into())
        );
        // Not sent as a stream name for the service to puzzle over.
        let dynamodb =
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000";
        assert!(Target::parse(dynamodb)
            .unwrap_err()
            .to_string()
            .contains("DynamoDB stream"));
        assert!(Target::parse("arn:aws:kinesis:eu-west-1:1234:stream/orders").is_err());
    }

    #[test]
    fn errors_about_a_record_do_not_quote_the_file() {
        let event = |source: Value| SavedEvent {
            path: PathBuf::from("x.event.json"),
            records: vec![serde_json::json!({ "eventSource": source })],
        };
        let secret = "card 4111 1111 1111 1111";
        for (source, said) in [
            (
                Value::from(secret),
                "a record with an unrecognized eventSource",
            ),
            (Value::from("aws:dynamodb"), "an aws:dynamodb record"),
            (Value::Null, "a record without an eventSource"),
        ] {
            let message = entries(&[event(source)]).unwrap_err().to_string();
            assert!(
                message.contains(said) && !message.contains("4111"),
                "{message}"
            );
        }
        let bad = SavedEvent {
            path: PathBuf::from("x.event.json"),
            records: vec![
                serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
                "data": secret, "partitionKey": secret, "sequenceNumber": "49"}}),
            ],
        };
        let message = entries(&[bad]).unwrap_err().to_string();
        assert!(!message.contains("4111"), "{message}");
    }

    #[test]
    fn service_messages_lose_the_values_they_quote() {
        let message = "2 validation errors detected: Value 'customer-42@example.com' at \
            'records.1.member.partitionKey' failed to satisfy constraint: Member must have \
            length less than or equal to 256; Value 'x' at 'streamName' failed";
        let shown = redacted(message);
        assert!(
            !shown.contains("customer-42") && !shown.contains("'x'"),
            "{shown}"
        );
        assert!(
            shown.contains("Value (not shown) at 'records.1.member.partitionKey'"),
            "{shown}"
        );
        assert_eq!(
            redacted("Rate exceeded for shard shardId-000000000001"),
            "Rate exceeded for shard shardId-000000000001"
        );
        assert_eq!(redacted("Value 'unterminated"), "Value 'unterminated");
    }

    /// Captures the `PutRecords` request the client would send, and stops
    /// it there: nothing leaves the machine.
    #[derive(Debug, Default, Clone)]
    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>);

    impl aws_sdk_kinesis::config::Intercept for Capture {
        fn name(&self) -> &'static str {
            "Capture"
        }

        fn read_before_transmit(
            &self,
            context: &aws_sdk_kinesis::config::interceptors::BeforeTransmitInterceptorContextRef<
                '_,
            >,
            _: &aws_sdk_kinesis::config::RuntimeComponents,
            _: &mut aws_sdk_kinesis::config::ConfigBag,
        ) -> Result<(), aws_sdk_kinesis::error::BoxError> {
            let request = context.request();
            let body = request.body().bytes().unwrap_or_default();
            let body = serde_json::from_slice(body).unwrap_or(Value::Null);
            self.0
                .lock()
                .unwrap()
                .push((request.uri().to_owned(), body));
            Err("captured, not sent".into())
        }
    }

    /// The request redrive makes for `to_stream`, from a caller in us-east-1.
    async fn request_for(to_stream: &str) -> (String, Value) {
        let sdk = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let target = Target::parse(to_stream).unwrap();
        let capture = Capture::default();
        let config = client_config(&sdk, &target)
            .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
            .interceptor(capture.clone())
            .build();
        let client = aws_sdk_kinesis::Client::from_conf(config);
        let call = PutRecords {
            client: &client,
            target: &target,
            explicit_hash_key: None,
        };
        let backoff = Backoff {
            attempts: 1,
            ..Backoff::default()
        };
        let sent = hydrate::send_all(&call, &[entry(10)], backoff).await;
        assert!(sent.accepted[0].is_none());
        let captured = capture.0.lock().unwrap();
        assert_eq!(captured.len(), 1, "one call");
        captured[0].clone()
    }

    #[tokio::test]
    async fn a_stream_arn_is_written_by_arn_in_its_own_account_and_region() {
        let arn = "arn:aws:kinesis:eu-west-1:210987654321:stream/orders";
        let (uri, body) = request_for(arn).await;
        assert_eq!(body["StreamARN"], arn, "{body}");
        assert!(body.get("StreamName").is_none(), "{body}");
        assert_eq!(body["Records"].as_array().map(Vec::len), Some(1));
        // The data plane endpoint of the ARN's account, in the ARN's region.
        assert!(
            uri.starts_with("https://210987654321.data-kinesis.eu-west-1.amazonaws.com"),
            "{uri}"
        );
    }

    #[tokio::test]
    async fn a_bare_name_is_the_callers_stream() {
        let (uri, body) = request_for("orders").await;
        assert_eq!(body["StreamName"], "orders", "{body}");
        assert!(body.get("StreamARN").is_none(), "{body}");
        assert!(
            uri.starts_with("https://kinesis.us-east-1.amazonaws.com"),
            "{uri}"
        );
    }
}
