//! Hydrating DynamoDB stream failures over the wire against moto server: the
//! failed range comes back whole, in order, every attribute with its type,
//! and nothing outside it.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_sdk_dynamodbstreams::types::Record as StreamRecord;
use hydrate::SequenceNumber;
use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::assert_conforms_to_schema;
use hydrator_tests::emulator::sdk_config;
use hydrator_tests::failure::{dynamodb_failure, sns_event, Batch};
use hydrator_tests::powertools::{parse_dynamodb_event, with_event_file};
use hydrator_tests::table::{
    item_json, sequence_number, sorted_sets, Change, Item, TestTable, KEY,
};
use serde_json::{json, Value};

/// Return mode, without the OnSuccess destination's size limit: these tests
/// check what is read, and the 2,500-record document is over it.
fn hydrator() -> Hydrator {
    let settings = Settings {
        response_max_bytes: usize::MAX,
        ..Settings::default()
    };
    Hydrator::new(sdk_config(), settings)
}

/// Hydrates, through an SNS event, the failure of the batch running from
/// `start` to `end` with `batch_size` records, and checks the document
/// against the schema and the failure record it carries.
async fn hydrate_failure(table: &TestTable, start: &str, end: &str, batch_size: usize) -> Value {
    let shard_id = table.shard_id().await;
    let batch = Batch {
        shard_id: &shard_id,
        start,
        end,
        size: batch_size,
    };
    let failure = dynamodb_failure(&table.stream_arn, &batch);
    let response = hydrator()
        .handle(&sns_event(&failure).to_string())
        .await
        .expect("hydration succeeds");
    let Response::One(document) = response else {
        panic!("one failure gives one document")
    };
    let document = serde_json::to_value(&document).expect("document serializes");
    assert_eq!(
        document["failure"], failure,
        "the failure record is carried as received"
    );
    assert_eq!(document["source"], "aws:dynamodb");
    assert_conforms_to_schema(&document);
    document
}

/// Hydrates the batch of stream records `range` (indices into `stream`).
async fn hydrate_batch(
    table: &TestTable,
    stream: &[StreamRecord],
    range: &RangeInclusive<usize>,
) -> Value {
    let start = sequence_number(&stream[*range.start()]);
    let end = sequence_number(&stream[*range.end()]);
    hydrate_failure(table, start, end, range.clone().count()).await
}

/// The document holds exactly the stream records `range`, in order: every
/// field equal to what the stream holds, every image equal to what was
/// written, and the event parses as `aws_lambda_events`' and Powertools'
/// DynamoDB stream event.
fn assert_records_are(
    document: &Value,
    table: &TestTable,
    stream: &[StreamRecord],
    range: RangeInclusive<usize>,
) {
    let records = document["Records"].as_array().expect("Records is an array");
    let expected: Vec<(&StreamRecord, &Change)> = range
        .clone()
        .map(|i| (&stream[i], &table.changes[i]))
        .collect();
    assert_eq!(records.len(), expected.len(), "record count");

    for (i, (record, (held, change))) in records.iter().zip(&expected).enumerate() {
        let held_change = held.dynamodb.as_ref().expect("stream record body");
        assert_eq!(
            record["eventID"],
            held.event_id.as_deref().unwrap(),
            "record {i} eventID"
        );
        assert_eq!(
            record["eventName"], change.event_name,
            "record {i} eventName"
        );
        assert_eq!(
            record["eventName"],
            held.event_name.as_ref().unwrap().as_str()
        );
        assert_eq!(
            record["eventVersion"],
            held.event_version.as_deref().unwrap()
        );
        assert_eq!(record["eventSource"], "aws:dynamodb");
        assert_eq!(record["awsRegion"], held.aws_region.as_deref().unwrap());
        assert_eq!(record["eventSourceARN"], table.stream_arn.as_str());
        let body = &record["dynamodb"];
        assert_eq!(
            body["SequenceNumber"],
            sequence_number(held),
            "record {i} sequence number"
        );
        assert_eq!(body["SizeBytes"], held_change.size_bytes.unwrap());
        assert_eq!(body["StreamViewType"], table.view.as_str());
        let created = held_change.approximate_creation_date_time.unwrap();
        let seconds = body["ApproximateCreationDateTime"]
            .as_f64()
            .expect("epoch seconds");
        assert_eq!(
            seconds.floor() as i64,
            created.secs(),
            "record {i} creation time"
        );

        assert_eq!(
            sorted_sets(&body["Keys"]),
            item_json(&change.keys),
            "record {i} Keys"
        );
        let (new_expected, old_expected) = expected_images(table, change);
        assert_image(
            body.get("NewImage"),
            new_expected,
            &format!("record {i} NewImage"),
        );
        assert_image(
            body.get("OldImage"),
            old_expected,
            &format!("record {i} OldImage"),
        );
    }

    let event = json!({ "Records": records });
    let parsed: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(event).expect("aws_lambda_events parses the records");
    let parsed_numbers: Vec<Option<String>> = parsed
        .records
        .iter()
        .map(|r| r.change.sequence_number.clone())
        .collect();
    let held_numbers: Vec<Option<String>> = expected
        .iter()
        .map(|(held, _)| Some(sequence_number(held).to_owned()))
        .collect();
    assert_eq!(parsed_numbers, held_numbers);

    let view = with_event_file(&document["Records"], parse_dynamodb_event)
        .expect("Powertools parses the records");
    assert_eq!(view.records, expected.len());
    let held_numbers: Vec<&str> = expected
        .iter()
        .map(|(held, _)| sequence_number(held))
        .collect();
    assert_eq!(view.sequence_numbers, held_numbers);
    for (i, (images, (_, change))) in view.images.iter().zip(&expected).enumerate() {
        assert_eq!(view.event_names[i], change.event_name);
        assert_eq!(
            images.keys,
            item_json(&change.keys),
            "Powertools record {i} Keys"
        );
        // Powertools leaves binary values as the base64 text they arrive as.
        let (new_expected, old_expected) = expected_images(table, change);
        let as_seen = |image: Option<Option<Value>>| image.map(|i| i.map(|v| binary_as_text(&v)));
        let what = |image: &str| format!("Powertools record {i} {image}");
        assert_image(
            images.new_image.as_ref(),
            as_seen(new_expected),
            &what("NewImage"),
        );
        assert_image(
            images.old_image.as_ref(),
            as_seen(old_expected),
            &what("OldImage"),
        );
    }
}

/// The images, in DynamoDB JSON, that the table's view type puts in the
/// stream record of `change`: `None` where the view leaves an image out,
/// `Some(None)` where the change has no such image (the new image of a REMOVE).
fn expected_images(
    table: &TestTable,
    change: &Change,
) -> (Option<Option<Value>>, Option<Option<Value>>) {
    let view = &table.view;
    let new = matches!(
        view,
        StreamViewType::NewImage | StreamViewType::NewAndOldImages
    )
    .then(|| change.new_image.as_ref().map(item_json));
    let old = matches!(
        view,
        StreamViewType::OldImage | StreamViewType::NewAndOldImages
    )
    .then(|| change.old_image.as_ref().map(item_json));
    (new, old)
}

/// An image the view leaves out is absent. One it includes equals the item
/// written; where the change has no such image it is absent or empty, as
/// moto writes `{}` there.
fn assert_image(actual: Option<&Value>, expected: Option<Option<Value>>, what: &str) {
    match expected {
        None => assert!(actual.is_none(), "{what} is not in this view: {actual:?}"),
        Some(item) => {
            let actual = actual.map(sorted_sets).unwrap_or_else(|| json!({}));
            assert_eq!(actual, item.unwrap_or_else(|| json!({})), "{what}");
        }
    }
}

/// `value` with binary attributes (`B`, `BS`) turned into the strings
/// (`S`, `SS`) of their base64 text.
fn binary_as_text(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let key = match key.as_str() {
                        "B" => "S",
                        "BS" => "SS",
                        other => other,
                    };
                    (key.to_owned(), binary_as_text(v))
                })
                .collect(),
        ),
        Value::Array(values) => Value::Array(values.iter().map(binary_as_text).collect()),
        other => other.clone(),
    }
}

fn order(i: usize) -> Item {
    HashMap::from([
        (KEY.to_owned(), AttributeValue::S(format!("order#{i:05}"))),
        ("quantity".to_owned(), AttributeValue::N(i.to_string())),
        ("status".to_owned(), AttributeValue::S("PLACED".into())),
    ])
}

/// An item holding every attribute type, varied by `version`.
fn every_type(key: &str, version: u8) -> Item {
    use AttributeValue::*;
    HashMap::from([
        (KEY.to_owned(), S(key.to_owned())),
        (
            "text".to_owned(),
            S(format!("grüße, 注文 {version} \"quoted\"\n")),
        ),
        (
            "big".to_owned(),
            N("12345678901234567890123456789012345678".into()),
        ),
        (
            "precise".to_owned(),
            N(format!("-3.1415926535897932384626433832795028{version}")),
        ),
        (
            "bytes".to_owned(),
            B(Blob::new(vec![0xff, 0x00, version, 0x80, 0x7f])),
        ),
        ("flag".to_owned(), Bool(version % 2 == 0)),
        ("nothing".to_owned(), Null(true)),
        (
            "tags".to_owned(),
            Ss(vec!["blue".into(), format!("v{version}"), "apple".into()]),
        ),
        (
            "scores".to_owned(),
            Ns(vec!["10".into(), "-2.5".into(), version.to_string()]),
        ),
        (
            "chunks".to_owned(),
            Bs(vec![Blob::new(vec![version]), Blob::new(vec![0, 255])]),
        ),
        (
            "nested".to_owned(),
            L(vec![
                S("first".into()),
                N("2".into()),
                M(HashMap::from([
                    (
                        "deep".to_owned(),
                        L(vec![Null(true), Bool(false), B(Blob::new(vec![1, 2]))]),
                    ),
                    ("set".to_owned(), Ss(vec!["x".into(), "y".into()])),
                ])),
                L(vec![]),
            ]),
        ),
        ("empty_map".to_owned(), M(HashMap::new())),
    ])
}

async fn table_with_orders(count: usize) -> (TestTable, Vec<StreamRecord>) {
    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    for i in 0..count {
        table.put(order(i)).await;
    }
    let stream = table.stream_records().await;
    (table, stream)
}

#[tokio::test]
async fn a_one_record_batch_hydrates_complete() {
    let (table, stream) = table_with_orders(4).await;
    let document = hydrate_batch(&table, &stream, &(2..=2)).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "complete");
    assert_eq!(h["hydratedRecords"], 1);
    assert_eq!(h["getRecordsCalls"], 1);
    assert_records_are(&document, &table, &stream, 2..=2);
}

#[tokio::test]
async fn a_three_record_batch_hydrates_complete() {
    let (table, stream) = table_with_orders(3).await;
    let document = hydrate_batch(&table, &stream, &(0..=2)).await;
    assert_eq!(document["hydration"]["status"], "complete");
    assert_records_are(&document, &table, &stream, 0..=2);
}

#[tokio::test]
async fn a_range_in_the_middle_of_the_shard_returns_exactly_the_range() {
    let (table, stream) = table_with_orders(12).await;
    let document = hydrate_batch(&table, &stream, &(4..=8)).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "complete");
    assert_eq!(h["expectedRecords"], 5);
    assert_eq!(h["getShardIteratorCalls"], 1);
    assert_records_are(&document, &table, &stream, 4..=8);
}

#[tokio::test]
async fn a_2500_record_batch_is_read_in_pages_of_at_most_1000() {
    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    table.put_all((0..2_500).map(order).collect()).await;
    let stream = table.stream_records().await;
    let document = hydrate_batch(&table, &stream, &(0..=2_499)).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "complete");
    assert_eq!(h["hydratedRecords"], 2_500);
    assert_eq!(h["getRecordsCalls"], 3, "1,000 + 1,000 + 500");
    assert_records_are(&document, &table, &stream, 0..=2_499);
}

#[tokio::test]
async fn every_attribute_type_and_change_round_trips_in_every_view_type() {
    for view in [
        StreamViewType::KeysOnly,
        StreamViewType::NewImage,
        StreamViewType::OldImage,
        StreamViewType::NewAndOldImages,
    ] {
        let mut table = TestTable::create(view.clone()).await;
        table.put(every_type("a", 1)).await; // INSERT
        table.put(every_type("a", 2)).await; // MODIFY
        table.put(every_type("b", 3)).await; // INSERT
        table.delete("a").await; // REMOVE
        let stream = table.stream_records().await;
        let document = hydrate_batch(&table, &stream, &(0..=3)).await;
        assert_eq!(document["hydration"]["status"], "complete", "{view:?}");
        let names: Vec<&str> = table.changes.iter().map(|c| c.event_name).collect();
        assert_eq!(names, ["INSERT", "MODIFY", "INSERT", "REMOVE"]);
        assert_records_are(&document, &table, &stream, 0..=3);
    }
}

#[tokio::test]
async fn a_batch_reaching_past_the_last_record_is_partial_and_stops() {
    let (table, stream) = table_with_orders(3).await;
    let last = SequenceNumber::parse(sequence_number(&stream[2])).unwrap();
    // Five more records than the shard holds, by number and by count.
    let end = (0..5).fold(last.clone(), |n, _| n.successor()).to_string();
    let document = hydrate_failure(&table, sequence_number(&stream[0]), &end, 8).await;
    let h = &document["hydration"];
    assert_eq!(h["status"], "partial");
    assert_eq!(h["hydratedRecords"], 3);
    let missing = h["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["fromSequenceNumber"], last.successor().as_str());
    assert_eq!(missing[0]["toSequenceNumber"], end.as_str());
    // DynamoDB Streams never says it is at the tip: the empty-page bound stops the read.
    assert_eq!(missing[0]["reason"], "read_limit");
    let calls = h["getRecordsCalls"].as_u64().unwrap();
    assert!(
        calls <= 1 + u64::from(Settings::default().read_limits.max_empty_pages),
        "{calls} calls"
    );
    assert_records_are(&document, &table, &stream, 0..=2);
}

#[tokio::test]
async fn a_stream_of_a_missing_table_gives_an_unavailable_document() {
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/no-such-table/stream/2026-11-21T06:00:00.000";
    let batch = Batch {
        shard_id: "shardId-00000001541626099285-f35f62ef",
        start: "1100000000017454423009",
        end: "1100000000017454423010",
        size: 2,
    };
    let failure = dynamodb_failure(arn, &batch);
    let Response::One(document) = hydrator().handle(failure.to_string()).await.unwrap() else {
        panic!("one document")
    };
    let document = serde_json::to_value(&document).unwrap();
    assert_conforms_to_schema(&document);
    let h = &document["hydration"];
    assert_eq!(h["status"], "unavailable");
    assert!(
        h["unavailable"]
            .as_str()
            .unwrap()
            .contains("ResourceNotFoundException"),
        "{h}"
    );
    assert_eq!(h["missing"][0]["reason"], "stream_not_found");
    assert_eq!(document["Records"], json!([]));
}
