//! What commands print: aligned tables for people, one JSON document for
//! scripts (`--output json`), and progress bars on standard error that show
//! only when a person is watching.

use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::Format as DateFormat;
use aws_smithy_types::DateTime;
use serde::Serialize;
use serde_json::Value;

use crate::sources::document::{batch_info, is_kafka, records, stream_name, KafkaNames};

/// One failure as the summary shows it, read from its document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureSummary {
    pub source: String,
    pub stream: String,
    pub shard: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub records: u64,
    pub expected: u64,
    pub status: String,
    /// Seconds since the event source mapping gave up on the batch.
    pub age_seconds: Option<u64>,
}

impl FailureSummary {
    pub fn of(document: &Value, now: SystemTime) -> Self {
        let failure = &document["failure"];
        let batch = batch_info(failure).unwrap_or(&Value::Null);
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        let hydration = &document["hydration"];
        let age_seconds = failure["timestamp"]
            .as_str()
            .and_then(|t| DateTime::from_str(t, DateFormat::DateTime).ok())
            .and_then(|t| SystemTime::try_from(t).ok())
            .and_then(|t| now.duration_since(t).ok())
            .map(|d| d.as_secs());
        // A Kafka failure: topics in the stream's place, partitions in the
        // shard's, each partition's first and last offsets for the range.
        let (stream, shard, start, end) = if is_kafka(document) {
            let names = KafkaNames::of(batch);
            (
                names.topics,
                names.partitions,
                names.first_offsets,
                names.last_offsets,
            )
        } else {
            (
                stream_name(batch["streamArn"].as_str().unwrap_or("")),
                text(&batch["shardId"]),
                text(&batch["startSequenceNumber"]),
                text(&batch["endSequenceNumber"]),
            )
        };
        Self {
            source: text(&document["source"]),
            stream,
            shard,
            start_sequence_number: start,
            end_sequence_number: end,
            records: records(document).len() as u64,
            expected: hydration["expectedRecords"]
                .as_u64()
                .or_else(|| batch["batchSize"].as_u64())
                .unwrap_or(0),
            status: text(&hydration["status"]),
            age_seconds,
        }
    }

    /// Cells for [`table`]: stream, shard, range, records, status, age.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.stream.clone(),
            self.shard.clone(),
            format!(
                "{} .. {}",
                short(&self.start_sequence_number),
                short(&self.end_sequence_number)
            ),
            format!("{}/{}", self.records, self.expected),
            self.status.clone(),
            self.age_seconds
                .map_or_else(|| "?".into(), |s| age(Duration::from_secs(s))),
        ]
    }
}

pub const SUMMARY_HEADERS: [&str; 6] = ["STREAM", "SHARD", "RANGE", "RECORDS", "STATUS", "AGE"];

/// The first and last digits of a sequence number: enough to tell ranges apart.
pub fn short(sequence_number: &str) -> String {
    if sequence_number.len() <= 16 {
        return sequence_number.to_owned();
    }
    format!(
        "{}…{}",
        &sequence_number[..6],
        &sequence_number[sequence_number.len() - 8..]
    )
}

pub fn age(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Prints `report` as JSON on standard output.
pub fn print_json(report: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(report)?);
    Ok(())
}

/// A value read from a message, fit for a terminal: control characters
/// replaced, and at most 100 characters.
pub fn printable(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(100).is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_summary_reads_a_kafka_document_by_topic_partition_and_offsets() {
        let kafka = json!({
            "source": "SelfManagedKafka",
            "failure": {"timestamp": "2026-11-21T06:12:09.114Z", "KafkaBatchInfo": {
                "batchSize": 7, "bootstrapServers": "h:9092", "recordsInfo": {
                    "orders-v2-0": {"firstRecordOffset": "1", "lastRecordOffset": "3"},
                    "orders-v2-1": {"firstRecordOffset": "2", "lastRecordOffset": "5"}}}},
            "hydration": {"status": "partial", "expectedRecords": 7},
            "event": {"records": {"orders-v2-0": [{}, {}, {}], "orders-v2-1": [{}, {}]}}
        });
        let summary = FailureSummary::of(&kafka, SystemTime::now());
        assert_eq!(summary.stream, "orders-v2");
        assert_eq!(summary.shard, "0,1");
        assert_eq!(summary.start_sequence_number, "1,2");
        assert_eq!(summary.end_sequence_number, "3,5");
        assert_eq!((summary.records, summary.expected), (5, 7));
        assert_eq!(summary.cells()[2], "1,2 .. 3,5");
    }

    #[test]
    fn a_summary_reads_kinesis_and_dynamodb_documents() {
        let now = SystemTime::try_from(
            DateTime::from_str("2026-11-23T08:00:00Z", DateFormat::DateTime).unwrap(),
        )
        .unwrap();
        let kinesis = json!({
            "source": "aws:kinesis",
            "failure": {"timestamp": "2026-11-21T06:12:09.114Z", "KinesisBatchInfo": {
                "shardId": "shardId-000000000000", "batchSize": 7,
                "startSequenceNumber": "49680491060156423900702611019402176917130074637438287874",
                "endSequenceNumber": "49680491060156423900702611019409430472047762412486524930",
                "streamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/orders"}},
            "hydration": {"status": "partial", "expectedRecords": 7},
            "Records": [{}, {}, {}]
        });
        let summary = FailureSummary::of(&kinesis, now);
        let cells = summary.cells();
        assert_eq!(cells[..2], ["orders", "shardId-000000000000"]);
        assert_eq!(cells[2], "496804…38287874 .. 496804…86524930");
        assert_eq!(cells[3..], ["3/7", "partial", "2d01h"]);
        let dynamodb = json!({"failure": {"DDBStreamBatchInfo": {
            "streamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-11-21T06:00:00.000"}}});
        assert_eq!(FailureSummary::of(&dynamodb, now).stream, "orders");
        assert_eq!(FailureSummary::of(&dynamodb, now).age_seconds, None);
    }

    #[test]
    fn tables_align_columns() {
        let text = table(&["A", "BB"], &[vec!["long cell".into(), "x".into()]]);
        assert_eq!(text, "A          BB\nlong cell  x\n");
    }
}
