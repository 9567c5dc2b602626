//! Records too large for a message: kept whole in S3 with a pointer in the
//! message, named `too_large` without a bucket, nothing sent when S3 refuses.

use super::*;

/// Records 0 to 4, record 2 of 6,000 bytes: more than a 4,000-byte message.
fn with_an_oversized_record() -> FakeAws {
    let mut kinesis: Vec<_> = (0..5).map(kinesis_record).collect();
    kinesis[2].data = Base64Text::encode(&[b'x'; 6_000]);
    FakeAws {
        kinesis,
        ..FakeAws::default()
    }
}

fn offloading(mut settings: Settings) -> Settings {
    settings.max_message_bytes = 4_000;
    settings.offload = Some(Offload {
        bucket: "offload".into(),
        prefix: Offload::DEFAULT_PREFIX.into(),
        kms_key_id: Some("alias/hydrator".into()),
    });
    settings
}

#[tokio::test]
async fn a_record_too_large_for_a_message_goes_to_s3_and_the_message_points_at_it() {
    let hydrator = Hydrator::with_aws(with_an_oversized_record(), offloading(to_dlq(settings())));
    let response = handle(&hydrator, &kinesis_failure(0, 4)).await.unwrap();
    let Response::Delivered(report) = response else {
        panic!("expected a delivery report")
    };
    assert_eq!(report.delivered[0].status, Status::Complete);

    let calls = hydrator.aws.queue_calls.lock().unwrap().clone();
    let pointers: Vec<&SendMessageBatchRequestEntry> = calls
        .iter()
        .flatten()
        .filter(|e| S3Pointer::from_body(&e.message_body).is_some())
        .collect();
    assert_eq!(
        pointers.len(),
        1,
        "only the part with the large record is offloaded"
    );
    let pointer = S3Pointer::from_body(&pointers[0].message_body).unwrap();
    assert!(
        pointer.s3_key.starts_with("hydrator/"),
        "{}",
        pointer.s3_key
    );
    let written = hydrator.aws.written.lock().unwrap().clone();
    let (object, kms_key) = &written[&format!("offload/{}", pointer.s3_key)];
    assert_eq!(kms_key.as_deref(), Some("alias/hydrator"));
    let size = &pointers[0].message_attributes.as_ref().unwrap()["ExtendedPayloadSize"];
    assert_eq!(size.data_type, "Number");
    assert_eq!(
        size.string_value.as_deref(),
        Some(object.len().to_string().as_str())
    );
    let part = Document::parse(std::str::from_utf8(object).unwrap()).unwrap();
    assert_eq!(part.records.len(), 1);

    // Joined again through the pointer, the document is whole.
    let joined = delivered(&hydrator.aws);
    assert_eq!(joined[0].records.len(), 5);
    assert!(joined[0].hydration.missing.is_empty());
}

#[tokio::test]
async fn without_an_offload_bucket_the_oversized_record_is_named_too_large() {
    let mut settings = to_dlq(settings());
    settings.max_message_bytes = 4_000;
    let hydrator = Hydrator::with_aws(with_an_oversized_record(), settings);
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(0, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    assert_eq!(report.delivered[0].status, Status::Partial);
    let joined = delivered(&hydrator.aws);
    assert_eq!(joined[0].records.len(), 4);
    let reasons: Vec<&str> = joined[0]
        .hydration
        .missing
        .iter()
        .map(|g| g.reason.as_str())
        .collect();
    assert_eq!(reasons, ["too_large"]);
    assert!(hydrator.aws.written.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_offload_sends_nothing_and_fails_the_delivery() {
    let aws = FakeAws {
        refuse_puts: true,
        ..with_an_oversized_record()
    };
    let hydrator = Hydrator::with_aws(aws, offloading(to_dlq(settings())));
    let error = handle(&hydrator, &kinesis_failure(0, 4)).await.unwrap_err();
    assert_eq!(error.class(), "Delivery.Offload");
    assert!(hydrator.aws.queue_calls.lock().unwrap().is_empty());
}
