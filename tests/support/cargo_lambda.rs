//! `cargo lambda watch`, the local Lambda emulator operators replay into,
//! with one of this workspace's functions attached to it.
//!
//! `--only-lambda-apis` makes it serve the Invoke API and the runtime API
//! without building anything; the function binary, already built, polls the
//! runtime API under `/.rt/<name>` as `cargo lambda watch` would start it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::ports::{free_port, wait_for_port};
use crate::runtime_api::workspace_binary;
use crate::workspace_root;

/// The emulator and the function process; both killed on drop.
pub struct Watch {
    pub endpoint: String,
    _watch: tokio::process::Child,
    _function: tokio::process::Child,
}

impl Watch {
    /// Starts `cargo lambda watch` on a free port with `function` attached,
    /// its environment plus `env`; logs go to `log_dir`.
    pub async fn start(function: &str, env: &[(&str, &str)], log_dir: &Path) -> Watch {
        std::fs::create_dir_all(log_dir).expect("log folder");
        let port = free_port();
        let log = |name: &str| std::fs::File::create(log_dir.join(name)).expect("log file");
        let watch_log = log("cargo-lambda-watch.log");
        let watch = tokio::process::Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(watch_log.try_clone().expect("log handle"))
            .stderr(watch_log)
            .kill_on_drop(true)
            .spawn()
            .expect("start cargo lambda watch (installed by scripts/tools.sh)");
        wait_for_port(port, Duration::from_secs(60), "cargo lambda watch").await;

        let function_log = log(&format!("{function}.log"));
        let mut command = tokio::process::Command::new(workspace_binary(function));
        command
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{function}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .stdin(Stdio::null())
            .stdout(function_log.try_clone().expect("log handle"))
            .stderr(function_log)
            .kill_on_drop(true);
        for (key, value) in env {
            command.env(key, value);
        }
        let function = command.spawn().expect("start the function");
        Watch {
            endpoint: format!("http://127.0.0.1:{port}"),
            _watch: watch,
            _function: function,
        }
    }
}
