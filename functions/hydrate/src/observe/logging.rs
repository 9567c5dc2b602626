//! Logs as one JSON object a line, always.
//!
//! A text log line can be forged by any value with a line break in it; a
//! JSON line cannot, since the encoder escapes it. This is Lambda's JSON log
//! format (`timestamp`, `level`, `message`), with the invocation's span
//! (`requestId`) and the failure's span (stream, shard, range) on every line
//! written while they are entered. The level follows Lambda's advanced
//! logging controls (`AWS_LAMBDA_LOG_LEVEL`), then `RUST_LOG`, then INFO.

use lambda_runtime::tracing::subscriber;
use subscriber::filter::{EnvFilter, LevelFilter};

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_env_filter(
            EnvFilter::builder()
                .with_default_directive(level.into())
                .with_env_var("HYDRATE_LOG_FILTER")
                .from_env_lossy(),
        )
        .init();
}
