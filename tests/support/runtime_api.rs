//! A Lambda runtime API host: the HTTP interface the Lambda service offers a
//! function process (`/2018-06-01/runtime/...`), so the real `hydrate`
//! binary runs here exactly as it runs in Lambda, invocation by invocation.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Notify};

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function's response body.
    Response(Vec<u8>),
    /// The error document the runtime posted (`errorType`, `errorMessage`).
    Error(Vec<u8>),
}

struct Invocation {
    request_id: String,
    payload: Vec<u8>,
    deadline_ms: u128,
}

#[derive(Default)]
struct Shared {
    results: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
    init_error: Mutex<Option<Vec<u8>>>,
}

pub struct RuntimeApi {
    address: SocketAddr,
    queue: mpsc::UnboundedSender<Invocation>,
    shared: Arc<Shared>,
    next_id: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime API");
        let address = listener.local_addr().expect("address");
        let (queue, receiver) = mpsc::unbounded_channel::<Invocation>();
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let shared = Arc::new(Shared::default());
        let state = (receiver, shared.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| route(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        RuntimeApi {
            address,
            queue,
            shared,
            next_id: Default::default(),
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Hands `payload` to the function and waits for its answer.
    pub async fn invoke(&self, payload: Vec<u8>, timeout: Duration) -> Outcome {
        self.try_invoke(payload, timeout)
            .await
            .expect("the function answered before its deadline")
    }

    /// As [`RuntimeApi::invoke`], but `None` instead of a panic when no answer
    /// comes within `timeout` and 5 s (the process died or hangs), so a
    /// suite can record that and go on.
    pub async fn try_invoke(&self, payload: Vec<u8>, timeout: Duration) -> Option<Outcome> {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let request_id = format!("8476a536-e9f4-11e8-9739-{n:012x}");
        let (sender, receiver) = oneshot::channel();
        self.shared
            .results
            .lock()
            .unwrap()
            .insert(request_id.clone(), sender);
        let deadline_ms = (SystemTime::now() + timeout)
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        self.queue
            .send(Invocation {
                request_id: request_id.clone(),
                payload,
                deadline_ms,
            })
            .expect("runtime API is serving");
        let answer = tokio::time::timeout(timeout + Duration::from_secs(5), receiver).await;
        self.shared.results.lock().unwrap().remove(&request_id);
        answer.ok().and_then(Result::ok)
    }

    /// When the function first asked for an invocation: the end of its init.
    pub async fn first_poll(&self) -> Instant {
        loop {
            let notified = self.shared.polled.notified();
            if let Some(at) = *self.shared.first_poll.lock().unwrap() {
                return at;
            }
            notified.await;
        }
    }

    /// What the function reported if its init failed.
    pub fn init_error(&self) -> Option<Vec<u8>> {
        self.shared.init_error.lock().unwrap().clone()
    }
}

type State = (
    Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    Arc<Shared>,
);

async fn route(
    state: State,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (receiver, shared) = state;
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Ok(status(StatusCode::NOT_FOUND));
    };

    if method == Method::GET && rest == "invocation/next" {
        {
            let mut first = shared.first_poll.lock().unwrap();
            first.get_or_insert_with(Instant::now);
        }
        shared.polled.notify_waiters();
        let Some(invocation) = receiver.lock().await.recv().await else {
            return Ok(status(StatusCode::GONE));
        };
        let response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &invocation.request_id)
            .header(
                "lambda-runtime-deadline-ms",
                invocation.deadline_ms.to_string(),
            )
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:hydrator",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
            )
            .body(Full::new(Bytes::from(invocation.payload)))
            .expect("valid response");
        return Ok(response);
    }

    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
    };
    if method == Method::POST && rest == "init/error" {
        *shared.init_error.lock().unwrap() = Some(body);
        return Ok(status(StatusCode::ACCEPTED));
    }
    if method == Method::POST {
        if let Some(tail) = rest.strip_prefix("invocation/") {
            let (id, kind) = tail.split_once('/').unwrap_or((tail, ""));
            let outcome = match kind {
                "response" => Outcome::Response(body),
                "error" => Outcome::Error(body),
                _ => return Ok(status(StatusCode::NOT_FOUND)),
            };
            if let Some(sender) = shared.results.lock().unwrap().remove(id) {
                let _ = sender.send(outcome);
                return Ok(status(StatusCode::ACCEPTED));
            }
            return Ok(status(StatusCode::BAD_REQUEST));
        }
    }
    Ok(status(StatusCode::NOT_FOUND))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::new()))
        .expect("valid response")
}

/// A new empty log file for a [`FunctionProcess`] in the temporary folder,
/// named `{prefix}…{suffix}` and removed when dropped (keep it alive until
/// the process is dropped).
pub fn temp_log(prefix: &str) -> tempfile::TempPath {
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".log")
        .tempfile()
        .expect("create a log file")
        .into_temp_path()
}

/// A function process attached to a [`RuntimeApi`]; killed when dropped.
pub struct FunctionProcess {
    child: tokio::process::Child,
    pub spawned_at: Instant,
    log_file: PathBuf,
}

impl FunctionProcess {
    /// Starts `binary` with the environment Lambda gives a function, plus
    /// `extra`; what it prints goes to `log_file`, as Lambda sends it to CloudWatch.
    pub fn spawn(
        binary: &Path,
        api: &RuntimeApi,
        extra: &[(&str, String)],
        log_file: &Path,
    ) -> FunctionProcess {
        let log = std::fs::File::create(log_file)
            .unwrap_or_else(|e| panic!("create {}: {e}", log_file.display()));
        let mut command = tokio::process::Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "hydrator")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/21/[$LATEST]0123456789abcdef",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/hydrator")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env(
                "RUST_LOG",
                std::env::var("HYDRATE_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .kill_on_drop(true);
        for (key, value) in extra {
            command.env(key, value);
        }
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        FunctionProcess {
            child,
            spawned_at,
            log_file: log_file.to_path_buf(),
        }
    }

    /// Waits up to `timeout` for the process to exit; `None` while it still runs.
    pub async fn exit_status(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Everything the function printed so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// User and system CPU time the process has used, from /proc.
    pub fn cpu_time(&self) -> Option<Duration> {
        let pid = self.child.id()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // Linux reports in USER_HZ, 100 a second on every platform Rust targets here.
        Some(Duration::from_millis(ticks * 10))
    }

    /// The process's peak resident memory (VmHWM) in KiB, while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl FunctionProcess {
    /// The process id while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process still runs (it has not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// The `hydrate` release binary as Lambda runs it: what `cargo lambda build
/// --release -p hydrate` leaves in `$CARGO_TARGET_DIR/lambda/hydrate/bootstrap`
/// (`CARGO_TARGET_DIR` defaults to `<workspace>/target`). Not built here.
pub fn release_hydrate_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                crate::workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let binary = target.join("lambda").join("hydrate").join("bootstrap");
    assert!(
        binary.is_file(),
        "no release build of hydrate at {}: run `cargo lambda build --release --bin hydrate` first \
         (scripts/tools.sh installs cargo-lambda into .tools/venv/bin)",
        binary.display()
    );
    binary
}

/// The `hydrate` binary of this build.
pub fn hydrate_binary() -> PathBuf {
    workspace_binary("hydrate")
}

/// A binary of this workspace's build, `target/<profile>/<name>`, next to
/// the running test or tool. `scripts/test.sh` builds them before the tests.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let candidates = exe.ancestors().skip(1).take(2).map(|dir| dir.join(name));
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "no {name} binary next to {}: run `cargo build --workspace --bins` first",
        exe.display()
    )
}
