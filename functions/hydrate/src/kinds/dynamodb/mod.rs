//! DynamoDB Streams: a table stream's shard read with `GetShardIterator` and
//! `GetRecords` (`shard.rs`), and its records in the shape Lambda gives a
//! DynamoDB Streams consumer (`event.rs`).

pub mod event;
pub mod shard;

use std::sync::Arc;

use super::{Kind, Streams};
use crate::input::failure::BatchInfo;
use event::DynamoDbBatchContext;

/// The DynamoDB Streams kind.
pub struct DynamoDb;

impl Kind for DynamoDb {
    type Record = aws_sdk_dynamodbstreams::types::Record;
    type Context = DynamoDbBatchContext;
    type Shard<'a, S: Streams + 'a> = S::DynamoDb<'a>;

    fn shard<'a, S: Streams>(
        streams: &'a S,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> Self::Shard<'a, S> {
        streams.dynamodb_shard(region, stream_arn, shard_id)
    }

    /// A DynamoDB stream record names no consumer.
    fn context(batch: &BatchInfo, _invoke_identity_arn: Arc<str>) -> DynamoDbBatchContext {
        DynamoDbBatchContext {
            aws_region: Arc::from(batch.stream_arn.region.as_str()),
            event_source_arn: Arc::from(batch.stream_arn.as_str()),
        }
    }
}
