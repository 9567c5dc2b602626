//! The failure-storm benchmark: a storm of on-failure records of 10 records
//! each over contiguous ranges of one kinesis-mock shard, delivered to the
//! hydrator in SQS batches, against the same failures hydrated one by one.
//! Counts `GetShardIterator` and `GetRecords` through a proxy, checks every
//! document in the DLQ byte by byte against what was written, and then
//! delivers the storm twice with the idempotency table on. Then memory: the
//! release artefact hydrates a storm over many shards in one SQS invocation
//! that interleaves them, against the same failures one shard an
//! invocation, and its peak RSS is printed for both. Prints figures.
//!
//! Usage: storm_bench [--failures N] [--sqs-batch M] [--shards S] [--bootstrap PATH]

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::assert_records_are;
use hydrator_tests::emulator::{kinesis_endpoint, moto_endpoint, sdk_config, sdk_config_with};
use hydrator_tests::failure::{kinesis_failure, sns_notification, sqs_event, CONSUMER_ARN};
use hydrator_tests::fault_proxy::{Action, FaultProxy};
use hydrator_tests::queue::{create_queue, drain_all};
use hydrator_tests::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::{binary_payloads, TestStream, Written};
use serde_json::Value;

struct Pass {
    reads: usize,
    seconds: f64,
    retried: usize,
    documents: usize,
}

/// Hydrates `bodies` in SQS batches of `batch` into `dlq`, through a
/// counting proxy, and checks every document against `written`.
async fn pass(
    bodies: &[String],
    batch: usize,
    settings: Settings,
    written: &[Written],
    arn: &str,
) -> Pass {
    let dlq = create_queue("storm-bench-dlq").await;
    let proxy = FaultProxy::start(&kinesis_endpoint(), Box::new(|_, _| Action::Forward)).await;
    let settings = Settings {
        dlq_queue_url: Some(dlq.clone()),
        ..settings
    };
    let hydrator = Hydrator::new(sdk_config_with(&[("Kinesis", proxy.url())]), settings);
    let started = Instant::now();
    let mut pending: Vec<String> = bodies.to_vec();
    let mut retried = 0;
    while !pending.is_empty() {
        let mut again = Vec::new();
        for chunk in pending.chunks(batch) {
            let event = sqs_event(chunk).to_string();
            let Ok(Response::Batch(answer)) = hydrator.handle(&event).await else {
                panic!("an SQS event is answered with a batch response")
            };
            // As SQS would: the messages named are delivered again.
            for failure in answer.batch_item_failures {
                let index: usize = failure
                    .item_identifier
                    .trim_start_matches("msg-")
                    .parse()
                    .unwrap();
                again.push(chunk[index].clone());
            }
        }
        retried += again.len();
        pending = again;
    }
    let seconds = started.elapsed().as_secs_f64();
    let reads = proxy.calls_to("GetRecords").len() + proxy.calls_to("GetShardIterator").len();
    let documents = check_documents(&dlq, written, arn).await;
    Pass {
        reads,
        seconds,
        retried,
        documents,
    }
}

/// Checks each document in `dlq` against the ten records written from
/// its start; returns how many there were.
async fn check_documents(dlq: &str, written: &[Written], arn: &str) -> usize {
    let documents = drain_all(dlq).await;
    let by_start: HashMap<&str, usize> = written
        .iter()
        .enumerate()
        .map(|(i, w)| (w.sequence_number.as_str(), i))
        .collect();
    for document in &documents {
        let start = document["failure"]["KinesisBatchInfo"]["startSequenceNumber"]
            .as_str()
            .unwrap();
        let first = by_start[start];
        assert_records_are(document, &written[first..first + 10], arn, CONSUMER_ARN);
    }
    documents.len()
}

/// Peak RSS of the release artefact hydrating `events` (SQS events, one
/// invocation each) into a new DLQ; every document is checked.
async fn peak_rss_mib(bootstrap: &Path, events: &[Value], written: &[Written], arn: &str) -> f64 {
    let dlq = create_queue("storm-memory-dlq").await;
    let log = std::env::temp_dir().join(format!("storm-memory-{}.log", std::process::id()));
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::spawn(
        bootstrap,
        &api,
        &[
            ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            ("DLQ_QUEUE_URL", dlq.clone()),
        ],
        &log,
    );
    api.first_poll().await;
    for event in events {
        let outcome = api
            .invoke(event.to_string().into_bytes(), Duration::from_secs(300))
            .await;
        let Outcome::Response(body) = outcome else {
            panic!("the storm invocation failed: {outcome:?}")
        };
        let answer: Value = serde_json::from_slice(&body).expect("a batch response");
        assert_eq!(
            answer["batchItemFailures"],
            serde_json::json!([]),
            "nothing failed"
        );
    }
    let peak = function.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    let failures = events
        .iter()
        .map(|e| e["Records"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert_eq!(check_documents(&dlq, written, arn).await, failures);
    std::fs::remove_file(&log).ok();
    peak
}

/// A storm of `shards` shards, 12 failures of 10 records (up to 16 KiB
/// each) a shard, through the release artefact: one invocation whose
/// messages interleave the shards, against one invocation a shard.
async fn memory(shards: usize, bootstrap: Option<&str>) {
    let bootstrap = bootstrap.map_or_else(
        || hydrator_tests::workspace_root().join("target/lambda/hydrate/bootstrap"),
        std::path::PathBuf::from,
    );
    if !bootstrap.is_file() {
        println!(
            "memory: skipped, {} is missing (scripts/bench.sh storm builds it)",
            bootstrap.display()
        );
        return;
    }
    let client = hydrator_tests::emulator::kinesis_client();
    let stream = TestStream::create(&client, "storm-memory", shards as i32).await;
    let mut written = Vec::new();
    let mut by_shard: Vec<Vec<String>> = Vec::new();
    for shard in 0..shards {
        let records = stream
            .write(shard, &binary_payloads(120, 16 * 1024, 100 + shard as u64))
            .await;
        by_shard.push(
            records
                .chunks(10)
                .map(|batch| {
                    sns_notification(&kinesis_failure(&stream.arn, &batch[0], &batch[9], 10))
                })
                .collect(),
        );
        written.extend(records);
    }
    let bytes: usize = written.iter().map(|w| w.data.len()).sum();
    let interleaved: Vec<String> = (0..12)
        .flat_map(|i| by_shard.iter().map(move |failures| failures[i].clone()))
        .collect();
    let together = peak_rss_mib(
        &bootstrap,
        &[sqs_event(&interleaved)],
        &written,
        &stream.arn,
    )
    .await;
    let apart: Vec<Value> = by_shard
        .iter()
        .map(|failures| sqs_event(failures))
        .collect();
    let alone = peak_rss_mib(&bootstrap, &apart, &written, &stream.arn).await;
    println!();
    println!(
        "memory: {} failures over {shards} shards, {:.1} MiB of records, release artefact",
        interleaved.len(),
        bytes as f64 / 1_048_576.0
    );
    println!("  one SQS invocation interleaving the shards   peak RSS {together:>6.1} MiB");
    println!("  one SQS invocation a shard                   peak RSS {alone:>6.1} MiB");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let number =
        |name: &str, default: usize| flag(name).and_then(|n| n.parse().ok()).unwrap_or(default);
    let failures = number("--failures", 500);
    let batch = number("--sqs-batch", 100);
    let shards = number("--shards", 24);
    let stream = TestStream::create(
        &hydrator_tests::emulator::kinesis_client(),
        "storm-bench",
        1,
    )
    .await;
    let written = stream
        .write(0, &binary_payloads(failures * 10, 1_024, 15))
        .await;
    let records: Vec<Value> = (0..failures)
        .map(|i| kinesis_failure(&stream.arn, &written[10 * i], &written[10 * i + 9], 10))
        .collect();
    let bodies: Vec<String> = records.iter().map(sns_notification).collect();
    println!(
        "storm: {failures} on-failure records of 10 records, one shard, SQS batches of {batch}"
    );

    let coalesced = pass(&bodies, batch, Settings::default(), &written, &stream.arn).await;
    let unpaced = Settings {
        reads_per_shard_per_second: 1_000,
        ..Settings::default()
    };
    let fast = pass(&bodies, batch, unpaced.clone(), &written, &stream.arn).await;
    let alone = pass(&bodies, 1, unpaced, &written, &stream.arn).await;
    let twice: Vec<String> = bodies.iter().chain(&bodies).cloned().collect();
    let with_table = Settings {
        idempotency_table: Some(hydrator_tests::table::ledger_table().await),
        ..Settings::default()
    };
    let duplicated = pass(&twice, batch, with_table, &written, &stream.arn).await;
    let _ = sdk_config();

    let one_per_failure = 2 * failures;
    println!(
        "{:<44} {:>8} {:>9} {:>9} {:>10}",
        "", "reads", "of 1/fail", "wall s", "documents"
    );
    for (name, p) in [
        ("coalesced, 2 GetRecords/s a shard (default)", &coalesced),
        ("coalesced, no read budget", &fast),
        ("one by one (SQS batches of 1), no budget", &alone),
        ("every record delivered twice, table on", &duplicated),
    ] {
        println!(
            "{name:<44} {:>8} {:>8.1}% {:>9.2} {:>10}",
            p.reads,
            100.0 * p.reads as f64 / one_per_failure as f64,
            p.seconds,
            p.documents
        );
    }
    println!("one read per failure costs {one_per_failure} calls (GetShardIterator + GetRecords)");
    println!(
        "messages retried by SQS in the duplicated storm: {}",
        duplicated.retried
    );
    assert!(
        coalesced.reads * 20 <= one_per_failure,
        "coalesced reads over 5% of one read a failure"
    );
    assert_eq!(
        duplicated.documents, failures,
        "one document a failure with the table on"
    );
    println!("every document byte-exact against what was written");
    memory(shards, flag("--bootstrap").map(String::as_str)).await;
}
