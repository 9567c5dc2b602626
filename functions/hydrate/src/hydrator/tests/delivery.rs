//! One invocation end to end: every trigger, both stream kinds, storms of
//! interleaved shards, the queue's partial and permanent failures, the
//! archive, and the S3 path.

use super::*;

#[tokio::test]
async fn an_sns_kinesis_failure_comes_back_whole_exact_and_in_order() {
    let aws = FakeAws::default();
    let hydrator = Hydrator::with_aws(aws, settings());
    let document = one(handle(&hydrator, &sns(&[kinesis_failure(2, 8)]))
        .await
        .unwrap());
    assert_eq!(document.hydration.status, Status::Complete);
    assert_eq!(
        record_data(&document),
        (2..=8).map(base64).collect::<Vec<_>>()
    );
    // Pages of 4: records 2-5, then 6-9, of which 9 lies past the end.
    assert_eq!(document.hydration.get_records_calls, 2);
    assert_eq!(document.hydration.get_shard_iterator_calls, 1);
}

#[tokio::test]
async fn a_dynamodb_failure_comes_back_in_the_shape_lambda_delivers() {
    let failure = json!({
        "requestContext": {"requestId": "7d0b1c2e", "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:projection",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-21T09:14:52.338Z",
        "DDBStreamBatchInfo": {"shardId": "shardId-00000001763715200000-8d2c41f7",
            "startSequenceNumber": "100000000053490326651", "endSequenceNumber": "100000000053490326654",
            "approximateArrivalOfFirstRecord": "2026-11-21T09:14:31Z",
            "approximateArrivalOfLastRecord": "2026-11-21T09:14:33Z",
            "batchSize": 4, "streamArn": TABLE_STREAM_ARN}
    });
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let document = one(handle(&hydrator, &sns(&[failure])).await.unwrap());
    assert_eq!(document.hydration.status, Status::Complete);
    let json = serde_json::to_value(&document.records).unwrap();
    let keys: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["order-51", "order-52", "order-53", "order-54"]);
    assert_eq!(json[0]["eventSourceARN"], TABLE_STREAM_ARN);
}

/// Failures of three shards, interleaved as a storm's arrive, three a shard.
fn interleaved_failures() -> Vec<Value> {
    let mut failures = Vec::new();
    for (first, last) in [(0, 2), (3, 5), (6, 9)] {
        for shard in [SHARD, SIBLING_SHARDS[0], SIBLING_SHARDS[1]] {
            let mut failure = kinesis_failure(first, last);
            failure["KinesisBatchInfo"]["shardId"] = json!(shard);
            failures.push(failure);
        }
    }
    failures
}

#[tokio::test]
async fn runs_are_served_one_after_another_whatever_shards_the_input_interleaves() {
    let mut settings = to_dlq(settings());
    settings.max_concurrency = 1;
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings);
    let failures = interleaved_failures();
    let messages: Vec<(String, Value)> = failures
        .iter()
        .enumerate()
        .map(|(i, failure)| (format!("m-{i}"), failure.clone()))
        .collect();
    let messages: Vec<(&str, Value)> = messages
        .iter()
        .map(|(id, failure)| (id.as_str(), failure.clone()))
        .collect();
    assert!(failed_ids(handle(&hydrator, &sqs(&messages)).await.unwrap()).is_empty());
    // One run a shard, each read once; hydrated in the input's order, all
    // three would be held together.
    assert_eq!(hydrator.storm.peak_held_runs(), 1);
    let documents = delivered(&hydrator.aws);
    assert_eq!(documents.len(), 9);
    assert!(documents
        .iter()
        .all(|d| d.hydration.status == Status::Complete));
}

#[tokio::test]
async fn answers_keep_the_inputs_order_though_failures_are_hydrated_by_run() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let failures = interleaved_failures();
    let Response::Many(documents) = handle(&hydrator, &sns(&failures)).await.unwrap() else {
        panic!("one document a failure")
    };
    let ranges: Vec<(&str, &str)> = documents
        .iter()
        .map(|d| d.batch.shard().expect("a Kinesis document"))
        .map(|b| (b.shard_id.as_str(), b.start.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = failures
        .iter()
        .map(|f| {
            let batch = &f["KinesisBatchInfo"];
            let shard = batch["shardId"].as_str().unwrap();
            (shard, batch["startSequenceNumber"].as_str().unwrap())
        })
        .collect();
    assert_eq!(ranges, expected);
}

#[tokio::test]
async fn a_vanished_shard_gives_an_unavailable_document_not_an_error() {
    let mut failure = kinesis_failure(2, 4);
    failure["KinesisBatchInfo"]["shardId"] = json!("shardId-000000000009");
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let document = one(handle(&hydrator, &failure).await.unwrap());
    assert_eq!(document.hydration.status, Status::Unavailable);
    assert!(document.records.is_empty());
}

#[tokio::test]
async fn parts_the_queue_throttles_are_sent_again_alone_and_join_back() {
    // Part 2 is throttled the first time it is sent.
    let aws = FakeAws {
        queue_rule: |entry, times| {
            (entry.id == "part-2" && times == 0).then_some("RequestThrottled")
        },
        ..FakeAws::default()
    };
    let mut settings = to_dlq(settings());
    settings.max_message_bytes = 4_000; // room for a few records a part
    let hydrator = Hydrator::with_aws(aws, settings);
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(0, 9)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    let calls = hydrator.aws.queue_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "one call, then the throttled part again");
    let resent: Vec<&str> = calls[1].iter().map(|e| e.id.as_str()).collect();
    assert_eq!(resent, ["part-2"]);
    let parts = report.delivered[0].message_ids.len();
    assert!(parts >= 3, "the document was cut into {parts} parts");
    assert_eq!(calls[0].len(), parts);

    // The resent part is kept once when joined; the document is the one
    // the function returns when it sends nothing.
    let joined = delivered(&hydrator.aws);
    assert_eq!(joined.len(), 1);
    let returned = Hydrator::with_aws(FakeAws::default(), self::settings());
    let returned = one(handle(&returned, &kinesis_failure(0, 9)).await.unwrap());
    let mut expected = returned.to_wire().unwrap();
    // Duration differs run to run; nothing else may.
    expected.hydration.duration_ms = joined[0].hydration.duration_ms;
    assert!(joined[0].same_as(&expected));
}

#[tokio::test]
async fn a_permanent_queue_error_is_not_retried_and_fails_the_invocation() {
    let aws = FakeAws::default();
    aws.queue_call_failures
        .lock()
        .unwrap()
        .push_back(CallFailure {
            class: ErrorClass::Permanent,
            code: Some("AccessDenied".into()),
            message: "not allowed".into(),
        });
    let hydrator = Hydrator::with_aws(aws, to_dlq(settings()));
    let error = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap_err();
    assert_eq!(error.class(), "Delivery.Send");
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_throttled_queue_call_is_retried_until_it_is_taken() {
    let aws = FakeAws::default();
    for _ in 0..2 {
        aws.queue_call_failures
            .lock()
            .unwrap()
            .push_back(CallFailure {
                class: ErrorClass::Throttled,
                code: Some("RequestThrottled".into()),
                message: "slow down".into(),
            });
    }
    let hydrator = Hydrator::with_aws(aws, to_dlq(settings()));
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    assert_eq!(report.delivered.len(), 1);
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_sqs_batch_names_only_the_messages_that_failed() {
    // The second failure's parts are refused for good.
    let aws = FakeAws {
        queue_rule: |entry, _| {
            let start = entry
                .message_attributes
                .as_ref()?
                .get("startSequenceNumber")?;
            (start.string_value.as_deref() == Some(seq(5).as_str())).then_some("AccessDenied")
        },
        ..FakeAws::default()
    };
    let hydrator = Hydrator::with_aws(aws, to_dlq(settings()));
    let payload = sqs(&[
        ("m-good", kinesis_failure(0, 2)),
        ("m-refused", kinesis_failure(5, 6)),
        ("m-malformed", json!({"KinesisBatchInfo": {"shardId": 7}})),
    ]);
    let Response::Batch(batch) = handle(&hydrator, &payload).await.unwrap() else {
        panic!("expected a batch response")
    };
    let failed: Vec<&str> = batch
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-refused", "m-malformed"]);
    // The refused part was sent once: a permanent error is not retried.
    let sends = hydrator.aws.queue_calls.lock().unwrap().len();
    assert_eq!(sends, 2);
}

#[tokio::test]
async fn the_archive_retries_throttled_records_and_reports_refused_ones() {
    let aws = FakeAws {
        archive_rule: |call| (call == 1).then_some("ServiceUnavailableException"),
        ..FakeAws::default()
    };
    let mut settings = to_dlq(settings());
    settings.archive_firehose_stream = Some("orders-archive".into());
    let hydrator = Hydrator::with_aws(aws, settings.clone());
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    let archived = report.delivered[0].archived.clone().unwrap();
    assert_eq!((archived.failed, archived.calls), (0, 2));

    let aws = FakeAws {
        archive_rule: |_| Some("AccessDeniedException"),
        ..FakeAws::default()
    };
    let hydrator = Hydrator::with_aws(aws, settings);
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    // The queue's delivery stands; the archive says what it could not take.
    let archived = report.delivered[0].archived.clone().unwrap();
    assert_eq!((archived.failed, archived.calls), (1, 1));
    assert_eq!(report.delivered[0].message_ids.len(), 1);
}

fn s3_event(key: &str) -> Value {
    json!({"Records": [{"eventSource": "aws:s3", "awsRegion": "us-east-2",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "failures"}, "object": {"key": key, "size": 10}}}]})
}

#[tokio::test]
async fn an_s3_object_with_a_payload_needs_no_stream_read() {
    let mut aws = FakeAws::default();
    let delivered: Vec<Value> = (2..=4)
        .map(|n| json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": seq(n), "data": base64(n)}}))
        .collect();
    let mut object = kinesis_failure(2, 4);
    object["payload"] = json!({ "Records": delivered });
    aws.objects.insert(
        "failures/saved.json".into(),
        object.to_string().into_bytes(),
    );
    let hydrator = Hydrator::with_aws(aws, settings());
    let document = one(handle(&hydrator, &s3_event("saved.json")).await.unwrap());
    assert_eq!(document.hydration.status, Status::Complete);
    assert_eq!(
        record_data(&document),
        (2..=4).map(base64).collect::<Vec<_>>()
    );
    assert!(hydrator.aws.stream_calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_s3_object_over_the_bound_is_refused() {
    let mut aws = FakeAws::default();
    aws.objects
        .insert("failures/big.json".into(), vec![b' '; 8 * 1_024]);
    let mut small = settings();
    small.s3_object_max_bytes = 4 * 1_024;
    // Declared too large: refused before the body is read.
    aws.declared_size = |_| Some(1 << 30);
    let hydrator = Hydrator::with_aws(aws, small.clone());
    let error = handle(&hydrator, &s3_event("big.json")).await.unwrap_err();
    assert_eq!(error.class(), "Input.ObjectTooLarge");
    assert_eq!(hydrator.aws.chunks_read.load(Relaxed), 0);

    // Declared nothing: cut off as the body runs past the bound.
    let mut aws = FakeAws::default();
    aws.objects
        .insert("failures/big.json".into(), vec![b' '; 8 * 1_024]);
    aws.declared_size = |_| None;
    let hydrator = Hydrator::with_aws(aws, small);
    let error = handle(&hydrator, &s3_event("big.json")).await.unwrap_err();
    assert_eq!(error.class(), "Input.ObjectTooLarge");
    // Four chunks of 1 KiB fit the bound; the fifth does not, and is the last read.
    assert_eq!(hydrator.aws.chunks_read.load(Relaxed), 5);
}

#[tokio::test]
async fn a_returned_document_too_large_for_the_destination_is_an_error() {
    let mut small = settings();
    small.response_max_bytes = 3_000;
    let hydrator = Hydrator::with_aws(FakeAws::default(), small);
    let error = handle(&hydrator, &kinesis_failure(0, 9)).await.unwrap_err();
    assert_eq!(error.class(), "Response.TooLarge");
}
