//! Kinesis Data Streams: a shard read with `GetShardIterator` and
//! `GetRecords` (`shard.rs`, its answers read from their text in
//! `answer.rs`), a record as the answer gives it (`record.rs`), and its
//! records in the shape Lambda gives a Kinesis consumer (`event.rs`).

mod answer;
pub mod event;
pub mod record;
pub mod shard;

use std::sync::Arc;

use super::{Kind, Streams};
use crate::input::failure::BatchInfo;
use event::KinesisBatchContext;

/// The Kinesis kind.
pub struct Kinesis;

impl Kind for Kinesis {
    type Record = record::KinesisRecord;
    type Context = KinesisBatchContext;
    type Shard<'a, S: Streams + 'a> = S::Kinesis<'a>;

    fn shard<'a, S: Streams>(
        streams: &'a S,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> Self::Shard<'a, S> {
        streams.kinesis_shard(region, stream_arn, shard_id)
    }

    fn context(batch: &BatchInfo, invoke_identity_arn: Arc<str>) -> KinesisBatchContext {
        KinesisBatchContext::new(
            Arc::from(batch.shard_id.as_str()),
            invoke_identity_arn,
            Arc::from(batch.stream_arn.region.as_str()),
            Arc::from(batch.stream_arn.as_str()),
        )
    }
}
