//! Progress on long work, on standard error: a bar when the size is known,
//! a counter when it is not; hidden for JSON output and when standard error
//! is not a terminal. Sources and commands both report progress, so it
//! belongs to neither.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::Format;

/// A bar on standard error, hidden for JSON output and when standard error
/// is not a terminal (CI logs, pipes).
pub fn bar(len: u64, format: Format, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        match format {
            Format::Human => ProgressDrawTarget::stderr(),
            Format::Json => ProgressDrawTarget::hidden(),
        },
    );
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A counter for work whose size is not known in advance.
pub fn spinner(format: Format, what: &str) -> ProgressBar {
    let bar = bar(0, format, what);
    bar.unset_length();
    if let Ok(style) = ProgressStyle::with_template(&format!("{{spinner}} {what}: {{pos}} {{msg}}"))
    {
        bar.set_style(style);
    }
    bar
}
