//! The release `bootstrap` under the Lambda runtime interface writes one
//! embedded-metric-format line a document: every such line on its standard
//! output is valid against the specification (`support/emf.rs`), and its
//! values are those of the document the invocation returned: records,
//! missing records and their reason, the failure's age, and the retention
//! margin (the stream's retention as kinesis-mock reports it through
//! `DescribeStreamSummary`; 24 hours for a DynamoDB stream).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_smithy_types::date_time::Format as DateFormat;
use aws_smithy_types::DateTime;
use hydrator_tests::emf::{assert_valid, metric_lines};
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::runtime_api::{
    release_hydrate_binary, temp_log, FunctionProcess, Outcome, RuntimeApi,
};
use hydrator_tests::stream::TestStream;
use hydrator_tests::table::{TestTable, KEY};
use serde_json::Value;

const DAY: i64 = 24 * 3600;

async fn document(api: &RuntimeApi, failure: &Value) -> Value {
    let outcome = api
        .invoke(
            sns_event(failure).to_string().into_bytes(),
            Duration::from_secs(60),
        )
        .await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a document, got {outcome:?}")
    };
    serde_json::from_slice(&body).unwrap()
}

/// `failure` with its first record arriving `ago` before now.
fn arrived(mut failure: Value, info: &str, ago: Duration) -> Value {
    let time = DateTime::from(SystemTime::now() - ago);
    failure[info]["approximateArrivalOfFirstRecord"] =
        time.fmt(DateFormat::DateTime).unwrap().into();
    failure
}

#[tokio::test]
async fn every_metric_line_is_emf_and_reports_the_document_it_follows() {
    let stream = TestStream::create(&kinesis_client(), "metrics", 1).await;
    let payloads: Vec<Vec<u8>> = (0..4)
        .map(|i| format!("{{\"n\":{i}}}").into_bytes())
        .collect();
    let written = stream.write(0, &payloads).await;
    let mut table = TestTable::create(StreamViewType::NewImage).await;
    for i in 0..2 {
        table
            .put(HashMap::from([(
                KEY.to_owned(),
                AttributeValue::S(format!("c-{i}")),
            )]))
            .await;
    }
    let changes = table.stream_records().await;

    let api = RuntimeApi::start().await;
    let log = temp_log("hydrate-metrics-");
    let function = FunctionProcess::spawn(
        &release_hydrate_binary(),
        &api,
        &[
            ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            ("METRICS_DIMENSIONS", "source,stream".to_owned()),
        ],
        &log,
    );

    // A whole batch that arrived 2 hours ago; a batch that claims one record
    // more than its range holds (partial, count_mismatch), 30 hours ago (past
    // retention); a DynamoDB batch, 23 hours ago.
    let info = "KinesisBatchInfo";
    let mut failures = vec![
        (
            arrived(
                kinesis_failure(&stream.arn, &written[0], &written[2], 3),
                info,
                Duration::from_secs(2 * 3600),
            ),
            2 * 3600,
        ),
        (
            arrived(
                kinesis_failure(&stream.arn, &written[3], &written[3], 2),
                info,
                Duration::from_secs(30 * 3600),
            ),
            30 * 3600,
        ),
    ];
    let dynamodb = table.failure(&changes, 0, 1).await;
    failures.push((
        arrived(
            dynamodb,
            "DDBStreamBatchInfo",
            Duration::from_secs(23 * 3600),
        ),
        23 * 3600,
    ));
    let started = SystemTime::now();
    let mut documents = Vec::new();
    for (failure, _) in &failures {
        documents.push(document(&api, failure).await);
    }
    let took = started.elapsed().unwrap().as_secs() as i64 + 2;

    let logs = function.logs();
    let lines = metric_lines(&logs);
    assert_eq!(
        lines.len(),
        documents.len(),
        "one metric line a document:\n{logs}"
    );
    for (text, _) in &lines {
        assert_valid(text);
    }
    for ((document, (_, ago)), (_, line)) in documents.iter().zip(&failures).zip(&lines) {
        let hydration = &document["hydration"];
        let batch = &document["failure"][if document["source"] == "aws:kinesis" {
            "KinesisBatchInfo"
        } else {
            "DDBStreamBatchInfo"
        }];
        assert_eq!(
            line["startSequenceNumber"], batch["startSequenceNumber"],
            "lines follow documents"
        );
        let records = document["Records"].as_array().unwrap().len() as u64;
        let expected = hydration["expectedRecords"].as_u64().unwrap();
        assert_eq!(line["RecordsHydrated"], records);
        assert_eq!(line["RecordsHydrated"], hydration["hydratedRecords"]);
        assert_eq!(line["RecordsExpected"], expected);
        assert_eq!(line["RecordsMissing"], expected - records);
        assert_eq!(
            line["MissingRanges"].as_u64().unwrap() as usize,
            hydration["missing"].as_array().unwrap().len()
        );
        for gap in hydration["missing"].as_array().unwrap() {
            let name = format!("RecordsMissing_{}", gap["reason"].as_str().unwrap());
            assert_eq!(line[&name], expected - records, "{name}");
        }
        let status = hydration["status"].as_str().unwrap();
        assert_eq!(line["status"], status);
        assert_eq!(line["DocumentsPartial"], u64::from(status == "partial"));
        assert_eq!(line["DocumentsComplete"], u64::from(status == "complete"));
        assert_eq!(line["HydrationDuration"], hydration["durationMs"]);
        let calls = hydration["getRecordsCalls"].as_u64().unwrap()
            + hydration["getShardIteratorCalls"].as_u64().unwrap();
        assert_eq!(line["ReadCalls"], calls);
        let age = line["FailureAge"].as_i64().unwrap();
        assert!(
            (*ago..=ago + took).contains(&age),
            "age {age}, arrived {ago}s ago"
        );
        // kinesis-mock keeps a stream 24 hours, as Kinesis does by default.
        assert_eq!(line["RetentionMargin"].as_i64().unwrap(), DAY - age);
        assert_eq!(line["FunctionName"], "hydrator");
        assert_eq!(
            line["StreamName"],
            batch["streamArn"]
                .as_str()
                .unwrap()
                .split('/')
                .nth(1)
                .unwrap()
        );
    }
    assert_eq!(lines[0].1["SourceKind"], "kinesis");
    assert_eq!(lines[1].1["RecordsMissing_count_mismatch"], 1);
    assert!(
        lines[1].1["RetentionMargin"].as_i64().unwrap() < 0,
        "past retention"
    );
    assert_eq!(lines[2].1["SourceKind"], "dynamodb");
    // The metric line is a line of its own, beside the JSON log lines.
    for line in logs.lines().filter(|l| l.contains("\"_aws\"")) {
        assert!(
            line.starts_with("{\"") && !line.contains("\"message\""),
            "{line}"
        );
    }
}
