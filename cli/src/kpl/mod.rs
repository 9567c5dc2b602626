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

mod deaggregate;
mod proto;
mod record;
#[cfg(test)]
mod tests;

pub use deaggregate::deaggregate;
pub use record::{Kpl, KplError, UserRecord, MAGIC};
