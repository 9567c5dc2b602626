//! The lean-hydration benchmark (#27): the release Lambda artefact run
//! through the runtime interface against kinesis-mock, delivering to moto's
//! SQS with an offload bucket in moto's S3, for five batches; each beside the
//! floor measured in the same run: the CPU `serde_json` alone takes to parse
//! the same `GetRecords` answers and write the same document. Prints
//! figures; asserts only that every batch hydrates complete.
//!
//! Usage: lean_bench [--bootstrap PATH] [--only NAME]

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint, sdk_config};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::hostile::write_in_calls;
use hydrator_tests::queue::{create_bucket, create_queue};
use hydrator_tests::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::{binary_payloads, TestStream, Written};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// One batch to hydrate: its records, how many go in one `PutRecords`
/// call (a call carries at most 5 MiB, or 10 MiB for one large record),
/// and how many invocations its CPU figure is averaged over.
struct Case {
    name: &'static str,
    payloads: Vec<Vec<u8>>,
    per_call: usize,
    runs: u32,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "3 x 100 B",
            payloads: vec![vec![0xa5; 100]; 3],
            per_call: 500,
            runs: 40,
        },
        Case {
            name: "1,000 x 1 KiB",
            payloads: fixed(1_000, KIB),
            per_call: 500,
            runs: 10,
        },
        Case {
            name: "10,000 x 500 B",
            payloads: fixed(10_000, 500),
            per_call: 500,
            runs: 4,
        },
        Case {
            name: "1 x 10 MiB, offload",
            // The partition key counts against the record's 10 MiB too.
            payloads: vec![vec![0x5a; 10 * MIB - 64]],
            per_call: 1,
            runs: 3,
        },
        Case {
            name: "6 MB mixed",
            payloads: mixed(),
            per_call: 4,
            runs: 3,
        },
    ]
}

/// `count` records of `len` bytes each, every byte value present.
fn fixed(count: usize, len: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| (0..len).map(|j| (i * 31 + j) as u8).collect())
        .collect()
}

/// About 6 MB: three records of 900 KiB and twenty of 64 KiB spread among
/// about a thousand of 1 B to 4 KiB.
fn mixed() -> Vec<Vec<u8>> {
    let mut payloads = binary_payloads(960, 4 * KIB, 27);
    for i in 0..20 {
        payloads.insert(i * 45 + 7, vec![(i as u8) ^ 0x3c; 64 * KIB]);
    }
    for i in 0..3 {
        payloads.insert(i * 300 + 100, vec![0xc3 ^ i as u8; 900 * KIB]);
    }
    payloads
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let bootstrap = flag("--bootstrap")
        .map(PathBuf::from)
        .unwrap_or_else(hydrator_tests::runtime_api::release_hydrate_binary);
    let only = flag("--only");
    assert!(
        bootstrap.is_file(),
        "{} is missing: run `cargo lambda build --release --bin hydrate`",
        bootstrap.display()
    );
    let log_dir = std::env::temp_dir().join(format!("hydrate-lean-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).expect("log dir");
    println!("artefact: {}", bootstrap.display());
    println!(
        "{:<20} {:>9} {:>6} {:>9} {:>9} {:>6} {:>9} {:>9}",
        "batch", "data MiB", "runs", "CPU ms", "floor ms", "x", "RSS MiB", "doc MiB"
    );
    for case in cases() {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        run(&case, &bootstrap, &log_dir).await;
    }
    println!();
    println!("CPU ms: the function process's user+system time per invocation (from /proc, averaged over runs, after one warm-up);");
    println!("floor ms: serde_json alone parsing the same GetRecords answers and writing the same document (least of 5, thread CPU time);");
    println!("RSS MiB: the process's peak resident memory (VmHWM); doc MiB: the document the floor writes.");
    std::fs::remove_dir_all(&log_dir).ok();
}

async fn run(case: &Case, bootstrap: &Path, log_dir: &Path) {
    let client = kinesis_client();
    let stream = TestStream::create(&client, "lean", 1).await;
    client
        .update_max_record_size()
        .stream_arn(&stream.arn)
        .max_record_size_in_kib(10 * 1024)
        .send()
        .await
        .expect("update max record size");
    let written = write_in_calls(&stream, &case.payloads, case.per_call).await;
    let data: usize = case.payloads.iter().map(Vec::len).sum();
    let last = written.last().expect("records were written");
    let failure = kinesis_failure(&stream.arn, &written[0], last, written.len());
    let answers = record_answers(&stream, &written).await;

    let queue_url = create_queue("lean").await;
    let bucket = create_bucket("lean").await;
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::spawn(
        bootstrap,
        &api,
        &[
            ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            ("DLQ_QUEUE_URL", queue_url),
            ("OFFLOAD_BUCKET", bucket),
            // A Lambda batch holds at most 6 MB, but one failed 10 MiB
            // record is a batch of its own; the default budget is for the former.
            ("READ_MAX_BYTES", (64 * MIB).to_string()),
        ],
        &log_dir.join("hydrate.log"),
    );
    api.first_poll().await;
    let payload = sns_event(&failure).to_string().into_bytes();
    // The first invocation makes the clients; it is not counted.
    invoke(&api, payload.clone()).await;
    let before = function.cpu_time().unwrap_or_default();
    for _ in 0..case.runs {
        invoke(&api, payload.clone()).await;
    }
    let cpu = function
        .cpu_time()
        .unwrap_or_default()
        .saturating_sub(before)
        / case.runs;
    let rss = function.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    let failure_text = failure.to_string();
    let (floor, doc_len) = floor(&answers, &failure_text, &stream.arn, stream.shard_id(0));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:<20} {:>9.2} {:>6} {:>9.1} {:>9.1} {:>6.1} {:>9.1} {:>9.2}",
        case.name,
        data as f64 / MIB as f64,
        case.runs,
        ms(cpu),
        ms(floor),
        cpu.as_secs_f64() / floor.as_secs_f64().max(1e-9),
        rss,
        doc_len as f64 / MIB as f64
    );
}

async fn invoke(api: &RuntimeApi, payload: Vec<u8>) {
    let outcome = api.invoke(payload, Duration::from_secs(600)).await;
    let Outcome::Response(body) = outcome else {
        panic!("hydration failed: {outcome:?}")
    };
    let report: Value = serde_json::from_slice(&body).expect("a delivery report");
    assert_eq!(
        report["delivered"][0]["status"], "complete",
        "benchmark batches hydrate complete"
    );
}

/// Keeps the body of every answer a client receives.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Vec<u8>>>>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(body) = context.response().body().bytes() {
            self.0.lock().expect("not poisoned").push(body.to_vec());
        }
        Ok(())
    }
}

/// The `GetRecords` answers for the written range as kinesis-mock gives
/// them, read as the function reads: from the first sequence number, at
/// most 10,000 records a call, until the last is in.
async fn record_answers(stream: &TestStream, written: &[Written]) -> Vec<Vec<u8>> {
    let recorder = Recorder::default();
    let config = aws_sdk_kinesis::config::Builder::from(&sdk_config())
        .interceptor(recorder.clone())
        .build();
    let client = aws_sdk_kinesis::Client::from_conf(config);
    let mut iterator = client
        .get_shard_iterator()
        .stream_arn(&stream.arn)
        .shard_id(stream.shard_id(0))
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(&written[0].sequence_number)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator;
    recorder.0.lock().expect("not poisoned").clear();
    let mut seen = 0;
    while let Some(it) = iterator.take() {
        let page = client
            .get_records()
            .stream_arn(&stream.arn)
            .shard_iterator(it)
            .limit(10_000)
            .send()
            .await
            .expect("GetRecords");
        seen += page.records.len();
        if seen < written.len() {
            iterator = page.next_shard_iterator;
        }
    }
    let answers = std::mem::take(&mut *recorder.0.lock().expect("not poisoned"));
    assert!(!answers.is_empty(), "no GetRecords answer was recorded");
    answers
}

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
}

#[derive(Serialize)]
struct FloorDocument<'a> {
    version: &'static str,
    source: &'static str,
    failure: &'a RawValue,
    hydration: FloorHydration,
    #[serde(rename = "Records")]
    records: Vec<FloorRecord<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FloorHydration {
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
struct FloorRecord<'a> {
    kinesis: FloorPayload<'a>,
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
struct FloorPayload<'a> {
    kinesis_schema_version: &'static str,
    partition_key: &'a str,
    sequence_number: &'a str,
    data: &'a str,
    approximate_arrival_timestamp: Option<f64>,
}

/// The least CPU time of five passes of parsing `answers` and writing the
/// document of their records, and the document's length.
fn floor(answers: &[Vec<u8>], failure: &str, arn: &str, shard_id: &str) -> (Duration, usize) {
    let failure: &RawValue = serde_json::from_str(failure).expect("the failure is JSON");
    let mut best = Duration::MAX;
    let mut len = 0;
    for _ in 0..5 {
        let started = thread_cpu();
        let parsed: Vec<Answer<'_>> = answers
            .iter()
            .map(|a| serde_json::from_slice(a).expect("a GetRecords answer"))
            .collect();
        let records: Vec<FloorRecord<'_>> = parsed
            .iter()
            .flat_map(|a| &a.records)
            .map(|r| FloorRecord {
                kinesis: FloorPayload {
                    kinesis_schema_version: "1.0",
                    partition_key: &r.partition_key,
                    sequence_number: &r.sequence_number,
                    data: &r.data,
                    approximate_arrival_timestamp: r.approximate_arrival_timestamp,
                },
                event_source: "aws:kinesis",
                event_version: "1.0",
                event_id: format!("{shard_id}:{}", r.sequence_number),
                event_name: "aws:kinesis:record",
                invoke_identity_arn: hydrator_tests::failure::CONSUMER_ARN,
                aws_region: "us-east-1",
                event_source_arn: arn,
            })
            .collect();
        let count = records.len();
        let document = serde_json::to_vec(&FloorDocument {
            version: "1",
            source: "aws:kinesis",
            failure,
            hydration: FloorHydration {
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
        .expect("the floor document serializes");
        best = best.min(thread_cpu().saturating_sub(started));
        len = document.len();
    }
    (best, len)
}

/// The calling thread's time on a CPU, in nanoseconds, from the scheduler.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}
