//! Stream kinds: what differs between Kinesis Data Streams and DynamoDB
//! Streams, each kind in a folder of its own (`kinesis/`, `dynamodb/`): how a
//! shard of it is read (`shard.rs`, a [`StreamShard`]) and the shape Lambda
//! delivered its records in (`event.rs`, a [`BatchContext`]).
//!
//! Everything else (the range reader, coalescing, documents, delivery,
//! metrics, the tool) is written once over these. Kafka (`kafka/`), whose
//! failures name offsets of several partitions, has its own partition reader
//! and document, which it hands to the same delivery (`kafka/hydrated.rs`).

pub mod dynamodb;
pub mod kafka;
pub mod kinesis;

use std::sync::Arc;
use std::time::Duration;

use crate::aws::clients::Clients;
use crate::document::BatchContext;
use crate::input::failure::BatchInfo;
use crate::read::StreamShard;
use dynamodb::shard::DynamoDbShard;
use kinesis::shard::KinesisShard;

/// One kind of stream, as the hydrator sees it: the shard its failures are
/// read from and the batch context that turns the shard's records into
/// Lambda's. The hydrator picks the kind from the failure's stream ARN, and
/// is written once over this.
pub trait Kind {
    /// A record as the stream service gives it.
    type Record: Clone + Send + Sync + 'static;
    type Context: BatchContext<Record = Self::Record>;
    type Shard<'a, S: Streams + 'a>: StreamShard<Record = Self::Record>;

    fn shard<'a, S: Streams>(
        streams: &'a S,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> Self::Shard<'a, S>;

    /// What every record of the failed batch shares. `invoke_identity_arn`
    /// is the consumer's, where the kind's event names it.
    fn context(batch: &BatchInfo, invoke_identity_arn: Arc<str>) -> Self::Context;
}

/// The shards of every kind of stream, each reached in its own region.
#[allow(async_fn_in_trait)] // used with concrete types only, so the futures' Send-ness is known
pub trait Streams {
    type Kinesis<'a>: StreamShard<Record = kinesis::record::KinesisRecord>
    where
        Self: 'a;
    type DynamoDb<'a>: StreamShard<Record = aws_sdk_dynamodbstreams::types::Record>
    where
        Self: 'a;

    fn kinesis_shard<'a>(
        &'a self,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> Self::Kinesis<'a>;

    fn dynamodb_shard<'a>(
        &'a self,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> Self::DynamoDb<'a>;

    /// A Kinesis stream's retention (`DescribeStreamSummary`), for the
    /// metrics' retention margin; `None` when it cannot be had. Stand-ins
    /// need not answer: the margin is then left out.
    async fn kinesis_retention(&self, _region: &str, _stream_arn: &str) -> Option<Duration> {
        None
    }
}

impl Streams for Clients {
    type Kinesis<'a> = KinesisShard<'a>;
    type DynamoDb<'a> = DynamoDbShard<'a>;

    fn kinesis_shard<'a>(
        &'a self,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> KinesisShard<'a> {
        KinesisShard {
            client: self.kinesis(region),
            stream_arn,
            shard_id,
        }
    }

    fn dynamodb_shard<'a>(
        &'a self,
        region: &str,
        stream_arn: &'a str,
        shard_id: &'a str,
    ) -> DynamoDbShard<'a> {
        DynamoDbShard {
            client: self.dynamodb_streams(region),
            stream_arn,
            shard_id,
        }
    }

    async fn kinesis_retention(&self, region: &str, stream_arn: &str) -> Option<Duration> {
        let summary = self
            .kinesis(region)
            .describe_stream_summary()
            .stream_arn(stream_arn)
            .send()
            .await
            .ok()?
            .stream_description_summary?;
        let hours = u64::try_from(summary.retention_period_hours).ok()?;
        Some(Duration::from_secs(hours * 3600))
    }
}
