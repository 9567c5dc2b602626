//! The few protobuf rules an `AggregatedRecord` needs, read by hand:
//!
//! ```text
//! AggregatedRecord { 1: repeated string partition_key_table;
//!                    2: repeated string explicit_hash_key_table;
//!                    3: repeated Record records; }
//! Record { 1: uint64 partition_key_index; 2: optional uint64 explicit_hash_key_index;
//!          3: bytes data; 4: repeated Tag tags; }
//! ```
//!
//! Fields may come in any order (the tables may follow the records), so
//! records are read first and their indexes resolved once every table is
//! known. Unknown fields are skipped by wire type, as protobuf readers do.

use super::record::{KplError, UserRecord};

/// A field's number and its value.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// A fixed-width value (wire types 1 and 5), not used here.
    Fixed,
}

/// A cursor over a message's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, KplError> {
        let mut value: u64 = 0;
        // At most ten bytes carry a u64; a longer run is not a varint.
        for (i, &byte) in self.bytes.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err(KplError::Truncated)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], KplError> {
        // A length beyond what is left is refused before it becomes a usize.
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= self.bytes.len())
            .ok_or(KplError::Truncated)?;
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    /// The next field, or `None` at the end of the message.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, KplError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return Err(KplError::FieldZero);
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => self.take(8).map(|_| Value::Fixed)?,
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            5 => self.take(4).map(|_| Value::Fixed)?,
            // Only 3 and 4 (groups), 6 and 7 remain; the mask keeps it under 8.
            other => return Err(KplError::WireType(other as u8)),
        };
        Ok(Some((number, value)))
    }
}

/// A record as read, its indexes not yet checked against the tables.
struct RawRecord<'a> {
    partition_key_index: u64,
    explicit_hash_key_index: Option<u64>,
    data: &'a [u8],
}

/// The user records of an `AggregatedRecord` message.
pub(super) fn aggregated_record(body: &[u8]) -> Result<Vec<UserRecord<'_>>, KplError> {
    let mut partition_keys = Vec::new();
    let mut explicit_hash_keys = Vec::new();
    let mut raw = Vec::new();
    let mut reader = Reader { bytes: body };
    while let Some((number, value)) = reader.field()? {
        match (number, value) {
            (1, Value::Bytes(key)) => partition_keys.push(text(key, "partition key")?),
            (2, Value::Bytes(key)) => explicit_hash_keys.push(text(key, "explicit hash key")?),
            (3, Value::Bytes(record)) => raw.push(self::record(record)?),
            (1..=3, _) => return Err(KplError::FieldType("AggregatedRecord")),
            _ => {}
        }
    }
    raw.into_iter()
        .map(|r| {
            Ok(UserRecord {
                partition_key: entry(&partition_keys, r.partition_key_index, "partition key")?,
                explicit_hash_key: r
                    .explicit_hash_key_index
                    .map(|i| entry(&explicit_hash_keys, i, "explicit hash key"))
                    .transpose()?,
                data: r.data,
            })
        })
        .collect()
}

fn record(bytes: &[u8]) -> Result<RawRecord<'_>, KplError> {
    let (mut partition_key_index, mut explicit_hash_key_index, mut data) = (None, None, None);
    let mut reader = Reader { bytes };
    while let Some((number, value)) = reader.field()? {
        // A scalar seen twice keeps its last value, as protobuf readers do.
        match (number, value) {
            (1, Value::Varint(i)) => partition_key_index = Some(i),
            (2, Value::Varint(i)) => explicit_hash_key_index = Some(i),
            (3, Value::Bytes(d)) => data = Some(d),
            (4, Value::Bytes(_)) => {}
            (1..=4, _) => return Err(KplError::FieldType("Record")),
            _ => {}
        }
    }
    Ok(RawRecord {
        partition_key_index: partition_key_index.ok_or(KplError::Missing("partition key index"))?,
        explicit_hash_key_index,
        data: data.ok_or(KplError::Missing("data"))?,
    })
}

fn text<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, KplError> {
    std::str::from_utf8(bytes).map_err(|_| KplError::NotUtf8(what))
}

fn entry<'a>(table: &[&'a str], index: u64, name: &'static str) -> Result<&'a str, KplError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .ok_or(KplError::Index {
            table: name,
            index,
            len: table.len(),
        })
}
