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
//!
//! With an offload bucket, a part holding one record too large for a message
//! goes to S3 and the message carries a pointer to it ([`super::offload`]).

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::offload::{Offload, S3Pointer, SIZE_ATTRIBUTE};
use crate::aws::backoff::Backoff;
use crate::aws::batch_send::{self, BatchApi, CallFailure, EntryAnswer};
use crate::aws::{MessageBodies, ObjectWriter, Queue};
use crate::document::parts::{self, hex, Oversized, PartInfo, SplitError};
use crate::document::{Batch, HydratedDocument, Hydration, Status};

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
    #[error("part {part} could not be kept in the offload bucket: {error}")]
    Offload { part: u32, error: String },
}

impl DeliveryError {
    pub fn class(&self) -> &'static str {
        match self {
            DeliveryError::Split(SplitError::EnvelopeTooLarge { .. }) => "TooLarge",
            DeliveryError::Split(SplitError::Serialize(_)) => "Serialize",
            DeliveryError::Send { .. } => "Send",
            DeliveryError::Offload { .. } => "Offload",
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
    /// Entries sent again after the queue refused them.
    pub retries: u32,
}

/// Sends documents to one queue.
pub struct DlqWriter<'a, A> {
    pub aws: &'a A,
    pub queue_url: &'a str,
    pub max_message_bytes: usize,
    pub backoff: Backoff,
    /// Where a part too large for a message goes; without it, a record too
    /// large for a message is left out and named `too_large`.
    pub offload: Option<&'a Offload>,
}

/// One message to send: a part and its attributes.
struct Entry {
    id: String,
    info: PartInfo,
    /// The part's text, shared with each request that carries it
    /// ([`MessageBodies`]) rather than copied into it.
    body: Bytes,
    attributes: Vec<(&'static str, String)>,
    /// The size of the body kept in S3, when `body` is a pointer to it.
    offloaded: Option<usize>,
}

impl Entry {
    /// What SQS counts against the message and batch limits: the body and
    /// each attribute's name, type and value.
    fn size(&self) -> usize {
        let offloaded = self.offloaded.map_or(0, |size| {
            SIZE_ATTRIBUTE.len() + "Number".len() + size.to_string().len()
        });
        self.body.len() + attributes_size(&self.attributes) + offloaded
    }
}

fn attributes_size(attributes: &[(&'static str, String)]) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + "String".len() + value.len())
        .sum()
}

impl<A: Queue + ObjectWriter> DlqWriter<'_, A> {
    fn is_fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }

    /// Sends `document` as parts and returns their message ids, in part order.
    pub async fn send(&self, document: &HydratedDocument) -> Result<Sent, DeliveryError> {
        // Attributes count against the message limit, so parts get what is left.
        let widest = PartInfo {
            index: u32::MAX,
            count: u32::MAX,
            group_id: document.batch.group_id(),
        };
        let room = self
            .max_message_bytes
            .saturating_sub(attributes_size(&attributes(
                document,
                Status::Complete,
                &widest,
            )));
        let oversized = match self.offload {
            Some(_) => Oversized::OwnPart,
            None => Oversized::LeaveOut,
        };
        let plan = parts::plan(document, room, oversized)?;
        let group_id = widest.group_id;
        let status = plan.hydration.status;
        let entry = |index: usize| -> Result<Entry, DeliveryError> {
            let part = plan.part(index)?;
            Ok(Entry {
                id: format!("part-{}", part.info.index),
                attributes: attributes(document, status, &part.info),
                info: part.info,
                body: Bytes::from(part.body),
                offloaded: None,
            })
        };
        // Bodies too large for a message go to S3 before any message is
        // sent, so a refused offload sends nothing.
        let count = plan.count();
        let mut ready: Vec<Option<Entry>> = (0..count).map(|_| None).collect();
        for (index, slot) in ready.iter_mut().enumerate() {
            if plan.may_exceed(index) {
                let mut entry = entry(index)?;
                if entry.size() > self.max_message_bytes {
                    self.offload(&mut entry).await?;
                }
                *slot = Some(entry);
            }
        }
        // The rest are written a call's worth at a time and let go once
        // sent, so the bodies are never all held beside the document. Whether
        // a part fits the call is first judged by its plan, before it is
        // written, so the call it does not fit is sent (and its bodies let
        // go) before it is: at 10,000 records a part held a megabyte beside
        // the call's.
        let batch = SqsBatch {
            writer: self,
            document,
        };
        let fits = |group: &[Entry], bytes: usize, size: usize| {
            group.len() < SqsBatch::<A>::MAX_ENTRIES && bytes + size <= SqsBatch::<A>::MAX_BYTES
        };
        let mut sent = batch_send::Sent::none(0);
        let mut group: Vec<Entry> = Vec::new();
        let mut group_bytes = 0;
        for (index, slot) in ready.into_iter().enumerate() {
            let planned = match &slot {
                Some(entry) => entry.size(),
                None => {
                    plan.bound(index)
                        + attributes_size(&attributes(document, status, &plan.info(index)))
                }
            };
            if !group.is_empty() && !fits(&group, group_bytes, planned) {
                self.send_group(&batch, std::mem::take(&mut group), &mut sent)
                    .await;
                group_bytes = 0;
            }
            let next = match slot {
                Some(entry) => entry,
                None => entry(index)?,
            };
            // The bound is never short (the parts' tests hold it); were it,
            // the call would still be kept within SQS's limits.
            let size = next.size();
            if !group.is_empty() && !fits(&group, group_bytes, size) {
                self.send_group(&batch, std::mem::take(&mut group), &mut sent)
                    .await;
                group_bytes = 0;
            }
            group_bytes += size;
            group.push(next);
        }
        self.send_group(&batch, group, &mut sent).await;
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
            hydration: plan.hydration,
            calls: sent.calls,
            retries: sent.attempts.iter().map(|a| a.saturating_sub(1)).sum(),
        })
    }

    /// Sends one call's worth of parts (with its retries) and adds what
    /// became of them to `sent`, after the parts sent before them.
    async fn send_group(
        &self,
        batch: &SqsBatch<'_, A>,
        group: Vec<Entry>,
        sent: &mut batch_send::Sent<String>,
    ) {
        if group.is_empty() {
            return;
        }
        let offset = sent.accepted.len();
        let these = batch_send::send_all(batch, &group, self.backoff).await;
        sent.accepted.extend(these.accepted);
        sent.failures
            .extend(these.failures.into_iter().map(|mut failure| {
                failure.index += offset;
                failure
            }));
        sent.calls += these.calls;
        sent.attempts.extend(these.attempts);
    }

    /// Keeps the part's body in the offload bucket and puts a pointer to it
    /// in its place.
    async fn offload(&self, entry: &mut Entry) -> Result<(), DeliveryError> {
        let part = entry.info.index;
        let offload = self.offload.ok_or_else(|| DeliveryError::Offload {
            part,
            error: "no offload bucket is configured".into(),
        })?;
        let key = offload.key(&entry.info);
        // Not shared yet (no request has carried it), so this takes the text without copying it.
        let body = Vec::from(std::mem::take(&mut entry.body));
        let size = body.len();
        let kms_key_id = offload.kms_key_id.as_deref();
        self.aws
            .put_object(&offload.bucket, &key, body, kms_key_id)
            .await
            .map_err(|failure| DeliveryError::Offload {
                part,
                error: failure.message,
            })?;
        let pointer = S3Pointer {
            s3_bucket_name: offload.bucket.clone(),
            s3_key: key,
        };
        entry.body = Bytes::from(pointer.to_body());
        entry.offloaded = Some(size);
        Ok(())
    }

    /// The SDK's entry for `entry`, its body the placeholder `body`.
    fn request_entry(
        &self,
        document: &HydratedDocument,
        entry: &Entry,
        body: String,
    ) -> SendMessageBatchRequestEntry {
        let size = entry.offloaded.map(|size| size.to_string());
        let typed = entry
            .attributes
            .iter()
            .map(|(name, value)| (*name, "String", value));
        let size = size.iter().map(|size| (SIZE_ATTRIBUTE, "Number", size));
        let attributes = typed
            .chain(size)
            .filter_map(|(name, data_type, value)| {
                let value = MessageAttributeValue::builder()
                    .data_type(data_type)
                    .string_value(value)
                    .build()
                    .ok()?;
                Some((name.to_owned(), value))
            })
            .collect();
        let builder = SendMessageBatchRequestEntry::builder()
            .id(&entry.id)
            .message_body(body)
            .set_message_attributes(Some(attributes));
        let builder = if self.is_fifo() {
            let info = &entry.info;
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
struct SqsBatch<'a, A> {
    writer: &'a DlqWriter<'a, A>,
    document: &'a HydratedDocument,
}

impl<A: Queue + ObjectWriter> BatchApi for SqsBatch<'_, A> {
    type Entry = Entry;
    /// The message id.
    type Receipt = String;
    const MAX_ENTRIES: usize = 10;
    const MAX_BYTES: usize = 1_048_576;

    fn size(entry: &Entry) -> usize {
        entry.size()
    }

    async fn call(&self, entries: &[&Entry]) -> Result<Vec<EntryAnswer<String>>, CallFailure> {
        let mut bodies = MessageBodies::new();
        let request: Vec<SendMessageBatchRequestEntry> = entries
            .iter()
            .map(|entry| {
                let body = bodies.add(entry.body.clone());
                self.writer.request_entry(self.document, entry, body)
            })
            .collect();
        let output = self
            .writer
            .aws
            .send_message_batch(self.writer.queue_url, request, bodies)
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

/// Attributes to filter and route on (SQS allows 10 a message). A Kafka
/// document names its cluster and its partitions' ranges instead of a
/// stream, a shard and a sequence range.
fn attributes(
    document: &HydratedDocument,
    status: Status,
    part: &PartInfo,
) -> Vec<(&'static str, String)> {
    let mut attributes = vec![("source", document.source.to_owned())];
    match &document.batch {
        Batch::Shard(batch) => attributes.extend([
            ("streamArn", batch.stream_arn.as_str().to_owned()),
            ("shardId", batch.shard_id.clone()),
            ("startSequenceNumber", batch.start.to_string()),
            ("endSequenceNumber", batch.end.to_string()),
        ]),
        Batch::Kafka(kafka) => attributes.extend([
            ("cluster", kafka.cluster.clone()),
            ("partitions", kafka.ranges.clone()),
        ]),
    }
    attributes.extend([
        ("status", status.as_str().to_owned()),
        ("groupId", part.group_id.clone()),
        ("partIndex", part.index.to_string()),
        ("partCount", part.count.to_string()),
    ]);
    attributes
}

/// One FIFO message group a shard, so parts of one shard keep their order;
/// one a Kafka cluster, whose failures name several partitions at once.
fn message_group(document: &HydratedDocument) -> String {
    let mut hash = Sha256::new();
    match &document.batch {
        Batch::Shard(batch) => {
            hash.update(batch.stream_arn.as_str().as_bytes());
            hash.update([0]);
            hash.update(batch.shard_id.as_bytes());
        }
        Batch::Kafka(kafka) => hash.update(kafka.cluster.as_bytes()),
    }
    hex(&hash.finalize()[..16])
}
