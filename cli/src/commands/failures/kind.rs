//! What a message in `HydratorFailures` is, why it is there, and how it can
//! be retried. Three kinds arrive: a raw on-failure record (or the SNS
//! notification carrying one) that the on-failure queue moved after five
//! failed receives; and Lambda's destination record of a failed
//! asynchronous invocation, whose `requestPayload` is the S3 notification
//! the hydrator could not take. Reasons are built from the function's own
//! classified errors and Lambda's fields, never from the message's text.

use serde_json::Value;

/// One message, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// `on-failure record`, `s3 notification`, `async invocation` or `unreadable`.
    pub kind: &'static str,
    /// The failed batch's stream and shard, when the message names them.
    pub batch: Option<(String, String)>,
    /// Why it is here, or what the hydrator makes of it now.
    pub why: String,
    pub retry: Retry,
}

/// How a message can be tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Its body goes back to the on-failure queue as it is.
    ToQueue,
    /// This payload (the S3 event) goes to the hydrator function, asynchronously.
    Invoke(String),
    /// It cannot be taken as it is; retrying would only fail again.
    No,
}

pub fn classify(body: &str) -> Classified {
    let value: Option<Value> = serde_json::from_str(body).ok();
    if let Some(value) = value.as_ref().filter(|v| v.get("requestPayload").is_some()) {
        return destination_record(value);
    }
    match hydrate::parse_invocation(body.as_bytes()) {
        Ok(hydrate::Invocation::Whole(inputs)) => {
            let batch = inputs
                .first()
                .and_then(|i| i.batch())
                .map(|b| (b.stream_arn.to_string(), b.shard_id.clone()));
            Classified {
                kind: "on-failure record",
                batch,
                why: "valid: the hydrator failed it for a cause outside the record (its log says which)"
                    .to_owned(),
                retry: Retry::ToQueue,
            }
        }
        Ok(hydrate::Invocation::Queue(_)) => Classified {
            kind: "unreadable",
            batch: None,
            why: "an SQS event, not a message the on-failure queue carries".to_owned(),
            retry: Retry::No,
        },
        Err(error) => Classified {
            kind: "unreadable",
            batch: None,
            why: error.to_string(),
            retry: Retry::No,
        },
    }
}

fn destination_record(value: &Value) -> Classified {
    let payload = &value["requestPayload"];
    let is_s3 = payload["Records"][0]["eventSource"].as_str() == Some("aws:s3");
    let condition = value["requestContext"]["condition"]
        .as_str()
        .unwrap_or("unknown");
    let error_type = value["responsePayload"]["errorType"].as_str();
    let why = match error_type {
        Some(error_type) => format!("{condition}: {error_type}"),
        None => condition.to_owned(),
    };
    Classified {
        kind: if is_s3 {
            "s3 notification"
        } else {
            "async invocation"
        },
        batch: None,
        why,
        retry: Retry::Invoke(payload.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_on_failure_record_goes_back_to_the_queue() {
        let body = include_str!("../../../../events/kinesis-failure-direct.json");
        let classified = classify(body);
        assert_eq!(classified.kind, "on-failure record");
        assert_eq!(classified.retry, Retry::ToQueue);
        let (stream, shard) = classified.batch.expect("the batch is named");
        assert!(stream.starts_with("arn:aws:kinesis:"), "{stream}");
        assert!(shard.starts_with("shardId-"), "{shard}");
    }

    #[test]
    fn a_record_the_hydrator_refuses_is_kept_with_the_reason_and_no_input() {
        let body = r#"{"requestContext": "secret-text", "version": "1.0"}"#;
        let classified = classify(body);
        assert_eq!(classified.kind, "unreadable");
        assert_eq!(classified.retry, Retry::No);
        assert!(!classified.why.contains("secret"), "{}", classified.why);
        assert_eq!(classify("not json").retry, Retry::No);
    }

    #[test]
    fn a_failed_s3_notification_is_invoked_again_with_its_request_payload() {
        let s3 = r#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#;
        let body = format!(
            r#"{{"version":"1.0","requestContext":{{"condition":"RetriesExhausted"}},
                "requestPayload":{s3},"responsePayload":{{"errorType":"Hydrate.Read"}}}}"#
        );
        let classified = classify(&body);
        assert_eq!(classified.kind, "s3 notification");
        assert_eq!(classified.why, "RetriesExhausted: Hydrate.Read");
        let Retry::Invoke(payload) = classified.retry else {
            panic!("invoked again");
        };
        let sent: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(sent, serde_json::from_str::<Value>(s3).unwrap());
    }
}
