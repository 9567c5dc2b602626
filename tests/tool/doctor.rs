//! `hydrator doctor` against moto (Lambda event source mappings, IAM,
//! Kinesis, DynamoDB Streams, SNS, SQS): a consumer wired right has no
//! finding and exits 0; one wired wrong has each of its faults named with
//! its fix, and exits 2. `tests/doctor/wire.py` wires both with boto3.

use std::process::Command;

use hydrator_tests::cli::hydrator;
use hydrator_tests::emulator::moto_endpoint;
use serde_json::Value;

/// Both consumers, wired in moto under a suffix of their own.
fn wire() -> Value {
    let root = hydrator_tests::workspace_root();
    let suffix = format!("{}-{}", std::process::id(), fastrand::u32(..));
    let output = Command::new(root.join(".tools/venv/bin/python"))
        .arg(root.join("tests/doctor/wire.py"))
        .arg(moto_endpoint())
        .arg(&suffix)
        .output()
        .expect("run tests/doctor/wire.py (boto3 comes with moto in .tools/venv)");
    assert!(
        output.status.success(),
        "wire.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("wire.py prints JSON")
}

async fn doctor(wired: &Value, consumer: &[&str]) -> hydrator_tests::cli::CliRun {
    let mut args = vec!["doctor"];
    args.extend_from_slice(consumer);
    let topic = wired["topic"].as_str().unwrap();
    let role = wired["hydrator_role"].as_str().unwrap();
    args.extend_from_slice(&[
        "--topic-arn",
        topic,
        "--hydrator-role-arn",
        role,
        "--output",
        "json",
    ]);
    // The streams live in moto here, so that its mappings can name them.
    hydrator(&args, &[("AWS_ENDPOINT_URL_KINESIS", moto_endpoint())]).await
}

fn checks(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_consumer_wired_right_has_no_finding() {
    let wired = wire();
    let run = doctor(
        &wired,
        &["--function", wired["right_function"].as_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let report = run.report();
    // Both mappings, the Kinesis stream's and the table stream's.
    assert_eq!(report["mappings_checked"], 2);
    assert_eq!(checks(&report), Vec::<String>::new());
}

#[tokio::test]
async fn a_consumer_wired_wrong_has_each_fault_named_with_its_fix() {
    let wired = wire();
    let run = doctor(
        &wired,
        &["--function", wired["wrong_function"].as_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["mappings_checked"], 1);
    assert_eq!(
        checks(&report),
        [
            "on_failure_destination",
            "infinite_retries",
            "no_bisection",
            "retention_margin",
            "consumer_cannot_publish",
            "stream_not_readable"
        ]
    );
    let uuid = wired["wrong_mapping"].as_str().unwrap();
    for finding in report["findings"].as_array().unwrap() {
        assert_eq!(finding["mapping"], uuid);
        assert!(!finding["fix"].as_str().unwrap().is_empty());
    }
    let findings = report["findings"].as_array().unwrap();
    assert!(findings[0]["fix"]
        .as_str()
        .unwrap()
        .contains(wired["topic"].as_str().unwrap()));
    // The topic's key, read from the topic, is what the role lacks too.
    assert!(findings[4]["problem"]
        .as_str()
        .unwrap()
        .contains(wired["key"].as_str().unwrap()));

    // The same mapping by its UUID, in the human form: one finding a line.
    let topic = wired["topic"].as_str().unwrap();
    let role = wired["hydrator_role"].as_str().unwrap();
    let run = hydrator(
        &[
            "doctor",
            "--mapping",
            uuid,
            "--topic-arn",
            topic,
            "--hydrator-role-arn",
            role,
        ],
        &[("AWS_ENDPOINT_URL_KINESIS", moto_endpoint())],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}", run.stdout);
    assert!(lines[..6]
        .iter()
        .all(|line| line.starts_with(uuid) && line.contains(". Fix: ")));
    assert_eq!(lines[6], "1 mapping(s) checked, 6 finding(s)");
}
