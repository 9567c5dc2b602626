//! What a hostile case expects and how an answer is checked against it: an
//! error of a class, documents (status, gap reasons, records byte-exact), or
//! for SQS a partial batch response plus the documents in the queue; and the
//! error text free of the marker. A check's panic becomes a mismatch line.

use std::panic::AssertUnwindSafe;

use serde_json::Value;

use hydrator_tests::check::{assert_conforms_to_schema, assert_records_are};
use hydrator_tests::hostile::leak_in;
use hydrator_tests::queue::drain_all;
use hydrator_tests::runtime_api::Outcome;
use hydrator_tests::stream::Written;

pub enum Expect {
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
pub struct DocCheck {
    /// `failure` of the document, compared as JSON.
    pub failure: Option<Value>,
    pub status: &'static str,
    pub reasons: Vec<&'static str>,
    pub origin: Option<&'static str>,
    pub records: Records,
}

#[derive(Clone)]
pub enum Records {
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

/// An error of any one of these classes (where the order of checks may differ).
pub fn error(classes: &[&'static str]) -> Expect {
    Expect::Error(classes.to_vec())
}

/// An error of exactly this class.
pub fn input(class: &'static str) -> Expect {
    Expect::Error(vec![class])
}

impl Expect {
    /// The same expectation for an SQS event of one message with this id:
    /// an error becomes that id in `batchItemFailures`, documents become the
    /// queue's. Alternatives that are all errors become one, as the queue is
    /// drained only once.
    pub fn for_one_message(self, id: &str) -> Expect {
        match self {
            Expect::Error(_) => Expect::Batch {
                failed: vec![id.to_owned()],
                delivered: vec![],
            },
            Expect::Docs(delivered) => Expect::Batch {
                failed: vec![],
                delivered,
            },
            Expect::Batch { .. } => self,
            Expect::AnyOf(options) if options.iter().all(|o| matches!(o, Expect::Error(_))) => {
                Expect::Error(vec![]).for_one_message(id)
            }
            Expect::AnyOf(options) => {
                Expect::AnyOf(options.into_iter().map(|o| o.for_one_message(id)).collect())
            }
        }
    }

    pub fn describe(&self) -> String {
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
    pub fn describe(&self) -> String {
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
    pub fn check(&self, document: &Value) -> Result<(), String> {
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
pub fn quietly(f: impl FnOnce()) -> Result<(), String> {
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

pub fn shorten(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', "⏎");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    }
}

/// Hides the panic messages of the checks run under `quietly`.
pub fn silence_check_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !QUIET.with(|q| q.get()) {
            default(info);
        }
    }));
}

/// What came back, in a few words.
pub fn summary(outcome: &Option<Outcome>) -> String {
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

pub fn summarize_response(value: &Value) -> String {
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
pub async fn check_outcome(
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
pub fn check_error_text(outcome: &Option<Outcome>) -> Vec<String> {
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

impl DocCheck {
    /// Also: `Records` exactly these (an S3 payload's, as saved).
    pub fn with_exact(self, records: &Value) -> DocCheck {
        DocCheck {
            records: Records::Both(
                Box::new(self.records),
                Box::new(Records::Exactly(records.clone())),
            ),
            ..self
        }
    }
}
