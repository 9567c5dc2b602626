//! The local Kafka broker (tansu, started by `scripts/emulators.sh`), records
//! written to it by kafka-python (`support/kafka/produce.py`), and a second
//! opinion on Kafka events from Powertools' Kafka event models.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The broker's `host:port`: `KAFKA_BOOTSTRAP_SERVERS`, else the one the
/// emulator script recorded.
pub fn bootstrap_servers() -> String {
    if let Ok(servers) = std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
        return servers;
    }
    let env_file = crate::workspace_root().join(".tools/run/emulators.env");
    let text = std::fs::read_to_string(env_file).unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix("export KAFKA_BOOTSTRAP_SERVERS="))
        .map(str::to_owned)
        .expect("no Kafka broker: run `scripts/emulators.sh start`, or set KAFKA_BOOTSTRAP_SERVERS")
}

/// One record to write: its partition, key, value and headers, in bytes.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Where the broker put a record, as it acknowledged it to the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Acknowledged {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
}

#[derive(Serialize)]
struct Request<'a> {
    bootstrap: &'a str,
    topic: &'a str,
    partitions: i32,
    records: Vec<Value>,
    /// TLS, trusting this certificate authority.
    #[serde(skip_serializing_if = "Option::is_none")]
    ssl_cafile: Option<&'a Path>,
    /// A client certificate and its key, for mutual TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    ssl_certfile: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssl_keyfile: Option<&'a Path>,
    /// The producer's `compression_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<&'a str>,
    /// How long to wait before writing the last record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pause_before_last_ms: Option<u64>,
}

impl<'a> Request<'a> {
    /// `records` to a new `topic`, in plaintext, with the producer's defaults.
    fn plain(bootstrap: &'a str, topic: &'a str, partitions: i32, records: &[Outgoing]) -> Self {
        Request {
            bootstrap,
            topic,
            partitions,
            records: records_json(records),
            ssl_cafile: None,
            ssl_certfile: None,
            ssl_keyfile: None,
            compression: None,
            pause_before_last_ms: None,
        }
    }
}

fn b64(bytes: &Option<Vec<u8>>) -> Value {
    bytes
        .as_ref()
        .map_or(Value::Null, |b| Value::String(STANDARD.encode(b)))
}

/// Creates `topic` with `partitions` partitions and writes `records` to it
/// in order with kafka-python; what the broker acknowledged, in the same order.
pub fn produce(topic: &str, partitions: i32, records: &[Outgoing]) -> Vec<Acknowledged> {
    produce_to(&bootstrap_servers(), None, topic, partitions, records)
}

/// As [`produce`], to the broker at `bootstrap`, over TLS when `ssl_cafile`
/// names the certificate authority to trust.
pub fn produce_to(
    bootstrap: &str,
    ssl_cafile: Option<&Path>,
    topic: &str,
    partitions: i32,
    records: &[Outgoing],
) -> Vec<Acknowledged> {
    produce_as(bootstrap, ssl_cafile, None, topic, partitions, records)
}

/// As [`produce_to`], presenting the client certificate and key `client`.
pub fn produce_as(
    bootstrap: &str,
    ssl_cafile: Option<&Path>,
    client: Option<(&Path, &Path)>,
    topic: &str,
    partitions: i32,
    records: &[Outgoing],
) -> Vec<Acknowledged> {
    write(&Request {
        ssl_cafile,
        ssl_certfile: client.map(|(certificate, _)| certificate),
        ssl_keyfile: client.map(|(_, key)| key),
        ..Request::plain(bootstrap, topic, partitions, records)
    })
}

/// As [`produce_to`] over plaintext, the last record written 1.1 seconds
/// after the others. A broker that keeps its log in S3 (`kafka_broker.rs`) finds
/// where the log ends by the newest batch object, and moto keeps an object's
/// time to the second: only a last batch a second newer than the rest is
/// found as the last.
pub fn produce_last_apart(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    records: &[Outgoing],
) -> Vec<Acknowledged> {
    write(&Request {
        pause_before_last_ms: Some(1_100),
        ..Request::plain(bootstrap, topic, partitions, records)
    })
}

/// As [`produce`], to a topic of one partition, each record in a batch
/// compressed with `compression` (`gzip`, `snappy`, `lz4` or `zstd`).
pub fn produce_compressed(
    topic: &str,
    compression: &str,
    records: &[Outgoing],
) -> Vec<Acknowledged> {
    write(&Request {
        compression: Some(compression),
        ..Request::plain(&bootstrap_servers(), topic, 1, records)
    })
}

fn records_json(records: &[Outgoing]) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            serde_json::json!({
                "partition": r.partition,
                "key": b64(&r.key),
                "value": b64(&r.value),
                "headers": r.headers.iter()
                    .map(|(name, value)| serde_json::json!([name, STANDARD.encode(value)]))
                    .collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn write(request: &Request) -> Vec<Acknowledged> {
    let root = crate::workspace_root();
    let stdout = python(
        &root.join(".tools/clients/bin/python"),
        &[root.join("tests/support/kafka/produce.py").as_os_str()],
        Some(serde_json::to_vec(request).expect("a request serializes")),
    )
    .expect("kafka-python writes the records");
    serde_json::from_slice(&stdout).expect("the producer prints its acknowledgements")
}

/// What Powertools' Kafka event model made of an event.
#[derive(Debug, Deserialize)]
pub struct PowertoolsKafkaView {
    pub event_source: String,
    pub bootstrap_servers: Vec<String>,
    pub records: Vec<PowertoolsKafkaRecord>,
}

#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct PowertoolsKafkaRecord {
    pub partition_key: String,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key_b64: Option<String>,
    pub value: String,
    pub headers: Vec<(String, String)>,
}

/// Validates the Kafka event `event` with Powertools' MSK or self-managed model.
pub fn parse_with_powertools(event: &Value) -> Result<PowertoolsKafkaView, String> {
    let root = crate::workspace_root();
    let dir = tempfile::Builder::new()
        .prefix("hydrator-kafka-")
        .tempdir()
        .expect("temporary folder");
    let file = dir.path().join("event.json");
    std::fs::write(&file, event.to_string()).expect("write the event file");
    let output = python(
        &root.join(".tools/venv/bin/python"),
        &[
            root.join("tests/powertools/parse_kafka_event.py")
                .as_os_str(),
            file.as_os_str(),
        ],
        None,
    );
    drop(dir);
    let stdout = output?;
    serde_json::from_slice(&stdout).map_err(|e| format!("unreadable validator output: {e}"))
}

fn python(
    interpreter: &Path,
    args: &[&std::ffi::OsStr],
    stdin: Option<Vec<u8>>,
) -> Result<Vec<u8>, String> {
    let mut child = Command::new(interpreter)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "run {}: {e} (scripts/tools.sh installs it)",
                interpreter.display()
            )
        })?;
    let mut input = child.stdin.take().expect("stdin was piped");
    input
        .write_all(&stdin.unwrap_or_default())
        .map_err(|e| e.to_string())?;
    drop(input);
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(output.stdout)
}
