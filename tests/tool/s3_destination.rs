//! The S3 on-failure destination read as a dead-letter queue: objects in
//! the key layout Lambda writes (`aws/lambda/<mapping>/<shard>/YYYY/MM/DD/
//! <time>-<uuid>`), each the on-failure record with the batch under
//! `payload` as an escaped JSON string, listed, replayed and redriven (dry
//! runs), shown, and drained by `hydrator` from `s3://bucket/prefix`; a dry run deletes nothing, and
//! `--delete` removes each object only once its files are written.

use aws_sdk_s3::primitives::ByteStream;
use hydrator_tests::cli::hydrator;
use hydrator_tests::failure::kinesis_failure;
use hydrator_tests::queue::{create_bucket, s3_client};
use hydrator_tests::stream::{unique_suffix, TestStream};
use serde_json::Value;

const MAPPING: &str = "6b4e1c0a-9d2f-4f61-8a57-3c1e2b7d9f10";

async fn object_count(bucket: &str) -> usize {
    s3_client()
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .contents()
        .len()
}

/// Writes the failure of records `first..=last` as Lambda's destination does.
async fn put_failure(bucket: &str, stream: &TestStream, document: &Value, n: usize) -> String {
    let records = document["Records"].as_array().unwrap();
    let first = &records[0]["kinesis"]["sequenceNumber"];
    let last = &records[records.len() - 1]["kinesis"]["sequenceNumber"];
    let mut object = kinesis_failure_of(stream, first, last, records.len());
    let event = serde_json::json!({ "Records": records });
    object["payload"] = Value::String(event.to_string());
    let key = format!(
        "aws/lambda/{MAPPING}/{}/2026/11/21/2026-11-21T06.12.0{n}-{}",
        stream.shard_id(0),
        unique_suffix()
    );
    s3_client()
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(ByteStream::from(object.to_string().into_bytes()))
        .send()
        .await
        .unwrap();
    key
}

fn kinesis_failure_of(stream: &TestStream, first: &Value, last: &Value, size: usize) -> Value {
    let written = |sequence: &Value| hydrator_tests::stream::Written {
        shard_id: stream.shard_id(0).to_owned(),
        sequence_number: sequence.as_str().unwrap().to_owned(),
        partition_key: String::new(),
        data: Vec::new(),
    };
    kinesis_failure(&stream.arn, &written(first), &written(last), size)
}

#[tokio::test]
async fn failures_in_an_s3_destination_are_listed_and_drained_and_deleted_only_when_saved() {
    let (stream, written) = TestStream::with_orders("s3-destination", 7).await;
    let temp = tempfile::Builder::new()
        .prefix("hydrator-s3-destination-")
        .tempdir()
        .unwrap();
    let dir = temp.path();
    // The records as Lambda delivered them, from the tool's own hydrate.
    let record = dir.join("failure.json");
    let failure = kinesis_failure(&stream.arn, &written[0], &written[6], 7);
    std::fs::write(&record, failure.to_string()).unwrap();
    let hydrated = dir.join("hydrated.json");
    let run = hydrator(
        &[
            "hydrate",
            record.to_str().unwrap(),
            "--out",
            hydrated.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let document: Value = serde_json::from_slice(&std::fs::read(&hydrated).unwrap()).unwrap();
    let records = document["Records"].as_array().unwrap();
    let first_batch = serde_json::json!({ "Records": records[..3] });
    let second_batch = serde_json::json!({ "Records": records[3..] });

    let bucket = create_bucket("on-failure").await;
    put_failure(&bucket, &stream, &first_batch, 1).await;
    put_failure(&bucket, &stream, &second_batch, 2).await;
    let location = format!("s3://{bucket}/aws/lambda/");

    let listed = hydrator(
        &["--output", "json", "dlq", "list", "--queue", &location],
        &[],
    )
    .await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    let mut counts: Vec<u64> = listed.report()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["records"].as_u64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(counts, [3, 4]);

    // Replay and redrive take the objects in place (dry runs: nothing sent).
    let replay = hydrator(
        &[
            "--output",
            "json",
            "replay",
            &location,
            "--to-function",
            "orders-consumer",
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(replay.code, Some(0), "{replay:?}");
    let mut chunks: Vec<u64> = replay.report()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["records"].as_u64().unwrap())
        .collect();
    chunks.sort();
    assert_eq!(chunks, [3, 4]);
    let redrive = hydrator(
        &[
            "--output",
            "json",
            "redrive",
            &location,
            "--to-stream",
            &stream.arn,
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(redrive.code, Some(0), "{redrive:?}");
    assert_eq!(redrive.report()["records"], 7);
    // Show reads the objects in key order, each with its own records.
    let show = hydrator(&["--output", "json", "show", &location], &[]).await;
    assert_eq!(show.code, Some(0), "{show:?}");
    let shown = show.report();
    let objects = shown.as_array().unwrap();
    assert_eq!(objects.len(), 2);
    assert!(objects[0]["file"]
        .as_str()
        .unwrap()
        .starts_with(&format!("s3://{bucket}/aws/lambda/{MAPPING}/")));
    let shown_sequences: Vec<&Value> = objects
        .iter()
        .flat_map(|o| o["records"].as_array().unwrap())
        .map(|r| &r["sequenceNumber"])
        .collect();
    let written_sequences: Vec<&Value> = records
        .iter()
        .map(|r| &r["kinesis"]["sequenceNumber"])
        .collect();
    assert_eq!(shown_sequences, written_sequences);
    let table = hydrator(&["show", &location], &[]).await;
    assert_eq!(table.code, Some(0), "{table:?}");
    assert!(table.stdout.contains("2 object(s)"), "{table:?}");
    assert_eq!(object_count(&bucket).await, 2);

    let saved = dir.join("saved");
    let drain = |dry_run: bool| {
        let mut args = vec![
            "--output",
            "json",
            "dlq",
            "drain",
            "--queue",
            location.as_str(),
        ];
        args.extend(["--to", saved.to_str().unwrap(), "--delete"]);
        if dry_run {
            args.push("--dry-run");
        }
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let dry = drain(true);
    let dry = hydrator(&dry.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert_eq!(object_count(&bucket).await, 2, "a dry run deletes nothing");
    assert!(!saved.exists());

    let real = drain(false);
    let real = hydrator(&real.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    assert_eq!(real.code, Some(0), "{real:?}");
    assert_eq!(
        object_count(&bucket).await,
        0,
        "each object deleted once saved"
    );
    // The saved events hold the records byte for byte, in order.
    let mut saved_records = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&saved)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".event.json"))
        .collect();
    files.sort();
    for file in files {
        let event: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        saved_records.extend(event["Records"].as_array().unwrap().clone());
    }
    assert_eq!(&saved_records, records);
}
