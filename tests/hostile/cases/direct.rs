//! Direct invocations: the bare on-failure record as the payload. The shared
//! record shapes, then what only a bare payload can carry (bytes that are not
//! JSON or not UTF-8, sizes near the payload limit, keys given twice), every
//! batch field with a wrong type or value, and forged ranges against the
//! records actually in the stream.

use serde_json::{json, Value};

use hydrator_tests::failure::CONSUMER_ARN;
use hydrator_tests::hostile::{planted, text, MARKER};
use hydrator_tests::stream::unique_suffix;

use super::{row, shapes, Make, Row, PAYLOAD_LIMIT};
use crate::expect::{error, input, DocCheck, Expect, Records};
use crate::world::{padded, World};

/// Lambda's own errors for a payload that is not one record object.
const NOT_A_RECORD: [&str; 2] = ["Input.NotAnObject", "Input.UnsupportedEvent"];

pub fn table(w: &World) -> Vec<Row> {
    let valid = w.valid();
    let valid_text = text(&valid);
    let account = w.account();
    let region = w.kinesis_region.clone();
    let mut rows = shapes::table(w);
    rows.extend([
        row(
            "a lone `{`",
            Make::Text(b"{".to_vec()),
            input("Input.InvalidJson"),
        ),
        row(
            "1 MiB of `[` and nothing else",
            Make::Text("[".repeat(1 << 20).into_bytes()),
            input("Input.InvalidJson"),
        ),
        row(
            "200 nested objects around the record",
            Make::Text(
                format!("{}{valid_text}{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes(),
            ),
            input("Input.InvalidJson"),
        ),
        row(
            "bytes that are not UTF-8 inside a string",
            Make::Text(spliced(&valid_text, &[0xFF, 0xFE, 0xC3])),
            input("Input.NotUtf8"),
        ),
        row(
            "overlong and surrogate UTF-8 encodings",
            Make::Text(spliced(&valid_text, &[0xC0, 0xAF, 0xED, 0xA0, 0x80])),
            input("Input.NotUtf8"),
        ),
        row(
            "a 6.5 MiB record",
            Make::Record(padded(&valid, PAYLOAD_LIMIT + PAYLOAD_LIMIT / 12)),
            input("Input.PayloadTooLarge"),
        )
        .long(),
        row(
            "a JSON array",
            Make::Record(json!([valid.clone(), planted("x")])),
            error(&NOT_A_RECORD),
        ),
        row(
            "a JSON string",
            Make::Record(json!(planted("x"))),
            error(&NOT_A_RECORD),
        ),
        row("null", Make::Text(b"null".to_vec()), error(&NOT_A_RECORD)),
        row(
            "a huge number",
            Make::Text("9".repeat(100_000).into_bytes()),
            error(&[NOT_A_RECORD[0], NOT_A_RECORD[1], "Input.InvalidJson"]),
        ),
        row(
            "an object of planted strings",
            Make::Record(
                json!({"zqx": planted("a"), "requestContext": {"requestId": planted("b")}}),
            ),
            error(&["Input.UnsupportedEvent", "Input.MissingBatchInfo"]),
        ),
        row(
            "startSequenceNumber given twice",
            Make::Text(twice_start(w, &valid_text).into_bytes()),
            error(&["Input.DuplicateField", "Input.MalformedBatchInfo"]),
        ),
        row(
            "KinesisBatchInfo given twice",
            Make::Text(
                valid_text
                    .replacen(
                        "\"KinesisBatchInfo\":",
                        &format!(
                            "\"KinesisBatchInfo\":{},\"KinesisBatchInfo\":",
                            valid["KinesisBatchInfo"]
                        ),
                        1,
                    )
                    .into_bytes(),
            ),
            error(&[
                "Input.DuplicateField",
                "Input.MalformedBatchInfo",
                "Input.AmbiguousBatchInfo",
            ]),
        ),
    ]);
    rows.extend(
        [
            ("shardId is a number", "shardId", json!(12345)),
            ("batchSize is a string", "batchSize", json!("3")),
            (
                "startSequenceNumber is a 60-digit number",
                "startSequenceNumber",
                serde_json::from_str::<Value>(&"4".repeat(60)).expect("digits are a JSON number"),
            ),
            (
                "streamArn is an object",
                "streamArn",
                json!({"arn": planted("arn")}),
            ),
            ("batchSize is 3.5", "batchSize", json!(3.5)),
        ]
        .map(|(name, field, value)| {
            row(
                name,
                Make::Field(field, Some(value)),
                input("Input.MalformedBatchInfo"),
            )
        }),
    );
    rows.push(row(
        "batchSize is null",
        Make::Field("batchSize", Some(Value::Null)),
        error(&["Input.MalformedBatchInfo", "Input.MissingField"]),
    ));
    let out_of_range = || input("Input.BatchSizeOutOfRange");
    let out_of_range_or_unreadable = || {
        error(&[
            "Input.BatchSizeOutOfRange",
            "Input.MalformedBatchInfo",
            "Input.InvalidJson",
        ])
    };
    let huge = "7".repeat(5_000);
    rows.extend(
        [
            ("batchSize 10001", "10001", out_of_range()),
            ("batchSize 2^63", "9223372036854775808", out_of_range()),
            ("batchSize 1e30", "1e30", out_of_range_or_unreadable()),
            (
                "batchSize 2^64",
                "18446744073709551616",
                out_of_range_or_unreadable(),
            ),
            ("batchSize -1", "-1", out_of_range_or_unreadable()),
            ("batchSize 1e400", "1e400", out_of_range_or_unreadable()),
            (
                "batchSize with 5,000 digits",
                huge.as_str(),
                out_of_range_or_unreadable(),
            ),
        ]
        .map(|(name, raw, expect)| {
            row(
                name,
                Make::Text(with_raw_batch_size(w, raw).into_bytes()),
                expect,
            )
        }),
    );
    rows.extend(
        [
            ("a start of letters and the marker", planted("4960")),
            ("a start of 130 digits", "1".repeat(130)),
            ("a start of 100 KB of digits", "3".repeat(100_000)),
            ("an empty start", String::new()),
            ("a start with a leading zero", format!("0{}", w.seq(20))),
            ("a negative start", format!("-{}", w.seq(20))),
            ("a start in exponent form", "4.96e55".into()),
        ]
        .map(|(name, start)| {
            row(
                name,
                Make::Field("startSequenceNumber", Some(json!(start))),
                input("Input.InvalidSequenceNumber"),
            )
        }),
    );
    rows.extend(
        [
            (
                "a stream ARN that is not an ARN",
                planted("arn:aws:kinesis"),
            ),
            (
                "a stream ARN in the made-up region us-fake-9",
                format!("arn:aws:kinesis:us-fake-9:{account}:stream/orders"),
            ),
            (
                "a stream ARN in the made-up region mars-north-1",
                format!("arn:aws:kinesis:mars-north-1:{account}:stream/orders"),
            ),
            (
                "a stream ARN whose region is not in its partition",
                format!("arn:aws-cn:kinesis:us-east-1:{account}:stream/orders"),
            ),
            (
                "a stream name with a newline and the marker",
                format!("arn:aws:kinesis:{region}:{account}:stream/orders\n{MARKER}\""),
            ),
            (
                "a stream name of 129 characters",
                format!(
                    "arn:aws:kinesis:{region}:{account}:stream/{}",
                    "s".repeat(129)
                ),
            ),
            (
                "a stream ARN of 100 KB",
                format!(
                    "arn:aws:kinesis:{region}:{account}:stream/{}",
                    "a".repeat(100_000)
                ),
            ),
            (
                "an account id of 100 digits",
                format!("arn:aws:kinesis:{region}:{}:stream/orders", "1".repeat(100)),
            ),
        ]
        .map(|(name, arn)| {
            row(
                name,
                Make::Field("streamArn", Some(json!(arn))),
                input("Input.InvalidStreamArn"),
            )
        }),
    );
    rows.extend([
        row(
            "a shard id of spaces",
            Make::Field("shardId", Some(json!("   "))),
            error(&["Input.EmptyShardId", "Input.InvalidShardId"]),
        ),
        row(
            "a shard id of 100 KB",
            Make::Field(
                "shardId",
                Some(json!(format!("shardId-{}", "0".repeat(100_000)))),
            ),
            input("Input.InvalidShardId"),
        ),
        row(
            "a shard id with a newline and the marker",
            Make::Field(
                "shardId",
                Some(json!(format!(
                    "shardId-000000000000\n{{\"level\":\"ERROR\",\"zqx\":\"{MARKER}\"}}"
                ))),
            ),
            input("Input.InvalidShardId"),
        ),
    ]);
    rows.extend(read_rows(w));
    rows
}

/// Rows that pass the input checks and reach the stream: forged ranges,
/// sizes past the response limit, numbers and streams the stream does not know.
fn read_rows(w: &World) -> Vec<Row> {
    let wide_1 = w.kinesis(0, 50, 1);
    let wide_3 = w.kinesis(10, 59, 3);
    let big_1 = w.big_record(1);
    let big_all = w.big_record(w.big.len() as u64);
    let largest = "9".repeat(129);
    let mut nines = w.with_field("startSequenceNumber", Some(json!(largest)));
    nines["KinesisBatchInfo"]["endSequenceNumber"] = json!(largest);
    nines["KinesisBatchInfo"]["batchSize"] = json!(1);
    let mut gone = w.with_field(
        "streamArn",
        Some(json!(format!(
            "arn:aws:kinesis:{}:{}:stream/no-such-stream-{}",
            w.kinesis_region,
            w.account(),
            unique_suffix()
        ))),
    );
    gone["KinesisBatchInfo"]["batchSize"] = json!(3);
    let unavailable = |record: &Value| DocCheck {
        failure: Some(record.clone()),
        status: "unavailable",
        reasons: vec!["stream_not_found"],
        origin: Some("stream"),
        records: Records::Count(0),
    };
    let over_budget_big = |record: &Value, records: Records| DocCheck {
        failure: Some(record.clone()),
        status: "partial",
        reasons: vec!["over_budget"],
        origin: Some("stream"),
        records,
    };
    vec![
        row(
            "forged wide range, batchSize 1 over 51 records",
            Make::Record(wide_1.clone()),
            Expect::Docs(vec![w.over_budget(&wide_1, 0, 1)]),
        ),
        row(
            "forged wide range, batchSize 3 over 50 records",
            Make::Record(wide_3.clone()),
            Expect::Docs(vec![w.over_budget(&wide_3, 10, 3)]),
        ),
        row(
            "forged range, batchSize 1 over 300 records of 100 KB",
            Make::Record(big_1.clone()),
            Expect::Docs(vec![over_budget_big(
                &big_1,
                Records::Kinesis {
                    written: w.big[..1].to_vec(),
                    arn: w.big_arn.clone(),
                    identity: CONSUMER_ARN.into(),
                },
            )]),
        )
        .long(),
        row(
            "300 records of 100 KB (30 MB) with a matching batchSize",
            Make::Record(big_all.clone()),
            Expect::AnyOf(vec![
                input("Response.TooLarge"),
                Expect::Docs(vec![over_budget_big(&big_all, Records::Unchecked)]),
            ]),
        )
        .long(),
        // Kinesis answers a number not of the shard with InvalidArgumentException
        // (Read.InvalidStart after the trim-horizon check); kinesis-mock answers
        // ResourceNotFoundException, which reads as a stream that is gone.
        row(
            "the largest sequence number there is (129 nines)",
            Make::Record(nines.clone()),
            Expect::AnyOf(vec![
                error(&["Read.InvalidStart", "Read.Validation"]),
                Expect::Docs(vec![unavailable(&nines)]),
            ]),
        ),
        row(
            "a stream that does not exist",
            Make::Record(gone.clone()),
            Expect::Docs(vec![unavailable(&gone)]),
        ),
    ]
}

/// The record's text with `bytes` put just before the first marker, inside a string.
fn spliced(text: &str, bytes: &[u8]) -> Vec<u8> {
    let at = text
        .find(MARKER)
        .expect("the valid record has planted strings");
    let mut payload = text.as_bytes().to_vec();
    payload.splice(at..at, bytes.iter().copied());
    payload
}

/// The same key twice: a forged start after the real one.
fn twice_start(w: &World, text: &str) -> String {
    let start = format!("\"startSequenceNumber\":\"{}\"", w.seq(20));
    let forged = format!("{start},\"startSequenceNumber\":\"{}\"", w.seq(0));
    assert!(text.contains(&start));
    text.replace(&start, &forged)
}

/// The valid record's text with `batchSize` written as this raw JSON number.
fn with_raw_batch_size(w: &World, raw: &str) -> String {
    text(&w.with_field("batchSize", Some(json!("@@SIZE@@")))).replace("\"@@SIZE@@\"", raw)
}
