//! KPL aggregated records, end to end: user records aggregated by the real
//! aggregator (aws-kinesis-agg, Python) and written into kinesis-mock; a
//! consumer that de-aggregates them with the same library fails on one user
//! record; the on-failure record is hydrated by `hydrator hydrate`;
//! `hydrator show` names that user record with its partition key; and
//! `hydrator redrive --deaggregate` through a fault proxy gives back every
//! user record, byte-exact, each key's records in order.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hydrator_tests::cli::hydrator;
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint};
use hydrator_tests::failure::kinesis_failure;
use hydrator_tests::fault_proxy::FaultProxy;
use hydrator_tests::redrive::{
    check_once_and_count_out_of_order, flaky_put_records, read_all, save_event, Sent,
};
use hydrator_tests::stream::{TestStream, Written};
use hydrator_tests::work_dir::temp_dir;
use hydrator_tests::workspace_root;
use serde_json::{json, Value};

/// The user record the consumer cannot take: group 1, place 37.
const POISON: (usize, usize) = (1, 37);

/// Runs one of tests/kpl/*.py with the clients' Python; its output and exit code.
fn python(script: &str, input: &Value) -> (String, Option<i32>) {
    let temp = temp_dir("kpl-py");
    let dir = temp.path();
    let file = dir.join("input.json");
    std::fs::write(&file, input.to_string()).unwrap();
    let root = workspace_root();
    let output = std::process::Command::new(root.join(".tools/clients/bin/python"))
        .arg(root.join("tests/kpl").join(script))
        .arg(&file)
        .output()
        .expect("the clients' Python (scripts/tools.sh installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.trim().is_empty(), "{script}: {stderr}");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code(),
    )
}

/// Three groups of user records, 60, 80 and 60, over nine customers, all
/// JSON but the poison.
fn user_records() -> Vec<Vec<Sent>> {
    [60, 80, 60]
        .iter()
        .enumerate()
        .map(|(group, &count)| {
            (0..count)
                .map(|i| {
                    let key = format!("customer-{}", (group * 7 + i) % 9);
                    let data = if (group, i) == POISON {
                        format!("not json: {{\"order\": {group}{i:03}").into_bytes()
                    } else {
                        json!({"order": group * 1000 + i, "customer": key})
                            .to_string()
                            .into_bytes()
                    };
                    (key, data)
                })
                .collect()
        })
        .collect()
}

/// Each group as one aggregated record, by aws-kinesis-agg: (partition key,
/// explicit hash key, data). The first group's user records carry `hash_key`.
fn aggregated(groups: &[Vec<Sent>], hash_key: &str) -> Vec<(String, Option<String>, Vec<u8>)> {
    let input: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(group, records)| {
            let ehk = (group == 0).then_some(hash_key);
            Value::Array(
                records
                    .iter()
                    .map(|(pk, data)| json!({"pk": pk, "ehk": ehk, "data": STANDARD.encode(data)}))
                    .collect(),
            )
        })
        .collect();
    let (out, code) = python("aggregate.py", &Value::Array(input));
    assert_eq!(code, Some(0), "{out}");
    let records: Vec<Value> = serde_json::from_str(&out).expect("the aggregator's JSON");
    records
        .iter()
        .map(|r| {
            (
                r["pk"].as_str().unwrap().to_owned(),
                r["ehk"].as_str().map(str::to_owned),
                STANDARD.decode(r["data"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// Writes `records` to `stream` in one call, in order; what the stream answered.
async fn put(stream: &TestStream, records: &[(String, Option<String>, Vec<u8>)]) -> Vec<Written> {
    let entries: Vec<PutRecordsRequestEntry> = records
        .iter()
        .map(|(pk, ehk, data)| {
            PutRecordsRequestEntry::builder()
                .partition_key(pk)
                .set_explicit_hash_key(ehk.clone())
                .data(Blob::new(data.clone()))
                .build()
                .unwrap()
        })
        .collect();
    let out = stream
        .client
        .put_records()
        .stream_arn(&stream.arn)
        .set_records(Some(entries))
        .send()
        .await
        .expect("PutRecords");
    assert_eq!(out.failed_record_count, Some(0));
    records
        .iter()
        .zip(out.records)
        .map(|((pk, _, data), r)| Written {
            shard_id: r.shard_id.unwrap(),
            sequence_number: r.sequence_number.unwrap(),
            partition_key: pk.clone(),
            data: data.clone(),
        })
        .collect()
}

/// `hydrator --output json redrive DOCUMENT --to-stream STREAM EXTRA...`
/// through the Kinesis endpoint `via`; its report, once it wrote everything.
async fn redrive(document: &std::path::Path, to: &TestStream, extra: &[&str], via: &str) -> Value {
    let command = [
        "--output",
        "json",
        "redrive",
        document.to_str().unwrap(),
        "--to-stream",
        &to.arn,
    ];
    let run = hydrator(
        &[&command[..], extra].concat(),
        &[("AWS_ENDPOINT_URL_KINESIS", via.to_owned())],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    run.report()
}

#[tokio::test]
async fn a_user_record_inside_a_kpl_aggregate_is_named_and_redriven_one_by_one() {
    let source = TestStream::create(&kinesis_client(), "kpl-source", 1).await;
    let target = TestStream::create(&kinesis_client(), "kpl-target", 2).await;
    // The first group goes to the target's second shard by its hash key.
    let hash_key = target.shards[1].1.clone();
    let groups = user_records();
    let aggregates = aggregated(&groups, &hash_key);
    assert!(aggregates
        .iter()
        .all(|(_, _, d)| d.starts_with(&hydrator_cli::kpl::MAGIC)));

    // A batch of six: a plain record, the three aggregates, a record that
    // claims the KPL magic but is not one, and another plain record.
    let mut corrupt = hydrator_cli::kpl::MAGIC.to_vec();
    corrupt.extend([0x0A, 0x02, b'p', b'k']);
    corrupt.extend([0u8; 16]);
    let plain = |text: &str| {
        (
            format!("plain-{text}"),
            None,
            json!({"plain": text}).to_string().into_bytes(),
        )
    };
    let mut batch = vec![plain("before")];
    batch.extend(aggregates.iter().cloned());
    batch.push(("corrupt".to_owned(), None, corrupt.clone()));
    batch.push(plain("after"));
    let written = put(&source, &batch).await;

    // The consumer de-aggregates the batch and fails on the poison.
    let temp = temp_dir("kpl");
    let dir = temp.path();
    let event = dir.join("batch.event.json");
    save_event(&event, &source.arn, &written);
    let (said, code) = python(
        "consumer.py",
        &serde_json::from_slice(&std::fs::read(&event).unwrap()).unwrap(),
    );
    assert_eq!(code, Some(1), "the consumer took every record: {said}");
    let failed_on: Value = serde_json::from_str(&said).unwrap();
    let poison_key = &groups[POISON.0][POISON.1].0;
    assert_eq!(failed_on["partitionKey"], poison_key.as_str());
    assert_eq!(failed_on["subSequenceNumber"], POISON.1);
    assert_eq!(
        failed_on["sequenceNumber"],
        written[1 + POISON.0].sequence_number.as_str()
    );

    // Its on-failure record, hydrated by the tool.
    let failure = dir.join("on-failure.json");
    std::fs::write(
        &failure,
        kinesis_failure(&source.arn, &written[0], &written[5], 6).to_string(),
    )
    .unwrap();
    let document = dir.join("document.json");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let run = hydrator(
        &["hydrate", &path(&failure), "--out", &path(&document)],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("3 KPL aggregate(s) holding 200 user record(s), 1 record(s) with the KPL magic that fail the check"),
        "{}",
        run.stderr
    );

    // `show` names the user record the consumer failed on.
    let shown = hydrator(&["--output", "json", "show", &path(&document)], &[]).await;
    assert_eq!(shown.code, Some(0), "{shown:?}");
    let shown = shown.report();
    assert_eq!(
        shown["kpl"],
        json!({"aggregates": 3, "userRecords": 200, "invalidAggregates": 1})
    );
    let records = shown["records"].as_array().unwrap();
    let not_json: Vec<(u64, &Value)> = records
        .iter()
        .filter_map(|r| Some((r["index"].as_u64()?, r["userRecords"].as_array()?)))
        .flat_map(|(index, users)| users.iter().map(move |u| (index, u)))
        .filter(|(_, u)| u["data"]["format"] != "json")
        .collect();
    assert_eq!(not_json.len(), 1, "{not_json:?}");
    let (index, user) = not_json[0];
    assert_eq!(
        records[index as usize]["sequenceNumber"],
        failed_on["sequenceNumber"]
    );
    assert_eq!(user["index"], failed_on["subSequenceNumber"]);
    assert_eq!(user["partitionKey"], failed_on["partitionKey"]);
    assert_eq!(user["data"]["format"], "text");
    assert_eq!(
        records[1]["userRecords"][0]["explicitHashKey"],
        hash_key.as_str()
    );
    assert_eq!(records[4]["kpl"], "invalid aggregate");
    assert_eq!(records[4]["data"]["format"], "binary");
    assert_eq!(records[0]["data"]["value"], json!({"plain": "before"}));

    let human = hydrator(&["show", &path(&document)], &[]).await;
    let poison = format!("user record {}  partition key \"{poison_key}\"", POISON.1);
    for needle in [
        poison.as_str(),
        "    text, 24 byte(s):\n      not json: {\"order\": 1037\n",
        "starts with the KPL magic but is not an aggregate (the MD5 digest does not match the protobuf message): shown as raw data",
    ] {
        assert!(human.stdout.contains(needle), "{needle} in:\n{}", human.stdout);
    }

    // Redriven user record by user record through a proxy that rejects
    // about 30% of the entries twice each.
    let (rule, rejected) = flaky_put_records(30, 2);
    let proxy = FaultProxy::start(&kinesis_endpoint(), rule).await;
    let report = redrive(&document, &target, &["--deaggregate"], &proxy.url()).await;
    assert_eq!(report["written"], 203);
    assert!(*rejected.lock().unwrap() > 0);
    let mut expected: Vec<Sent> = vec![(batch[0].0.clone(), batch[0].2.clone())];
    expected.extend(groups.iter().flatten().cloned());
    expected.push(("corrupt".to_owned(), corrupt));
    expected.push((batch[5].0.clone(), batch[5].2.clone()));
    let landed = read_all(&target).await;
    assert_eq!(check_once_and_count_out_of_order(&expected, &landed), 0);
    let first_group: Vec<&Written> = landed
        .iter()
        .filter(|w| groups[0].iter().any(|(_, d)| *d == w.data))
        .collect();
    assert_eq!(first_group.len(), 60);
    assert!(
        first_group.iter().all(|w| w.shard_id == target.shard_id(1)),
        "explicit hash keys kept"
    );
    println!(
        "{} user records redriven one by one, byte-exact, {} entries rejected on the way",
        groups.iter().map(Vec::len).sum::<usize>(),
        rejected.lock().unwrap()
    );

    // Without --deaggregate the aggregates go back as they are.
    let whole = TestStream::create(&kinesis_client(), "kpl-whole", 1).await;
    let report = redrive(&document, &whole, &[], &kinesis_endpoint()).await;
    assert_eq!(report["written"], 6);
    let back: Vec<Sent> = read_all(&whole)
        .await
        .into_iter()
        .map(|w| (w.partition_key, w.data))
        .collect();
    let sent: Vec<Sent> = batch.into_iter().map(|(pk, _, data)| (pk, data)).collect();
    assert_eq!(back, sent);
}
