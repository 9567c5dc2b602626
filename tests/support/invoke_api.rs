//! A local Invoke API serving a Powertools `BatchProcessor` consumer
//! (`tests/powertools/invoke_api.py` with `batch_consumer.py`), for replay
//! over the wire as `sam local start-lambda` would serve it; it can throttle
//! chosen records and logs every request it answered.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::workspace_root;

/// The consumer's name in the Invoke API's path.
pub const CONSUMER: &str = "orders-consumer";

/// The server process, killed on drop.
pub struct InvokeApi {
    pub endpoint: String,
    log: PathBuf,
    _server: tokio::process::Child,
}

/// One request the server answered: the sequence numbers it carried, and the status.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub sequence_numbers: Vec<String>,
    pub status: u16,
}

impl InvokeApi {
    /// Starts the server; `throttles` answers 429 to the first N invocations
    /// carrying a sequence number; `env` is the consumer's environment
    /// (`ACCEPT_POISON=1` is the fixed consumer).
    pub async fn start(throttles: &[(&str, u32)], env: &[(&str, &str)], dir: &Path) -> InvokeApi {
        std::fs::create_dir_all(dir).expect("log folder");
        let log = dir.join(format!(
            "invoke-api-{}.jsonl",
            crate::stream::unique_suffix()
        ));
        let root = workspace_root();
        let mut command = tokio::process::Command::new(root.join(".tools/venv/bin/python"));
        command
            .arg(root.join("tests/powertools/invoke_api.py"))
            .args([
                "--function",
                CONSUMER,
                "--handler",
                "batch_consumer:handler",
            ])
            .arg("--log")
            .arg(&log)
            .env("POWERTOOLS_SERVICE_NAME", CONSUMER)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (sequence_number, times) in throttles {
            command
                .arg("--throttle")
                .arg(format!("{sequence_number}={times}"));
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut server = command
            .spawn()
            .expect("start the Invoke API (scripts/tools.sh installs .tools/venv)");
        let stdout = server.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let mut stdout = BufReader::new(stdout);
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            stdout.read_line(&mut line),
        )
        .await
        .expect("the Invoke API starts within a minute")
        .expect("read its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("the Invoke API printed no port: {line:?}"));
        InvokeApi {
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
            _server: server,
        }
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a log line"))
            .collect()
    }
}
