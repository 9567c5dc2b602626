//! `hydrator redrive` when Kinesis rejects part of a `PutRecords` call:
//! only the rejected entries are sent again, each partition key's records
//! land in their order, and the report says what was written and what was
//! not. Faults are injected by a proxy in front of kinesis-mock, which does
//! the writing.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrator_tests::cli::{hydrator, CliRun};
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint};
use hydrator_tests::fault_proxy::{Action, FaultProxy};
use hydrator_tests::redrive::{
    check_once_and_count_out_of_order, flaky_put_records, read_all, save_event, Sent,
};
use hydrator_tests::stream::{TestStream, Written};
use hydrator_tests::work_dir::temp_dir;
use serde_json::{json, Value};

/// A saved `{"Records": [...]}` event holding `records`, a file removed when
/// dropped.
fn saved_event(stream: &TestStream, records: &[Written]) -> tempfile::TempPath {
    let path = tempfile::Builder::new()
        .prefix("hydrator-redrive-")
        .suffix(".event.json")
        .tempfile()
        .expect("create file")
        .into_temp_path();
    save_event(&path, &stream.arn, records);
    path
}

async fn records_after(stream: &TestStream, sequence_number: &str) -> Vec<(String, Vec<u8>)> {
    stream
        .read(0, Some(sequence_number))
        .await
        .into_iter()
        .map(|r| (r.partition_key, r.data))
        .collect()
}

/// `hydrator redrive` through `proxy`; also returns how many entries each
/// `PutRecords` call carried.
async fn redrive(
    proxy: &FaultProxy,
    global: &[&str],
    file: &std::path::Path,
    stream: &str,
    extra: &[&str],
) -> (CliRun, Vec<usize>) {
    let command = ["redrive", file.to_str().unwrap(), "--to-stream", stream];
    let args = [global, &command[..], extra].concat();
    let run = hydrator(&args, &[("AWS_ENDPOINT_URL_KINESIS", proxy.url())]).await;
    let sent = proxy
        .calls_to("PutRecords")
        .iter()
        .map(|c| c.entries())
        .collect();
    (run, sent)
}

#[tokio::test]
async fn rejected_entries_alone_are_sent_again_until_written() {
    let stream = TestStream::create(&kinesis_client(), "redrive", 1).await;
    let original = stream
        .write(
            0,
            &(0..5)
                .map(|i| vec![i as u8, 0xFF, b'x'])
                .collect::<Vec<_>>(),
        )
        .await;
    let file = saved_event(&stream, &original);
    // The first call loses entries 1 and 3 to throttling; later calls pass.
    let proxy = FaultProxy::start(
        &kinesis_endpoint(),
        Box::new(|call, _| match (call.operation(), call.entries()) {
            ("PutRecords", 5) => Action::FailEntries(vec![1, 3]),
            _ => Action::Forward,
        }),
    )
    .await;

    let (run, sent) = redrive(&proxy, &["--output", "json"], &file, &stream.arn, &[]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        sent,
        [5, 2],
        "the retry carried only the two rejected entries"
    );
    let report = run.report();
    assert_eq!(
        (report["written"].clone(), report["notWritten"].clone()),
        (json!(5), json!(0))
    );
    let attempts: Vec<u64> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 1, 2, 1]);

    // Every record is on the stream once: the three first, then the two
    // retried (each has a partition key of its own, so none waited).
    let back = records_after(&stream, &original[4].sequence_number).await;
    let expected: Vec<(String, Vec<u8>)> = [0, 2, 4, 1, 3]
        .iter()
        .map(|&i| (original[i].partition_key.clone(), original[i].data.clone()))
        .collect();
    assert_eq!(back, expected);
}

#[tokio::test]
async fn an_entry_rejected_every_time_is_reported_and_the_exit_status_says_so() {
    let stream = TestStream::create(&kinesis_client(), "redrive", 1).await;
    let original = stream
        .write(0, &[b"a".to_vec(), b"b".to_vec(), b"c".to_vec()])
        .await;
    let file = saved_event(&stream, &original);
    // Entry "b" is throttled on every call that carries it.
    let proxy = FaultProxy::start(
        &kinesis_endpoint(),
        Box::new(|call, _| {
            let records = call.body["Records"].as_array().cloned().unwrap_or_default();
            let b = STANDARD.encode("b");
            match records.iter().position(|r| r["Data"] == b.as_str()) {
                Some(at) if call.operation() == "PutRecords" => Action::FailEntries(vec![at]),
                _ => Action::Forward,
            }
        }),
    )
    .await;

    let (run, sent) = redrive(
        &proxy,
        &["--output", "json"],
        &file,
        &stream.arn,
        &["--max-attempts", "3"],
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(sent, [3, 1, 1]);
    let report = run.report();
    assert_eq!(
        (report["written"].clone(), report["notWritten"].clone()),
        (json!(2), json!(1))
    );
    let not_written: Vec<&Value> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("sequenceNumber").is_none())
        .collect();
    assert_eq!(not_written.len(), 1);
    assert_eq!(
        not_written[0]["originalSequenceNumber"],
        original[1].sequence_number.as_str()
    );
    assert_eq!(
        not_written[0]["errorCode"],
        "ProvisionedThroughputExceededException"
    );
    assert_eq!(not_written[0]["attempts"], 3);

    // The same failure in a person's terms.
    let (human, _) = redrive(&proxy, &[], &file, &stream.name, &["--max-attempts", "2"]).await;
    assert_eq!(human.code, Some(2));
    assert!(
        human.stdout.contains("2 of 3 record(s) written"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("ProvisionedThroughputExceededException"),
        "{}",
        human.stdout
    );
}

#[tokio::test]
async fn a_stream_arn_is_written_by_arn_and_a_bare_name_by_name() {
    let stream = TestStream::create(&kinesis_client(), "redrive", 1).await;
    let original = stream.write(0, &[b"one".to_vec(), b"two".to_vec()]).await;
    let file = saved_event(&stream, &original);
    let proxy = FaultProxy::start(&kinesis_endpoint(), Box::new(|_, _| Action::Forward)).await;

    let (run, _) = redrive(&proxy, &["--output", "json"], &file, &stream.arn, &[]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.report()["streamArn"], stream.arn.as_str());
    let (by_name, _) = redrive(&proxy, &["--output", "json"], &file, &stream.name, &[]).await;
    assert_eq!(by_name.code, Some(0), "{by_name:?}");

    let calls = proxy.calls_to("PutRecords");
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].body["StreamARN"],
        stream.arn.as_str(),
        "{:?}",
        calls[0].body
    );
    assert!(
        calls[0].body.get("StreamName").is_none(),
        "{:?}",
        calls[0].body
    );
    assert_eq!(
        calls[1].body["StreamName"],
        stream.name.as_str(),
        "{:?}",
        calls[1].body
    );
    assert!(
        calls[1].body.get("StreamARN").is_none(),
        "{:?}",
        calls[1].body
    );
    let back = records_after(&stream, &original[1].sequence_number).await;
    assert_eq!(back.len(), 4, "both runs wrote both records");
}

#[tokio::test]
async fn an_arn_in_another_account_is_not_written_to_the_callers_stream_of_that_name() {
    let stream = TestStream::create(&kinesis_client(), "redrive", 1).await;
    let original = stream.write(0, &[b"one".to_vec()]).await;
    let file = saved_event(&stream, &original);
    let proxy = FaultProxy::start(&kinesis_endpoint(), Box::new(|_, _| Action::Forward)).await;
    // Same region and name, another account.
    let mut parts: Vec<&str> = stream.arn.splitn(6, ':').collect();
    let other_account = if parts[4] == "111111111111" {
        "222222222222"
    } else {
        "111111111111"
    };
    parts[4] = other_account;
    let elsewhere = parts.join(":");

    let (run, _) = redrive(
        &proxy,
        &["--output", "json"],
        &file,
        &elsewhere,
        &["--max-attempts", "1"],
    )
    .await;
    let calls = proxy.calls_to("PutRecords");
    assert_eq!(
        calls[0].body["StreamARN"],
        elsewhere.as_str(),
        "{:?}",
        calls[0].body
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.report()["notWritten"], 1);
    assert!(
        records_after(&stream, &original[0].sequence_number)
            .await
            .is_empty(),
        "nothing landed in the caller's stream of the same name"
    );
}

#[tokio::test]
async fn a_report_of_records_not_written_does_not_quote_them() {
    let stream = TestStream::create(&kinesis_client(), "redrive", 1).await;
    let mut original = stream
        .write(0, &[b"card 4111 1111 1111 1111".to_vec()])
        .await;
    let key = "customer-42@example.com".to_owned();
    original[0].partition_key = key.clone();
    let file = saved_event(&stream, &original);
    // Every call refused, the way a validation error quotes what it refused.
    let message = format!("1 validation error detected: Value '{key}' at 'records.1.member.partitionKey' failed to satisfy constraint");
    let proxy = FaultProxy::start(
        &kinesis_endpoint(),
        Box::new(move |_, _| {
            hydrator_tests::fault_proxy::service_error(400, "ValidationException", &message)
        }),
    )
    .await;

    for global in [&["--output", "json"][..], &[]] {
        let (run, _) = redrive(&proxy, global, &file, &stream.arn, &["--max-attempts", "1"]).await;
        assert_eq!(run.code, Some(2), "{run:?}");
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(shown.contains("ValidationException"), "{shown}");
        assert!(!shown.contains(&key) && !shown.contains("4111"), "{shown}");
        assert!(
            !shown.contains(&STANDARD.encode(&original[0].data)),
            "{shown}"
        );
    }
}

/// Records of `files` saved events, `per_file` each, over `keys` partition
/// keys; each record's data is unique, and half of them are not UTF-8.
fn keyed_records(files: usize, per_file: usize, keys: usize) -> Vec<Vec<Written>> {
    let mut rng = fastrand::Rng::with_seed(18);
    (0..files)
        .map(|file| {
            (0..per_file)
                .map(|i| {
                    let mut data = format!("{{\"file\":{file},\"record\":{i}}}").into_bytes();
                    if i % 2 == 1 {
                        data.extend([0xFF, 0x00, rng.u8(..)]);
                    }
                    Written {
                        shard_id: "shardId-000000000000".into(),
                        // Only named in reports: any decimal string will do.
                        sequence_number: format!("4968{file:04}{i:08}"),
                        partition_key: format!("customer-{}", rng.usize(..keys)),
                        data,
                    }
                })
                .collect()
        })
        .collect()
}

/// One redrive of `dir` into a new two-shard stream through a proxy that
/// rejects about 30% of the entries twice each: the report, the records
/// that landed, and how long the command took.
async fn flaky_redrive(dir: &std::path::Path, extra: &[&str]) -> (Value, Vec<Written>, f64) {
    let target = TestStream::create(&kinesis_client(), "redrive-order", 2).await;
    let (rule, rejected) = flaky_put_records(30, 2);
    let proxy = FaultProxy::start(&kinesis_endpoint(), rule).await;
    let started = std::time::Instant::now();
    let (run, sent) = redrive(&proxy, &["--output", "json"], dir, &target.arn, extra).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(run.code, Some(0), "{run:?}");
    let report = run.report();
    assert_eq!(
        report["calls"].as_u64(),
        Some(sent.len() as u64),
        "the report counts the calls made"
    );
    assert!(*rejected.lock().unwrap() > 0, "the proxy rejected nothing");
    (report, read_all(&target).await, seconds)
}

#[tokio::test]
async fn records_that_share_a_partition_key_land_in_their_order_under_partial_failures() {
    // Three saved failures, 400 records each, over 40 customers.
    let files = keyed_records(3, 400, 40);
    let temp = temp_dir("redrive-order");
    let dir = temp.path();
    for (i, records) in files.iter().enumerate() {
        save_event(
            &dir.join(format!("failure-{i}.event.json")),
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
            records,
        );
    }
    let sent: Vec<Sent> = files
        .iter()
        .flatten()
        .map(|w| (w.partition_key.clone(), w.data.clone()))
        .collect();

    let (ordered, landed, ordered_seconds) = flaky_redrive(dir, &[]).await;
    assert_eq!(ordered["written"], 1200);
    assert_eq!(ordered["orderedByPartitionKey"], true);
    let late = check_once_and_count_out_of_order(&sent, &landed);
    assert_eq!(
        late, 0,
        "records landed after a later record of their partition key"
    );

    // The same faults with the order not kept: every record still lands
    // once, but retried ones land after later records of their key.
    let (unordered, landed, unordered_seconds) = flaky_redrive(dir, &["--unordered"]).await;
    assert_eq!(unordered["written"], 1200);
    let unordered_late = check_once_and_count_out_of_order(&sent, &landed);
    assert!(
        unordered_late > 0,
        "the faults did not reorder anything: the check above proves nothing"
    );

    let retried = |report: &Value| {
        report["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["attempts"].as_u64() > Some(1))
            .count()
    };
    println!(
        "1200 records, 40 partition keys, ~30% of entries rejected twice each:\n  \
         ordered:   {} calls, {:.2} s, {} records retried, 0 out of order\n  \
         unordered: {} calls, {:.2} s, {} records retried, {unordered_late} out of order",
        ordered["calls"],
        ordered_seconds,
        retried(&ordered),
        unordered["calls"],
        unordered_seconds,
        retried(&unordered),
    );
}
