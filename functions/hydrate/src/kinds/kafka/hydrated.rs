//! A Kafka failure's document as the hydrator delivers it: the records read
//! back written one by one in Lambda's Kafka event shape, beside the event's
//! other members and the Kafka hydration block ([`KafkaBatch`]), so parts,
//! offload, the idempotency table and metrics treat it as any document.

use serde_json::value::{to_raw_value, RawValue};
use sha2::{Digest, Sha256};

use super::batch::KafkaFailure;
use super::document::{KafkaDocument, KafkaHydration};
use super::event::EventRecord;
use super::read::PartitionRead;
use crate::document::parts::hex;
use crate::document::{
    Batch, EventRecords, HydratedDocument, Hydration, KafkaBatch, KafkaBody, RawRecord, VERSION,
};
use crate::input::fault::Members;

/// The longest `partitions` attribute written: a failure may name thousands
/// of partitions, and attributes count against the message's size.
const MAX_RANGES_LEN: usize = 256;

/// The document of `failure` from one read for each of its partitions, in
/// the failure's order. Each read's records are written out and let go.
pub fn from_reads(
    failure: KafkaFailure,
    reads: Vec<PartitionRead>,
    duration_ms: u64,
) -> Result<HydratedDocument, serde_json::Error> {
    let kafka = KafkaDocument::new(&failure, &reads);
    let counts = counts(&kafka.hydration, duration_ms);
    let hydration = to_raw_value(&kafka.hydration)?;
    let mut header = vec![("eventSource".to_owned(), to_raw_value(kafka.source)?)];
    if failure.is_msk() {
        header.push((
            "eventSourceArn".to_owned(),
            to_raw_value(&failure.event_source_arn)?,
        ));
    }
    header.push((
        "bootstrapServers".to_owned(),
        to_raw_value(&failure.bootstrap_servers)?,
    ));
    let mut records = Vec::with_capacity(reads.iter().map(|r| r.records.len()).sum());
    let mut partitions = Vec::with_capacity(reads.len());
    for (range, read) in failure.partitions.iter().zip(reads) {
        partitions.push((range.key(), read.records.len()));
        for record in read.records {
            let event_record = EventRecord {
                range,
                record: &record,
            };
            let expected = event_record.json_len_bound();
            records.push(RawRecord::of_sized(
                &event_record,
                expected,
                record.offset.to_string(),
            )?);
        }
    }
    let body = KafkaBody {
        header,
        partitions,
        hydration,
    };
    Ok(document(failure, body, EventRecords(records), counts))
}

/// The document of a failure an S3 destination saved with its batch: no
/// read, the event as Lambda wrote it, its records partition by partition.
/// `None` without a payload.
pub fn from_payload(
    failure: KafkaFailure,
    duration_ms: u64,
) -> Option<Result<HydratedDocument, serde_json::Error>> {
    let delivered = KafkaDocument::delivered(&failure)?.hydration;
    let counts = counts(&delivered, duration_ms);
    let hydration = match to_raw_value(&delivered) {
        Ok(hydration) => hydration,
        Err(error) => return Some(Err(error)),
    };
    let payload = failure.payload.as_deref()?;
    // Checked when the record was parsed: an object whose `records` is an
    // object of arrays.
    let members = Members::parse(payload.get()).ok().flatten()?;
    let mut header = Vec::new();
    let mut partitions = Vec::new();
    let mut records = Vec::new();
    for (name, value) in members.0 {
        if name != "records" {
            header.push((name, value));
            continue;
        }
        let by_partition = Members::parse(value.get()).ok().flatten()?;
        for (key, array) in by_partition.0 {
            let these: Vec<Box<RawValue>> = serde_json::from_str(array.get()).ok()?;
            partitions.push((key, these.len()));
            records.extend(these.into_iter().map(|json| {
                let offset = offset_of(&json).unwrap_or_default();
                RawRecord::written(json, offset)
            }));
        }
    }
    let body = KafkaBody {
        header,
        partitions,
        hydration,
    };
    let mut failure = failure;
    match without_payload(&failure.raw) {
        Ok(raw) => failure.raw = raw,
        Err(error) => return Some(Err(error)),
    }
    Some(Ok(document(failure, body, EventRecords(records), counts)))
}

/// The record without its `payload`, as for the stream kinds' S3 objects:
/// the batch is the document's event, not carried twice.
fn without_payload(raw: &RawValue) -> Result<Box<RawValue>, serde_json::Error> {
    let members = Members::parse(raw.get())
        .map_err(|_| serde::de::Error::custom("the record was parsed once already"))?
        .unwrap_or(Members(Vec::new()));
    let kept: Vec<(String, Box<RawValue>)> = members
        .0
        .into_iter()
        .filter(|(name, _)| name != "payload")
        .collect();
    to_raw_value(&Ordered(&kept))
}

/// Members written out in their order.
struct Ordered<'a>(&'a [(String, Box<RawValue>)]);

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

/// A saved record's `offset`, as text.
fn offset_of(record: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Offset {
        offset: i64,
    }
    serde_json::from_str::<Offset>(record.get())
        .ok()
        .map(|o| o.offset.to_string())
}

/// The Kafka block's counts and status in the shared [`Hydration`], which
/// the metrics and receipts read; the gaps stay in the Kafka block.
fn counts(kafka: &KafkaHydration, duration_ms: u64) -> Hydration {
    Hydration {
        status: kafka.status,
        origin: kafka.origin,
        expected_records: kafka.expected_records,
        hydrated_records: kafka.hydrated_records,
        missing: Vec::new(),
        get_records_calls: kafka.fetch_calls,
        get_shard_iterator_calls: 0,
        duration_ms,
        unavailable: None,
    }
}

fn document(
    failure: KafkaFailure,
    body: KafkaBody,
    records: EventRecords,
    hydration: Hydration,
) -> HydratedDocument {
    let source = if failure.is_msk() {
        "aws:kafka"
    } else {
        "SelfManagedKafka"
    };
    let batch = KafkaBatch {
        group_id: group_id(&failure),
        cluster: cluster(&failure).to_owned(),
        ranges: ranges(&failure),
        body,
    };
    HydratedDocument {
        batch: Batch::Kafka(batch),
        throttled_calls: 0,
        version: VERSION,
        source,
        failure: failure.raw,
        hydration,
        records,
    }
}

/// What a failure's messages are grouped by: the MSK cluster's ARN, or a
/// self-managed cluster's bootstrap servers.
pub fn cluster(failure: &KafkaFailure) -> &str {
    match &failure.event_source_arn {
        Some(arn) if failure.is_msk() => arn,
        _ => &failure.bootstrap_servers,
    }
}

/// A stable id for a Kafka failure: the same cluster and partition ranges
/// give the same id, whichever invocation delivers it.
pub fn group_id(failure: &KafkaFailure) -> String {
    let mut hash = Sha256::new();
    hash.update(b"kafka\0");
    hash.update(cluster(failure).as_bytes());
    for range in &failure.partitions {
        hash.update([0]);
        hash.update(range.topic.as_bytes());
        for number in [i64::from(range.partition), range.first, range.last] {
            hash.update([0]);
            hash.update(number.to_string().as_bytes());
        }
    }
    hex(&hash.finalize()[..16])
}

/// `t-0:4-9,t-1:2-2`, cut at a partition with `,+N` when longer than
/// [`MAX_RANGES_LEN`]: validated topic names and numbers only.
fn ranges(failure: &KafkaFailure) -> String {
    let mut text = String::new();
    for (index, range) in failure.partitions.iter().enumerate() {
        let next = format!("{}:{}-{}", range.key(), range.first, range.last);
        if !text.is_empty() && text.len() + next.len() + 1 > MAX_RANGES_LEN {
            text.push_str(&format!(",+{}", failure.partitions.len() - index));
            break;
        }
        if !text.is_empty() {
            text.push(',');
        }
        text.push_str(&next);
    }
    text
}
