//! Delivering documents without loss, against moto's SQS and Firehose: large
//! documents as ordered parts, FIFO queues without duplicates, partial batch
//! failures (injected by the fault proxy) retried for the failed entries
//! only, and return mode refusing what a destination would drop.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_sdk_dynamodbstreams::types::Record as StreamRecord;
use hydrate::Backoff;
use hydrate::ReadLimits;
use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::assert_conforms_to_schema;
use hydrator_tests::emulator::{moto_endpoint, sdk_config, sdk_config_with};
use hydrator_tests::failure::sns_event;
use hydrator_tests::fault_proxy::{service_error, Action, FaultProxy};
use hydrator_tests::queue::{
    bucket_contents, create_archive, create_fifo_queue, create_queue, drain, queue_depth,
};
use hydrator_tests::table::{sequence_numbers, TestTable, KEY};
use serde_json::Value;

/// Retries fast enough for a test, with the same schedule shape.
fn quick_backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
        attempts: 6,
    }
}

fn settings(queue_url: &str) -> Settings {
    let defaults = Settings::default();
    Settings {
        dlq_queue_url: Some(queue_url.to_owned()),
        delivery_backoff: quick_backoff(),
        // These tests cut documents of several MiB into parts; the batches
        // they make hold more item bytes than one Lambda batch could, which
        // the reader's default byte budget would (rightly) name over_budget.
        read_limits: ReadLimits {
            max_bytes: 64 * 1024 * 1024,
            ..defaults.read_limits
        },
        ..defaults
    }
}

/// A table whose stream holds `count` inserts of items with `bytes` bytes
/// of text each, and the SNS event of the failure of all of them.
async fn failed_batch(count: usize, bytes: usize) -> (TestTable, Vec<StreamRecord>, Value) {
    let mut table = TestTable::create(StreamViewType::NewImage).await;
    let items = (0..count)
        .map(|i| {
            HashMap::from([
                (KEY.to_owned(), AttributeValue::S(format!("order#{i:05}"))),
                (
                    "note".to_owned(),
                    AttributeValue::S(format!("{i:05}").repeat(bytes / 5)),
                ),
            ])
        })
        .collect();
    table.put_all(items).await;
    let stream = table.stream_records().await;
    let event = sns_event(&table.failure(&stream, 0, count - 1).await);
    (table, stream, event)
}

/// Parts ordered by index, checked to be one complete set of one group, and
/// the sequence numbers of their records concatenated.
fn reassemble(mut parts: Vec<Value>) -> Vec<String> {
    parts.sort_by_key(|p| p["part"]["index"].as_u64().unwrap());
    let count = parts.len() as u64;
    let group = parts[0]["part"]["groupId"].clone();
    let mut numbers = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        assert_conforms_to_schema(part);
        assert_eq!(part["part"]["index"], i as u64 + 1, "every part once");
        assert_eq!(part["part"]["count"], count);
        assert_eq!(part["part"]["groupId"], group);
        numbers.extend(
            part["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned()),
        );
    }
    numbers
}

#[tokio::test]
async fn a_5000_record_batch_arrives_as_ordered_parts_that_reassemble() {
    let (table, stream, event) = failed_batch(5_000, 1_024).await;
    let queue = create_queue("dlq").await;
    let response = Hydrator::new(sdk_config(), settings(&queue))
        .handle(event.to_string())
        .await
        .expect("delivered");
    let report = serde_json::to_value(&response).unwrap();
    let receipt = &report["delivered"][0];
    let parts = receipt["messageIds"].as_array().unwrap().len();
    assert!(
        parts >= 6,
        "a document of several MiB takes several parts, got {parts}"
    );
    assert_eq!(receipt["status"], "complete");
    assert_eq!(receipt["hydratedRecords"], 5_000);

    let messages = drain(&queue, parts).await;
    assert_eq!(messages.len(), parts);
    let mut bodies = Vec::new();
    for (body, attributes) in messages {
        let size = serde_json::to_string(&body).unwrap().len();
        assert!(size <= 1_048_576, "a part of {size} bytes");
        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(attribute("partCount"), Some(parts.to_string()));
        assert_eq!(
            attribute("streamArn").as_deref(),
            Some(table.stream_arn.as_str())
        );
        assert_eq!(
            attribute("partIndex"),
            Some(body["part"]["index"].to_string())
        );
        bodies.push(body);
    }
    assert_eq!(
        reassemble(bodies),
        sequence_numbers(&stream),
        "exactly the hydrated records, in order"
    );
}

#[tokio::test]
async fn a_fifo_queue_gets_group_and_deduplication_ids_and_no_duplicates() {
    let (_table, stream, event) = failed_batch(1_500, 1_024).await;
    let queue = create_fifo_queue("dlq").await;
    let hydrator = Hydrator::new(sdk_config(), settings(&queue));
    let first = serde_json::to_value(hydrator.handle(event.to_string()).await.unwrap()).unwrap();
    // The platform retries the same failure: the queue must not take it twice.
    let again = serde_json::to_value(hydrator.handle(event.to_string()).await.unwrap()).unwrap();
    let parts = first["delivered"][0]["messageIds"]
        .as_array()
        .unwrap()
        .len();
    assert!(parts >= 2, "{parts} parts");
    assert_eq!(
        first["delivered"][0]["groupId"],
        again["delivered"][0]["groupId"]
    );
    assert_eq!(
        queue_depth(&queue).await,
        parts,
        "the second delivery was deduplicated"
    );

    let messages = drain(&queue, parts).await;
    let mut groups = Vec::new();
    let mut bodies = Vec::new();
    for (body, attributes) in messages {
        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let dedup = attribute("sys:MessageDeduplicationId").expect("a deduplication id");
        let part = &body["part"];
        assert_eq!(
            dedup,
            format!(
                "{}-{}-of-{}",
                part["groupId"].as_str().unwrap(),
                part["index"],
                part["count"]
            )
        );
        groups.push(attribute("sys:MessageGroupId").expect("a group id"));
        bodies.push(body);
    }
    groups.dedup();
    assert_eq!(groups.len(), 1, "one message group for the shard");
    assert_eq!(reassemble(bodies), sequence_numbers(&stream));
}

#[tokio::test]
async fn failed_send_message_batch_entries_are_resent_alone() {
    let (_table, stream, event) = failed_batch(600, 1_024).await;
    let queue = create_queue("dlq").await;
    // The first call loses entries 1 and 3, the second (their retry) entry 0.
    let proxy = FaultProxy::start(
        &moto_endpoint(),
        Box::new(|_, index| match index {
            0 => Action::FailEntries(vec![1, 3]),
            1 => Action::FailEntries(vec![0]),
            _ => Action::Forward,
        }),
    )
    .await;
    // Small messages (a queue still at a lower limit), so that a batch call
    // carries ten parts.
    let settings = Settings {
        max_message_bytes: 65_536,
        ..settings(&queue)
    };
    let hydrator = Hydrator::new(sdk_config_with(&[("SQS", proxy.url())]), settings);
    let report = serde_json::to_value(hydrator.handle(event.to_string()).await.unwrap()).unwrap();
    let parts = report["delivered"][0]["messageIds"]
        .as_array()
        .unwrap()
        .len();
    assert!((11..=20).contains(&parts), "{parts} parts");

    let calls: Vec<usize> = proxy
        .calls_to("SendMessageBatch")
        .iter()
        .map(|c| c.entries())
        .collect();
    assert_eq!(
        calls,
        [10, 2, 1, parts - 10],
        "ten parts, the two that failed, the one that failed again, then the rest"
    );
    let messages = drain(&queue, parts).await;
    assert_eq!(messages.len(), parts, "every part exactly once");
    for (body, _) in &messages {
        assert!(serde_json::to_string(body).unwrap().len() <= 65_536);
    }
    assert_eq!(
        reassemble(messages.into_iter().map(|(body, _)| body).collect()),
        sequence_numbers(&stream)
    );
}

#[tokio::test]
async fn entries_that_keep_failing_fail_the_invocation() {
    let (_table, _stream, event) = failed_batch(3, 100).await;
    let queue = create_queue("dlq").await;
    let proxy = FaultProxy::start(
        &moto_endpoint(),
        Box::new(|call, _| match call.operation() {
            "SendMessageBatch" => Action::FailEntries(vec![0]),
            _ => Action::Forward,
        }),
    )
    .await;
    let hydrator = Hydrator::new(sdk_config_with(&[("SQS", proxy.url())]), settings(&queue));
    let error = hydrator
        .handle(event.to_string())
        .await
        .expect_err("the part never got in");
    assert_eq!(error.class(), "Delivery.Send", "{error}");
    assert!(error.to_string().contains("after 6 attempts"), "{error}");
    assert_eq!(proxy.calls_to("SendMessageBatch").len(), 6);
}

/// An error that retrying cannot fix is reported after one call; a
/// throttled call is retried.
#[tokio::test]
async fn a_denied_send_is_not_retried_and_a_throttled_one_is() {
    let (_table, _stream, event) = failed_batch(3, 100).await;
    let queue = create_queue("dlq").await;
    let proxy = FaultProxy::start(
        &moto_endpoint(),
        Box::new(|call, _| match call.operation() {
            "SendMessageBatch" => service_error(
                400,
                "AccessDeniedException",
                "not authorized to perform sqs:sendmessage",
            ),
            _ => Action::Forward,
        }),
    )
    .await;
    let hydrator = Hydrator::new(sdk_config_with(&[("SQS", proxy.url())]), settings(&queue));
    let error = hydrator
        .handle(event.to_string())
        .await
        .expect_err("denied");
    assert_eq!(error.class(), "Delivery.Send", "{error}");
    assert!(error.to_string().contains("after 1 attempts"), "{error}");
    assert_eq!(proxy.calls_to("SendMessageBatch").len(), 1);

    let proxy = FaultProxy::start(
        &moto_endpoint(),
        Box::new(|call, index| match (call.operation(), index) {
            ("SendMessageBatch", 0 | 1) => {
                service_error(400, "ThrottlingException", "Rate exceeded")
            }
            _ => Action::Forward,
        }),
    )
    .await;
    let hydrator = Hydrator::new(sdk_config_with(&[("SQS", proxy.url())]), settings(&queue));
    hydrator
        .handle(event.to_string())
        .await
        .expect("delivered on the third call");
    assert_eq!(proxy.calls_to("SendMessageBatch").len(), 3);
    assert_eq!(drain(&queue, 1).await.len(), 1);
}

#[tokio::test]
async fn the_archive_gets_every_part_once_despite_failed_records() {
    let (_table, stream, event) = failed_batch(2_500, 1_024).await;
    let queue = create_queue("dlq").await;
    let (archive, bucket) = create_archive("hydrated").await;
    let proxy = FaultProxy::start(
        &moto_endpoint(),
        // The first call loses its first and last records.
        Box::new(|call, index| match index {
            0 => Action::FailEntries(vec![0, call.entries() - 1]),
            _ => Action::Forward,
        }),
    )
    .await;
    let settings = Settings {
        archive_firehose_stream: Some(archive),
        ..settings(&queue)
    };
    let hydrator = Hydrator::new(sdk_config_with(&[("Firehose", proxy.url())]), settings);
    let report = serde_json::to_value(hydrator.handle(event.to_string()).await.unwrap()).unwrap();
    let archived = &report["delivered"][0]["archived"];
    let parts = archived["records"].as_u64().unwrap() as usize;
    assert!(parts >= 3, "{archived}");
    assert_eq!(archived["failed"], 0);

    let calls: Vec<usize> = proxy
        .calls_to("PutRecordBatch")
        .iter()
        .map(|c| c.entries())
        .collect();
    assert_eq!(
        calls,
        [parts, 2],
        "the retry carries only the two failed records"
    );
    let contents = bucket_contents(&bucket).await;
    let text = String::from_utf8(contents).unwrap();
    assert!(text.ends_with('\n'), "newline-delimited");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), parts, "every part exactly once");
    assert_eq!(reassemble(lines), sequence_numbers(&stream));
    drain(&queue, 10).await;
}

#[tokio::test]
async fn return_mode_refuses_a_document_the_destination_would_drop() {
    let (_table, _stream, event) = failed_batch(900, 1_024).await;
    let error = Hydrator::new(sdk_config(), Settings::default())
        .handle(event.to_string())
        .await
        .expect_err("too large to return");
    assert_eq!(error.class(), "Response.TooLarge");
    assert!(error.to_string().contains("set DLQ_QUEUE_URL"), "{error}");

    // The same failure, small enough, is returned whole.
    let (_table, _stream, event) = failed_batch(20, 1_024).await;
    let response = Hydrator::new(sdk_config(), Settings::default())
        .handle(event.to_string())
        .await
        .unwrap();
    assert!(matches!(response, Response::One(_)));
}
