//! A Kafka event source mapping's on-failure record: `KafkaBatchInfo`, which
//! names the failed offsets of one or more topic-partitions and holds none of
//! their data (SNS and SQS destinations), or, from an S3 destination, the
//! same record with `payload`, the batch itself, which needs no read.
//!
//! Everything a read relies on is checked here, and bounded: a forged record
//! cannot name more partitions, longer names or larger offsets than Kafka
//! allows. Errors name fields and classes only, never input text.

use serde_json::value::RawValue;
use serde_json::Value;

use crate::input::failure::{context, RecordError};
use crate::input::fault::{is_identifier, FieldFault, JsonFault, Members};

/// Lambda's largest Kafka batch; the on-failure record of a larger one is not real.
pub const MAX_BATCH_SIZE: u64 = 10_000;
/// How many topic-partitions one failure may name: a batch holds at most
/// [`MAX_BATCH_SIZE`] records, each of one partition.
pub const MAX_PARTITIONS: usize = MAX_BATCH_SIZE as usize;
/// Kafka's longest topic name.
pub const MAX_TOPIC_LEN: usize = 249;
/// The longest offset text accepted, as for sequence numbers: the
/// documentation's example shows Kinesis-like numbers, so the text is
/// bounded first, and only then held to Kafka's signed 64-bit offsets.
pub const MAX_OFFSET_DIGITS: usize = 129;
/// The longest `bootstrapServers` list kept.
pub const MAX_BOOTSTRAP_LEN: usize = 4096;
/// The longest `eventSourceArn` kept.
pub const MAX_ARN_LEN: usize = 2048;

/// Why the batch failed, as `requestContext.condition` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `RetryAttemptsExhausted`, or `RetriesExhausted` as the Kafka
    /// destination page spells it.
    RetriesExhausted,
    /// The batch was larger than Lambda's payload limit: no invocation happened.
    MaximumPayloadSizeExceeded,
    /// Absent, or a value not documented yet: kept, not refused.
    Other,
}

/// One topic-partition's failed offsets, first through last, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRange {
    pub topic: String,
    pub partition: i32,
    pub first: i64,
    pub last: i64,
}

impl PartitionRange {
    /// The key Lambda files the partition's records under: `<topic>-<partition>`.
    pub fn key(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }
}

/// A Kafka on-failure record, validated, with its exact text kept.
#[derive(Debug, Clone)]
pub struct KafkaFailure {
    /// The record exactly as received, to be carried into the document.
    pub raw: Box<RawValue>,
    pub condition: Condition,
    pub batch_size: u32,
    /// The MSK cluster's ARN; for self-managed Kafka whatever the mapping
    /// names its source with, or nothing.
    pub event_source_arn: Option<String>,
    /// As the event source mapping was configured: `host:port,host:port`.
    pub bootstrap_servers: String,
    /// In the order of topic, then partition: the order a document lists them.
    pub partitions: Vec<PartitionRange>,
    /// From an S3 destination: the failed batch itself, the Kafka event the
    /// consumer got (unescaped when `payload` was a JSON string), checked to
    /// have `records` keyed by partition.
    pub payload: Option<Box<RawValue>>,
}

impl KafkaFailure {
    /// Whether the event source is Amazon MSK (`aws:kafka`) rather than a
    /// self-managed cluster (`SelfManagedKafka`).
    pub fn is_msk(&self) -> bool {
        self.event_source_arn
            .as_deref()
            .is_some_and(|arn| arn.starts_with("arn:") && arn.contains(":kafka:"))
    }
}

/// Why a JSON document is not a Kafka on-failure record the hydrator accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KafkaRecordError {
    #[error("the on-failure record is not valid JSON: {0}")]
    InvalidJson(JsonFault),
    #[error("the on-failure record is not a JSON object")]
    NotAnObject,
    #[error("the record has no KafkaBatchInfo")]
    MissingBatchInfo,
    #[error("`{0}` occurs more than once")]
    DuplicateField(&'static str),
    #[error("KafkaBatchInfo is malformed: {0}")]
    Malformed(FieldFault),
    #[error("batchSize {0} is outside 1..={MAX_BATCH_SIZE}")]
    BatchSizeOutOfRange(u64),
    #[error("recordsInfo names no partition")]
    NoPartitions,
    #[error("recordsInfo names more than {MAX_PARTITIONS} partitions")]
    TooManyPartitions,
    #[error("a recordsInfo key ({0} bytes) is not <topic>-<partition> with a Kafka topic name")]
    InvalidPartitionKey(usize),
    #[error("`{field}` ({digits} characters) is not a Kafka offset: a decimal 0..=2^63-1")]
    InvalidOffset { field: &'static str, digits: usize },
    #[error("firstRecordOffset is after lastRecordOffset")]
    FirstAfterLast,
    #[error("bootstrapServers ({0} bytes) is not a list of host:port")]
    InvalidBootstrapServers(usize),
    #[error("eventSourceArn is longer than {MAX_ARN_LEN} bytes")]
    ArnTooLong,
    #[error("the payload is not a Kafka event: {0}")]
    MalformedPayload(PayloadFault),
    #[error("the record's context is malformed: {0}")]
    MalformedContext(FieldFault),
}

/// What is wrong with an S3 destination's `payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayloadFault {
    #[error("{0}")]
    Json(JsonFault),
    #[error("{0}")]
    Field(FieldFault),
}

impl KafkaRecordError {
    /// A stable class name for logs, metrics and the Lambda error type.
    pub fn class(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "InvalidJson",
            Self::NotAnObject => "NotAnObject",
            Self::MissingBatchInfo => "MissingBatchInfo",
            Self::DuplicateField(_) => "DuplicateField",
            Self::Malformed(_) => "MalformedBatchInfo",
            Self::BatchSizeOutOfRange(_) => "BatchSizeOutOfRange",
            Self::NoPartitions => "NoPartitions",
            Self::TooManyPartitions => "TooManyPartitions",
            Self::InvalidPartitionKey(_) => "InvalidPartitionKey",
            Self::InvalidOffset { .. } => "InvalidOffset",
            Self::FirstAfterLast => "FirstAfterLast",
            Self::InvalidBootstrapServers(_) => "InvalidBootstrapServers",
            Self::ArnTooLong => "ArnTooLong",
            Self::MalformedPayload(_) => "MalformedPayload",
            Self::MalformedContext(_) => "MalformedContext",
        }
    }
}

impl From<JsonFault> for KafkaRecordError {
    fn from(fault: JsonFault) -> Self {
        Self::InvalidJson(fault)
    }
}

impl KafkaFailure {
    /// Parses and validates one Kafka on-failure record from its JSON text.
    pub fn parse(text: &str) -> Result<Self, KafkaRecordError> {
        let raw: Box<RawValue> = serde_json::from_str(text).map_err(JsonFault::from)?;
        let members = Members::parse(raw.get())?.ok_or(KafkaRecordError::NotAnObject)?;
        let unique = |key| {
            members
                .unique(key)
                .map_err(KafkaRecordError::DuplicateField)
        };
        let info = unique("KafkaBatchInfo")?.ok_or(KafkaRecordError::MissingBatchInfo)?;
        // Copied into the document with the record, as for the stream kinds.
        let request_context =
            context(unique("requestContext")?, "requestContext").map_err(|error| match error {
                RecordError::MalformedContext(fault) => KafkaRecordError::MalformedContext(fault),
                // `context` fails only as above; named the same way regardless.
                _ => KafkaRecordError::MalformedContext(FieldFault::not(
                    "requestContext",
                    "an object",
                )),
            })?;
        let condition = condition(request_context);
        let payload = match unique("payload")? {
            Some(p) if p.get() != "null" => Some(delivered_event(p)?),
            _ => None,
        };
        let info = Members::parse(info.get())?.ok_or(KafkaRecordError::Malformed(
            FieldFault::not("KafkaBatchInfo", "an object"),
        ))?;
        let field = |key: &'static str| -> Result<Option<Value>, KafkaRecordError> {
            match info.unique(key).map_err(KafkaRecordError::DuplicateField)? {
                None => Ok(None),
                // Already parsed once as part of the record, so it parses again.
                Some(raw) => Ok(serde_json::from_str::<Value>(raw.get())
                    .ok()
                    .filter(|v| !v.is_null())),
            }
        };
        let batch_size = match field("batchSize")? {
            None => return Err(malformed(FieldFault::missing("KafkaBatchInfo.batchSize"))),
            Some(v) => v.as_u64().ok_or(malformed(FieldFault::not(
                "KafkaBatchInfo.batchSize",
                "a whole number",
            )))?,
        };
        if batch_size == 0 || batch_size > MAX_BATCH_SIZE {
            return Err(KafkaRecordError::BatchSizeOutOfRange(batch_size));
        }
        let event_source_arn = match field("eventSourceArn")? {
            None => None,
            Some(Value::String(arn)) if arn.len() <= MAX_ARN_LEN => Some(arn),
            Some(Value::String(_)) => return Err(KafkaRecordError::ArnTooLong),
            Some(_) => {
                return Err(malformed(FieldFault::not(
                    "KafkaBatchInfo.eventSourceArn",
                    "a string",
                )))
            }
        };
        let bootstrap_servers = match field("bootstrapServers")? {
            Some(Value::String(servers)) => bootstrap(servers)?,
            None => {
                return Err(malformed(FieldFault::missing(
                    "KafkaBatchInfo.bootstrapServers",
                )))
            }
            Some(_) => {
                return Err(malformed(FieldFault::not(
                    "KafkaBatchInfo.bootstrapServers",
                    "a string",
                )))
            }
        };
        let unique_info = |key| info.unique(key).map_err(KafkaRecordError::DuplicateField);
        let partitions = match (unique_info("recordsInfo")?, unique_info("recordInfo")?) {
            (Some(records_info), _) => partitions(records_info)?,
            (None, Some(record_info)) => one_record(record_info, payload.as_deref())?,
            (None, None) => {
                return Err(malformed(FieldFault::missing("KafkaBatchInfo.recordsInfo")))
            }
        };
        Ok(Self {
            raw,
            condition,
            // Checked against MAX_BATCH_SIZE above, so it fits.
            batch_size: batch_size as u32,
            event_source_arn,
            bootstrap_servers,
            partitions,
            payload,
        })
    }
}

/// The Kafka event an S3 destination saved: `payload` is documented as the
/// event escaped into a JSON string; an object is accepted too. Its records
/// are Lambda's own, kept as written; only their container is checked.
fn delivered_event(payload: &RawValue) -> Result<Box<RawValue>, KafkaRecordError> {
    let bad = |fault| KafkaRecordError::MalformedPayload(fault);
    let event: Box<RawValue> = if payload.get().starts_with('"') {
        // Parsed once already as part of the record, so the string parses again.
        let text: String = serde_json::from_str(payload.get())
            .map_err(|e| bad(PayloadFault::Json(JsonFault::from(e))))?;
        serde_json::from_str(&text).map_err(|e| bad(PayloadFault::Json(JsonFault::from(e))))?
    } else {
        payload.to_owned()
    };
    let members = Members::parse(event.get())
        .map_err(|e| bad(PayloadFault::Json(e)))?
        .ok_or(bad(PayloadFault::Field(FieldFault::not(
            "payload",
            "an object",
        ))))?;
    let records = members
        .unique("records")
        .map_err(KafkaRecordError::DuplicateField)?
        .ok_or(bad(PayloadFault::Field(FieldFault::missing(
            "payload.records",
        ))))?;
    let partitions: serde_json::Map<String, Value> =
        serde_json::from_str(records.get()).map_err(|_| {
            bad(PayloadFault::Field(FieldFault::not(
                "payload.records",
                "an object",
            )))
        })?;
    if !partitions.values().all(Value::is_array) {
        return Err(bad(PayloadFault::Field(FieldFault::not(
            "payload.records.*",
            "an array",
        ))));
    }
    Ok(event)
}

fn malformed(fault: FieldFault) -> KafkaRecordError {
    KafkaRecordError::Malformed(fault)
}

fn condition(context: Option<&RawValue>) -> Condition {
    let context: Option<Value> = context.and_then(|c| serde_json::from_str(c.get()).ok());
    match context
        .as_ref()
        .and_then(|c| c.get("condition"))
        .and_then(Value::as_str)
    {
        Some("RetryAttemptsExhausted" | "RetriesExhausted") => Condition::RetriesExhausted,
        Some("MaximumPayloadSizeExceeded") => Condition::MaximumPayloadSizeExceeded,
        _ => Condition::Other,
    }
}

/// `host:port[,host:port...]`, each host of DNS or IPv4 characters, each port a number.
fn bootstrap(servers: String) -> Result<String, KafkaRecordError> {
    let invalid = KafkaRecordError::InvalidBootstrapServers(servers.len());
    if servers.is_empty() || servers.len() > MAX_BOOTSTRAP_LEN {
        return Err(invalid);
    }
    let each_valid = servers.split(',').all(|server| {
        let Some((host, port)) = server.rsplit_once(':') else {
            return false;
        };
        is_identifier(host, 1, 253) && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    if each_valid {
        Ok(servers)
    } else {
        Err(invalid)
    }
}

/// `recordsInfo`'s members, each `<topic>-<partition>` split on the last
/// hyphen (topic names may hold hyphens), sorted by topic and partition.
fn partitions(records_info: &RawValue) -> Result<Vec<PartitionRange>, KafkaRecordError> {
    let members = Members::parse(records_info.get())?.ok_or(malformed(FieldFault::not(
        "KafkaBatchInfo.recordsInfo",
        "an object",
    )))?;
    if members.0.is_empty() {
        return Err(KafkaRecordError::NoPartitions);
    }
    if members.0.len() > MAX_PARTITIONS {
        return Err(KafkaRecordError::TooManyPartitions);
    }
    let mut ranges = Vec::with_capacity(members.0.len());
    for (key, value) in &members.0 {
        let (topic, partition) = split_key(key)?;
        let info = Members::parse(value.get())?.ok_or(malformed(FieldFault::not(
            "KafkaBatchInfo.recordsInfo.*",
            "an object",
        )))?;
        let first = offset(&info, "firstRecordOffset")?;
        let last = offset(&info, "lastRecordOffset")?;
        if first > last {
            return Err(KafkaRecordError::FirstAfterLast);
        }
        ranges.push(PartitionRange {
            topic: topic.to_owned(),
            partition,
            first,
            last,
        });
    }
    ranges.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    if ranges
        .windows(2)
        .any(|w| w[0].topic == w[1].topic && w[0].partition == w[1].partition)
    {
        // `topic-01` and `topic-1` name one partition twice.
        return Err(KafkaRecordError::DuplicateField(
            "KafkaBatchInfo.recordsInfo.*",
        ));
    }
    Ok(ranges)
}

/// A Kafka topic destination's record names one failed record
/// (`recordInfo`: its offset) and holds it in `payload`, filed under its
/// partition's key: one partition, one offset.
fn one_record(
    record_info: &RawValue,
    payload: Option<&RawValue>,
) -> Result<Vec<PartitionRange>, KafkaRecordError> {
    let info = Members::parse(record_info.get())?.ok_or(malformed(FieldFault::not(
        "KafkaBatchInfo.recordInfo",
        "an object",
    )))?;
    let offset = offset(&info, "offset")?;
    let payload = payload.ok_or(malformed(FieldFault::missing("payload")))?;
    let bad = || {
        KafkaRecordError::MalformedPayload(PayloadFault::Field(FieldFault::not(
            "payload.records",
            "one partition's key",
        )))
    };
    // Checked when the payload was read: an object whose `records` is an object.
    let event = Members::parse(payload.get())?.ok_or_else(bad)?;
    let records = event
        .unique("records")
        .map_err(KafkaRecordError::DuplicateField)?
        .ok_or_else(bad)?;
    let partitions = Members::parse(records.get())?.ok_or_else(bad)?;
    let [(key, _)] = partitions.0.as_slice() else {
        return Err(bad());
    };
    let (topic, partition) = split_key(key)?;
    Ok(vec![PartitionRange {
        topic: topic.to_owned(),
        partition,
        first: offset,
        last: offset,
    }])
}

fn split_key(key: &str) -> Result<(&str, i32), KafkaRecordError> {
    let invalid = || KafkaRecordError::InvalidPartitionKey(key.len());
    let (topic, partition) = key.rsplit_once('-').ok_or_else(invalid)?;
    if !is_identifier(topic, 1, MAX_TOPIC_LEN)
        || partition.is_empty()
        || partition.len() > 10
        || !partition.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let partition = partition.parse::<i32>().map_err(|_| invalid())?;
    Ok((topic, partition))
}

/// An offset: a decimal string (or, leniently, a whole JSON number), held to
/// [`MAX_OFFSET_DIGITS`] before it is read as a signed 64-bit Kafka offset.
fn offset(info: &Members, key: &'static str) -> Result<i64, KafkaRecordError> {
    let raw = info
        .unique(key)
        .map_err(KafkaRecordError::DuplicateField)?
        .ok_or(malformed(FieldFault::missing(key)))?;
    let text = raw.get();
    let digits = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let invalid = KafkaRecordError::InvalidOffset {
        field: key,
        digits: digits.len().min(MAX_OFFSET_DIGITS + 1),
    };
    if digits.is_empty()
        || digits.len() > MAX_OFFSET_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid);
    }
    digits.parse::<i64>().map_err(|_| invalid)
}

#[cfg(test)]
mod tests;
