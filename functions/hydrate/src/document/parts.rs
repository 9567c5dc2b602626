//! Cutting a document into ordered parts that each fit a message.
//!
//! A batch of 10,000 records is far larger than an SQS message or a Firehose
//! record, so delivery sends it as parts: each a valid document with the
//! same failure and hydration blocks, a run of consecutive records, and a
//! `part` block that says where it belongs. Concatenating the `Records` of
//! parts 1..=count gives the document's records. A record that cannot fit a
//! message even alone is left out and named in `missing` as `too_large`, in
//! every part, so nothing disappears silently; or, when delivery can keep an
//! oversized body elsewhere ([`crate::deliver::offload`]), it is a part of its own.

use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::document::{Batch, HydratedDocument, Hydration, RawRecord, Status};
use crate::input::failure::BatchInfo;
use crate::input::sequence::SequenceNumber;
use crate::read::{Gap, GapReason};

/// Where a part belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartInfo {
    /// 1 for the first part.
    pub index: u32,
    pub count: u32,
    /// The same for every part of one failure, and for the same failure
    /// hydrated again.
    pub group_id: String,
}

/// One part, ready to send.
#[derive(Debug)]
pub struct Part {
    pub info: PartInfo,
    pub body: String,
    /// How many records it carries; the tests check it against the body.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests only"))]
    pub records: usize,
}

/// The parts of one document, and the hydration block they all carry.
#[derive(Debug)]
pub struct Parts {
    pub parts: Vec<Part>,
    /// Delivery takes it from the [`Plan`]; the tests check it against the bodies.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests only"))]
    pub hydration: Hydration,
}

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("the document's records could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("even without records a part is {envelope} bytes, more than the {limit}-byte limit")]
    EnvelopeTooLarge { envelope: usize, limit: usize },
}

struct PartBody<'a> {
    version: &'a str,
    source: &'a str,
    failure: &'a RawValue,
    hydration: &'a Hydration,
    part: &'a PartInfo,
    records: Run<'a>,
    batch: &'a Batch,
    /// Where the run begins among the document's records.
    first: usize,
}

impl Serialize for PartBody<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_map(None)?;
        body.serialize_entry("version", self.version)?;
        body.serialize_entry("source", self.source)?;
        body.serialize_entry("failure", self.failure)?;
        match self.batch {
            Batch::Shard(_) => body.serialize_entry("hydration", self.hydration)?,
            Batch::Kafka(kafka) => body.serialize_entry("hydration", &kafka.body.hydration)?,
        }
        body.serialize_entry("part", self.part)?;
        match self.batch {
            Batch::Shard(_) => body.serialize_entry("Records", &self.records)?,
            Batch::Kafka(kafka) => {
                body.serialize_entry("event", &kafka.body.event(self.first, self.records.0))?
            }
        }
        body.end()
    }
}

/// A run of records written as a JSON array straight from their text, so a
/// part's body is the one copy of them made.
struct Run<'a>(&'a [&'a RawRecord]);

impl Serialize for Run<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0)
    }
}

/// A stable id for a failure: the same stream, shard and range give the
/// same id, whichever invocation delivers it.
pub fn group_id(batch: &BatchInfo) -> String {
    let mut hash = Sha256::new();
    for field in [
        batch.stream_arn.as_str(),
        batch.shard_id.as_str(),
        batch.start.as_str(),
        batch.end.as_str(),
    ] {
        hash.update(field.as_bytes());
        hash.update([0]);
    }
    hex(&hash.finalize()[..16])
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What becomes of a record too large for a part even alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversized {
    /// Left out, and named in `missing` as `too_large`.
    LeaveOut,
    /// Carried alone in a part over the limit, for delivery to keep elsewhere.
    OwnPart,
}

/// Splits `document` into parts of at most `limit` bytes each, leaving out
/// a record that cannot fit even alone.
pub fn split(document: &HydratedDocument, limit: usize) -> Result<Parts, SplitError> {
    split_with(document, limit, Oversized::LeaveOut)
}

/// Splits `document` into parts of at most `limit` bytes each, but for the
/// parts `oversized` makes of records that cannot fit even alone.
pub fn split_with(
    document: &HydratedDocument,
    limit: usize,
    oversized: Oversized,
) -> Result<Parts, SplitError> {
    let plan = plan(document, limit, oversized)?;
    let parts = (0..plan.count())
        .map(|index| plan.part(index))
        .collect::<Result<_, _>>()?;
    Ok(Parts {
        parts,
        hydration: plan.hydration,
    })
}

/// Where each part's records begin and end, and the hydration block every
/// part carries; a part's body is written only when [`Plan::part`] asks for
/// it, so delivery holds one message's worth of bodies at a time.
#[derive(Debug)]
pub struct Plan<'a> {
    document: &'a HydratedDocument,
    kept: Vec<&'a RawRecord>,
    runs: Vec<std::ops::Range<usize>>,
    group_id: String,
    /// The length of a part without records, measured with the widest part block.
    envelope: usize,
    limit: usize,
    pub hydration: Hydration,
}

/// Plans the parts of `document`, of at most `limit` bytes each, but for
/// the parts `oversized` makes of records that cannot fit even alone.
pub fn plan(
    document: &HydratedDocument,
    limit: usize,
    oversized: Oversized,
) -> Result<Plan<'_>, SplitError> {
    let records = &document.records.0;
    let group_id = document.batch.group_id();
    // A Kafka document's gaps are the Kafka reader's, by partition and
    // offset: none of them is made here, so a record too large for a part
    // always goes in a part of its own, for delivery to keep or refuse.
    let oversized = match document.batch {
        Batch::Shard(_) => oversized,
        Batch::Kafka(_) => Oversized::OwnPart,
    };
    // Part numbers are written with no more digits than this placeholder, so
    // an envelope measured with it is never smaller than the real one.
    let widest = PartInfo {
        index: u32::MAX,
        count: u32::MAX,
        group_id: group_id.clone(),
    };
    let envelope = |hydration: &Hydration| -> Result<usize, SplitError> {
        Ok(serde_json::to_string(&PartBody {
            version: document.version,
            source: document.source,
            failure: &document.failure,
            hydration,
            part: &widest,
            records: Run(&[]),
            batch: &document.batch,
            first: 0,
        })?
        .len())
    };

    // Leaving a record out adds a gap to every part's envelope, which can
    // push another record over: repeat until nothing more falls out.
    let mut hydration = document.hydration.clone();
    let mut kept: Vec<&RawRecord> = records.iter().collect();
    let mut room = limit.saturating_sub(envelope(&hydration)?);
    loop {
        let (fits, too_large): (Vec<&RawRecord>, Vec<&RawRecord>) = kept
            .iter()
            .partition(|r| oversized == Oversized::OwnPart || r.len() <= room);
        if too_large.is_empty() {
            break;
        }
        // Only a shard's documents get here (Kafka's keep every record).
        if let Batch::Shard(batch) = &document.batch {
            for record in too_large {
                mark_too_large(&mut hydration, record, batch);
            }
        }
        kept = fits;
        room = limit.saturating_sub(envelope(&hydration)?);
    }
    let envelope_len = envelope(&hydration)?;
    if envelope_len >= limit {
        return Err(SplitError::EnvelopeTooLarge {
            envelope: envelope_len,
            limit,
        });
    }
    let runs = pack(&kept, limit - envelope_len);
    Ok(Plan {
        document,
        kept,
        runs,
        group_id,
        envelope: envelope_len,
        limit,
        hydration,
    })
}

impl Plan<'_> {
    /// How many parts there are: at least one, even without records.
    pub fn count(&self) -> usize {
        self.runs.len()
    }

    pub fn info(&self, index: usize) -> PartInfo {
        PartInfo {
            index: index as u32 + 1,
            count: self.runs.len() as u32,
            group_id: self.group_id.clone(),
        }
    }

    /// Whether the part at `index` (from 0) may be over the limit: only a
    /// record too large for a part even alone makes one so.
    pub fn may_exceed(&self, index: usize) -> bool {
        let run = &self.runs[index];
        run.len() == 1 && self.kept[run.start].len() > self.limit - self.envelope
    }

    /// At least the length of the part at `index` (from 0), known without
    /// writing it: its envelope, measured with the widest part block (and,
    /// for Kafka, every partition's key), and each record's JSON and a
    /// comma; over by at most the part block's digits and one comma.
    pub fn bound(&self, index: usize) -> usize {
        let run = &self.kept[self.runs[index].clone()];
        self.envelope + run.iter().map(|r| r.len() + 1).sum::<usize>()
    }

    /// The part at `index` (from 0), its body written in one allocation.
    pub fn part(&self, index: usize) -> Result<Part, SplitError> {
        let info = self.info(index);
        let run = &self.kept[self.runs[index].clone()];
        let mut body = Vec::with_capacity(self.bound(index));
        let document = self.document;
        serde_json::to_writer(
            &mut body,
            &PartBody {
                version: document.version,
                source: document.source,
                failure: &document.failure,
                hydration: &self.hydration,
                part: &info,
                records: Run(run),
                batch: &document.batch,
                first: self.runs[index].start,
            },
        )?;
        // SAFETY: serde_json writes only UTF-8 (its own `to_string` takes its
        // output unchecked the same way). Checking it would be one more pass
        // over every byte sent (#27).
        let body = unsafe { String::from_utf8_unchecked(body) };
        debug_assert!(body.len() <= self.limit || self.may_exceed(index));
        Ok(Part {
            info,
            body,
            records: run.len(),
        })
    }
}

/// Consecutive runs of records whose JSON, comma-separated, fits `room`; a
/// record larger than `room` is a run of its own. Always at least one run,
/// so a document without records is one part.
fn pack(records: &[&RawRecord], room: usize) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = std::iter::once(0..0).collect();
    let mut used = 0;
    for (index, record) in records.iter().enumerate() {
        let len = record.len();
        // `runs` starts with one run and only grows.
        let Some(current) = runs.last_mut() else {
            break;
        };
        let empty = current.start == current.end;
        let needed = if empty { len } else { len + 1 };
        if empty || used + needed <= room {
            current.end = index + 1;
            used += needed;
        } else {
            runs.push(index..index + 1);
            used = len;
        }
    }
    runs
}

/// Names the record in `missing`. A record without a readable sequence
/// number (possible only in a saved payload) is named by the whole range.
fn mark_too_large(hydration: &mut Hydration, record: &RawRecord, batch: &BatchInfo) {
    hydration.status = Status::Partial;
    hydration.hydrated_records = hydration.hydrated_records.saturating_sub(1);
    let (from, to) = match SequenceNumber::parse(record.sequence_number()) {
        Ok(number) => (number.clone(), number),
        Err(_) => (batch.start.clone(), batch.end.clone()),
    };
    hydration.missing.push(Gap {
        from_sequence_number: from,
        to_sequence_number: to,
        reason: GapReason::TooLarge,
    });
    hydration
        .missing
        .sort_by(|a, b| a.from_sequence_number.cmp(&b.from_sequence_number));
}

#[cfg(test)]
mod tests;
