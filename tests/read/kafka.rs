//! Kafka failures read back over the wire from the local broker (tansu),
//! with records written by kafka-python, a standard Kafka client: binary
//! keys and values, null keys and values, headers, two partitions of a topic
//! whose name holds hyphens, and one failure spanning both.
//!
//! Needs `scripts/emulators.sh start` (or KAFKA_BOOTSTRAP_SERVERS).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrate::{
    read_kafka_failure, read_kafka_failures, KafkaAuth, KafkaDocument, KafkaFailure,
    KafkaGapReason, KafkaLimits,
};
use hydrator_tests::kafka::{
    bootstrap_servers, parse_with_powertools, produce, produce_compressed, produce_last_apart,
    Acknowledged, Outgoing,
};
use hydrator_tests::kafka_broker::OwnBroker;
use hydrator_tests::stream::unique_suffix;
use serde_json::{json, Value};

/// Eight records a partition, interleaved. Keys are binary (not UTF-8), one
/// in three null; values are JSON text but for two records of partition 1:
/// one binary, one null (a tombstone). Headers come out of name order and
/// name one header twice, as Kafka allows: the consumer got them so.
fn outgoing() -> Vec<Outgoing> {
    let mut records = Vec::new();
    for i in 0u8..8 {
        for partition in 0..2 {
            let value = match (partition, i) {
                (1, 6) => None,
                (1, 7) => Some(vec![0xff, 0x00, 0xfe, 0x80]),
                _ => Some(format!(r#"{{"order":{i},"partition":{partition}}}"#).into_bytes()),
            };
            let headers = if i % 2 == 0 {
                vec![
                    ("trace".to_owned(), vec![0, 1, 2, 0xff]),
                    ("content-type".to_owned(), b"application/json".to_vec()),
                    ("trace".to_owned(), vec![i]),
                ]
            } else {
                vec![]
            };
            records.push(Outgoing {
                partition,
                key: (i % 3 != 1).then(|| vec![0x00, 0xff, i, partition as u8]),
                value,
                headers,
            });
        }
    }
    records
}

/// The Kafka event records Lambda would have delivered for `first..=last` of
/// `partition`, built from what was written and acknowledged, not from the
/// hydrator's reading.
fn expected_records(
    topic: &str,
    partition: i32,
    first: i64,
    last: i64,
    written: &[(Outgoing, Acknowledged)],
) -> Value {
    let b64 = |b: &Option<Vec<u8>>| {
        b.as_ref()
            .map_or(Value::Null, |b| json!(STANDARD.encode(b)))
    };
    let mut records: Vec<_> = written
        .iter()
        .filter(|(_, ack)| ack.partition == partition && (first..=last).contains(&ack.offset))
        .collect();
    records.sort_by_key(|(_, ack)| ack.offset);
    Value::Array(
        records
            .into_iter()
            .map(|(out, ack)| {
                json!({
                    "topic": topic, "partition": partition, "offset": ack.offset,
                    "timestamp": ack.timestamp, "timestampType": "CREATE_TIME",
                    "key": b64(&out.key), "value": b64(&out.value),
                    "headers": out.headers.iter().map(|(n, v)| json!({ n: v })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

fn failure_record(ranges: &[(String, i64, i64)], arn: Option<&str>) -> KafkaFailure {
    failure_record_at(&bootstrap_servers(), ranges, arn)
}

/// As [`failure_record`], from the cluster at `bootstrap`.
fn failure_record_at(
    bootstrap: &str,
    ranges: &[(String, i64, i64)],
    arn: Option<&str>,
) -> KafkaFailure {
    let mut info = json!({
        "batchSize": 20,
        "bootstrapServers": bootstrap,
        "recordsInfo": ranges.iter().map(|(key, first, last)| {
            (key.clone(), json!({"firstRecordOffset": first.to_string(), "lastRecordOffset": last.to_string()}))
        }).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(arn) = arn {
        info["eventSourceArn"] = json!(arn);
    }
    let record = json!({
        "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-12-06T10:00:00.000Z",
        "KafkaBatchInfo": info,
    });
    KafkaFailure::parse(&record.to_string()).expect("the record is valid")
}

/// A topic named with hyphens, two partitions, the records written to it.
fn written_topic() -> (String, Vec<(Outgoing, Acknowledged)>) {
    let topic = format!("order-events-v2-{}", unique_suffix());
    let outgoing = outgoing();
    let acknowledged = produce(&topic, 2, &outgoing);
    assert_eq!(acknowledged.len(), outgoing.len());
    (topic, outgoing.into_iter().zip(acknowledged).collect())
}

async fn document_of(failure: &KafkaFailure) -> Value {
    let reads = read_kafka_failure(failure, &KafkaAuth::Plaintext, &KafkaLimits::default())
        .await
        .expect("the broker is reachable");
    serde_json::to_value(KafkaDocument::new(failure, &reads)).expect("the document serializes")
}

#[tokio::test]
async fn a_failure_spanning_two_partitions_is_read_back_byte_exact_and_in_offset_order() {
    let (topic, written) = written_topic();
    let failure = failure_record(
        &[(format!("{topic}-1"), 1, 7), (format!("{topic}-0"), 2, 5)],
        None,
    );
    let document = document_of(&failure).await;

    assert_eq!(document["version"], "1");
    assert_eq!(document["source"], "SelfManagedKafka");
    assert_eq!(document["failure"].to_string(), failure.raw.get());
    assert_eq!(document["hydration"]["status"], "complete");
    assert_eq!(document["hydration"]["missing"], json!([]));
    assert_eq!(document["hydration"]["hydratedRecords"], 4 + 7);
    let event = &document["event"];
    assert_eq!(event["eventSource"], "SelfManagedKafka");
    assert!(event.get("eventSourceArn").is_none());
    assert_eq!(event["bootstrapServers"], bootstrap_servers());
    assert_eq!(
        event["records"],
        json!({
            format!("{topic}-0"): expected_records(&topic, 0, 2, 5, &written),
            format!("{topic}-1"): expected_records(&topic, 1, 1, 7, &written),
        })
    );
    // The expectation itself holds what the test is about.
    let partition_1 = &event["records"][format!("{topic}-1")];
    assert_eq!(
        partition_1[5]["value"],
        Value::Null,
        "a tombstone stays null"
    );
    assert_eq!(partition_1[6]["value"], json!("/wD+gA=="), "binary value");
    assert!(partition_1
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["key"].is_null()));
}

#[tokio::test]
async fn powertools_kafka_models_accept_the_event_as_a_consumer_would_get_it() {
    let (topic, written) = written_topic();
    // Powertools' model requires a value, as UTF-8 text: the records of
    // partition 1 with a binary or null value are left out of this range.
    let ranges = [(format!("{topic}-0"), 0, 7), (format!("{topic}-1"), 0, 5)];
    for arn in [
        None,
        Some("arn:aws:kafka:us-east-1:123456789012:cluster/orders/751d2973-2"),
    ] {
        let failure = failure_record(&ranges, arn);
        let document = document_of(&failure).await;
        let view = parse_with_powertools(&document["event"]).expect("Powertools accepts the event");
        assert_eq!(
            view.event_source,
            if arn.is_some() {
                "aws:kafka"
            } else {
                "SelfManagedKafka"
            }
        );
        assert_eq!(view.bootstrap_servers, [bootstrap_servers()]);
        let mut expected: Vec<_> = written
            .iter()
            .filter(|(_, ack)| ack.partition == 0 || ack.offset <= 5)
            .collect();
        expected.sort_by_key(|(_, ack)| (ack.partition, ack.offset));
        assert_eq!(view.records.len(), expected.len());
        for (seen, (out, ack)) in view.records.iter().zip(expected) {
            assert_eq!(seen.partition_key, format!("{topic}-{}", ack.partition));
            assert_eq!(seen.offset, ack.offset);
            assert_eq!(seen.timestamp_ms, ack.timestamp);
            assert_eq!(seen.key_b64, out.key.as_ref().map(|k| STANDARD.encode(k)));
            assert_eq!(Some(seen.value.as_bytes()), out.value.as_deref());
            let headers: Vec<_> = out
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), STANDARD.encode(v)))
                .collect();
            assert_eq!(seen.headers, headers);
        }
    }
}

/// Producers compress what they send: twelve records, compressible but each
/// distinct, written with each codec a Kafka producer offers; offsets 3 to 9
/// read back exactly. (Each record is a batch of its own: see produce.py.)
#[tokio::test]
async fn batches_compressed_with_every_codec_read_back_byte_exact() {
    let outgoing: Vec<_> = (0u8..12)
        .map(|i| Outgoing {
            partition: 0,
            key: (i % 4 != 0).then(|| vec![0x00, 0xff, i]),
            value: Some(
                [
                    format!(r#"{{"order":{i},"note":"#).as_bytes(),
                    &[b'x'; 300],
                    &[0xfe, i],
                    b"}",
                ]
                .concat(),
            ),
            headers: vec![("trace".to_owned(), vec![i, 0xff])],
        })
        .collect();
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("compressed-{codec}-{}", unique_suffix());
        let acknowledged = produce_compressed(&topic, codec, &outgoing);
        let written: Vec<_> = outgoing.iter().cloned().zip(acknowledged).collect();
        let failure = failure_record(&[(format!("{topic}-0"), 3, 9)], None);
        let document = document_of(&failure).await;
        assert_eq!(
            document["hydration"]["status"], "complete",
            "{codec}: {}",
            document["hydration"]
        );
        assert_eq!(
            document["event"]["records"][format!("{topic}-0")],
            expected_records(&topic, 0, 3, 9, &written),
            "{codec}"
        );
    }
}

/// A document's gaps: topic, partition, first and last offset, reason.
fn gaps_of(document: &Value) -> Vec<(String, i64, i64, i64, KafkaGapReason)> {
    (document["hydration"]["missing"].as_array().unwrap().iter())
        .map(|g| {
            (
                g["topic"].as_str().unwrap().to_owned(),
                g["partition"].as_i64().unwrap(),
                g["firstOffset"].as_i64().unwrap(),
                g["lastOffset"].as_i64().unwrap(),
                serde_json::from_value::<KafkaGapReason>(g["reason"].clone()).unwrap(),
            )
        })
        .collect()
}

/// Retention took the oldest records: on a broker that keeps its log in S3,
/// the partition's first three batches are deleted, as retention deletes a
/// log's oldest segments. A range that starts before what is left names the
/// deleted offsets `before-log-start` and reads the rest exactly.
#[tokio::test]
async fn offsets_retention_deleted_are_named_before_the_log_start() {
    let broker = OwnBroker::over_s3().await;
    let topic = format!("retained-events-{}", unique_suffix());
    let outgoing: Vec<_> = (0u8..8)
        .map(|i| Outgoing {
            partition: 0,
            key: Some(vec![0xff, i]),
            value: Some(format!(r#"{{"order":{i}}}"#).into_bytes()),
            headers: vec![("n".to_owned(), vec![i])],
        })
        .collect();
    let acknowledged = produce_last_apart(&broker.bootstrap, &topic, 1, &outgoing);
    let written: Vec<_> = outgoing.into_iter().zip(acknowledged).collect();
    let failure = failure_record_at(&broker.bootstrap, &[(format!("{topic}-0"), 1, 5)], None);

    let before = document_of(&failure).await;
    assert_eq!(
        before["hydration"]["status"], "complete",
        "all there before"
    );
    assert_eq!(broker.delete_before(&topic, 0, 3).await, 3);

    let document = document_of(&failure).await;
    assert_eq!(
        gaps_of(&document),
        [(topic.clone(), 0, 1, 2, KafkaGapReason::BeforeLogStart)]
    );
    assert_eq!(document["hydration"]["status"], "partial");
    assert_eq!(
        document["event"]["records"][format!("{topic}-0")],
        expected_records(&topic, 0, 3, 5, &written)
    );
}

#[tokio::test]
async fn offsets_past_the_high_watermark_and_gone_partitions_are_named_gaps() {
    let (topic, written) = written_topic();
    let failure = failure_record(
        &[
            (format!("{topic}-1"), 6, 11),
            (format!("{topic}-7"), 0, 3),
            (format!("{topic}-gone-0"), 5, 9),
        ],
        None,
    );
    let document = document_of(&failure).await;
    assert_eq!(
        gaps_of(&document),
        [
            (topic.clone(), 1, 8, 11, KafkaGapReason::BeyondHighWatermark),
            (topic.clone(), 7, 0, 3, KafkaGapReason::TopicOrPartitionGone),
            (
                format!("{topic}-gone"),
                0,
                5,
                9,
                KafkaGapReason::TopicOrPartitionGone
            ),
        ]
    );
    assert_eq!(document["hydration"]["status"], "partial");
    assert_eq!(
        document["event"]["records"][format!("{topic}-1")],
        expected_records(&topic, 1, 6, 11, &written)
    );
    assert_eq!(
        document["event"]["records"][format!("{topic}-7")],
        json!([])
    );
    // Reading never creates the topic it finds gone (the broker creates
    // topics a metadata request names).
    let again = document_of(&failure).await;
    assert_eq!(
        again["hydration"]["missing"],
        document["hydration"]["missing"]
    );
}

#[tokio::test]
async fn a_storm_of_failures_of_one_partition_costs_few_fetches() {
    let topic = format!("storm-events-{}", unique_suffix());
    let outgoing: Vec<_> = (0..200u32)
        .map(|i| Outgoing {
            partition: 0,
            key: Some(i.to_be_bytes().to_vec()),
            value: Some(vec![0xab; 2_000]),
            headers: vec![],
        })
        .collect();
    produce(&topic, 1, &outgoing);
    let failures: Vec<_> = (0..40)
        .map(|i| failure_record(&[(format!("{topic}-0"), i * 5, i * 5 + 4)], None))
        .collect();
    let mut separate_fetches = 0;
    let mut separate = Vec::new();
    for failure in &failures {
        let reads = read_kafka_failure(failure, &KafkaAuth::Plaintext, &KafkaLimits::default())
            .await
            .expect("the broker is reachable");
        separate_fetches += reads.iter().map(|r| r.fetches).sum::<u32>();
        separate.push(reads);
    }
    let storm: Vec<_> = failures.iter().collect();
    let coalesced = read_kafka_failures(
        &bootstrap_servers(),
        &storm,
        &KafkaAuth::Plaintext,
        &KafkaLimits::default(),
    )
    .await
    .expect("the broker is reachable");
    let coalesced_fetches: u32 = coalesced.iter().flatten().map(|r| r.fetches).sum();
    println!(
        "40 failures of 5 records (2 KB values) in one partition: {separate_fetches} fetches read one by one, {coalesced_fetches} coalesced"
    );
    // Every failure gets what its own read gave: the same records and gaps.
    assert_eq!(coalesced.len(), separate.len());
    for (got, want) in coalesced.iter().zip(&separate) {
        assert_eq!(got[0].records, want[0].records);
        assert_eq!(got[0].gaps, want[0].gaps);
    }
    assert!(coalesced.iter().all(|reads| reads[0].records.len() == 5));
    assert_eq!(separate_fetches, 40);
    assert!(coalesced_fetches < 10, "{coalesced_fetches} fetches");
}
