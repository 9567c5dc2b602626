//! Kinesis Producer Library (KPL) aggregated records, taken apart.
//!
//! The KPL packs many user records into one Kinesis record: the magic bytes
//! `F3 89 9A C2`, a protobuf `AggregatedRecord`, and the MD5 digest of that
//! protobuf. Lambda hands such a record to the consumer as it is; the
//! consumer's KPL deaggregator splits it. The document keeps the record as
//! Lambda delivered it; the tool uses this module to show (and, when asked,
//! redrive) the user records inside.
//!
//! Like the KCL, a record is taken as an aggregate only when the magic is
//! there and the digest matches: anything else is ordinary data. A record
//! with the magic whose digest or protobuf does not check is [`Kpl::Invalid`],
//! so a reader can say why it shows raw bytes. The decoder trusts no length,
//! count or index it reads: each is checked against the bytes actually there
//! and the tables actually read, so no input can make it panic, loop, or
//! allocate more than the input's own size.

mod proto;
#[cfg(test)]
mod tests;

use md5::{Digest, Md5};

/// What every aggregated record starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
const DIGEST_LEN: usize = 16;

/// One user record inside an aggregate, borrowed from the aggregate's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord<'a> {
    pub partition_key: &'a str,
    /// From the aggregate's table; `None` when the producer gave none (the
    /// stream then hashes the partition key).
    pub explicit_hash_key: Option<&'a str>,
    pub data: &'a [u8],
}

/// What a Kinesis record's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kpl<'a> {
    /// Not a KPL aggregate: the data is the user's own.
    Plain,
    /// A checked aggregate and its user records, in the producer's order
    /// (possibly none).
    Aggregated(Vec<UserRecord<'a>>),
    /// Starts with the magic but fails the check: to be shown, and sent, as
    /// the raw data it is.
    Invalid(KplError),
}

/// Why a record that claims to be an aggregate is not taken as one. Names
/// fields and counts, never the record's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KplError {
    #[error("too short to hold the KPL magic, a protobuf message and its MD5 digest")]
    TooShort,
    #[error("the MD5 digest does not match the protobuf message")]
    Digest,
    #[error("the protobuf message is cut short")]
    Truncated,
    #[error("the protobuf message has a field of an unsupported wire type {0}")]
    WireType(u8),
    #[error("a field of the protobuf {0} has the wrong wire type")]
    FieldType(&'static str),
    #[error("the protobuf message has field number 0")]
    FieldZero,
    #[error("a user record has no {0}")]
    Missing(&'static str),
    #[error("a user record's {table} index is {index} but the table has {len} entries")]
    Index {
        table: &'static str,
        index: u64,
        len: usize,
    },
    #[error("a {0} is not UTF-8")]
    NotUtf8(&'static str),
}

/// Takes `data` apart if it is a KPL aggregate.
pub fn deaggregate(data: &[u8]) -> Kpl<'_> {
    let Some(rest) = data.strip_prefix(&MAGIC) else {
        return Kpl::Plain;
    };
    let Some(body_len) = rest.len().checked_sub(DIGEST_LEN) else {
        return Kpl::Invalid(KplError::TooShort);
    };
    let (body, digest) = rest.split_at(body_len);
    if Md5::digest(body).as_slice() != digest {
        return Kpl::Invalid(KplError::Digest);
    }
    match proto::aggregated_record(body) {
        Ok(records) => Kpl::Aggregated(records),
        Err(error) => Kpl::Invalid(error),
    }
}
