//! SQS events, to the process with a DLQ: the answer is a partial batch
//! response naming exactly the bad messages, and every good message's
//! document is in the queue. The shared record shapes each as the one
//! message of an event, the documented SNS-to-SQS bodies, and batches that
//! mix good and bad messages.

use serde_json::{json, Value};

use hydrator_tests::hostile::{
    nested, pipes_record, planted, sns_notification, sns_record, sqs_event, sqs_record, text,
    MARKER,
};
use hydrator_tests::stream::unique_suffix;

use super::{row, shapes, Make, Row};
use crate::expect::{input, Expect};
use crate::world::{bytes, truncated, World};

/// A message id no other case uses.
fn id(label: &str) -> String {
    format!("{label}-{}", unique_suffix())
}

/// An SQS event of these (id, body) messages.
fn batch(messages: &[(String, String)]) -> Make {
    Make::Event(bytes(&sqs_event(messages)))
}

/// Ids for `bodies`, and the event of them.
fn numbered(label: &str, bodies: Vec<String>) -> (Vec<String>, Make) {
    let ids: Vec<String> = (0..bodies.len())
        .map(|i| id(&format!("{label}{i}")))
        .collect();
    let messages: Vec<(String, String)> = ids.iter().cloned().zip(bodies).collect();
    (ids, batch(&messages))
}

pub fn table(w: &World) -> Vec<Row> {
    let valid = w.valid();
    let raw = w.kinesis(23, 25, 3);
    let wrapped = w.kinesis(26, 27, 2);
    let twice = w.kinesis(48, 49, 2);
    let mut rows = shapes::table(w);
    rows.extend([
        row(
            "(documented) SNS to SQS with raw message delivery",
            batch(&[(id("raw"), text(&raw))]),
            Expect::Batch {
                failed: vec![],
                delivered: vec![w.complete(&raw, 23, 3)],
            },
        ),
        row(
            "(documented) SNS to SQS without raw message delivery",
            batch(&[(
                id("wrapped"),
                text(&sns_notification(json!(text(&wrapped)))),
            )]),
            Expect::Batch {
                failed: vec![],
                delivered: vec![w.complete(&wrapped, 26, 2)],
            },
        ),
        mixed(w),
        wrong_types(w),
        each_a_defect(w),
        row(
            "the same good body in two messages",
            batch(&[(id("dup-a"), text(&twice)), (id("dup-b"), text(&twice))]),
            Expect::Batch {
                failed: vec![],
                delivered: vec![w.complete(&twice, 48, 2), w.complete(&twice, 48, 2)],
            },
        ),
        hostile_id(w),
        shard_and_cut(w),
        row(
            "an SQS and an SNS record",
            Make::Event(bytes(&json!({"Records": [
                sqs_record(&id("m"), json!(text(&valid))),
                sns_record(json!(text(&valid)))
            ]}))),
            input("Input.MixedEvent"),
        ),
    ]);
    rows
}

/// A batch of ten that mixes good and bad messages.
fn mixed(w: &World) -> Row {
    let good_raw = w.kinesis(0, 1, 2);
    let good_wrapped = w.kinesis(2, 4, 3);
    let good_pipe = pipes_record(
        "KinesisBatchInfo",
        w.kinesis(5, 5, 1)["KinesisBatchInfo"].clone(),
    );
    let good_ddb = pipes_record("DDBStreamBatchInfo", w.ddb_batch(json!(3), &w.table_arn));
    let forged = w.kinesis(30, 55, 2);
    let (ids, make) = numbered(
        "mixed",
        vec![
            text(&good_raw),
            text(&sns_notification(json!(text(&good_wrapped)))),
            truncated(&w.valid()),
            text(&w.with_field("startSequenceNumber", Some(json!(w.seq(40))))),
            text(&good_pipe),
            nested(500, &format!("\"{MARKER}\"")),
            text(&good_ddb),
            text(&sns_notification(json!(4111))),
            format!("{MARKER}{}", "\u{1}junk{".repeat(20_000)),
            text(&forged),
        ],
    );
    row(
        "ten messages, five bad (cut, start after end, deep nesting, SNS Message a number, 100 KB of junk), five good (raw, SNS-wrapped, Pipes Kinesis, Pipes DynamoDB, forged wide range)",
        make,
        Expect::Batch {
            failed: [2, 3, 5, 7, 8].iter().map(|&i| ids[i].clone()).collect(),
            delivered: vec![
                w.complete(&good_raw, 0, 2),
                w.complete(&good_wrapped, 2, 3),
                w.piped(w.complete(&good_pipe, 5, 1), 5, 1),
                w.ddb_complete(&good_ddb),
                w.over_budget(&forged, 30, 2),
            ],
        },
    )
}

/// Bodies of the wrong type, next to a good message.
fn wrong_types(w: &World) -> Row {
    let good = w.kinesis(46, 47, 2);
    let ids: Vec<String> = (0..4).map(|i| id(&format!("types{i}"))).collect();
    let mut no_body = sqs_record(&ids[3], json!(text(&good)));
    no_body
        .as_object_mut()
        .expect("an SQS record is an object")
        .remove("body");
    let records = vec![
        sqs_record(&ids[0], json!(text(&good))),
        sqs_record(&ids[1], json!({"body": planted("b")})),
        sqs_record(&ids[2], Value::Null),
        no_body,
    ];
    row(
        "bodies that are an object, null and missing, next to a good message",
        Make::Event(bytes(&json!({ "Records": records }))),
        Expect::Batch {
            failed: ids[1..].to_vec(),
            delivered: vec![w.complete(&good, 46, 2)],
        },
    )
}

/// Ten bad messages, each its own defect.
fn each_a_defect(w: &World) -> Row {
    let mut both = w.valid();
    both["DDBStreamBatchInfo"] = w.ddb_batch(json!(3), &w.table_arn);
    let (ids, make) = numbered(
        "bad",
        vec![
            text(&w.with_field("streamArn", None)),
            text(&w.with_field("endSequenceNumber", Some(json!(planted("1"))))),
            text(&w.with_field(
                "streamArn",
                Some(json!(format!(
                    "arn:aws:kinesis:us-fake-9:{}:stream/orders",
                    w.account()
                ))),
            )),
            text(&w.with_field("streamArn", Some(json!(w.table_arn)))),
            text(&w.with_field("batchSize", Some(json!(0)))),
            text(&w.with_field("shardId", Some(json!("")))),
            text(&w.with_field("shardId", Some(json!(format!("shardId-0\n{MARKER}"))))),
            text(&both),
            text(&json!([planted("x")])),
            text(&json!({"requestContext": {"requestId": planted("r")}})),
        ],
    );
    row(
        "ten bad messages, each a different defect",
        make,
        Expect::Batch {
            failed: ids,
            delivered: vec![],
        },
    )
}

/// A bad message whose id would break a log line or a JSON text if copied raw.
fn hostile_id(w: &World) -> Row {
    let hostile_id = format!("id\"with\nnewline\u{1}-{}", unique_suffix());
    let record = w.kinesis(50, 50, 1);
    row(
        "a bad message whose id holds a quote and a newline",
        batch(&[
            (hostile_id.clone(), truncated(&w.valid())),
            (id("next-to-hostile-id"), text(&record)),
        ]),
        Expect::Batch {
            failed: vec![hostile_id],
            delivered: vec![w.complete(&record, 50, 1)],
        },
    )
}

/// Two bad messages of different kinds next to a good one.
fn shard_and_cut(w: &World) -> Row {
    let (bad, cut) = (id("shard-100k"), id("wrapped-cut"));
    let record = w.kinesis(51, 53, 3);
    row(
        "a 100 KB shard id and an SNS-wrapped cut record next to a good message",
        batch(&[
            (
                bad.clone(),
                text(&w.with_field("shardId", Some(json!("9".repeat(100_000))))),
            ),
            (
                cut.clone(),
                text(&sns_notification(json!(truncated(&w.valid())))),
            ),
            (id("good"), text(&record)),
        ]),
        Expect::Batch {
            failed: vec![bad, cut],
            delivered: vec![w.complete(&record, 51, 3)],
        },
    )
}
