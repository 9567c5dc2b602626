//! `scripts/demo.sh kafka`: the Kafka failure path, locally. kafka-python
//! writes 20 orders to a topic of two partitions on the local broker
//! (tansu); the Kafka event source mapping, played here, hands the consumer
//! batches of 5 records of one partition and, when one holds an order in a
//! currency the consumer rejects, retries it twice and then publishes its
//! on-failure record (`KafkaBatchInfo`: offsets, no data) to SNS, which
//! queues it in SQS. The hydrate function (its binary, behind a local Lambda
//! runtime interface, allowed to reach the local broker only) is invoked with
//! the SQS event, reads the offsets back and sends the documents to the DLQ,
//! shown with `hydrator dlq list`.

use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::Format as DateFormat;
use aws_smithy_types::DateTime;
use hydrator_tests::emulator::{kinesis_endpoint, moto_endpoint, sdk_config};
use hydrator_tests::failure::sqs_event;
use hydrator_tests::kafka::{bootstrap_servers, produce, Acknowledged, Outgoing};
use hydrator_tests::pipeline::{orders, queue_arn};
use hydrator_tests::queue::{create_queue, sqs_client};
use hydrator_tests::runtime_api::{workspace_binary, FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::unique_suffix;
use serde_json::{json, Value};

const BATCH: usize = 5;
const RETRIES: usize = 2;

/// The consumer: rejects a batch holding an order in CHF.
fn consumer_accepts(batch: &[(Vec<u8>, Acknowledged)]) -> bool {
    !batch
        .iter()
        .any(|(value, _)| String::from_utf8_lossy(value).contains("\"CHF\""))
}

/// The on-failure record Lambda writes for a failed batch of one partition.
fn on_failure_record(topic: &str, batch: &[(Vec<u8>, Acknowledged)]) -> Value {
    let partition = batch[0].1.partition;
    json!({
        "requestContext": {"requestId": format!("req-{}", unique_suffix()),
            "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:orders-consumer",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": RETRIES + 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": DateTime::from(SystemTime::now())
            .fmt(DateFormat::DateTime)
            .unwrap_or_default(),
        "KafkaBatchInfo": {
            "batchSize": batch.len(),
            "bootstrapServers": bootstrap_servers(),
            "recordsInfo": {
                format!("{topic}-{partition}"): {
                    "firstRecordOffset": batch[0].1.offset.to_string(),
                    "lastRecordOffset": batch[batch.len() - 1].1.offset.to_string()
                }
            }
        }
    })
}

#[tokio::main]
async fn main() {
    let out_dir = hydrator_tests::workspace_root().join(".demo");
    std::fs::create_dir_all(&out_dir).expect("log folder");
    let topic = format!("orders-kafka-{}", unique_suffix());
    let values = orders(20, &[6, 13]);
    let outgoing: Vec<Outgoing> = values
        .iter()
        .enumerate()
        .map(|(i, value)| Outgoing {
            partition: (i % 2) as i32,
            key: Some(format!("ord-{:04}", i + 1).into_bytes()),
            value: Some(value.clone()),
            headers: vec![],
        })
        .collect();
    let acknowledged = produce(&topic, 2, &outgoing);
    println!(
        "topic         {topic} on {}: {} orders in 2 partitions, two in CHF",
        bootstrap_servers(),
        acknowledged.len()
    );

    let sns = aws_sdk_sns::Client::new(&sdk_config());
    let topic_arn = sns
        .create_topic()
        .name(format!("kafka-failures-{}", unique_suffix()))
        .send()
        .await
        .expect("create topic")
        .topic_arn
        .expect("topic ARN");
    let failures_queue = create_queue("kafka-failures").await;
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn(&failures_queue).await)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe the queue to the topic");
    let dlq = create_queue("hydrator-dlq").await;

    // The event source mapping: batches of one partition, retried, then given up.
    let mut invocations = 0;
    let mut failed = 0;
    for partition in 0..2 {
        let records: Vec<(Vec<u8>, Acknowledged)> = values
            .iter()
            .cloned()
            .zip(acknowledged.iter().copied())
            .filter(|(_, ack)| ack.partition == partition)
            .collect();
        for batch in records.chunks(BATCH) {
            let mut attempts = 0;
            while attempts <= RETRIES {
                invocations += 1;
                attempts += 1;
                if consumer_accepts(batch) {
                    break;
                }
            }
            if !consumer_accepts(batch) {
                failed += 1;
                let record = on_failure_record(&topic, batch);
                sns.publish()
                    .topic_arn(&topic_arn)
                    .message(record.to_string())
                    .send()
                    .await
                    .expect("publish the on-failure record");
                println!(
                    "on-failure    offsets {}..{} of partition {partition} published to {topic_arn}",
                    batch[0].1.offset,
                    batch[batch.len() - 1].1.offset
                );
            }
        }
    }
    println!(
        "consumer      {invocations} invocations (batches of {BATCH} of one partition, {RETRIES} retries): {failed} batches failed"
    );

    let api = RuntimeApi::start().await;
    let _hydrator = FunctionProcess::spawn(
        &workspace_binary("hydrate"),
        &api,
        &[
            ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            ("DLQ_QUEUE_URL", dlq.clone()),
            ("KAFKA_BOOTSTRAP_ALLOWLIST", bootstrap_servers()),
        ],
        &out_dir.join("hydrate-kafka.log"),
    );
    let received = sqs_client()
        .receive_message()
        .queue_url(&failures_queue)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .expect("receive the on-failure records")
        .messages
        .unwrap_or_default();
    let bodies: Vec<String> = received
        .iter()
        .map(|m| m.body().unwrap_or_default().to_owned())
        .collect();
    let outcome = api
        .invoke(
            sqs_event(&bodies).to_string().into_bytes(),
            Duration::from_secs(60),
        )
        .await;
    let Outcome::Response(answer) = outcome else {
        panic!("the hydrator answered {outcome:?}")
    };
    println!(
        "hydrator      1 SQS invocation of {} message(s) from {failures_queue}: {}",
        bodies.len(),
        String::from_utf8_lossy(&answer)
    );
    println!("logs          {}", out_dir.display());
    println!();
    println!("── hydrator dlq list --queue-url {dlq} ──");
    let status = std::process::Command::new(workspace_binary("hydrator"))
        .args(["dlq", "list", "--queue-url", &dlq, "--wait-seconds", "1"])
        .status()
        .expect("run hydrator dlq list");
    if !status.success() || failed != 2 || bodies.len() != 2 {
        eprintln!("the demo expected two failed batches in the DLQ");
        std::process::exit(1);
    }
}
