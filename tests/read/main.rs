//! Reading failed ranges back over the wire: Kinesis (kinesis-mock) and DynamoDB Streams
//! (moto) ranges, Kafka partitions (tansu, and over TLS), the faults real streams produce injected by a
//! proxy, failure storms read in coalesced runs, and a seeded soak of fault schedules.
//!
//! One test binary an area, so that the support library and the SDK are linked once for
//! all of the area's modules.

mod dynamodb_range;
mod faults;
mod kafka;
mod kafka_tls;
mod kinesis_range;
mod soak;
mod storms;
