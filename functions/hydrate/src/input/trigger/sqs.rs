//! SQS: each message body is the on-failure record, or, when an SNS topic
//! feeds the queue without raw message delivery, the SNS notification JSON
//! whose `Message` is the record.

use serde_json::Value;

use super::error::InputError;
use super::sns::Notification;
use super::FailureInput;
use crate::input::failure::BatchInfo;
use crate::input::failure::OnFailureRecord;
use crate::input::fault;

/// Every message of an SQS event, each with its own outcome. A record whose
/// envelope has no message id cannot be reported failed by id, so it is
/// given its index: SQS then treats the unknown id as a failure of the whole
/// batch, which retries every message rather than losing one.
pub(super) fn messages(records: &[Value]) -> Vec<QueueMessage> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let message_id = fault::string(record, "messageId", "messageId");
            let content = message_id
                .and_then(|_| fault::string(record, "body", "body"))
                .map_err(|fault| InputError::MalformedEnvelope {
                    envelope: "SQS",
                    index,
                    reason: fault.into(),
                })
                .and_then(|body| {
                    failure_in(body).map_err(|error| InputError::InRecord {
                        envelope: "SQS",
                        index,
                        error,
                    })
                });
            QueueMessage {
                message_id: message_id.map_or_else(|_| format!("record-{index}"), str::to_owned),
                index,
                content,
            }
        })
        .collect()
}

/// The on-failure record in a message body, unwrapping an SNS notification.
fn failure_in(body: &str) -> Result<FailureInput, crate::input::failure::RecordError> {
    if let Ok(notification) = serde_json::from_str::<Notification>(body) {
        if notification.kind.as_deref() == Some("Notification") {
            return OnFailureRecord::parse_any(&notification.message).map(FailureInput::record);
        }
    }
    OnFailureRecord::parse_any(body).map(FailureInput::record)
}

impl QueueMessage {
    /// The failed shard's batch, when the message held a valid stream record.
    pub fn batch(&self) -> Option<&BatchInfo> {
        self.content.as_ref().ok().and_then(FailureInput::batch)
    }
}

/// One SQS message: its id, for the partial batch response, and what it held.
#[derive(Debug)]
pub struct QueueMessage {
    /// Given back to SQS as it came; logged only by `index`, since it is input.
    pub message_id: String,
    /// The message's place in the event.
    pub index: usize,
    /// A stream's record or a Kafka one; never an S3 object.
    pub content: Result<FailureInput, InputError>,
}
