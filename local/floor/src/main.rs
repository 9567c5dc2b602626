//! The floor of the lean-hydration benchmark (#27): the CPU time that
//! `serde_json` alone takes to parse the `GetRecords` answers a range was
//! read from into typed records, and write the document of those records in
//! Lambda's event shape, each record's base64 text passed through as it
//! came. Nothing the function does on top (the SDK, HTTP, delivery) is in
//! it, so the function's CPU beside it says what the rest costs.
//!
//! A program of its own so that it runs as optimized code (`cargo build
//! --release -p lean-floor` compiles serde and serde_json only) while the
//! benchmark around it stays in the dev profile.
//!
//! It also measures what any delivery of that document to SQS adds, at the
//! least: the document written into a `SendMessageBatch` request as a JSON
//! string (its quotes and backslashes escaped, the runs between them copied
//! whole, as the function does) and the request's SHA-256, which SigV4 signs
//! for SQS (the payload cannot go unsigned there, as it can to S3). HTTP and
//! the kernel's copies are not in it. And the least of that: the SHA-256 of
//! the document's bytes alone, which any signed request carrying them costs.
//!
//! Usage: lean_floor PASSES FAILURE_FILE STREAM_ARN SHARD_ID CONSUMER_ARN REGION ANSWER_FILE...
//! Prints `CPU_NANOS DOCUMENT_BYTES REQUEST_NANOS HASH_NANOS`: the least
//! thread CPU time of PASSES passes, the length of the document written, the
//! least CPU time of its request's writing and hashing, and of hashing the
//! document alone.

use std::borrow::Cow;
use std::process::ExitCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<AnswerRecord<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AnswerRecord<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
    #[serde(borrow)]
    partition_key: Cow<'a, str>,
    #[serde(borrow)]
    sequence_number: Cow<'a, str>,
    approximate_arrival_timestamp: Option<f64>,
    #[serde(borrow)]
    encryption_type: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    source: &'static str,
    failure: &'a RawValue,
    hydration: Hydration,
    #[serde(rename = "Records")]
    records: Vec<EventRecord<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hydration {
    status: &'static str,
    origin: &'static str,
    expected_records: usize,
    hydrated_records: usize,
    missing: [(); 0],
    get_records_calls: usize,
    get_shard_iterator_calls: u32,
    duration_ms: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventRecord<'a> {
    kinesis: Payload<'a>,
    event_source: &'static str,
    event_version: &'static str,
    #[serde(rename = "eventID")]
    event_id: String,
    event_name: &'static str,
    invoke_identity_arn: &'a str,
    aws_region: &'a str,
    #[serde(rename = "eventSourceARN")]
    event_source_arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    kinesis_schema_version: &'static str,
    partition_key: &'a str,
    sequence_number: &'a str,
    data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    approximate_arrival_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_type: Option<&'a str>,
}

/// What every record of the batch shares.
struct Batch<'a> {
    failure: &'a RawValue,
    stream_arn: &'a str,
    shard_id: &'a str,
    consumer_arn: &'a str,
    region: &'a str,
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(figures) => {
            println!(
                "{} {} {} {}",
                figures.document.as_nanos(),
                figures.document_bytes,
                figures.request.as_nanos(),
                figures.hash.as_nanos()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("lean_floor: {message}");
            eprintln!("usage: lean_floor PASSES FAILURE_FILE STREAM_ARN SHARD_ID CONSUMER_ARN REGION ANSWER_FILE...");
            ExitCode::from(2)
        }
    }
}

/// The least CPU time of each step over the passes, and the document's length.
struct Figures {
    document: Duration,
    document_bytes: usize,
    request: Duration,
    hash: Duration,
}

fn run(args: Vec<String>) -> Result<Figures, String> {
    let [passes, failure, stream_arn, shard_id, consumer_arn, region, answers @ ..] =
        args.as_slice()
    else {
        return Err("too few arguments".into());
    };
    let passes: u32 = passes.parse().map_err(|_| "PASSES is not a count")?;
    let read = |path: &String| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    let failure_text = read(failure)?;
    let failure: &RawValue =
        serde_json::from_slice(&failure_text).map_err(|e| format!("the failure file: {e}"))?;
    let answers = answers.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    if answers.is_empty() {
        return Err("no answer files".into());
    }
    let batch = Batch {
        failure,
        stream_arn,
        shard_id,
        consumer_arn,
        region,
    };
    let mut figures = Figures {
        document: Duration::MAX,
        document_bytes: 0,
        request: Duration::MAX,
        hash: Duration::MAX,
    };
    let mut digests = Vec::new();
    for _ in 0..passes.max(1) {
        let started = thread_cpu()?;
        let written = document(&answers, &batch)?;
        figures.document = figures.document.min(thread_cpu()?.saturating_sub(started));
        figures.document_bytes = written.len();
        let started = thread_cpu()?;
        digests.push(request_digest(&written));
        figures.request = figures.request.min(thread_cpu()?.saturating_sub(started));
        let started = thread_cpu()?;
        digests.push(Sha256::digest(&written).into());
        figures.hash = figures.hash.min(thread_cpu()?.saturating_sub(started));
    }
    // Used, so that the hashing cannot be optimized away.
    if digests.contains(&[0; 32]) {
        return Err("a hash came out as zeros".into());
    }
    Ok(figures)
}

/// The SHA-256 of a `SendMessageBatch` request carrying `document` as its
/// one message body.
fn request_digest(document: &[u8]) -> [u8; 32] {
    let mut request = Vec::with_capacity(document.len() + document.len() / 8 + 128);
    request.extend_from_slice(br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/dlq","Entries":[{"Id":"part-1","MessageBody":""#);
    let mut rest = document;
    while let Some(at) = memchr::memchr2(b'"', b'\\', rest) {
        request.extend_from_slice(&rest[..at]);
        request.extend_from_slice(&[b'\\', rest[at]]);
        rest = &rest[at + 1..];
    }
    request.extend_from_slice(rest);
    request.extend_from_slice(br#""}]}"#);
    Sha256::digest(&request).into()
}

/// One pass: the answers parsed and the document of their records written.
fn document(answers: &[Vec<u8>], batch: &Batch<'_>) -> Result<Vec<u8>, String> {
    let parsed = answers
        .iter()
        .map(|a| serde_json::from_slice::<Answer<'_>>(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("a GetRecords answer: {e}"))?;
    let records: Vec<EventRecord<'_>> = parsed
        .iter()
        .flat_map(|a| &a.records)
        .map(|r| EventRecord {
            kinesis: Payload {
                kinesis_schema_version: "1.0",
                partition_key: &r.partition_key,
                sequence_number: &r.sequence_number,
                data: &r.data,
                approximate_arrival_timestamp: r.approximate_arrival_timestamp,
                encryption_type: r.encryption_type.as_deref(),
            },
            event_source: "aws:kinesis",
            event_version: "1.0",
            event_id: format!("{}:{}", batch.shard_id, r.sequence_number),
            event_name: "aws:kinesis:record",
            invoke_identity_arn: batch.consumer_arn,
            aws_region: batch.region,
            event_source_arn: batch.stream_arn,
        })
        .collect();
    let count = records.len();
    serde_json::to_vec(&Document {
        version: "1",
        source: "aws:kinesis",
        failure: batch.failure,
        hydration: Hydration {
            status: "complete",
            origin: "stream",
            expected_records: count,
            hydrated_records: count,
            missing: [],
            get_records_calls: answers.len(),
            get_shard_iterator_calls: 1,
            duration_ms: 0,
        },
        records,
    })
    .map_err(|e| format!("writing the document: {e}"))
}

/// The calling thread's time on a CPU, from the kernel's per-thread clock
/// (nanosecond resolution; `/proc`'s figures count 10 ms ticks, and its
/// scheduler statistics are not kept on every kernel).
fn thread_cpu() -> Result<Duration, String> {
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanos: i64,
    }
    extern "C" {
        // The C library's, which the standard library links on Linux.
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut time = Timespec {
        seconds: 0,
        nanos: 0,
    };
    // SAFETY: `time` is a valid, writable timespec for the call's duration,
    // and the clock id is Linux's thread CPU-time clock.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
    match (
        status,
        u64::try_from(time.seconds),
        u32::try_from(time.nanos),
    ) {
        (0, Ok(seconds), Ok(nanos)) => Ok(Duration::new(seconds, nanos)),
        _ => Err("the thread CPU-time clock cannot be read".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_floor_writes_every_record_of_every_answer_in_the_event_shape() {
        let answers = [
            json!({"Records": [
                {"Data": "AAEC", "PartitionKey": "k-1", "SequenceNumber": "100", "ApproximateArrivalTimestamp": 1.5},
                {"Data": "/w==", "PartitionKey": "k-2", "SequenceNumber": "101", "EncryptionType": "NONE"}
            ], "NextShardIterator": "it-2", "MillisBehindLatest": 0}),
            json!({"Records": [
                {"Data": "", "PartitionKey": "k-3", "SequenceNumber": "102"}
            ]}),
        ]
        .map(|a| a.to_string().into_bytes());
        let failure: Box<RawValue> = serde_json::from_str(r#"{"requestContext": {}}"#).unwrap();
        let batch = Batch {
            failure: &failure,
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s",
            shard_id: "shardId-000000000000",
            consumer_arn: "arn:aws:lambda:us-east-1:000000000000:function:f",
            region: "us-east-1",
        };
        let document: Value = serde_json::from_slice(&document(&answers, &batch).unwrap()).unwrap();
        assert_eq!(document["hydration"]["hydratedRecords"], 3);
        assert_eq!(document["hydration"]["getRecordsCalls"], 2);
        assert_eq!(document["failure"], json!({"requestContext": {}}));
        let records = document["Records"].as_array().unwrap();
        let data: Vec<&Value> = records.iter().map(|r| &r["kinesis"]["data"]).collect();
        assert_eq!(data, [&json!("AAEC"), &json!("/w=="), &json!("")]);
        assert_eq!(records[1]["eventID"], "shardId-000000000000:101");
        assert_eq!(records[1]["kinesis"]["encryptionType"], "NONE");
        assert_eq!(records[0]["kinesis"]["approximateArrivalTimestamp"], 1.5);
        assert!(records[2]["kinesis"]
            .get("approximateArrivalTimestamp")
            .is_none());
    }

    #[test]
    fn an_answer_that_is_not_one_is_an_error_not_a_panic() {
        let batch = Batch {
            failure: serde_json::from_str("{}").unwrap(),
            stream_arn: "",
            shard_id: "",
            consumer_arn: "",
            region: "",
        };
        assert!(document(&[b"{\"Records\": 3}".to_vec()], &batch).is_err());
        assert!(run(vec!["5".into()]).is_err());
        assert_ne!(request_digest(b"{}"), request_digest(b"{ }"));
        assert!(thread_cpu().is_ok());
    }
}
