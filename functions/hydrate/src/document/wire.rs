//! The version 1 document as it travels: read back from a queue, a file or
//! a response, and joined again when it arrived in parts.
//!
//! [`HydratedDocument`](super::HydratedDocument) is the document while it is
//! built, with records in their typed event shape; [`Document`] is the same
//! JSON read back, with the hydration block typed (the same [`Hydration`]
//! type that wrote it) and each record kept as its exact text, so a document
//! read and written again is byte-for-byte the records it carried. A Kafka
//! document reads back the same way: its records in `records`, its event
//! and hydration block in `kafka`, its counts in `hydration`.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::{Batch, HydratedDocument, Hydration, KafkaBody, RawRecord};
use crate::document::parts::PartInfo;
use crate::input::fault::Members;

/// A version 1 document, whole or one part of one.
#[derive(Debug, Clone, Deserialize)]
pub struct Document {
    pub version: String,
    /// `aws:kinesis`, `aws:dynamodb`, `aws:kafka` or `SelfManagedKafka`.
    pub source: String,
    /// The on-failure record exactly as received.
    pub failure: Box<RawValue>,
    /// A Kafka document's counts and status ([`KafkaBody::counts`]).
    pub hydration: Hydration,
    /// Where this part belongs; absent on a whole document.
    #[serde(default)]
    pub part: Option<PartInfo>,
    /// A Kafka document's records, partition after partition.
    #[serde(rename = "Records")]
    pub records: Vec<Box<RawValue>>,
    /// A Kafka document's event and hydration block as written.
    #[serde(skip)]
    pub kafka: Option<KafkaBody>,
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_map(None)?;
        document.serialize_entry("version", &self.version)?;
        document.serialize_entry("source", &self.source)?;
        document.serialize_entry("failure", &self.failure)?;
        match &self.kafka {
            None => document.serialize_entry("hydration", &self.hydration)?,
            Some(kafka) => document.serialize_entry("hydration", &kafka.hydration)?,
        }
        if let Some(part) = &self.part {
            document.serialize_entry("part", part)?;
        }
        match &self.kafka {
            None => document.serialize_entry("Records", &self.records)?,
            Some(kafka) => {
                let records: Vec<&RawValue> = self.records.iter().map(|r| &**r).collect();
                document.serialize_entry("event", &kafka.event(0, &records))?;
            }
        }
        document.end()
    }
}

/// The `source` of a Kafka document.
pub fn is_kafka_source(source: &str) -> bool {
    matches!(source, "aws:kafka" | "SelfManagedKafka")
}

impl Document {
    /// A document from its JSON text; `None` for anything that is not a
    /// version 1 document (a queue may hold other messages too).
    pub fn parse(text: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Source {
            source: String,
        }
        let source: Source = serde_json::from_str(text).ok()?;
        let document = if is_kafka_source(&source.source) {
            Self::parse_kafka(text)?
        } else {
            serde_json::from_str(text).ok()?
        };
        (document.version == super::VERSION).then_some(document)
    }

    /// A Kafka document: `event` taken apart into its members and its
    /// records, partition by partition, each kept as written.
    fn parse_kafka(text: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Kafka {
            version: String,
            source: String,
            failure: Box<RawValue>,
            hydration: Box<RawValue>,
            #[serde(default)]
            part: Option<PartInfo>,
            event: Members,
        }
        let kafka: Kafka = serde_json::from_str(text).ok()?;
        let mut header = Vec::new();
        let mut partitions = Vec::new();
        let mut records = Vec::new();
        for (name, value) in kafka.event.0 {
            if name != "records" {
                header.push((name, value));
                continue;
            }
            let by_partition: Members = serde_json::from_str(value.get()).ok()?;
            for (key, array) in by_partition.0 {
                let these: Vec<Box<RawValue>> = serde_json::from_str(array.get()).ok()?;
                partitions.push((key, these.len()));
                records.extend(these);
            }
        }
        let body = KafkaBody {
            header,
            partitions,
            hydration: kafka.hydration,
        };
        Some(Document {
            version: kafka.version,
            source: kafka.source,
            failure: kafka.failure,
            hydration: body.counts()?,
            part: kafka.part,
            records,
            kafka: Some(body),
        })
    }

    pub fn to_json(&self) -> String {
        // Every field is plain data or already-valid JSON text.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The same document, compared by its JSON text: `RawValue` has no
    /// equality of its own.
    pub fn same_as(&self, other: &Document) -> bool {
        self.to_json() == other.to_json()
    }
}

impl HydratedDocument {
    /// The document as it will be read back.
    pub fn to_wire(&self) -> Result<Document, serde_json::Error> {
        Ok(Document {
            version: self.version.to_owned(),
            source: self.source.to_owned(),
            failure: self.failure.clone(),
            hydration: self.hydration.clone(),
            part: None,
            records: self
                .records
                .iter()
                .map(RawRecord::to_raw_value)
                .collect::<Result<_, _>>()?,
            kafka: match &self.batch {
                Batch::Shard(_) => None,
                Batch::Kafka(kafka) => Some(kafka.body.clone()),
            },
        })
    }
}

/// Why parts do not make one document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("no parts")]
    Empty,
    #[error("a document without a part block is not a part")]
    NotAPart,
    #[error("the parts belong to more than one failure or disagree on their count")]
    Mixed,
    #[error("{have} of {count} parts are here")]
    Missing { have: usize, count: u32 },
}

/// The parts of one failure, in any order and possibly some twice (a
/// standard queue delivers both ways), as the whole document: part 1's
/// blocks without `part`, and the records of parts 1 to `count` in order.
pub fn join(parts: Vec<Document>) -> Result<Document, JoinError> {
    let first = parts.first().ok_or(JoinError::Empty)?;
    let first_info = first.part.clone().ok_or(JoinError::NotAPart)?;
    let mut by_index: BTreeMap<u32, Document> = BTreeMap::new();
    for part in parts {
        let info = part.part.as_ref().ok_or(JoinError::NotAPart)?;
        if info.group_id != first_info.group_id || info.count != first_info.count {
            return Err(JoinError::Mixed);
        }
        by_index.entry(info.index).or_insert(part);
    }
    let count = first_info.count;
    if count == 0 || !by_index.keys().copied().eq(1..=count) {
        return Err(JoinError::Missing {
            have: by_index.len(),
            count,
        });
    }
    let mut parts = by_index.into_values();
    // `count >= 1` and every index from 1 is here, so part 1 is.
    let mut whole = parts.next().ok_or(JoinError::Empty)?;
    whole.part = None;
    for part in parts {
        // A Kafka part lists every partition, with its own share of records.
        if let (Some(whole), Some(part)) = (whole.kafka.as_mut(), part.kafka.as_ref()) {
            if whole.partitions.len() != part.partitions.len() {
                return Err(JoinError::Mixed);
            }
            for ((_, count), (_, more)) in whole.partitions.iter_mut().zip(&part.partitions) {
                *count += more;
            }
        }
        whole.records.extend(part.records);
    }
    Ok(whole)
}
