//! The dead-letter queue as a source: every message received (long
//! polling) until a receive comes back empty, offloaded bodies followed back
//! from S3, and then deleted or made visible again.
//!
//! Every received message stays hidden for the visibility timeout while the
//! command runs, which is what lets one pass see each message once. When the
//! command ends, messages it does not delete are made visible again at once
//! rather than left hidden for the rest of the timeout.

use serde_json::Value;
use std::collections::{HashMap, HashSet};

use anyhow::Context;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use hydrate::{ObjectReader, S3Pointer};

use super::assemble::{assemble, Assembled, Message};
use super::bucket::{self, Location};
use super::document::{batch_info, stream_name};
use super::offloaded;
use crate::args::{Format, QueueArgs};
use crate::progress;

/// SQS's most messages a receive, delete or visibility change.
const SQS_BATCH: usize = 10;

/// What the dead-letter queue is read with: SQS, and S3 for the bodies
/// delivery offloaded ([`super::offloaded`]).
pub struct DlqClients {
    pub sqs: aws_sdk_sqs::Client,
    pub objects: ObjectReader,
    /// For an S3 on-failure destination read in place of a queue.
    pub sdk: aws_config::SdkConfig,
}

impl DlqClients {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            objects: ObjectReader::new(sdk),
            sdk: sdk.clone(),
        }
    }
}

/// The queue as `args` names it: a URL as it is, a name looked up with
/// `GetQueueUrl` (in the configured account and region).
pub async fn resolve(sqs: &aws_sdk_sqs::Client, args: &QueueArgs) -> anyhow::Result<QueueArgs> {
    let given = &args.queue_url;
    let url_or_bucket = ["https://", "http://", "s3://"];
    if url_or_bucket.iter().any(|scheme| given.starts_with(scheme)) {
        return Ok(args.clone());
    }
    let output = sqs
        .get_queue_url()
        .queue_name(given)
        .send()
        .await
        .with_context(|| format!("cannot find the queue named {given}"))?;
    let url = output
        .queue_url
        .with_context(|| format!("GetQueueUrl gave no URL for {given}"))?;
    Ok(QueueArgs {
        queue_url: url,
        receive: args.receive,
    })
}

/// Everything in the queue, put together in stream order, and the queue left
/// as it was: the messages received, and the failures they make.
pub async fn look(
    clients: &DlqClients,
    args: &QueueArgs,
    format: Format,
) -> anyhow::Result<(usize, Assembled)> {
    let args = &resolve(&clients.sqs, args).await?;
    if let Some(location) = Location::parse(&args.queue_url) {
        let messages = bucket::receive_all(
            &clients.sdk,
            &clients.objects,
            &location,
            args.receive.max_messages,
        )
        .await?;
        let count = messages.len();
        let mut assembled = bucket::assemble(messages);
        in_stream_order(&mut assembled);
        return Ok((count, assembled));
    }
    let (messages, _) = receive_all(clients, args, format).await?;
    let count = messages.len();
    let mut assembled = assemble(messages.clone());
    in_stream_order(&mut assembled);
    release(&clients.sqs, &args.queue_url, &messages).await;
    Ok((count, assembled))
}

/// Receives until a receive comes back empty (or `max_messages`), with each
/// offloaded body put back; gives the pointers followed, by message id.
pub async fn receive_all(
    clients: &DlqClients,
    args: &QueueArgs,
    format: Format,
) -> anyhow::Result<(Vec<Message>, HashMap<String, S3Pointer>)> {
    let sqs = &clients.sqs;
    let progress = progress::spinner(format, "receiving");
    let mut messages = Vec::new();
    loop {
        let wanted = args.receive.max_messages.map_or(SQS_BATCH, |max| {
            max.saturating_sub(messages.len()).min(SQS_BATCH)
        });
        if wanted == 0 {
            break;
        }
        let output = sqs
            .receive_message()
            .queue_url(&args.queue_url)
            .max_number_of_messages(wanted as i32)
            .wait_time_seconds(args.receive.wait_seconds)
            .visibility_timeout(args.receive.visibility_timeout)
            .send()
            .await
            .with_context(|| format!("cannot receive from {}", args.queue_url))?;
        let received = output.messages.unwrap_or_default();
        if received.is_empty() {
            break;
        }
        for message in received {
            messages.push(Message {
                message_id: message.message_id.unwrap_or_default(),
                receipt_handle: message.receipt_handle.unwrap_or_default(),
                body: message.body.unwrap_or_default(),
            });
        }
        progress.set_position(messages.len() as u64);
    }
    progress.finish_and_clear();
    let offloaded = offloaded::follow(&clients.objects, &mut messages).await;
    Ok((messages, offloaded))
}

/// Deletes `messages`; returns the ids of those that were not deleted.
pub async fn delete(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: &[Message],
) -> HashSet<String> {
    let mut failed = HashSet::new();
    for chunk in messages.chunks(SQS_BATCH) {
        let entries = chunk.iter().enumerate().map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(&m.receipt_handle)
                .build()
        });
        let entries: Result<Vec<_>, _> = entries.collect();
        let result = match entries {
            Ok(entries) => sqs
                .delete_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(output) => {
                for entry in output.failed {
                    if let Some(message) = entry.id.parse::<usize>().ok().and_then(|i| chunk.get(i))
                    {
                        failed.insert(message.message_id.clone());
                    }
                }
            }
            Err(_) => failed.extend(chunk.iter().map(|m| m.message_id.clone())),
        }
    }
    failed
}

/// Makes `messages` visible again now. Best effort: if this fails they
/// reappear anyway when their visibility timeout ends.
pub async fn release(sqs: &aws_sdk_sqs::Client, queue_url: &str, messages: &[Message]) {
    for chunk in messages.chunks(SQS_BATCH) {
        let entries: Result<Vec<_>, _> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt_handle)
                    .visibility_timeout(0)
                    .build()
            })
            .collect();
        if let Ok(entries) = entries {
            let _ = sqs
                .change_message_visibility_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
        }
    }
}

/// Stream, shard, then range order (sequence numbers are decimal strings
/// compared by length first), so reports are stable from run to run.
pub fn in_stream_order(assembled: &mut Assembled) {
    assembled.failures.sort_by_cached_key(|f| {
        let batch = batch_info(&f.document["failure"]);
        let field = |key| {
            batch
                .and_then(|b| b.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let start = field("startSequenceNumber");
        (
            stream_name(&field("streamArn")),
            field("shardId"),
            start.len(),
            start,
        )
    });
}
