//! The SQS dead-letter queue: each document sent as ordered parts that fit
//! the queue's message limit, with `SendMessageBatch`.
//!
//! A batch may partly fail: only the failed entries are sent again, after an
//! exponential backoff with full jitter. If some still fail, delivery fails,
//! so the invocation (or the SQS message that carried the failure) fails and
//! the platform keeps the failure record. On a FIFO queue each shard is a
//! message group and each part has a deduplication id derived from the
//! failure, so a retried invocation does not deliver the same part twice
//! within the deduplication window.

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use sha2::{Digest, Sha256};

use super::parts::{self, hex, Part, PartInfo, SplitError};
use crate::aws_api::Queue;
use crate::backoff::Backoff;
use crate::batch_send::{self, BatchApi, CallFailure, EntryAnswer};
use crate::document::{HydratedDocument, Hydration, Status};

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Split(#[from] SplitError),
    #[error("{failed} of {parts} parts were not accepted by the queue after {attempts} attempts: {last_error}")]
    Send {
        failed: usize,
        parts: usize,
        attempts: u32,
        last_error: String,
    },
}

impl DeliveryError {
    pub fn class(&self) -> &'static str {
        match self {
            DeliveryError::Split(SplitError::EnvelopeTooLarge { .. }) => "TooLarge",
            DeliveryError::Split(SplitError::Serialize(_)) => "Serialize",
            DeliveryError::Send { .. } => "Send",
        }
    }
}

/// What a delivery did.
#[derive(Debug)]
pub struct Sent {
    pub message_ids: Vec<String>,
    pub group_id: String,
    /// The hydration block the parts carry: the document's, with any record
    /// too large for a message named in `missing`.
    pub hydration: Hydration,
    /// `SendMessageBatch` calls made, retries included.
    pub calls: u32,
}

/// Sends documents to one queue.
pub struct DlqWriter<'a, Q> {
    pub queue: &'a Q,
    pub queue_url: &'a str,
    pub max_message_bytes: usize,
    pub backoff: Backoff,
}

/// One message to send: a part and its attributes.
struct Entry {
    id: String,
    part: Part,
    attributes: Vec<(&'static str, String)>,
}

impl Entry {
    /// What SQS counts against the message and batch limits: the body and
    /// each attribute's name, type and value.
    fn size(&self) -> usize {
        self.part.body.len() + attributes_size(&self.attributes)
    }
}

fn attributes_size(attributes: &[(&'static str, String)]) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + "String".len() + value.len())
        .sum()
}

impl<Q: Queue> DlqWriter<'_, Q> {
    fn is_fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }

    /// Sends `document` as parts and returns their message ids, in part order.
    pub async fn send(&self, document: &HydratedDocument) -> Result<Sent, DeliveryError> {
        // Attributes count against the message limit, so parts get what is left.
        let widest = PartInfo {
            index: u32::MAX,
            count: u32::MAX,
            group_id: parts::group_id(&document.batch),
        };
        let room = self
            .max_message_bytes
            .saturating_sub(attributes_size(&attributes(
                document,
                Status::Complete,
                &widest,
            )));
        let split = parts::split(document, room)?;
        let group_id = widest.group_id;
        let status = split.hydration.status;
        let entries: Vec<Entry> = split
            .parts
            .into_iter()
            .map(|part| Entry {
                id: format!("part-{}", part.info.index),
                attributes: attributes(document, status, &part.info),
                part,
            })
            .collect();
        let count = entries.len();
        let batch = SqsBatch {
            writer: self,
            document,
        };
        let sent = batch_send::send_all(&batch, &entries, self.backoff).await;
        if let Some(first) = sent.failures.first() {
            return Err(DeliveryError::Send {
                failed: sent.failures.len(),
                parts: count,
                attempts: sent.attempts.iter().copied().max().unwrap_or(0),
                last_error: first.error.clone(),
            });
        }
        Ok(Sent {
            // Entries are in part order, and every one was accepted.
            message_ids: sent
                .accepted
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect(),
            group_id,
            hydration: split.hydration,
            calls: sent.calls,
        })
    }

    fn request_entry(
        &self,
        document: &HydratedDocument,
        entry: &Entry,
    ) -> SendMessageBatchRequestEntry {
        let attributes = entry
            .attributes
            .iter()
            .filter_map(|(name, value)| {
                let value = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .ok()?;
                Some(((*name).to_owned(), value))
            })
            .collect();
        let builder = SendMessageBatchRequestEntry::builder()
            .id(&entry.id)
            .message_body(&entry.part.body)
            .set_message_attributes(Some(attributes));
        let builder = if self.is_fifo() {
            let info = &entry.part.info;
            builder
                .message_group_id(message_group(document))
                .message_deduplication_id(format!(
                    "{}-{}-of-{}",
                    info.group_id, info.index, info.count
                ))
        } else {
            builder
        };
        // Only id and body are required, and both are set.
        builder.build().expect("id and message body are set")
    }
}

/// `SendMessageBatch` for one document's parts: at most 10 entries and 1 MiB
/// in all; the answer names entries by id, successes and failures apart.
struct SqsBatch<'a, Q> {
    writer: &'a DlqWriter<'a, Q>,
    document: &'a HydratedDocument,
}

impl<Q: Queue> BatchApi for SqsBatch<'_, Q> {
    type Entry = Entry;
    /// The message id.
    type Receipt = String;
    const MAX_ENTRIES: usize = 10;
    const MAX_BYTES: usize = 1_048_576;

    fn size(entry: &Entry) -> usize {
        entry.size()
    }

    async fn call(&self, entries: &[&Entry]) -> Result<Vec<EntryAnswer<String>>, CallFailure> {
        let request: Vec<SendMessageBatchRequestEntry> = entries
            .iter()
            .map(|entry| self.writer.request_entry(self.document, entry))
            .collect();
        let output = self
            .writer
            .queue
            .send_message_batch(self.writer.queue_url, request)
            .await?;
        Ok(entries
            .iter()
            .map(|entry| {
                if let Some(ok) = output.successful.iter().find(|s| s.id == entry.id) {
                    EntryAnswer::Accepted(ok.message_id.clone())
                } else if let Some(failed) = output.failed.iter().find(|f| f.id == entry.id) {
                    EntryAnswer::Rejected {
                        code: failed.code.clone(),
                        message: failed.message.clone().unwrap_or_default(),
                    }
                } else {
                    EntryAnswer::Rejected {
                        code: "NoAnswer".into(),
                        message: "the answer did not name this entry".into(),
                    }
                }
            })
            .collect())
    }
}

/// Attributes to filter and route on (SQS allows 10 a message).
fn attributes(
    document: &HydratedDocument,
    status: Status,
    part: &PartInfo,
) -> Vec<(&'static str, String)> {
    let batch = &document.batch;
    vec![
        ("source", document.source.to_owned()),
        ("streamArn", batch.stream_arn.as_str().to_owned()),
        ("shardId", batch.shard_id.clone()),
        ("startSequenceNumber", batch.start.to_string()),
        ("endSequenceNumber", batch.end.to_string()),
        ("status", status.as_str().to_owned()),
        ("groupId", part.group_id.clone()),
        ("partIndex", part.index.to_string()),
        ("partCount", part.count.to_string()),
    ]
}

/// One FIFO message group a shard, so parts of one shard keep their order.
fn message_group(document: &HydratedDocument) -> String {
    let mut hash = Sha256::new();
    hash.update(document.batch.stream_arn.as_str().as_bytes());
    hash.update([0]);
    hash.update(document.batch.shard_id.as_bytes());
    hex(&hash.finalize()[..16])
}
