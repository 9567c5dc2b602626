//! Failure storms over the wire: many failures of one shard in one
//! invocation, against kinesis-mock and moto's DynamoDB Streams. Each
//! document is the one reading its failure alone gives, and the shard is
//! read a handful of times, never twice at once.

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::emulator::{kinesis_endpoint, moto_endpoint, sdk_config, sdk_config_with};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::fault_proxy::{Action, FaultProxy};
use hydrator_tests::stream::TestStream;
use hydrator_tests::table::{TestTable, KEY};
use serde_json::Value;

fn settings(reads_per_second: u32) -> Settings {
    Settings {
        response_max_bytes: usize::MAX,
        reads_per_shard_per_second: reads_per_second,
        ..Settings::default()
    }
}

/// One SNS event carrying every failure, as a topic batching them would.
fn sns_event_of(failures: &[Value]) -> String {
    let records: Vec<Value> = failures
        .iter()
        .map(|f| sns_event(f)["Records"][0].clone())
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

/// The document without what differs between reading alone and coalesced:
/// the calls made and the time taken.
fn comparable(document: &Value) -> Value {
    let mut document = document.clone();
    if let Some(hydration) = document["hydration"].as_object_mut() {
        for key in ["getRecordsCalls", "getShardIteratorCalls", "durationMs"] {
            hydration.remove(key);
        }
    }
    document
}

async fn documents(hydrator: &Hydrator, event: &str) -> Vec<Value> {
    let documents = match hydrator.handle(event).await.expect("hydration succeeds") {
        Response::Many(documents) => documents,
        Response::One(document) => vec![*document],
        other => panic!("documents are returned, not {other:?}"),
    };
    documents
        .iter()
        .map(|d| serde_json::to_value(d).expect("document serializes"))
        .collect()
}

/// Every failure alone, one invocation each, by a hydrator without a budget.
async fn alone(failures: &[Value]) -> Vec<Value> {
    let hydrator = Hydrator::new(sdk_config(), settings(1_000));
    let mut alone = Vec::new();
    for failure in failures {
        alone.extend(documents(&hydrator, &sns_event(failure).to_string()).await);
    }
    alone
}

/// `count` complete documents, each the one reading its failure alone gives.
async fn assert_as_alone(coalesced: &[Value], failures: &[Value], count: usize) {
    let expected = alone(failures).await;
    assert_eq!(coalesced.len(), count);
    for (coalesced, alone) in coalesced.iter().zip(&expected) {
        assert_eq!(coalesced["hydration"]["status"], "complete");
        assert_eq!(comparable(coalesced), comparable(alone));
    }
}

fn reads(proxy: &FaultProxy) -> usize {
    proxy.calls_to("GetRecords").len() + proxy.calls_to("GetShardIterator").len()
}

#[tokio::test]
async fn sixty_kinesis_failures_cost_a_handful_of_reads_and_read_as_alone() {
    let (stream, written) = TestStream::with_orders("storm", 640).await;
    // Sixty batches of ten, a few overlapping their neighbours, and a gap.
    let mut failures: Vec<Value> = (0..60)
        .map(|i| {
            let first = 10 * i + usize::from(i >= 30) * 20;
            let last = (first + 9 + usize::from(i % 7 == 0) * 3).min(written.len() - 1);
            kinesis_failure(
                &stream.arn,
                &written[first],
                &written[last],
                last - first + 1,
            )
        })
        .collect();
    failures.reverse();
    let proxy = FaultProxy::start(&kinesis_endpoint(), Box::new(|_, _| Action::Forward)).await;
    let hydrator = Hydrator::new(sdk_config_with(&[("Kinesis", proxy.url())]), settings(2));
    let coalesced = documents(&hydrator, &sns_event_of(&failures)).await;
    assert_as_alone(&coalesced, &failures, 60).await;
    let reads = reads(&proxy);
    assert!(
        reads <= 6,
        "{reads} reads, 5% of one read (two calls) per failure is 6"
    );
    assert_eq!(proxy.most_at_once(), 1, "one read of the shard at a time");
    let counted: u64 = coalesced
        .iter()
        .map(|d| {
            d["hydration"]["getRecordsCalls"].as_u64().unwrap()
                + d["hydration"]["getShardIteratorCalls"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        counted, reads as u64,
        "the documents count the calls really made"
    );
}

fn order(i: usize) -> hydrator_tests::table::Item {
    [
        (KEY.to_owned(), AttributeValue::S(format!("order#{i:05}"))),
        ("quantity".to_owned(), AttributeValue::N(i.to_string())),
    ]
    .into()
}

#[tokio::test]
async fn dynamodb_stream_failures_coalesce_and_read_as_alone() {
    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    table.put_all((0..120).map(order).collect()).await;
    let records = table.stream_records().await;
    let mut failures = Vec::new();
    for i in 0..20 {
        let first = 6 * i;
        let last = (first + 5 + usize::from(i % 5 == 0) * 4).min(records.len() - 1);
        failures.push(table.failure(&records, first, last).await);
    }
    let proxy = FaultProxy::start(&moto_endpoint(), Box::new(|_, _| Action::Forward)).await;
    let hydrator = Hydrator::new(
        sdk_config_with(&[("DynamoDB Streams", proxy.url())]),
        settings(2),
    );
    let coalesced = documents(&hydrator, &sns_event_of(&failures)).await;
    assert_as_alone(&coalesced, &failures, 20).await;
    let reads = reads(&proxy);
    assert!(reads <= 3, "{reads} reads for 20 failures");
    assert_eq!(proxy.most_at_once(), 1);
}

/// The message ids an SQS batch response names for SQS to retry.
fn failed(response: Response) -> Vec<String> {
    let answer = serde_json::to_value(&response).expect("the response serializes");
    let failures = answer["batchItemFailures"]
        .as_array()
        .expect("a batch response");
    let ids = failures
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap());
    ids.map(str::to_owned).collect()
}

#[tokio::test]
async fn a_storm_delivered_twice_leaves_exactly_one_document_a_failure_with_the_table() {
    use hydrator_tests::failure::{sns_notification, sqs_event};
    let (stream, written) = TestStream::with_orders("storm-twice", 600).await;
    let failures: Vec<Value> = (0..60)
        .map(|i| kinesis_failure(&stream.arn, &written[10 * i], &written[10 * i + 9], 10))
        .collect();
    let dlq = hydrator_tests::queue::create_queue("storm-dlq").await;
    let settings = Settings {
        dlq_queue_url: Some(dlq.clone()),
        idempotency_table: Some(hydrator_tests::table::ledger_table().await),
        ..settings(1_000)
    };
    let hydrator = Hydrator::new(sdk_config(), settings);
    // Every record twice: the first twenty again within the same SQS batch,
    // then all sixty again in the next.
    let bodies: Vec<String> = failures
        .iter()
        .chain(&failures[..20])
        .map(sns_notification)
        .collect();
    let first = failed(
        hydrator
            .handle(sqs_event(&bodies).to_string())
            .await
            .unwrap(),
    );
    let bodies: Vec<String> = failures.iter().map(sns_notification).collect();
    let second = failed(
        hydrator
            .handle(sqs_event(&bodies).to_string())
            .await
            .unwrap(),
    );
    assert!(
        second.is_empty(),
        "delivered failures are acknowledged: {second:?}"
    );
    // SQS retries what the first invocation named: duplicates still in progress.
    let retried: Vec<String> = first
        .iter()
        .map(|id| id.trim_start_matches("msg-").parse::<usize>().unwrap())
        .map(|i| sns_notification(&failures[i % 60]))
        .collect();
    if !retried.is_empty() {
        assert!(failed(
            hydrator
                .handle(sqs_event(&retried).to_string())
                .await
                .unwrap()
        )
        .is_empty());
    }
    let documents = hydrator_tests::queue::drain_all(&dlq).await;
    assert_eq!(documents.len(), 60, "one document a failure");
    let mut starts: Vec<&str> = documents
        .iter()
        .map(|d| {
            d["failure"]["KinesisBatchInfo"]["startSequenceNumber"]
                .as_str()
                .unwrap()
        })
        .collect();
    starts.sort();
    starts.dedup();
    assert_eq!(starts.len(), 60);
}

#[tokio::test]
async fn two_processes_racing_on_one_failure_send_one_document() {
    use hydrator_tests::failure::{sns_notification, sqs_event};
    let (stream, written) = TestStream::with_orders("storm-race", 20).await;
    let failure = kinesis_failure(&stream.arn, &written[0], &written[9], 10);
    let dlq = hydrator_tests::queue::create_queue("storm-race-dlq").await;
    let settings = Settings {
        dlq_queue_url: Some(dlq.clone()),
        idempotency_table: Some(hydrator_tests::table::ledger_table().await),
        ..settings(1_000)
    };
    // Two hydrators: two Lambda execution environments, sharing only the table.
    let (a, b) = (
        Hydrator::new(sdk_config(), settings.clone()),
        Hydrator::new(sdk_config(), settings),
    );
    let event = sqs_event(&[sns_notification(&failure)]).to_string();
    let (first, second) = tokio::join!(a.handle(&event), b.handle(&event));
    let retried = failed(first.unwrap()).len() + failed(second.unwrap()).len();
    assert!(retried <= 1, "at most the loser is retried");
    assert!(
        failed(a.handle(&event).await.unwrap()).is_empty(),
        "then acknowledged"
    );
    assert_eq!(hydrator_tests::queue::drain_all(&dlq).await.len(), 1);
}

/// What the tests above rely on, as DynamoDB promises it: of conditional
/// writes racing on one key, one wins. With the ledger's own condition, moto
/// alone let two win on a loaded machine, so the emulators' script starts it
/// through a launcher that holds a lock (scripts/moto_server.py).
#[tokio::test]
async fn racing_conditional_writes_on_one_key_have_one_winner() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let table = hydrator_tests::table::ledger_table().await;
    let client = hydrator_tests::emulator::dynamodb_client();
    for key in 0..20 {
        let mut puts = tokio::task::JoinSet::new();
        for writer in 0..20 {
            let put = client
                .put_item()
                .table_name(&table)
                .item("id", AttributeValue::S(format!("race-{key}")))
                .item("writer", AttributeValue::N(writer.to_string()))
                .condition_expression(
                    "attribute_not_exists(id) OR (#state = :in_progress AND #expires < :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_names("#expires", "expires")
                .expression_attribute_values(
                    ":in_progress",
                    AttributeValue::S("in_progress".into()),
                )
                .expression_attribute_values(":now", AttributeValue::N("1".into()));
            puts.spawn(put.send());
        }
        let results = puts.join_all().await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        let lost = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .filter(|e| {
                e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception())
            })
            .count();
        assert_eq!((won, lost), (1, 19), "key {key}");
    }
}

#[tokio::test]
async fn a_failed_delivery_releases_its_mark_and_the_retry_sends_one_document() {
    use hydrator_tests::failure::{sns_notification, sqs_event};
    use hydrator_tests::queue::{create_queue, drain_all, sqs_client};
    let (stream, written) = TestStream::with_orders("storm-release", 10).await;
    let failure = kinesis_failure(&stream.arn, &written[0], &written[9], 10);
    let table = hydrator_tests::table::ledger_table().await;
    let to = |dlq: &str| Settings {
        dlq_queue_url: Some(dlq.to_owned()),
        idempotency_table: Some(table.clone()),
        ..settings(1_000)
    };
    let event = sqs_event(&[sns_notification(&failure)]).to_string();
    // A deleted queue refuses the first delivery for good.
    let deleted = create_queue("storm-release-deleted").await;
    let delete = sqs_client().delete_queue().queue_url(&deleted).send().await;
    delete.expect("delete the queue");
    let refused = Hydrator::new(sdk_config(), to(&deleted));
    assert_eq!(failed(refused.handle(&event).await.unwrap()), ["msg-0"]);
    let ledger = hydrator_tests::emulator::dynamodb_client();
    let items = || {
        ledger
            .scan()
            .table_name(&table)
            .consistent_read(true)
            .send()
    };
    let left = items()
        .await
        .expect("scan the ledger")
        .items
        .unwrap_or_default();
    assert!(left.is_empty(), "the mark is released: {left:?}");
    // SQS retries the message at once; the queue works again.
    let dlq = create_queue("storm-release-dlq").await;
    let retried = Hydrator::new(sdk_config(), to(&dlq)).handle(&event).await;
    assert!(failed(retried.unwrap()).is_empty(), "not told to wait");
    assert_eq!(drain_all(&dlq).await.len(), 1, "one document");
    let marked = items()
        .await
        .expect("scan the ledger")
        .items
        .unwrap_or_default();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0]["state"], AttributeValue::S("delivered".into()));
}
