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

/// A new FIFO queue without content-based deduplication; returns its URL.
pub async fn create_fifo_queue(prefix: &str) -> String {
    sqs_client()
        .create_queue()
        .queue_name(format!("{prefix}-{}.fifo", unique_suffix()))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("create FIFO queue")
        .queue_url
        .expect("queue URL")
}

/// Every message waiting in the queue, without deleting them, for counting.
pub async fn queue_depth(queue_url: &str) -> usize {
    let output = sqs_client()
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("queue attributes");
    output
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                .cloned()
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A Firehose delivery stream into a new bucket; returns (stream name, bucket).
pub async fn create_archive(prefix: &str) -> (String, String) {
    let bucket = create_bucket(&format!("{prefix}-archive")).await;
    let name = format!("{prefix}-{}", unique_suffix());
    aws_sdk_firehose::Client::new(&sdk_config())
        .create_delivery_stream()
        .delivery_stream_name(&name)
        .extended_s3_destination_configuration(
            aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
                .bucket_arn(format!("arn:aws:s3:::{bucket}"))
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .build()
                .expect("destination"),
        )
        .send()
        .await
        .expect("create delivery stream");
    (name, bucket)
}

/// The concatenated contents of every object in `bucket`, in key order.
pub async fn bucket_contents(bucket: &str) -> Vec<u8> {
    let client = s3_client();
    let listing = client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list objects");
    let mut keys: Vec<String> = listing
        .contents
        .unwrap_or_default()
        .into_iter()
        .filter_map(|o| o.key)
        .collect();
    keys.sort();
    let mut contents = Vec::new();
    for key in keys {
        let object = client
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .expect("get object");
        contents.extend(
            object
                .body
                .collect()
                .await
                .expect("object body")
                .into_bytes(),
        );
    }
    contents
}

/// One receive of up to 10 messages, with all their attributes, each deleted
/// once received.
async fn receive_and_delete(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait_seconds: i32,
) -> Vec<aws_sdk_sqs::types::Message> {
    let output = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .wait_time_seconds(wait_seconds)
        .send()
        .await
        .expect("receive message");
    let messages = output.messages.unwrap_or_default();
    for handle in messages.iter().filter_map(|m| m.receipt_handle.as_deref()) {
        client
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(handle)
            .send()
            .await
            .expect("delete message");
    }
    messages
}

/// Receives and deletes messages until `count` have arrived (or 20 s pass),
/// returning their bodies as JSON with their message attributes (system
/// attributes such as `MessageGroupId` as `sys:MessageGroupId`).
pub async fn drain(queue_url: &str, count: usize) -> Vec<(Value, Vec<(String, String)>)> {
    let client = sqs_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut received = Vec::new();
    while received.len() < count && Instant::now() < deadline {
        for message in receive_and_delete(&client, queue_url, 1).await {
            let body: Value =
                serde_json::from_str(message.body.as_deref().unwrap_or("")).expect("a JSON body");
            let mut attributes: Vec<(String, String)> = message
                .message_attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name, value.string_value.unwrap_or_default()))
                .chain(
                    message
                        .attributes
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(name, value)| (format!("sys:{}", name.as_str()), value)),
                )
                .collect();
            attributes.sort();
            received.push((body, attributes));
        }
    }
    received
}

/// Receives and deletes every message in the queue until two receives in a
/// row come back empty; gives the bodies as JSON (or as a string when not JSON).
pub async fn drain_all(queue_url: &str) -> Vec<Value> {
    let client = sqs_client();
    let mut bodies = Vec::new();
    let mut empty_receives = 0;
    while empty_receives < 2 {
        let messages = receive_and_delete(&client, queue_url, 0).await;
        if messages.is_empty() {
            empty_receives += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        empty_receives = 0;
        for message in messages {
            let body = message.body.unwrap_or_default();
            bodies.push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
        }
    }
    bodies
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
