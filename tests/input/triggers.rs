//! Every way a failure record arrives, over the wire: SNS with several
//! records, SQS with a partial batch response and documents sent to a moto
//! queue, EventBridge Pipes records, and S3 on-failure destination objects
//! read from moto's S3.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::{assert_conforms_to_schema, assert_records_are, hydration};
use hydrator_tests::emulator::{kinesis_endpoint, sdk_config, sdk_config_with};
use hydrator_tests::failure::{
    kinesis_failure, s3_event, sns_event, sns_notification, sqs_event, CONSUMER_ARN,
};
use hydrator_tests::fault_proxy::{Action, FaultProxy};
use hydrator_tests::queue::{create_bucket, create_queue, drain, put_object};
use hydrator_tests::stream::{TestStream, Written};
use hydrator_tests::table::{TestTable, KEY};
use serde_json::{json, Value};

fn hydrator(settings: Settings) -> Hydrator {
    Hydrator::new(sdk_config(), settings)
}

fn to_dlq(queue_url: &str) -> Settings {
    Settings {
        dlq_queue_url: Some(queue_url.to_owned()),
        ..Settings::default()
    }
}

async fn stream_of(count: usize) -> (TestStream, Vec<Written>) {
    TestStream::with_orders("triggers", count).await
}

/// The failure of the `size` records from `first`.
fn failure_of(stream: &TestStream, written: &[Written], first: usize, size: usize) -> Value {
    kinesis_failure(
        &stream.arn,
        &written[first],
        &written[first + size - 1],
        size,
    )
}

/// Hydrates `payload` in return mode and gives the one document, checked
/// against the schema.
async fn one_document(payload: String) -> Value {
    let response = hydrator(Settings::default())
        .handle(payload)
        .await
        .expect("a document");
    let Response::One(document) = response else {
        panic!("one failure gives one document")
    };
    let document = serde_json::to_value(&document).unwrap();
    assert_conforms_to_schema(&document);
    document
}

fn to_value(response: &Response) -> Value {
    serde_json::to_value(response).expect("the response serializes")
}

#[tokio::test]
async fn every_record_of_an_sns_event_gets_its_own_document_in_order() {
    let (stream, written) = stream_of(12).await;
    let failures: Vec<Value> = [(0, 3), (5, 1), (8, 4)]
        .iter()
        .map(|&(first, size)| failure_of(&stream, &written, first, size))
        .collect();
    let mut event = sns_event(&failures[0]);
    let records = event["Records"].as_array_mut().unwrap();
    let template = records[0].clone();
    for failure in &failures[1..] {
        let mut record = template.clone();
        record["Sns"]["Message"] = failure.to_string().into();
        records.push(record);
    }
    let response = hydrator(Settings::default())
        .handle(event.to_string())
        .await
        .unwrap();
    let Response::Many(documents) = &response else {
        panic!("three failures give three documents")
    };
    let documents: Vec<Value> = documents
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .collect();
    for (i, (document, &(first, size))) in
        documents.iter().zip(&[(0, 3), (5, 1), (8, 4)]).enumerate()
    {
        assert_conforms_to_schema(document);
        assert_eq!(document["failure"], failures[i]);
        assert_eq!(hydration(document).0, "complete");
        assert_records_are(
            document,
            &written[first..first + size],
            &stream.arn,
            CONSUMER_ARN,
        );
    }
}

#[tokio::test]
async fn an_sqs_batch_with_three_bad_messages_fails_exactly_those_three() {
    let (stream, written) = stream_of(20).await;
    let queue = create_queue("hydrated").await;
    let good: Vec<(usize, usize)> = vec![(0, 2), (2, 3), (5, 1), (6, 4), (10, 2), (12, 5), (17, 3)];
    let mut bodies: Vec<String> = Vec::new();
    for (i, &(first, size)) in good.iter().enumerate() {
        let failure = failure_of(&stream, &written, first, size);
        // Some arrive through an SNS subscription without raw delivery.
        bodies.push(if i % 2 == 0 {
            failure.to_string()
        } else {
            sns_notification(&failure)
        });
    }
    let mut reversed = failure_of(&stream, &written, 0, 2);
    reversed["KinesisBatchInfo"]["startSequenceNumber"] = written[5].sequence_number.clone().into();
    bodies.insert(2, "{\"requestContext\": {".to_owned()); // msg-2: cut off
    bodies.insert(5, reversed.to_string()); // msg-5: start after end
    bodies.insert(9, json!({"hello": "world"}).to_string()); // msg-9: no batch info
    assert_eq!(bodies.len(), 10);

    let response = hydrator(to_dlq(&queue))
        .handle(sqs_event(&bodies).to_string())
        .await
        .expect("an SQS invocation answers message by message");
    assert_eq!(
        to_value(&response),
        json!({"batchItemFailures": [
            {"itemIdentifier": "msg-2"}, {"itemIdentifier": "msg-5"}, {"itemIdentifier": "msg-9"}
        ]})
    );

    let messages = drain(&queue, 7).await;
    assert_eq!(messages.len(), 7, "the seven good failures were delivered");
    let mut by_start: HashMap<String, (Value, Vec<(String, String)>)> = messages
        .into_iter()
        .map(|(document, attributes)| {
            let start = document["failure"]["KinesisBatchInfo"]["startSequenceNumber"]
                .as_str()
                .unwrap()
                .to_owned();
            (start, (document, attributes))
        })
        .collect();
    for &(first, size) in &good {
        let (document, attributes) = by_start
            .remove(&written[first].sequence_number)
            .expect("a document for every good failure");
        assert_conforms_to_schema(&document);
        assert_eq!(
            hydration(&document),
            ("complete", size as u64, size as u64, vec![])
        );
        assert_records_are(
            &document,
            &written[first..first + size],
            &stream.arn,
            CONSUMER_ARN,
        );
        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(attribute("streamArn"), Some(stream.arn.as_str()));
        assert_eq!(attribute("status"), Some("complete"));
        assert_eq!(attribute("source"), Some("aws:kinesis"));
    }
}

#[tokio::test]
async fn an_sqs_trigger_without_a_queue_to_deliver_to_retries_every_message() {
    let (stream, written) = stream_of(2).await;
    let body = failure_of(&stream, &written, 0, 2).to_string();
    let response = hydrator(Settings::default())
        .handle(sqs_event(&[body.clone(), body]).to_string())
        .await
        .unwrap();
    assert_eq!(
        to_value(&response),
        json!({"batchItemFailures": [{"itemIdentifier": "msg-0"}, {"itemIdentifier": "msg-1"}]})
    );
}

#[tokio::test]
async fn with_a_queue_an_sns_invocation_sends_the_document_and_reports_it() {
    let (stream, written) = stream_of(3).await;
    let queue = create_queue("hydrated").await;
    let failure = failure_of(&stream, &written, 0, 3);
    let response = hydrator(to_dlq(&queue))
        .handle(sns_event(&failure).to_string())
        .await
        .unwrap();
    let report = to_value(&response);
    let delivered = report["delivered"].as_array().expect("a delivery report");
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["status"], "complete");
    assert_eq!(delivered[0]["hydratedRecords"], 3);
    assert_eq!(
        delivered[0]["startSequenceNumber"],
        written[0].sequence_number.as_str()
    );
    let messages = drain(&queue, 1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0["failure"], failure);
    assert_records_are(&messages[0].0, &written, &stream.arn, CONSUMER_ARN);
}

#[tokio::test]
async fn pipes_dead_letter_records_hydrate_for_both_sources() {
    const PIPE: &str = "arn:aws:pipes:us-east-1:000000000000:pipe/orders-to-warehouse";
    let pipes_context = json!({"partnerResourceArn": PIPE, "condition": "RetryAttemptsExhausted"});

    let (stream, written) = stream_of(4).await;
    let mut failure = failure_of(&stream, &written, 1, 2);
    failure.as_object_mut().unwrap().remove("requestContext");
    failure.as_object_mut().unwrap().remove("responseContext");
    failure["context"] = pipes_context.clone();
    let document = one_document(failure.to_string()).await;
    assert_eq!(hydration(&document).0, "complete");
    // Without INVOKE_IDENTITY_ARN, the pipe stands in for the consumer.
    assert_records_are(&document, &written[1..=2], &stream.arn, PIPE);

    let mut table = TestTable::create(StreamViewType::NewImage).await;
    for i in 0..3 {
        table
            .put(HashMap::from([(
                KEY.to_owned(),
                AttributeValue::S(format!("k{i}")),
            )]))
            .await;
    }
    let changes = table.stream_records().await;
    let mut failure = table.failure(&changes, 0, 2).await;
    failure.as_object_mut().unwrap().remove("requestContext");
    failure["context"] = pipes_context;
    let document = one_document(failure.to_string()).await;
    assert_conforms_to_schema(&document);
    assert_eq!(hydration(&document), ("complete", 3, 3, vec![]));
    let keys: Vec<&str> = document["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["Keys"][KEY]["S"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["k0", "k1", "k2"]);
}

#[tokio::test]
async fn an_s3_destination_object_with_its_payload_needs_no_stream_read() {
    let (stream, written) = stream_of(5).await;
    // What the event source mapping delivered to the consumer: hydrated here
    // from the stream, then saved as the S3 destination saves the payload.
    let failure = failure_of(&stream, &written, 1, 3);
    let Response::One(delivered) = hydrator(Settings::default())
        .handle(failure.to_string())
        .await
        .unwrap()
    else {
        panic!("one document")
    };
    let payload_records =
        serde_json::to_string(&serde_json::to_value(&delivered).unwrap()["Records"]).unwrap();
    let object = format!(
        "{{\"requestContext\":{},\"version\":\"1.0\",\"KinesisBatchInfo\":{},\"payload\":{{\"Records\":{payload_records}}}}}",
        failure["requestContext"], failure["KinesisBatchInfo"]
    );
    let bucket = create_bucket("stream-failures").await;
    let key = "aws/lambda/orders consumer/2026/11/21/failure 1.json";
    put_object(&bucket, key, object.into_bytes()).await;
    let document = one_document(s3_event(&bucket, key).to_string()).await;
    assert_conforms_to_schema(&document);
    let h = &document["hydration"];
    assert_eq!(h["origin"], "s3-payload");
    assert_eq!(h["status"], "complete");
    assert_eq!(h["getRecordsCalls"], 0);
    assert_eq!(
        serde_json::to_string(&document["Records"]).unwrap(),
        payload_records,
        "the saved records come through as they were"
    );
    assert_records_are(&document, &written[1..=3], &stream.arn, CONSUMER_ARN);
    assert!(document["failure"].get("payload").is_none());
    assert_eq!(
        document["failure"]["KinesisBatchInfo"],
        failure["KinesisBatchInfo"]
    );
}

#[tokio::test]
async fn an_s3_destination_object_without_payload_is_read_from_the_stream() {
    let (stream, written) = stream_of(4).await;
    let failure = failure_of(&stream, &written, 0, 4);
    let bucket = create_bucket("stream-failures").await;
    put_object(&bucket, "failure.json", failure.to_string().into_bytes()).await;
    let document = one_document(s3_event(&bucket, "failure.json").to_string()).await;
    assert_eq!(document["hydration"]["origin"], "stream");
    assert_eq!(hydration(&document), ("complete", 4, 4, vec![]));
    assert_records_are(&document, &written, &stream.arn, CONSUMER_ARN);
}

#[tokio::test]
async fn a_missing_s3_object_is_a_classified_error() {
    let bucket = create_bucket("stream-failures").await;
    let error = hydrator(Settings::default())
        .handle(s3_event(&bucket, "gone.json").to_string())
        .await
        .expect_err("nothing to fetch");
    assert_eq!(error.class(), "Fetch.S3", "{error}");
    assert!(error.to_string().contains("NoSuchKey"), "{error}");
}

#[tokio::test]
async fn failure_records_of_one_invocation_are_read_concurrently_within_the_bound() {
    // One failure a shard: reads of one shard never overlap (docs/storms.md),
    // those of different shards do, within the bound.
    let client = hydrator_tests::emulator::kinesis_client();
    let stream = TestStream::create(&client, "triggers", 6).await;
    let mut failures = Vec::new();
    for shard in 0..6 {
        let orders = [b"{\"order\":1}".to_vec(), b"{\"order\":2}".to_vec()];
        let written = stream.write(shard, &orders).await;
        failures.push(failure_of(&stream, &written, 0, 2));
    }
    let mut event = sns_event(&failures[0]);
    let records = event["Records"].as_array_mut().unwrap();
    let template = records[0].clone();
    for failure in &failures[1..] {
        let mut record = template.clone();
        record["Sns"]["Message"] = failure.to_string().into();
        records.push(record);
    }
    // Slow reads, so that reads that may overlap do.
    let proxy = FaultProxy::start(
        &kinesis_endpoint(),
        Box::new(|_, _| Action::Delay(Duration::from_millis(300))),
    )
    .await;
    let settings = Settings {
        max_concurrency: 3,
        ..Settings::default()
    };
    let hydrator = Hydrator::new(sdk_config_with(&[("Kinesis", proxy.url())]), settings);
    let Response::Many(documents) = hydrator.handle(event.to_string()).await.unwrap() else {
        panic!("six failures give six documents")
    };
    assert_eq!(documents.len(), 6);
    for (i, document) in documents.iter().enumerate() {
        let document = serde_json::to_value(document).unwrap();
        assert_eq!(
            document["failure"], failures[i],
            "documents in the order of the records"
        );
        assert_eq!(hydration(&document).0, "complete");
    }
    assert_eq!(proxy.most_at_once(), 3, "three reads at a time, no more");
}
