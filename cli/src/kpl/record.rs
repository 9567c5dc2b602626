//! What a KPL aggregate holds, and why a record is not taken as one.

/// What every aggregated record starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

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
