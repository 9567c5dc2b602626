//! Hostile input against the release binary under the Lambda runtime
//! interface, with the emulators behind it: the one test, its runner and the
//! checks made after every case. The cases are tables, one per trigger
//! (`cases/`), made from the records of `world`; `expect` holds what a case
//! expects and how an answer is checked.
//!
//! Every case is one invocation of the real `bootstrap` that
//! `cargo lambda build --release --bin hydrate` builds (this test does not build
//! it). Two processes serve the suite: one in return mode (SNS, direct,
//! EventBridge Pipes and S3 invocations answer with documents) and one with
//! `DLQ_QUEUE_URL` set (SQS invocations answer with a partial batch response
//! and send documents to a moto queue). After every case:
//! - the answer is the expected one: an error of the case's class, or the
//!   documents (status, gap reasons, records byte-exact), or for SQS exactly
//!   the bad message ids in `batchItemFailures` and every good message's
//!   document in the queue;
//! - the error message and every new log line are free of the marker
//!   planted in every string of the input, and every log line is one JSON object;
//! - the process still runs, and a valid failure record (three records on
//!   kinesis-mock) still hydrates `complete` and byte-exact.
//!
//! At the end, both processes' peak resident memory (VmHWM) must be within
//! 128 MiB. Mismatches are collected and reported together, case by case,
//! with what was expected and what came.

mod cases;
mod expect;
mod world;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use hydrator_tests::emulator::{kinesis_endpoint, moto_endpoint};
use hydrator_tests::hostile::{leak_in, sqs_event, text, MARKER};
use hydrator_tests::queue::{create_queue, drain_all};
use hydrator_tests::runtime_api::{release_hydrate_binary, FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::unique_suffix;
use hydrator_tests::work_dir::WorkDir;

use cases::{build_cases, Mode, Trigger, TIMEOUT};
use expect::{
    check_error_text, check_outcome, shorten, silence_check_panics, summary, DocCheck, Expect,
};
use world::{bytes, sns_of, World};

/// Lambda's memory size for the function (infra/template.yaml).
const MEMORY_LIMIT_KIB: u64 = 128 * 1024;
/// `S3_OBJECT_MAX_BYTES` for the suite: small, so an oversized object stays cheap.
const S3_OBJECT_MAX_BYTES: usize = 1024 * 1024;

/// One function process with its runtime API, respawned if it dies.
struct Host {
    label: &'static str,
    api: RuntimeApi,
    process: FunctionProcess,
    env: Vec<(&'static str, String)>,
    /// The folder its logs go to.
    log_dir: PathBuf,
    logs: Vec<PathBuf>,
    /// How much of the current log file has been checked.
    log_offset: usize,
    /// Peak memory of processes that were replaced.
    replaced_peaks: Vec<Option<u64>>,
    dlq: Option<String>,
    canary: Canary,
}

struct Canary {
    payload: Vec<u8>,
    check: DocCheck,
}

impl Host {
    async fn start(
        label: &'static str,
        log_dir: &Path,
        env: Vec<(&'static str, String)>,
        dlq: Option<String>,
        canary: Canary,
    ) -> Host {
        let api = RuntimeApi::start().await;
        let log = log_path(log_dir, label);
        let process = FunctionProcess::spawn(&release_hydrate_binary(), &api, &env, &log);
        Host {
            label,
            api,
            process,
            env,
            log_dir: log_dir.to_owned(),
            logs: vec![log],
            log_offset: 0,
            replaced_peaks: Vec::new(),
            dlq,
            canary,
        }
    }

    fn respawn(&mut self) {
        self.replaced_peaks.push(self.process.peak_rss_kib());
        let log = log_path(&self.log_dir, self.label);
        self.process =
            FunctionProcess::spawn(&release_hydrate_binary(), &self.api, &self.env, &log);
        self.logs.push(log);
        self.log_offset = 0;
    }

    /// New log lines since the last call: each must be a JSON object and
    /// free of the marker.
    fn check_new_logs(&mut self) -> Vec<String> {
        let logs = self.process.logs();
        let fresh = logs.get(self.log_offset..).unwrap_or_default().to_owned();
        self.log_offset = logs.len();
        let mut problems = Vec::new();
        for line in fresh.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(term) = leak_in(line) {
                problems.push(format!(
                    "the log has the marker ({term}): {}",
                    shorten(line, 400)
                ));
            }
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(_)) => {}
                _ => problems.push(format!(
                    "a log line is not a JSON object: {}",
                    shorten(line, 300)
                )),
            }
        }
        problems
    }

    /// Invokes; `None` when no answer came (the process died or hung).
    async fn invoke(&mut self, payload: Vec<u8>, timeout: Duration) -> Option<Outcome> {
        self.api.try_invoke(payload, timeout).await
    }
}

/// A new log file of a `label` process in `dir`.
fn log_path(dir: &Path, label: &str) -> PathBuf {
    dir.join(format!("{label}-{}.log", unique_suffix()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_never_kill_the_function_nor_leak_and_each_gets_its_class() {
    silence_check_panics();
    let binary = release_hydrate_binary();
    let setup_started = Instant::now();

    // The ground truth: small records (with the marker in their data), big
    // ones for the memory cases, a DynamoDB table, a bucket and a DLQ.
    let world = World::create().await;
    let dlq = create_queue("hostile-dlq").await;
    eprintln!(
        "hostile: setup (60 + 300 records of 100 KB on kinesis-mock, a table, a bucket, a queue) took {:.1?}; binary {}",
        setup_started.elapsed(),
        binary.display()
    );

    let env = |dlq: Option<&str>| {
        let mut env = vec![
            ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("S3_OBJECT_MAX_BYTES", S3_OBJECT_MAX_BYTES.to_string()),
        ];
        if let Some(url) = dlq {
            env.push(("DLQ_QUEUE_URL", url.to_owned()));
        }
        env
    };
    // After every case: a valid failure of three records hydrates complete, byte-exact.
    let canary_record = world.kinesis(0, 2, 3);
    let return_canary = Canary {
        payload: sns_of(&canary_record),
        check: world.complete(&canary_record, 0, 3),
    };
    let queue_canary_record = world.kinesis(3, 5, 3);
    let queue_canary = Canary {
        payload: bytes(&sqs_event(&[("canary".into(), text(&queue_canary_record))])),
        check: world.complete(&queue_canary_record, 3, 3),
    };
    // The processes' logs, removed at the end unless the test failed.
    let log_dir = WorkDir::new("hydrate-hostile-");
    let mut hosts = [
        Host::start("return", log_dir.path(), env(None), None, return_canary).await,
        Host::start(
            "queue",
            log_dir.path(),
            env(Some(&dlq)),
            Some(dlq.clone()),
            queue_canary,
        )
        .await,
    ];
    drain_all(&dlq).await;

    let cases = build_cases(&world).await;
    let mut per_trigger: BTreeMap<Trigger, usize> = BTreeMap::new();
    for c in &cases {
        *per_trigger.entry(c.trigger).or_default() += 1;
    }
    let planted_cases = cases
        .iter()
        .filter(|c| {
            let text = String::from_utf8_lossy(&c.payload);
            text.contains(MARKER) || text.contains("u005aQXMARKER")
        })
        .count();
    eprintln!(
        "hostile: {} cases {:?}, {} of them with the marker planted in the payload",
        cases.len(),
        per_trigger,
        planted_cases
    );
    // The tables held 180 rows when they replaced the written-out cases (138):
    // a row is dropped on purpose, by lowering this, never by accident.
    assert!(
        cases.len() >= 180,
        "at least 180 cases, not {}",
        cases.len()
    );

    let run_started = Instant::now();
    let mut mismatches: Vec<String> = Vec::new();
    let mut failed_cases = 0;
    for c in &cases {
        let host = match c.mode {
            Mode::Return => &mut hosts[0],
            Mode::Queue => &mut hosts[1],
        };
        let started = Instant::now();
        let outcome = host.invoke(c.payload.clone(), c.timeout).await;
        let mut problems = Vec::new();
        if let Err(why) = check_outcome(&c.expect, &outcome, host.dlq.as_deref()).await {
            problems.push(format!(
                "expected {}\n        got      {} — {why}",
                c.expect.describe(),
                summary(&outcome)
            ));
        }
        problems.extend(check_error_text(&outcome));
        let answered = outcome.is_some();
        if !host.process.is_running() {
            let status = host.process.exit_status(Duration::from_millis(100)).await;
            problems.push(format!(
                "the process died ({status:?}); its log: {}",
                shorten(&tail(&host.process.logs(), 1500), 1500)
            ));
            problems.extend(host.check_new_logs());
            host.respawn();
        } else if !answered {
            problems.push("no answer within the deadline: the process was replaced".into());
            problems.extend(host.check_new_logs());
            host.respawn();
        }
        // The canary, through the same process.
        let canary = host.invoke(host.canary.payload.clone(), TIMEOUT).await;
        let canary_result = match host.dlq.clone() {
            None => {
                check_outcome(
                    &Expect::Docs(vec![host.canary.check.clone()]),
                    &canary,
                    None,
                )
                .await
            }
            Some(queue) => {
                check_outcome(
                    &Expect::Batch {
                        failed: vec![],
                        delivered: vec![host.canary.check.clone()],
                    },
                    &canary,
                    Some(&queue),
                )
                .await
            }
        };
        if let Err(why) = canary_result {
            problems.push(format!(
                "the valid record after it did not hydrate: {} — {why}",
                summary(&canary)
            ));
            if !host.process.is_running() || canary.is_none() {
                host.respawn();
            }
        }
        problems.extend(host.check_new_logs());
        let peak = host.process.peak_rss_kib().unwrap_or(0);
        eprintln!(
            "{} [{:?}] {} ({:.0?}, peak {} MiB)",
            if problems.is_empty() { "ok  " } else { "FAIL" },
            c.trigger,
            c.name,
            started.elapsed(),
            peak / 1024
        );
        if !problems.is_empty() {
            failed_cases += 1;
            mismatches.push(format!(
                "[{:?}] {}\n      {}",
                c.trigger,
                c.name,
                problems.join("\n      ")
            ));
        }
    }

    // Peak memory of every process that served the suite.
    for host in &mut hosts {
        let mut peaks: Vec<Option<u64>> = host.replaced_peaks.clone();
        peaks.push(host.process.peak_rss_kib());
        for peak in peaks {
            match peak {
                Some(kib) if kib <= MEMORY_LIMIT_KIB => {}
                Some(kib) => mismatches.push(format!(
                    "[memory] the {} process peaked at {} KiB ({:.1} MiB), over 128 MiB",
                    host.label,
                    kib,
                    kib as f64 / 1024.0
                )),
                None => mismatches.push(format!(
                    "[memory] the {} process's peak is unknown (it died)",
                    host.label
                )),
            }
        }
        eprintln!(
            "hostile: {} process peak {:.1} MiB; logs {:?}",
            host.label,
            host.process.peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
            host.logs
        );
    }
    eprintln!(
        "hostile: {} cases {:?} in {:.1?}, {} failed",
        cases.len(),
        per_trigger,
        run_started.elapsed(),
        failed_cases
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} hostile cases failed:\n\n{}",
        failed_cases,
        cases.len(),
        mismatches.join("\n\n")
    );
}

/// The last `max` bytes of `text`, from a character boundary.
fn tail(text: &str, max: usize) -> String {
    let start = text.len().saturating_sub(max);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}
