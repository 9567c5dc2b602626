//! The local end-to-end hydration that `scripts/demo.sh` runs: a stream in
//! kinesis-mock, a batch that "failed", its on-failure record delivered over
//! SNS to the real `hydrate` binary through the Lambda runtime interface, and
//! the document it returns.

use std::path::PathBuf;
use std::time::Duration;

use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::runtime_api::{hydrate_binary, FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::TestStream;
use serde_json::Value;

#[tokio::main]
async fn main() {
    let out_dir = hydrator_tests::workspace_root().join(".demo");
    std::fs::create_dir_all(&out_dir).expect("create .demo/");

    let stream = TestStream::create(&kinesis_client(), "orders", 1).await;
    println!("stream      {}", stream.arn);
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
    println!(
        "wrote       {} records to {}",
        written.len(),
        stream.shard_id(0)
    );

    // The consumer failed on orders 11..=17 and exhausted its retries; the
    // event source mapping sent this record to the on-failure SNS topic.
    let batch = &written[10..17];
    let failure = kinesis_failure(&stream.arn, &batch[0], &batch[batch.len() - 1], batch.len());
    let event = sns_event(&failure);
    let event_file = out_dir.join("sns-event.json");
    write_json(&event_file, &event);
    println!(
        "failure     {} records, {}..{}",
        batch.len(),
        short(&batch[0].sequence_number),
        short(&batch[batch.len() - 1].sequence_number)
    );
    println!("event       {}", event_file.display());

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
    let document_file = out_dir.join("document.json");
    std::fs::write(&document_file, &body).expect("write the document");
    let document: Value = serde_json::from_slice(&body).expect("the function returns JSON");

    let h = &document["hydration"];
    println!();
    println!(
        "hydration   {} ({} of {} records, {} GetRecords call(s), {} ms)",
        h["status"].as_str().unwrap_or("?"),
        h["hydratedRecords"],
        h["expectedRecords"],
        h["getRecordsCalls"],
        h["durationMs"]
    );
    for record in document["Records"].as_array().into_iter().flatten() {
        let k = &record["kinesis"];
        println!(
            "  {}  key {:<7} {} bytes base64",
            short(k["sequenceNumber"].as_str().unwrap_or("")),
            k["partitionKey"].as_str().unwrap_or(""),
            k["data"].as_str().map_or(0, str::len)
        );
    }
    println!();
    println!("document    {}", document_file.display());
    println!("replay      {{\"Records\": ...}} from it is a Kinesis event for the consumer");
    println!("log         {}", log_file.display());
    let complete = h["status"] == "complete"
        && document["Records"].as_array().map(Vec::len) == Some(batch.len());
    if !complete {
        eprintln!("the demo expected a complete document");
        std::process::exit(1);
    }
}

fn write_json(path: &PathBuf, value: &Value) {
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
