//! [`StreamShard`] for Kinesis Data Streams.
//!
//! Requests name the stream by ARN, which carries account and region, so one
//! client per region serves every stream there.

use aws_sdk_kinesis::types::{Record, ShardIteratorType};
use aws_sdk_kinesis::Client;

use crate::read::stream_error::{classify, Call};
use crate::read::{Page, StartingPosition, StreamError, StreamShard};

/// One shard of one Kinesis stream.
pub struct KinesisShard<'a> {
    pub client: Client,
    pub stream_arn: &'a str,
    pub shard_id: &'a str,
}

impl StreamShard for KinesisShard<'_> {
    type Record = Record;
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

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<Record>, StreamError> {
        let output = self
            .client
            .get_records()
            .stream_arn(self.stream_arn)
            .shard_iterator(iterator)
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| classify(Call::GetRecords, e))?;
        Ok(Page {
            records: output.records,
            next_iterator: output.next_shard_iterator,
            millis_behind_latest: output.millis_behind_latest,
        })
    }

    fn sequence_number(record: &Record) -> &str {
        &record.sequence_number
    }

    fn size_of(record: &Record) -> usize {
        record.data.as_ref().len() + record.partition_key.as_deref().map_or(0, str::len)
    }
}
