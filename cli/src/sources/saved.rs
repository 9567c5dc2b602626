//! Failures saved on disk, read back: a hydrated document, a part, or the
//! `{"Records": [...]}` event cut from one. Replay and redrive both start here.

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
    #[error("{path} has no \"Records\" array: it is neither a document nor an event")]
    NoRecords { path: PathBuf },
    #[error("{path} holds no .json files")]
    EmptyFolder { path: PathBuf },
}

/// One saved event: the file and the records it holds.
#[derive(Debug)]
pub struct SavedEvent {
    pub path: PathBuf,
    pub records: Vec<Value>,
}

impl SavedEvent {
    /// `aws:kinesis` or `aws:dynamodb`, from the first record.
    pub fn source(&self) -> Option<&str> {
        self.records.first()?.get("eventSource")?.as_str()
    }

    /// The event the consumer receives: only the records, as Lambda sends them.
    pub fn event(&self) -> Value {
        Value::Object(Map::from_iter([(
            "Records".to_owned(),
            Value::Array(self.records.clone()),
        )]))
    }
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
    let Some(Value::Array(records)) = value.get("Records") else {
        return Err(SavedError::NoRecords {
            path: path.to_path_buf(),
        });
    };
    Ok(SavedEvent {
        path: path.to_path_buf(),
        records: records.clone(),
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

    fn folder(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hydrator-saved-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_drained_folder_replays_its_event_files_only() {
        let dir = folder(&[
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
        let names: Vec<String> = files(&dir).unwrap().iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["a.event.json", "b.event.json"]);
        let events = load_all(&dir).unwrap();
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
        let dir = folder(&[
            (
                "orders.part-1.shardId-000000000000.49.event.json",
                r#"{"Records":[]}"#,
            ),
            ("9c1e.part-2-of-3.json", "{}"),
        ]);
        let names: Vec<String> = files(&dir).unwrap().iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["orders.part-1.shardId-000000000000.49.event.json"]);
    }

    #[test]
    fn a_folder_of_documents_replays_them_all_but_parts() {
        let dir = folder(&[
            ("x.json", r#"{"Records":[]}"#),
            ("y.part-2-of-2.json", "{}"),
        ]);
        let names: Vec<String> = files(&dir).unwrap().iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["x.json"]);
    }

    #[test]
    fn files_that_are_not_events_are_named_in_the_error() {
        let dir = folder(&[("broken.json", "{\"Records\": ["), ("other.json", "{}")]);
        let broken = load(&dir.join("broken.json")).unwrap_err().to_string();
        assert!(broken.contains("broken.json is not JSON"), "{broken}");
        let other = load(&dir.join("other.json")).unwrap_err().to_string();
        assert!(other.contains("no \"Records\" array"), "{other}");
        let empty = folder(&[]);
        assert!(matches!(files(&empty), Err(SavedError::EmptyFolder { .. })));
    }
}
