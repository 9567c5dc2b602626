//! Kafka failures through the function's entry point, over the wire:
//! records written by kafka-python to the local broker (tansu), a Kafka
//! on-failure record in an SNS event and in an SQS event (raw and as an SNS
//! notification), read back from the broker and delivered to moto's SQS.
//! The queue's messages, joined with `hydrate::join`, are byte for byte the
//! document built here from what the producer wrote; a record too large for
//! a message is kept in moto's S3; with the idempotency table a failure
//! delivered twice is sent once; a cluster not allowed is never connected to;
//! `hydrator dlq drain` names the failure by topic, partitions and offsets
//! and saves the Kafka event the consumer got.
//!
//! Needs `scripts/emulators.sh start`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrate::{join, Document, Hydrator, KafkaSettings, Offload, S3Pointer, Settings};
use hydrator_tests::cli::hydrator;
use hydrator_tests::emulator::sdk_config;
use hydrator_tests::failure::{kafka_failure, sns_event, sns_notification, sqs_event};
use hydrator_tests::kafka::{bootstrap_servers, produce, Acknowledged, Outgoing};
use hydrator_tests::queue::{create_bucket, create_queue, s3_client, sqs_client};
use hydrator_tests::stream::unique_suffix;
use hydrator_tests::table::ledger_table;
use serde_json::{json, Value};

/// Five records a partition, interleaved: binary keys (one in three null),
/// JSON values but for a binary one and a tombstone, a header on every other
/// record, and in partition 1 one value of `large` bytes.
fn outgoing(large: usize) -> Vec<Outgoing> {
    let mut records = Vec::new();
    for i in 0u8..5 {
        for partition in 0..2 {
            let value = match (partition, i) {
                (1, 2) => Some(vec![b'L'; large]),
                (1, 3) => None,
                (0, 4) => Some(vec![0xff, 0x00, 0xfe]),
                _ => Some(format!(r#"{{"order":{i},"partition":{partition}}}"#).into_bytes()),
            };
            let headers = match i % 2 {
                0 => vec![("trace".to_owned(), vec![0, 1, 0xff])],
                _ => vec![],
            };
            records.push(Outgoing {
                partition,
                key: (i % 3 != 1).then(|| vec![0x00, 0xfe, i, partition as u8]),
                value,
                headers,
            });
        }
    }
    records
}

/// A topic of two partitions whose name holds hyphens, and what was written.
fn written_topic(large: usize) -> (String, Vec<(Outgoing, Acknowledged)>) {
    let topic = format!("order-events-v2-{}", unique_suffix());
    let outgoing = outgoing(large);
    let acknowledged = produce(&topic, 2, &outgoing);
    assert_eq!(acknowledged.len(), outgoing.len());
    (topic, outgoing.into_iter().zip(acknowledged).collect())
}

/// The on-failure record for offsets 1..=3 of partition 0 and 1..=4 of
/// partition 1.
fn failure_record(topic: &str, servers: &str) -> Value {
    kafka_failure(
        servers,
        &[(format!("{topic}-1"), 1, 4), (format!("{topic}-0"), 1, 3)],
    )
}

/// The event Lambda delivered for the failure, as text in Lambda's field
/// order, built from what the producer wrote and the broker acknowledged.
fn expected_event(topic: &str, written: &[(Outgoing, Acknowledged)]) -> String {
    let b64 = |b: &Option<Vec<u8>>| {
        b.as_ref()
            .map_or("null".to_owned(), |b| format!("\"{}\"", STANDARD.encode(b)))
    };
    let partition = |partition: i32, first: i64, last: i64| {
        let mut records: Vec<_> = written
            .iter()
            .filter(|(_, ack)| ack.partition == partition && (first..=last).contains(&ack.offset))
            .collect();
        records.sort_by_key(|(_, ack)| ack.offset);
        let records: Vec<String> = records
            .into_iter()
            .map(|(out, ack)| {
                let headers: Vec<String> = out
                    .headers
                    .iter()
                    .map(|(name, value)| format!("{{\"{name}\":{value:?}}}").replace(' ', ""))
                    .collect();
                format!(
                    r#"{{"topic":"{topic}","partition":{partition},"offset":{},"timestamp":{},"timestampType":"CREATE_TIME","key":{},"value":{},"headers":[{}]}}"#,
                    ack.offset,
                    ack.timestamp,
                    b64(&out.key),
                    b64(&out.value),
                    headers.join(",")
                )
            })
            .collect();
        format!("\"{topic}-{partition}\":[{}]", records.join(","))
    };
    format!(
        r#"{{"eventSource":"SelfManagedKafka","bootstrapServers":"{}","records":{{{},{}}}}}"#,
        bootstrap_servers(),
        partition(0, 1, 3),
        partition(1, 1, 4)
    )
}

fn settings(queue_url: &str) -> Settings {
    Settings {
        dlq_queue_url: Some(queue_url.to_owned()),
        kafka: KafkaSettings {
            bootstrap_allowlist: vec![bootstrap_servers()],
            ..KafkaSettings::default()
        },
        ..Settings::default()
    }
}

/// Every message in the queue, each body as it came (an offloaded one
/// fetched from S3), deleted once received.
async fn received(queue_url: &str) -> Vec<String> {
    let client = sqs_client();
    let mut bodies = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive message");
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        for message in messages {
            let body = message.body.unwrap_or_default();
            let body = match S3Pointer::from_body(&body) {
                Some(pointer) => String::from_utf8(
                    s3_client()
                        .get_object()
                        .bucket(&pointer.s3_bucket_name)
                        .key(&pointer.s3_key)
                        .send()
                        .await
                        .expect("the offloaded body")
                        .body
                        .collect()
                        .await
                        .expect("its bytes")
                        .to_vec(),
                )
                .expect("UTF-8"),
                None => body,
            };
            bodies.push(body);
            client
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle.unwrap_or_default())
                .send()
                .await
                .expect("delete message");
        }
    }
    bodies
}

/// The documents the queue holds, each joined from its parts.
fn joined(bodies: &[String]) -> Vec<Document> {
    let mut groups: std::collections::BTreeMap<String, Vec<Document>> = Default::default();
    for body in bodies {
        let part = Document::parse(body).expect("each message is a part of a document");
        let group = part.part.as_ref().expect("a part block").group_id.clone();
        groups.entry(group).or_default().push(part);
    }
    groups
        .into_values()
        .map(|parts| join(parts).expect("the parts join"))
        .collect()
}

/// The whole document, its hydration block taken from what arrived and
/// everything else from what was written.
fn expected_document(document: &Document, failure: &Value, event: &str) -> String {
    let kafka = document.kafka.as_ref().expect("a Kafka document");
    format!(
        r#"{{"version":"1","source":"SelfManagedKafka","failure":{},"hydration":{},"event":{event}}}"#,
        failure,
        kafka.hydration.get()
    )
}

#[tokio::test]
async fn a_kafka_failure_in_sns_and_in_sqs_reaches_the_queue_byte_exact() {
    let (topic, written) = written_topic(100);
    let failure = failure_record(&topic, &bootstrap_servers());
    let event = expected_event(&topic, &written);

    // SNS, in parts of at most 2,000 bytes.
    let queue = create_queue("kafka-dlq").await;
    let mut small = settings(&queue);
    small.max_message_bytes = 2_000;
    let response = Hydrator::new(sdk_config(), small)
        .handle(sns_event(&failure).to_string())
        .await
        .expect("delivered");
    let report = serde_json::to_value(&response).unwrap();
    let receipt = &report["delivered"][0];
    assert_eq!(receipt["status"], "complete");
    assert_eq!(receipt["hydratedRecords"], 7);
    assert_eq!(receipt["cluster"], bootstrap_servers());
    assert_eq!(
        receipt["partitions"],
        format!("{topic}-0:1-3,{topic}-1:1-4")
    );
    let bodies = received(&queue).await;
    assert!(bodies.len() >= 2, "{} parts", bodies.len());
    assert!(bodies.iter().all(|body| body.len() <= 2_000));
    let documents = joined(&bodies);
    assert_eq!(documents.len(), 1);
    let hydration: Value =
        serde_json::from_str(documents[0].kafka.as_ref().unwrap().hydration.get()).unwrap();
    assert_eq!(hydration["status"], "complete");
    assert_eq!(hydration["missing"], json!([]));
    assert_eq!(hydration["expectedRecords"], 7);
    assert!(
        documents[0].to_json() == expected_document(&documents[0], &failure, &event),
        "the joined document is not byte for byte what was written: {}",
        documents[0].to_json().len()
    );

    // SQS: the record as the message body, and inside an SNS notification.
    let queue = create_queue("kafka-dlq").await;
    let bodies = vec![failure.to_string(), sns_notification(&failure)];
    let response = Hydrator::new(sdk_config(), settings(&queue))
        .handle(sqs_event(&bodies).to_string())
        .await
        .expect("answered");
    let report = serde_json::to_value(&response).unwrap();
    assert_eq!(report["batchItemFailures"], json!([]));
    let documents = joined(&received(&queue).await);
    assert_eq!(documents.len(), 1, "the same failure twice is one group");
    assert!(documents[0].to_json() == expected_document(&documents[0], &failure, &event));
}

#[tokio::test]
async fn a_record_too_large_for_a_message_is_kept_in_s3_and_delivered_once() {
    let (topic, written) = written_topic(6_000);
    let failure = failure_record(&topic, &bootstrap_servers());
    let queue = create_queue("kafka-dlq").await;
    let bucket = create_bucket("kafka-offload").await;
    let mut settings = settings(&queue);
    settings.max_message_bytes = 4_000;
    settings.idempotency_table = Some(ledger_table().await);
    settings.offload = Some(Offload {
        bucket: bucket.clone(),
        prefix: Offload::DEFAULT_PREFIX.into(),
        kms_key_id: None,
    });
    let hydrator = Hydrator::new(sdk_config(), settings);
    let payload = sqs_event(&[failure.to_string()]).to_string();
    for _ in 0..2 {
        let response = hydrator.handle(&payload).await.expect("answered");
        let report = serde_json::to_value(&response).unwrap();
        assert_eq!(report["batchItemFailures"], json!([]));
    }
    let bodies = received(&queue).await;
    let documents = joined(&bodies);
    assert_eq!(documents.len(), 1, "the second invocation sent nothing new");
    let event = expected_event(&topic, &written);
    assert!(documents[0].to_json() == expected_document(&documents[0], &failure, &event));
    let objects = s3_client()
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list objects")
        .key_count
        .unwrap_or(0);
    assert_eq!(objects, 1, "one part held the large record alone");
}

#[tokio::test]
async fn a_cluster_not_on_the_allow_list_is_never_connected_to() {
    // A listener that counts connections, on a port no one else uses.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.set_nonblocking(true).unwrap();
    let trap = listener.local_addr().unwrap().to_string();
    let failure = failure_record("orders", &trap);
    let queue = create_queue("kafka-dlq").await;
    let error = Hydrator::new(sdk_config(), settings(&queue))
        .handle(sns_event(&failure).to_string())
        .await
        .expect_err("refused");
    assert_eq!(error.class(), "Input.KafkaServerNotAllowed");
    assert!(!error.to_string().contains(&trap));
    assert!(listener.accept().is_err(), "no connection was made");
}

/// A Kafka on-failure record for `ranges` (partition, first, last offset).
fn failure_over(topic: &str, ranges: &[(i32, i64, i64)]) -> Value {
    let ranges: Vec<(String, i64, i64)> = ranges
        .iter()
        .map(|(partition, first, last)| (format!("{topic}-{partition}"), *first, *last))
        .collect();
    kafka_failure(&bootstrap_servers(), &ranges)
}

/// Each document's Kafka event and fetch count, by its failure's ranges.
async fn events_and_fetches(queue: &str) -> std::collections::BTreeMap<String, (Value, u64)> {
    joined(&received(queue).await)
        .iter()
        .map(|document| {
            let whole: Value = serde_json::from_str(&document.to_json()).unwrap();
            let ranges = whole["failure"]["KafkaBatchInfo"]["recordsInfo"].to_string();
            let fetches = whole["hydration"]["fetchCalls"].as_u64().unwrap();
            (ranges, (whole["event"].clone(), fetches))
        })
        .collect()
}

#[tokio::test]
async fn a_storm_in_one_sqs_batch_is_read_together_each_document_as_if_read_alone() {
    let (topic, written) = written_topic(100);
    let offsets = |partition: i32| -> Vec<i64> {
        written
            .iter()
            .filter(|(_, a)| a.partition == partition)
            .map(|(_, a)| a.offset)
            .collect()
    };
    let (p0, p1) = (offsets(0), offsets(1));
    // Five failures over overlapping ranges of both partitions.
    let failures: Vec<Value> = [
        vec![(0, p0[0], p0[2])],
        vec![(0, p0[1], p0[4])],
        vec![(0, p0[3], p0[4]), (1, p1[0], p1[1])],
        vec![(1, p1[0], p1[4])],
        vec![(1, p1[3], p1[4])],
    ]
    .iter()
    .map(|ranges| failure_over(&topic, ranges))
    .collect();
    let bodies: Vec<String> = failures.iter().map(Value::to_string).collect();

    let together = create_queue("kafka-dlq").await;
    let response = Hydrator::new(sdk_config(), settings(&together))
        .handle(sqs_event(&bodies).to_string())
        .await
        .expect("answered");
    assert_eq!(
        serde_json::to_value(&response).unwrap()["batchItemFailures"],
        json!([])
    );
    let together = events_and_fetches(&together).await;

    let alone = create_queue("kafka-dlq").await;
    for body in &bodies {
        Hydrator::new(sdk_config(), settings(&alone))
            .handle(sqs_event(std::slice::from_ref(body)).to_string())
            .await
            .expect("answered");
    }
    let alone = events_and_fetches(&alone).await;

    assert_eq!(together.len(), 5);
    assert_eq!(
        together.keys().collect::<Vec<_>>(),
        alone.keys().collect::<Vec<_>>()
    );
    for (ranges, (event, _)) in &together {
        assert_eq!(event, &alone[ranges].0, "the same records for {ranges}");
    }
    let fetched = |documents: &std::collections::BTreeMap<String, (Value, u64)>| {
        documents.values().map(|(_, fetches)| fetches).sum::<u64>()
    };
    // One fetch a partition together; one a partition range alone.
    assert_eq!((fetched(&together), fetched(&alone)), (2, 6));

    // What failures read together hold is bounded (32 MiB of their byte
    // limits): at 16 MiB a failure, the first two are read together and
    // the three past the budget alone, with the same documents.
    let bounded = create_queue("kafka-dlq").await;
    let mut settings = settings(&bounded);
    settings.kafka.limits.max_bytes = 16 * 1024 * 1024;
    Hydrator::new(sdk_config(), settings)
        .handle(sqs_event(&bodies).to_string())
        .await
        .expect("answered");
    let bounded = events_and_fetches(&bounded).await;
    assert_eq!(bounded.len(), 5);
    for (ranges, (event, _)) in &bounded {
        assert_eq!(event, &alone[ranges].0, "the same records for {ranges}");
    }
    // 1 for the two of partition 0 together; 2, 1 and 1 alone.
    assert_eq!(fetched(&bounded), 5);
}

/// A secret in the emulator's Secrets Manager; its ARN.
async fn secret(text: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config());
    let created = client
        .create_secret()
        .name(format!("AmazonMSK_hydrator-{}", unique_suffix()))
        .secret_string(text)
        .send()
        .await
        .expect("create the secret");
    created.arn.expect("the secret's ARN")
}

#[tokio::test]
async fn the_scram_user_is_read_from_secrets_manager_before_any_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let broker = listener.local_addr().unwrap().to_string();
    let failure = failure_record("orders", &broker);
    let queue = create_queue("kafka-dlq").await;
    let scram = |arn: String| {
        let mut settings = settings(&queue);
        settings.kafka.bootstrap_allowlist = vec![broker.clone()];
        settings.kafka.auth = hydrate::KafkaAuthMode::ScramSha512;
        settings.kafka.scram_secret_arn = Some(arn);
        Hydrator::new(sdk_config(), settings)
    };
    let event = sns_event(&failure).to_string();

    // No such secret, and a secret that is not a user: no connection is made.
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_none-a1b2c3";
    let error = scram(missing.to_owned())
        .handle(&event)
        .await
        .expect_err("no secret");
    assert_eq!(error.class(), "Read.Kafka.ScramSecretPermanent", "{error}");
    let not_a_user = secret("hunter2-not-json").await;
    let error = scram(not_a_user)
        .handle(&event)
        .await
        .expect_err("not a user");
    assert_eq!(error.class(), "Config.KafkaScramSecretNotCredentials");
    assert!(!error.to_string().contains("hunter2"), "{error}");
    let early =
        tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept()).await;
    assert!(early.is_err(), "no connection was made");

    // The user's secret read: the hydrator goes on to the broker, over TLS
    // (SCRAM as Lambda uses it), and this listener answers nothing.
    let user = secret(r#"{"username": "hydrator", "password": "hunter2-pa55"}"#).await;
    let hydrator = scram(user);
    let handled = tokio::spawn(async move { hydrator.handle(event).await });
    let (mut connection, _) =
        tokio::time::timeout(std::time::Duration::from_secs(30), listener.accept())
            .await
            .expect("the broker is reached once the secret is read")
            .expect("accept");
    let mut hello = [0u8; 1];
    tokio::io::AsyncReadExt::read_exact(&mut connection, &mut hello)
        .await
        .expect("the client speaks first");
    assert_eq!(
        hello[0], 0x16,
        "a TLS handshake record opens the connection"
    );
    drop(connection);
    drop(listener);
    let error = handled
        .await
        .unwrap()
        .expect_err("no broker behind the listener");
    assert!(
        error.class().starts_with("Read.Kafka."),
        "{}",
        error.class()
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn the_tool_drains_a_kafka_document_and_saves_its_event() {
    let (topic, written) = written_topic(100);
    let failure = failure_record(&topic, &bootstrap_servers());
    let queue = create_queue("kafka-dlq").await;
    let mut small = settings(&queue);
    small.max_message_bytes = 2_000;
    Hydrator::new(sdk_config(), small)
        .handle(sns_event(&failure).to_string())
        .await
        .expect("delivered");

    let temp = tempfile::Builder::new()
        .prefix("hydrator-kafka-drain-")
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
        "--wait-seconds",
        "1",
        "--delete",
    ];
    let run = hydrator(&args, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report = run.report();
    let drained = &report["failures"][0];
    assert_eq!(drained["source"], "SelfManagedKafka");
    assert_eq!(drained["stream"], topic);
    assert_eq!(drained["shard"], "0,1");
    assert_eq!(drained["startSequenceNumber"], "1,1");
    assert_eq!(drained["endSequenceNumber"], "3,4");
    assert_eq!(
        (drained["records"].as_u64(), drained["expected"].as_u64()),
        (Some(7), Some(7))
    );
    assert!(drained["parts"].as_u64().unwrap() >= 2);
    assert_eq!(drained["deleted"], true);
    let files: Vec<&str> = drained["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let event: Value = serde_json::from_slice(&std::fs::read(files[1]).unwrap()).unwrap();
    let expected: Value = serde_json::from_str(&expected_event(&topic, &written)).unwrap();
    assert_eq!(event, expected, "the saved event is the consumer's");

    // `show` lists the saved document's records by topic-partition and offset.
    let shown = hydrator(&["--output", "json", "show", files[0]], &[]).await;
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    let places: Vec<String> = shown.report()["records"]
        .as_array()
        .expect("the records")
        .iter()
        .map(|r| r["kafkaRecord"].as_str().unwrap_or_default().to_owned())
        .collect();
    let expected_places: Vec<String> = [(0, 1..=3), (1, 1..=4)]
        .into_iter()
        .flat_map(|(partition, offsets)| offsets.map(move |o| (partition, o)))
        .map(|(partition, offset)| format!("{topic}-{partition}@{offset}"))
        .collect();
    assert_eq!(places, expected_places);
}
