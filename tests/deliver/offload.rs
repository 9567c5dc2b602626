//! Records larger than a queue message, over the wire: kinesis-mock holds
//! records of about 3 MiB and 9 MiB among small ones (its streams take up to
//! 10 MiB a record once `UpdateMaxRecordSize` says so), the hydrator delivers
//! the failed batch to moto's SQS with an offload bucket in moto's S3, and a
//! third-party consumer, the Python SQS Extended Client Library, reads the
//! queue and gets every record back byte-exact. The `hydrator` tool drains
//! the same documents whether their parts were offloaded or not.

use hydrate::{join, Document, Hydrator, Offload, ReadLimits, Settings};
use hydrator_tests::check::assert_records_are;
use hydrator_tests::cli::hydrator;
use hydrator_tests::emulator::{kinesis_client, moto_endpoint, sdk_config};
use hydrator_tests::failure::{kinesis_failure, sns_event, CONSUMER_ARN};
use hydrator_tests::hostile::write_in_calls;
use hydrator_tests::queue::{create_bucket, create_queue, s3_client};
use hydrator_tests::stream::{binary_payloads, TestStream, Written};
use serde_json::Value;

const MIB: usize = 1024 * 1024;

/// A one-shard stream that takes 10 MiB records, holding small records
/// around one of about 3 MiB and one of about 9 MiB.
async fn stream_with_large_records() -> (TestStream, Vec<Written>) {
    let client = kinesis_client();
    let stream = TestStream::create(&client, "offload", 1).await;
    client
        .update_max_record_size()
        .stream_arn(&stream.arn)
        .max_record_size_in_kib(10 * 1024)
        .send()
        .await
        .expect("update max record size");
    let mut payloads = binary_payloads(6, 2_000, 7);
    payloads.insert(2, binary_payloads(1, 3 * MIB, 11).remove(0));
    payloads[2].resize(3 * MIB, 0x5a);
    payloads.insert(5, vec![0xa5; 9 * MIB]);
    // One record a call: a PutRecords call carries at most 10 MiB in all.
    let written = write_in_calls(&stream, &payloads, 1).await;
    (stream, written)
}

fn settings(queue_url: &str, offload: Option<Offload>) -> Settings {
    let defaults = Settings::default();
    Settings {
        dlq_queue_url: Some(queue_url.to_owned()),
        offload,
        // This batch holds more bytes than a Lambda batch can; the reader's
        // default budget would (rightly) name the rest over_budget.
        read_limits: ReadLimits {
            max_bytes: 64 * MIB,
            ..defaults.read_limits
        },
        ..defaults
    }
}

/// Hydrates the failure of the whole batch into `queue_url`; the number of
/// messages sent, and the document's status.
async fn deliver(written: &[Written], stream: &TestStream, settings: Settings) -> (usize, Value) {
    let failure = kinesis_failure(
        &stream.arn,
        &written[0],
        written.last().unwrap(),
        written.len(),
    );
    let response = Hydrator::new(sdk_config(), settings)
        .handle(sns_event(&failure).to_string())
        .await
        .expect("delivered");
    let report = serde_json::to_value(&response).unwrap();
    let receipt = &report["delivered"][0];
    let messages = receipt["messageIds"].as_array().unwrap().len();
    (messages, receipt["status"].clone())
}

/// What the Python SQS Extended Client Library receives: each body as the
/// library gives it, and whether it fetched it from S3.
fn read_with_extended_client(queue_url: &str, count: usize) -> Vec<(String, bool)> {
    let root = hydrator_tests::workspace_root();
    let output = std::process::Command::new(root.join(".tools/clients/bin/python"))
        .arg(root.join("tests/offload/read_dlq.py"))
        .args([queue_url, &count.to_string()])
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("run the Python extended client (scripts/tools.sh installs it)");
    assert!(
        output.status.success(),
        "read_dlq.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let message: Value = serde_json::from_str(line).unwrap();
            let body = message["body"].as_str().unwrap().to_owned();
            (body, message["fromS3"].as_bool().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn records_over_a_message_reach_the_dlq_through_s3_and_a_third_party_consumer_reads_them() {
    let (stream, written) = stream_with_large_records().await;
    let queue = create_queue("offload-dlq").await;
    let bucket = create_bucket("offload").await;
    let offload = Offload {
        bucket: bucket.clone(),
        prefix: Offload::DEFAULT_PREFIX.into(),
        kms_key_id: None,
    };
    let (messages, status) = deliver(&written, &stream, settings(&queue, Some(offload))).await;
    assert_eq!(status, "complete", "no record is left out as too_large");

    // The two large records went to S3, one part each, encrypted.
    let s3 = s3_client();
    let objects = s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list objects")
        .contents
        .unwrap_or_default();
    assert_eq!(objects.len(), 2, "one object a large record");
    for object in &objects {
        let key = object.key.as_deref().unwrap();
        assert!(
            key.starts_with("hydrator/") && key.ends_with(".json"),
            "{key}"
        );
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .expect("head object");
        assert!(head.server_side_encryption.is_some(), "{key} is encrypted");
    }

    let received = read_with_extended_client(&queue, messages);
    assert_eq!(received.len(), messages);
    assert_eq!(received.iter().filter(|(_, from_s3)| *from_s3).count(), 2);
    let parts: Vec<Document> = received
        .iter()
        .map(|(body, _)| Document::parse(body).expect("every body is a document part"))
        .collect();
    let document = serde_json::to_value(join(parts).expect("the parts join")).unwrap();
    assert_records_are(&document, &written, &stream.arn, CONSUMER_ARN);
}

#[tokio::test]
async fn the_tool_drains_the_same_document_the_hydrator_returns_and_can_delete_the_objects() {
    let (stream, written) = stream_with_large_records().await;
    let bucket = create_bucket("offload").await;
    let offload = Offload {
        bucket: bucket.clone(),
        prefix: "failures/".into(),
        kms_key_id: None,
    };
    let queue = create_queue("offloaded").await;
    deliver(&written, &stream, settings(&queue, Some(offload))).await;

    // The drained document is 33 MB: removed with its folder, failed or not.
    let temp = tempfile::Builder::new()
        .prefix("hydrator-offload-")
        .tempdir()
        .unwrap();
    let dir = temp.path().join("drained");
    let to = dir.to_str().unwrap();
    let args = [
        "--output",
        "json",
        "dlq",
        "drain",
        "--queue-url",
        &queue,
        "--to",
        to,
    ];
    let args = [
        &args[..],
        &["--wait-seconds", "1", "--delete", "--delete-offloaded"],
    ]
    .concat();
    let run = hydrator(&args, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let failure = &run.report()["failures"][0];
    assert_eq!(failure["deleted"], true);
    let file = failure["files"][0].as_str().unwrap();
    let mut drained: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_records_are(&drained, &written, &stream.arn, CONSUMER_ARN);

    // The document the hydrator returns when it sends nothing: the same.
    let failure = kinesis_failure(
        &stream.arn,
        &written[0],
        written.last().unwrap(),
        written.len(),
    );
    let mut returning = settings(&queue, None);
    returning.dlq_queue_url = None;
    returning.response_max_bytes = 64 * MIB;
    let response = Hydrator::new(sdk_config(), returning)
        .handle(sns_event(&failure).to_string())
        .await
        .expect("returned");
    let mut returned = serde_json::to_value(&response).unwrap();
    // Only the time the hydration took may differ.
    for document in [&mut drained, &mut returned] {
        document["hydration"]["durationMs"] = Value::Null;
    }
    assert_eq!(drained, returned);

    let left = s3_client()
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list objects")
        .key_count;
    assert_eq!(
        left,
        Some(0),
        "the drained messages' objects are deleted with them"
    );
}
