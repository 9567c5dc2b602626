//! The hydrated document (version 1): the failure record, what reading it
//! back achieved, and the records themselves in the shape Lambda delivers them.
//!
//! Its `Records` array is a valid event for the consumer that failed, so the
//! document, or `{"Records": [...]}` cut from it, replays as it is. The schema
//! is `functions/hydrate/schema/hydrated-document.v1.json`.

mod kafka;
pub mod parts;
mod wire;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::input::failure::BatchInfo;
use crate::read::Gap;

pub use kafka::{KafkaBatch, KafkaBody};
pub use wire::{join, Document, JoinError};

pub const VERSION: &str = "1";

/// What every record of one batch shares, for one kind of stream: it turns
/// the records a shard gives into the records Lambda delivered. Each kind
/// implements it in its own folder (`crate::kinds`).
pub trait BatchContext {
    /// A record as the stream service gives it.
    type Record;

    /// One record in the shape Lambda delivered it in: written out at once,
    /// so that the service's copy of its data is let go record by record,
    /// or, where that copy is the answer's own text, kept unwritten until
    /// its part is ([`RawRecord::unwritten`]). Fails only for a record this
    /// build cannot write faithfully.
    fn event_record(&self, record: Self::Record) -> Result<RawRecord, serde_json::Error>;

    /// Into a list of its own size. Collected from the records' list, the
    /// written records would keep its buffer (Rust reuses it in place), made
    /// for the larger records it grew by doubling: 2.4 MB held through
    /// delivery at 10,000 Kinesis records, where 0.4 MB is needed (#27).
    fn event_records(&self, records: Vec<Self::Record>) -> Result<EventRecords, serde_json::Error> {
        let mut written = Vec::with_capacity(records.len());
        for record in records {
            written.push(self.event_record(record)?);
        }
        Ok(EventRecords(written))
    }
}

#[derive(Debug)]
pub struct HydratedDocument {
    /// The batch the failure record names, for delivery attributes and logs.
    pub batch: Batch,
    /// Stream calls the service throttled while reading it, for the metrics.
    pub throttled_calls: u32,
    pub version: &'static str,
    /// `aws:kinesis`, `aws:dynamodb`, `aws:kafka` or `SelfManagedKafka`:
    /// which shape the records have.
    pub source: &'static str,
    /// The on-failure record exactly as received.
    pub failure: Box<RawValue>,
    /// For a Kafka document, its counts and status; the block it carries is
    /// the Kafka reader's ([`KafkaBody::hydration`]).
    pub hydration: Hydration,
    pub records: EventRecords,
}

/// What a document's failure names: a stream shard's sequence range, or a
/// Kafka failure's partitions and the event they go in.
#[derive(Debug, Clone)]
pub enum Batch {
    Shard(BatchInfo),
    Kafka(KafkaBatch),
}

impl Batch {
    /// The stream shard's batch, when the failure is a stream's.
    pub fn shard(&self) -> Option<&BatchInfo> {
        match self {
            Batch::Shard(batch) => Some(batch),
            Batch::Kafka(_) => None,
        }
    }

    /// The failure's stable id: the same for the same failure, whichever
    /// invocation delivers it.
    pub fn group_id(&self) -> String {
        match self {
            Batch::Shard(batch) => parts::group_id(batch),
            Batch::Kafka(kafka) => kafka.group_id.clone(),
        }
    }
}

impl Serialize for HydratedDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_map(None)?;
        document.serialize_entry("version", self.version)?;
        document.serialize_entry("source", self.source)?;
        document.serialize_entry("failure", &self.failure)?;
        match &self.batch {
            Batch::Shard(_) => {
                document.serialize_entry("hydration", &self.hydration)?;
                document.serialize_entry("Records", &self.records)?;
            }
            Batch::Kafka(kafka) => {
                let records: Vec<&RawRecord> = self.records.iter().collect();
                document.serialize_entry("hydration", &kafka.body.hydration)?;
                document.serialize_entry("event", &kafka.body.event(0, &records))?;
            }
        }
        document.end()
    }
}

/// The records of one batch, each in the event shape of its source and
/// already written as JSON: the pieces delivery packs into messages, and the
/// document's `Records` array.
#[derive(Debug, Default)]
pub struct EventRecords(pub Vec<RawRecord>);

impl EventRecords {
    /// Records exactly as Lambda delivered them, taken from a payload it
    /// saved (an S3 on-failure destination's object).
    pub fn delivered(records: Vec<Box<RawValue>>) -> Self {
        EventRecords(
            records
                .into_iter()
                .map(|json| {
                    let sequence_number = sequence_number_of(&json).unwrap_or_default();
                    RawRecord::written(json, sequence_number)
                })
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, RawRecord> {
        self.0.iter()
    }
}

impl Serialize for EventRecords {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

/// One record in the event shape of its source, with the sequence number
/// that places it, and the length of its JSON.
///
/// Most records are written as JSON as soon as they are read. A record that
/// is mostly a slice of the answer it came in (a Kinesis record's base64
/// data) is instead written only where it is sent, straight into its part:
/// at 10,000 records its written copy was the largest block an invocation
/// held, beside the answer it was copied from (#27).
#[derive(Debug)]
pub struct RawRecord {
    body: RecordBody,
    /// The length of the record's JSON, measured once.
    len: usize,
}

#[derive(Debug)]
enum RecordBody {
    Written {
        json: Box<RawValue>,
        sequence_number: String,
    },
    Unwritten(Box<dyn UnwrittenRecord>),
}

/// A record kept as it was read, written each time it is serialized; the
/// same JSON every time.
pub trait UnwrittenRecord: erased_serde::Serialize + std::fmt::Debug + Send + Sync {
    /// The sequence number that places it (kept once, in the record).
    fn sequence_number(&self) -> &str;
}

erased_serde::serialize_trait_object!(UnwrittenRecord);

/// From this size on, a record is written into a buffer made at its size.
const LARGE_RECORD: usize = 64 * 1024;

impl RawRecord {
    /// `record` written as JSON.
    pub fn of<T: Serialize>(
        record: &T,
        sequence_number: String,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self::written(
            serde_json::value::to_raw_value(record)?,
            sequence_number,
        ))
    }

    /// JSON text already written.
    pub fn written(json: Box<RawValue>, sequence_number: String) -> Self {
        RawRecord {
            len: json.get().len(),
            body: RecordBody::Written {
                json,
                sequence_number,
            },
        }
    }

    /// `record` written as JSON of at most about `expected` bytes. A large
    /// record is written into a buffer made once at that size: grown by
    /// doubling, the buffer of a 10 MiB record would reach 16 MiB, copied
    /// along the way.
    pub fn of_sized<T: Serialize>(
        record: &T,
        expected: usize,
        sequence_number: String,
    ) -> Result<Self, serde_json::Error> {
        if expected < LARGE_RECORD {
            return Self::of(record, sequence_number);
        }
        let mut json = Vec::with_capacity(expected);
        serde_json::to_writer(&mut json, record)?;
        // serde_json writes only UTF-8.
        let json =
            String::from_utf8(json).map_err(|e| serde::ser::Error::custom(e.utf8_error()))?;
        // SAFETY: the text is serde_json's own writing of one value, with no
        // whitespace around it: what `to_raw_value` also takes unchecked.
        let json = unsafe { RawValue::from_string_unchecked(json) };
        Ok(Self::written(json, sequence_number))
    }

    /// `record` kept as it is, to be written where it is serialized. Its
    /// length is measured here, by writing it to nowhere.
    pub fn unwritten<T: UnwrittenRecord + Serialize + 'static>(
        record: T,
    ) -> Result<Self, serde_json::Error> {
        Ok(RawRecord {
            len: json_len(&record)?,
            body: RecordBody::Unwritten(Box::new(record)),
        })
    }

    /// The sequence number that places the record (a Kafka record's offset).
    pub fn sequence_number(&self) -> &str {
        match &self.body {
            RecordBody::Written {
                sequence_number, ..
            } => sequence_number,
            RecordBody::Unwritten(record) => record.sequence_number(),
        }
    }

    /// The length of the record's JSON.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The record's JSON, written now if it was not yet.
    pub fn to_raw_value(&self) -> Result<Box<RawValue>, serde_json::Error> {
        match &self.body {
            RecordBody::Written { json, .. } => Ok(json.clone()),
            RecordBody::Unwritten(record) => serde_json::value::to_raw_value(record),
        }
    }
}

impl Serialize for RawRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.body {
            RecordBody::Written { json, .. } => json.serialize(serializer),
            RecordBody::Unwritten(record) => record.serialize(serializer),
        }
    }
}

/// The length of `value`'s JSON, counted without keeping it.
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> Result<usize, serde_json::Error> {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value)?;
    Ok(counter.0)
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `kinesis.sequenceNumber` or `dynamodb.SequenceNumber` of a record in
/// Lambda's event shape.
pub fn sequence_number_of(record: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Delivered {
        kinesis: Option<KinesisPart>,
        dynamodb: Option<DynamoDbPart>,
    }
    #[derive(serde::Deserialize)]
    struct KinesisPart {
        #[serde(rename = "sequenceNumber")]
        sequence_number: String,
    }
    #[derive(serde::Deserialize)]
    struct DynamoDbPart {
        #[serde(rename = "SequenceNumber")]
        sequence_number: String,
    }
    let delivered: Delivered = serde_json::from_str(record.get()).ok()?;
    delivered
        .kinesis
        .map(|k| k.sequence_number)
        .or(delivered.dynamodb.map(|d| d.sequence_number))
}

/// `complete` only when every record from start through end was read and the
/// count matches the batch size; otherwise `partial`, with the gaps named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    Partial,
    /// The stream or shard does not exist: nothing could be read.
    Unavailable,
}

impl Status {
    /// The status rule: `complete` with no gap; `unavailable` when the
    /// stream or shard does not exist and nothing was read; `partial` else.
    pub fn of(gaps: &[crate::read::Gap], unavailable: bool, no_records: bool) -> Self {
        if gaps.is_empty() {
            Status::Complete
        } else if unavailable && no_records {
            Status::Unavailable
        } else {
            Status::Partial
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Partial => "partial",
            Status::Unavailable => "unavailable",
        }
    }
}

/// Where the records came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Read back from the stream.
    Stream,
    /// Taken from the invocation payload an S3 on-failure destination saved.
    S3Payload,
}

/// The hydration block, the same type written and read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hydration {
    pub status: Status,
    pub origin: Origin,
    pub expected_records: u32,
    pub hydrated_records: u32,
    pub missing: Vec<Gap>,
    pub get_records_calls: u32,
    pub get_shard_iterator_calls: u32,
    pub duration_ms: u64,
    /// What the service said when the stream or shard was not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}
