//! A second opinion on the records: Powertools for AWS Lambda (Python) parses
//! them with its Kinesis stream event model, as a Python consumer would.

use std::path::Path;
use std::process::Command;

/// What Powertools made of an event: how many records, and the SHA-256 of each
/// record's decoded data, in order.
#[derive(Debug, serde::Deserialize)]
pub struct PowertoolsView {
    pub records: usize,
    pub data_sha256: Vec<String>,
    pub sequence_numbers: Vec<String>,
}

/// Validates the `{"Records": [...]}` event in `event_file` with Powertools.
pub fn parse_kinesis_event(event_file: &Path) -> Result<PowertoolsView, String> {
    let root = crate::workspace_root();
    let python = root.join(".tools/venv/bin/python");
    let script = root.join("tests/powertools/parse_kinesis_event.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(event_file)
        .output()
        .map_err(|e| {
            format!(
                "run {}: {e} (scripts/tools.sh installs it)",
                python.display()
            )
        })?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("unreadable validator output: {e}"))
}

/// The SHA-256 of `data` in lowercase hex, to compare with the Python side.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
