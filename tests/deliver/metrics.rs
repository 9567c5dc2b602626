//! The metric lines the library writes, checked against the embedded metric
//! format specification (`support/emf.rs`) for every kind of document: whole,
//! partial for each gap reason, unavailable, Kinesis and DynamoDB, with every
//! dimension choice. Offline: no emulator is needed.

use std::time::{Duration, SystemTime};

use hydrate::{metric_names as names, metrics_line, Document, MetricCounts, MetricsSettings};
use hydrator_tests::emf::{assert_valid, gap_reasons, violations};
use serde_json::{json, Value};

fn document(info: &str, arn: &str, status: &str, missing: Vec<Value>, hydrated: usize) -> Document {
    let text = json!({
        "version": "1",
        "source": if info == "KinesisBatchInfo" { "aws:kinesis" } else { "aws:dynamodb" },
        "failure": {"timestamp": "2026-11-21T06:12:09.114Z", info: {
            "shardId": "shardId-000000000000", "startSequenceNumber": "100",
            "endSequenceNumber": "999", "batchSize": 10, "streamArn": arn,
            "approximateArrivalOfFirstRecord": "2026-11-21T06:11:41.870Z"}},
        "hydration": {"status": status, "origin": "stream", "expectedRecords": 10,
            "hydratedRecords": hydrated, "missing": missing, "getRecordsCalls": 2,
            "getShardIteratorCalls": 1, "durationMs": 40},
        "Records": (0..hydrated).map(|i| json!({"n": i})).collect::<Vec<_>>()
    });
    Document::parse(&text.to_string()).expect("a version 1 document")
}

fn gap(reason: &str) -> Value {
    json!({"fromSequenceNumber": "500", "toSequenceNumber": "999", "reason": reason})
}

#[test]
fn every_line_is_valid_emf_whatever_the_document_and_the_dimensions() {
    let kinesis = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
    let dynamodb =
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000";
    let mut documents = vec![
        document("KinesisBatchInfo", kinesis, "complete", vec![], 10),
        document("DDBStreamBatchInfo", dynamodb, "complete", vec![], 10),
        document(
            "KinesisBatchInfo",
            kinesis,
            "unavailable",
            vec![gap("stream_not_found")],
            0,
        ),
        // A stream ARN that is not one: the stream dimension still has a value.
        document(
            "KinesisBatchInfo",
            "arn:aws:nothing",
            "partial",
            vec![gap("trimmed")],
            4,
        ),
    ];
    let reasons = gap_reasons();
    assert_eq!(reasons.len(), 10);
    for reason in &reasons {
        documents.push(document(
            "KinesisBatchInfo",
            kinesis,
            "partial",
            vec![gap(reason)],
            6,
        ));
    }
    let counts = MetricCounts {
        throttled_calls: 3,
        delivery_retries: 2,
        parts: 1,
        retention: Some(Duration::from_secs(24 * 3600)),
    };
    let mut lines = 0;
    for dimensions in ["none", "source", "stream", "source,stream"] {
        let settings =
            MetricsSettings::parse(None, Some("Hydrator"), Some(dimensions), Some("hydrator"))
                .unwrap();
        for document in &documents {
            let line = metrics_line(&settings, document, counts, SystemTime::now());
            assert_valid(&line);
            lines += 1;
        }
    }
    assert_eq!(lines, 4 * 14);
}

#[test]
fn the_values_are_the_documents() {
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
    let partial = document("KinesisBatchInfo", arn, "partial", vec![gap("deadline")], 6);
    let settings = MetricsSettings::parse(None, None, Some("stream"), Some("hydrator")).unwrap();
    let now = SystemTime::now();
    let line: Value = serde_json::from_str(&metrics_line(
        &settings,
        &partial,
        MetricCounts::default(),
        now,
    ))
    .unwrap();
    assert_eq!(line[names::RECORDS_HYDRATED], 6);
    assert_eq!(line[names::RECORDS_MISSING], 4);
    assert_eq!(line["RecordsMissing_deadline"], 4);
    assert_eq!(line[names::DOCUMENTS_PARTIAL], 1);
    assert_eq!(line["StreamName"], "orders");
    let arrival = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_241_501_870);
    let age = now.duration_since(arrival).unwrap().as_secs() as i64;
    let reported = line[names::FAILURE_AGE].as_i64().unwrap();
    assert!((reported - age).abs() <= 1, "{reported} vs {age}");
    assert!(
        line.get(names::RETENTION_MARGIN).is_none(),
        "no retention given"
    );
}

#[test]
fn the_validator_rejects_what_cloudwatch_would() {
    let settings = MetricsSettings::default();
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
    let good = metrics_line(
        &settings,
        &document("KinesisBatchInfo", arn, "complete", vec![], 10),
        MetricCounts::default(),
        SystemTime::now(),
    );
    assert_valid(&good);
    let mut line: Value = serde_json::from_str(&good).unwrap();
    line["FunctionName"] = json!(7);
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Things");
    let found = violations(&line.to_string());
    assert!(
        found
            .iter()
            .any(|v| v.contains("FunctionName is not a string")),
        "{found:?}"
    );
    assert!(found.iter().any(|v| v.contains("schema")), "{found:?}");
}
