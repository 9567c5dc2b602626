//! [`StreamShard`] for Kinesis Data Streams.
//!
//! Requests name the stream by ARN, which carries account and region, so one
//! client per region serves every stream there. `GetRecords` answers are
//! read from their own text ([`super::answer`]).

use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;

use super::answer::{self, RawAnswer};
use super::record::KinesisRecord;
use crate::read::stream_error::{classify, Call};
use crate::read::{Page, StartingPosition, StreamError, StreamShard};

/// One shard of one Kinesis stream.
pub struct KinesisShard<'a> {
    pub client: Client,
    pub stream_arn: &'a str,
    pub shard_id: &'a str,
}

impl StreamShard for KinesisShard<'_> {
    type Record = KinesisRecord;
    const MAX_PAGE: u32 = 10_000;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(self.stream_arn)
            .shard_id(self.shard_id);
        let request = match from {
            StartingPosition::At(seq) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(seq.as_str()),
            StartingPosition::After(seq) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq.as_str()),
            StartingPosition::TrimHorizon => {
                request.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
        };
        let output = request
            .send()
            .await
            .map_err(|e| classify(Call::GetShardIterator, e))?;
        output
            .shard_iterator
            .ok_or_else(|| StreamError::Service("GetShardIterator returned no iterator".into()))
    }

    async fn records(
        &self,
        iterator: &str,
        limit: u32,
    ) -> Result<Page<KinesisRecord>, StreamError> {
        let raw = RawAnswer::default();
        self.client
            .get_records()
            .stream_arn(self.stream_arn)
            .shard_iterator(iterator)
            .limit(limit as i32)
            .customize()
            .interceptor(raw.clone())
            .send()
            .await
            .map_err(|e| classify(Call::GetRecords, e))?;
        let body = raw
            .take()
            .ok_or_else(|| StreamError::Service("GetRecords returned no answer body".into()))?;
        answer::page(body.into())
    }

    fn sequence_number(record: &KinesisRecord) -> &str {
        &record.sequence_number
    }

    fn size_of(record: &KinesisRecord) -> usize {
        record.data.decoded_len() + record.partition_key.len()
    }
}
