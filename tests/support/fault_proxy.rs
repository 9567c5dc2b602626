//! A fault-injection proxy between the SDK and an emulator.
//!
//! Emulators answer every call correctly; real services throttle, fail part
//! of a batch, and drop connections. The proxy forwards each request to the
//! emulator unless a [`Rule`] says otherwise, and records every call so a
//! test can count what the client sent. Faults use the services' real error
//! shapes: the status code, the `__type` and the message an SDK parses.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// One call that reached the proxy.
#[derive(Debug, Clone)]
pub struct Call {
    /// The `X-Amz-Target` operation, e.g. `AmazonSQS.SendMessageBatch`.
    pub target: String,
    /// The request body, when it was JSON.
    pub body: Value,
}

impl Call {
    /// The request body with `key` set to `value`.
    pub fn with(&self, key: &str, value: Value) -> Value {
        let mut body = self.body.clone();
        body[key] = value;
        body
    }

    /// The operation's name without the service prefix.
    pub fn operation(&self) -> &str {
        self.target.rsplit('.').next().unwrap_or("")
    }

    /// How many entries a batch call carried (`Entries` or `Records`).
    pub fn entries(&self) -> usize {
        ["Entries", "Records"]
            .iter()
            .find_map(|k| self.body.get(*k).and_then(Value::as_array))
            .map_or(0, Vec::len)
    }
}

/// What to do with one call.
#[derive(Debug, Clone)]
pub enum Action {
    Forward,
    /// Forward the batch without these entries (by position), and answer as
    /// the service answers a partial failure: the rest succeed, these fail.
    FailEntries(Vec<usize>),
    /// Answer with an error, as the service would.
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
    /// Wait, then forward.
    Delay(Duration),
    /// Forward this request body instead (e.g. a smaller `Limit`, or another
    /// iterator type), as a service would answer that request.
    Rewrite(Value),
    /// Close the connection without an answer.
    Reset,
    /// Wait, then do the other action.
    Later(Duration, Box<Action>),
}

/// An error answer with the service's shape: `status`, `__type` and message.
pub fn service_error(status: u16, error_type: &str, message: &str) -> Action {
    Action::Error {
        status,
        error_type: error_type.to_owned(),
        message: message.to_owned(),
    }
}

/// Decides the action for a call, given it and how many calls came before it.
pub type Rule = Box<dyn Fn(&Call, usize) -> Action + Send + Sync>;

pub struct FaultProxy {
    pub address: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    in_flight: Arc<InFlight>,
}

/// How many calls the proxy is handling at once, and the most it has.
#[derive(Default)]
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

struct Shared {
    target: String,
    rule: Rule,
    calls: Arc<Mutex<Vec<Call>>>,
    in_flight: Arc<InFlight>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `target` (e.g. `http://127.0.0.1:4566`).
    pub async fn start(target: &str, rule: Rule) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(InFlight::default());
        let shared = Arc::new(Shared {
            target: target.trim_end_matches('/').to_owned(),
            rule,
            calls: calls.clone(),
            in_flight: in_flight.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        // An error from the service makes hyper drop the connection unanswered.
                        async move {
                            handle(&shared, request).await.ok_or_else(|| {
                                std::io::Error::other("connection reset by the fault proxy")
                            })
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy {
            address,
            calls,
            in_flight,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The most calls the proxy was handling at the same time.
    pub fn most_at_once(&self) -> usize {
        self.in_flight
            .most
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The calls of one operation, e.g. `SendMessageBatch`.
    pub fn calls_to(&self, operation: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.operation() == operation)
            .collect()
    }
}

/// An answer that hyper turns into a dropped connection.
type Answer = Option<Response<Full<Bytes>>>;

async fn handle(shared: &Shared, request: Request<Incoming>) -> Answer {
    use std::sync::atomic::Ordering::SeqCst;
    let now = shared.in_flight.now.fetch_add(1, SeqCst) + 1;
    shared.in_flight.most.fetch_max(now, SeqCst);
    let answer = answer(shared, request).await;
    shared.in_flight.now.fetch_sub(1, SeqCst);
    answer
}

async fn answer(shared: &Shared, request: Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let call = Call {
        target,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let index = {
        let mut calls = shared.calls.lock().unwrap();
        calls.push(call.clone());
        calls.len() - 1
    };
    let mut action = (shared.rule)(&call, index);
    while let Action::Later(wait, then) = action {
        tokio::time::sleep(wait).await;
        action = *then;
    }
    let answer: Answer = match action {
        Action::Forward => Some(forward(shared, &parts, body).await),
        Action::Delay(wait) => {
            tokio::time::sleep(wait).await;
            Some(forward(shared, &parts, body).await)
        }
        Action::Error {
            status,
            error_type,
            message,
        } => Some(error(status, &error_type, &message)),
        Action::FailEntries(positions) => {
            Some(fail_entries(shared, &parts, &call, &positions).await)
        }
        Action::Rewrite(body) => Some(forward(shared, &parts, Bytes::from(body.to_string())).await),
        Action::Reset => None,
        Action::Later(..) => unreachable!("waited for above"),
    };
    answer
}

fn error(status: u16, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = json!({ "__type": error_type, "message": message }).to_string();
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-query-error", format!("{error_type};Sender"))
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

async fn forward(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let uri = format!(
        "{}{}",
        shared.target,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut builder = Request::builder().method(parts.method.clone()).uri(uri);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            builder = builder.header(name, value);
        }
    }
    let request = builder.body(Full::new(body)).expect("a valid request");
    match shared.client.request(request).await {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let mut out = Response::builder().status(parts.status);
            for (name, value) in &parts.headers {
                if name != "content-length" && name != "transfer-encoding" {
                    out = out.header(name, value);
                }
            }
            out.body(Full::new(body)).expect("a valid response")
        }
        Err(e) => error(502, "ProxyError", &e.to_string()),
    }
}

/// Forwards a batch call without the entries at `positions`, then answers
/// with those entries failed: SQS `SendMessageBatch` lists them under
/// `Failed`; Firehose `PutRecordBatch` and Kinesis `PutRecords` give an
/// error code at their positions and count them.
async fn fail_entries(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    call: &Call,
    positions: &[usize],
) -> Response<Full<Bytes>> {
    let key = if call.body.get("Entries").is_some() {
        "Entries"
    } else {
        "Records"
    };
    let entries = call.body[key].as_array().cloned().unwrap_or_default();
    type Entries = Vec<(usize, Value)>;
    let (kept, failed): (Entries, Entries) = entries
        .into_iter()
        .enumerate()
        .partition(|(i, _)| !positions.contains(i));
    let mut body = call.body.clone();
    body[key] = Value::Array(kept.iter().map(|(_, e)| e.clone()).collect());
    let forwarded = if kept.is_empty() {
        None
    } else {
        let response = forward(shared, parts, Bytes::from(body.to_string())).await;
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Some(serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
    };
    let answer = match key {
        "Entries" => {
            let mut answer = forwarded.unwrap_or_else(|| json!({"Successful": []}));
            let failures: Vec<Value> = failed
                .iter()
                .map(|(_, e)| json!({"Id": e["Id"], "SenderFault": false, "Code": "InternalError", "Message": "injected by the fault proxy"}))
                .collect();
            answer["Failed"] = Value::Array(failures);
            answer
        }
        _ => {
            // Positional results: the forwarded ones in order, errors where the failed ones were.
            let results_key = if call.target.starts_with("Firehose") {
                "RequestResponses"
            } else {
                "Records"
            };
            let count_key = if call.target.starts_with("Firehose") {
                "FailedPutCount"
            } else {
                "FailedRecordCount"
            };
            let (code, message) = if call.target.starts_with("Firehose") {
                ("ServiceUnavailableException", "Slow down.")
            } else {
                (
                    "ProvisionedThroughputExceededException",
                    "Rate exceeded for shard.",
                )
            };
            let forwarded = forwarded.unwrap_or(Value::Null);
            let mut ok = forwarded[results_key]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter();
            let total = kept.len() + failed.len();
            let results: Vec<Value> = (0..total)
                .map(|i| {
                    if positions.contains(&i) {
                        json!({"ErrorCode": code, "ErrorMessage": message})
                    } else {
                        ok.next().unwrap_or(Value::Null)
                    }
                })
                .collect();
            let mut answer = if forwarded.is_object() {
                forwarded
            } else {
                json!({})
            };
            let already_failed = answer[count_key].as_u64().unwrap_or(0);
            answer[results_key] = Value::Array(results);
            answer[count_key] = json!(already_failed + failed.len() as u64);
            answer
        }
    };
    Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(answer.to_string())))
        .expect("a valid response")
}
