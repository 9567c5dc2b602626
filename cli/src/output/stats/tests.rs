use super::*;
use crate::sources::gather::from_folder;
use serde_json::json;

/// A Kinesis document of `stream`'s shard `shard`, given up on at `time`.
fn document(
    stream: &str,
    shard: &str,
    time: &str,
    status: &str,
    records: usize,
    gaps: &[&str],
) -> Value {
    json!({
        "version": "1",
        "source": "aws:kinesis",
        "failure": {"timestamp": time, "KinesisBatchInfo": {
            "shardId": shard, "startSequenceNumber": "100", "endSequenceNumber": "900",
            "batchSize": 4,
            "streamArn": format!("arn:aws:kinesis:us-east-1:123456789012:stream/{stream}")}},
        "hydration": {"status": status, "origin": "stream", "expectedRecords": 4,
            "hydratedRecords": records,
            "missing": gaps.iter().map(|r| json!({"fromSequenceNumber": "800",
                "toSequenceNumber": "900", "reason": r})).collect::<Vec<_>>(),
            "getRecordsCalls": 1, "getShardIteratorCalls": 1, "durationMs": 5},
        "Records": (0..records).map(|i| json!({"kinesis": {"data": "e30=", "sequenceNumber": format!("{}", 100 + i)}})).collect::<Vec<_>>()
    })
}

/// A folder of `files`, removed when dropped.
fn folder(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("hydrator-stats-")
        .tempdir()
        .unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn a_drained_folder_is_counted_by_stream_shard_status_and_reason() {
    let mut part = document(
        "orders",
        "shardId-000000000001",
        "2026-11-21T09:40:00Z",
        "complete",
        4,
        &[],
    );
    part["part"] = json!({"index": 1, "count": 2, "groupId": "g"});
    let dir = folder(&[
        (
            "a.json",
            document(
                "orders",
                "shardId-000000000000",
                "2026-11-21T06:12:09.114Z",
                "complete",
                4,
                &[],
            )
            .to_string(),
        ),
        ("a.event.json", json!({"Records": []}).to_string()),
        (
            "b.json",
            document(
                "orders",
                "shardId-000000000000",
                "2026-11-21T06:30:00Z",
                "partial",
                1,
                &["trimmed"],
            )
            .to_string(),
        ),
        (
            "c.json",
            document(
                "payments",
                "shardId-000000000002\u{1b}[31m",
                "2026-11-21T08:00:00Z",
                "partial",
                2,
                &["deadline", "too_large"],
            )
            .to_string(),
        ),
        ("g.part-1-of-2.json", part.to_string()),
        ("notes.json", "{\"hello\": 1}".to_owned()),
    ]);
    let gathered = from_folder(dir.path(), None).unwrap();
    let now = SystemTime::try_from(
        DateTime::from_str("2026-11-23T08:00:00Z", DateFormat::DateTime).unwrap(),
    )
    .unwrap();
    let stats = stats_of(&gathered, now);
    assert_eq!(
        (
            stats.messages,
            stats.failures,
            stats.incomplete,
            stats.unrecognized
        ),
        (5, 3, 1, 1)
    );
    assert_eq!(
        (stats.records, stats.expected, stats.missing_records),
        (7, 12, 5)
    );
    let keys = |t: &[Tally]| {
        t.iter()
            .map(|t| (t.key.clone(), t.failures, t.missing))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(&stats.by_status),
        [("complete".into(), 1, 0), ("partial".into(), 2, 5)]
    );
    assert_eq!(stats.by_stream[0].key, "orders");
    assert_eq!(stats.by_stream[0].failures, 2);
    assert_eq!(stats.by_shard.len(), 2);
    assert_eq!(stats.by_stream[1].key, "payments");
    let reasons: Vec<&str> = stats.by_reason.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(reasons, ["deadline", "too_large", "trimmed"]);
    let oldest = stats.oldest.as_ref().unwrap();
    assert_eq!(oldest.time, "2026-11-21T06:12:09.114Z");
    assert_eq!(stats.newest.as_ref().unwrap().time, "2026-11-21T08:00:00Z");
    // 06:12 to 08:00 fits in 5-minute rows: 06:10 .. 08:00 is 23 rows.
    assert_eq!(stats.bucket_seconds, 300);
    let counts: Vec<usize> = stats.over_time.iter().map(|b| b.failures).collect();
    assert_eq!(counts.len(), 23);
    assert_eq!((counts[0], counts[4], counts[22]), (1, 1, 1));
    assert_eq!(counts.iter().sum::<usize>(), 3);
    assert_eq!(stats.sizes.parts, 3);
    assert!(stats.sizes.largest_bytes >= stats.sizes.median_bytes);

    let text = render(&stats);
    assert!(text.contains("3 failure(s) in 5 message(s)"), "{text}");
    assert!(
        text.contains("records: 7 of 12 hydrated, 5 missing"),
        "{text}"
    );
    assert!(
        text.contains("2026-11-21T06:10:00Z  ████████████████████████████████████████  1"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "a stream name cannot drive the terminal:\n{text}"
    );
    assert!(text.contains("shardId-000000000002?[31m"), "{text}");
}

#[test]
fn an_empty_folder_has_no_chart_and_wide_spans_get_wide_rows() {
    let stats = stats_of(
        &from_folder(folder(&[]).path(), None).unwrap(),
        SystemTime::now(),
    );
    assert_eq!(stats.failures, 0);
    assert!(stats.over_time.is_empty());
    assert!(!render(&stats).contains("over time"));
    let day = |d: u64| UNIX_EPOCH + Duration::from_secs(d * 86_400);
    let (width, buckets) = over_time(&[day(100), day(103), day(130)]);
    assert_eq!(width, 7 * 86_400);
    assert!(buckets.len() <= MAX_BUCKETS as usize);
    assert_eq!(buckets.iter().map(|b| b.failures).sum::<usize>(), 3);
}
