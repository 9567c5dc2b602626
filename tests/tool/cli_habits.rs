//! The `hydrator` tool's AWS CLI habits against the emulators: a usage error
//! has an exit code of its own, queues are found by name, `--profile` reads
//! the shared config file, `--to-profile` and `--to-region` pick where
//! redrive writes, `--dry-run` on drain, redrive and replay
//! changes nothing, and the filters take only the failures they name (queue depth, stream contents and invocations checked
//! before and after).

use hydrate::{Hydrator, Settings};
use hydrator_tests::cli::hydrator;
use hydrator_tests::emulator::{kinesis_endpoint, moto_endpoint, sdk_config};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::invoke_api::{InvokeApi, CONSUMER};
use hydrator_tests::queue::{create_queue, queue_depth};
use hydrator_tests::redrive::save_event;
use hydrator_tests::runtime_api::workspace_binary;
use hydrator_tests::stream::{unique_suffix, TestStream, Written};
use hydrator_tests::work_dir::temp_dir;

/// A DLQ holding the document of one 5-record failure; its URL and name.
async fn dlq_with_one_failure() -> (String, String, TestStream) {
    let (stream, written) = TestStream::with_orders("habits", 5).await;
    let dlq = create_queue("habits-dlq").await;
    let function = Hydrator::new(
        sdk_config(),
        Settings {
            dlq_queue_url: Some(dlq.clone()),
            ..Settings::default()
        },
    );
    function
        .handle(sns_event(&kinesis_failure(&stream.arn, &written[0], &written[4], 5)).to_string())
        .await
        .expect("delivered");
    assert_eq!(queue_depth(&dlq).await, 1);
    let name = dlq.rsplit('/').next().unwrap().to_owned();
    (dlq, name, stream)
}

#[tokio::test]
async fn a_usage_error_exits_64_and_help_exits_0() {
    let missing = hydrator(&["replay", "failures/"], &[]).await;
    assert_eq!(missing.code, Some(64), "{missing:?}");
    let out_of_range = hydrator(
        &["dlq", "list", "--queue-url", "q", "--wait-seconds", "21"],
        &[],
    )
    .await;
    assert_eq!(out_of_range.code, Some(64), "{out_of_range:?}");
    let help = hydrator(&["--help"], &[]).await;
    assert_eq!(help.code, Some(0), "{help:?}");
    // --help wraps to the terminal: compare words, not lines.
    let words = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("64 when the command line is wrong"),
        "{words}"
    );
}

#[tokio::test]
async fn a_dry_run_drain_by_queue_name_changes_nothing_and_the_real_one_deletes() {
    let (dlq, name, _stream) = dlq_with_one_failure().await;
    let temp = temp_dir("habits-drain");
    let dir = temp.path().join("failures");
    let to = dir.to_str().unwrap();
    let args = [
        "--output", "json", "dlq", "drain", "--queue", &name, "--to", to,
    ];
    let wait = ["--wait-seconds", "1", "--delete"];

    let dry = hydrator(&[&args[..], &wait, &["--dry-run"]].concat(), &[]).await;
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert_eq!(dry.report()["failures"][0]["records"], 5);
    assert_eq!(dry.report()["failures"][0]["deleted"], false);
    assert_eq!(queue_depth(&dlq).await, 1, "nothing deleted, visible again");
    assert!(!dir.exists(), "no file written");

    let real = hydrator(&[&args[..], &wait].concat(), &[]).await;
    assert_eq!(real.code, Some(0), "{real:?}");
    assert_eq!(real.report()["failures"][0]["deleted"], true);
    assert_eq!(queue_depth(&dlq).await, 0);
    assert!(
        dir.read_dir().unwrap().count() >= 2,
        "document and event saved"
    );
}

#[tokio::test]
async fn a_queue_name_that_does_not_exist_is_an_error_not_an_empty_queue() {
    let run = hydrator(
        &[
            "dlq",
            "list",
            "--queue",
            &format!("no-such-queue-{}", unique_suffix()),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("cannot find the queue named"),
        "{run:?}"
    );
}

#[tokio::test]
async fn the_profile_named_on_the_command_line_is_the_one_used() {
    let (dlq, name, _stream) = dlq_with_one_failure().await;
    let temp = temp_dir("habits-profile");
    let dir = temp.path();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile emulators]\nregion = us-east-1\nendpoint_url = {}\n\
             aws_access_key_id = test\naws_secret_access_key = test\n",
            moto_endpoint()
        ),
    )
    .unwrap();
    // Nothing but the profile says where moto is or how to sign.
    let output = tokio::process::Command::new(workspace_binary("hydrator"))
        .args(["--profile", "emulators", "--output", "json", "dlq", "list"])
        .args(["--queue", &name, "--wait-seconds", "1"])
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_KINESIS")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("DLQ_QUEUE_URL")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["failures"][0]["records"], 5, "{report}");
    assert_eq!(queue_depth(&dlq).await, 1);
}

#[tokio::test]
async fn dry_runs_of_redrive_and_replay_write_and_invoke_nothing() {
    let (dlq, _name, stream) = dlq_with_one_failure().await;
    let temp = temp_dir("habits-dry");
    let dir = temp.path();
    let saved = dir.join("failures");
    let drained = hydrator(
        &[
            "dlq",
            "drain",
            "--queue-url",
            &dlq,
            "--to",
            saved.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(drained.code, Some(0), "{drained:?}");
    let before = stream.read(0, None).await.len();

    let redrive = hydrator(
        &["--output", "json", "redrive", saved.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(
        redrive.code,
        Some(64),
        "--to-stream is required: {redrive:?}"
    );
    let redrive = hydrator(
        &[
            "--output",
            "json",
            "redrive",
            saved.to_str().unwrap(),
            "--to-stream",
            &stream.arn,
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(redrive.code, Some(0), "{redrive:?}");
    assert_eq!(redrive.report()["records"], 5);
    assert_eq!(stream.read(0, None).await.len(), before, "nothing written");

    let api = InvokeApi::start(&[], &[], dir).await;
    let target = format!("local:{CONSUMER}");
    let replay = hydrator(
        &[
            "--output",
            "json",
            "replay",
            saved.to_str().unwrap(),
            "--to-function",
            &target,
            "--local-endpoint",
            &api.endpoint,
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(replay.code, Some(0), "{replay:?}");
    assert_eq!(replay.report()["events"][0]["records"], 5);
    assert!(api.requests().is_empty(), "nothing invoked");
    assert_eq!(queue_depth(&dlq).await, 1);
}

#[tokio::test]
async fn filters_take_one_streams_failures_and_leave_the_others_in_the_queue() {
    let dlq = create_queue("habits-filter").await;
    let function = Hydrator::new(
        sdk_config(),
        Settings {
            dlq_queue_url: Some(dlq.clone()),
            ..Settings::default()
        },
    );
    let (kept, kept_written) = TestStream::with_orders("habits-kept", 3).await;
    let (taken, taken_written) = TestStream::with_orders("habits-taken", 4).await;
    for (stream, written) in [(&kept, &kept_written), (&taken, &taken_written)] {
        let last = written.len() - 1;
        let failure = kinesis_failure(&stream.arn, &written[0], &written[last], last + 1);
        function
            .handle(sns_event(&failure).to_string())
            .await
            .expect("delivered");
    }
    assert_eq!(queue_depth(&dlq).await, 2);

    let listed = hydrator(
        &[
            "--output",
            "json",
            "dlq",
            "list",
            "--queue-url",
            &dlq,
            "--wait-seconds",
            "1",
        ],
        &[],
    )
    .await;
    assert_eq!(
        listed.report()["failures"].as_array().map(Vec::len),
        Some(2)
    );
    let listed = hydrator(
        &[
            "--output",
            "json",
            "dlq",
            "list",
            "--queue-url",
            &dlq,
            "--wait-seconds",
            "1",
            "--stream",
            &taken.name,
            "--status",
            "complete",
            "--since",
            "2000-01-01T00:00:00Z",
        ],
        &[],
    )
    .await;
    let failures = listed.report()["failures"].as_array().cloned().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["records"], 4);
    let none = hydrator(
        &[
            "--output",
            "json",
            "dlq",
            "list",
            "--queue-url",
            &dlq,
            "--wait-seconds",
            "1",
            "--until",
            "2000-01-01T00:00:00Z",
        ],
        &[],
    )
    .await;
    assert_eq!(none.report()["failures"].as_array().map(Vec::len), Some(0));

    let temp = temp_dir("habits-filter");
    let dir = temp.path().join("failures");
    let drained = hydrator(
        &[
            "--output",
            "json",
            "dlq",
            "drain",
            "--queue-url",
            &dlq,
            "--wait-seconds",
            "1",
            "--to",
            dir.to_str().unwrap(),
            "--delete",
            "--stream",
            &taken.arn,
        ],
        &[],
    )
    .await;
    assert_eq!(drained.code, Some(0), "{drained:?}");
    assert_eq!(
        queue_depth(&dlq).await,
        1,
        "the other stream's failure stays"
    );

    // Everything drained now; replay and redrive take only what the filter names.
    let all = hydrator(
        &[
            "dlq",
            "drain",
            "--queue-url",
            &dlq,
            "--wait-seconds",
            "1",
            "--to",
            dir.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(all.code, Some(0), "{all:?}");
    let redrive = hydrator(
        &[
            "--output",
            "json",
            "redrive",
            dir.to_str().unwrap(),
            "--to-stream",
            &taken.arn,
            "--dry-run",
            "--stream",
            &kept.name,
        ],
        &[],
    )
    .await;
    assert_eq!(redrive.code, Some(0), "{redrive:?}");
    assert_eq!(
        redrive.report()["records"],
        3,
        "only the kept stream's 3 records"
    );
}

#[tokio::test]
async fn the_hydrators_failures_are_listed_and_retried_each_where_it_belongs() {
    let failures = create_queue("habits-hydrator-failures").await;
    let on_failure = create_queue("habits-on-failure").await;
    let record = std::fs::read_to_string(
        hydrator_tests::workspace_root().join("events/kinesis-failure-direct.json"),
    )
    .unwrap();
    let s3_destination = serde_json::json!({
        "version": "1.0",
        "timestamp": "2026-11-21T06:12:09.114Z",
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:hydrator",
            "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": hydrator_tests::failure::s3_event("on-failure-bucket", "aws/lambda/x.json"),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Hydrate.Read", "errorMessage": "..."}
    });
    let sqs = hydrator_tests::queue::sqs_client();
    for body in [
        record,
        "{\"not\": \"a record\"}".to_owned(),
        s3_destination.to_string(),
    ] {
        sqs.send_message()
            .queue_url(&failures)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    let listed = hydrator(
        &[
            "--output",
            "json",
            "failures",
            "list",
            "--queue-url",
            &failures,
            "--wait-seconds",
            "1",
        ],
        &[],
    )
    .await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    let mut kinds: Vec<(String, String)> = listed.report()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["retry"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("on-failure record".to_owned(), "to-queue".to_owned()),
            ("s3 notification".to_owned(), "invoke".to_owned()),
            ("unreadable".to_owned(), "no".to_owned()),
        ]
    );
    assert_eq!(queue_depth(&failures).await, 3);

    let retry = |extra: &'static [&'static str]| {
        let mut args = vec![
            "--output",
            "json",
            "failures",
            "retry",
            "--wait-seconds",
            "1",
        ];
        args.extend([
            "--queue-url",
            failures.as_str(),
            "--to-queue",
            on_failure.as_str(),
        ]);
        args.extend(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let dry: Vec<String> = retry(&["--dry-run"]);
    let dry = hydrator(&dry.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    assert_eq!(dry.code, Some(2), "one message would be kept: {dry:?}");
    assert_eq!(
        (queue_depth(&failures).await, queue_depth(&on_failure).await),
        (3, 0),
        "a dry run moves nothing"
    );

    let temp = temp_dir("habits-failures");
    let dir = temp.path();
    let api = InvokeApi::start(&[], &[], dir).await;
    let real: Vec<String> = retry(&["--to-function", CONSUMER]);
    let real = hydrator(
        &real.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("AWS_ENDPOINT_URL_LAMBDA", api.endpoint.clone())],
    )
    .await;
    assert_eq!(real.code, Some(2), "{real:?}");
    assert_eq!(
        queue_depth(&on_failure).await,
        1,
        "the record is back in the on-failure queue"
    );
    assert_eq!(
        queue_depth(&failures).await,
        1,
        "only the unreadable message is kept"
    );
    assert_eq!(
        api.requests().len(),
        1,
        "the S3 notification went to the function"
    );
}

/// A Kinesis client of the emulators in `region`.
fn kinesis_in(region: &'static str) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::config::Builder::from(&sdk_config())
        .region(aws_sdk_kinesis::config::Region::from_static(region))
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

#[tokio::test]
async fn redrive_writes_with_the_target_profile_and_region_alone() {
    // The stream is in us-west-2 only; kinesis-mock keeps regions apart.
    let stream = TestStream::create(&kinesis_in("us-west-2"), "to-region", 1).await;
    let missing_in_east = kinesis_in("us-east-1")
        .describe_stream_summary()
        .stream_name(&stream.name)
        .send()
        .await;
    assert!(
        missing_in_east.is_err(),
        "the stream exists in us-west-2 only"
    );
    let temp = temp_dir("habits-to-profile");
    let dir = temp.path();
    let written: Vec<Written> = (0..3)
        .map(|i| Written {
            shard_id: stream.shard_id(0).to_owned(),
            sequence_number: format!("{}", 1000 + i),
            partition_key: format!("order-{i}"),
            data: format!("{{\"order\":{i}}}").into_bytes(),
        })
        .collect();
    let event = dir.join("orders.event.json");
    save_event(&event, &stream.arn, &written);
    // Only the target profiles say where Kinesis is and how to sign: the
    // command's own configuration has no region, no credentials, no endpoint.
    let config = dir.join("config");
    let profile = |name: &str, region: &str| {
        format!(
            "[profile {name}]\nregion = {region}\nendpoint_url = {}\n\
             aws_access_key_id = test\naws_secret_access_key = test\n",
            kinesis_endpoint()
        )
    };
    std::fs::write(
        &config,
        profile("west", "us-west-2") + &profile("east", "us-east-1"),
    )
    .unwrap();
    let redrive = |target: &[&str]| {
        let mut command = tokio::process::Command::new(workspace_binary("hydrator"));
        command
            .args(["--output", "json", "redrive"])
            .arg(&event)
            .args(["--to-stream", &stream.name])
            .args(target)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for name in [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_KINESIS",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_PROFILE",
        ] {
            command.env_remove(name);
        }
        command.output()
    };
    // The target profile brings its region...
    let by_profile = redrive(&["--to-profile", "west"]).await.unwrap();
    assert_eq!(by_profile.status.code(), Some(0), "{by_profile:?}");
    // ...and --to-region overrides it.
    let by_region = redrive(&["--to-profile", "east", "--to-region", "us-west-2"])
        .await
        .unwrap();
    assert_eq!(by_region.status.code(), Some(0), "{by_region:?}");
    for run in [&by_profile, &by_region] {
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(report["written"], 3, "{report}");
    }
    let landed: Vec<(String, Vec<u8>)> = stream
        .read(0, None)
        .await
        .into_iter()
        .map(|r| (r.partition_key, r.data))
        .collect();
    let sent: Vec<(String, Vec<u8>)> = written
        .iter()
        .map(|w| (w.partition_key.clone(), w.data.clone()))
        .collect();
    assert_eq!(landed, [sent.clone(), sent].concat());
}
