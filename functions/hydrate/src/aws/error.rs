//! One classification of AWS errors, for every call the hydrator makes: is
//! it worth calling again, and how soon?
//!
//! Services name the same conditions differently (SQS's
//! `AWS.SimpleQueueService.NonExistentQueue`, Kinesis's
//! `ResourceNotFoundException`), and some SDKs model an error only as a code,
//! so classification goes by the code, the one thing every answer carries.
//! A code not listed is taken as transient: retried a bounded number of
//! times, which costs a little time if it was permanent after all, where the
//! opposite mistake would lose a delivery to a passing fault.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The service asks the caller to slow down: retry after a backoff.
    Throttled,
    /// A passing fault (5xx, a timeout, a dropped connection): retry.
    Transient,
    /// The request cannot succeed as it is (access denied, a validation
    /// error, a missing resource): never retried.
    Permanent,
}

/// The class of an error code, from any service.
pub fn class_of_code(code: &str) -> ErrorClass {
    match code {
        "ProvisionedThroughputExceededException"
        | "KMSThrottlingException"
        | "LimitExceededException"
        | "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown"
        | "ServiceUnavailableException" => ErrorClass::Throttled,
        "AccessDenied"
        | "AccessDeniedException"
        | "KMS.AccessDeniedException"
        | "KMSAccessDeniedException"
        | "KMSDisabledException"
        | "KMSNotFoundException"
        | "KMSInvalidStateException"
        | "KMS.DisabledException"
        | "KMS.NotFoundException"
        | "KMS.InvalidStateException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "MissingAuthenticationToken"
        | "ExpiredTokenException"
        | "InvalidArgumentException"
        | "InvalidParameterException"
        | "InvalidParameterValue"
        | "InvalidParameterValueException"
        | "InvalidAddress"
        | "InvalidMessageContents"
        | "ValidationException"
        | "ValidationError"
        | "SerializationException"
        | "MissingParameter"
        | "ResourceNotFoundException"
        | "QueueDoesNotExist"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "AWS.SimpleQueueService.UnsupportedOperation"
        | "UnsupportedOperation"
        | "BatchEntryIdsNotDistinct"
        | "BatchRequestTooLong"
        | "TooManyEntriesInBatchRequest"
        | "EmptyBatchRequest"
        | "InvalidBatchEntryId"
        | "NoSuchBucket"
        | "NoSuchKey" => ErrorClass::Permanent,
        _ => ErrorClass::Transient,
    }
}

/// A failed SDK call: its class, and one bounded line that says what happened.
pub fn classify<E, R>(error: &SdkError<E, R>) -> (ErrorClass, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match error {
        SdkError::ServiceError(e) => {
            let code = e.err().code().unwrap_or("UnknownError");
            let message = e.err().message().unwrap_or("no message");
            (class_of_code(code), one_line(&format!("{code}: {message}")))
        }
        // No answer, or one that could not be read: timeouts, connections.
        other => (ErrorClass::Transient, one_line(&with_causes(other))),
    }
}

/// A failure before the service answered (timeout, connection, bad response),
/// with the chain of causes that says which.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The longest service message kept in an error or a document.
const MAX_MESSAGE_CHARS: usize = 300;

/// A service's words as one bounded line. Requests are built from validated
/// identifiers, so an echo of them is safe to keep; control characters are
/// replaced all the same, and the length is bounded.
pub fn one_line(text: &str) -> String {
    let mut line: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_every_service_are_classed() {
        for (code, class) in [
            (
                "ProvisionedThroughputExceededException",
                ErrorClass::Throttled,
            ),
            ("ThrottlingException", ErrorClass::Throttled),
            ("RequestThrottled", ErrorClass::Throttled),
            ("ServiceUnavailableException", ErrorClass::Throttled),
            ("AccessDeniedException", ErrorClass::Permanent),
            ("AccessDenied", ErrorClass::Permanent),
            ("KMS.AccessDeniedException", ErrorClass::Permanent),
            (
                "AWS.SimpleQueueService.NonExistentQueue",
                ErrorClass::Permanent,
            ),
            ("InvalidParameterValue", ErrorClass::Permanent),
            ("ValidationException", ErrorClass::Permanent),
            ("ResourceNotFoundException", ErrorClass::Permanent),
            ("InternalFailure", ErrorClass::Transient),
            ("ServiceUnavailable", ErrorClass::Transient),
            ("InternalError", ErrorClass::Transient),
            ("SomethingNew", ErrorClass::Transient),
        ] {
            assert_eq!(class_of_code(code), class, "{code}");
        }
    }

    #[test]
    fn lines_are_bounded_and_single() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        let long = one_line(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
