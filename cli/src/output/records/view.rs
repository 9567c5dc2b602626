//! One saved record as `show`, `dlq` and `hydrate` present it: its
//! sequence number and partition key (a Kafka record: its topic-partition,
//! offset and key), KPL aggregates taken apart, and its data as a
//! [`DataView`]; counted, or written as lines for a person.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::data::{kinesis_data, DataView};
use crate::kpl::{deaggregate, Kpl};
use crate::output::report::printable;
use crate::sources::saved::kafka_partition;

/// One record of the document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// A Kafka record's place: `<topic>-<partition>@<offset>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_record: Option<String>,
    /// A Kafka record's key (absent when it is null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<DataView>,
    /// `aggregate`, `invalid aggregate` (the KPL magic, but it fails the
    /// check), or absent for a record of the user's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpl: Option<&'static str>,
    /// Why an `invalid aggregate` is shown as raw data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpl_error: Option<String>,
    /// The record's data, unless it is an aggregate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_records: Option<Vec<UserRecordView>>,
    /// A DynamoDB stream record's change, as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamodb: Option<Value>,
    /// What kept the record from being read (its data not base64, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One user record of an aggregate.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecordView {
    pub index: usize,
    pub partition_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_hash_key: Option<String>,
    pub data: DataView,
}

/// How many records of a document are aggregates, and what they hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KplCounts {
    pub aggregates: usize,
    pub user_records: usize,
    pub invalid_aggregates: usize,
}

/// Every record of `records`, aggregates taken apart.
pub fn views(records: &[Value], max_bytes: usize) -> Vec<RecordView> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| view(index, record, max_bytes))
        .collect()
}

fn view(index: usize, record: &Value, max_bytes: usize) -> RecordView {
    let kinesis = &record["kinesis"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut view = RecordView {
        index,
        sequence_number: text(&kinesis["sequenceNumber"])
            .or_else(|| text(&record["dynamodb"]["SequenceNumber"])),
        partition_key: text(&kinesis["partitionKey"]),
        kafka_record: None,
        key: None,
        kpl: None,
        kpl_error: None,
        data: None,
        user_records: None,
        dynamodb: record.get("dynamodb").cloned(),
        error: None,
    };
    if view.dynamodb.is_some() {
        return view;
    }
    if let (Some(place), Some(offset)) = (kafka_partition(record), record["offset"].as_i64()) {
        view.kafka_record = Some(format!("{place}@{offset}"));
        let decoded = |field: &str| STANDARD.decode(record[field].as_str()?).ok();
        view.key = decoded("key").map(|key| DataView::of(&key, max_bytes));
        match (&record["value"], decoded("value")) {
            (Value::Null, _) => view.error = Some("the value is null".to_owned()),
            (_, Some(value)) => view.data = Some(DataView::of(&value, max_bytes)),
            (_, None) => view.error = Some("no base64 value".to_owned()),
        }
        return view;
    }
    let Some(bytes) = kinesis_data(kinesis) else {
        view.error = Some("no base64 kinesis.data".to_owned());
        return view;
    };
    match deaggregate(&bytes) {
        Kpl::Plain => view.data = Some(DataView::of(&bytes, max_bytes)),
        Kpl::Invalid(error) => {
            view.kpl = Some("invalid aggregate");
            view.kpl_error = Some(error.to_string());
            view.data = Some(DataView::of(&bytes, max_bytes));
        }
        Kpl::Aggregated(users) => {
            view.kpl = Some("aggregate");
            view.user_records = Some(
                users
                    .into_iter()
                    .enumerate()
                    .map(|(index, user)| UserRecordView {
                        index,
                        partition_key: user.partition_key.to_owned(),
                        explicit_hash_key: user.explicit_hash_key.map(str::to_owned),
                        data: DataView::of(user.data, max_bytes),
                    })
                    .collect(),
            );
        }
    }
    view
}

/// The aggregates among `records`, counted without keeping their data.
pub fn kpl_counts(records: &[Value]) -> KplCounts {
    let mut counts = KplCounts::default();
    for record in records {
        let Some(bytes) = kinesis_data(&record["kinesis"]) else {
            continue;
        };
        match deaggregate(&bytes) {
            Kpl::Plain => {}
            Kpl::Invalid(_) => counts.invalid_aggregates += 1,
            Kpl::Aggregated(users) => {
                counts.aggregates += 1;
                counts.user_records += users.len();
            }
        }
    }
    counts
}

impl KplCounts {
    /// One line for a failure's summary, or `None` when it holds no aggregate.
    pub fn line(&self) -> Option<String> {
        if self.aggregates == 0 && self.invalid_aggregates == 0 {
            return None;
        }
        let mut line = format!(
            "{} KPL aggregate(s) holding {} user record(s)",
            self.aggregates, self.user_records
        );
        if self.invalid_aggregates > 0 {
            line += &format!(
                ", {} record(s) with the KPL magic that fail the check (shown as raw data)",
                self.invalid_aggregates
            );
        }
        Some(line)
    }
}

/// Writes `views` for a person to `out`.
pub fn print_views(out: &mut dyn std::io::Write, views: &[RecordView]) {
    for view in views {
        // A closed pipe ends the listing early; nothing else is lost.
        let _ = out.write_all(record_text(view).as_bytes());
    }
}

/// A key as a quoted string, control characters escaped.
fn quoted(key: &str) -> String {
    format!("{key:?}")
}

/// One record as a person reads it.
pub fn record_text(view: &RecordView) -> String {
    let mut out = format!("record {}", view.index);
    if let Some(seq) = &view.sequence_number {
        let _ = write!(out, "  sequence {}", printable(seq));
    }
    if let Some(key) = &view.partition_key {
        let _ = write!(out, "  partition key {}", quoted(key));
    }
    if let Some(place) = &view.kafka_record {
        let _ = write!(out, "  {}", printable(place));
    }
    out.push('\n');
    if let Some(key) = &view.key {
        let _ = writeln!(out, "  key:");
        out += &key.lines("    ");
    }
    if let Some(error) = &view.error {
        let _ = writeln!(out, "  not shown: {error}");
    }
    if let Some(change) = &view.dynamodb {
        for line in serde_json::to_string_pretty(change)
            .unwrap_or_default()
            .lines()
        {
            let _ = writeln!(out, "  {line}");
        }
    }
    if let Some(error) = &view.kpl_error {
        let _ = writeln!(
            out,
            "  starts with the KPL magic but is not an aggregate ({error}): shown as raw data"
        );
    }
    if let Some(data) = &view.data {
        out += &data.lines("  ");
    }
    if let Some(users) = &view.user_records {
        let _ = writeln!(out, "  KPL aggregate of {} user record(s)", users.len());
        for user in users {
            let _ = write!(
                out,
                "  user record {}  partition key {}",
                user.index,
                quoted(&user.partition_key)
            );
            if let Some(hash_key) = &user.explicit_hash_key {
                let _ = write!(out, "  explicit hash key {}", quoted(hash_key));
            }
            out.push('\n');
            out += &user.data.lines("    ");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_kafka_record_shows_its_place_key_and_value() {
        let records = [
            json!({"topic": "order-events-v2", "partition": 1, "offset": 17,
                "key": "AAE=", "value": "eyJhIjoxfQ==", "headers": []}),
            json!({"topic": "order-events-v2", "partition": 0, "offset": 3,
                "key": null, "value": null, "headers": []}),
        ];
        let views = views(&records, 1024);
        assert_eq!(
            views[0].kafka_record.as_deref(),
            Some("order-events-v2-1@17")
        );
        assert!(views[0].key.is_some() && views[0].data.is_some());
        assert!(views[0].error.is_none());
        let text = record_text(&views[0]);
        assert!(
            text.starts_with("record 0  order-events-v2-1@17\n  key:\n"),
            "{text}"
        );
        assert!(
            text.contains("json, 7 byte(s)") && text.contains(r#""a": 1"#),
            "{text}"
        );
        assert!(views[1].key.is_none() && views[1].data.is_none());
        assert_eq!(views[1].error.as_deref(), Some("the value is null"));
    }
}
