use super::*;

/// The example answer of the `GetRecords` API reference, with a second
/// record whose data is binary and whose fields are escaped.
const ANSWER: &str = r#"{
  "MillisBehindLatest": 2100,
  "NextShardIterator": "AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvMd6uXQ+HL5vAJMznqqC0DLKsIjuoiTi1BpT6nW0LN2M2D56zM5H8anHm30Gbri9ua+qaGgj+3XTyvbhpERfrezgLHbPB/rIcVpykJbaSj5tmcXYRmFnqZBEyHwtZYFmh6hvWVFkIwLuMZLMrpWhG5r5hzkE=",
  "Records": [
    {
      "Data": "XzxkYXRhPl8w",
      "PartitionKey": "partitionKey",
      "ApproximateArrivalTimestamp": 1.441215410867E9,
      "SequenceNumber": "21269319989652663814458848515492872193"
    },
    {
      "Data": "AP\/+",
      "PartitionKey": "k\u00e9y\"",
      "ApproximateArrivalTimestamp": 1545084650.987,
      "SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
      "EncryptionType": "KMS",
      "ChildShards": null
    }
  ]
}"#;

#[test]
fn an_answer_keeps_each_records_data_as_its_text() {
    let page = page(Bytes::from(ANSWER)).unwrap();
    assert_eq!(page.millis_behind_latest, Some(2100));
    assert!(page.next_iterator.unwrap().starts_with("AAAAAAAAAAHsW8"));
    assert_eq!(
        page.records,
        vec![
            KinesisRecord {
                sequence_number: "21269319989652663814458848515492872193".into(),
                partition_key: "partitionKey".into(),
                data: Base64Text::encode(b"_<data>_0"),
                arrival_millis: Some(1_441_215_410_867),
                encryption_type: None,
            },
            KinesisRecord {
                sequence_number: "49590338271490256608559692538361571095921575989136588898".into(),
                partition_key: "k\u{e9}y\"".into(),
                data: Base64Text::encode(&[0x00, 0xff, 0xfe]),
                arrival_millis: Some(1_545_084_650_987),
                encryption_type: Some("KMS".into()),
            },
        ]
    );
}

#[test]
fn a_records_strings_are_slices_of_its_answer() {
    let body = Bytes::from(ANSWER);
    let answer = body.as_ptr_range();
    let within = |text: &str| answer.contains(&text.as_ptr());
    let page = page(body.clone()).unwrap();
    let (plain, escaped) = (&page.records[0], &page.records[1]);
    assert!(within(&plain.sequence_number));
    assert!(within(&plain.partition_key));
    assert!(within(&escaped.sequence_number));
    assert!(within(escaped.encryption_type.as_deref().unwrap()));
    // A string with an escape is the one kind made anew.
    assert!(!within(&escaped.partition_key));
    assert_eq!(&*escaped.partition_key, "k\u{e9}y\"");
}

#[test]
fn an_arrival_time_is_the_millisecond_it_names() {
    // The double nearest each of these lies below it: truncating its
    // nanoseconds, as a `DateTime` made from the double does, loses a millisecond.
    for (seconds, expected) in [
        (1_545_084_650.987, 1_545_084_650_987),
        (1_795_426_301.87, 1_795_426_301_870),
        (1_700_000_000.001, 1_700_000_000_001),
        (0.0, 0),
        (-1.5, -1_500),
    ] {
        assert_eq!(millis(seconds), Some(expected), "{seconds}");
    }
    assert_eq!(millis(f64::INFINITY), None);
    assert_eq!(millis(1e300), None);
}

#[test]
fn an_answer_that_is_not_one_is_a_service_error_that_quotes_nothing() {
    let cases = [
        ("not json", r#"{"Records": [{"Data": "secret""#),
        (
            "a record without data",
            r#"{"Records": [{"SequenceNumber": "1", "PartitionKey": "secret"}]}"#,
        ),
        (
            "data not base64",
            r#"{"Records": [{"SequenceNumber": "1", "Data": "secret!!"}]}"#,
        ),
        (
            "data of the wrong type",
            r#"{"Records": [{"SequenceNumber": "1", "Data": ["secret"]}]}"#,
        ),
        ("records not a list", r#"{"Records": "secret"}"#),
    ];
    for (case, body) in cases {
        let error = page(Bytes::from(body)).expect_err(case);
        assert_eq!(error.class(), "Service", "{case}");
        assert!(!error.to_string().contains("secret"), "{case}: {error}");
    }
}

#[test]
fn an_answer_without_records_is_an_empty_page() {
    let page = page(Bytes::from_static(
        br#"{"NextShardIterator": "it", "MillisBehindLatest": 0}"#,
    ))
    .unwrap();
    assert!(page.records.is_empty());
    assert_eq!(page.next_iterator.as_deref(), Some("it"));
}
