//! A second opinion on the records: Powertools for AWS Lambda (Python) parses
//! them with its Kinesis or DynamoDB stream event model, as a Python consumer would.

use std::path::Path;
use std::process::Command;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// What Powertools made of a Kinesis event: how many records, and the
/// SHA-256 of each record's decoded data, in order.
#[derive(Debug, serde::Deserialize)]
pub struct PowertoolsView {
    pub records: usize,
    pub data_sha256: Vec<String>,
    pub sequence_numbers: Vec<String>,
}

/// What Powertools made of a DynamoDB stream event: each record's images
/// unmarshalled into Python types and marshalled back, sets sorted.
#[derive(Debug, serde::Deserialize)]
pub struct DynamoDbView {
    pub records: usize,
    pub sequence_numbers: Vec<String>,
    pub event_names: Vec<String>,
    pub images: Vec<Images>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Images {
    pub keys: Value,
    pub new_image: Option<Value>,
    pub old_image: Option<Value>,
}

/// Validates the `{"Records": [...]}` Kinesis event in `event_file` with Powertools.
pub fn parse_kinesis_event(event_file: &Path) -> Result<PowertoolsView, String> {
    run("parse_kinesis_event.py", event_file)
}

/// Validates the `{"Records": [...]}` DynamoDB stream event in `event_file` with Powertools.
pub fn parse_dynamodb_event(event_file: &Path) -> Result<DynamoDbView, String> {
    run("parse_dynamodb_event.py", event_file)
}

/// Writes `{"Records": records}` to a temporary file and runs `parse` on it.
pub fn with_event_file<T>(records: &Value, parse: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::Builder::new()
        .prefix("hydrator-powertools-")
        .tempdir()
        .expect("temporary folder");
    let file = dir.path().join("event.json");
    std::fs::write(&file, serde_json::json!({ "Records": records }).to_string())
        .expect("write event file");
    parse(&file)
}

fn run<T: DeserializeOwned>(script: &str, event_file: &Path) -> Result<T, String> {
    let root = crate::workspace_root();
    let python = root.join(".tools/venv/bin/python");
    let script = root.join("tests/powertools").join(script);
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
