//! The `hydrator` command-line tool, run as an operator runs it: a process
//! with the emulators' endpoints in its environment.

use std::process::Output;

use serde_json::Value;

use crate::emulator::{kinesis_endpoint, moto_endpoint};
use crate::runtime_api::workspace_binary;

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Standard output as JSON, for `--output json` runs.
    pub fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not a JSON report ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `hydrator args...` against the emulators; `env` adds or overrides
/// variables (a fault proxy's URL for one service, say).
pub async fn hydrator(args: &[&str], env: &[(&str, String)]) -> CliRun {
    let mut command = tokio::process::Command::new(workspace_binary("hydrator"));
    command
        .args(args)
        .env("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint())
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("DLQ_QUEUE_URL")
        .env_remove("AWS_PROFILE");
    for (key, value) in env {
        command.env(key, value);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().await.expect("run hydrator");
    CliRun {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
