//! The operator's path end to end: a consumer fails on two records of a
//! stream, the event source mapping retries and bisects down to them, the
//! on-failure records go through SNS and SQS to the hydrator, and the DLQ
//! ends with exactly those two batches. Then `hydrator dlq drain` saves
//! them, `hydrator replay` runs them through the fixed consumer in
//! `cargo lambda watch`, and `hydrator redrive` puts them back on the stream.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrator_tests::cargo_lambda::Watch;
use hydrator_tests::cli::{hydrator, CliRun};
use hydrator_tests::pipeline::{orders, EventSourceMapping, Pipeline, CONSUMER_NAME};
use hydrator_tests::queue::queue_depth;
use hydrator_tests::work_dir::WorkDir;
use serde_json::Value;

/// `hydrator replay` of the saved folder into the consumer under `watch`.
async fn replay(saved: &std::path::Path, watch: &Watch) -> CliRun {
    let function = format!("local:{CONSUMER_NAME}");
    let saved = saved.to_str().unwrap();
    let args = [
        "--output",
        "json",
        "replay",
        saved,
        "--to-function",
        &function,
    ];
    hydrator(
        &[&args[..], &["--local-endpoint", &watch.endpoint]].concat(),
        &[],
    )
    .await
}

#[tokio::test]
async fn two_poison_records_end_in_the_dlq_drain_replay_and_redrive() {
    // The processes' logs and the drained failures; kept if the test fails.
    let folder = WorkDir::new("hydrator-pipeline-");
    let work = folder.path();
    let pipeline = Pipeline::start(&work.join("logs")).await;
    let poison = [12, 26];
    let written = pipeline.stream.write(0, &orders(40, &poison)).await;

    // The mapping: batches of 10, two retries, bisection on error.
    let run = pipeline.consume(EventSourceMapping::PIPELINE).await;
    assert_eq!(run.records_read, 40);
    assert_eq!(
        run.consumed, 38,
        "every record but the two poison ones was consumed"
    );
    let failed_batches: Vec<(String, String, u64)> = run
        .on_failure_records
        .iter()
        .map(|r| {
            let b = &r["KinesisBatchInfo"];
            (
                b["startSequenceNumber"].as_str().unwrap().to_owned(),
                b["endSequenceNumber"].as_str().unwrap().to_owned(),
                b["batchSize"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64)> = poison
        .iter()
        .map(|&i| {
            (
                written[i].sequence_number.clone(),
                written[i].sequence_number.clone(),
                1,
            )
        })
        .collect();
    assert_eq!(
        failed_batches, expected,
        "bisection isolates exactly the two records"
    );

    // SNS -> SQS -> hydrator (SQS trigger) -> DLQ.
    let invocations = pipeline.hydrate_failures().await;
    let retried: Vec<&Value> = invocations
        .iter()
        .flat_map(|(_, answer)| answer["batchItemFailures"].as_array().into_iter().flatten())
        .collect();
    assert!(
        !invocations.is_empty() && retried.is_empty(),
        "{invocations:?}"
    );
    assert_eq!(queue_depth(&pipeline.dlq_url).await, 2);

    // dlq list shows both and leaves them there.
    let args = [&["--output", "json"][..], &pipeline.dlq_list_args()].concat();
    let listed = hydrator(&args, &[]).await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    assert_eq!(
        listed.report()["failures"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        queue_depth(&pipeline.dlq_url).await,
        2,
        "list changes nothing"
    );

    // dlq drain --delete saves both, then deletes them.
    let saved = work.join("failures");
    let drained = hydrator(
        &[
            "--output",
            "json",
            "dlq",
            "drain",
            "--queue-url",
            &pipeline.dlq_url,
            "--to",
            saved.to_str().unwrap(),
            "--delete",
            "--wait-seconds",
            "1",
        ],
        &[],
    )
    .await;
    assert_eq!(drained.code, Some(0), "{drained:?}");
    let report = drained.report();
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2);
    for (failure, &i) in failures.iter().zip(&poison) {
        assert_eq!(failure["status"], "complete");
        assert_eq!(
            failure["startSequenceNumber"],
            written[i].sequence_number.as_str()
        );
        assert_eq!(failure["deleted"], true);
    }
    assert_eq!(queue_depth(&pipeline.dlq_url).await, 0);
    let mut event_files: Vec<_> = std::fs::read_dir(&saved)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".event.json"))
        .collect();
    event_files.sort();
    assert_eq!(event_files.len(), 2);
    let saved_data: Vec<Vec<u8>> = event_files
        .iter()
        .map(|p| {
            let event: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            let records = event["Records"].as_array().unwrap();
            assert_eq!(records.len(), 1);
            STANDARD
                .decode(records[0]["kinesis"]["data"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    let poison_data: Vec<Vec<u8>> = poison.iter().map(|&i| written[i].data.clone()).collect();
    assert_eq!(
        saved_data, poison_data,
        "the saved events hold the failed records byte for byte"
    );

    // replay into the consumer as it is, under cargo lambda watch: it fails again, and says why.
    let unfixed = Watch::start(
        CONSUMER_NAME,
        &[("ACCEPTED_CURRENCIES", "EUR")],
        &work.join("logs-unfixed"),
    )
    .await;
    let replayed = replay(&saved, &unfixed).await;
    assert_eq!(replayed.code, Some(2), "{replayed:?}");
    let events = replayed.report()["events"].as_array().cloned().unwrap();
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(event["succeeded"], false);
        assert_eq!(event["errorType"], "UnsupportedCurrency");
        assert!(
            event["errorMessage"].as_str().unwrap().contains("CHF"),
            "{event}"
        );
    }
    drop(unfixed);

    // replay into the consumer, fixed: both batches go through.
    let watch = Watch::start(
        CONSUMER_NAME,
        &[("ACCEPTED_CURRENCIES", "EUR,CHF")],
        &work.join("logs"),
    )
    .await;
    let replayed = replay(&saved, &watch).await;
    assert_eq!(replayed.code, Some(0), "{replayed:?}");
    let events = replayed.report()["events"].as_array().cloned().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["succeeded"] == true), "{events:?}");

    // redrive puts them back; a reader after the last original record sees them.
    let redriven = hydrator(
        &[
            "--output",
            "json",
            "redrive",
            saved.to_str().unwrap(),
            "--to-stream",
            &pipeline.stream.arn,
        ],
        &[],
    )
    .await;
    assert_eq!(redriven.code, Some(0), "{redriven:?}");
    assert_eq!(redriven.report()["written"], 2);
    let back: Vec<(String, Vec<u8>)> = pipeline
        .stream
        .read(0, Some(&written[39].sequence_number))
        .await
        .into_iter()
        .map(|r| (r.partition_key, r.data))
        .collect();
    let expected_back: Vec<(String, Vec<u8>)> = poison
        .iter()
        .map(|&i| (written[i].partition_key.clone(), written[i].data.clone()))
        .collect();
    assert_eq!(back, expected_back);
}
