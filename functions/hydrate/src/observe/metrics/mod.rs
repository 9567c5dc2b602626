//! What the hydrator did, as CloudWatch metrics in the embedded metric format
//! (EMF): one JSON line a document on standard output, which CloudWatch Logs
//! turns into metrics with no API call and no latency.
//!
//! The line is built here from the document as delivered (its hydration
//! block and the on-failure record it carries) and a few counts the document
//! does not hold (throttled reads, delivery retries, the stream's retention).
//! The values are counts, durations and fixed names only: nothing of the
//! records, and no text of the failure record but its validated stream name,
//! shard id and sequence number.
//!
//! Cardinality stays bounded: every line has the `[FunctionName]` dimension
//! set, which the template's alarms and dashboard use; `METRICS_DIMENSIONS`
//! may add one finer set with the source kind and the stream's name (bounded
//! by the streams the function may read). Never a shard or a sequence number.

mod arrival;
mod emit;
mod retention;
mod settings;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use crate::document::{Document, Hydration, Status};
use crate::input::stream_arn::StreamArn;
use crate::kinds::kafka::read::KafkaGap;
use crate::read::GapReason;

pub use arrival::FailurePosition;
pub use emit::Metrics;
pub use retention::{RetentionCache, DYNAMODB_RETENTION};
pub use settings::{Dimension, MetricsSettings};

/// The counts one document's line reports beyond what the document holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Stream calls the service throttled (each was retried or ended the read).
    pub throttled_calls: u32,
    /// Queue entries sent again after the queue refused them.
    pub delivery_retries: u32,
    /// Messages the document was delivered in (0 when returned, not sent).
    pub parts: u32,
    /// The stream's retention period, when known.
    pub retention: Option<Duration>,
}

/// The metric names, each with its unit: fixed, so the dashboard and the
/// alarms can name them.
pub mod names {
    pub const FAILURES_HYDRATED: &str = "FailuresHydrated";
    pub const DOCUMENTS_COMPLETE: &str = "DocumentsComplete";
    pub const DOCUMENTS_PARTIAL: &str = "DocumentsPartial";
    pub const DOCUMENTS_UNAVAILABLE: &str = "DocumentsUnavailable";
    pub const RECORDS_EXPECTED: &str = "RecordsExpected";
    pub const RECORDS_HYDRATED: &str = "RecordsHydrated";
    pub const RECORDS_MISSING: &str = "RecordsMissing";
    pub const MISSING_RANGES: &str = "MissingRanges";
    pub const HYDRATION_DURATION: &str = "HydrationDuration";
    pub const READ_CALLS: &str = "ReadCalls";
    pub const THROTTLED_CALLS: &str = "ThrottledCalls";
    pub const DELIVERY_RETRIES: &str = "DeliveryRetries";
    pub const DELIVERED_PARTS: &str = "DeliveredParts";
    pub const FAILURE_AGE: &str = "FailureAge";
    pub const RETENTION_MARGIN: &str = "RetentionMargin";
    /// `RecordsMissing_<reason>`, one a reason the document names.
    pub const RECORDS_MISSING_PREFIX: &str = "RecordsMissing_";
}

/// What one line reports, before it is written out.
struct Line {
    metrics: Vec<(String, &'static str, Number)>,
}

impl Line {
    fn count(&mut self, name: impl Into<String>, value: u64) {
        self.metrics
            .push((name.into(), "Count", Number::from(value)));
    }

    fn seconds(&mut self, name: &str, value: i64) {
        self.metrics
            .push((name.to_owned(), "Seconds", Number::from(value)));
    }
}

/// The EMF line for one document: `source` (`aws:kinesis`...), the
/// on-failure record it carries and its hydration block as delivered.
///
/// `kafka_hydration` is a Kafka document's own hydration block, whose gaps
/// (by partition and offset, with Kafka's reasons) the shared [`Hydration`]
/// does not carry.
pub fn line(
    settings: &MetricsSettings,
    source: &str,
    failure: &RawValue,
    hydration: &Hydration,
    kafka_hydration: Option<&RawValue>,
    counts: Counts,
    now: SystemTime,
) -> String {
    let position = FailurePosition::of(failure);
    let mut line = Line {
        metrics: Vec::new(),
    };
    let one_if = |status: Status| u64::from(hydration.status == status);
    line.count(names::FAILURES_HYDRATED, 1);
    line.count(names::DOCUMENTS_COMPLETE, one_if(Status::Complete));
    line.count(names::DOCUMENTS_PARTIAL, one_if(Status::Partial));
    line.count(names::DOCUMENTS_UNAVAILABLE, one_if(Status::Unavailable));
    let expected = u64::from(hydration.expected_records);
    let hydrated = u64::from(hydration.hydrated_records);
    line.count(names::RECORDS_EXPECTED, expected);
    line.count(names::RECORDS_HYDRATED, hydrated);
    // More records than the batch size (a `count_mismatch` the other way)
    // is none missing.
    let missing = expected.saturating_sub(hydrated);
    line.count(names::RECORDS_MISSING, missing);
    line.count(names::MISSING_RANGES, hydration.missing.len() as u64);
    let by_reason = match kafka_hydration {
        Some(block) => kafka_missing_by_reason(block),
        None => missing_by_reason(hydration, missing),
    };
    for (reason, records) in by_reason {
        line.count(
            format!("{}{reason}", names::RECORDS_MISSING_PREFIX),
            records,
        );
    }
    line.metrics.push((
        names::HYDRATION_DURATION.to_owned(),
        "Milliseconds",
        Number::from(hydration.duration_ms),
    ));
    line.count(
        names::READ_CALLS,
        u64::from(hydration.get_records_calls) + u64::from(hydration.get_shard_iterator_calls),
    );
    line.count(names::THROTTLED_CALLS, counts.throttled_calls.into());
    line.count(names::DELIVERY_RETRIES, counts.delivery_retries.into());
    line.count(names::DELIVERED_PARTS, counts.parts.into());
    if let Some(age) = position.first_arrival.map(|t| age_seconds(t, now)) {
        line.seconds(names::FAILURE_AGE, age);
        if let Some(retention) = counts.retention {
            let retention = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
            line.seconds(names::RETENTION_MARGIN, retention.saturating_sub(age));
        }
    }
    render(settings, source, &position, hydration.status, line, now)
}

/// The same line for a document read back (a test, or the tool).
pub fn line_for(
    settings: &MetricsSettings,
    document: &Document,
    counts: Counts,
    now: SystemTime,
) -> String {
    line(
        settings,
        &document.source,
        &document.failure,
        &document.hydration,
        document.kafka.as_ref().map(|kafka| &*kafka.hydration),
        counts,
        now,
    )
}

/// A Kafka document's missing records under each reason its gaps name, in
/// the order they first appear; a gap counts its offsets. The reasons are
/// ours (`before_log_start`...), so they are safe in a metric's name.
fn kafka_missing_by_reason(block: &RawValue) -> Vec<(&'static str, u64)> {
    #[derive(serde::Deserialize)]
    struct Block {
        #[serde(default)]
        missing: Vec<KafkaGap>,
    }
    let Ok(block) = serde_json::from_str::<Block>(block.get()) else {
        return Vec::new();
    };
    let mut by_reason: Vec<(&'static str, u64)> = Vec::new();
    for gap in &block.missing {
        let offsets = gap
            .last_offset
            .saturating_sub(gap.first_offset)
            .saturating_add(1)
            .max(0) as u64;
        let name = gap.reason.metric_name();
        match by_reason.iter_mut().find(|(n, _)| *n == name) {
            Some((_, records)) => *records = records.saturating_add(offsets),
            None => by_reason.push((name, offsets)),
        }
    }
    by_reason
}

/// Records missing under each reason the document names. A gap is a
/// sequence range, not a count: a `too_large` gap is one record, and the
/// other missing records are counted under the reason of the first other
/// gap (the reader leaves at most a head and a tail gap, and one reason
/// explains a document in the usual case); `MissingRanges` counts the gaps.
fn missing_by_reason(hydration: &Hydration, missing: u64) -> Vec<(&'static str, u64)> {
    let too_large = hydration
        .missing
        .iter()
        .filter(|g| g.reason == GapReason::TooLarge)
        .count() as u64;
    let mut by_reason: Vec<(&'static str, u64)> = Vec::new();
    if too_large > 0 {
        by_reason.push((GapReason::TooLarge.as_str(), too_large));
    }
    let rest = missing.saturating_sub(too_large);
    let others = hydration
        .missing
        .iter()
        .map(|g| g.reason)
        .filter(|r| *r != GapReason::TooLarge);
    let mut first = true;
    for reason in others {
        let name = reason.as_str();
        if by_reason.iter().any(|(n, _)| *n == name) {
            continue;
        }
        by_reason.push((name, if first { rest } else { 0 }));
        first = false;
    }
    by_reason
}

/// Whole seconds from `then` to `now`; negative when the clocks disagree
/// and `then` lies ahead.
fn age_seconds(then: SystemTime, now: SystemTime) -> i64 {
    match now.duration_since(then) {
        Ok(age) => i64::try_from(age.as_secs()).unwrap_or(i64::MAX),
        Err(ahead) => -i64::try_from(ahead.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn render(
    settings: &MetricsSettings,
    source: &str,
    position: &FailurePosition,
    status: Status,
    line: Line,
    now: SystemTime,
) -> String {
    let stream = position
        .stream_arn
        .as_deref()
        .and_then(|arn| StreamArn::parse(arn).ok());
    let source_kind = match source {
        "aws:kinesis" => "kinesis",
        "aws:dynamodb" => "dynamodb",
        "aws:kafka" | "SelfManagedKafka" => "kafka",
        _ => "unknown",
    };
    let mut root = Map::new();
    let mut dimensions = vec![Value::from(vec![Dimension::Function.key()])];
    root.insert(
        Dimension::Function.key().into(),
        settings.function_name.clone().into(),
    );
    let finer: Vec<&str> = settings
        .dimensions
        .iter()
        .map(|d| d.key())
        .filter(|key| *key != Dimension::Function.key())
        .collect();
    if !finer.is_empty() {
        let mut set = vec![Dimension::Function.key()];
        set.extend(&finer);
        dimensions.push(set.into());
    }
    for key in finer {
        let value = match key {
            k if k == Dimension::Source.key() => source_kind.to_owned(),
            // An ARN that does not parse has no name to use: a fixed word
            // keeps the dimension present, as the set requires.
            _ => stream
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |s| s.name().to_owned()),
        };
        root.insert(key.into(), value.into());
    }
    let definitions: Vec<Value> = line
        .metrics
        .iter()
        .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit}))
        .collect();
    for (name, _, value) in line.metrics {
        root.insert(name, Value::Number(value));
    }
    // Context for Logs Insights, never dimensions: validated fields only.
    root.insert("status".into(), status.as_str().into());
    if let Some(stream) = &stream {
        root.insert("streamArn".into(), stream.as_str().into());
    }
    if let Some(shard) = &position.shard_id {
        root.insert("shardId".into(), shard.clone().into());
    }
    if let Some(start) = &position.start_sequence_number {
        root.insert("startSequenceNumber".into(), start.clone().into());
    }
    let timestamp = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": settings.namespace,
                "Dimensions": dimensions,
                "Metrics": definitions,
            }]
        }),
    );
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests;
