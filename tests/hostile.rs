//! Hostile input against the release binary under the Lambda runtime
//! interface, with the emulators behind it.
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

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use base64::Engine;
use serde_json::{json, Value};

use hydrator_tests::check::{assert_conforms_to_schema, assert_records_are};
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint};
use hydrator_tests::failure::CONSUMER_ARN;
use hydrator_tests::hostile::{
    batch_info, encode_key, esm_record, kinesis_record, leak_in, nested, pipes_record, planted,
    s3_event, s3_record, sns_event, sns_notification, sns_record, sqs_event, sqs_record, text,
    write_in_calls, MARKER, PIPE_ARN,
};
use hydrator_tests::queue::{create_bucket, create_queue, drain_all, put_object};
use hydrator_tests::runtime_api::{release_hydrate_binary, FunctionProcess, Outcome, RuntimeApi};
use hydrator_tests::stream::{unique_suffix, TestStream, Written};
use hydrator_tests::table::{sequence_number, TestTable, KEY};

/// Lambda's memory size for the function (infra/template.yaml).
const MEMORY_LIMIT_KIB: u64 = 128 * 1024;
/// Lambda's limit on a synchronous invocation payload.
const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// `S3_OBJECT_MAX_BYTES` for the suite: small, so an oversized object stays cheap.
const S3_OBJECT_MAX_BYTES: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(20);
const LONG_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Trigger {
    Sns,
    Sqs,
    Direct,
    Pipes,
    S3,
}

/// Which process a case goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No DLQ_QUEUE_URL: documents are returned.
    Return,
    /// DLQ_QUEUE_URL set: SQS invocations.
    Queue,
}

struct Case {
    name: String,
    trigger: Trigger,
    mode: Mode,
    payload: Vec<u8>,
    expect: Expect,
    timeout: Duration,
}

enum Expect {
    /// The invocation fails with one of these `errorType`s.
    Error(Vec<&'static str>),
    /// Return mode: these documents, in order (one is returned bare, several as an array).
    Docs(Vec<DocCheck>),
    /// SQS: exactly these ids in `batchItemFailures`, and these documents in the queue.
    Batch {
        failed: Vec<String>,
        delivered: Vec<DocCheck>,
    },
    /// Any one of these.
    AnyOf(Vec<Expect>),
}

#[derive(Clone)]
struct DocCheck {
    /// `failure` of the document, compared as JSON.
    failure: Option<Value>,
    status: &'static str,
    reasons: Vec<&'static str>,
    origin: Option<&'static str>,
    records: Records,
}

#[derive(Clone)]
enum Records {
    /// Kinesis records, checked byte for byte with `assert_records_are`.
    Kinesis {
        written: Vec<Written>,
        arn: String,
        identity: String,
    },
    /// Exactly this `Records` array (an S3 payload's records).
    Exactly(Value),
    /// Only how many.
    Count(usize),
    Unchecked,
    /// Both checks.
    Both(Box<Records>, Box<Records>),
}

fn error(classes: &[&'static str]) -> Expect {
    Expect::Error(classes.to_vec())
}

fn input(class: &'static str) -> Expect {
    Expect::Error(vec![class])
}

impl Expect {
    fn describe(&self) -> String {
        match self {
            Expect::Error(classes) => format!("error {}", classes.join(" or ")),
            Expect::Docs(docs) => format!(
                "{} document(s) [{}]",
                docs.len(),
                docs.iter()
                    .map(DocCheck::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Expect::Batch { failed, delivered } => format!(
                "batchItemFailures {failed:?} and {} delivered [{}]",
                delivered.len(),
                delivered
                    .iter()
                    .map(DocCheck::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Expect::AnyOf(options) => options
                .iter()
                .map(Expect::describe)
                .collect::<Vec<_>>()
                .join(" | or | "),
        }
    }
}

impl DocCheck {
    fn describe(&self) -> String {
        let records = match &self.records {
            Records::Kinesis { written, .. } => format!("{} records byte-exact", written.len()),
            Records::Exactly(v) => {
                format!("the payload's {} records", v.as_array().map_or(0, Vec::len))
            }
            Records::Count(n) => format!("{n} records"),
            Records::Unchecked => "any records".into(),
            Records::Both(a, _) => match a.as_ref() {
                Records::Kinesis { written, .. } => {
                    format!("{} records byte-exact, as in the payload", written.len())
                }
                _ => "records as in the payload".into(),
            },
        };
        format!(
            "{} missing {:?}{} {records}",
            self.status,
            self.reasons,
            self.origin
                .map(|o| format!(" origin {o}"))
                .unwrap_or_default()
        )
    }

    /// What is wrong with `document`, if anything.
    fn check(&self, document: &Value) -> Result<(), String> {
        let h = &document["hydration"];
        let status = h["status"].as_str().unwrap_or("?");
        let reasons: Vec<&str> = h["missing"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|g| g["reason"].as_str().unwrap_or("?"))
                    .collect()
            })
            .unwrap_or_default();
        let count = document["Records"].as_array().map_or(0, Vec::len);
        let mut problems = Vec::new();
        if status != self.status || reasons != self.reasons {
            problems.push(format!("{status} missing {reasons:?} with {count} records"));
        }
        if let Some(origin) = self.origin {
            if h["origin"] != origin {
                problems.push(format!("origin {}", h["origin"]));
            }
        }
        if let Some(failure) = &self.failure {
            if &document["failure"] != failure {
                problems.push("`failure` is not the record as sent".into());
            }
        }
        check_records(&self.records, document, count, &mut problems);
        if let Err(message) = quietly(|| assert_conforms_to_schema(document)) {
            problems.push(format!("schema: {message}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join(", "))
        }
    }
}

fn check_records(records: &Records, document: &Value, count: usize, problems: &mut Vec<String>) {
    match records {
        Records::Kinesis {
            written,
            arn,
            identity,
        } => {
            if let Err(message) = quietly(|| assert_records_are(document, written, arn, identity)) {
                problems.push(format!("records: {message}"));
            }
        }
        Records::Exactly(records) => {
            if &document["Records"] != records {
                problems.push(format!("{count} records, not the payload's"));
            }
        }
        Records::Count(n) => {
            if count != *n {
                problems.push(format!("{count} records, not {n}"));
            }
        }
        Records::Unchecked => {}
        Records::Both(a, b) => {
            check_records(a, document, count, problems);
            check_records(b, document, count, problems);
        }
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs an assertion, turning its panic into the panic's message.
fn quietly(f: impl FnOnce()) -> Result<(), String> {
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "assertion failed".into());
        shorten(&text, 300)
    })
}

fn shorten(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', "⏎");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    }
}

/// Hides the panic messages of the checks run under `quietly`.
fn silence_check_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !QUIET.with(|q| q.get()) {
            default(info);
        }
    }));
}

/// One function process with its runtime API, respawned if it dies.
struct Host {
    label: &'static str,
    api: RuntimeApi,
    process: FunctionProcess,
    env: Vec<(&'static str, String)>,
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
        env: Vec<(&'static str, String)>,
        dlq: Option<String>,
        canary: Canary,
    ) -> Host {
        let api = RuntimeApi::start().await;
        let log = log_path(label);
        let process = FunctionProcess::spawn(&release_hydrate_binary(), &api, &env, &log);
        Host {
            label,
            api,
            process,
            env,
            logs: vec![log],
            log_offset: 0,
            replaced_peaks: Vec::new(),
            dlq,
            canary,
        }
    }

    fn respawn(&mut self) {
        self.replaced_peaks.push(self.process.peak_rss_kib());
        let log = log_path(self.label);
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

fn log_path(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hydrate-hostile-{label}-{}.log", unique_suffix()))
}

/// What came back, in a few words.
fn summary(outcome: &Option<Outcome>) -> String {
    match outcome {
        None => "no answer (process died or hung)".into(),
        Some(Outcome::Error(body)) => {
            let error: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            format!(
                "error {} ({})",
                error["errorType"].as_str().unwrap_or("?"),
                shorten(error["errorMessage"].as_str().unwrap_or(""), 160)
            )
        }
        Some(Outcome::Response(body)) => match serde_json::from_slice::<Value>(body) {
            Ok(value) => summarize_response(&value),
            Err(e) => format!(
                "a response of {} bytes that serde_json cannot read back ({e})",
                body.len()
            ),
        },
    }
}

fn summarize_response(value: &Value) -> String {
    let doc = |d: &Value| {
        let h = &d["hydration"];
        let reasons: Vec<&str> = h["missing"]
            .as_array()
            .map(|m| m.iter().filter_map(|g| g["reason"].as_str()).collect())
            .unwrap_or_default();
        format!(
            "{} missing {:?} with {} records",
            h["status"].as_str().unwrap_or("?"),
            reasons,
            d["Records"].as_array().map_or(0, Vec::len)
        )
    };
    if let Some(failures) = value.get("batchItemFailures") {
        return format!("batchItemFailures {}", shorten(&failures.to_string(), 300));
    }
    if value.get("delivered").is_some() {
        return format!("a delivery report {}", shorten(&value.to_string(), 200));
    }
    match value {
        Value::Array(docs) => format!(
            "{} documents [{}]",
            docs.len(),
            docs.iter().map(doc).collect::<Vec<_>>().join("; ")
        ),
        Value::Object(_) => format!("1 document [{}]", doc(value)),
        other => format!("response {}", shorten(&other.to_string(), 200)),
    }
}

/// Checks an outcome against what was expected; for SQS, drains the queue.
async fn check_outcome(
    expect: &Expect,
    outcome: &Option<Outcome>,
    dlq: Option<&str>,
) -> Result<(), String> {
    let Some(outcome) = outcome else {
        return Err("no answer".into());
    };
    match expect {
        Expect::AnyOf(options) => {
            let mut why = Vec::new();
            for option in options {
                match Box::pin(check_outcome(option, &Some(outcome.clone()), dlq)).await {
                    Ok(()) => return Ok(()),
                    Err(e) => why.push(e),
                }
            }
            Err(why.join(" / "))
        }
        Expect::Error(classes) => match outcome {
            Outcome::Error(body) => {
                let error: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let class = error["errorType"].as_str().unwrap_or("?");
                if classes.contains(&class) {
                    Ok(())
                } else {
                    Err(format!("errorType {class}"))
                }
            }
            Outcome::Response(_) => Err("a response, not an error".into()),
        },
        Expect::Docs(checks) => {
            let Outcome::Response(body) = outcome else {
                return Err("an error, not documents".into());
            };
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| format!("a response serde_json cannot read back ({e})"))?;
            let documents: Vec<&Value> = match (&value, checks.len()) {
                (Value::Array(docs), n) if n != 1 => docs.iter().collect(),
                (Value::Object(_), 1) => vec![&value],
                _ => return Err("not the expected number of documents".into()),
            };
            if documents.len() != checks.len() {
                return Err(format!("{} documents", documents.len()));
            }
            let problems: Vec<String> = checks
                .iter()
                .zip(&documents)
                .enumerate()
                .filter_map(|(i, (check, doc))| {
                    check.check(doc).err().map(|e| format!("document {i}: {e}"))
                })
                .collect();
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
        Expect::Batch { failed, delivered } => {
            let queue = dlq.expect("SQS cases run with a DLQ");
            let documents = drain_all(queue).await;
            let mut problems = Vec::new();
            match outcome {
                Outcome::Response(body) => {
                    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                    let mut got: Vec<String> = value["batchItemFailures"]
                        .as_array()
                        .map(|items| {
                            items
                                .iter()
                                .map(|i| i["itemIdentifier"].as_str().unwrap_or("?").to_owned())
                                .collect()
                        })
                        .unwrap_or_else(|| vec!["<no batchItemFailures>".into()]);
                    got.sort();
                    let mut want = failed.clone();
                    want.sort();
                    if got != want {
                        problems.push(format!("batchItemFailures {got:?}"));
                    }
                }
                Outcome::Error(_) => problems.push("an error, not a partial batch response".into()),
            }
            // Each expected document is matched to one delivered with the same `failure`.
            let mut unmatched: Vec<&Value> = documents.iter().collect();
            for check in delivered {
                let position = unmatched
                    .iter()
                    .position(|d| check.failure.as_ref().is_none_or(|f| &d["failure"] == f));
                match position {
                    Some(i) => {
                        let document = unmatched.remove(i);
                        if let Err(e) = check.check(document) {
                            problems.push(format!("delivered document: {e}"));
                        }
                    }
                    None => {
                        problems.push(format!("not delivered: a document {}", check.describe()))
                    }
                }
            }
            for extra in unmatched {
                problems.push(format!(
                    "delivered though not expected: {}",
                    summarize_response(extra)
                ));
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

/// Everything the suite checks about one error document, apart from its class.
fn check_error_text(outcome: &Option<Outcome>) -> Vec<String> {
    let Some(Outcome::Error(body)) = outcome else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(body);
    let mut problems = Vec::new();
    if let Some(term) = leak_in(&text) {
        problems.push(format!(
            "the error has the marker ({term}): {}",
            shorten(&text, 400)
        ));
    }
    let error: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = error["errorMessage"].as_str().unwrap_or("");
    if message.contains('\n') || message.len() > 1024 {
        problems.push(format!(
            "the error message is not one line within 1 KiB ({} bytes)",
            message.len()
        ));
    }
    problems
}

struct World {
    small: Vec<Written>,
    small_arn: String,
    big: Vec<Written>,
    big_arn: String,
    table_arn: String,
    table_shard: String,
    table_seqs: Vec<String>,
    bucket: String,
    /// The region of the kinesis-mock streams' ARNs.
    kinesis_region: String,
}

impl World {
    fn kinesis(&self, first: usize, last: usize, size: u64) -> Value {
        kinesis_record(&self.small_arn, &self.small, first, last, size)
    }

    fn written(&self, first: usize, count: usize) -> Records {
        Records::Kinesis {
            written: self.small[first..first + count].to_vec(),
            arn: self.small_arn.clone(),
            identity: CONSUMER_ARN.into(),
        }
    }

    /// A valid record with one batch field replaced (`None` removes it).
    fn with_field(&self, field: &str, value: Option<Value>) -> Value {
        let mut record = self.kinesis(20, 22, 3);
        let batch = record["KinesisBatchInfo"].as_object_mut().unwrap();
        match value {
            Some(v) => {
                batch.insert(field.into(), v);
            }
            None => {
                batch.remove(field);
            }
        }
        record
    }

    fn ddb_batch(&self, size: Value, arn: &str) -> Value {
        batch_info(
            &self.table_shard,
            &self.table_seqs[0],
            &self.table_seqs[2],
            size,
            arn,
        )
    }

    fn complete(&self, record: &Value, first: usize, count: usize) -> DocCheck {
        DocCheck {
            failure: Some(record.clone()),
            status: "complete",
            reasons: vec![],
            origin: Some("stream"),
            records: self.written(first, count),
        }
    }

    /// A forged wide range keeps `size` records from `first` and names the rest `over_budget`.
    fn over_budget(&self, record: &Value, first: usize, size: usize) -> DocCheck {
        DocCheck {
            failure: Some(record.clone()),
            status: "partial",
            reasons: vec!["over_budget"],
            origin: Some("stream"),
            records: self.written(first, size),
        }
    }
}

/// Kinesis event records as a consumer receives them, for S3 payloads: the
/// real sequence numbers of `written`, with planted partition keys and data.
fn payload_records(world: &World, written: &[Written]) -> (Value, Vec<Written>) {
    let mut expected = Vec::new();
    let records: Vec<Value> = written
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let key = format!("pk-{i} {MARKER}");
            let data = format!("{{\"card\":\"{MARKER}\",\"n\":{i}}}\u{0}\u{7f}").into_bytes();
            expected.push(Written {
                shard_id: w.shard_id.clone(),
                sequence_number: w.sequence_number.clone(),
                partition_key: key.clone(),
                data: data.clone(),
            });
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": w.sequence_number,
                    "data": base64::engine::general_purpose::STANDARD.encode(&data),
                    "approximateArrivalTimestamp": 1795426752.053,
                    "encryptionType": "NONE"
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{}:{}", w.shard_id, w.sequence_number),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": CONSUMER_ARN,
                "awsRegion": world.kinesis_region,
                "eventSourceARN": world.small_arn
            })
        })
        .collect();
    (Value::Array(records), expected)
}

fn object_without(object: &Value, field: &str) -> Value {
    let mut object = object.clone();
    object.as_object_mut().unwrap().remove(field);
    object
}

fn bytes(value: &Value) -> Vec<u8> {
    text(value).into_bytes()
}

fn sns_of(record: &Value) -> Vec<u8> {
    bytes(&sns_event(&[text(record)]))
}

fn case(name: impl Into<String>, trigger: Trigger, payload: Vec<u8>, expect: Expect) -> Case {
    let mode = if trigger == Trigger::Sqs {
        Mode::Queue
    } else {
        Mode::Return
    };
    Case {
        name: name.into(),
        trigger,
        mode,
        payload,
        expect,
        timeout: TIMEOUT,
    }
}

impl Case {
    fn queue(mut self) -> Self {
        self.mode = Mode::Queue;
        self
    }

    fn long(mut self) -> Self {
        self.timeout = LONG_TIMEOUT;
        self
    }
}

/// A valid record's JSON text cut in the middle.
fn truncated(record: &Value) -> String {
    let text = text(record);
    let cut = text.len() / 2;
    let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap();
    text[..cut].to_owned()
}

/// The text of `record` with `"zqx"` holding `depth` nested arrays.
fn deep_record(record: &Value, depth: usize) -> String {
    let mut text = text(record);
    text.truncate(text.len() - 1);
    text.push_str(&format!(
        ",\"zqx\":{}}}",
        nested(depth, &format!("\"{MARKER}\""))
    ));
    text
}

/// `record` with a large planted `zqxNote` so that its text is about `size` bytes.
fn padded(record: &Value, size: usize) -> Value {
    let mut record = record.clone();
    let unit = format!("{MARKER} junk ");
    record["zqxNote"] = Value::String(unit.repeat(size / unit.len() + 1));
    record
}

async fn build_cases(world: &World) -> Vec<Case> {
    use Trigger::*;
    let mut cases = Vec::new();
    let w = world;
    let valid = w.kinesis(20, 22, 3);
    let seq = |i: usize| w.small[i].sequence_number.clone();

    // ── Direct invocations: the bare on-failure record ──────────────────
    cases.push(case(
        "direct: record cut in half",
        Direct,
        truncated(&valid).into_bytes(),
        input("Input.InvalidJson"),
    ));
    cases.push(case(
        "direct: a lone `{`",
        Direct,
        b"{".to_vec(),
        input("Input.InvalidJson"),
    ));
    cases.push(case(
        "direct: record with 10,000 nested arrays",
        Direct,
        deep_record(&valid, 10_000).into_bytes(),
        input("Input.InvalidJson"),
    ));
    cases.push(case(
        "direct: 1 MiB of `[` and nothing else",
        Direct,
        "[".repeat(1 << 20).into_bytes(),
        input("Input.InvalidJson"),
    ));
    cases.push(case(
        "direct: 200 nested objects around the record",
        Direct,
        {
            let mut t = "{\"a\":".repeat(200);
            t.push_str(&text(&valid));
            t.push_str(&"}".repeat(200));
            t.into_bytes()
        },
        input("Input.InvalidJson"),
    ));
    {
        let mut payload = text(&valid).into_bytes();
        let at = text(&valid).find(MARKER).unwrap();
        payload.splice(at..at, [0xFF, 0xFE, 0xC3]);
        cases.push(case(
            "direct: bytes that are not UTF-8 inside a string",
            Direct,
            payload,
            input("Input.NotUtf8"),
        ));
        let mut overlong = text(&valid).into_bytes();
        overlong.splice(at..at, [0xC0, 0xAF, 0xED, 0xA0, 0x80]);
        cases.push(case(
            "direct: overlong and surrogate UTF-8 encodings",
            Direct,
            overlong,
            input("Input.NotUtf8"),
        ));
    }
    cases.push(
        case(
            "direct: a 6.5 MiB record",
            Direct,
            bytes(&padded(&valid, PAYLOAD_LIMIT + PAYLOAD_LIMIT / 12)),
            input("Input.PayloadTooLarge"),
        )
        .long(),
    );
    cases.push(case(
        "direct: a JSON array",
        Direct,
        bytes(&json!([valid.clone(), planted("x")])),
        error(&["Input.NotAnObject", "Input.UnsupportedEvent"]),
    ));
    cases.push(case(
        "direct: a JSON string",
        Direct,
        bytes(&json!(planted("x"))),
        error(&["Input.NotAnObject", "Input.UnsupportedEvent"]),
    ));
    cases.push(case(
        "direct: null",
        Direct,
        b"null".to_vec(),
        error(&["Input.NotAnObject", "Input.UnsupportedEvent"]),
    ));
    cases.push(case(
        "direct: a huge number",
        Direct,
        "9".repeat(100_000).into_bytes(),
        error(&[
            "Input.NotAnObject",
            "Input.UnsupportedEvent",
            "Input.InvalidJson",
        ]),
    ));
    cases.push(case(
        "direct: an object of planted strings",
        Direct,
        bytes(&json!({"zqx": planted("a"), "requestContext": {"requestId": planted("b")}})),
        error(&["Input.UnsupportedEvent", "Input.MissingBatchInfo"]),
    ));
    cases.push(case(
        "direct: KinesisBatchInfo is an array",
        Direct,
        bytes(&esm_record("KinesisBatchInfo", json!([planted("x")]))),
        input("Input.MalformedBatchInfo"),
    ));
    cases.push(case(
        "direct: KinesisBatchInfo is a string",
        Direct,
        bytes(&esm_record("KinesisBatchInfo", json!(planted("x")))),
        input("Input.MalformedBatchInfo"),
    ));
    cases.push(case(
        "direct: both KinesisBatchInfo and DDBStreamBatchInfo",
        Direct,
        {
            let mut r = valid.clone();
            r["DDBStreamBatchInfo"] = w.ddb_batch(json!(3), &w.table_arn);
            bytes(&r)
        },
        input("Input.AmbiguousBatchInfo"),
    ));
    {
        // The same key twice: a forged start after the real one.
        let t = text(&valid);
        let start = format!("\"startSequenceNumber\":\"{}\"", seq(20));
        let forged = format!("{start},\"startSequenceNumber\":\"{}\"", seq(0));
        assert!(t.contains(&start));
        cases.push(case(
            "direct: startSequenceNumber given twice",
            Direct,
            t.replace(&start, &forged).into_bytes(),
            error(&["Input.DuplicateField", "Input.MalformedBatchInfo"]),
        ));
        let info = format!("\"KinesisBatchInfo\":{}", valid["KinesisBatchInfo"]);
        let duplicate_info = t.replacen(
            "\"KinesisBatchInfo\":",
            &format!("{info},\"KinesisBatchInfo\":"),
            1,
        );
        cases.push(case(
            "direct: KinesisBatchInfo given twice",
            Direct,
            duplicate_info.into_bytes(),
            error(&[
                "Input.DuplicateField",
                "Input.MalformedBatchInfo",
                "Input.AmbiguousBatchInfo",
            ]),
        ));
    }
    for field in [
        "shardId",
        "startSequenceNumber",
        "endSequenceNumber",
        "batchSize",
        "streamArn",
    ] {
        cases.push(case(
            format!("direct: no {field}"),
            Direct,
            bytes(&w.with_field(field, None)),
            input("Input.MissingField"),
        ));
    }
    for (label, field, value) in [
        ("shardId is a number", "shardId", json!(12345)),
        ("batchSize is a string", "batchSize", json!("3")),
        (
            "startSequenceNumber is a 60-digit number",
            "startSequenceNumber",
            serde_json::from_str::<Value>(&"4".repeat(60)).unwrap(),
        ),
        (
            "streamArn is an object",
            "streamArn",
            json!({"arn": planted("arn")}),
        ),
        ("batchSize is null", "batchSize", Value::Null),
        ("batchSize is 3.5", "batchSize", json!(3.5)),
    ] {
        let expect = if label.ends_with("null") {
            error(&["Input.MalformedBatchInfo", "Input.MissingField"])
        } else {
            input("Input.MalformedBatchInfo")
        };
        cases.push(case(
            format!("direct: {label}"),
            Direct,
            bytes(&w.with_field(field, Some(value))),
            expect,
        ));
    }
    for (label, raw) in [
        ("batchSize 0", "0"),
        ("batchSize 10001", "10001"),
        ("batchSize 2^63", "9223372036854775808"),
    ] {
        let t =
            text(&w.with_field("batchSize", Some(json!("@@SIZE@@")))).replace("\"@@SIZE@@\"", raw);
        cases.push(case(
            format!("direct: {label}"),
            Direct,
            t.into_bytes(),
            input("Input.BatchSizeOutOfRange"),
        ));
    }
    for (label, raw) in [
        ("batchSize 1e30", "1e30"),
        ("batchSize 2^64", "18446744073709551616"),
        ("batchSize -1", "-1"),
        ("batchSize 1e400", "1e400"),
        ("batchSize with 5,000 digits", &*"7".repeat(5_000).leak()),
    ] {
        let t =
            text(&w.with_field("batchSize", Some(json!("@@SIZE@@")))).replace("\"@@SIZE@@\"", raw);
        cases.push(case(
            format!("direct: {label}"),
            Direct,
            t.into_bytes(),
            error(&[
                "Input.BatchSizeOutOfRange",
                "Input.MalformedBatchInfo",
                "Input.InvalidJson",
            ]),
        ));
    }
    for (label, value) in [
        ("a start of letters and the marker", planted("4960")),
        ("a start of 130 digits", "1".repeat(130)),
        ("a start of 100 KB of digits", "3".repeat(100_000)),
        ("an empty start", String::new()),
        ("a start with a leading zero", format!("0{}", seq(20))),
        ("a negative start", format!("-{}", seq(20))),
        ("a start in exponent form", "4.96e55".into()),
    ] {
        cases.push(case(
            format!("direct: {label}"),
            Direct,
            bytes(&w.with_field("startSequenceNumber", Some(json!(value)))),
            input("Input.InvalidSequenceNumber"),
        ));
    }
    let account = w.small_arn.split(':').nth(4).unwrap().to_owned();
    let region = w.kinesis_region.clone();
    for (label, arn) in [
        (
            "a stream ARN that is not an ARN",
            planted("arn:aws:kinesis"),
        ),
        (
            "a stream ARN in the made-up region us-fake-9",
            format!("arn:aws:kinesis:us-fake-9:{account}:stream/orders"),
        ),
        (
            "a stream ARN in the made-up region mars-north-1",
            format!("arn:aws:kinesis:mars-north-1:{account}:stream/orders"),
        ),
        (
            "a stream ARN whose region is not in its partition",
            format!("arn:aws-cn:kinesis:us-east-1:{account}:stream/orders"),
        ),
        (
            "a stream name with a newline and the marker",
            format!("arn:aws:kinesis:{region}:{account}:stream/orders\n{MARKER}\""),
        ),
        (
            "a stream name of 129 characters",
            format!(
                "arn:aws:kinesis:{region}:{account}:stream/{}",
                "s".repeat(129)
            ),
        ),
        (
            "a stream ARN of 100 KB",
            format!(
                "arn:aws:kinesis:{region}:{account}:stream/{}",
                "a".repeat(100_000)
            ),
        ),
        (
            "an account id of 100 digits",
            format!("arn:aws:kinesis:{region}:{}:stream/orders", "1".repeat(100)),
        ),
    ] {
        cases.push(case(
            format!("direct: {label}"),
            Direct,
            bytes(&w.with_field("streamArn", Some(json!(arn)))),
            input("Input.InvalidStreamArn"),
        ));
    }
    cases.push(case(
        "direct: KinesisBatchInfo names a DynamoDB stream",
        Direct,
        bytes(&w.with_field("streamArn", Some(json!(w.table_arn)))),
        input("Input.StreamKindMismatch"),
    ));
    cases.push(case(
        "direct: start after end",
        Direct,
        bytes(&w.with_field("startSequenceNumber", Some(json!(seq(40))))),
        input("Input.StartAfterEnd"),
    ));
    cases.push(case(
        "direct: an empty shard id",
        Direct,
        bytes(&w.with_field("shardId", Some(json!("")))),
        input("Input.EmptyShardId"),
    ));
    cases.push(case(
        "direct: a shard id of spaces",
        Direct,
        bytes(&w.with_field("shardId", Some(json!("   ")))),
        error(&["Input.EmptyShardId", "Input.InvalidShardId"]),
    ));
    cases.push(case(
        "direct: a shard id of 100 KB",
        Direct,
        bytes(&w.with_field(
            "shardId",
            Some(json!(format!("shardId-{}", "0".repeat(100_000)))),
        )),
        input("Input.InvalidShardId"),
    ));
    cases.push(case(
        "direct: a shard id with a newline and the marker",
        Direct,
        bytes(&w.with_field(
            "shardId",
            Some(json!(format!(
                "shardId-000000000000\n{{\"level\":\"ERROR\",\"zqx\":\"{MARKER}\"}}"
            ))),
        )),
        input("Input.InvalidShardId"),
    ));
    {
        let record = w.kinesis(0, 50, 1);
        cases.push(case(
            "direct: forged wide range, batchSize 1 over 51 records",
            Direct,
            bytes(&record),
            Expect::Docs(vec![w.over_budget(&record, 0, 1)]),
        ));
        let record = w.kinesis(10, 59, 3);
        cases.push(case(
            "direct: forged wide range, batchSize 3 over 50 records",
            Direct,
            bytes(&record),
            Expect::Docs(vec![w.over_budget(&record, 10, 3)]),
        ));
    }
    {
        let record = kinesis_record(&w.big_arn, &w.big, 0, w.big.len() - 1, 1);
        cases.push(
            case(
                "direct: forged range, batchSize 1 over 300 records of 100 KB",
                Direct,
                bytes(&record),
                Expect::Docs(vec![DocCheck {
                    failure: Some(record.clone()),
                    status: "partial",
                    reasons: vec!["over_budget"],
                    origin: Some("stream"),
                    records: Records::Kinesis {
                        written: w.big[..1].to_vec(),
                        arn: w.big_arn.clone(),
                        identity: CONSUMER_ARN.into(),
                    },
                }]),
            )
            .long(),
        );
        let record = kinesis_record(&w.big_arn, &w.big, 0, w.big.len() - 1, w.big.len() as u64);
        cases.push(
            case(
                "direct: 300 records of 100 KB (30 MB) with a matching batchSize",
                Direct,
                bytes(&record),
                Expect::AnyOf(vec![
                    input("Response.TooLarge"),
                    Expect::Docs(vec![DocCheck {
                        failure: Some(record.clone()),
                        status: "partial",
                        reasons: vec!["over_budget"],
                        origin: Some("stream"),
                        records: Records::Unchecked,
                    }]),
                ]),
            )
            .long(),
        );
    }
    {
        let huge = "9".repeat(129);
        let mut record = w.with_field("startSequenceNumber", Some(json!(huge)));
        record["KinesisBatchInfo"]["endSequenceNumber"] = json!(huge);
        record["KinesisBatchInfo"]["batchSize"] = json!(1);
        // Kinesis answers a number not of the shard with InvalidArgumentException
        // (Read.InvalidStart after the trim-horizon check); kinesis-mock answers
        // ResourceNotFoundException, which reads as a stream that is gone.
        cases.push(case(
            "direct: the largest sequence number there is (129 nines)",
            Direct,
            bytes(&record),
            Expect::AnyOf(vec![
                error(&["Read.InvalidStart", "Read.Validation"]),
                Expect::Docs(vec![DocCheck {
                    failure: Some(record.clone()),
                    status: "unavailable",
                    reasons: vec!["stream_not_found"],
                    origin: Some("stream"),
                    records: Records::Count(0),
                }]),
            ]),
        ));
    }
    {
        let mut record = w.with_field(
            "streamArn",
            Some(json!(format!(
                "arn:aws:kinesis:{region}:{account}:stream/no-such-stream-{}",
                unique_suffix()
            ))),
        );
        record["KinesisBatchInfo"]["batchSize"] = json!(3);
        cases.push(case(
            "direct: a stream that does not exist",
            Direct,
            bytes(&record),
            Expect::Docs(vec![DocCheck {
                failure: Some(record.clone()),
                status: "unavailable",
                reasons: vec!["stream_not_found"],
                origin: Some("stream"),
                records: Records::Count(0),
            }]),
        ));
    }
    {
        let mut record = w.kinesis(30, 32, 3);
        record["requestContext"]["condition"] = json!("RecordAgeExceeded");
        record.as_object_mut().unwrap().remove("responseContext");
        cases.push(case(
            "direct (documented): RecordAgeExceeded without responseContext",
            Direct,
            bytes(&record),
            Expect::Docs(vec![w.complete(&record, 30, 3)]),
        ));
        let mut record = w.kinesis(33, 34, 2);
        record["responseContext"]["functionError"] = Value::Null;
        cases.push(case(
            "direct (documented): functionError null",
            Direct,
            bytes(&record),
            Expect::Docs(vec![w.complete(&record, 33, 2)]),
        ));
    }

    // ── SNS ─────────────────────────────────────────────────────────────
    for (label, message, expect) in [
        (
            "Message is an object",
            json!({"zqx": planted("m")}),
            input("Input.MalformedEnvelope"),
        ),
        (
            "Message is a number",
            json!(4111111111111111u64),
            input("Input.MalformedEnvelope"),
        ),
        (
            "Message is null",
            Value::Null,
            input("Input.MalformedEnvelope"),
        ),
        (
            "Message is a JSON array",
            json!(text(&json!([1, planted("x")]))),
            input("Input.NotAnObject"),
        ),
        (
            "Message is a JSON string",
            json!(text(&json!(planted("x")))),
            input("Input.NotAnObject"),
        ),
        (
            "Message has no batch info",
            json!(text(
                &json!({"requestContext": {"requestId": planted("r")}, "version": planted("v")})
            )),
            input("Input.MissingBatchInfo"),
        ),
        (
            "Message holds a Kafka batch",
            json!(text(
                &json!({"requestContext": {"requestId": planted("r")}, "KafkaBatchInfo": {"batchSize": 1, "eventSourceArn": planted("arn")}})
            )),
            error(&["Input.MissingBatchInfo", "Input.UnsupportedEvent"]),
        ),
        (
            "Message is cut in half",
            json!(truncated(&valid)),
            input("Input.InvalidJson"),
        ),
        (
            "Message is 300 nested arrays",
            json!(nested(300, &format!("\"{MARKER}\""))),
            error(&["Input.InvalidJson", "Input.NotAnObject"]),
        ),
        (
            "Message is a record with 300 nested arrays in it",
            json!(deep_record(&valid, 300)),
            input("Input.InvalidJson"),
        ),
        (
            "Message has a 130-digit end",
            json!(text(&w.with_field(
                "endSequenceNumber",
                Some(json!("5".repeat(130)))
            ))),
            input("Input.InvalidSequenceNumber"),
        ),
        (
            "Message has start after end",
            json!(text(
                &w.with_field("endSequenceNumber", Some(json!(seq(1))))
            )),
            input("Input.StartAfterEnd"),
        ),
        (
            "Message has batchSize 0",
            json!(text(&w.with_field("batchSize", Some(json!(0))))),
            input("Input.BatchSizeOutOfRange"),
        ),
    ] {
        cases.push(case(
            format!("sns: {label}"),
            Sns,
            bytes(&json!({"Records": [sns_record(message)]})),
            expect,
        ));
    }
    {
        let mut record = sns_record(json!(text(&valid)));
        record.as_object_mut().unwrap().remove("Sns");
        cases.push(case(
            "sns: no Sns",
            Sns,
            bytes(&json!({"Records": [record]})),
            input("Input.MalformedEnvelope"),
        ));
        let mut record = sns_record(json!(text(&valid)));
        record["Sns"] = json!(planted("sns"));
        cases.push(case(
            "sns: Sns is a string",
            Sns,
            bytes(&json!({"Records": [record]})),
            input("Input.MalformedEnvelope"),
        ));
    }
    {
        // 5 MiB of junk in one Message, within the payload limit.
        let unit = format!("{MARKER}{{[\"");
        let junk = unit.repeat((5 << 20) / unit.len());
        let payload = bytes(&json!({"Records": [sns_record(json!(junk))]}));
        assert!(payload.len() < PAYLOAD_LIMIT, "{}", payload.len());
        cases.push(
            case(
                "sns: 5 MiB of junk in Message",
                Sns,
                payload,
                input("Input.InvalidJson"),
            )
            .long(),
        );
        let payload =
            bytes(&json!({"Records": [sns_record(json!(text(&padded(&valid, 7 << 20))))]}));
        cases.push(
            case(
                "sns: a 7 MiB event",
                Sns,
                payload,
                input("Input.PayloadTooLarge"),
            )
            .long(),
        );
    }
    cases.push(case(
        "sns: the second of two records has start after end",
        Sns,
        bytes(&sns_event(&[
            text(&valid),
            text(&w.with_field("startSequenceNumber", Some(json!(seq(40))))),
        ])),
        input("Input.StartAfterEnd"),
    ));
    cases.push(case(
        "sns: 500 records, each in a made-up region",
        Sns,
        bytes(&sns_event(
            &(0..500)
                .map(|i| {
                    text(&w.with_field(
                        "streamArn",
                        Some(json!(format!(
                            "arn:aws:kinesis:zz-fake-{i}:{account}:stream/orders"
                        ))),
                    ))
                })
                .collect::<Vec<_>>(),
        )),
        input("Input.InvalidStreamArn"),
    ));
    {
        let record = w.kinesis(40, 42, 3);
        cases.push(case(
            "sns: the same record twice",
            Sns,
            bytes(&sns_event(&[text(&record), text(&record)])),
            Expect::Docs(vec![w.complete(&record, 40, 3), w.complete(&record, 40, 3)]),
        ));
        let record = w.kinesis(5, 45, 2);
        cases.push(case(
            "sns: forged wide range, batchSize 2 over 41 records",
            Sns,
            sns_of(&record),
            Expect::Docs(vec![w.over_budget(&record, 5, 2)]),
        ));
    }
    cases.push(case(
        "sns: no records",
        Sns,
        bytes(&json!({"Records": []})),
        input("Input.EmptyEvent"),
    ));
    cases.push(case(
        "sns: an SNS and an SQS record",
        Sns,
        bytes(&json!({"Records": [sns_record(json!(text(&valid))), sqs_record("m-1", json!(text(&valid)))]})),
        input("Input.MixedEvent"),
    ));
    cases.push(case(
        "sns: an SNS and an unknown record",
        Sns,
        bytes(&json!({"Records": [sns_record(json!(text(&valid))), {"EventSource": planted("src"), "zqx": planted("x")}]})),
        error(&["Input.MixedEvent", "Input.UnsupportedEvent"]),
    ));
    cases.push(case(
        "sns: Records is an object",
        Sns,
        bytes(&json!({"Records": {"0": sns_record(json!(text(&valid)))}})),
        error(&["Input.UnsupportedEvent", "Input.MalformedEnvelope"]),
    ));
    cases.push(case(
        "sns: Records holds strings",
        Sns,
        bytes(&json!({"Records": [planted("a"), planted("b")]})),
        error(&["Input.UnsupportedEvent", "Input.MalformedEnvelope"]),
    ));
    cases.push(case(
        "sns: a DynamoDB record whose table name has 2 characters",
        Sns,
        sns_of(&esm_record(
            "DDBStreamBatchInfo",
            w.ddb_batch(
                json!(3),
                &w.table_arn.replacen(&table_name(&w.table_arn), "ab", 1),
            ),
        )),
        input("Input.InvalidStreamArn"),
    ));

    // ── EventBridge Pipes ───────────────────────────────────────────────
    {
        let record = pipes_record(
            "KinesisBatchInfo",
            w.kinesis(12, 15, 4)["KinesisBatchInfo"].clone(),
        );
        cases.push(case(
            "pipes: a Kinesis dead-letter record",
            Pipes,
            bytes(&record),
            Expect::Docs(vec![DocCheck {
                records: Records::Kinesis {
                    written: w.small[12..16].to_vec(),
                    arn: w.small_arn.clone(),
                    identity: PIPE_ARN.into(),
                },
                ..w.complete(&record, 12, 4)
            }]),
        ));
        let record = pipes_record("DDBStreamBatchInfo", w.ddb_batch(json!(3), &w.table_arn));
        cases.push(case(
            "pipes: a DynamoDB dead-letter record",
            Pipes,
            bytes(&record),
            Expect::Docs(vec![DocCheck {
                failure: Some(record.clone()),
                status: "complete",
                reasons: vec![],
                origin: Some("stream"),
                records: Records::Count(3),
            }]),
        ));
        let mut record = pipes_record(
            "KinesisBatchInfo",
            w.kinesis(12, 15, 4)["KinesisBatchInfo"].clone(),
        );
        record["context"] = json!(planted("context"));
        // The consumer's ARN is optional, so a context of the wrong type may be
        // refused or passed over; either way nothing else changes.
        cases.push(case(
            "pipes: context is a string",
            Pipes,
            bytes(&record),
            Expect::AnyOf(vec![
                error(&["Input.MalformedBatchInfo", "Input.MalformedEnvelope"]),
                Expect::Docs(vec![DocCheck {
                    failure: Some(record.clone()),
                    status: "complete",
                    reasons: vec![],
                    origin: Some("stream"),
                    records: Records::Count(4),
                }]),
            ]),
        ));
        let name = table_name(&w.table_arn);
        for (label, arn) in [
            (
                "a table name of 2 characters",
                w.table_arn.replacen(&name, "ab", 1),
            ),
            (
                "a table name of 256 characters",
                w.table_arn.replacen(&name, &"t".repeat(256), 1),
            ),
            (
                "a table name with the marker and a quote",
                w.table_arn.replacen(&name, &format!("t\"{MARKER}"), 1),
            ),
            (
                "a DynamoDB stream in the made-up region eu-fake-1",
                replace_region(&w.table_arn, "eu-fake-1"),
            ),
        ] {
            cases.push(case(
                format!("pipes: {label}"),
                Pipes,
                bytes(&pipes_record(
                    "DDBStreamBatchInfo",
                    w.ddb_batch(json!(3), &arn),
                )),
                input("Input.InvalidStreamArn"),
            ));
        }
        cases.push(case(
            "pipes: DDBStreamBatchInfo names a Kinesis stream",
            Pipes,
            bytes(&pipes_record(
                "DDBStreamBatchInfo",
                w.ddb_batch(json!(3), &w.small_arn),
            )),
            input("Input.StreamKindMismatch"),
        ));
        let mut batch = w.ddb_batch(json!(3), &w.table_arn);
        batch["endSequenceNumber"] = json!(planted("100000"));
        cases.push(case(
            "pipes: a DynamoDB end of letters",
            Pipes,
            bytes(&pipes_record("DDBStreamBatchInfo", batch)),
            input("Input.InvalidSequenceNumber"),
        ));
        let record = pipes_record(
            "KinesisBatchInfo",
            w.kinesis(2, 52, 1)["KinesisBatchInfo"].clone(),
        );
        cases.push(case(
            "pipes: forged wide range, batchSize 1 over 51 records",
            Pipes,
            bytes(&record),
            Expect::Docs(vec![DocCheck {
                records: Records::Kinesis {
                    written: w.small[2..3].to_vec(),
                    arn: w.small_arn.clone(),
                    identity: PIPE_ARN.into(),
                },
                ..w.over_budget(&record, 2, 1)
            }]),
        ));
    }

    // ── S3 on-failure destination objects ───────────────────────────────
    cases.extend(s3_cases(world).await);

    // ── SQS ─────────────────────────────────────────────────────────────
    cases.extend(sqs_cases(world));
    cases
}

fn table_name(table_arn: &str) -> String {
    table_arn
        .split(":table/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

fn replace_region(arn: &str, region: &str) -> String {
    let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts[3] = region;
    parts.join(":")
}

async fn s3_cases(w: &World) -> Vec<Case> {
    use Trigger::S3;
    let mut cases = Vec::new();
    let bucket = &w.bucket;
    let put = |key: String, body: Vec<u8>| async move {
        put_object(bucket, &key, body).await;
        key
    };
    let event = |key: &str| bytes(&s3_event(bucket, &[key]));

    // The documented shape: `payload` a string holding the event, the key URL-encoded.
    let record = w.kinesis(6, 8, 3);
    let (records, expected) = payload_records(w, &w.small[6..9]);
    let mut object = record.clone();
    object["payload"] = json!(text(&json!({ "Records": records })));
    let key = put(
        format!("aws/lambda/3f7c1f9e-0d1b-4a35-9f0e-4c3b2a1d0e9f/shardId-000000000000/2026/11/21/2026-11-21T06.12.09-8d2b {}+x:y=z.json", unique_suffix()),
        bytes(&object),
    )
    .await;
    let payload_doc = |object: &Value, records: &Value, expected: &[Written]| {
        DocCheck {
            failure: Some(object_without(object, "payload")),
            status: "complete",
            reasons: vec![],
            origin: Some("s3-payload"),
            records: Records::Kinesis {
                written: expected.to_vec(),
                arn: w.small_arn.clone(),
                identity: CONSUMER_ARN.into(),
            },
        }
        .with_exact(records)
    };
    cases.push(case(
        "s3 (documented): string payload, encoded key with a space, `+`, `:` and `=`",
        S3,
        event(&key),
        Expect::Docs(vec![payload_doc(&object, &records, &expected)]),
    ));
    let string_payload_key = key.clone();

    // The emulators' shape: `payload` an object.
    let mut object = record.clone();
    object["payload"] = json!({ "Records": records });
    let key = put(
        format!("objects/payload-object-{}.json", unique_suffix()),
        bytes(&object),
    )
    .await;
    cases.push(case(
        "s3: payload as an object",
        S3,
        event(&key),
        Expect::Docs(vec![payload_doc(&object, &records, &expected)]),
    ));
    cases.push(case(
        "s3: the same object twice in one event",
        S3,
        bytes(&s3_event(bucket, &[&key, &key])),
        Expect::Docs(vec![
            payload_doc(&object, &records, &expected),
            payload_doc(&object, &records, &expected),
        ]),
    ));

    // No payload: read from the stream.
    let record = w.kinesis(9, 11, 3);
    let key = put(
        format!("objects/no-payload-{}.json", unique_suffix()),
        bytes(&record),
    )
    .await;
    cases.push(case(
        "s3: an object without payload",
        S3,
        event(&key),
        Expect::Docs(vec![w.complete(&record, 9, 3)]),
    ));

    // A payload that holds fewer records than the batch: partial, and nothing invented.
    let (one, _) = payload_records(w, &w.small[6..7]);
    let mut object = w.kinesis(6, 8, 3);
    object["payload"] = json!({ "Records": one });
    let key = put(
        format!("objects/short-payload-{}.json", unique_suffix()),
        bytes(&object),
    )
    .await;
    cases.push(case(
        "s3: a payload with 1 record of a batch of 3",
        S3,
        event(&key),
        Expect::Docs(vec![DocCheck {
            failure: Some(object_without(&object, "payload")),
            status: "partial",
            reasons: vec!["count_mismatch"],
            origin: Some("s3-payload"),
            records: Records::Exactly(one.clone()),
        }]),
    ));

    cases.push(case(
        "s3: an object that does not exist (the marker in its key)",
        S3,
        event(&format!("missing/{MARKER} \"x\"\n{}.json", unique_suffix())),
        input("Fetch.S3"),
    ));
    let key = put(
        format!("objects/big-{}.json", unique_suffix()),
        bytes(&padded(&record, 2 << 20)),
    )
    .await;
    cases.push(case(
        "s3: a 2 MiB object",
        S3,
        event(&key),
        input("Input.ObjectTooLarge"),
    ));

    for (label, payload) in [
        ("payload is a number", json!(4111111111111111u64)),
        (
            "payload is a string that is not JSON",
            json!(planted("payload")),
        ),
        (
            "payload is a string holding Records 5",
            json!(text(&json!({"Records": 5, "zqx": planted("p")}))),
        ),
        (
            "payload is an object with Records a string",
            json!({"Records": planted("records")}),
        ),
        (
            "payload is a string holding a cut event",
            json!(truncated(&json!({"Records": records}))),
        ),
    ] {
        let mut object = record.clone();
        object["payload"] = payload;
        let key = put(
            format!("objects/bad-payload-{}.json", unique_suffix()),
            bytes(&object),
        )
        .await;
        cases.push(case(
            format!("s3: {label}"),
            S3,
            event(&key),
            input("Input.MalformedPayload"),
        ));
    }
    let key = put(
        format!("objects/cut-{}.json", unique_suffix()),
        truncated(&record).into_bytes(),
    )
    .await;
    cases.push(case(
        "s3: an object cut in half",
        S3,
        event(&key),
        input("Input.InvalidJson"),
    ));
    let key = put(
        format!("objects/deep-{}.json", unique_suffix()),
        deep_record(&record, 50_000).into_bytes(),
    )
    .await;
    cases.push(case(
        "s3: an object with 50,000 nested arrays",
        S3,
        event(&key),
        input("Input.InvalidJson"),
    ));
    let mut not_utf8 = bytes(&record);
    let at = text(&record).find(MARKER).unwrap();
    not_utf8.splice(at..at, [0xFF, 0xC3]);
    let key = put(
        format!("objects/not-utf8-{}.json", unique_suffix()),
        not_utf8,
    )
    .await;
    cases.push(case(
        "s3: an object that is not UTF-8",
        S3,
        event(&key),
        error(&["Input.NotUtf8", "Input.InvalidJson"]),
    ));
    let key = put(
        format!("objects/array-{}.json", unique_suffix()),
        bytes(&json!([planted("a")])),
    )
    .await;
    cases.push(case(
        "s3: an object that is a JSON array",
        S3,
        event(&key),
        error(&["Input.NotAnObject", "Input.InvalidJson"]),
    ));
    let mut reversed = record.clone();
    reversed["KinesisBatchInfo"]["startSequenceNumber"] = json!(w.small[50].sequence_number);
    let key = put(
        format!("objects/reversed-{}.json", unique_suffix()),
        bytes(&reversed),
    )
    .await;
    cases.push(case(
        "s3: an object whose start is after its end",
        S3,
        event(&key),
        input("Input.StartAfterEnd"),
    ));

    // The event itself.
    let encoded = encode_key(&string_payload_key);
    for (label, records, expect) in [
        (
            "awsRegion us-fake-9",
            vec![s3_record("us-fake-9", json!(bucket), json!(encoded))],
            input("Input.UnknownRegion"),
        ),
        (
            "4,000 records in made-up regions",
            (0..4000)
                .map(|i| {
                    let region = ["us-fake-9", "mars-north-1", "eu-west-99", "ap-nowhere-1"][i % 4];
                    s3_record(region, json!(bucket), json!(encoded))
                })
                .collect(),
            input("Input.UnknownRegion"),
        ),
        (
            "awsRegion is a number",
            vec![s3_record("us-east-1", json!(bucket), json!(encoded))],
            input("Input.MalformedEnvelope"),
        ),
        (
            "the bucket name is a number",
            vec![s3_record("us-east-1", json!(12345), json!(encoded))],
            input("Input.MalformedEnvelope"),
        ),
        (
            "the key is not URL encoding",
            vec![s3_record(
                "us-east-1",
                json!(bucket),
                json!(format!("a%zz{MARKER}")),
            )],
            input("Input.MalformedEnvelope"),
        ),
        (
            "the key is an array",
            vec![s3_record("us-east-1", json!(bucket), json!([planted("k")]))],
            input("Input.MalformedEnvelope"),
        ),
        (
            "no s3.object",
            vec![s3_record("us-east-1", json!(bucket), json!(encoded))],
            input("Input.MalformedEnvelope"),
        ),
        (
            "an S3 and an SNS record",
            vec![
                s3_record("us-east-1", json!(bucket), json!(encoded)),
                sns_record(json!("{}")),
            ],
            input("Input.MixedEvent"),
        ),
    ] {
        let mut records = records;
        if label == "awsRegion is a number" {
            records[0]["awsRegion"] = json!(4111);
        }
        if label == "no s3.object" {
            records[0]["s3"].as_object_mut().unwrap().remove("object");
        }
        let payload = bytes(&json!({ "Records": records }));
        assert!(
            payload.len() < PAYLOAD_LIMIT,
            "{label}: {} bytes",
            payload.len()
        );
        let mut c = case(format!("s3: {label}"), S3, payload, expect);
        if label.starts_with("4,000") {
            c = c.long();
        }
        cases.push(c);
    }
    cases
}

impl DocCheck {
    /// Also: `Records` exactly these (an S3 payload's, as saved).
    fn with_exact(self, records: &Value) -> DocCheck {
        DocCheck {
            records: Records::Both(
                Box::new(self.records),
                Box::new(Records::Exactly(records.clone())),
            ),
            ..self
        }
    }
}

fn sqs_cases(w: &World) -> Vec<Case> {
    use Trigger::{Pipes, Sqs};
    let mut cases = Vec::new();
    let id = |label: &str| format!("{label}-{}", unique_suffix());
    let valid = w.kinesis(20, 22, 3);

    // The documented SNS → SQS shapes, on their own.
    let record = w.kinesis(23, 25, 3);
    let raw = id("raw");
    cases.push(case(
        "sqs (documented): SNS to SQS with raw message delivery",
        Sqs,
        bytes(&sqs_event(&[(raw, text(&record))])),
        Expect::Batch {
            failed: vec![],
            delivered: vec![w.complete(&record, 23, 3)],
        },
    ));
    let record = w.kinesis(26, 27, 2);
    cases.push(case(
        "sqs (documented): SNS to SQS without raw message delivery",
        Sqs,
        bytes(&sqs_event(&[(
            id("wrapped"),
            text(&sns_notification(json!(text(&record)))),
        )])),
        Expect::Batch {
            failed: vec![],
            delivered: vec![w.complete(&record, 26, 2)],
        },
    ));

    // A batch of ten that mixes good and bad messages.
    {
        let good_raw = w.kinesis(0, 1, 2);
        let good_wrapped = w.kinesis(2, 4, 3);
        let good_pipe = pipes_record(
            "KinesisBatchInfo",
            w.kinesis(5, 5, 1)["KinesisBatchInfo"].clone(),
        );
        let good_ddb = pipes_record("DDBStreamBatchInfo", w.ddb_batch(json!(3), &w.table_arn));
        let forged = w.kinesis(30, 55, 2);
        let ids: Vec<String> = (0..10).map(|i| id(&format!("mixed{i}"))).collect();
        let bodies = vec![
            text(&good_raw),
            text(&sns_notification(json!(text(&good_wrapped)))),
            truncated(&valid),
            text(&w.with_field(
                "startSequenceNumber",
                Some(json!(w.small[40].sequence_number)),
            )),
            text(&good_pipe),
            nested(500, &format!("\"{MARKER}\"")),
            text(&good_ddb),
            text(&sns_notification(json!(4111))),
            format!("{MARKER}{}", "\u{1}junk{".repeat(20_000)),
            text(&forged),
        ];
        let messages: Vec<(String, String)> = ids.iter().cloned().zip(bodies).collect();
        cases.push(case(
            "sqs: ten messages, five bad (cut, start after end, deep nesting, SNS Message a number, 100 KB of junk), five good (raw, SNS-wrapped, Pipes Kinesis, Pipes DynamoDB, forged wide range)",
            Sqs,
            bytes(&sqs_event(&messages)),
            Expect::Batch {
                failed: [2, 3, 5, 7, 8].iter().map(|&i| ids[i].clone()).collect(),
                delivered: vec![
                    w.complete(&good_raw, 0, 2),
                    w.complete(&good_wrapped, 2, 3),
                    DocCheck {
                        records: Records::Kinesis {
                            written: w.small[5..6].to_vec(),
                            arn: w.small_arn.clone(),
                            identity: PIPE_ARN.into(),
                        },
                        ..w.complete(&good_pipe, 5, 1)
                    },
                    DocCheck {
                        failure: Some(good_ddb.clone()),
                        status: "complete",
                        reasons: vec![],
                        origin: Some("stream"),
                        records: Records::Count(3),
                    },
                    w.over_budget(&forged, 30, 2),
                ],
            },
        ));
    }
    {
        // Bodies of the wrong type, next to good messages.
        let good = w.kinesis(46, 47, 2);
        let ids: Vec<String> = (0..4).map(|i| id(&format!("types{i}"))).collect();
        let records = vec![
            sqs_record(&ids[0], json!(text(&good))),
            sqs_record(&ids[1], json!({"body": planted("b")})),
            sqs_record(&ids[2], Value::Null),
            {
                let mut r = sqs_record(&ids[3], json!(text(&good)));
                r.as_object_mut().unwrap().remove("body");
                r
            },
        ];
        cases.push(case(
            "sqs: bodies that are an object, null and missing, next to a good message",
            Sqs,
            bytes(&json!({ "Records": records })),
            Expect::Batch {
                failed: ids[1..].to_vec(),
                delivered: vec![w.complete(&good, 46, 2)],
            },
        ));
    }
    {
        // Ten bad messages, each its own defect.
        let account = w.small_arn.split(':').nth(4).unwrap();
        let bodies = vec![
            text(&w.with_field("streamArn", None)),
            text(&w.with_field("endSequenceNumber", Some(json!(planted("1"))))),
            text(&w.with_field(
                "streamArn",
                Some(json!(format!(
                    "arn:aws:kinesis:us-fake-9:{account}:stream/orders"
                ))),
            )),
            text(&w.with_field("streamArn", Some(json!(w.table_arn)))),
            text(&w.with_field("batchSize", Some(json!(0)))),
            text(&w.with_field("shardId", Some(json!("")))),
            text(&w.with_field("shardId", Some(json!(format!("shardId-0\n{MARKER}"))))),
            text(&{
                let mut r = valid.clone();
                r["DDBStreamBatchInfo"] = w.ddb_batch(json!(3), &w.table_arn);
                r
            }),
            text(&json!([planted("x")])),
            text(&json!({"requestContext": {"requestId": planted("r")}})),
        ];
        let ids: Vec<String> = (0..10).map(|i| id(&format!("bad{i}"))).collect();
        let messages: Vec<(String, String)> = ids.iter().cloned().zip(bodies).collect();
        cases.push(case(
            "sqs: ten bad messages, each a different defect",
            Sqs,
            bytes(&sqs_event(&messages)),
            Expect::Batch {
                failed: ids,
                delivered: vec![],
            },
        ));
    }
    {
        let record = w.kinesis(48, 49, 2);
        let a = id("dup-a");
        let b = id("dup-b");
        cases.push(case(
            "sqs: the same good body in two messages",
            Sqs,
            bytes(&sqs_event(&[(a, text(&record)), (b, text(&record))])),
            Expect::Batch {
                failed: vec![],
                delivered: vec![w.complete(&record, 48, 2), w.complete(&record, 48, 2)],
            },
        ));
    }
    {
        let hostile_id = format!("id\"with\nnewline\u{1}-{}", unique_suffix());
        let good = id("next-to-hostile-id");
        let record = w.kinesis(50, 50, 1);
        cases.push(case(
            "sqs: a bad message whose id holds a quote and a newline",
            Sqs,
            bytes(&sqs_event(&[
                (hostile_id.clone(), truncated(&valid)),
                (good, text(&record)),
            ])),
            Expect::Batch {
                failed: vec![hostile_id],
                delivered: vec![w.complete(&record, 50, 1)],
            },
        ));
    }
    {
        let bad = id("shard-100k");
        let cut = id("wrapped-cut");
        let good = id("good");
        let record = w.kinesis(51, 53, 3);
        cases.push(case(
            "sqs: a 100 KB shard id and an SNS-wrapped cut record next to a good message",
            Sqs,
            bytes(&sqs_event(&[
                (
                    bad.clone(),
                    text(&w.with_field("shardId", Some(json!("9".repeat(100_000))))),
                ),
                (
                    cut.clone(),
                    text(&sns_notification(json!(truncated(&valid)))),
                ),
                (good, text(&record)),
            ])),
            Expect::Batch {
                failed: vec![bad, cut],
                delivered: vec![w.complete(&record, 51, 3)],
            },
        ));
    }
    cases.push(case(
        "sqs: an SQS and an SNS record",
        Sqs,
        bytes(&json!({"Records": [sqs_record(&id("m"), json!(text(&valid))), sns_record(json!(text(&valid)))]})),
        input("Input.MixedEvent"),
    ));
    {
        let good = pipes_record(
            "KinesisBatchInfo",
            w.kinesis(54, 56, 3)["KinesisBatchInfo"].clone(),
        );
        let bad_table = pipes_record(
            "DDBStreamBatchInfo",
            w.ddb_batch(
                json!(3),
                &w.table_arn.replacen(&table_name(&w.table_arn), "ab", 1),
            ),
        );
        let (g, b) = (id("pipe-good"), id("pipe-bad"));
        cases.push(case(
            "pipes via sqs: a good Kinesis record and a DynamoDB record with a 2-character table",
            Pipes,
            bytes(&sqs_event(&[(g, text(&good)), (b.clone(), text(&bad_table))])),
            Expect::Batch {
                failed: vec![b],
                delivered: vec![DocCheck {
                    records: Records::Kinesis {
                        written: w.small[54..57].to_vec(),
                        arn: w.small_arn.clone(),
                        identity: PIPE_ARN.into(),
                    },
                    ..w.complete(&good, 54, 3)
                }],
            },
        ).queue());
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_never_kill_the_function_nor_leak_and_each_gets_its_class() {
    silence_check_panics();
    let binary = release_hydrate_binary();
    let setup_started = Instant::now();

    // The ground truth: small records (with the marker in their data), big
    // ones for the memory cases, a DynamoDB table, a bucket and a DLQ.
    let kinesis = kinesis_client();
    let small_stream = TestStream::create(&kinesis, "hostile", 1).await;
    let payloads: Vec<Vec<u8>> = (0..60)
        .map(|i| {
            let mut data = format!("{{\"order\":{i},\"card\":\"{MARKER}\"}}").into_bytes();
            data.extend([0xFF, 0x00, b'\n', 0xC3]);
            data
        })
        .collect();
    let small = small_stream.write(0, &payloads).await;
    let big_stream = TestStream::create(&kinesis, "hostile-big", 1).await;
    let big_payloads: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            let mut data = format!("{MARKER} big record {i} ").into_bytes();
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ i as u64;
            data.extend((0..100_000).map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            }));
            data
        })
        .collect();
    let big_started = Instant::now();
    let big = write_in_calls(&big_stream, &big_payloads, 40).await;
    eprintln!(
        "hostile: 300 records of 100 KB written in {:.1?}",
        big_started.elapsed()
    );
    drop(big_payloads);

    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    for i in 0..3 {
        table
            .put(std::collections::HashMap::from([
                (KEY.to_owned(), AttributeValue::S(format!("order-{i}"))),
                ("card".to_owned(), AttributeValue::S(MARKER.to_owned())),
            ]))
            .await;
    }
    let changes = table.stream_records().await;
    let table_shard = table.shard_id().await;
    let world = World {
        kinesis_region: small_stream.arn.split(':').nth(3).unwrap().to_owned(),
        small_arn: small_stream.arn.clone(),
        small,
        big_arn: big_stream.arn.clone(),
        big,
        table_arn: table.stream_arn.clone(),
        table_shard,
        table_seqs: changes
            .iter()
            .map(|c| sequence_number(c).to_owned())
            .collect(),
        bucket: create_bucket("hostile").await,
    };
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
    let mut hosts = [
        Host::start("return", env(None), None, return_canary).await,
        Host::start("queue", env(Some(&dlq)), Some(dlq.clone()), queue_canary).await,
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
    assert!(cases.len() >= 60, "at least 60 cases");

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
    if mismatches.is_empty() {
        for host in &hosts {
            for log in &host.logs {
                std::fs::remove_file(log).ok();
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} hostile cases failed:\n\n{}",
        failed_cases,
        cases.len(),
        mismatches.join("\n\n")
    );
}

fn tail(text: &str, max: usize) -> String {
    let start = text.len().saturating_sub(max);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}
