//! The local pipeline that `scripts/demo.sh` runs: orders written to a
//! Kinesis stream, a consumer that fails on two of them, the event source
//! mapping retrying and bisecting, the on-failure records through SNS and
//! SQS to the hydrator, and the dead-letter queue shown with `hydrator dlq list`.

use hydrator_tests::pipeline::{orders, EventSourceMapping, Pipeline};
use hydrator_tests::runtime_api::workspace_binary;

#[tokio::main]
async fn main() {
    let out_dir = hydrator_tests::workspace_root().join(".demo");
    let pipeline = Pipeline::start(&out_dir).await;
    let written = pipeline.stream.write(0, &orders(40, &[12, 26])).await;
    println!("stream        {}", pipeline.stream.arn);
    println!(
        "wrote         {} orders; ord-0013 and ord-0027 are in CHF, which the consumer rejects",
        written.len()
    );

    let mapping = EventSourceMapping::PIPELINE;
    let run = pipeline.consume(mapping).await;
    println!(
        "consumer      {} invocations (batches of {}, {} retries, bisect on error): {} records consumed, {} batches failed",
        run.invocations,
        mapping.batch_size,
        mapping.maximum_retry_attempts,
        run.consumed,
        run.on_failure_records.len()
    );
    for record in &run.on_failure_records {
        let batch = &record["KinesisBatchInfo"];
        println!(
            "on-failure    {} records from {} ... published to {}",
            batch["batchSize"],
            batch["startSequenceNumber"].as_str().unwrap_or(""),
            pipeline.topic_arn
        );
    }

    let invocations = pipeline.hydrate_failures().await;
    println!(
        "hydrator      {} SQS invocation(s) from {}",
        invocations.len(),
        pipeline.failures_queue_url
    );
    println!("logs          {}", out_dir.display());
    println!();
    println!("── hydrator dlq list --queue-url {} ──", pipeline.dlq_url);
    let status = std::process::Command::new(workspace_binary("hydrator"))
        .args(pipeline.dlq_list_args())
        .status()
        .expect("run hydrator dlq list");
    println!();
    println!("next (with KEEP_EMULATORS=1 and the emulators' env from .tools/run/emulators.env):");
    println!(
        "  {} dlq drain --queue-url {} --to failures/",
        workspace_binary("hydrator").display(),
        pipeline.dlq_url
    );
    if !status.success() || run.on_failure_records.len() != 2 {
        eprintln!("the pipeline expected two failed batches in the DLQ");
        std::process::exit(1);
    }
}
