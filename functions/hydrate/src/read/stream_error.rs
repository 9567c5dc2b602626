//! What a stream service said, in the terms the reader acts on.
//!
//! Kinesis and DynamoDB Streams name their errors differently and model some
//! of them only as codes (DynamoDB Streams has no typed `AccessDeniedException`),
//! so both are classified here by error code, the one thing every answer
//! carries: the codes that steer the read here, the rest as for any call.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::error::{self as aws_error, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The service refused the starting sequence number; it may have been
    /// trimmed, which the reader checks against the trim horizon.
    #[error("the service rejected the starting sequence number: {0}")]
    StartRejected(String),
    #[error("the stream or shard does not exist: {0}")]
    NotFound(String),
    #[error("the service throttled the read: {0}")]
    Throttled(String),
    #[error("the shard iterator expired: {0}")]
    ExpiredIterator(String),
    #[error("access to the stream was denied: {0}")]
    AccessDenied(String),
    /// The service refused the request itself: retrying it cannot help.
    #[error("the service rejected the request as invalid: {0}")]
    Invalid(String),
    #[error("the stream service failed: {0}")]
    Service(String),
}

impl StreamError {
    /// A stable class name, e.g. `NotFound`.
    pub fn class(&self) -> &'static str {
        match self {
            StreamError::StartRejected(_) => "StartRejected",
            StreamError::NotFound(_) => "NotFound",
            StreamError::Throttled(_) => "Throttled",
            StreamError::ExpiredIterator(_) => "ExpiredIterator",
            StreamError::AccessDenied(_) => "AccessDenied",
            StreamError::Invalid(_) => "Validation",
            StreamError::Service(_) => "Service",
        }
    }
}

/// Which call failed: the same code can mean different things for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    GetShardIterator,
    GetRecords,
}

/// Classifies a failed SDK call of either stream service.
pub fn classify<E, R>(call: Call, error: SdkError<E, R>) -> StreamError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let (class, message) = aws_error::classify(&error);
    match &error {
        SdkError::ServiceError(e) => {
            classify_code(call, e.err().code().unwrap_or("UnknownError"), message)
        }
        _ => from_class(class, message),
    }
}

/// The codes that mean something particular to a reader; every other code
/// is classed as for any call ([`aws_error::class_of_code`]).
fn classify_code(call: Call, code: &str, message: String) -> StreamError {
    match code {
        // Kinesis answers a sequence number past retention (or from another
        // shard) with InvalidArgument naming the starting number; DynamoDB
        // Streams says TrimmedDataAccess.
        "InvalidArgumentException"
            if call == Call::GetShardIterator && names_starting_number(&message) =>
        {
            StreamError::StartRejected(message)
        }
        "TrimmedDataAccessException" => StreamError::StartRejected(message),
        "ResourceNotFoundException" => StreamError::NotFound(message),
        "ExpiredIteratorException" => StreamError::ExpiredIterator(message),
        "AccessDeniedException" | "AccessDenied" => StreamError::AccessDenied(message),
        _ => from_class(aws_error::class_of_code(code), message),
    }
}

fn from_class(class: ErrorClass, message: String) -> StreamError {
    match class {
        ErrorClass::Throttled => StreamError::Throttled(message),
        ErrorClass::Transient => StreamError::Service(message),
        ErrorClass::Permanent => StreamError::Invalid(message),
    }
}

fn names_starting_number(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("startingsequencenumber") || lower.contains("starting sequence number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_the_reader_does_next() {
        let cases = [
            (Call::GetShardIterator, "InvalidArgumentException", "StartingSequenceNumber 49 used in GetShardIterator on shard shardId-000000000000 in stream s under account 1 is invalid because it did not come from this stream.", "StartRejected"),
            (Call::GetShardIterator, "InvalidArgumentException", "1 validation error detected: Value null at 'shardId'", "Validation"),
            (Call::GetRecords, "InvalidArgumentException", "starting sequence number", "Validation"),
            (Call::GetRecords, "ValidationException", "1 validation error detected", "Validation"),
            (Call::GetShardIterator, "TrimmedDataAccessException", "trimmed", "StartRejected"),
            (Call::GetRecords, "ResourceNotFoundException", "gone", "NotFound"),
            (Call::GetRecords, "ProvisionedThroughputExceededException", "slow down", "Throttled"),
            (Call::GetRecords, "KMSThrottlingException", "slow down", "Throttled"),
            (Call::GetRecords, "LimitExceededException", "slow down", "Throttled"),
            (Call::GetRecords, "ExpiredIteratorException", "expired", "ExpiredIterator"),
            (Call::GetShardIterator, "AccessDeniedException", "no", "AccessDenied"),
            (Call::GetRecords, "InternalFailure", "boom", "Service"),
        ];
        for (call, code, message, class) in cases {
            let error = classify_code(call, code, format!("{code}: {message}"));
            assert_eq!(error.class(), class, "{call:?} {code} {message}");
            assert!(error.to_string().contains(code), "{error}");
        }
    }
}
