//! [`ShardSource`] for Kinesis Data Streams.
//!
//! Requests name the stream by ARN, which carries account and region, so one
//! client per region serves every stream there.

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::operation::get_records::GetRecordsError;
use aws_sdk_kinesis::operation::get_shard_iterator::GetShardIteratorError;
use aws_sdk_kinesis::types::{Record, ShardIteratorType};
use aws_sdk_kinesis::Client;

use super::{Page, ShardSource, SourceError, StartingPosition};

/// One shard of one Kinesis stream.
pub struct KinesisShard<'a> {
    pub client: &'a Client,
    pub stream_arn: &'a str,
    pub shard_id: &'a str,
}

impl ShardSource for KinesisShard<'_> {
    type Record = Record;
    const MAX_PAGE: u32 = 10_000;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, SourceError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(self.stream_arn)
            .shard_id(self.shard_id);
        let request = match from {
            StartingPosition::At(seq) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(seq.as_str()),
            StartingPosition::TrimHorizon => {
                request.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
        };
        let output = request.send().await.map_err(iterator_error)?;
        output
            .shard_iterator
            .ok_or_else(|| SourceError::Service("GetShardIterator returned no iterator".into()))
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<Record>, SourceError> {
        let output = self
            .client
            .get_records()
            .stream_arn(self.stream_arn)
            .shard_iterator(iterator)
            .limit(limit as i32)
            .send()
            .await
            .map_err(records_error)?;
        Ok(Page {
            records: output.records,
            next_iterator: output.next_shard_iterator,
            millis_behind_latest: output.millis_behind_latest,
        })
    }

    fn sequence_number(record: &Record) -> &str {
        &record.sequence_number
    }
}

fn iterator_error(error: SdkError<GetShardIteratorError>) -> SourceError {
    match error {
        SdkError::ServiceError(e) => {
            let message = describe(e.err());
            match e.into_err() {
                // Kinesis answers a sequence number past retention (or from
                // another shard) with InvalidArgument naming the starting number.
                GetShardIteratorError::InvalidArgumentException(_)
                    if names_starting_number(&message) =>
                {
                    SourceError::StartRejected(message)
                }
                GetShardIteratorError::ResourceNotFoundException(_) => {
                    SourceError::NotFound(message)
                }
                GetShardIteratorError::ProvisionedThroughputExceededException(_) => {
                    SourceError::Throttled(message)
                }
                GetShardIteratorError::AccessDeniedException(_) => {
                    SourceError::AccessDenied(message)
                }
                _ => SourceError::Service(message),
            }
        }
        other => SourceError::Service(transport(&other)),
    }
}

fn records_error(error: SdkError<GetRecordsError>) -> SourceError {
    match error {
        SdkError::ServiceError(e) => {
            let message = describe(e.err());
            match e.into_err() {
                GetRecordsError::ExpiredIteratorException(_) => {
                    SourceError::ExpiredIterator(message)
                }
                GetRecordsError::ResourceNotFoundException(_) => SourceError::NotFound(message),
                GetRecordsError::ProvisionedThroughputExceededException(_)
                | GetRecordsError::KmsThrottlingException(_) => SourceError::Throttled(message),
                GetRecordsError::AccessDeniedException(_) => SourceError::AccessDenied(message),
                _ => SourceError::Service(message),
            }
        }
        other => SourceError::Service(transport(&other)),
    }
}

fn names_starting_number(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("startingsequencenumber") || lower.contains("starting sequence number")
}

fn describe(error: &impl ProvideErrorMetadata) -> String {
    format!(
        "{}: {}",
        error.code().unwrap_or("UnknownError"),
        error.message().unwrap_or("no message")
    )
}

/// A failure before the service answered (timeout, connection, bad response).
fn transport<E, R>(error: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
