//! [`StreamShard`] for DynamoDB Streams.
//!
//! Unlike Kinesis, a `GetRecords` answer says nothing about how far behind
//! the tip it is, so on an open shard the reader relies on its bound on empty
//! pages; and a page holds at most 1,000 records (a larger `Limit` is a
//! validation error).

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;

use crate::read::stream_error::{classify, Call};
use crate::read::{Page, StartingPosition, StreamError, StreamShard};

/// One shard of one table's stream.
pub struct DynamoDbShard<'a> {
    pub client: Client,
    pub stream_arn: &'a str,
    pub shard_id: &'a str,
}

impl StreamShard for DynamoDbShard<'_> {
    type Record = Record;
    const MAX_PAGE: u32 = 1_000;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(self.stream_arn)
            .shard_id(self.shard_id);
        let request = match from {
            StartingPosition::At(seq) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .sequence_number(seq.as_str()),
            StartingPosition::After(seq) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq.as_str()),
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
            .shard_iterator(iterator)
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| classify(Call::GetRecords, e))?;
        Ok(Page {
            records: output.records.unwrap_or_default(),
            next_iterator: output.next_shard_iterator,
            millis_behind_latest: None,
        })
    }

    fn sequence_number(record: &Record) -> &str {
        // A stream record without a sequence number is malformed; the reader
        // rejects the empty string as it rejects any invalid number.
        record
            .dynamodb
            .as_ref()
            .and_then(|change| change.sequence_number.as_deref())
            .unwrap_or("")
    }

    /// The item's size as the stream reports it (at most 400 KB an item).
    fn size_of(record: &Record) -> usize {
        let size = record
            .dynamodb
            .as_ref()
            .and_then(|change| change.size_bytes);
        size.and_then(|s| usize::try_from(s).ok()).unwrap_or(0)
    }
}
