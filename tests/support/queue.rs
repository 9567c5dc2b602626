//! SQS queues and S3 buckets in moto, for the triggers that carry failure
//! records and the queue that receives documents.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emulator::sdk_config;
use crate::stream::unique_suffix;

pub fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config())
}

pub fn s3_client() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&sdk_config())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A new standard queue; returns its URL.
pub async fn create_queue(prefix: &str) -> String {
    sqs_client()
        .create_queue()
        .queue_name(format!("{prefix}-{}", unique_suffix()))
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue URL")
}

/// Receives and deletes messages until `count` have arrived (or 20 s pass),
/// returning their bodies as JSON with their message attributes.
pub async fn drain(queue_url: &str, count: usize) -> Vec<(Value, Vec<(String, String)>)> {
    let client = sqs_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut received = Vec::new();
    while received.len() < count && Instant::now() < deadline {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive message");
        for message in output.messages.unwrap_or_default() {
            let body: Value =
                serde_json::from_str(message.body.as_deref().unwrap_or("")).expect("a JSON body");
            let mut attributes: Vec<(String, String)> = message
                .message_attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name, value.string_value.unwrap_or_default()))
                .collect();
            attributes.sort();
            received.push((body, attributes));
            if let Some(handle) = message.receipt_handle {
                client
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete message");
            }
        }
    }
    received
}

/// A new bucket; returns its name.
pub async fn create_bucket(prefix: &str) -> String {
    let name = format!("{prefix}-{}", unique_suffix());
    s3_client()
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    name
}

pub async fn put_object(bucket: &str, key: &str, body: Vec<u8>) {
    s3_client()
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .expect("put object");
}
