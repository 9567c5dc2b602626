//! Benchmark of the release Lambda artefact (`target/lambda/hydrate/bootstrap`):
//! cold init (process start to the first runtime API poll), and hydration of
//! 1,000 and 10,000 records against kinesis-mock: wall time, the function's
//! own CPU time, GetRecords calls and peak memory. Prints figures; asserts nothing.
//!
//! Usage: bench [--bootstrap PATH] [--cold-runs N]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::{binary_payloads, TestStream};
use serde_json::Value;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let bootstrap = flag("--bootstrap").map(PathBuf::from).unwrap_or_else(|| {
        hydrator_tests::workspace_root().join("target/lambda/hydrate/bootstrap")
    });
    let cold_runs: usize = flag("--cold-runs")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    assert!(
        bootstrap.is_file(),
        "{} is missing: run `cargo lambda build --release --bin hydrate`",
        bootstrap.display()
    );
    let log_dir = std::env::temp_dir().join(format!("hydrate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).expect("log dir");
    println!(
        "artefact: {} ({} KiB)",
        bootstrap.display(),
        std::fs::metadata(&bootstrap)
            .map(|m| m.len() / 1024)
            .unwrap_or(0)
    );

    // Cold init: a new process each run, timed from spawn to its first poll.
    let mut inits = Vec::with_capacity(cold_runs);
    for run in 0..cold_runs {
        let api = RuntimeApi::start().await;
        let function = FunctionProcess::spawn(
            &bootstrap,
            &api,
            &[],
            &log_dir.join(format!("cold-{run}.log")),
        );
        let polled = tokio::time::timeout(Duration::from_secs(10), api.first_poll())
            .await
            .expect("the function polled");
        inits.push(polled - function.spawned_at);
    }
    inits.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "cold init over {cold_runs} runs: median {:.2} ms, p90 {:.2} ms, min {:.2} ms (target: under 20 ms)",
        ms(inits[cold_runs / 2]),
        ms(inits[cold_runs * 9 / 10]),
        ms(inits[0])
    );

    println!();
    println!(
        "{:>8} {:>10} {:>12} {:>10} {:>10} {:>9} {:>12}",
        "records", "MiB data", "wall ms", "doc ms", "CPU ms", "calls", "peak RSS MiB"
    );
    for count in [1_000usize, 10_000] {
        let stream = TestStream::create(&kinesis_client(), "bench", 1).await;
        let payloads = binary_payloads(count, 2_048, count as u64);
        let bytes: usize = payloads.iter().map(Vec::len).sum();
        let written = stream.write(0, &payloads).await;
        let failure = kinesis_failure(&stream.arn, &written[0], &written[count - 1], count);
        let api = RuntimeApi::start().await;
        let function = FunctionProcess::spawn(
            &bootstrap,
            &api,
            &[
                ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
                ("AWS_ENDPOINT_URL", moto_endpoint()),
                // The figures are for reading and building the document; a
                // real deployment of this size sends it in parts (DLQ_QUEUE_URL).
                ("RESPONSE_MAX_BYTES", "1000000000".into()),
            ],
            &log_dir.join(format!("hydrate-{count}.log")),
        );
        api.first_poll().await;
        let cpu_before = function.cpu_time().unwrap_or_default();
        let started = Instant::now();
        let outcome = api
            .invoke(
                sns_event(&failure).to_string().into_bytes(),
                Duration::from_secs(600),
            )
            .await;
        let wall = started.elapsed();
        let cpu = function
            .cpu_time()
            .unwrap_or_default()
            .saturating_sub(cpu_before);
        let Outcome::Response(body) = outcome else {
            panic!("hydration failed: {outcome:?}")
        };
        let document: Value = serde_json::from_slice(&body).expect("document");
        let h = &document["hydration"];
        assert_eq!(
            h["status"], "complete",
            "benchmark batches hydrate complete"
        );
        println!(
            "{:>8} {:>10.2} {:>12.0} {:>10} {:>10.0} {:>9} {:>12.1}",
            count,
            bytes as f64 / 1_048_576.0,
            ms(wall),
            h["durationMs"],
            ms(cpu),
            h["getRecordsCalls"],
            function.peak_rss_kib().unwrap_or(0) as f64 / 1024.0
        );
    }
    println!();
    println!("wall ms: invocation round trip; doc ms: the document's durationMs (reading only);");
    println!("CPU ms: the function process's own user+system time (kinesis-mock's time excluded).");
    std::fs::remove_dir_all(&log_dir).ok();
}
