//! `scripts/demo.sh storm`: a failure storm through the local pipeline. A
//! consumer fails every batch for a while (150 orders in a currency it
//! rejects, then 50 it accepts) behind the bisecting event source mapping;
//! the on-failure records go through SNS to an SQS queue, which is polled
//! with a batching window (up to 100 messages an invocation), and the
//! hydrator sends the documents to the DLQ. Prints the reads made against
//! one read per failure, and the documents delivered.

use std::time::Instant;

use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::emulator::{kinesis_endpoint, sdk_config_with};
use hydrator_tests::failure::sqs_event;
use hydrator_tests::fault_proxy::{Action, FaultProxy};
use hydrator_tests::pipeline::{orders, EventSourceMapping, Pipeline};
use hydrator_tests::queue::{queue_depth, sqs_client};

/// The most messages one invocation gets: the SQS trigger's batch size.
const SQS_BATCH: usize = 100;

#[tokio::main]
async fn main() {
    let out_dir = hydrator_tests::workspace_root().join(".demo");
    let pipeline = Pipeline::start(&out_dir).await;
    let poison: Vec<usize> = (0..150).collect();
    let written = pipeline.stream.write(0, &orders(200, &poison)).await;
    println!(
        "stream        {}: {} orders, the first 150 rejected",
        pipeline.stream.arn,
        written.len()
    );
    let run = pipeline.consume(EventSourceMapping::PIPELINE).await;
    let failures = run.on_failure_records.len();
    println!(
        "consumer      {} invocations (batches of 10, 2 retries, bisect on error): {} consumed, {} on-failure records to SNS",
        run.invocations, run.consumed, failures
    );

    let proxy = FaultProxy::start(&kinesis_endpoint(), Box::new(|_, _| Action::Forward)).await;
    let settings = Settings {
        dlq_queue_url: Some(pipeline.dlq_url.clone()),
        ..Settings::default()
    };
    let hydrator = Hydrator::new(sdk_config_with(&[("Kinesis", proxy.url())]), settings);
    let started = Instant::now();
    let sqs = sqs_client();
    let mut invocations = 0;
    loop {
        // The batching window: receive until the batch is full or the queue is dry.
        let mut messages = Vec::new();
        while messages.len() < SQS_BATCH {
            let output = sqs
                .receive_message()
                .queue_url(&pipeline.failures_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive from the failures queue");
            let received = output.messages.unwrap_or_default();
            if received.is_empty() {
                break;
            }
            messages.extend(received);
        }
        if messages.is_empty() {
            break;
        }
        invocations += 1;
        let bodies: Vec<String> = messages
            .iter()
            .map(|m| m.body().unwrap_or_default().to_owned())
            .collect();
        let Ok(Response::Batch(answer)) = hydrator.handle(sqs_event(&bodies).to_string()).await
        else {
            panic!("an SQS event is answered with a batch response")
        };
        let failed: Vec<String> = answer
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        for (i, message) in messages.iter().enumerate() {
            if failed.contains(&format!("msg-{i}")) {
                continue;
            }
            sqs.delete_message()
                .queue_url(&pipeline.failures_queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete a hydrated message");
        }
    }
    let reads = proxy.calls_to("GetRecords").len() + proxy.calls_to("GetShardIterator").len();
    println!(
        "hydrator      {invocations} SQS invocation(s) of up to {SQS_BATCH} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "reads         {reads} GetShardIterator + GetRecords calls; one read per failure costs {}",
        2 * failures
    );
    let documents = queue_depth(&pipeline.dlq_url).await;
    println!(
        "dlq           {documents} document(s) for {failures} failure(s): {}",
        pipeline.dlq_url
    );
    if documents != failures || reads >= 2 * failures {
        eprintln!("the storm expected one document a failure, for fewer reads than one a failure");
        std::process::exit(1);
    }
}
