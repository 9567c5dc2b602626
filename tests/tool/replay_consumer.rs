//! `hydrator replay` over the wire into a consumer written with Powertools
//! for AWS Lambda (Python) `BatchProcessor`, behind a local Invoke API: the
//! consumer's partial batch failures are reported by sequence number (a
//! Kafka record by topic-partition and offset), what still fails is saved and
//! replayed alone, throttling never loses a row, and an event over 6 MB goes
//! in chunks. Documents come from the tool's own `hydrate` of failures read
//! back from the emulators' streams and the local Kafka broker.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use hydrator_tests::cli::{hydrator, CliRun};
use hydrator_tests::failure::{kafka_failure, kinesis_failure};
use hydrator_tests::invoke_api::{InvokeApi, CONSUMER};
use hydrator_tests::kafka::{bootstrap_servers, produce, Outgoing};
use hydrator_tests::stream::{unique_suffix, TestStream, Written};
use hydrator_tests::table::{sequence_numbers, TestTable, KEY};
use hydrator_tests::work_dir::temp_dir;
use serde_json::Value;

/// `hydrator hydrate` of an on-failure record into `dir/NAME.json`.
async fn hydrate_into(dir: &Path, name: &str, failure: &Value) -> PathBuf {
    hydrate_with(dir, name, failure, &[]).await
}

/// [`hydrate_into`] with the tool's environment set as `env` says.
async fn hydrate_with(dir: &Path, name: &str, failure: &Value, env: &[(&str, String)]) -> PathBuf {
    let record = dir.join(format!("{name}.failure.json"));
    std::fs::write(&record, failure.to_string()).unwrap();
    let saved = dir.join("saved");
    std::fs::create_dir_all(&saved).unwrap();
    let document = saved.join(format!("{name}.json"));
    let run = hydrator(
        &[
            "hydrate",
            record.to_str().unwrap(),
            "--out",
            document.to_str().unwrap(),
        ],
        env,
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    document
}

/// `hydrator --output json replay PATH` into the consumer behind `api`.
async fn replay(path: &Path, api: &InvokeApi, extra: &[&str]) -> CliRun {
    let target = format!("local:{CONSUMER}");
    let mut args = vec!["--output", "json", "replay", path.to_str().unwrap()];
    args.extend(["--to-function", &target, "--local-endpoint", &api.endpoint]);
    args.extend(extra);
    hydrator(&args, &[]).await
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A saved event's records by sequence number, or a Kafka event's as
/// `<topic>-<partition>@<offset>`.
fn record_names_in(event_file: &Path) -> Vec<String> {
    let event: Value = serde_json::from_slice(&std::fs::read(event_file).unwrap()).unwrap();
    if let Some(partitions) = event["records"].as_object() {
        assert!(event["eventSource"].is_string(), "a Kafka event: {event}");
        return partitions
            .iter()
            .flat_map(|(key, records)| {
                records
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |r| format!("{key}@{}", r["offset"]))
            })
            .collect();
    }
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.pointer("/kinesis/sequenceNumber")
                .or_else(|| r.pointer("/dynamodb/SequenceNumber"))
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Kinesis orders, those at `poison` marked for the consumer to fail.
async fn kinesis_orders(count: usize, poison: &[usize]) -> (TestStream, Vec<Written>) {
    let client = hydrator_tests::emulator::kinesis_client();
    let stream = TestStream::create(&client, "replay", 1).await;
    let payloads: Vec<Vec<u8>> = (0..count)
        .map(|i| serde_json::json!({"order": i, "poison": poison.contains(&i)}).to_string())
        .map(String::into_bytes)
        .collect();
    let written = stream.write(0, &payloads).await;
    (stream, written)
}

/// Replays `document`: the consumer fails exactly `expected`, which are
/// reported (under `failedSequenceNumbers`, or `failedRecords` for Kafka)
/// and saved; the saved event replays only them, and once the consumer
/// takes them the replay is done.
async fn fails_names_saves_and_replays_only(document: &Path, expected: &[String], dir: &Path) {
    fails_names_saves_and_replays(document, "failedSequenceNumbers", expected, dir).await;
}

async fn fails_names_saves_and_replays(
    document: &Path,
    field: &str,
    expected: &[String],
    dir: &Path,
) {
    let api = InvokeApi::start(&[], &[], dir).await;
    let failed_to = dir.join("still-failing");
    let run = replay(
        document,
        &api,
        &["--failed-to", failed_to.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.report();
    let rows = report["events"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["succeeded"], false);
    assert_eq!(rows[0]["result"], "recordsFailed");
    assert_eq!(strings(&rows[0][field]), expected, "{report}");

    let saved = strings(&report["failedTo"]);
    assert_eq!(saved.len(), 1, "{report}");
    assert_eq!(record_names_in(Path::new(&saved[0])), expected);

    // The next replay sends those records and no other: still failing.
    let again = replay(&failed_to, &api, &[]).await;
    assert_eq!(again.code, Some(2), "{again:?}");
    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].sequence_numbers, expected);
    // Powertools fails the whole batch when every record fails: an unhandled error.
    let row = &again.report()["events"][0];
    assert_eq!(row["result"], "batchFailed", "{row}");
    assert_eq!(row["errorType"], "BatchProcessingError", "{row}");
    drop(api);

    // The fixed consumer takes them all.
    let fixed = InvokeApi::start(&[], &[("ACCEPT_POISON", "1")], dir).await;
    let done = replay(&failed_to, &fixed, &[]).await;
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(done.report()["events"][0]["result"], "succeeded");
    assert_eq!(fixed.requests()[0].sequence_numbers, expected);
}

#[tokio::test]
async fn a_kinesis_batch_with_three_failed_records_is_reported_saved_and_replayed_alone() {
    let work = temp_dir("replay-kinesis");
    let dir = work.path();
    let poison = [2, 5, 7];
    let (stream, written) = kinesis_orders(10, &poison).await;
    let failure = kinesis_failure(&stream.arn, &written[0], &written[9], 10);
    let document = hydrate_into(dir, "orders", &failure).await;
    let expected: Vec<String> = poison
        .iter()
        .map(|&i| written[i].sequence_number.clone())
        .collect();
    fails_names_saves_and_replays_only(&document, &expected, dir).await;
}

#[tokio::test]
async fn a_dynamodb_batch_with_three_failed_records_is_reported_saved_and_replayed_alone() {
    let work = temp_dir("replay-dynamodb");
    let dir = work.path();
    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    let poison = [1, 4, 6];
    for i in 0..8 {
        let item = HashMap::from([
            (KEY.to_owned(), AttributeValue::S(format!("order-{i}"))),
            (
                "poison".to_owned(),
                AttributeValue::Bool(poison.contains(&i)),
            ),
        ]);
        table.put(item).await;
    }
    let records = table.stream_records().await;
    assert_eq!(records.len(), 8);
    let failure = table.failure(&records, 0, 7).await;
    let document = hydrate_into(dir, "orders-table", &failure).await;
    let all = sequence_numbers(&records);
    let expected: Vec<String> = poison.iter().map(|&i| all[i].clone()).collect();
    fails_names_saves_and_replays_only(&document, &expected, dir).await;
}

#[tokio::test]
async fn a_kafka_batch_over_two_partitions_with_three_failed_records_is_reported_saved_and_replayed_alone(
) {
    let work = temp_dir("replay-kafka");
    let dir = work.path();
    let topic = format!("order-events-v2-{}", unique_suffix());
    // Orders over two partitions, written by kafka-python; three marked poison.
    let poison = [1, 4, 7];
    let outgoing: Vec<Outgoing> = (0..9)
        .map(|i| Outgoing {
            partition: i32::from(i % 2 == 1),
            key: (i != 3).then(|| format!("customer-{i}").into_bytes()),
            value: Some(
                serde_json::json!({"order": i, "poison": poison.contains(&i)})
                    .to_string()
                    .into_bytes(),
            ),
            headers: vec![("trace".to_owned(), vec![0, 1, 2])],
        })
        .collect();
    let acknowledged = produce(&topic, 2, &outgoing);
    let servers = bootstrap_servers();
    let offsets = |partition: i32| {
        acknowledged
            .iter()
            .filter(move |a| a.partition == partition)
            .map(|a| a.offset)
    };
    let first = |partition| offsets(partition).min().unwrap();
    let last = |partition| offsets(partition).max().unwrap();
    let failure = kafka_failure(
        &servers,
        &[
            (format!("{topic}-0"), first(0), last(0)),
            (format!("{topic}-1"), first(1), last(1)),
        ],
    );
    let document = hydrate_with(
        dir,
        "orders-kafka",
        &failure,
        &[("KAFKA_BOOTSTRAP_ALLOWLIST", servers.clone())],
    )
    .await;
    // Named in the event's order: partition 0's records, then partition 1's.
    let mut failed: Vec<(i32, i64)> = poison
        .iter()
        .map(|&i| (acknowledged[i].partition, acknowledged[i].offset))
        .collect();
    failed.sort_unstable();
    let expected: Vec<String> = failed
        .iter()
        .map(|(partition, offset)| format!("{topic}-{partition}@{offset}"))
        .collect();
    fails_names_saves_and_replays(&document, "failedRecords", &expected, dir).await;
}

#[tokio::test]
async fn an_event_throttled_past_every_retry_fails_alone_and_every_event_has_a_row() {
    let work = temp_dir("replay-throttled");
    let dir = work.path();
    let (stream, written) = kinesis_orders(3, &[]).await;
    // Three saved events of one record each, cut from one hydrated document.
    let failure = kinesis_failure(&stream.arn, &written[0], &written[2], 3);
    let document = hydrate_into(dir, "orders", &failure).await;
    let document: Value = serde_json::from_slice(&std::fs::read(&document).unwrap()).unwrap();
    let events = dir.join("events");
    std::fs::create_dir_all(&events).unwrap();
    for (i, record) in document["Records"].as_array().unwrap().iter().enumerate() {
        let event = serde_json::json!({ "Records": [record] });
        std::fs::write(events.join(format!("{i}.event.json")), event.to_string()).unwrap();
    }

    // The second event is throttled more often than any client retries; the
    // third twice, then taken.
    let throttles = [
        (written[1].sequence_number.as_str(), 1_000),
        (written[2].sequence_number.as_str(), 2),
    ];
    let api = InvokeApi::start(&throttles, &[], dir).await;
    let run = replay(&events, &api, &["--max-attempts", "4"]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.report();
    let rows = report["events"].as_array().unwrap();
    let summary: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["result"].as_str().unwrap().to_owned(),
                r["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("succeeded".to_owned(), 1),
            ("batchFailed".to_owned(), 4),
            ("succeeded".to_owned(), 3)
        ],
        "{report}"
    );
    assert_eq!(rows[1]["errorType"], "TooManyRequestsException");
    let statuses: Vec<u16> = api.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 429, 429, 429, 429, 429, 429, 200]);
}

#[tokio::test]
async fn an_event_over_six_megabytes_goes_in_chunks_in_order_each_reported() {
    let work = temp_dir("replay-large");
    let dir = work.path();
    let client = hydrator_tests::emulator::kinesis_client();
    let stream = TestStream::create(&client, "replay-large", 1).await;
    // Seven records of 800 KB: about 7.5 MB once base64 encoded (as much as
    // the hydrator's document budget keeps), two chunks.
    let payloads: Vec<Vec<u8>> = (0..7u8)
        .map(|i| {
            let mut order = serde_json::json!({"order": i, "poison": i == 5, "pad": ""});
            order["pad"] = Value::String("x".repeat(800_000));
            order.to_string().into_bytes()
        })
        .collect();
    let written = stream.write(0, &payloads).await;
    let failure = kinesis_failure(&stream.arn, &written[0], &written[6], 7);
    let document = hydrate_into(dir, "large", &failure).await;

    let api = InvokeApi::start(&[], &[], dir).await;
    let run = replay(&document, &api, &[]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report = run.report();
    let rows = report["events"].as_array().unwrap();
    assert!(rows.len() >= 2, "{report}");
    let all: Vec<String> = written.iter().map(|w| w.sequence_number.clone()).collect();
    let requests = api.requests();
    assert_eq!(requests.len(), rows.len());
    let sent: Vec<String> = requests
        .iter()
        .flat_map(|r| {
            assert_eq!(r.status, 200, "every chunk fits what Lambda takes");
            r.sequence_numbers.clone()
        })
        .collect();
    assert_eq!(sent, all, "every record once, in order");
    let mut failed = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["chunk"], i + 1);
        assert_eq!(row["chunks"], rows.len());
        failed.extend(strings(&row["failedSequenceNumbers"]));
    }
    assert_eq!(failed, [all[5].clone()]);
}
