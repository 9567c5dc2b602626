//! What the hydrator asks of AWS, as small traits: read a shard, send a
//! batch of messages, put a batch of archive records, fetch an object.
//!
//! The real clients implement them ([`crate::clients::Clients`]); the
//! orchestration and delivery tests supply their own, so that everything
//! between the invocation payload and the SDK call (parsing, reading,
//! documents, parts, retries, the answer) is tested offline. Each trait takes
//! and gives the SDK's own request and answer types, so that building a
//! request and reading an answer stay in the code under test.

use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchOutput;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use bytes::Bytes;

use crate::batch_send::CallFailure;
use crate::read::StreamShard;

/// The shards of both kinds of stream, each reached in its own region.
pub trait Streams {
    type Kinesis<'a>: StreamShard<Record = aws_sdk_kinesis::types::Record>
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
}

/// SQS's `SendMessageBatch`, on the function's own queue.
#[allow(async_fn_in_trait)] // used with concrete types only, so the futures' Send-ness is known
pub trait Queue {
    async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: Vec<SendMessageBatchRequestEntry>,
    ) -> Result<SendMessageBatchOutput, CallFailure>;
}

/// Firehose's `PutRecordBatch`, for the archive.
#[allow(async_fn_in_trait)]
pub trait DeliveryStream {
    async fn put_record_batch(
        &self,
        stream_name: &str,
        records: Vec<aws_sdk_firehose::types::Record>,
    ) -> Result<PutRecordBatchOutput, CallFailure>;
}

/// S3's `GetObject`, in the bucket's region: the size the answer declares,
/// and the body, read chunk by chunk so that a bound can stop it.
#[allow(async_fn_in_trait)]
pub trait ObjectStore {
    type Body: ObjectBody;

    async fn get_object(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
    ) -> Result<(Option<u64>, Self::Body), String>;
}

/// An object's body as it arrives.
#[allow(async_fn_in_trait)]
pub trait ObjectBody {
    /// The next chunk, or `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String>;
}

/// Everything a hydrator needs.
pub trait AwsApi: Streams + Queue + DeliveryStream + ObjectStore {}

impl<T: Streams + Queue + DeliveryStream + ObjectStore> AwsApi for T {}
