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

use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::document::{HydratedDocument, Hydration, RawRecord, Status};
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
    pub hydration: Hydration,
}

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("the document's records could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("even without records a part is {envelope} bytes, more than the {limit}-byte limit")]
    EnvelopeTooLarge { envelope: usize, limit: usize },
}

#[derive(Serialize)]
struct PartBody<'a> {
    version: &'a str,
    source: &'a str,
    failure: &'a RawValue,
    hydration: &'a Hydration,
    part: &'a PartInfo,
    #[serde(rename = "Records")]
    records: &'a [Box<RawValue>],
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
    let records = &document.records.0;
    let group_id = group_id(&document.batch);
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
            records: &[],
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
            .partition(|r| oversized == Oversized::OwnPart || r.json.get().len() <= room);
        if too_large.is_empty() {
            break;
        }
        for record in too_large {
            mark_too_large(&mut hydration, record, &document.batch);
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
    let count = runs.len() as u32;
    let mut parts = Vec::with_capacity(runs.len());
    for (i, run) in runs.iter().enumerate() {
        let info = PartInfo {
            index: i as u32 + 1,
            count,
            group_id: group_id.clone(),
        };
        let json: Vec<Box<RawValue>> = run.iter().map(|r| r.json.clone()).collect();
        let body = serde_json::to_string(&PartBody {
            version: document.version,
            source: document.source,
            failure: &document.failure,
            hydration: &hydration,
            part: &info,
            records: &json,
        })?;
        debug_assert!(body.len() <= limit || (oversized == Oversized::OwnPart && run.len() == 1));
        parts.push(Part {
            info,
            body,
            records: run.len(),
        });
    }
    Ok(Parts { parts, hydration })
}

/// Consecutive runs of records whose JSON, comma-separated, fits `room`; a
/// record larger than `room` is a run of its own. Always at least one run,
/// so a document without records is one part.
fn pack<'a>(records: &[&'a RawRecord], room: usize) -> Vec<Vec<&'a RawRecord>> {
    let mut runs: Vec<Vec<&RawRecord>> = vec![Vec::new()];
    let mut used = 0;
    for &record in records {
        let len = record.json.get().len();
        let current = runs.last_mut().expect("runs starts with one run");
        let needed = if current.is_empty() { len } else { len + 1 };
        if current.is_empty() || used + needed <= room {
            current.push(record);
            used += needed;
        } else {
            runs.push(vec![record]);
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
    let (from, to) = match SequenceNumber::parse(&record.sequence_number) {
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
