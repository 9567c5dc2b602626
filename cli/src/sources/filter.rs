//! Which failures a command takes (`--stream`, `--shard`, `--status`,
//! `--since`, `--until`), judged on the document: its batch info's stream
//! and shard, its hydration status, and when the consumer gave up
//! (`failure.timestamp`). A failure that does not say is not taken while a
//! filter asks about it.

use std::path::PathBuf;
use std::time::SystemTime;

use aws_smithy_types::date_time::Format as DateFormat;
use aws_smithy_types::DateTime;
use serde_json::Value;

use super::document::{batch_info, stream_name};
use super::saved::SavedEvent;
use crate::args::FilterArgs;

/// `failure.timestamp`, when it is a date.
fn gave_up_at(document: &Value) -> Option<SystemTime> {
    let text = document["failure"]["timestamp"].as_str()?;
    SystemTime::try_from(DateTime::from_str(text, DateFormat::DateTime).ok()?).ok()
}

impl FilterArgs {
    /// Whether any filter was given.
    pub fn is_set(&self) -> bool {
        self.stream.is_some()
            || self.shard.is_some()
            || self.status.is_some()
            || self.since.is_some()
            || self.until.is_some()
    }

    /// Whether the failure `document` is one to take.
    pub fn matches(&self, document: &Value) -> bool {
        let batch = batch_info(&document["failure"]).unwrap_or(&Value::Null);
        let text = |v: &Value| v.as_str().map(str::to_owned);
        if let Some(stream) = &self.stream {
            let arn = text(&batch["streamArn"]).unwrap_or_default();
            let name = stream_name(&arn);
            if stream != &arn && stream != &name {
                return false;
            }
        }
        if let Some(shard) = &self.shard {
            if text(&batch["shardId"]).as_ref() != Some(shard) {
                return false;
            }
        }
        if let Some(status) = &self.status {
            if text(&document["hydration"]["status"]).as_deref() != Some(status.as_str()) {
                return false;
            }
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(time) = gave_up_at(document) else {
                return false;
            };
            if self.since.is_some_and(|since| time < since)
                || self.until.is_some_and(|until| time >= until)
            {
                return false;
            }
        }
        true
    }

    /// Keeps the saved events the filters take; an event file is judged by
    /// the document `dlq drain` saved beside it (`NAME.json` for
    /// `NAME.event.json`), or by itself when it is a document. Returns the
    /// files left out.
    pub fn retain_saved(&self, events: &mut Vec<SavedEvent>) -> Vec<PathBuf> {
        if !self.is_set() {
            return Vec::new();
        }
        let mut left_out = Vec::new();
        events.retain(|event| {
            let taken = document_of(event).is_some_and(|d| self.matches(&d));
            if !taken {
                left_out.push(event.path.clone());
            }
            taken
        });
        left_out
    }
}

fn document_of(event: &SavedEvent) -> Option<Value> {
    let read = |path: &std::path::Path| -> Option<Value> {
        let document: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        document.get("failure").is_some().then_some(document)
    };
    let name = event.path.file_name()?.to_string_lossy().into_owned();
    match name.strip_suffix(".event.json") {
        Some(stem) => read(&event.path.with_file_name(format!("{stem}.json"))),
        None => read(&event.path),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(stream: &str, shard: &str, status: &str, at: &str) -> Value {
        json!({
            "failure": {"timestamp": at, "KinesisBatchInfo": {
                "shardId": shard,
                "streamArn": format!("arn:aws:kinesis:us-east-1:123456789012:stream/{stream}")}},
            "hydration": {"status": status},
            "Records": []
        })
    }

    fn time(text: &str) -> SystemTime {
        SystemTime::try_from(DateTime::from_str(text, DateFormat::DateTime).unwrap()).unwrap()
    }

    #[test]
    fn each_filter_takes_only_what_it_names() {
        let d = document(
            "orders",
            "shardId-000000000001",
            "partial",
            "2026-11-21T06:12:09Z",
        );
        let none = FilterArgs::default();
        assert!(!none.is_set() && none.matches(&d));
        let by = |f: FilterArgs| f.matches(&d);
        let stream = |s: &str| FilterArgs {
            stream: Some(s.into()),
            ..Default::default()
        };
        assert!(by(stream("orders")));
        assert!(by(stream(
            "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
        )));
        assert!(!by(stream("order")));
        assert!(by(FilterArgs {
            shard: Some("shardId-000000000001".into()),
            ..Default::default()
        }));
        assert!(!by(FilterArgs {
            shard: Some("shardId-000000000000".into()),
            ..Default::default()
        }));
        assert!(by(FilterArgs {
            status: Some("partial".into()),
            ..Default::default()
        }));
        assert!(!by(FilterArgs {
            status: Some("complete".into()),
            ..Default::default()
        }));
        let window = |since: &str, until: &str| FilterArgs {
            since: Some(time(since)),
            until: Some(time(until)),
            ..Default::default()
        };
        assert!(by(window("2026-11-21T06:12:09Z", "2026-11-21T06:12:10Z")));
        assert!(!by(window("2026-11-21T06:12:10Z", "2026-11-22T00:00:00Z")));
        assert!(!by(window("2026-11-20T00:00:00Z", "2026-11-21T06:12:09Z")));
    }

    #[test]
    fn a_document_without_a_time_is_not_taken_by_a_time_filter() {
        let mut d = document("orders", "s", "complete", "");
        d["failure"]["timestamp"] = Value::Null;
        let since = FilterArgs {
            since: Some(time("2020-01-01T00:00:00Z")),
            ..Default::default()
        };
        assert!(!since.matches(&d));
    }
}
