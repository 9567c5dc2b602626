//! SNS events, as the on-failure topic delivers them to a subscribed
//! function: the shared record shapes as the message, then messages that are
//! not a record's text, broken envelopes, events of many records, and events
//! near the payload limit.

use serde_json::{json, Value};

use hydrator_tests::hostile::{
    esm_record, nested, planted, sns_event, sns_record, sqs_record, text, MARKER,
};

use super::{row, shapes, Make, Row, PAYLOAD_LIMIT};
use crate::expect::{error, input, Expect};
use crate::world::{bytes, padded, World};

pub fn table(w: &World) -> Vec<Row> {
    let valid = w.valid();
    let account = w.account();
    let with_message =
        |message: Value| Make::Event(bytes(&json!({"Records": [sns_record(message)]})));
    let with_sns = |sns: Option<Value>| {
        let mut record = sns_record(json!(text(&valid)));
        let fields = record.as_object_mut().expect("an SNS record is an object");
        match sns {
            Some(sns) => fields.insert("Sns".into(), sns),
            None => fields.remove("Sns"),
        };
        Make::Event(bytes(&json!({"Records": [record]})))
    };
    let message_text = |value: Value| Make::Text(text(&value).into_bytes());
    // 5 MiB of junk in one Message, within the payload limit.
    let unit = format!("{MARKER}{{[\"");
    let junk = with_message(json!(unit.repeat((5 << 20) / unit.len())));
    if let Make::Event(payload) = &junk {
        assert!(payload.len() < PAYLOAD_LIMIT, "{}", payload.len());
    }
    let twice = w.kinesis(40, 42, 3);
    let wide = w.kinesis(5, 45, 2);
    let made_up_regions: Vec<String> = (0..500)
        .map(|i| {
            text(&w.with_field(
                "streamArn",
                Some(json!(format!(
                    "arn:aws:kinesis:zz-fake-{i}:{account}:stream/orders"
                ))),
            ))
        })
        .collect();

    let mut rows = shapes::table(w);
    rows.extend([
        row("Message is an object", with_message(json!({"zqx": planted("m")})), input("Input.MalformedEnvelope")),
        row("Message is a number", with_message(json!(4111111111111111u64)), input("Input.MalformedEnvelope")),
        row("Message is null", with_message(Value::Null), input("Input.MalformedEnvelope")),
        row("Message is a JSON array", message_text(json!([1, planted("x")])), input("Input.NotAnObject")),
        row("Message is a JSON string", message_text(json!(planted("x"))), input("Input.NotAnObject")),
        row(
            "Message has no batch info",
            message_text(json!({"requestContext": {"requestId": planted("r")}, "version": planted("v")})),
            input("Input.MissingBatchInfo"),
        ),
        row(
            "Message holds a Kafka batch",
            message_text(json!({
                "requestContext": {"requestId": planted("r")},
                "KafkaBatchInfo": {"batchSize": 1, "eventSourceArn": planted("arn")}
            })),
            // Read as a Kafka record (#26), which names no bootstrap servers.
            input("Input.MalformedBatchInfo"),
        ),
        row(
            "Message holds a Kafka batch on a cluster not allowed",
            message_text(json!({
                "requestContext": {"requestId": planted("r")},
                "KafkaBatchInfo": {"batchSize": 1, "eventSourceArn": planted("arn"),
                    "bootstrapServers": "b-1.elsewhere.example:9092",
                    "recordsInfo": {"orders-0": {"firstRecordOffset": "1", "lastRecordOffset": "1"}}}
            })),
            // Refused before any connection: KAFKA_BOOTSTRAP_ALLOWLIST is unset.
            input("Input.KafkaServerNotAllowed"),
        ),
        row(
            "Message is 300 nested arrays",
            Make::Text(nested(300, &format!("\"{MARKER}\"")).into_bytes()),
            error(&["Input.InvalidJson", "Input.NotAnObject"]),
        ),
        row("no Sns", with_sns(None), input("Input.MalformedEnvelope")),
        row("Sns is a string", with_sns(Some(json!(planted("sns")))), input("Input.MalformedEnvelope")),
        row("5 MiB of junk in Message", junk, input("Input.InvalidJson")).long(),
        row(
            "a 7 MiB event",
            Make::Text(text(&padded(&valid, 7 << 20)).into_bytes()),
            input("Input.PayloadTooLarge"),
        )
        .long(),
        row(
            "the second of two records has start after end",
            Make::Event(bytes(&sns_event(&[
                text(&valid),
                text(&w.with_field("startSequenceNumber", Some(json!(w.seq(40))))),
            ]))),
            input("Input.StartAfterEnd"),
        ),
        row(
            "500 records, each in a made-up region",
            Make::Event(bytes(&sns_event(&made_up_regions))),
            input("Input.InvalidStreamArn"),
        ),
        row(
            "the same record twice",
            Make::Event(bytes(&sns_event(&[text(&twice), text(&twice)]))),
            Expect::Docs(vec![w.complete(&twice, 40, 3), w.complete(&twice, 40, 3)]),
        ),
        row(
            "forged wide range, batchSize 2 over 41 records",
            Make::Record(wide.clone()),
            Expect::Docs(vec![w.over_budget(&wide, 5, 2)]),
        ),
        row("no records", Make::Event(bytes(&json!({"Records": []}))), input("Input.EmptyEvent")),
        row(
            "an SNS and an SQS record",
            Make::Event(bytes(
                &json!({"Records": [sns_record(json!(text(&valid))), sqs_record("m-1", json!(text(&valid)))]}),
            )),
            input("Input.MixedEvent"),
        ),
        row(
            "an SNS and an unknown record",
            Make::Event(bytes(
                &json!({"Records": [sns_record(json!(text(&valid))), {"EventSource": planted("src"), "zqx": planted("x")}]}),
            )),
            error(&["Input.MixedEvent", "Input.UnsupportedEvent"]),
        ),
        row(
            "Records is an object",
            Make::Event(bytes(&json!({"Records": {"0": sns_record(json!(text(&valid)))}}))),
            error(&["Input.UnsupportedEvent", "Input.MalformedEnvelope"]),
        ),
        row(
            "Records holds strings",
            Make::Event(bytes(&json!({"Records": [planted("a"), planted("b")]}))),
            error(&["Input.UnsupportedEvent", "Input.MalformedEnvelope"]),
        ),
        row(
            "a DynamoDB record whose table name has 2 characters",
            Make::Record(esm_record("DDBStreamBatchInfo", w.ddb_batch(json!(3), &w.table_arn_named("ab")))),
            input("Input.InvalidStreamArn"),
        ),
    ]);
    rows
}
