//! What the hydrator asks of AWS, as small traits: read a shard, send a
//! batch of messages, put a batch of archive records, fetch an object, keep
//! a message body too large for the queue, read a Kafka user's secret.
//!
//! The real clients implement them ([`crate::aws::clients::Clients`]); the
//! orchestration and delivery tests supply their own, so that everything
//! between the invocation payload and the SDK call (parsing, reading,
//! documents, parts, retries, the answer) is tested offline. Each trait takes
//! and gives the SDK's own request and answer types, so that building a
//! request and reading an answer stay in the code under test. The real
//! queue writes each message body into its request once (`message_bodies`).

use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchOutput;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use bytes::Bytes;

pub mod backoff;
pub mod batch_send;
pub mod bounded_object;
pub mod clients;
pub mod error;
pub mod https;
pub mod ledger;
mod message_bodies;

pub use message_bodies::MessageBodies;

use batch_send::CallFailure;

/// SQS's `SendMessageBatch`, on the function's own queue. Each entry's body
/// is a placeholder for one of `bodies`, which the queue receives in its place.
#[allow(async_fn_in_trait)] // used with concrete types only, so the futures' Send-ness is known
pub trait Queue {
    async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: Vec<SendMessageBatchRequestEntry>,
        bodies: MessageBodies,
    ) -> Result<SendMessageBatchOutput, CallFailure>;
}

/// Secrets Manager's `GetSecretValue`: the secret's text, in the region of
/// its ARN. For the SCRAM user of a Kafka cluster.
#[allow(async_fn_in_trait)]
pub trait Secrets {
    async fn secret_string(&self, arn: &str) -> Result<String, CallFailure>;
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

/// S3's `PutObject`, in the function's own region: a message body too large
/// for the queue, encrypted with the KMS key given or S3's own keys.
#[allow(async_fn_in_trait)]
pub trait ObjectWriter {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        kms_key_id: Option<&str>,
    ) -> Result<(), CallFailure>;
}

/// What the idempotency table holds for a failure already begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerState {
    InProgress,
    Delivered,
}

/// What beginning a failure found: nothing (it is now in progress here), or
/// the state it was in.
pub type Begun = Result<Option<LedgerState>, CallFailure>;

/// DynamoDB's conditional writes on the idempotency table, keyed by a
/// failure's stable id; times are seconds since the epoch.
#[allow(async_fn_in_trait)]
pub trait Ledger {
    /// Marks `id` in progress until `expires`, unless it is delivered or in
    /// progress with an expiry not yet past `now`: then that state, and no write.
    async fn begin(&self, table: &str, id: &str, now: u64, expires: u64) -> Begun;

    /// Marks `id` delivered, kept until `expires`.
    async fn delivered(&self, table: &str, id: &str, expires: u64) -> Result<(), CallFailure>;

    /// Deletes `id` if it is still the mark `begin` wrote: in progress until
    /// `expires`. A mark taken over or delivered since is left, and is no error.
    async fn release(&self, table: &str, id: &str, expires: u64) -> Result<(), CallFailure>;
}
