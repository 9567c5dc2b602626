//! The real `hydrate` binary under the Lambda runtime interface, as Lambda
//! runs it: documents out, classified errors out, nothing private in the logs.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};

use hydrator_tests::check::{assert_conforms_to_schema, assert_records_are, hydration};
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::runtime_api::{
    hydrate_binary, release_hydrate_binary, temp_log, FunctionProcess, Outcome, RuntimeApi,
};
use hydrator_tests::stream::TestStream;
use hydrator_tests::table::{TestTable, KEY};
use serde_json::Value;

const ROLE: &str = "arn:aws:iam::000000000000:role/orders-consumer-role";

/// The function invoked with `failure` in an SNS event, as the on-failure
/// topic delivers it, given 30 s to answer.
async fn invoke_with(api: &RuntimeApi, failure: &Value) -> Outcome {
    api.invoke(
        sns_event(failure).to_string().into_bytes(),
        Duration::from_secs(30),
    )
    .await
}

/// The function under a runtime API of its own, reaching the emulators, with
/// `extra` set after (and so over) those endpoints; and its log file,
/// removed when dropped.
async fn function_at_the_emulators(
    binary: &std::path::Path,
    extra: &[(&str, String)],
) -> (RuntimeApi, FunctionProcess, tempfile::TempPath) {
    let api = RuntimeApi::start().await;
    let log = temp_log("hydrate-");
    let mut env = vec![
        ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
        ("AWS_ENDPOINT_URL", moto_endpoint()),
        ("INVOKE_IDENTITY_ARN", ROLE.to_string()),
    ];
    env.extend(extra.iter().cloned());
    let function = FunctionProcess::spawn(binary, &api, &env, &log);
    (api, function, log)
}

#[tokio::test]
async fn the_function_returns_documents_and_classified_errors_and_logs_no_payload() {
    let stream = TestStream::create(&kinesis_client(), "runtime", 1).await;
    let marker = "PRIVATE-alice@example.com";
    let payloads: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("{{\"email\":\"{marker}\",\"n\":{i}}}").into_bytes())
        .collect();
    let written = stream.write(0, &payloads).await;

    let (api, function, _log) = function_at_the_emulators(&hydrate_binary(), &[]).await;

    // A failure record the function cannot use is an invocation error with a class.
    let mut reversed = kinesis_failure(&stream.arn, &written[3], &written[1], 3);
    let outcome = invoke_with(&api, &reversed).await;
    let Outcome::Error(body) = outcome else {
        panic!("expected an error, got {outcome:?}")
    };
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["errorType"], "Input.StartAfterEnd");
    assert!(error["errorMessage"]
        .as_str()
        .unwrap()
        .contains("startSequenceNumber is after endSequenceNumber"));

    // The same process goes on to hydrate the next failure.
    reversed["KinesisBatchInfo"]["startSequenceNumber"] = written[1].sequence_number.clone().into();
    reversed["KinesisBatchInfo"]["endSequenceNumber"] = written[3].sequence_number.clone().into();
    let outcome = invoke_with(&api, &reversed).await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a document, got {outcome:?}")
    };
    let document: Value = serde_json::from_slice(&body).unwrap();
    assert_conforms_to_schema(&document);
    assert_eq!(hydration(&document), ("complete", 3, 3, vec![]));
    assert_records_are(&document, &written[1..=3], &stream.arn, ROLE);

    // And a DynamoDB stream failure, through the same process.
    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    for i in 0..3 {
        table
            .put(HashMap::from([
                (KEY.to_owned(), AttributeValue::S(format!("customer-{i}"))),
                ("email".to_owned(), AttributeValue::S(marker.to_owned())),
            ]))
            .await;
    }
    let changes = table.stream_records().await;
    let failure = table.failure(&changes, 0, 2).await;
    let outcome = invoke_with(&api, &failure).await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a document, got {outcome:?}")
    };
    let document: Value = serde_json::from_slice(&body).unwrap();
    assert_conforms_to_schema(&document);
    assert_eq!(document["source"], "aws:dynamodb");
    assert_eq!(hydration(&document), ("complete", 3, 3, vec![]));
    assert_eq!(
        document["Records"][2]["dynamodb"]["NewImage"]["email"]["S"],
        marker
    );

    let logs = function.logs();
    assert!(
        logs.contains("hydrated failed batch"),
        "the function logs its work:\n{logs}"
    );
    assert!(
        logs.contains("StartAfterEnd"),
        "the rejection is logged with its class:\n{logs}"
    );
    assert!(
        !logs.contains(marker),
        "record data reached the logs:\n{logs}"
    );
    assert!(!logs.contains("PRIVATE"), "record data reached the logs");

    // Every line is one JSON object, and a line written while a failure is
    // read names the invocation and the failure it belongs to.
    let lines: Vec<Value> = logs
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect();
    let hydrated = lines
        .iter()
        .find(|line| line["message"] == "hydrated failed batch")
        .expect("the summary line");
    assert!(
        hydrated["level"] == "INFO" && hydrated["timestamp"].is_string(),
        "{hydrated}"
    );
    let spans = hydrated["spans"].as_array().expect("the spans of the line");
    assert!(
        spans.iter().any(|span| span["requestId"].is_string()),
        "the request id is on the line: {hydrated}"
    );
    let failure = spans
        .iter()
        .find(|span| span["name"] == "failure")
        .expect("the failure's span");
    for field in ["stream", "shard", "start", "end"] {
        assert!(
            failure[field].is_string(),
            "{field} on the line: {hydrated}"
        );
    }
}

#[tokio::test]
async fn a_malformed_setting_stops_the_init_with_its_reason() {
    let api = RuntimeApi::start().await;
    let log = temp_log("hydrate-");
    let mut function = FunctionProcess::spawn(
        &hydrate_binary(),
        &api,
        &[("MAX_EMPTY_PAGES", "many".to_string())],
        &log,
    );
    // Lambda reports an init that exits as Runtime.ExitError, with the reason in the logs.
    let status = function
        .exit_status(Duration::from_secs(20))
        .await
        .expect("the process exits");
    assert!(!status.success());
    let logs = function.logs();
    assert!(
        logs.contains("MAX_EMPTY_PAGES must be a positive whole number"),
        "{logs}"
    );
}

/// Every AWS call of the function goes through its own HTTPS client
/// (`hydrate::https_client`: the SDK's hyper and rustls). Here Kinesis is
/// reached only through a TLS front before kinesis-mock, whose certificate
/// chains to the tests' authority; the process trusts it as an operator
/// trusts a private one, with `SSL_CERT_FILE`, and reads the range back
/// exactly. Both builds: the release artefact, which ships with aws-lc and
/// its post-quantum key exchange, and the tests' debug build, on ring.
#[tokio::test]
async fn the_function_reads_a_range_over_tls_trusting_the_system_roots() {
    let (stream, written) = TestStream::with_orders("runtime-tls", 6).await;
    let port = kinesis_endpoint()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("the emulator's endpoint names its port");
    let front = hydrator_tests::kafka_tls::TlsBroker::front_to(port).await;
    for binary in [release_hydrate_binary(), hydrate_binary()] {
        let (api, function, _log) = function_at_the_emulators(
            &binary,
            &[
                (
                    "AWS_ENDPOINT_URL_KINESIS",
                    format!("https://{}", front.bootstrap),
                ),
                ("SSL_CERT_FILE", front.ca.display().to_string()),
            ],
        )
        .await;
        let failure = kinesis_failure(&stream.arn, &written[1], &written[4], 4);
        let outcome = invoke_with(&api, &failure).await;
        let Outcome::Response(body) = outcome else {
            panic!(
                "{}: expected a document, got {outcome:?}; logs:\n{}",
                binary.display(),
                function.logs()
            )
        };
        let document: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(hydration(&document), ("complete", 4, 4, vec![]));
        assert_records_are(&document, &written[1..=4], &stream.arn, ROLE);
    }
}
