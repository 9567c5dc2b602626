//! The views `show`, `dlq` and `hydrate` print, from documents made here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::*;
use crate::args::DEFAULT_MAX_BYTES;

/// aws-kinesis-agg 1.2.3 (Python): ('pk1', b'{"a":1}', '123') then ('pk2', b'hello').
const AGGREGATE: &[u8] = b"\xf3\x89\x9a\xc2\x0a\x03pk1\x0a\x03pk2\x12\x03123\x1a\x0d\x08\x00\x10\x00\x1a\x07{\"a\":1}\x1a\x09\x08\x01\x1a\x05hello\x97\x04\xb0\xcb\x4a\x4d\xd2\xff\xdc\xaa\xbf\x69\x2f\x65\x43\xb0";

fn kinesis(data: &[u8]) -> Value {
    json!({"eventSource": "aws:kinesis", "kinesis": {
        "data": STANDARD.encode(data), "partitionKey": "outer\u{1b}[2J", "sequenceNumber": "49"}})
}

fn document() -> Value {
    let mut corrupt = AGGREGATE.to_vec();
    corrupt[9] ^= 1;
    json!({"Records": [
        kinesis(AGGREGATE),
        kinesis(&corrupt),
        kinesis(b"plain"),
        {"eventSource": "aws:kinesis", "kinesis": {"data": "!!"}},
        {"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "7", "Keys": {"id": {"S": "1"}}}},
    ]})
}

#[test]
fn aggregates_are_counted_and_taken_apart() {
    let document = document();
    let records = document["Records"].as_array().unwrap();
    let counts = kpl_counts(records);
    assert_eq!(
        counts,
        KplCounts {
            aggregates: 1,
            user_records: 2,
            invalid_aggregates: 1
        }
    );
    assert_eq!(
        counts.line().as_deref(),
        Some("1 KPL aggregate(s) holding 2 user record(s), 1 record(s) with the KPL magic that fail the check (shown as raw data)")
    );
    assert_eq!(kpl_counts(&records[2..]).line(), None);

    let views = views(records, DEFAULT_MAX_BYTES);
    let users = views[0].user_records.as_ref().unwrap();
    assert_eq!(
        (users[1].partition_key.as_str(), users[1].data.format),
        ("pk2", "text")
    );
    assert_eq!(users[0].explicit_hash_key.as_deref(), Some("123"));
    assert_eq!(views[0].data, None);
    assert_eq!(views[1].kpl, Some("invalid aggregate"));
    assert_eq!(views[1].data.as_ref().map(|d| d.format), Some("binary"));
    assert!(views[3].error.is_some());
    assert_eq!(views[4].sequence_number.as_deref(), Some("7"));
}

#[test]
fn people_get_a_line_a_document_and_with_records_every_record() {
    let document = document();
    let plain = json!({"Records": [kinesis(b"{}")]});
    let named = [
        ("orders A".to_owned(), &document),
        ("orders B".to_owned(), &plain),
    ];
    let mut out = Vec::new();
    print_contents(&mut out, &named, false, DEFAULT_MAX_BYTES);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("── orders A ── 1 KPL aggregate(s)"),
        "{text}"
    );

    let mut out = Vec::new();
    print_contents(&mut out, &named, true, DEFAULT_MAX_BYTES);
    let text = String::from_utf8(out).unwrap();
    for needle in [
        "── orders B ──\n",
        "  KPL aggregate of 2 user record(s)\n  user record 0  partition key \"pk1\"  explicit hash key \"123\"\n    json, 7 byte(s):\n      {\n        \"a\": 1\n      }\n",
        "  user record 1  partition key \"pk2\"\n    text, 5 byte(s):\n      hello\n",
        "not an aggregate (the MD5 digest does not match the protobuf message): shown as raw data",
        "partition key \"outer\\u{1b}[2J\"",
        "\"SequenceNumber\": \"7\"",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
    assert!(!text.contains('\x1b'), "{text}");

    let json = contents_json(&[&document, &plain], true, DEFAULT_MAX_BYTES);
    assert_eq!(json[0]["kpl"]["userRecords"], 2);
    assert_eq!(
        json[0]["records"][0]["userRecords"][1]["data"]["value"],
        "hello"
    );
    assert!(contents_json(&[&plain], false, 10)[0]
        .get("records")
        .is_none());
}
