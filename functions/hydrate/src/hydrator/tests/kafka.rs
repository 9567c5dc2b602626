//! Kafka failures through the whole invocation, offline: refused before any
//! connection unless the settings allow the cluster, an S3 destination's
//! saved batch delivered with no read (parts joined give the whole
//! document; a record too large for a message goes to S3), and delivered
//! once with the idempotency table. Reading a cluster is tested over the
//! wire against the local broker (`tests/deliver/kafka.rs`).

use super::*;
use crate::hydrator::settings::KafkaAuthMode;

const MSK_ARN: &str =
    "arn:aws:kafka:us-east-2:123456789012:cluster/orders/751d2973-a626-431c-9d4e-d7975eb44dd7-2";
const SERVERS: &str = "b-1.orders.example.com:9092,b-2.orders.example.com:9092";

/// A Kafka on-failure record for offsets 4..=6 of `orders-v2-0` and 2..=2
/// of `orders-v2-1`; with `payload`, as an S3 destination saves it.
fn kafka_failure(payload: Option<&Value>) -> Value {
    let mut record = json!({
        "requestContext": {"requestId": "c9b8fa9f-5a7f-4d3a-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:orders-consumer",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-21T00:38:06.021Z",
        "KafkaBatchInfo": {
            "batchSize": 4,
            "eventSourceArn": MSK_ARN,
            "bootstrapServers": SERVERS,
            "payloadSize": 2039,
            "recordsInfo": {
                "orders-v2-0": {"firstRecordOffset": "4", "lastRecordOffset": "6"},
                "orders-v2-1": {"firstRecordOffset": "2", "lastRecordOffset": "2"}
            }
        }
    });
    if let Some(payload) = payload {
        record["payload"] = json!(payload.to_string());
    }
    record
}

/// The Kafka event the consumer got: `value_bytes` of `x` in each value.
fn kafka_event(value_bytes: usize) -> Value {
    use base64::Engine;
    let value = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; value_bytes]);
    let record = |partition: u32, offset: u32| {
        json!({"topic": "orders-v2", "partition": partition, "offset": offset,
            "timestamp": 1_763_685_484_835_u64, "timestampType": "CREATE_TIME",
            "key": null, "value": value, "headers": [{"traceparent": [48, 48]}]})
    };
    json!({
        "eventSource": "aws:kafka",
        "eventSourceArn": MSK_ARN,
        "bootstrapServers": SERVERS,
        "records": {
            "orders-v2-0": [record(0, 4), record(0, 5), record(0, 6)],
            "orders-v2-1": [record(1, 2)]
        }
    })
}

fn allowing(mut settings: Settings) -> Settings {
    settings.kafka.bootstrap_allowlist = SERVERS.split(',').map(str::to_owned).collect();
    settings.kafka.cluster_arns = vec![MSK_ARN.to_owned()];
    settings
}

async fn error_class(hydrator: &Hydrator<FakeAws>, payload: &Value) -> String {
    handle(hydrator, payload).await.unwrap_err().class()
}

#[tokio::test]
async fn a_cluster_the_settings_do_not_allow_is_refused_before_any_connection() {
    let failure = sns(&[kafka_failure(None)]);
    let nothing_allowed = Hydrator::with_aws(FakeAws::default(), settings());
    assert_eq!(
        error_class(&nothing_allowed, &failure).await,
        "Input.KafkaServerNotAllowed"
    );

    let mut one_server = allowing(settings());
    one_server.kafka.bootstrap_allowlist.truncate(1);
    let one_server = Hydrator::with_aws(FakeAws::default(), one_server);
    assert_eq!(
        error_class(&one_server, &failure).await,
        "Input.KafkaServerNotAllowed",
        "every server named must be allowed"
    );

    let mut other_cluster = allowing(settings());
    other_cluster.kafka.cluster_arns = vec![MSK_ARN.replace("orders", "payments")];
    let other_cluster = Hydrator::with_aws(FakeAws::default(), other_cluster);
    assert_eq!(
        error_class(&other_cluster, &failure).await,
        "Input.KafkaClusterNotAllowed"
    );

    // SCRAM without its secret, or with a secret that is not a user.
    let mut scram = allowing(settings());
    scram.kafka.auth = KafkaAuthMode::ScramSha512;
    let unset = Hydrator::with_aws(FakeAws::default(), scram.clone());
    assert_eq!(
        error_class(&unset, &failure).await,
        "Config.KafkaScramSecretNotSet"
    );
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_orders-a1b2c3";
    scram.kafka.scram_secret_arn = Some(arn.to_owned());
    let missing = Hydrator::with_aws(FakeAws::default(), scram.clone());
    assert_eq!(
        error_class(&missing, &failure).await,
        "Read.Kafka.ScramSecretPermanent"
    );
    let not_a_user = FakeAws {
        secrets: HashMap::from([(arn.to_owned(), "hunter2".to_owned())]),
        ..FakeAws::default()
    };
    let not_a_user = Hydrator::with_aws(not_a_user, scram);
    assert_eq!(
        error_class(&not_a_user, &failure).await,
        "Config.KafkaScramSecretNotCredentials"
    );
    // AWS in memory has no credentials to sign an MSK IAM token with.
    let mut iam = allowing(settings());
    iam.kafka.auth = KafkaAuthMode::Iam;
    let iam = Hydrator::with_aws(FakeAws::default(), iam);
    assert_eq!(
        error_class(&iam, &failure).await,
        "Config.KafkaAuthNotSupported"
    );
}

#[tokio::test]
async fn a_bad_kafka_record_fails_its_message_alone_with_its_class() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), to_dlq(settings()));
    let mut bad = kafka_failure(Some(&kafka_event(10)));
    bad["KafkaBatchInfo"]["recordsInfo"]["orders-v2-0"]["firstRecordOffset"] =
        json!("9".repeat(30));
    let mut forged_context = kafka_failure(Some(&kafka_event(10)));
    forged_context["requestContext"] = json!("4111 1111");
    let payload = sqs(&[
        ("m-bad", bad),
        ("m-context", forged_context),
        ("m-good", kafka_failure(Some(&kafka_event(10)))),
    ]);
    assert_eq!(
        failed_ids(handle(&hydrator, &payload).await.unwrap()),
        ["m-bad", "m-context"]
    );
    assert_eq!(delivered(&hydrator.aws).len(), 1);
}

#[tokio::test]
async fn a_saved_batch_is_delivered_without_a_read_in_parts_that_join_to_the_document() {
    let event = kafka_event(1_500);
    let failure = kafka_failure(Some(&event));
    // Returned: the whole document, for an OnSuccess destination.
    let returning = Hydrator::with_aws(FakeAws::default(), settings());
    let whole = one(handle(&returning, &sns(std::slice::from_ref(&failure)))
        .await
        .unwrap());
    let whole_text = serde_json::to_string(&whole).unwrap();
    let whole: Value = serde_json::from_str(&whole_text).unwrap();
    assert_eq!(whole["event"], event);
    assert_eq!(whole["source"], "aws:kafka");
    let mut without_payload = failure.clone();
    without_payload.as_object_mut().unwrap().remove("payload");
    assert_eq!(
        whole["failure"], without_payload,
        "the batch is not carried twice"
    );
    assert_eq!(whole["hydration"]["origin"], "s3-payload");
    assert!(whole.get("Records").is_none());

    // Sent: parts of at most 4,000 bytes, which join to the same document.
    let mut small = to_dlq(settings());
    small.max_message_bytes = 4_000;
    let sending = Hydrator::with_aws(FakeAws::default(), small);
    let Response::Delivered(report) = handle(&sending, &sns(&[failure])).await.unwrap() else {
        panic!("expected a delivery report")
    };
    assert!(report.delivered[0].message_ids.len() >= 2, "{report:?}");
    let receipt = serde_json::to_value(&report.delivered[0]).unwrap();
    assert_eq!(receipt["cluster"], MSK_ARN);
    assert_eq!(receipt["partitions"], "orders-v2-0:4-6,orders-v2-1:2-2");
    let calls = sending.aws.queue_calls.lock().unwrap().clone();
    for entry in calls.iter().flatten() {
        assert!(entry.message_body.len() <= 4_000);
        let part: Value = serde_json::from_str(&entry.message_body).unwrap();
        assert_eq!(part["event"]["bootstrapServers"], SERVERS);
    }
    let joined = delivered(&sending.aws);
    assert_eq!(joined.len(), 1);
    assert!(
        joined[0].to_json() == whole_text,
        "joined parts differ from the document"
    );
}

#[tokio::test]
async fn a_kafka_record_too_large_for_a_message_goes_to_s3_or_is_refused() {
    let failure = kafka_failure(Some(&kafka_event(6_000)));
    let mut small = to_dlq(settings());
    small.max_message_bytes = 4_000;
    let refusing = Hydrator::with_aws(FakeAws::default(), small.clone());
    assert_eq!(
        error_class(&refusing, &sns(std::slice::from_ref(&failure))).await,
        "Delivery.Offload"
    );
    assert!(refusing.aws.queue_calls.lock().unwrap().is_empty());

    small.offload = Some(Offload {
        bucket: "offload".into(),
        prefix: Offload::DEFAULT_PREFIX.into(),
        kms_key_id: None,
    });
    let offloading = Hydrator::with_aws(FakeAws::default(), small);
    handle(&offloading, &sns(&[failure])).await.unwrap();
    assert_eq!(offloading.aws.written.lock().unwrap().len(), 4);
    let joined = delivered(&offloading.aws);
    let event: Value = serde_json::from_str(&joined[0].to_json()).unwrap();
    assert_eq!(event["event"], kafka_event(6_000));
}

#[tokio::test]
async fn with_the_table_a_kafka_failure_delivered_twice_is_sent_once() {
    let mut with_ledger = to_dlq(settings());
    with_ledger.idempotency_table = Some("hydrator-ledger".into());
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger);
    let payload = sqs(&[("m-1", kafka_failure(Some(&kafka_event(10))))]);
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
    assert_eq!(hydrator.aws.ledger.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_s3_destinations_kafka_object_is_its_saved_batch() {
    let event = kafka_event(10);
    let mut aws = FakeAws::default();
    aws.objects.insert(
        "failures/kafka.json".into(),
        kafka_failure(Some(&event)).to_string().into_bytes(),
    );
    let s3_event = json!({"Records": [{"eventSource": "aws:s3", "awsRegion": "us-east-2",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "failures"}, "object": {"key": "kafka.json", "size": 10}}}]});
    // Nothing allowed: no connection is needed.
    let hydrator = Hydrator::with_aws(aws, settings());
    let document = one(handle(&hydrator, &s3_event).await.unwrap());
    let document = serde_json::to_value(&document).unwrap();
    assert_eq!(document["event"], event);
    assert_eq!(document["hydration"]["hydratedRecords"], 4);
    assert!(document["failure"].get("payload").is_none());
}

/// What Lambda writes to a Kafka topic destination for the failed record at
/// `offset` of `orders-v2-0`: the on-failure record, the record inside.
fn destination_message(offset: u32) -> Value {
    let record = json!({"topic": "orders-v2", "partition": 0, "offset": offset,
        "timestamp": 1_763_685_484_835_u64, "timestampType": "CREATE_TIME",
        "key": null, "value": "eyJpZCI6MX0=", "headers": []});
    json!({
        "requestContext": {"requestId": "c9b8fa9f-5a7f-4d3a-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:orders-consumer",
            "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-21T00:38:06.021Z",
        "KafkaBatchInfo": {"batchSize": 1, "eventSourceArn": MSK_ARN, "bootstrapServers": SERVERS,
            "payloadSize": 120,
            "recordInfo": {"offset": offset.to_string(), "timestamp": "2026-11-21T00:38:04.835Z"}},
        "payload": {"bootstrapServers": SERVERS, "eventSource": "aws:kafka",
            "eventSourceArn": MSK_ARN, "records": {"orders-v2-0": [record]}}
    })
}

/// The Kafka event a function subscribed to the destination topic gets.
fn destination_event(values: &[String]) -> Value {
    let records: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(offset, value)| {
            json!({"topic": "orders-v2-failures", "partition": 0, "offset": offset,
                "timestamp": 1_763_685_486_021_u64, "timestampType": "CREATE_TIME",
                "key": null, "value": value, "headers": []})
        })
        .collect();
    json!({"eventSource": "aws:kafka", "eventSourceArn": MSK_ARN, "bootstrapServers": SERVERS,
        "records": {"orders-v2-failures-0": records}})
}

fn encoded(message: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(message.to_string())
}

#[tokio::test]
async fn a_kafka_topic_destinations_messages_are_each_a_document_without_a_read() {
    let messages = [destination_message(4), destination_message(9)];
    let event = destination_event(&messages.iter().map(encoded).collect::<Vec<_>>());
    // Nothing allowed: the records are inside, no connection is needed.
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let Response::Many(documents) = handle(&hydrator, &event).await.unwrap() else {
        panic!("one document a message")
    };
    assert_eq!(documents.len(), 2);
    for (document, message) in documents.iter().zip(&messages) {
        let document = serde_json::to_value(document).unwrap();
        assert_eq!(document["event"], message["payload"]);
        assert_eq!(document["hydration"]["hydratedRecords"], 1);
        assert_eq!(document["hydration"]["status"], "complete");
        assert_eq!(
            document["failure"]["KafkaBatchInfo"],
            message["KafkaBatchInfo"]
        );
    }

    let not_base64 = destination_event(&["%%%".to_owned()]);
    assert_eq!(
        error_class(&hydrator, &not_base64).await,
        "Input.MalformedEnvelope"
    );
    let mut two_partitions = destination_message(4);
    two_partitions["payload"]["records"]["orders-v2-1"] = json!([]);
    let two_partitions = destination_event(&[encoded(&two_partitions)]);
    assert_eq!(
        error_class(&hydrator, &two_partitions).await,
        "Input.MalformedPayload"
    );
}
