use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::*;
use crate::document::Origin;
use crate::input::sequence::SequenceNumber;
use crate::read::Gap;

const ARRIVAL_MS: u64 = 1_573_691_884_835; // 2019-11-14T00:38:04.835Z

fn failure() -> Box<RawValue> {
    serde_json::from_str(
        r#"{"KinesisBatchInfo": {"shardId": "shardId-000000000000",
            "startSequenceNumber": "100", "endSequenceNumber": "900",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
            "batchSize": 9, "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}}"#,
    )
    .unwrap()
}

fn gap(from: &str, to: &str, reason: GapReason) -> Gap {
    Gap {
        from_sequence_number: SequenceNumber::parse(from).unwrap(),
        to_sequence_number: SequenceNumber::parse(to).unwrap(),
        reason,
    }
}

fn hydration(status: Status, hydrated: u32, missing: Vec<Gap>) -> Hydration {
    Hydration {
        status,
        origin: Origin::Stream,
        expected_records: 9,
        hydrated_records: hydrated,
        missing,
        get_records_calls: 3,
        get_shard_iterator_calls: 2,
        duration_ms: 812,
        unavailable: None,
    }
}

fn emitted(
    settings: &MetricsSettings,
    hydration: &Hydration,
    counts: Counts,
    now_ms: u64,
) -> Value {
    let now = UNIX_EPOCH + Duration::from_millis(now_ms);
    let text = line(
        settings,
        "aws:kinesis",
        &failure(),
        hydration,
        None,
        counts,
        now,
    );
    assert!(!text.contains('\n'), "one line");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_partial_document_reports_its_counts_age_and_margin() {
    let hydration = hydration(
        Status::Partial,
        5,
        vec![
            gap("100", "299", GapReason::Trimmed),
            gap("700", "700", GapReason::TooLarge),
        ],
    );
    let counts = Counts {
        throttled_calls: 2,
        delivery_retries: 1,
        parts: 3,
        retention: Some(Duration::from_secs(24 * 3600)),
    };
    // 20 hours after the first record arrived.
    let line = emitted(
        &MetricsSettings::default(),
        &hydration,
        counts,
        ARRIVAL_MS + 20 * 3_600_000,
    );
    for (name, value) in [
        ("FailuresHydrated", 1),
        ("DocumentsComplete", 0),
        ("DocumentsPartial", 1),
        ("DocumentsUnavailable", 0),
        ("RecordsExpected", 9),
        ("RecordsHydrated", 5),
        ("RecordsMissing", 4),
        ("RecordsMissing_too_large", 1),
        ("RecordsMissing_trimmed", 3),
        ("MissingRanges", 2),
        ("HydrationDuration", 812),
        ("ReadCalls", 5),
        ("ThrottledCalls", 2),
        ("DeliveryRetries", 1),
        ("DeliveredParts", 3),
        ("FailureAge", 20 * 3600),
        ("RetentionMargin", 4 * 3600),
    ] {
        assert_eq!(line[name], value, "{name}");
    }
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Hydrator");
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([["FunctionName"]])
    );
    assert_eq!(line["FunctionName"], "hydrator");
    assert_eq!(line["_aws"]["Timestamp"], ARRIVAL_MS + 20 * 3_600_000);
    let units: Vec<(&str, &str)> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["Name"].as_str().unwrap(), m["Unit"].as_str().unwrap()))
        .collect();
    assert!(units.contains(&("HydrationDuration", "Milliseconds")));
    assert!(units.contains(&("RetentionMargin", "Seconds")));
    assert!(units.contains(&("RecordsMissing_trimmed", "Count")));
    assert_eq!(units.len(), 17, "every metric defined once");
    // Context, not dimensions.
    assert_eq!(line["shardId"], "shardId-000000000000");
    assert_eq!(line["status"], "partial");
}

#[test]
fn past_retention_the_margin_is_negative_and_without_retention_it_is_absent() {
    let complete = hydration(Status::Complete, 9, Vec::new());
    let counts = Counts {
        retention: Some(DYNAMODB_RETENTION),
        ..Counts::default()
    };
    let line = emitted(
        &MetricsSettings::default(),
        &complete,
        counts,
        ARRIVAL_MS + 25 * 3_600_000,
    );
    assert_eq!(line["RetentionMargin"], -3600);
    assert_eq!(line["RecordsMissing"], 0);
    assert!(line.get("RecordsMissing_trimmed").is_none());
    let line = emitted(
        &MetricsSettings::default(),
        &complete,
        Counts::default(),
        ARRIVAL_MS,
    );
    assert_eq!(line["FailureAge"], 0);
    assert!(line.get("RetentionMargin").is_none());
}

#[test]
fn finer_dimensions_add_one_set_with_the_stream_name_and_never_the_shard() {
    let settings =
        MetricsSettings::parse(None, Some("Ops"), Some("source,stream"), Some("h")).unwrap();
    let unavailable = hydration(
        Status::Unavailable,
        0,
        vec![gap("100", "900", GapReason::StreamNotFound)],
    );
    let line = emitted(&settings, &unavailable, Counts::default(), ARRIVAL_MS);
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([
            ["FunctionName"],
            ["FunctionName", "SourceKind", "StreamName"]
        ])
    );
    assert_eq!(line["SourceKind"], "kinesis");
    assert_eq!(line["StreamName"], "orders");
    assert_eq!(line["DocumentsUnavailable"], 1);
    assert_eq!(line["RecordsMissing_stream_not_found"], 9);
    let text = line.to_string();
    assert!(!text.contains("\"ShardId\""));
}

#[test]
fn a_record_without_an_arrival_time_has_no_age() {
    let failure: Box<RawValue> = serde_json::from_str(r#"{"KinesisBatchInfo": {}}"#).unwrap();
    let text = super::line(
        &MetricsSettings::default(),
        "aws:kinesis",
        &failure,
        &hydration(Status::Complete, 9, Vec::new()),
        None,
        Counts::default(),
        SystemTime::now(),
    );
    let line: Value = serde_json::from_str(&text).unwrap();
    assert!(line.get("FailureAge").is_none());
    assert!(line.get("streamArn").is_none());
}

#[test]
fn a_kafka_document_counts_its_missing_offsets_by_kafkas_reasons_and_its_age() {
    let failure: Box<RawValue> = serde_json::from_str(
        r#"{"KafkaBatchInfo": {"batchSize": 12, "recordsInfo": {
            "order-events-0": {"firstRecordOffset": "0", "lastRecordOffset": "5",
                "firstRecordTimestamp": "2019-11-14T00:38:04.835Z"},
            "order-events-1": {"firstRecordOffset": "0", "lastRecordOffset": "5"}}}}"#,
    )
    .unwrap();
    let block: Box<RawValue> = serde_json::from_str(
        r#"{"status": "partial", "missing": [
            {"topic": "order-events", "partition": 0, "firstOffset": 0, "lastOffset": 2, "reason": "before-log-start"},
            {"topic": "order-events", "partition": 1, "firstOffset": 4, "lastOffset": 5, "reason": "beyond-high-watermark"},
            {"topic": "order-events", "partition": 1, "firstOffset": 0, "lastOffset": 0, "reason": "before-log-start"}]}"#,
    )
    .unwrap();
    let mut shared = hydration(Status::Partial, 6, Vec::new());
    shared.expected_records = 12;
    let now = UNIX_EPOCH + Duration::from_millis(ARRIVAL_MS + 3_600_000);
    let settings = MetricsSettings {
        dimensions: vec![Dimension::Function, Dimension::Source],
        ..MetricsSettings::default()
    };
    let text = line(
        &settings,
        "SelfManagedKafka",
        &failure,
        &shared,
        Some(&block),
        Counts::default(),
        now,
    );
    let line: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(line["RecordsMissing"], 6);
    assert_eq!(line["RecordsMissing_before_log_start"], 4);
    assert_eq!(line["RecordsMissing_beyond_high_watermark"], 2);
    assert!(line.get("RecordsMissing_trimmed").is_none());
    assert_eq!(line["FailureAge"], 3600);
    assert!(line.get("RetentionMargin").is_none());
    assert_eq!(line["SourceKind"], "kafka");
}
