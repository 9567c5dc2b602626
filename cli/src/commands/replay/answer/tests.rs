use serde_json::json;

use super::*;

fn kinesis(sequence_numbers: &[&str]) -> Vec<Value> {
    sequence_numbers
        .iter()
        .map(|s| json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": s}}))
        .collect()
}

fn class(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::BatchFailed(failure) => &failure.error_type,
        other => panic!("not a batch failure: {other:?}"),
    }
}

#[test]
fn no_answer_null_and_empty_lists_are_complete_success() {
    let records = kinesis(&["1", "2"]);
    for answer in [
        "",
        " \n",
        "null",
        "{}",
        r#"{"batchItemFailures": null}"#,
        r#"{"batchItemFailures": []}"#,
    ] {
        assert_eq!(
            read(answer.as_bytes(), &records),
            Verdict::Succeeded,
            "{answer}"
        );
    }
}

#[test]
fn named_records_fail_in_the_events_order_once_each() {
    // 129-digit sequence numbers are compared as text, never parsed.
    let long = "9".repeat(129);
    let records = kinesis(&[
        "49590338271490256608559692538361571095921575989136588898",
        &long,
        "3",
    ]);
    let answer = json!({"batchItemFailures": [
        {"itemIdentifier": "3"},
        {"itemIdentifier": long},
        {"itemIdentifier": "3"},
    ]});
    assert_eq!(
        read(answer.to_string().as_bytes(), &records),
        Verdict::RecordsFailed(vec![long.clone(), "3".to_owned()])
    );
}

#[test]
fn dynamodb_records_are_named_by_their_stream_sequence_number() {
    let records = vec![
        json!({"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "100"}}),
        json!({"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "200"}}),
    ];
    let answer = br#"{"batchItemFailures":[{"itemIdentifier":"200"}]}"#;
    assert_eq!(
        read(answer, &records),
        Verdict::RecordsFailed(vec!["200".to_owned()])
    );
}

#[test]
fn identifiers_lambda_cannot_use_fail_the_whole_batch() {
    let records = kinesis(&["1", "2"]);
    for (answer, expected) in [
        (
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            "EmptyItemIdentifier",
        ),
        (
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            "NullItemIdentifier",
        ),
        (
            r#"{"batchItemFailures":[{"itemIdentifier":"7"}]}"#,
            "UnknownItemIdentifier",
        ),
        (
            r#"{"batchItemFailures":[{"itemIdentifier":"1"},{"id":"2"}]}"#,
            "BadItemIdentifier",
        ),
        (
            r#"{"batchItemFailures":[{"itemIdentifier":2}]}"#,
            "BadItemIdentifier",
        ),
        (r#"{"batchItemFailures":["1"]}"#, "BadItemIdentifier"),
        (
            r#"{"batchItemFailures":{"itemIdentifier":"1"}}"#,
            "InvalidBatchResponse",
        ),
        (r#"{"batchItemFailures":["#, "InvalidBatchResponse"),
        (r#""done""#, "InvalidBatchResponse"),
    ] {
        let verdict = read(answer.as_bytes(), &records);
        assert_eq!(class(&verdict), expected, "{answer}");
    }
}

#[test]
fn messages_name_the_item_and_never_quote_the_answer() {
    let records = kinesis(&["1"]);
    let answer =
        br#"{"batchItemFailures":[{"itemIdentifier":"1"},{"itemIdentifier":"secret-value"}]}"#;
    let Verdict::BatchFailed(failure) = read(answer, &records) else {
        panic!("an unknown identifier fails the batch");
    };
    let message = failure.error_message.unwrap();
    assert!(message.contains("batchItemFailures[1]"), "{message}");
    assert!(!message.contains("secret"), "{message}");
}

#[test]
fn a_function_error_takes_its_type_and_message_from_the_error_document() {
    let verdict = function_error(
        "Unhandled",
        br#"{"errorType":"BatchProcessingError","errorMessage":"All records failed"}"#,
    );
    assert_eq!(
        verdict,
        Verdict::BatchFailed(Failure::new("BatchProcessingError", "All records failed"))
    );
    assert_eq!(
        class(&function_error("Unhandled", b"not json")),
        "Unhandled"
    );
}

fn kafka(places: &[(&str, i64, i64)]) -> Vec<Value> {
    places
        .iter()
        .map(|(topic, partition, offset)| {
            json!({"topic": topic, "partition": partition, "offset": offset,
                "timestamp": 1, "timestampType": "CREATE_TIME", "value": null, "headers": []})
        })
        .collect()
}

#[test]
fn kafka_records_are_named_by_topic_partition_and_offset() {
    // A topic name with hyphens: the partition is what follows the last one.
    let records = kafka(&[
        ("order-events-v2", 0, 7),
        ("order-events-v2", 1, 7),
        ("order-events-v2", 1, 8),
    ]);
    // As Powertools' BatchProcessor writes them; an offset as text is taken too.
    let answer = json!({"batchItemFailures": [
        {"itemIdentifier": {"partition": "order-events-v2-1", "offset": 8}},
        {"itemIdentifier": {"partition": "order-events-v2-0", "offset": "7"}},
    ]});
    assert_eq!(
        read(answer.to_string().as_bytes(), &records),
        Verdict::RecordsFailed(vec![
            "order-events-v2-0@7".to_owned(),
            "order-events-v2-1@8".to_owned()
        ])
    );
}

#[test]
fn kafka_identifiers_that_name_no_record_fail_the_whole_batch() {
    let records = kafka(&[("orders", 0, 7)]);
    for (identifier, expected) in [
        (
            json!({"partition": "orders-0", "offset": 8}),
            "UnknownItemIdentifier",
        ),
        (
            json!({"partition": "orders-1", "offset": 7}),
            "UnknownItemIdentifier",
        ),
        (json!({"partition": "orders-0"}), "BadItemIdentifier"),
        (json!({"offset": 7}), "BadItemIdentifier"),
        (json!({"partition": "", "offset": 7}), "BadItemIdentifier"),
        (
            json!({"partition": "orders-0", "offset": "-7"}),
            "BadItemIdentifier",
        ),
        (
            json!({"partition": "orders-0", "offset": 7.5}),
            "BadItemIdentifier",
        ),
        (json!({}), "BadItemIdentifier"),
        // A sequence number names no Kafka record.
        (json!("7"), "UnknownItemIdentifier"),
    ] {
        let answer = json!({"batchItemFailures": [{"itemIdentifier": identifier}]});
        let verdict = read(answer.to_string().as_bytes(), &records);
        assert_eq!(class(&verdict), expected, "{answer}");
    }
}
