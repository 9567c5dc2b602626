use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const KINESIS_ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
const TABLE_STREAM_ARN: &str =
    "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-02T08:41:17.905";

/// A valid Kinesis on-failure record, as an event source mapping writes it.
fn record() -> Value {
    json!({
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4d3a-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 4
        },
        "version": "1.0",
        "timestamp": "2026-11-21T00:38:06.021Z",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000001",
            "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
            "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
            "batchSize": 3,
            "streamArn": KINESIS_ARN
        }
    })
}

/// The record with one change made to its batch info.
fn with_batch(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut record = record();
    change(record["KinesisBatchInfo"].as_object_mut().unwrap());
    record
}

fn pipes_record(info: &str, arn: &str) -> Value {
    json!({
        "context": {
            "partnerResourceArn": "arn:aws:pipes:eu-west-1:123456789012:pipe/orders-to-warehouse",
            "condition": "RetryAttemptsExhausted"
        },
        "version": "1.0",
        "timestamp": "2026-11-21T09:20:03Z",
        info: {
            "shardId": "shardId-00000001763715200000-8d2c41f7",
            "startSequenceNumber": "100000000053490326648",
            "endSequenceNumber": "100000000053490326650",
            "batchSize": 3,
            "streamArn": arn
        }
    })
}

fn sns(messages: &[Value]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let message = m.as_str().map_or_else(|| m.to_string(), str::to_owned);
            json!({"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {"Type": "Notification", "Message": message}})
        })
        .collect();
    json!({ "Records": records })
}

fn sqs(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({"messageId": format!("m{i}"), "eventSource": "aws:sqs", "body": body}))
        .collect();
    json!({ "Records": records })
}

fn s3(key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "eu-west-1",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "stream-failures"}, "object": {"key": key, "size": 1024}}
    }]})
}

fn whole(payload: &Value) -> Vec<FailureInput> {
    match parse(payload.to_string().as_bytes()).expect("parses") {
        Invocation::Whole(sources) => sources,
        Invocation::Queue(_) => panic!("expected a whole invocation"),
    }
}

fn start_of(source: &FailureInput) -> &str {
    match source {
        FailureInput::Record(r) => r.batch.start.as_str(),
        FailureInput::Kafka(_) | FailureInput::S3Object(_) => panic!("expected a record"),
    }
}

#[test]
fn a_kafka_record_is_passed_on_whole_from_every_envelope() {
    let kafka = json!({"requestContext": {"condition": "RetryAttemptsExhausted"},
        "KafkaBatchInfo": {"batchSize": 1, "bootstrapServers": "h:9092",
            "recordsInfo": {"t-0": {"firstRecordOffset": "1", "lastRecordOffset": "1"}}}});
    let is_it = |input: &FailureInput| match input {
        FailureInput::Kafka(raw) => serde_json::from_str::<Value>(raw.get()).unwrap() == kafka,
        _ => false,
    };
    assert!(whole(&kafka).iter().all(is_it));
    let sns =
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": kafka.to_string()}}]});
    assert!(whole(&sns).iter().all(is_it));
    let notification = json!({"Type": "Notification", "Message": kafka.to_string()}).to_string();
    let sqs = json!({"Records": [
        {"messageId": "m0", "eventSource": "aws:sqs", "body": kafka.to_string()},
        {"messageId": "m1", "eventSource": "aws:sqs", "body": notification}]});
    let Invocation::Queue(messages) = parse(sqs.to_string().as_bytes()).unwrap() else {
        panic!("expected a queue invocation")
    };
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| is_it(m.content.as_ref().unwrap())));
}

#[test]
fn every_sns_record_is_taken_in_order() {
    let second = with_batch(|b| {
        b.insert("startSequenceNumber".into(), json!("5"));
        b.insert("endSequenceNumber".into(), json!("9"));
    });
    let sources = whole(&sns(&[record(), second.clone()]));
    assert_eq!(sources.len(), 2);
    assert_eq!(start_of(&sources[1]), "5");
    let FailureInput::Record(r) = &sources[1] else {
        unreachable!()
    };
    assert_eq!(
        r.raw.get(),
        second.to_string(),
        "the record's text is kept as received"
    );
}

#[test]
fn a_bare_record_is_a_direct_invocation() {
    let sources = whole(&record());
    assert_eq!(sources.len(), 1);
    let FailureInput::Record(r) = &sources[0] else {
        panic!()
    };
    assert_eq!(r.raw.get(), record().to_string());
}

#[test]
fn pipes_records_of_both_sources_are_accepted() {
    for (info, arn) in [
        ("KinesisBatchInfo", KINESIS_ARN),
        ("DDBStreamBatchInfo", TABLE_STREAM_ARN),
    ] {
        let sources = whole(&pipes_record(info, arn));
        let FailureInput::Record(r) = &sources[0] else {
            panic!()
        };
        assert_eq!(r.batch.stream_arn.as_str(), arn);
        assert_eq!(
            r.consumer_arn.as_deref(),
            Some("arn:aws:pipes:eu-west-1:123456789012:pipe/orders-to-warehouse")
        );
    }
}

#[test]
fn sqs_messages_stand_alone_and_unwrap_sns_notifications() {
    let wrapped = json!({"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": record().to_string()});
    let payload = sqs(&[
        record().to_string(),
        "not json".into(),
        wrapped.to_string(),
        with_batch(|b| {
            b.insert("batchSize".into(), json!(0));
        })
        .to_string(),
    ]);
    let Invocation::Queue(messages) = parse(payload.to_string().as_bytes()).unwrap() else {
        panic!("expected a queue invocation")
    };
    let outcomes: Vec<(&str, Result<&str, &str>)> = messages
        .iter()
        .map(|m| {
            let outcome = match &m.content {
                Ok(r) => Ok(r.batch().map_or("", |b| b.shard_id.as_str())),
                Err(e) => Err(e.class()),
            };
            (m.message_id.as_str(), outcome)
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("m0", Ok("shardId-000000000001")),
            ("m1", Err("InvalidJson")),
            ("m2", Ok("shardId-000000000001")),
            ("m3", Err("BatchSizeOutOfRange")),
        ]
    );
}

#[test]
fn an_s3_event_names_its_objects() {
    let sources = whole(&s3("aws/lambda/esm+failures/2026%2F11%2F21/batch.json"));
    let FailureInput::S3Object(object) = &sources[0] else {
        panic!()
    };
    assert_eq!(
        object,
        &S3ObjectRef {
            bucket: "stream-failures".into(),
            key: "aws/lambda/esm failures/2026/11/21/batch.json".into(),
            region: "eu-west-1".into(),
        }
    );
}

/// Malformed inputs, each with the class of error it must get.
fn malformed_inputs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let text = |v: Value| v.to_string().into_bytes();
    let in_sns = |v: Value| text(sns(&[v]));
    let batch = |change: fn(&mut serde_json::Map<String, Value>)| in_sns(with_batch(change));
    vec![
        ("empty payload", b"".to_vec(), "InvalidJson"),
        ("truncated JSON", b"{\"Records\": [".to_vec(), "InvalidJson"),
        ("not UTF-8", vec![0xff, 0xfe, b'{', b'}'], "NotUtf8"),
        ("a number", b"42".to_vec(), "UnsupportedEvent"),
        ("an array", b"[]".to_vec(), "UnsupportedEvent"),
        ("null", b"null".to_vec(), "UnsupportedEvent"),
        (
            "an unrelated object",
            text(json!({"hello": "world"})),
            "UnsupportedEvent",
        ),
        (
            "Records is not an array",
            text(json!({"Records": 5})),
            "UnsupportedEvent",
        ),
        ("no records", text(json!({"Records": []})), "EmptyEvent"),
        (
            "records from another service",
            text(json!({"Records": [{"eventSource": "aws:kinesis"}]})),
            "UnsupportedEvent",
        ),
        (
            "SNS and SQS records mixed",
            text(json!({"Records": [{"EventSource": "aws:sns"}, {"eventSource": "aws:sqs"}]})),
            "MixedEvent",
        ),
        (
            "SNS record without Sns",
            text(json!({"Records": [{"EventSource": "aws:sns"}]})),
            "MalformedEnvelope",
        ),
        (
            "SNS Message not a string",
            text(json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": 5}}]})),
            "MalformedEnvelope",
        ),
        (
            "SNS Message not JSON",
            in_sns(json!("not json")),
            "InvalidJson",
        ),
        (
            "SNS Message an array",
            in_sns(json!("[1, 2]")),
            "NotAnObject",
        ),
        (
            "SNS Message without batch info",
            in_sns(json!({"requestContext": {}})),
            "MissingBatchInfo",
        ),
        (
            "both batch infos",
            in_sns({
                let mut r = record();
                r["DDBStreamBatchInfo"] = r["KinesisBatchInfo"].clone();
                r
            }),
            "AmbiguousBatchInfo",
        ),
        (
            "batch info not an object",
            in_sns(json!({"KinesisBatchInfo": "shard 1"})),
            "MalformedBatchInfo",
        ),
        (
            "no shardId",
            batch(|b| {
                b.remove("shardId");
            }),
            "MissingField",
        ),
        (
            "blank shardId",
            batch(|b| {
                b.insert("shardId".into(), json!("  "));
            }),
            "EmptyShardId",
        ),
        (
            "no startSequenceNumber",
            batch(|b| {
                b.remove("startSequenceNumber");
            }),
            "MissingField",
        ),
        (
            "start with a letter",
            batch(|b| {
                b.insert(
                    "startSequenceNumber".into(),
                    json!("4960118965842235937883629852182763847532018901230970472a"),
                );
            }),
            "InvalidSequenceNumber",
        ),
        (
            "start with a leading zero",
            batch(|b| {
                b.insert("startSequenceNumber".into(), json!("0123"));
            }),
            "InvalidSequenceNumber",
        ),
        (
            "end of 130 digits",
            batch(|b| {
                b.insert("endSequenceNumber".into(), json!("9".repeat(130)));
            }),
            "InvalidSequenceNumber",
        ),
        (
            "end negative",
            batch(|b| {
                b.insert("endSequenceNumber".into(), json!("-5"));
            }),
            "InvalidSequenceNumber",
        ),
        (
            "start as a JSON number",
            batch(|b| {
                b.insert("startSequenceNumber".into(), json!(49601189658u64));
            }),
            "MalformedBatchInfo",
        ),
        (
            "start after end",
            batch(|b| {
                b.insert(
                    "startSequenceNumber".into(),
                    json!("49601189658422359378836298522902373528957594348623495187"),
                );
            }),
            "StartAfterEnd",
        ),
        (
            "batchSize 0",
            batch(|b| {
                b.insert("batchSize".into(), json!(0));
            }),
            "BatchSizeOutOfRange",
        ),
        (
            "batchSize 10,001",
            batch(|b| {
                b.insert("batchSize".into(), json!(10_001));
            }),
            "BatchSizeOutOfRange",
        ),
        (
            "batchSize negative",
            batch(|b| {
                b.insert("batchSize".into(), json!(-1));
            }),
            "MalformedBatchInfo",
        ),
        (
            "batchSize a string",
            batch(|b| {
                b.insert("batchSize".into(), json!("3"));
            }),
            "MalformedBatchInfo",
        ),
        (
            "no batchSize",
            batch(|b| {
                b.remove("batchSize");
            }),
            "MissingField",
        ),
        (
            "no streamArn",
            batch(|b| {
                b.remove("streamArn");
            }),
            "MissingField",
        ),
        (
            "streamArn not an ARN",
            batch(|b| {
                b.insert("streamArn".into(), json!("orders"));
            }),
            "InvalidStreamArn",
        ),
        (
            "streamArn of a queue",
            batch(|b| {
                b.insert(
                    "streamArn".into(),
                    json!("arn:aws:sqs:us-east-1:123456789012:orders"),
                );
            }),
            "InvalidStreamArn",
        ),
        (
            "streamArn of a table, not its stream",
            batch(|b| {
                b.insert(
                    "streamArn".into(),
                    json!("arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
                );
            }),
            "InvalidStreamArn",
        ),
        (
            "streamArn with an 11-digit account",
            batch(|b| {
                b.insert(
                    "streamArn".into(),
                    json!("arn:aws:kinesis:us-east-1:12345678901:stream/orders"),
                );
            }),
            "InvalidStreamArn",
        ),
        (
            "streamArn without a region",
            batch(|b| {
                b.insert(
                    "streamArn".into(),
                    json!("arn:aws:kinesis::123456789012:stream/orders"),
                );
            }),
            "InvalidStreamArn",
        ),
        (
            "Kinesis info naming a table stream",
            batch(|b| {
                b.insert("streamArn".into(), json!(TABLE_STREAM_ARN));
            }),
            "StreamKindMismatch",
        ),
        (
            "S3 record without s3",
            text(json!({"Records": [{"eventSource": "aws:s3", "awsRegion": "eu-west-1"}]})),
            "MalformedEnvelope",
        ),
        (
            "S3 key with bad URL encoding",
            text(s3("batch%2.json")),
            "MalformedEnvelope",
        ),
    ]
}

#[test]
fn malformed_inputs_get_their_error_class() {
    let inputs = malformed_inputs();
    assert!(inputs.len() >= 25);
    for (what, payload, class) in inputs {
        match parse(&payload) {
            Ok(invocation) => panic!("{what}: accepted as {invocation:?}"),
            Err(error) => {
                assert_eq!(error.class(), class, "{what}: {error}");
                assert!(!error.to_string().contains('\n'), "{what}: one line");
            }
        }
    }
}

#[test]
fn errors_do_not_quote_the_input() {
    let secret = "alice@example.com";
    for payload in [
        sns(&[json!({"KinesisBatchInfo": secret})]),
        sns(&[with_batch(|b| {
            b.insert("batchSize".into(), json!(secret));
        })]),
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": [secret]}}]}),
        json!({"Records": [{"eventSource": "aws:s3", "awsRegion": "x", "s3": {"bucket": {"name": secret}}}]}),
    ] {
        let error = parse(payload.to_string().as_bytes()).unwrap_err();
        assert!(!error.to_string().contains(secret), "{error}");
    }
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        "[0-9]{1,60}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Field names that the input layer looks for, and others.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Records",
            "EventSource",
            "eventSource",
            "Sns",
            "Message",
            "Type",
            "body",
            "messageId",
            "s3",
            "bucket",
            "object",
            "key",
            "name",
            "awsRegion",
            "KinesisBatchInfo",
            "DDBStreamBatchInfo",
            "shardId",
            "startSequenceNumber",
            "endSequenceNumber",
            "batchSize",
            "streamArn",
            "requestContext",
            "context",
            "functionArn",
            "partnerResourceArn",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{1,8}",
    ]
}

/// Payloads close to real ones: a valid record, SNS, SQS or S3 event with
/// one part replaced by arbitrary JSON.
fn near_miss() -> impl Strategy<Value = Value> {
    let paths: Vec<&'static [&'static str]> = vec![
        &["KinesisBatchInfo"],
        &["KinesisBatchInfo", "shardId"],
        &["KinesisBatchInfo", "startSequenceNumber"],
        &["KinesisBatchInfo", "endSequenceNumber"],
        &["KinesisBatchInfo", "batchSize"],
        &["KinesisBatchInfo", "streamArn"],
        &["requestContext"],
    ];
    (prop::sample::select(paths), any_json(), 0..4u8).prop_map(|(path, replacement, wrap)| {
        let mut value = record();
        let mut slot = &mut value;
        for key in path {
            slot = &mut slot[*key];
        }
        *slot = replacement;
        match wrap {
            0 => value,
            1 => sns(&[value]),
            2 => sqs(&[value.to_string()]),
            _ => json!({"Records": [{"eventSource": "aws:s3", "awsRegion": "eu-west-1", "s3": value}]}),
        }
    })
}

/// The property every payload must have: parsed records or classified errors, no panic.
fn assert_classified(payload: &[u8]) {
    match parse(payload) {
        Ok(Invocation::Whole(sources)) => assert!(!sources.is_empty()),
        Ok(Invocation::Queue(messages)) => {
            for message in messages {
                if let Err(e) = message.content {
                    assert!(!e.class().is_empty());
                    assert!(!e.to_string().is_empty());
                }
            }
        }
        Err(e) => {
            assert!(!e.class().is_empty());
            assert!(!e.to_string().contains('\n'));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_classified(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        assert_classified(&bytes);
    }

    #[test]
    fn arbitrary_json_is_classified(value in any_json()) {
        assert_classified(value.to_string().as_bytes());
        assert_classified(sns(std::slice::from_ref(&value)).to_string().as_bytes());
        assert_classified(sqs(&[value.to_string()]).to_string().as_bytes());
    }

    #[test]
    fn near_misses_are_classified(value in near_miss()) {
        assert_classified(value.to_string().as_bytes());
    }
}
