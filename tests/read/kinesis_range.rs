//! Hydrating Kinesis failures over the wire against kinesis-mock: the failed
//! range comes back whole, byte-exact, in order, and nothing outside it.

use std::time::Instant;

use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::{assert_conforms_to_schema, assert_records_are, hydration};
use hydrator_tests::emulator::{kinesis_client, sdk_config};
use hydrator_tests::failure::{kinesis_failure, sns_event, CONSUMER_ARN};
use hydrator_tests::powertools::{parse_kinesis_event, sha256_hex, with_event_file};
use hydrator_tests::stream::{binary_payloads, TestStream, Written};
use serde_json::Value;

/// Return mode, without the OnSuccess destination's size limit: these tests
/// check what is read, and a 10,000-record document is far over it. For the
/// same reason the byte budget is raised: 10,000 records of up to 2 KiB hold
/// more than one Lambda batch could.
fn hydrator() -> Hydrator {
    let defaults = Settings::default();
    let settings = Settings {
        response_max_bytes: usize::MAX,
        read_limits: hydrate::ReadLimits {
            max_bytes: 64 * 1024 * 1024,
            ..defaults.read_limits
        },
        ..defaults
    };
    Hydrator::new(sdk_config(), settings)
}

/// Publishes the failure of the batch from `first` to `last` (as SNS would
/// deliver it) to the hydrator and returns the document, checked against the schema.
async fn hydrate_failure(
    stream: &TestStream,
    first: &Written,
    last: &Written,
    batch_size: usize,
) -> Value {
    hydrate_failure_record(&kinesis_failure(&stream.arn, first, last, batch_size)).await
}

async fn hydrate_failure_record(failure: &Value) -> Value {
    let failure = failure.clone();
    let event = sns_event(&failure).to_string();
    let response = hydrator().handle(&event).await.expect("hydration succeeds");
    let Response::One(document) = response else {
        panic!("one failure gives one document")
    };
    let document = serde_json::to_value(&document).expect("document serializes");
    assert_eq!(
        document["failure"], failure,
        "the failure record is carried as received"
    );
    assert_conforms_to_schema(&document);
    document
}

async fn hydrate_batch(stream: &TestStream, batch: &[Written], batch_size: usize) -> Value {
    hydrate_failure(stream, &batch[0], &batch[batch.len() - 1], batch_size).await
}

fn text_payloads(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("{{\"order\":{i},\"status\":\"PLACED\"}}").into_bytes())
        .collect()
}

/// Powertools' Kinesis model accepts the records and decodes the same bytes.
fn assert_powertools_agrees(document: &Value, expected: &[Written]) {
    let view = with_event_file(&document["Records"], parse_kinesis_event)
        .expect("Powertools parses the records");
    assert_eq!(view.records, expected.len());
    let digests: Vec<String> = expected.iter().map(|w| sha256_hex(&w.data)).collect();
    assert_eq!(
        view.data_sha256, digests,
        "Powertools decodes the same bytes"
    );
    let sequence_numbers: Vec<&str> = expected
        .iter()
        .map(|w| w.sequence_number.as_str())
        .collect();
    assert_eq!(view.sequence_numbers, sequence_numbers);
}

#[tokio::test]
async fn a_one_record_batch_hydrates_complete_and_byte_exact() {
    let stream = TestStream::create(&kinesis_client(), "one", 1).await;
    let written = stream.write(0, &text_payloads(1)).await;
    let document = hydrate_batch(&stream, &written, 1).await;
    assert_eq!(hydration(&document), ("complete", 1, 1, vec![]));
    assert_eq!(document["hydration"]["getRecordsCalls"], 1);
    assert_records_are(&document, &written, &stream.arn, CONSUMER_ARN);
    assert_powertools_agrees(&document, &written);
}

#[tokio::test]
async fn a_three_record_batch_hydrates_complete_and_byte_exact() {
    let stream = TestStream::create(&kinesis_client(), "three", 1).await;
    let written = stream.write(0, &binary_payloads(3, 300, 3)).await;
    let document = hydrate_batch(&stream, &written, 3).await;
    assert_eq!(hydration(&document), ("complete", 3, 3, vec![]));
    assert_records_are(&document, &written, &stream.arn, CONSUMER_ARN);
    assert_powertools_agrees(&document, &written);
}

#[tokio::test]
async fn a_range_in_the_middle_of_a_shard_returns_exactly_the_range() {
    let stream = TestStream::create(&kinesis_client(), "middle", 1).await;
    let written = stream.write(0, &text_payloads(60)).await;
    let batch = &written[20..35];
    let document = hydrate_batch(&stream, batch, batch.len()).await;
    assert_eq!(hydration(&document), ("complete", 15, 15, vec![]));
    assert_records_are(&document, batch, &stream.arn, CONSUMER_ARN);
    // The limit asked for exactly the batch, so one page held it.
    assert_eq!(document["hydration"]["getRecordsCalls"], 1);
}

#[tokio::test]
async fn only_the_failed_shard_is_read_on_a_two_shard_stream() {
    let stream = TestStream::create(&kinesis_client(), "two-shards", 2).await;
    let first = stream.write(0, &text_payloads(30)).await;
    let second = stream.write(1, &text_payloads(30)).await;
    // Sequence numbers interleave across shards; the range must still stay in one.
    let batch = &second[5..25];
    let document = hydrate_batch(&stream, batch, batch.len()).await;
    assert_eq!(hydration(&document), ("complete", 20, 20, vec![]));
    assert_records_are(&document, batch, &stream.arn, CONSUMER_ARN);
    let other_shard = first[0].shard_id.as_str();
    assert!(document["Records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["eventID"].as_str().unwrap().starts_with(other_shard)));
}

#[tokio::test]
async fn ten_thousand_binary_records_of_mixed_sizes_hydrate_complete_in_order() {
    let stream = TestStream::create(&kinesis_client(), "ten-thousand", 1).await;
    let payloads = binary_payloads(10_000, 2_048, 10_000);
    assert!(
        payloads.iter().any(|p| std::str::from_utf8(p).is_err()),
        "payloads are not UTF-8"
    );
    let started = Instant::now();
    let written = stream.write(0, &payloads).await;
    eprintln!("10,000 records written in {:?}", started.elapsed());
    let started = Instant::now();
    let document = hydrate_batch(&stream, &written, written.len()).await;
    eprintln!(
        "10,000 records: {:?}, {} GetRecords calls",
        started.elapsed(),
        document["hydration"]["getRecordsCalls"]
    );
    assert_eq!(hydration(&document), ("complete", 10_000, 10_000, vec![]));
    assert_records_are(&document, &written, &stream.arn, CONSUMER_ARN);
    assert_powertools_agrees(&document, &written);
}

#[tokio::test]
async fn a_batch_reaching_past_the_shard_is_partial_and_the_reader_stops_promptly() {
    let stream = TestStream::create(&kinesis_client(), "past-tip", 1).await;
    let written = stream.write(0, &text_payloads(8)).await;
    // The batch claims 12 records ending well past the last one in the shard.
    let mut last = written[7].clone();
    last.sequence_number = hydrate::SequenceNumber::parse(&written[7].sequence_number)
        .unwrap()
        .successor()
        .successor()
        .to_string();
    let started = Instant::now();
    let document = hydrate_failure(&stream, &written[4], &last, 12).await;
    eprintln!("past the tip: read in {:?}", started.elapsed());
    assert_eq!(hydration(&document), ("partial", 12, 4, vec!["beyond_tip"]));
    assert_records_are(&document, &written[4..8], &stream.arn, CONSUMER_ARN);
    let gap = &document["hydration"]["missing"][0];
    let after_last = hydrate::SequenceNumber::parse(&written[7].sequence_number)
        .unwrap()
        .successor();
    assert_eq!(gap["fromSequenceNumber"], after_last.as_str());
    assert_eq!(gap["toSequenceNumber"], last.sequence_number.as_str());
    // Stopping promptly is counted, not timed: a reader that polled the open
    // shard for the missing records would make one call per empty page, up
    // to its limit, however fast or slow the machine is.
    let calls = document["hydration"]["getRecordsCalls"].as_u64();
    assert!(
        calls.is_some_and(|calls| calls <= 3),
        "the reader polled the open shard: {calls:?} GetRecords calls"
    );
}

#[tokio::test]
async fn a_stream_that_does_not_exist_gives_an_unavailable_document() {
    let stream = TestStream::create(&kinesis_client(), "exists", 1).await;
    let written = stream.write(0, &text_payloads(2)).await;
    let missing_arn = stream.arn.replace(&stream.name, "no-such-stream");
    let failure = kinesis_failure(&missing_arn, &written[0], &written[1], 2);
    let document = hydrate_failure_record(&failure).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "unavailable");
    assert!(
        h["unavailable"]
            .as_str()
            .unwrap()
            .contains("ResourceNotFoundException"),
        "{h}"
    );
    assert_eq!(h["hydratedRecords"], 0);
    assert_eq!(
        h["missing"],
        serde_json::json!([{
            "fromSequenceNumber": written[0].sequence_number,
            "toSequenceNumber": written[1].sequence_number,
            "reason": "stream_not_found"
        }])
    );
}
