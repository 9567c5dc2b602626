//! The local end-to-end hydration that `scripts/demo.sh` runs, once for each
//! source: a Kinesis stream in kinesis-mock and a DynamoDB table's stream in
//! moto, a batch of each that "failed", its on-failure record delivered over
//! SNS to the real `hydrate` binary through the Lambda runtime interface, and
//! the documents it returns.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::runtime_api::{hydrate_binary, FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::TestStream;
use hydrator_tests::table::{TestTable, KEY};
use serde_json::Value;

#[tokio::main]
async fn main() {
    let out_dir = hydrator_tests::workspace_root().join(".demo");
    std::fs::create_dir_all(&out_dir).expect("create .demo/");

    let api = RuntimeApi::start().await;
    let log_file = out_dir.join("hydrate.log");
    let _function = FunctionProcess::spawn(
        &hydrate_binary(),
        &api,
        &[
            ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            (
                "INVOKE_IDENTITY_ARN",
                "arn:aws:iam::000000000000:role/orders-consumer-role".into(),
            ),
        ],
        &log_file,
    );

    println!("── Kinesis ──");
    let (event, expected) = kinesis_failure_event().await;
    let kinesis = hydrate(&api, &out_dir, "kinesis", &event, &log_file).await;
    for record in kinesis["Records"].as_array().into_iter().flatten() {
        let k = &record["kinesis"];
        println!(
            "  {}  key {:<7} {} bytes base64",
            short(k["sequenceNumber"].as_str().unwrap_or("")),
            k["partitionKey"].as_str().unwrap_or(""),
            k["data"].as_str().map_or(0, str::len)
        );
    }
    let kinesis_ok = is_complete(&kinesis, expected);

    println!();
    println!("── DynamoDB Streams ──");
    let (event, expected) = dynamodb_failure_event().await;
    let dynamodb = hydrate(&api, &out_dir, "dynamodb", &event, &log_file).await;
    for record in dynamodb["Records"].as_array().into_iter().flatten() {
        let change = &record["dynamodb"];
        println!(
            "  {}  {:<6} {}",
            change["SequenceNumber"].as_str().unwrap_or(""),
            record["eventName"].as_str().unwrap_or(""),
            change["Keys"][KEY]["S"].as_str().unwrap_or("")
        );
    }
    let dynamodb_ok = is_complete(&dynamodb, expected);

    println!();
    println!(
        "replay      {{\"Records\": ...}} from a document is an event for the consumer that failed"
    );
    println!("log         {}", log_file.display());
    if !(kinesis_ok && dynamodb_ok) {
        eprintln!("the demo expected complete documents");
        std::process::exit(1);
    }
}

/// Orders written to a stream; the consumer failed on orders 11..=17 and
/// exhausted its retries, so the event source mapping sent this record to
/// the on-failure SNS topic.
async fn kinesis_failure_event() -> (Value, usize) {
    let stream = TestStream::create(&kinesis_client(), "orders", 1).await;
    let orders: Vec<Vec<u8>> = (1..=40)
        .map(|n| {
            format!(
                "{{\"orderId\":\"ord-{n:04}\",\"amount\":{}.{:02},\"currency\":\"EUR\"}}",
                n * 3,
                n % 100
            )
            .into_bytes()
        })
        .collect();
    let written = stream.write(0, &orders).await;
    println!("stream      {}", stream.arn);
    println!(
        "wrote       {} records to {}",
        written.len(),
        stream.shard_id(0)
    );
    let batch = &written[10..17];
    let failure = kinesis_failure(&stream.arn, &batch[0], &batch[batch.len() - 1], batch.len());
    (sns_event(&failure), batch.len())
}

/// Orders inserted, updated and cancelled in a table; the stream consumer
/// failed on changes 6..=13.
async fn dynamodb_failure_event() -> (Value, usize) {
    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    for n in 1..=8 {
        table.put(order(n, "PLACED")).await;
    }
    for n in 1..=6 {
        table.put(order(n, "SHIPPED")).await;
    }
    table.delete("ord-0007").await;
    let stream = table.stream_records().await;
    println!("stream      {}", table.stream_arn);
    println!(
        "wrote       {} changes to table {}",
        stream.len(),
        table.name
    );
    (sns_event(&table.failure(&stream, 5, 12).await), 8)
}

fn order(n: u32, status: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (KEY.to_owned(), AttributeValue::S(format!("ord-{n:04}"))),
        (
            "amount".to_owned(),
            AttributeValue::N(format!("{}.{:02}", n * 3, n)),
        ),
        ("status".to_owned(), AttributeValue::S(status.to_owned())),
    ])
}

/// Invokes the function with `event`, saves the event and the document in
/// `out_dir`, prints the summary, and returns the document.
async fn hydrate(
    api: &RuntimeApi,
    out_dir: &Path,
    name: &str,
    event: &Value,
    log_file: &Path,
) -> Value {
    let event_file = out_dir.join(format!("sns-{name}-event.json"));
    write_json(&event_file, event);
    println!("event       {}", event_file.display());
    let outcome = api
        .invoke(event.to_string().into_bytes(), Duration::from_secs(60))
        .await;
    let body = match outcome {
        Outcome::Response(body) => body,
        Outcome::Error(body) => {
            eprintln!("the function failed: {}", String::from_utf8_lossy(&body));
            eprintln!("its log: {}", log_file.display());
            std::process::exit(1);
        }
    };
    // Saved as the function returned it, byte for byte.
    let document_file = out_dir.join(format!("{name}-document.json"));
    std::fs::write(&document_file, &body).expect("write the document");
    println!("document    {}", document_file.display());
    let document: Value = serde_json::from_slice(&body).expect("the function returns JSON");
    let h = &document["hydration"];
    println!(
        "hydration   {} ({} of {} records, {} GetRecords call(s), {} ms)",
        h["status"].as_str().unwrap_or("?"),
        h["hydratedRecords"],
        h["expectedRecords"],
        h["getRecordsCalls"],
        h["durationMs"]
    );
    document
}

fn is_complete(document: &Value, expected: usize) -> bool {
    document["hydration"]["status"] == "complete"
        && document["Records"].as_array().map(Vec::len) == Some(expected)
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).expect("JSON"))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A 56-digit sequence number, shortened for a terminal line.
fn short(seq: &str) -> String {
    if seq.len() > 20 {
        format!("{}…{}", &seq[..8], &seq[seq.len() - 8..])
    } else {
        seq.to_string()
    }
}
