//! S3 on-failure destination objects: an S3 event notification naming an
//! object the event source mapping wrote. Objects with and without the
//! batch's `payload` (as a string, as the documentation shows, or as an
//! object, as the emulators write it), broken or oversized objects, and
//! broken events.

use serde_json::{json, Value};

use hydrator_tests::failure::CONSUMER_ARN;
use hydrator_tests::hostile::{encode_key, planted, s3_event, s3_record, sns_record, text, MARKER};
use hydrator_tests::queue::put_object;
use hydrator_tests::stream::{unique_suffix, Written};

use super::{row, Make, Row, PAYLOAD_LIMIT};
use crate::expect::{error, input, DocCheck, Expect, Records};
use crate::world::{bytes, deep_record, object_without, padded, payload_records, truncated, World};

/// Puts the documented object first: the event rows name its key.
pub async fn table(w: &World) -> Vec<Row> {
    let bucket = &w.bucket;
    let event = |key: &str| Make::Event(bytes(&s3_event(bucket, &[key])));
    let record = w.kinesis(6, 8, 3);
    let (records, expected) = payload_records(w, &w.small[6..9]);
    let payload_doc = |object: &Value| payload_document(w, object, &records, &expected);

    // The documented shape: `payload` a string holding the event, the key URL-encoded.
    let mut documented = record.clone();
    documented["payload"] = json!(text(&json!({ "Records": records })));
    let documented_key = format!(
        "aws/lambda/3f7c1f9e-0d1b-4a35-9f0e-4c3b2a1d0e9f/shardId-000000000000/2026/11/21/2026-11-21T06.12.09-8d2b {}+x:y=z.json",
        unique_suffix()
    );
    put_object(bucket, &documented_key, bytes(&documented)).await;
    // The emulators' shape: `payload` an object; put once, named twice in one event.
    let mut as_object = record.clone();
    as_object["payload"] = json!({ "Records": records });
    let object_key = format!("objects/payload-object-{}.json", unique_suffix());
    put_object(bucket, &object_key, bytes(&as_object)).await;
    // A payload of fewer records than the batch: partial, and nothing invented.
    let (one, _) = payload_records(w, &w.small[6..7]);
    let mut short = record.clone();
    short["payload"] = json!({ "Records": one });

    let stream_record = w.kinesis(9, 11, 3);
    let mut reversed = stream_record.clone();
    reversed["KinesisBatchInfo"]["startSequenceNumber"] = json!(w.small[50].sequence_number);
    let stream_text = text(&stream_record);
    let mut not_utf8 = stream_text.clone().into_bytes();
    let at = stream_text
        .find(MARKER)
        .expect("a record has planted strings");
    not_utf8.splice(at..at, [0xFF, 0xC3]);
    let with_payload = |payload: Value| {
        let mut object = stream_record.clone();
        object["payload"] = payload;
        Make::Object("bad-payload", bytes(&object))
    };

    let mut rows = vec![
        row(
            "(documented) string payload, encoded key with a space, `+`, `:` and `=`",
            event(&documented_key),
            Expect::Docs(vec![payload_doc(&documented)]),
        ),
        row(
            "payload as an object",
            event(&object_key),
            Expect::Docs(vec![payload_doc(&as_object)]),
        ),
        row(
            "the same object twice in one event",
            Make::Event(bytes(&s3_event(bucket, &[&object_key, &object_key]))),
            Expect::Docs(vec![payload_doc(&as_object), payload_doc(&as_object)]),
        ),
        row(
            "an object without payload",
            Make::Object("no-payload", bytes(&stream_record)),
            Expect::Docs(vec![w.complete(&stream_record, 9, 3)]),
        ),
        row(
            "a payload with 1 record of a batch of 3",
            Make::Object("short-payload", bytes(&short)),
            Expect::Docs(vec![DocCheck {
                failure: Some(object_without(&short, "payload")),
                status: "partial",
                reasons: vec!["count_mismatch"],
                origin: Some("s3-payload"),
                records: Records::Exactly(one.clone()),
            }]),
        ),
        row(
            "an object that does not exist (the marker in its key)",
            event(&format!("missing/{MARKER} \"x\"\n{}.json", unique_suffix())),
            input("Fetch.S3"),
        ),
        row(
            "a 2 MiB object",
            Make::Object("big", bytes(&padded(&stream_record, 2 << 20))),
            input("Input.ObjectTooLarge"),
        ),
        row(
            "payload is a number",
            with_payload(json!(4111111111111111u64)),
            input("Input.MalformedPayload"),
        ),
        row(
            "payload is a string that is not JSON",
            with_payload(json!(planted("payload"))),
            input("Input.MalformedPayload"),
        ),
        row(
            "payload is a string holding Records 5",
            with_payload(json!(text(&json!({"Records": 5, "zqx": planted("p")})))),
            input("Input.MalformedPayload"),
        ),
        row(
            "payload is an object with Records a string",
            with_payload(json!({"Records": planted("records")})),
            input("Input.MalformedPayload"),
        ),
        row(
            "payload is a string holding a cut event",
            with_payload(json!(truncated(&json!({"Records": records})))),
            input("Input.MalformedPayload"),
        ),
        row(
            "an object cut in half",
            Make::Object("cut", truncated(&stream_record).into_bytes()),
            input("Input.InvalidJson"),
        ),
        row(
            "an object with 50,000 nested arrays",
            Make::Object("deep", deep_record(&stream_record, 50_000).into_bytes()),
            input("Input.InvalidJson"),
        ),
        row(
            "an object that is not UTF-8",
            Make::Object("not-utf8", not_utf8),
            error(&["Input.NotUtf8", "Input.InvalidJson"]),
        ),
        row(
            "an object that is a JSON array",
            Make::Object("array", bytes(&json!([planted("a")]))),
            error(&["Input.NotAnObject", "Input.InvalidJson"]),
        ),
        row(
            "an object whose start is after its end",
            Make::Object("reversed", bytes(&reversed)),
            input("Input.StartAfterEnd"),
        ),
    ];
    rows.extend(event_rows(w, &encode_key(&documented_key)));
    rows
}

/// The event itself broken, around a key that exists.
fn event_rows(w: &World, encoded: &str) -> Vec<Row> {
    let bucket = json!(w.bucket);
    let good = || s3_record("us-east-1", bucket.clone(), json!(encoded));
    let mut region_a_number = good();
    region_a_number["awsRegion"] = json!(4111);
    let mut no_object = good();
    no_object["s3"]
        .as_object_mut()
        .expect("an S3 record's s3 is an object")
        .remove("object");
    let made_up_regions: Vec<Value> = (0..4000)
        .map(|i| {
            let region = ["us-fake-9", "mars-north-1", "eu-west-99", "ap-nowhere-1"][i % 4];
            s3_record(region, bucket.clone(), json!(encoded))
        })
        .collect();
    let envelope = || input("Input.MalformedEnvelope");
    [
        (
            "awsRegion us-fake-9",
            vec![s3_record("us-fake-9", bucket.clone(), json!(encoded))],
            input("Input.UnknownRegion"),
        ),
        (
            "4,000 records in made-up regions",
            made_up_regions,
            input("Input.UnknownRegion"),
        ),
        ("awsRegion is a number", vec![region_a_number], envelope()),
        (
            "the bucket name is a number",
            vec![s3_record("us-east-1", json!(12345), json!(encoded))],
            envelope(),
        ),
        (
            "the key is not URL encoding",
            vec![s3_record(
                "us-east-1",
                bucket.clone(),
                json!(format!("a%zz{MARKER}")),
            )],
            envelope(),
        ),
        (
            "the key is an array",
            vec![s3_record(
                "us-east-1",
                bucket.clone(),
                json!([planted("k")]),
            )],
            envelope(),
        ),
        ("no s3.object", vec![no_object], envelope()),
        (
            "an S3 and an SNS record",
            vec![good(), sns_record(json!("{}"))],
            input("Input.MixedEvent"),
        ),
    ]
    .into_iter()
    .map(|(name, records, expect)| {
        let many = records.len() > 1000;
        let payload = bytes(&json!({ "Records": records }));
        assert!(
            payload.len() < PAYLOAD_LIMIT,
            "{name}: {} bytes",
            payload.len()
        );
        let row = row(name, Make::Event(payload), expect);
        if many {
            row.long()
        } else {
            row
        }
    })
    .collect()
}

/// A document read from an object's payload: the payload's records as
/// saved, byte-exact against the stream's.
fn payload_document(w: &World, object: &Value, records: &Value, expected: &[Written]) -> DocCheck {
    DocCheck {
        failure: Some(object_without(object, "payload")),
        status: "complete",
        reasons: vec![],
        origin: Some("s3-payload"),
        records: Records::Kinesis {
            written: expected.to_vec(),
            arn: w.small_arn.clone(),
            identity: CONSUMER_ARN.into(),
        },
    }
    .with_exact(records)
}
