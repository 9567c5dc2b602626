//! The faults real streams produce, over the wire: the fault proxy sits
//! between the hydrator and kinesis-mock or moto and answers with the
//! services' own error shapes; the range still comes back exactly, or the
//! document says precisely what is missing and why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_sdk_dynamodbstreams::types::Record as StreamRecord;
use aws_sdk_kinesis::primitives::Blob;
use hydrate::Backoff;
use hydrate::ReadLimits;
use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::{assert_conforms_to_schema, assert_records_are, hydration};
use hydrator_tests::emulator::{
    kinesis_client, kinesis_endpoint, moto_endpoint, sdk_config, sdk_config_with,
};
use hydrator_tests::failure::{kinesis_failure, CONSUMER_ARN};
use hydrator_tests::fault_proxy::{service_error, Action, Call, FaultProxy, Rule};
use hydrator_tests::stream::{TestStream, Written};
use hydrator_tests::table::{sequence_numbers, TestTable, KEY};
use serde_json::{json, Value};
use tokio::time::Instant;

/// Quick retries, the same shape as the real schedule, and no size limit on
/// returned documents (these tests look at what was read).
fn settings() -> Settings {
    Settings {
        read_limits: ReadLimits {
            retry: Backoff {
                base: Duration::from_millis(5),
                cap: Duration::from_millis(40),
                attempts: 12,
            },
            ..ReadLimits::default()
        },
        response_max_bytes: usize::MAX,
        ..Settings::default()
    }
}

async fn kinesis_through(rule: Rule) -> (FaultProxy, Hydrator) {
    let proxy = FaultProxy::start(&kinesis_endpoint(), rule).await;
    let hydrator = Hydrator::new(sdk_config_with(&[("Kinesis", proxy.url())]), settings());
    (proxy, hydrator)
}

async fn dynamodb_through(rule: Rule) -> (FaultProxy, Hydrator) {
    let proxy = FaultProxy::start(&moto_endpoint(), rule).await;
    let hydrator = Hydrator::new(
        sdk_config_with(&[("DynamoDB Streams", proxy.url())]),
        settings(),
    );
    (proxy, hydrator)
}

async fn hydrate_doc(hydrator: &Hydrator, failure: &Value, deadline: Option<Instant>) -> Value {
    hydrate_timed(hydrator, failure, deadline).await.0
}

/// The document, and when the hydrator answered: before it is checked,
/// which takes time of its own.
async fn hydrate_timed(
    hydrator: &Hydrator,
    failure: &Value,
    deadline: Option<Instant>,
) -> (Value, Instant) {
    let response = hydrator
        .handle_until(failure.to_string(), deadline)
        .await
        .expect("a document");
    let answered = Instant::now();
    let Response::One(document) = response else {
        panic!("one failure, one document")
    };
    let document = serde_json::to_value(&document).unwrap();
    assert_conforms_to_schema(&document);
    (document, answered)
}

async fn orders(count: usize) -> (TestStream, Vec<Written>) {
    TestStream::with_orders("faults", count).await
}

fn is(call: &Call, operation: &str) -> bool {
    call.operation() == operation
}

/// The first `n` GetRecords calls fail with `fault`; everything else passes.
fn first_reads_fail(n: usize, fault: Action) -> Rule {
    let seen = Arc::new(Mutex::new(0));
    Box::new(move |call, _| {
        if !is(call, "GetRecords") {
            return Action::Forward;
        }
        let mut seen = seen.lock().unwrap();
        *seen += 1;
        if *seen <= n {
            fault.clone()
        } else {
            Action::Forward
        }
    })
}

#[tokio::test]
async fn kinesis_throttling_is_retried_until_the_batch_is_whole() {
    for (status, error_type) in [
        (400, "ProvisionedThroughputExceededException"),
        (400, "KMSThrottlingException"),
        (500, "InternalFailure"),
        (503, "ServiceUnavailable"),
    ] {
        let (stream, written) = orders(6).await;
        let (proxy, hydrator) = kinesis_through(first_reads_fail(
            3,
            service_error(status, error_type, "Rate exceeded for shard"),
        ))
        .await;
        let failure = kinesis_failure(&stream.arn, &written[1], &written[4], 4);
        let document = hydrate_doc(&hydrator, &failure, None).await;
        assert_eq!(
            hydration(&document),
            ("complete", 4, 4, vec![]),
            "{error_type}"
        );
        assert_records_are(&document, &written[1..=4], &stream.arn, CONSUMER_ARN);
        assert_eq!(
            proxy.calls_to("GetRecords").len(),
            4,
            "{error_type}: three refused, one answered"
        );
    }
}

#[tokio::test]
async fn reset_and_slow_connections_are_retried() {
    let (stream, written) = orders(5).await;
    let (proxy, hydrator) = kinesis_through(first_reads_fail(2, Action::Reset)).await;
    let failure = kinesis_failure(&stream.arn, &written[0], &written[4], 5);
    let document = hydrate_doc(&hydrator, &failure, None).await;
    assert_eq!(hydration(&document), ("complete", 5, 5, vec![]));
    assert_eq!(proxy.calls_to("GetRecords").len(), 3);

    let (proxy, hydrator) = kinesis_through(first_reads_fail(
        1,
        Action::Delay(Duration::from_millis(300)),
    ))
    .await;
    let document = hydrate_doc(&hydrator, &failure, None).await;
    assert_eq!(hydration(&document), ("complete", 5, 5, vec![]));
    assert_eq!(proxy.calls_to("GetRecords").len(), 1);
}

#[tokio::test]
async fn dynamodb_limit_exceeded_is_retried() {
    let (table, stream) = table_with(5).await;
    let (proxy, hydrator) = dynamodb_through(first_reads_fail(
        3,
        service_error(400, "LimitExceededException", "Too many requests"),
    ))
    .await;
    let failure = ddb_failure(&table, &stream, 0, 4).await;
    let document = hydrate_doc(&hydrator, &failure, None).await;
    assert_eq!(hydration(&document), ("complete", 5, 5, vec![]));
    assert_eq!(proxy.calls_to("GetRecords").len(), 4);
}

/// Pages of three records (a smaller `Limit` on the way to the emulator),
/// and the second page's call finds its iterator expired.
fn small_pages_then_expired(expired: Action) -> Rule {
    let reads = Arc::new(Mutex::new(0));
    Box::new(move |call, _| {
        if !is(call, "GetRecords") {
            return Action::Forward;
        }
        let mut reads = reads.lock().unwrap();
        *reads += 1;
        if *reads == 2 {
            expired.clone()
        } else {
            Action::Rewrite(call.with("Limit", json!(3)))
        }
    })
}

fn iterator_requests(proxy: &FaultProxy, number_field: &str) -> Vec<(String, String)> {
    proxy
        .calls_to("GetShardIterator")
        .iter()
        .map(|c| {
            (
                c.body["ShardIteratorType"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                c.body[number_field].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_expired_kinesis_iterator_resumes_after_the_last_record_kept() {
    let (stream, written) = orders(12).await;
    let (proxy, hydrator) = kinesis_through(small_pages_then_expired(service_error(
        400,
        "ExpiredIteratorException",
        "Iterator expired. The iterator was created at time ... while right now it is ... which is further in the future than the tolerated delay of 300000 milliseconds.",
    )))
    .await;
    let failure = kinesis_failure(&stream.arn, &written[1], &written[10], 10);
    let document = hydrate_doc(&hydrator, &failure, None).await;
    assert_eq!(hydration(&document), ("complete", 10, 10, vec![]));
    assert_records_are(&document, &written[1..=10], &stream.arn, CONSUMER_ARN);
    assert_eq!(
        iterator_requests(&proxy, "StartingSequenceNumber"),
        [
            (
                "AT_SEQUENCE_NUMBER".to_owned(),
                written[1].sequence_number.clone()
            ),
            (
                "AFTER_SEQUENCE_NUMBER".to_owned(),
                written[3].sequence_number.clone()
            ),
        ]
    );
}

#[tokio::test]
async fn an_expired_dynamodb_iterator_resumes_after_the_last_record_kept() {
    let (table, stream) = table_with(10).await;
    let (proxy, hydrator) = dynamodb_through(small_pages_then_expired(service_error(
        400,
        "ExpiredIteratorException",
        "Iterator expired",
    )))
    .await;
    let failure = ddb_failure(&table, &stream, 1, 8).await;
    let document = hydrate_doc(&hydrator, &failure, None).await;
    assert_eq!(hydration(&document), ("complete", 8, 8, vec![]));
    let numbers: Vec<&str> = document["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, sequence_numbers(&stream)[1..=8]);
    assert_eq!(
        iterator_requests(&proxy, "SequenceNumber"),
        [
            (
                "AT_SEQUENCE_NUMBER".to_owned(),
                sequence_numbers(&stream)[1].clone()
            ),
            (
                "AFTER_SEQUENCE_NUMBER".to_owned(),
                sequence_numbers(&stream)[3].clone()
            ),
        ]
    );
}

/// The start is refused as past retention, and the trim horizon is where
/// `oldest_left` is: the records before it have been trimmed.
fn trimmed_before(refusal: Action, oldest_left: String, number_field: &'static str) -> Rule {
    Box::new(move |call, _| {
        if !is(call, "GetShardIterator") {
            return Action::Forward;
        }
        match call.body["ShardIteratorType"].as_str() {
            Some("AT_SEQUENCE_NUMBER") => refusal.clone(),
            Some("TRIM_HORIZON") => {
                let mut body = call.with("ShardIteratorType", json!("AT_SEQUENCE_NUMBER"));
                body[number_field] = json!(oldest_left);
                Action::Rewrite(body)
            }
            _ => Action::Forward,
        }
    })
}

#[tokio::test]
async fn trimmed_kinesis_records_are_named_and_the_rest_kept() {
    let (stream, written) = orders(8).await;
    let refusal = service_error(
        400,
        "InvalidArgumentException",
        &format!(
            "StartingSequenceNumber {} used in GetShardIterator on shard shardId-000000000000 in stream faults under account 000000000000 is invalid because it is past the trim horizon.",
            written[1].sequence_number
        ),
    );
    let (_proxy, hydrator) = kinesis_through(trimmed_before(
        refusal,
        written[3].sequence_number.clone(),
        "StartingSequenceNumber",
    ))
    .await;
    let failure = kinesis_failure(&stream.arn, &written[1], &written[6], 6);
    let document = hydrate_doc(&hydrator, &failure, None).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "partial");
    assert_records_are(&document, &written[3..=6], &stream.arn, CONSUMER_ARN);
    let before_oldest = hydrate::SequenceNumber::parse(&written[3].sequence_number)
        .unwrap()
        .predecessor()
        .unwrap();
    assert_eq!(
        h["missing"],
        json!([{"fromSequenceNumber": written[1].sequence_number, "toSequenceNumber": before_oldest.as_str(), "reason": "trimmed"}])
    );
}

#[tokio::test]
async fn trimmed_dynamodb_records_are_named_and_the_rest_kept() {
    let (table, stream) = table_with(6).await;
    let numbers = sequence_numbers(&stream);
    let refusal = service_error(
        400,
        "TrimmedDataAccessException",
        "Requested data has been trimmed",
    );
    let (_proxy, hydrator) = dynamodb_through(trimmed_before(
        refusal,
        numbers[2].clone(),
        "SequenceNumber",
    ))
    .await;
    let failure = ddb_failure(&table, &stream, 0, 5).await;
    let document = hydrate_doc(&hydrator, &failure, None).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "partial");
    assert_eq!(h["hydratedRecords"], 4);
    assert_eq!(h["missing"][0]["reason"], "trimmed");
    assert_eq!(h["missing"][0]["fromSequenceNumber"], numbers[0].as_str());
}

#[tokio::test]
async fn a_closed_parent_shard_is_read_to_its_end_and_never_into_its_children() {
    let client = kinesis_client();
    let (stream, written) = orders(6).await;
    client
        .split_shard()
        .stream_arn(&stream.arn)
        .shard_to_split(stream.shard_id(0))
        .new_starting_hash_key("170141183460469231731687303715884105728")
        .send()
        .await
        .expect("SplitShard");
    for _ in 0..200 {
        let status = client
            .describe_stream_summary()
            .stream_arn(&stream.arn)
            .send()
            .await
            .unwrap();
        if status.stream_description_summary.unwrap().stream_status
            == aws_sdk_kinesis::types::StreamStatus::Active
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Records after the split go to the children.
    for (i, hash_key) in ["1", "340282366920938463463374607431768211454"]
        .iter()
        .enumerate()
    {
        client
            .put_record()
            .stream_arn(&stream.arn)
            .partition_key(format!("child-{i}"))
            .explicit_hash_key(*hash_key)
            .data(Blob::new(b"after the split".to_vec()))
            .send()
            .await
            .expect("PutRecord");
    }
    let hydrator = Hydrator::new(sdk_config(), settings());

    let failure = kinesis_failure(&stream.arn, &written[2], &written[5], 4);
    let whole = hydrate_doc(&hydrator, &failure, None).await;
    assert_eq!(hydration(&whole), ("complete", 4, 4, vec![]));
    assert_records_are(&whole, &written[2..=5], &stream.arn, CONSUMER_ARN);

    // A batch that claims more than the parent holds ends with the parent.
    let mut overreaching = failure.clone();
    let end = hydrate::SequenceNumber::parse(&written[5].sequence_number)
        .unwrap()
        .successor()
        .successor();
    overreaching["KinesisBatchInfo"]["endSequenceNumber"] = json!(end.as_str());
    overreaching["KinesisBatchInfo"]["batchSize"] = json!(6);
    let partial = hydrate_doc(&hydrator, &overreaching, None).await;
    assert_eq!(hydration(&partial), ("partial", 6, 4, vec!["shard_ended"]));
    assert_records_are(&partial, &written[2..=5], &stream.arn, CONSUMER_ARN);
}

#[tokio::test]
async fn the_deadline_delivers_what_was_read_as_partial() {
    let (stream, written) = orders(30).await;
    // Pages of one record, each answered slowly: thirty of them take twelve
    // seconds, twice the time to read, while the first comes in well inside
    // it even on a loaded machine.
    let (_proxy, hydrator) = kinesis_through(Box::new(|call, _| {
        if is(call, "GetRecords") {
            let smaller = Action::Rewrite(call.with("Limit", json!(1)));
            Action::Later(Duration::from_millis(400), Box::new(smaller))
        } else {
            Action::Forward
        }
    }))
    .await;
    let failure = kinesis_failure(&stream.arn, &written[0], &written[29], 30);
    let started = Instant::now();
    // Reading stops a fifth of the time left before it: at 6.4 s.
    let deadline = started + Duration::from_millis(8_000);
    let (document, answered) = hydrate_timed(&hydrator, &failure, Some(deadline)).await;
    assert!(answered < deadline, "answered before the deadline");
    let (status, expected, hydrated, reasons) = hydration(&document);
    assert_eq!(
        (status, expected, reasons),
        ("partial", 30, vec!["deadline"])
    );
    assert!(
        hydrated > 0 && hydrated < 30,
        "{hydrated} records read in time"
    );
    assert_records_are(
        &document,
        &written[..hydrated as usize],
        &stream.arn,
        CONSUMER_ARN,
    );
    assert_eq!(
        document["hydration"]["missing"][0]["fromSequenceNumber"],
        hydrate::SequenceNumber::parse(&written[hydrated as usize - 1].sequence_number)
            .unwrap()
            .successor()
            .as_str()
    );
}

async fn table_with(count: usize) -> (TestTable, Vec<StreamRecord>) {
    let mut table = TestTable::create(StreamViewType::NewImage).await;
    let items = (0..count)
        .map(|i| HashMap::from([(KEY.to_owned(), AttributeValue::S(format!("order#{i:05}")))]))
        .collect();
    table.put_all(items).await;
    let stream = table.stream_records().await;
    (table, stream)
}

async fn ddb_failure(
    table: &TestTable,
    stream: &[StreamRecord],
    first: usize,
    last: usize,
) -> Value {
    table.failure(stream, first, last).await
}
