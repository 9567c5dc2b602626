//! One synchronous invocation of the consumer, retried within a bound when
//! Lambda could not take it (throttled, a 5xx, a timeout, a dropped
//! connection), and read into a [`Verdict`].
//!
//! The SDK's own retries are off: this is the one retry policy, so "how many
//! times" is the operator's `--max-attempts`, whatever the SDK's defaults.
//! A function error is the consumer's answer, never retried.

use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::Credentials;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use hydrate::Backoff;
use serde_json::Value;

use super::answer::{self, Failure, Verdict};

/// The consumer function and how hard to try it.
pub struct Invoker {
    client: aws_sdk_lambda::Client,
    function: String,
    backoff: Backoff,
}

/// What became of one chunk: the verdict, and the calls it took.
pub struct Invoked {
    pub verdict: Verdict,
    pub attempts: u32,
}

impl Invoker {
    /// `endpoint` is a local Invoke API's URL (`cargo lambda watch`), which
    /// needs no credentials: placeholder ones let the SDK sign when the
    /// environment has none.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        function: &str,
        endpoint: Option<&str>,
        attempt_timeout: Duration,
        backoff: Backoff,
    ) -> Self {
        let mut config = aws_sdk_lambda::config::Builder::from(sdk)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(attempt_timeout)
                    .build(),
            );
        if let Some(endpoint) = endpoint {
            config = config
                .endpoint_url(endpoint)
                .region(
                    sdk.region()
                        .cloned()
                        .or(Some(aws_config::Region::new("us-east-1"))),
                )
                .credentials_provider(Credentials::new("local", "local", None, None, "local"));
        }
        Self {
            client: aws_sdk_lambda::Client::from_conf(config.build()),
            function: function.to_owned(),
            backoff,
        }
    }

    /// Sends `payload`, carrying `records`, until it is answered or the
    /// attempts run out.
    pub async fn invoke(&self, payload: &[u8], records: &[Value]) -> Invoked {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let answer = self
                .client
                .invoke()
                .function_name(&self.function)
                .invocation_type(InvocationType::RequestResponse)
                .payload(Blob::new(payload))
                .send()
                .await;
            let verdict = match answer {
                // Lambda answers 200 and flags a function error in a header.
                Ok(output) => {
                    let body = output.payload().map(|p| p.as_ref()).unwrap_or_default();
                    match output.function_error() {
                        Some(kind) => answer::function_error(kind, body),
                        None => answer::read(body, records),
                    }
                }
                Err(error) => match classify(&error) {
                    Trouble::FunctionError(body) => answer::function_error("Unhandled", &body),
                    Trouble::Transient(_) if attempts < self.backoff.attempts => {
                        self.backoff.wait(attempts - 1).await;
                        continue;
                    }
                    Trouble::Transient(failure) | Trouble::Permanent(failure) => {
                        Verdict::BatchFailed(failure)
                    }
                },
            };
            return Invoked { verdict, attempts };
        }
    }
}

enum Trouble {
    /// `cargo lambda watch` answers a function error with a 500 whose body
    /// is the error document.
    FunctionError(Vec<u8>),
    /// Lambda could not take the call now; the same call may work later.
    Transient(Failure),
    /// The call cannot work as it is (no such function, not allowed, too large).
    Permanent(Failure),
}

fn classify(error: &SdkError<InvokeError, aws_sdk_lambda::config::http::HttpResponse>) -> Trouble {
    let not_invoked = |class: &str, why: &str| Failure::new(class, format!("not invoked: {why}"));
    match error {
        SdkError::TimeoutError(_) => {
            Trouble::Transient(not_invoked("Timeout", "no answer in time"))
        }
        SdkError::DispatchFailure(_) => Trouble::Transient(not_invoked(
            "ConnectionFailed",
            "the request could not be sent",
        )),
        SdkError::ResponseError(_) => Trouble::Transient(not_invoked(
            "ResponseUnreadable",
            "the answer could not be read",
        )),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let body = service.raw().body().bytes().unwrap_or_default();
            let error_document = serde_json::from_slice::<Value>(body)
                .ok()
                .is_some_and(|d| d.get("errorMessage").is_some());
            if status >= 500 && error_document {
                return Trouble::FunctionError(body.to_vec());
            }
            let code = service.err().code().unwrap_or("HttpError");
            let failure = Failure::new(code, format!("not invoked: Lambda answered {status}"));
            if status == 429 || service.err().is_too_many_requests_exception() || status >= 500 {
                Trouble::Transient(failure)
            } else {
                Trouble::Permanent(failure)
            }
        }
        _ => Trouble::Permanent(not_invoked(
            "RequestNotBuilt",
            "the request could not be built",
        )),
    }
}
