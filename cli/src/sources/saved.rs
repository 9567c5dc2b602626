//! Failures saved on disk, read back: a hydrated document, a part, or the
//! event cut from one: `{"Records": [...]}` for a stream, Lambda's Kafka
//! event (records keyed by topic-partition) for Kafka. Replay and redrive
//! both start here.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not JSON: {reason}")]
    NotJson { path: PathBuf, reason: String },
    #[error("{path} has no \"Records\" array nor Kafka \"records\": it is neither a document nor an event")]
    NoRecords { path: PathBuf },
    #[error("{path}: the records under Kafka partition key {index} do not all name that topic-partition")]
    KafkaPartition { path: PathBuf, index: usize },
    #[error("{path} holds no .json files")]
    EmptyFolder { path: PathBuf },
}

/// One saved event: the file, the shape of the event, and its records.
#[derive(Debug)]
pub struct SavedEvent {
    pub path: PathBuf,
    pub envelope: Envelope,
    /// A Kafka event's records partition after partition, each partition's
    /// records together, so a payload names each topic-partition once.
    pub records: Vec<Value>,
}

/// The event around the records, as Lambda sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// `{"Records": [...]}`: Kinesis and DynamoDB Streams.
    Streams,
    /// Lambda's Kafka event: these fields (`eventSource`, `eventSourceArn`,
    /// `bootstrapServers`), and `records` keyed by `<topic>-<partition>`.
    Kafka(Map<String, Value>),
}

impl SavedEvent {
    /// An event of stream records.
    pub fn streams(path: PathBuf, records: Vec<Value>) -> Self {
        Self {
            path,
            envelope: Envelope::Streams,
            records,
        }
    }

    /// `aws:kinesis`, `aws:dynamodb` (from the first record), `aws:kafka` or
    /// `SelfManagedKafka`.
    pub fn source(&self) -> Option<&str> {
        match &self.envelope {
            Envelope::Streams => self.records.first()?.get("eventSource")?.as_str(),
            Envelope::Kafka(fields) => fields.get("eventSource")?.as_str(),
        }
    }

    /// The event the consumer receives, as Lambda sends it.
    pub fn event(&self) -> Value {
        self.envelope.event(&self.records)
    }
}

impl Envelope {
    /// The event of `records` in this envelope.
    pub fn event(&self, records: &[Value]) -> Value {
        match self {
            Envelope::Streams => Value::Object(Map::from_iter([(
                "Records".to_owned(),
                Value::Array(records.to_vec()),
            )])),
            Envelope::Kafka(fields) => {
                let mut partitions = Map::new();
                for record in records {
                    let key = kafka_partition(record).unwrap_or_default();
                    if let Value::Array(list) = partitions
                        .entry(key)
                        .or_insert_with(|| Value::Array(Vec::new()))
                    {
                        list.push(record.clone());
                    }
                }
                let mut event = fields.clone();
                event.insert("records".to_owned(), Value::Object(partitions));
                Value::Object(event)
            }
        }
    }
}

/// A Kafka record's `<topic>-<partition>`, the key Lambda files it under and
/// the `partition` of the item identifier a consumer fails it by.
pub fn kafka_partition(record: &Value) -> Option<String> {
    let topic = record.get("topic")?.as_str()?;
    let partition = record.get("partition")?.as_i64()?;
    Some(format!("{topic}-{partition}"))
}

/// Whether `source` is a Kafka event source's name.
fn is_kafka_source(source: Option<&Value>) -> bool {
    matches!(
        source.and_then(Value::as_str),
        Some("aws:kafka" | "SelfManagedKafka")
    )
}

/// The files to take from `path`: the file itself; in a folder, its
/// `*.event.json` files (what `dlq drain` writes), or else all `*.json`
/// files but parts, in name order.
pub fn files(path: &Path) -> Result<Vec<PathBuf>, SavedError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let read = |source| SavedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut json: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read)?
        .map(|entry| entry.map(|e| e.path()).map_err(read))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !is_part(&file_name(p)))
        .collect();
    json.sort();
    let events: Vec<PathBuf> = json
        .iter()
        .filter(|p| file_name(p).ends_with(".event.json"))
        .cloned()
        .collect();
    match (events.is_empty(), json.is_empty()) {
        (false, _) => Ok(events),
        (true, false) => Ok(json),
        (true, true) => Err(SavedError::EmptyFolder {
            path: path.to_path_buf(),
        }),
    }
}

/// Reads one saved document or event.
pub fn load(path: &Path) -> Result<SavedEvent, SavedError> {
    let bytes = std::fs::read(path).map_err(|source| SavedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| SavedError::NotJson {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    from_value(path, value)
}

/// The saved event in `value`: a stream's document or event, a Kafka
/// document (its `event`), or a Kafka event.
pub fn from_value(path: &Path, mut value: Value) -> Result<SavedEvent, SavedError> {
    if let Some(Value::Array(records)) = value.get_mut("Records") {
        return Ok(SavedEvent::streams(
            path.to_path_buf(),
            std::mem::take(records),
        ));
    }
    if is_kafka_source(value.get("source")) && value.get("event").is_some() {
        value = value["event"].take();
    }
    let Value::Object(mut fields) = value else {
        return Err(SavedError::NoRecords {
            path: path.to_path_buf(),
        });
    };
    let partitions = match fields.remove("records") {
        Some(Value::Object(partitions)) if is_kafka_source(fields.get("eventSource")) => partitions,
        _ => {
            return Err(SavedError::NoRecords {
                path: path.to_path_buf(),
            })
        }
    };
    let mut records = Vec::new();
    for (index, (key, list)) in partitions.into_iter().enumerate() {
        let Value::Array(list) = list else {
            return Err(SavedError::KafkaPartition {
                path: path.to_path_buf(),
                index,
            });
        };
        if list
            .iter()
            .any(|r| kafka_partition(r).as_deref() != Some(key.as_str()))
        {
            return Err(SavedError::KafkaPartition {
                path: path.to_path_buf(),
                index,
            });
        }
        records.extend(list);
    }
    Ok(SavedEvent {
        path: path.to_path_buf(),
        envelope: Envelope::Kafka(fields),
        records,
    })
}

/// Every saved event under `path`.
pub fn load_all(path: &Path) -> Result<Vec<SavedEvent>, SavedError> {
    files(path)?.iter().map(|p| load(p)).collect()
}

/// `GROUP.part-I-of-N.json`, as `dlq drain` names the parts of a failure it
/// could not put back together. A failure of a stream whose name holds
/// `.part-` is not one.
fn is_part(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_suffix(".json")
        .and_then(|stem| stem.rsplit_once(".part-"))
        .and_then(|(_, numbers)| numbers.split_once("-of-"))
        .is_some_and(|(index, count)| digits(index) && digits(count))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of `files`, removed when dropped.
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("hydrator-saved-")
            .tempdir()
            .unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_drained_folder_replays_its_event_files_only() {
        let temp = folder(&[
            (
                "b.json",
                r#"{"version":"1","Records":[{"eventSource":"aws:kinesis"}]}"#,
            ),
            (
                "b.event.json",
                r#"{"Records":[{"eventSource":"aws:kinesis"}]}"#,
            ),
            ("a.event.json", r#"{"Records":[]}"#),
            ("c.part-1-of-2.json", r#"{"Records":[]}"#),
        ]);
        let dir = temp.path();
        let names: Vec<String> = files(dir).unwrap().iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["a.event.json", "b.event.json"]);
        let events = load_all(dir).unwrap();
        assert_eq!(events[1].source(), Some("aws:kinesis"));
        assert_eq!(
            events[1].event(),
            serde_json::json!({"Records":[{"eventSource":"aws:kinesis"}]})
        );
    }

    #[test]
    fn only_part_files_are_taken_for_parts() {
        assert!(is_part("0f3a.part-1-of-12.json"));
        assert!(!is_part("my.part-time.shardId-000000000000.49.event.json"));
        assert!(!is_part("x.part-1-of-2.json.event.json"));
        assert!(!is_part("x.part--of-2.json"));
        let temp = folder(&[
            (
                "orders.part-1.shardId-000000000000.49.event.json",
                r#"{"Records":[]}"#,
            ),
            ("9c1e.part-2-of-3.json", "{}"),
        ]);
        let dir = temp.path();
        let names: Vec<String> = files(dir).unwrap().iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["orders.part-1.shardId-000000000000.49.event.json"]);
    }

    #[test]
    fn a_folder_of_documents_replays_them_all_but_parts() {
        let temp = folder(&[
            ("x.json", r#"{"Records":[]}"#),
            ("y.part-2-of-2.json", "{}"),
        ]);
        let dir = temp.path();
        let names: Vec<String> = files(dir).unwrap().iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["x.json"]);
    }

    #[test]
    fn files_that_are_not_events_are_named_in_the_error() {
        let temp = folder(&[("broken.json", "{\"Records\": ["), ("other.json", "{}")]);
        let dir = temp.path();
        let broken = load(&dir.join("broken.json")).unwrap_err().to_string();
        assert!(broken.contains("broken.json is not JSON"), "{broken}");
        let other = load(&dir.join("other.json")).unwrap_err().to_string();
        assert!(other.contains("no \"Records\" array"), "{other}");
        let empty = folder(&[]);
        assert!(matches!(
            files(empty.path()),
            Err(SavedError::EmptyFolder { .. })
        ));
    }

    #[test]
    fn a_kafka_document_and_its_event_are_the_same_kafka_event() {
        let event = serde_json::json!({"eventSource": "aws:kafka",
            "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/1",
            "bootstrapServers": "b-1:9098",
            "records": {
                "order-events-v2-0": [{"topic": "order-events-v2", "partition": 0, "offset": 3}],
                "order-events-v2-1": [{"topic": "order-events-v2", "partition": 1, "offset": 1},
                                      {"topic": "order-events-v2", "partition": 1, "offset": 2}]}});
        let document = serde_json::json!({"version": "1", "source": "aws:kafka",
            "failure": {}, "hydration": {}, "event": event});
        let temp = folder(&[
            ("orders.json", &document.to_string()),
            ("orders.event.json", &event.to_string()),
        ]);
        let dir = temp.path();
        for name in ["orders.json", "orders.event.json"] {
            let saved = load(&dir.join(name)).unwrap();
            assert_eq!(saved.source(), Some("aws:kafka"));
            let offsets: Vec<i64> = saved
                .records
                .iter()
                .map(|r| r["offset"].as_i64().unwrap())
                .collect();
            assert_eq!(offsets, [3, 1, 2], "partition after partition");
            assert_eq!(saved.event(), event);
            assert_eq!(
                saved.envelope.event(&saved.records[1..2])["records"],
                serde_json::json!({"order-events-v2-1": [{"topic": "order-events-v2", "partition": 1, "offset": 1}]})
            );
        }
    }

    #[test]
    fn a_kafka_record_filed_under_another_partition_is_refused() {
        let event = r#"{"eventSource": "SelfManagedKafka", "records": {
            "orders-0": [{"topic": "orders", "partition": 1, "offset": 3}]}}"#;
        let temp = folder(&[("x.event.json", event)]);
        let dir = temp.path();
        let error = load(&dir.join("x.event.json")).unwrap_err();
        assert!(
            matches!(error, SavedError::KafkaPartition { index: 0, .. }),
            "{error}"
        );
        let not_kafka = folder(&[("y.json", r#"{"eventSource": "aws:sqs", "records": {}}"#)]);
        assert!(matches!(
            load(&not_kafka.path().join("y.json")),
            Err(SavedError::NoRecords { .. })
        ));
    }
}
