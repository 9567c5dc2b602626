//! The `hydrator` tool against the emulators: `hydrate <file>` on saved
//! events, and `dlq drain` putting parts back together, keeping what is
//! incomplete, and deleting only what it saved.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrate::{Hydrator, Settings};
use hydrator_tests::cli::{hydrator, CliRun};
use hydrator_tests::emulator::sdk_config;
use hydrator_tests::failure::{kinesis_failure, sns_event, sns_notification, sqs_event};
use hydrator_tests::queue::{create_queue, queue_depth, sqs_client};
use hydrator_tests::stream::{TestStream, Written};
use hydrator_tests::work_dir::temp_dir;
use serde_json::Value;

fn data_of(document: &Value) -> Vec<Vec<u8>> {
    document["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            STANDARD
                .decode(r["kinesis"]["data"].as_str().unwrap())
                .unwrap()
        })
        .collect()
}

fn payloads(written: &[Written]) -> Vec<Vec<u8>> {
    written.iter().map(|w| w.data.clone()).collect()
}

/// `hydrator --output json dlq drain` of `dlq` into `dir`.
async fn drain(dlq: &str, dir: &std::path::Path, delete: bool) -> CliRun {
    let mut args = vec!["--output", "json", "dlq", "drain", "--queue-url", dlq];
    args.extend(["--to", dir.to_str().unwrap(), "--wait-seconds", "1"]);
    if delete {
        args.push("--delete");
    }
    hydrator(&args, &[]).await
}

#[tokio::test]
async fn hydrate_reads_a_saved_sns_event_back_into_a_document_file() {
    let (stream, written) = TestStream::with_orders("cli-hydrate", 30).await;
    let event = sns_event(&kinesis_failure(&stream.arn, &written[5], &written[14], 10));
    let temp = temp_dir("cli");
    let file = temp.path().join("sns.json");
    std::fs::write(&file, event.to_string()).unwrap();
    let out = temp.path().join("document.json");

    let run = hydrator(
        &[
            "hydrate",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("10/10") && run.stderr.contains("complete"),
        "{}",
        run.stderr
    );
    let document: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(document["hydration"]["status"], "complete");
    assert_eq!(data_of(&document), payloads(&written[5..15]));
}

#[tokio::test]
async fn hydrate_of_an_sqs_event_names_the_message_it_could_not_take() {
    let (stream, written) = TestStream::with_orders("cli-hydrate", 10).await;
    let good = sns_notification(&kinesis_failure(&stream.arn, &written[2], &written[4], 3));
    let event = sqs_event(&[good, "{\"not\": \"a failure record\"}".to_owned()]);
    let temp = temp_dir("cli");
    let file = temp.path().join("sqs.json");
    std::fs::write(&file, event.to_string()).unwrap();

    let run = hydrator(
        &["--output", "json", "hydrate", file.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.report();
    let documents = report["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 1);
    assert_eq!(data_of(&documents[0]), payloads(&written[2..5]));
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .as_str()
            .unwrap()
            .starts_with("message msg-1: Input."),
        "{errors:?}"
    );
}

#[tokio::test]
async fn drain_joins_parts_keeps_an_incomplete_failure_and_deletes_only_what_it_saved() {
    // 60 records of about 1 KiB through a DLQ that takes 8 KiB messages: many parts.
    let stream =
        TestStream::create(&hydrator_tests::emulator::kinesis_client(), "cli-drain", 1).await;
    let written = stream
        .write(
            0,
            &(0..60)
                .map(|i| vec![b'a' + (i % 26) as u8; 1000])
                .collect::<Vec<_>>(),
        )
        .await;
    let dlq = create_queue("cli-drain").await;
    let hydrator_fn = Hydrator::new(
        sdk_config(),
        Settings {
            dlq_queue_url: Some(dlq.clone()),
            max_message_bytes: 8 * 1024,
            ..Settings::default()
        },
    );
    hydrator_fn
        .handle(sns_event(&kinesis_failure(&stream.arn, &written[0], &written[59], 60)).to_string())
        .await
        .expect("delivered in parts");
    let parts = queue_depth(&dlq).await;
    assert!(parts >= 8, "{parts} parts");

    // Without --delete: saved whole, left in the queue, visible again.
    let temp = temp_dir("cli");
    let dir = temp.path().join("drain");
    let run = drain(&dlq, &dir, false).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let failure = &run.report()["failures"][0];
    assert_eq!(
        (failure["parts"].as_u64(), failure["records"].as_u64()),
        (Some(parts as u64), Some(60))
    );
    assert_eq!(failure["deleted"], false);
    let whole: Value =
        serde_json::from_slice(&std::fs::read(failure["files"][0].as_str().unwrap()).unwrap())
            .unwrap();
    assert!(whole.get("part").is_none());
    assert_eq!(data_of(&whole), payloads(&written));
    assert_eq!(
        queue_depth(&dlq).await,
        parts,
        "nothing deleted, everything visible again"
    );

    // One part lost: the rest is saved part by part and stays in the queue.
    let sqs = sqs_client();
    let taken = sqs
        .receive_message()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap();
    sqs.delete_message()
        .queue_url(&dlq)
        .receipt_handle(taken[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let dir = temp.path().join("drain-incomplete");
    let run = drain(&dlq, &dir, true).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.report();
    assert_eq!(report["failures"].as_array().map(Vec::len), Some(0));
    let incomplete = &report["incomplete"][0];
    assert_eq!(incomplete["count"].as_u64(), Some(parts as u64));
    assert_eq!(
        incomplete["received"].as_array().map(Vec::len),
        Some(parts - 1)
    );
    assert_eq!(
        incomplete["files"].as_array().map(Vec::len),
        Some(parts - 1)
    );
    assert_eq!(
        queue_depth(&dlq).await,
        parts - 1,
        "an incomplete failure is never deleted"
    );
}

/// A whole DynamoDB failure document of `table`, as the hydrator sends it.
fn dynamodb_document(table: &str, start: &str) -> Value {
    serde_json::json!({
        "version": "1",
        "source": "aws:dynamodb",
        "failure": {"DDBStreamBatchInfo": {
            "streamArn": format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/2026-11-21T06:00:00.000"),
            "shardId": "shardId-00000001763452800000-8a4b1f3e",
            "startSequenceNumber": start,
            "endSequenceNumber": start,
            "batchSize": 1}},
        "hydration": {"status": "complete", "origin": "stream", "expectedRecords": 1,
            "hydratedRecords": 1, "missing": [], "getRecordsCalls": 1,
            "getShardIteratorCalls": 1, "durationMs": 5},
        "Records": [{"eventSource": "aws:dynamodb", "dynamodb": {
            "Keys": {"id": {"S": "customer-42@example.com"}}}}]
    })
}

#[tokio::test]
async fn drain_bounds_long_names_and_a_file_it_cannot_write_costs_only_that_failure() {
    let dlq = create_queue("cli-drain-names").await;
    let sqs = sqs_client();
    // The longest table name DynamoDB allows, a name that is not a file
    // name, and one failure whose file is in the way.
    let long = "t".repeat(255);
    let documents = [
        dynamodb_document(&long, "100000000000000000001"),
        dynamodb_document("orders", "100000000000000000002"),
        dynamodb_document("blocked", "100000000000000000003"),
    ];
    for document in &documents {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(document.to_string())
            .send()
            .await
            .unwrap();
    }
    let temp = temp_dir("cli");
    let dir = temp.path().join("drain-names");
    std::fs::create_dir_all(
        dir.join("blocked.shardId-00000001763452800000-8a4b1f3e.100000000000000000003.json"),
    )
    .unwrap();

    let run = drain(&dlq, &dir, true).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.report();
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 3);
    let by_stream = |name: &str| {
        failures
            .iter()
            .find(|f| f["stream"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    for name in [long.as_str(), "orders"] {
        let failure = by_stream(name);
        assert_eq!(failure["deleted"], true, "{failure}");
        assert!(failure.get("error").is_none(), "{failure}");
        for file in failure["files"].as_array().unwrap() {
            let path = std::path::Path::new(file.as_str().unwrap());
            let file_name = path.file_name().unwrap().to_str().unwrap();
            assert!(file_name.len() <= 200, "{file_name}");
            assert!(path.is_file());
        }
    }
    let blocked = by_stream("blocked");
    assert_eq!(blocked["deleted"], false);
    assert!(
        blocked["error"].as_str().unwrap().contains("cannot write"),
        "{blocked}"
    );
    assert!(!run.stdout.contains("customer-42") && !run.stderr.contains("customer-42"));
    assert_eq!(
        queue_depth(&dlq).await,
        1,
        "only the failure that was not saved stays in the queue"
    );

    // In a person's terms, the failure that was not saved is named.
    let human = hydrator(
        &[
            "dlq",
            "drain",
            "--queue-url",
            &dlq,
            "--to",
            dir.to_str().unwrap(),
            "--wait-seconds",
            "1",
        ],
        &[],
    )
    .await;
    assert_eq!(human.code, Some(2), "{human:?}");
    assert!(
        human.stdout.contains("not saved: blocked") && human.stdout.contains("kept in the queue"),
        "{}",
        human.stdout
    );
}
