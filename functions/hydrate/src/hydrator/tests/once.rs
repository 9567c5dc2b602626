//! The idempotency table: a failure delivered twice is sent once, a race is
//! won once, a crashed mark is taken over, a failed delivery releases its mark.

use super::*;

fn with_ledger(mut settings: Settings) -> Settings {
    settings.idempotency_table = Some("hydrator-ledger".into());
    settings
}

/// The idempotency table's id of the failure in an SQS message.
fn ledger_id(message: &Value) -> String {
    let payload = sqs(&[("m", message.clone())]);
    let batch = crate::input::trigger::parse(payload.to_string().as_bytes()).unwrap();
    let crate::input::trigger::Invocation::Queue(messages) = batch else {
        panic!("an SQS event")
    };
    crate::document::parts::group_id(messages[0].content.as_ref().unwrap().batch().unwrap())
}

fn refused_for_good() -> CallFailure {
    CallFailure {
        class: ErrorClass::Permanent,
        code: Some("AccessDenied".into()),
        message: "not allowed".into(),
    }
}

#[tokio::test]
async fn with_the_table_a_failure_delivered_twice_is_sent_once_and_acknowledged_twice() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sqs(&[
        ("m-1", kinesis_failure(0, 4)),
        ("m-2", kinesis_failure(5, 9)),
    ]);
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    let reads = hydrator.aws.stream_calls.lock().unwrap().len();
    // SNS or Lambda delivered both again.
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(
        hydrator.aws.queue_calls.lock().unwrap().len(),
        2,
        "each failure sent once"
    );
    assert_eq!(
        hydrator.aws.stream_calls.lock().unwrap().len(),
        reads,
        "and not read again"
    );
}

#[tokio::test]
async fn without_the_table_a_failure_delivered_twice_is_sent_twice() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), to_dlq(settings()));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    handle(&hydrator, &payload).await.unwrap();
    handle(&hydrator, &payload).await.unwrap();
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn two_invocations_racing_on_one_failure_send_it_once_and_the_loser_is_retried() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    let (first, second) = tokio::join!(handle(&hydrator, &payload), handle(&hydrator, &payload));
    let mut failed = failed_ids(first.unwrap());
    failed.extend(failed_ids(second.unwrap()));
    assert_eq!(failed, ["m-1"], "one of the two is told to retry");
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
    // SQS retries the loser's message: now it is acknowledged, unsent.
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failure_left_in_progress_by_a_crash_is_taken_over_once_it_expires() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    let id = ledger_id(&kinesis_failure(0, 4));
    hydrator
        .aws
        .ledger
        .lock()
        .unwrap()
        .insert(id.clone(), (LedgerState::InProgress, u64::MAX));
    assert_eq!(
        failed_ids(handle(&hydrator, &payload).await.unwrap()),
        ["m-1"]
    );
    hydrator
        .aws
        .ledger
        .lock()
        .unwrap()
        .insert(id.clone(), (LedgerState::InProgress, 1));
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap()[&id].0,
        LedgerState::Delivered
    );
}

#[tokio::test]
async fn with_the_table_an_sns_failure_delivered_again_is_acknowledged_unsent() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sns(&[kinesis_failure(0, 4)]);
    let Response::Delivered(first) = handle(&hydrator, &payload).await.unwrap() else {
        panic!("a delivery report")
    };
    assert_eq!(first.delivered.len(), 1);
    let Response::Delivered(again) = handle(&hydrator, &payload).await.unwrap() else {
        panic!("a delivery report")
    };
    assert!(again.delivered.is_empty(), "nothing sent the second time");
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
}

/// One SQS message of a failure whose delivery fails with the table on:
/// the hydrator, the payload to retry with, and the failure's ledger id.
async fn one_failed_sqs_delivery(aws: FakeAws) -> (Hydrator<FakeAws>, Value, String) {
    let hydrator = Hydrator::with_aws(aws, with_ledger(to_dlq(settings())));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    let id = ledger_id(&kinesis_failure(0, 4));
    assert_eq!(
        failed_ids(handle(&hydrator, &payload).await.unwrap()),
        ["m-1"]
    );
    (hydrator, payload, id)
}

#[tokio::test]
async fn a_failed_delivery_releases_its_mark_and_the_retry_goes_ahead_at_once() {
    let aws = FakeAws::default();
    aws.queue_call_failures
        .lock()
        .unwrap()
        .push_back(refused_for_good());
    let (hydrator, payload, id) = one_failed_sqs_delivery(aws).await;
    assert!(
        !hydrator.aws.ledger.lock().unwrap().contains_key(&id),
        "the mark is released"
    );
    let reads = hydrator.aws.stream_calls.lock().unwrap().len();
    // SQS retries the message: read and sent, not told to wait.
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert!(hydrator.aws.stream_calls.lock().unwrap().len() > reads);
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 2);
    assert_eq!(delivered(&hydrator.aws).len(), 1);
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap()[&id].0,
        LedgerState::Delivered
    );
}

#[tokio::test]
async fn a_failed_delivery_leaves_a_mark_another_invocation_took_over() {
    let aws = FakeAws {
        // While this one sends, its mark expires and another invocation
        // takes the failure over, with a later expiry; then the send fails.
        on_send: |aws| {
            for mark in aws.ledger.lock().unwrap().values_mut() {
                *mark = (LedgerState::InProgress, u64::MAX);
            }
            aws.queue_call_failures
                .lock()
                .unwrap()
                .push_back(refused_for_good());
        },
        ..FakeAws::default()
    };
    let (hydrator, _, id) = one_failed_sqs_delivery(aws).await;
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap().get(&id),
        Some(&(LedgerState::InProgress, u64::MAX)),
        "the new owner's mark stays"
    );
}

#[tokio::test]
async fn a_release_that_fails_keeps_the_delivery_error() {
    let aws = FakeAws {
        refuse_release: true,
        ..FakeAws::default()
    };
    aws.queue_call_failures
        .lock()
        .unwrap()
        .push_back(refused_for_good());
    let hydrator = Hydrator::with_aws(aws, with_ledger(to_dlq(settings())));
    let error = handle(&hydrator, &sns(&[kinesis_failure(0, 4)]))
        .await
        .unwrap_err();
    assert_eq!(error.class(), "Delivery.Send");
    let id = ledger_id(&kinesis_failure(0, 4));
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap()[&id].0,
        LedgerState::InProgress,
        "left to expire"
    );
}
