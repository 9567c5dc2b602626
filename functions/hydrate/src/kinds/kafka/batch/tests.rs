//! The Kafka on-failure record's shapes, as the Lambda documentation shows
//! them, and hostile variants of each field.

use serde_json::{json, Value};

use super::*;

fn documented() -> Value {
    json!({
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4d3a-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3
        },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": "2024-11-14T18:16:05.568Z",
        "KafkaBatchInfo": {
            "batchSize": 500,
            "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
            "bootstrapServers": "b-1.orders.a1bcde.c1.kafka.us-east-1.amazonaws.com:9098,b-2.orders.a1bcde.c1.kafka.us-east-1.amazonaws.com:9098",
            "payloadSize": 2039086,
            "recordsInfo": {
                "order-events-3": { "firstRecordOffset": "12", "lastRecordOffset": "20" },
                "order-events-0": {
                    "firstRecordOffset": "49", "lastRecordOffset": "548",
                    "firstRecordTimestamp": "2024-11-14T18:16:04.835Z",
                    "lastRecordTimestamp": "2024-11-14T18:16:05.567Z"
                }
            }
        }
    })
}

fn parse(value: &Value) -> Result<KafkaFailure, KafkaRecordError> {
    KafkaFailure::parse(&value.to_string())
}

/// The documented record with `requestContext` replaced: it is copied into
/// the document, so it must be the object AWS writes.
fn with_context(context: Value) -> Value {
    let mut record = documented();
    record["requestContext"] = context;
    record
}

fn with_info(field: &str, value: Value) -> Value {
    let mut record = documented();
    record["KafkaBatchInfo"][field] = value;
    record
}

fn with_range(key: &str, first: Value, last: Value) -> Value {
    with_info(
        "recordsInfo",
        json!({ key: { "firstRecordOffset": first, "lastRecordOffset": last } }),
    )
}

#[test]
fn a_failure_spanning_partitions_names_each_range_split_on_the_last_hyphen() {
    let failure = parse(&documented()).unwrap();
    assert_eq!(failure.condition, Condition::RetriesExhausted);
    assert_eq!(failure.batch_size, 500);
    assert!(failure.is_msk());
    assert!(failure.payload.is_none());
    let ranges: Vec<_> = failure
        .partitions
        .iter()
        .map(|p| (p.topic.as_str(), p.partition, p.first, p.last, p.key()))
        .collect();
    assert_eq!(
        ranges,
        [
            ("order-events", 0, 49, 548, "order-events-0".to_owned()),
            ("order-events", 3, 12, 20, "order-events-3".to_owned()),
        ]
    );
    assert_eq!(failure.raw.get(), documented().to_string());
}

#[test]
fn both_condition_spellings_and_the_payload_size_condition_are_known() {
    for (spelling, expected) in [
        ("RetryAttemptsExhausted", Condition::RetriesExhausted),
        ("RetriesExhausted", Condition::RetriesExhausted),
        (
            "MaximumPayloadSizeExceeded",
            Condition::MaximumPayloadSizeExceeded,
        ),
        ("SomethingNew", Condition::Other),
    ] {
        let mut record = documented();
        record["requestContext"]["condition"] = json!(spelling);
        if expected == Condition::MaximumPayloadSizeExceeded {
            record["responseContext"] = Value::Null;
        }
        assert_eq!(parse(&record).unwrap().condition, expected, "{spelling}");
    }
}

#[test]
fn a_self_managed_cluster_has_no_msk_arn() {
    let mut record = documented();
    record["KafkaBatchInfo"]
        .as_object_mut()
        .unwrap()
        .remove("eventSourceArn");
    record["KafkaBatchInfo"]["bootstrapServers"] = json!("127.0.0.1:9092");
    let failure = parse(&record).unwrap();
    assert!(!failure.is_msk());
    assert_eq!(failure.bootstrap_servers, "127.0.0.1:9092");
}

#[test]
fn the_s3_destinations_payload_is_the_event_unescaped_or_as_an_object() {
    let payload =
        json!({"eventSource": "aws:kafka", "records": {"order-events-0": [{"offset": 49}]}});
    for written in [json!(payload.to_string()), payload.clone()] {
        let mut record = documented();
        record["payload"] = written;
        let failure = parse(&record).unwrap();
        assert_eq!(failure.payload.unwrap().get(), payload.to_string());
    }
}

#[test]
fn a_payload_that_is_no_kafka_event_is_refused() {
    for payload in [
        json!("{not json"),
        json!("[1]"),
        json!({"records": [1]}),
        json!({"eventSource": "aws:kafka"}),
        json!({"records": {"t-0": {"offset": 1}}}),
        json!(7),
    ] {
        let mut record = documented();
        record["payload"] = payload.clone();
        let error = parse(&record).unwrap_err();
        assert_eq!(error.class(), "MalformedPayload", "{payload}");
    }
}

#[test]
fn kinesis_like_long_offsets_are_bounded_and_refused_beyond_kafkas_range() {
    let long = "4".repeat(56);
    let error = parse(&with_range("t-0", json!(long), json!(long))).unwrap_err();
    assert_eq!(error.class(), "InvalidOffset");
    let huge = "9".repeat(10_000);
    let error = parse(&with_range("t-0", json!(huge), json!("1"))).unwrap_err();
    assert_eq!(
        error,
        KafkaRecordError::InvalidOffset {
            field: "firstRecordOffset",
            digits: MAX_OFFSET_DIGITS + 1
        }
    );
    let max = i64::MAX.to_string();
    assert_eq!(
        parse(&with_range("t-0", json!(max), json!(max)))
            .unwrap()
            .partitions[0]
            .last,
        i64::MAX
    );
}

#[test]
fn hostile_offsets_and_keys_are_classified_without_quoting_them() {
    let secret = "card-4111111111111111";
    let cases = [
        (with_range("t-0", json!("-1"), json!("5")), "InvalidOffset"),
        (with_range("t-0", json!("1e3"), json!("5")), "InvalidOffset"),
        (
            with_range("t-0", json!(secret), json!("5")),
            "InvalidOffset",
        ),
        (with_range("t-0", json!("9"), json!("5")), "FirstAfterLast"),
        (with_range("t-0", json!(null), json!("5")), "InvalidOffset"),
        (
            with_range(secret, json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range("nohyphen", json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range("t-", json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range("-3", json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range("t-+3", json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range("t-99999999999", json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range("a b\n-0", json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (
            with_range(&"t".repeat(250), json!("1"), json!("5")),
            "InvalidPartitionKey",
        ),
        (with_info("recordsInfo", json!({})), "NoPartitions"),
        (with_info("recordsInfo", json!([])), "MalformedBatchInfo"),
        (with_info("batchSize", json!(0)), "BatchSizeOutOfRange"),
        (with_info("batchSize", json!(10_001)), "BatchSizeOutOfRange"),
        (with_info("batchSize", json!("5")), "MalformedBatchInfo"),
        (
            with_info("bootstrapServers", json!(secret)),
            "InvalidBootstrapServers",
        ),
        (
            with_info("bootstrapServers", json!("h:0")),
            "InvalidBootstrapServers",
        ),
        (
            with_info("bootstrapServers", json!("h:1,")),
            "InvalidBootstrapServers",
        ),
        (
            with_info("bootstrapServers", json!(7)),
            "MalformedBatchInfo",
        ),
        (
            with_info("eventSourceArn", json!("a".repeat(3000))),
            "ArnTooLong",
        ),
        (json!({"requestContext": {}}), "MissingBatchInfo"),
        (json!([1]), "NotAnObject"),
        (with_context(json!("4111")), "MalformedContext"),
        (with_context(json!([4111])), "MalformedContext"),
    ];
    for (record, class) in cases {
        let error = parse(&record).unwrap_err();
        assert_eq!(error.class(), class, "{record}");
        assert!(!error.to_string().contains("4111"), "{error}");
    }
}

#[test]
fn a_partition_named_twice_is_refused_whatever_its_spelling() {
    let text = documented()
        .to_string()
        .replace("order-events-3", "order-events-00");
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        parse(&record).unwrap_err(),
        KafkaRecordError::DuplicateField("KafkaBatchInfo.recordsInfo.*")
    );
    let text = r#"{"KafkaBatchInfo":{"batchSize":1,"bootstrapServers":"h:1","recordsInfo":{"t-0":{"firstRecordOffset":"1","lastRecordOffset":"1"},"t-0":{"firstRecordOffset":"1","lastRecordOffset":"1"}}}}"#;
    assert_eq!(
        KafkaFailure::parse(text).unwrap_err().class(),
        "DuplicateField"
    );
    let text = r#"{"KafkaBatchInfo":{},"KafkaBatchInfo":{}}"#;
    assert_eq!(
        KafkaFailure::parse(text).unwrap_err(),
        KafkaRecordError::DuplicateField("KafkaBatchInfo")
    );
}

#[test]
fn more_partitions_than_a_batch_can_hold_are_refused() {
    let many: serde_json::Map<String, Value> = (0..=MAX_PARTITIONS)
        .map(|p| {
            (
                format!("t-{p}"),
                json!({"firstRecordOffset": "1", "lastRecordOffset": "1"}),
            )
        })
        .collect();
    let error = parse(&with_info("recordsInfo", Value::Object(many))).unwrap_err();
    assert_eq!(error, KafkaRecordError::TooManyPartitions);
}
