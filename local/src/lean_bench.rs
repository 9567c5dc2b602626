//! The lean-hydration benchmark (#27): the release Lambda artefact run
//! through the runtime interface against kinesis-mock, delivering to moto's
//! SQS with an offload bucket in moto's S3, for five batches; each beside the
//! floor measured in the same run: the CPU `serde_json` alone takes to parse
//! the same `GetRecords` answers and write the same document. Prints
//! figures; asserts only that every batch hydrates complete.
//!
//! The function reads the range from [`replay::Replay`], which serves the
//! answers kinesis-mock gave for it (the emulator is too slow under load to
//! answer within the function's attempt timeout). The floor is `lean_floor` (`local/floor`), a program of its own built
//! optimized, run on the answers this program records.
//!
//! Usage: lean_bench [--bootstrap PATH]... [--floor PATH] [--only NAME] [--cold-runs N]
//! (`--bootstrap` more than once compares artefacts on the same pages).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use hydrator_tests::emulator::{kinesis_client, moto_endpoint, sdk_config};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::queue::{create_bucket, create_queue};
use hydrator_tests::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::{binary_payloads, TestStream, Written};
use serde_json::Value;

#[path = "lean_replay.rs"]
mod replay;

use replay::Replay;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// One batch to hydrate: its records, and how many invocations its CPU
/// figure is averaged over.
struct Case {
    name: &'static str,
    payloads: Vec<Vec<u8>>,
    runs: u32,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "3 x 100 B",
            payloads: vec![vec![0xa5; 100]; 3],
            runs: 40,
        },
        Case {
            name: "1,000 x 1 KiB",
            payloads: fixed(1_000, KIB),
            runs: 10,
        },
        Case {
            name: "10,000 x 500 B",
            payloads: fixed(10_000, 500),
            runs: 4,
        },
        Case {
            name: "1 x 10 MiB, offload",
            // 1 KiB short of 10 MiB: kinesis-mock (0.6.2) counts more than
            // the data and partition key against its 10 MiB page, leaves a
            // record within 70 bytes of the limit out of the page and then
            // fails the call with a bare 500 ("last on empty queue").
            payloads: vec![vec![0x5a; 10 * MIB - KIB]],
            runs: 3,
        },
        Case {
            name: "6 MB mixed",
            payloads: mixed(),
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
    // Each artefact named runs on the same recorded pages, for comparison.
    let mut bootstraps: Vec<PathBuf> = args
        .windows(2)
        .filter(|pair| pair[0] == "--bootstrap")
        .map(|pair| PathBuf::from(&pair[1]))
        .collect();
    if bootstraps.is_empty() {
        bootstraps.push(hydrator_tests::runtime_api::release_hydrate_binary());
    }
    let floor = flag("--floor").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| hydrator_tests::workspace_root().join("target"));
        target.join("release/lean_floor")
    });
    let only = flag("--only");
    let cold_runs: usize = flag("--cold-runs")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    for bootstrap in &bootstraps {
        assert!(
            bootstrap.is_file(),
            "{} is missing: run `cargo lambda build --release --bin hydrate`",
            bootstrap.display()
        );
    }
    assert!(
        floor.is_file(),
        "{} is missing: run `cargo build --release -p lean-floor`",
        floor.display()
    );
    let log_dir = std::env::temp_dir().join(format!("hydrate-lean-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).expect("log dir");
    println!("load average at start: {}", load_average());
    for (index, bootstrap) in bootstraps.iter().enumerate() {
        println!("artefact {}: {}", index + 1, bootstrap.display());
        if cold_runs > 0 && only.is_none() {
            cold_start(bootstrap, cold_runs, &log_dir).await;
        }
    }
    println!(
        "{:<20} {:>3} {:>9} {:>6} {:>9} {:>9} {:>6} {:>8} {:>8} {:>6} {:>9} {:>9}",
        "batch",
        "art",
        "data MiB",
        "runs",
        "CPU ms",
        "floor ms",
        "x",
        "+sha ms",
        "+req ms",
        "x req",
        "RSS MiB",
        "doc MiB"
    );
    for case in cases() {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        run(&case, &bootstraps, &floor, &log_dir).await;
    }
    println!();
    println!("load average at end: {}", load_average());
    println!("CPU ms: the function process's user+system time per invocation (from /proc, averaged over runs, after one warm-up);");
    println!("floor ms: serde_json alone, optimized, parsing the same GetRecords answers and writing the same document (least of several passes, thread CPU time);");
    println!("+sha ms: the SHA-256 of the document's bytes alone, the least that signing any request carrying them adds;");
    println!("+req ms: what any delivery to SQS adds to the floor at the least: the document escaped into a SendMessageBatch request and the request's SHA-256, which SigV4 signs (no HTTP); x req: CPU ms against floor + req;");
    println!("RSS MiB: the process's peak resident memory (VmHWM); doc MiB: the document the floor writes.");
    std::fs::remove_dir_all(&log_dir).ok();
}

/// The environment the function runs with in every batch: everything but
/// Kinesis (the batch's [`Replay`]) in moto.
fn function_env(queue_url: String, bucket: String) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto_endpoint()),
        ("DLQ_QUEUE_URL", queue_url),
        ("OFFLOAD_BUCKET", bucket),
        // A Lambda batch holds at most 6 MB, but one failed 10 MiB
        // record is a batch of its own; the default budget is for the former.
        ("READ_MAX_BYTES", (64 * MIB).to_string()),
    ]
}

/// Cold start: a new process each run, timed from spawn to its first poll
/// of the runtime API, with the environment the batches run with.
async fn cold_start(bootstrap: &Path, runs: usize, log_dir: &Path) {
    let env = function_env(
        create_queue("lean-cold").await,
        create_bucket("lean-cold").await,
    );
    let mut inits = Vec::with_capacity(runs);
    for _ in 0..runs {
        let api = RuntimeApi::start().await;
        let function = FunctionProcess::spawn(bootstrap, &api, &env, &log_dir.join("cold.log"));
        let polled = tokio::time::timeout(Duration::from_secs(10), api.first_poll())
            .await
            .expect("the function polled");
        inits.push(polled - function.spawned_at);
    }
    inits.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "cold start (spawn to first poll) over {runs} runs: median {:.2} ms, p90 {:.2} ms, min {:.2} ms",
        ms(inits[runs / 2]),
        ms(inits[runs * 9 / 10]),
        ms(inits[0])
    );
}

async fn run(case: &Case, bootstraps: &[PathBuf], floor: &Path, log_dir: &Path) {
    let client = kinesis_client();
    let stream = TestStream::create(&client, "lean", 1).await;
    client
        .update_max_record_size()
        .stream_arn(&stream.arn)
        .max_record_size_in_kib(10 * 1024)
        .send()
        .await
        .expect("update max record size");
    let written = write_by_size(&stream, &case.payloads).await;
    let data: usize = case.payloads.iter().map(Vec::len).sum();
    let last = written.last().expect("records were written");
    let failure = kinesis_failure(&stream.arn, &written[0], last, written.len());
    let (answers, summary) = record_answers(&stream, &written).await;
    let pages = replay::pages(&answers);
    drop(answers);
    let replay = Replay::start(pages.clone(), summary).await;

    let floor = measure_floor(floor, log_dir, &pages, &failure, &stream, case.runs);
    let payload = sns_event(&failure).to_string().into_bytes();
    for (index, bootstrap) in bootstraps.iter().enumerate() {
        let (cpu, rss) = hydrate_with(bootstrap, &replay, &payload, case.runs, log_dir).await;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<20} {:>3} {:>9.2} {:>6} {:>9.1} {:>9.2} {:>6.2} {:>8.2} {:>8.2} {:>6.2} {:>9.1} {:>9.2}",
            case.name,
            index + 1,
            data as f64 / MIB as f64,
            case.runs,
            ms(cpu),
            ms(floor.document),
            cpu.as_secs_f64() / floor.document.as_secs_f64().max(1e-9),
            ms(floor.hash),
            ms(floor.request),
            cpu.as_secs_f64() / (floor.document + floor.request).as_secs_f64().max(1e-9),
            rss,
            floor.document_bytes as f64 / MIB as f64
        );
    }
}

/// Runs `bootstrap` on the failure `payload` (a warm-up, then `runs` more)
/// against `replay` and moto; its CPU time per invocation and peak RSS in MiB.
async fn hydrate_with(
    bootstrap: &Path,
    replay: &Replay,
    payload: &[u8],
    runs: u32,
    log_dir: &Path,
) -> (Duration, f64) {
    let queue_url = create_queue("lean").await;
    let bucket = create_bucket("lean").await;
    let api = RuntimeApi::start().await;
    let mut env = function_env(queue_url, bucket);
    env.push(("AWS_ENDPOINT_URL_KINESIS", replay.url.clone()));
    let function = FunctionProcess::spawn(bootstrap, &api, &env, &log_dir.join("hydrate.log"));
    api.first_poll().await;
    // The first invocation makes the clients; it is not counted.
    invoke(&api, payload.to_vec()).await;
    let before = function.cpu_time().unwrap_or_default();
    for _ in 0..runs {
        invoke(&api, payload.to_vec()).await;
    }
    let cpu = function
        .cpu_time()
        .unwrap_or_default()
        .saturating_sub(before)
        / runs;
    let rss = function.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    (cpu, rss)
}

/// Writes `payloads` in order with as few `PutRecords` calls as its limits
/// allow (500 records and 5 MiB a call; a record of more than 4 MiB alone),
/// and returns them as the service placed them, in shard order.
async fn write_by_size(stream: &TestStream, payloads: &[Vec<u8>]) -> Vec<Written> {
    const CALL_BYTES: usize = 4 * MIB;
    let mut written = Vec::with_capacity(payloads.len());
    let mut start = 0;
    while start < payloads.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < payloads.len()
            && end - start < 500
            && (end == start || bytes + payloads[end].len() <= CALL_BYTES)
        {
            bytes += payloads[end].len();
            end += 1;
        }
        written.extend(stream.write(0, &payloads[start..end]).await);
        start = end;
    }
    written.sort_by(|a, b| hydrate::compare_decimal(&a.sequence_number, &b.sequence_number));
    written
}

/// What the floor program measured.
struct Floor {
    /// Parsing the answers and writing the document.
    document: Duration,
    document_bytes: usize,
    /// Writing the document into an SQS request and hashing it.
    request: Duration,
    /// Hashing the document alone.
    hash: Duration,
}

/// Runs the floor program on the recorded answers; the least CPU time of
/// each of its steps over several passes.
fn measure_floor(
    floor: &Path,
    log_dir: &Path,
    answers: &[Bytes],
    failure: &Value,
    stream: &TestStream,
    runs: u32,
) -> Floor {
    let failure_file = log_dir.join("failure.json");
    std::fs::write(&failure_file, failure.to_string()).expect("write the failure");
    let answer_files: Vec<PathBuf> = answers
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let file = log_dir.join(format!("answer-{i}.json"));
            std::fs::write(&file, body).expect("write an answer");
            file
        })
        .collect();
    let output = std::process::Command::new(floor)
        .arg(runs.max(5).to_string())
        .arg(&failure_file)
        .arg(&stream.arn)
        .arg(stream.shard_id(0))
        .arg(hydrator_tests::failure::CONSUMER_ARN)
        .arg("us-east-1")
        .args(&answer_files)
        .output()
        .expect("the floor program runs");
    for file in answer_files {
        std::fs::remove_file(file).ok();
    }
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the floor program failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut figures = text.split_whitespace().map(|n| n.parse::<u64>());
    match (
        figures.next(),
        figures.next(),
        figures.next(),
        figures.next(),
    ) {
        (Some(Ok(document)), Some(Ok(len)), Some(Ok(request)), Some(Ok(hash))) => Floor {
            document: Duration::from_nanos(document),
            document_bytes: len as usize,
            request: Duration::from_nanos(request),
            hash: Duration::from_nanos(hash),
        },
        _ => panic!("the floor program printed no figures: {text}"),
    }
}

/// The 1, 5 and 15 minute load averages, as the figures' context.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
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
/// most 10,000 records a call, until the last is in; and its answer to
/// `DescribeStreamSummary`.
async fn record_answers(stream: &TestStream, written: &[Written]) -> (Vec<Vec<u8>>, Vec<u8>) {
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
    client
        .describe_stream_summary()
        .stream_arn(&stream.arn)
        .send()
        .await
        .expect("DescribeStreamSummary");
    let summary = recorder
        .0
        .lock()
        .expect("not poisoned")
        .pop()
        .expect("the summary was recorded");
    (answers, summary)
}
