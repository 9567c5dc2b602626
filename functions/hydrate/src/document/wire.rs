//! The version 1 document as it travels: read back from a queue, a file or
//! a response, and joined again when it arrived in parts.
//!
//! [`HydratedDocument`](super::HydratedDocument) is the document while it is
//! built, with records in their typed event shape; [`Document`] is the same
//! JSON read back, with the hydration block typed (the same [`Hydration`]
//! type that wrote it) and each record kept as its exact text, so a document
//! read and written again is byte-for-byte the records it carried.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{HydratedDocument, Hydration};
use crate::document::parts::PartInfo;

/// A version 1 document, whole or one part of one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    pub version: String,
    /// `aws:kinesis` or `aws:dynamodb`.
    pub source: String,
    /// The on-failure record exactly as received.
    pub failure: Box<RawValue>,
    pub hydration: Hydration,
    /// Where this part belongs; absent on a whole document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<PartInfo>,
    #[serde(rename = "Records")]
    pub records: Vec<Box<RawValue>>,
}

impl Document {
    /// A document from its JSON text; `None` for anything that is not a
    /// version 1 document (a queue may hold other messages too).
    pub fn parse(text: &str) -> Option<Self> {
        let document: Document = serde_json::from_str(text).ok()?;
        (document.version == super::VERSION).then_some(document)
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
            records: self.records.iter().map(|r| r.json.clone()).collect(),
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
        whole.records.extend(part.records);
    }
    Ok(whole)
}
