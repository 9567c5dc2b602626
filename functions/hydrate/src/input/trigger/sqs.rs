//! SQS: each message body is the on-failure record, or, when an SNS topic
//! feeds the queue without raw message delivery, the SNS notification JSON
//! whose `Message` is the record.

use serde_json::Value;

use super::sns::Notification;
use super::{InputError, QueueMessage};
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
fn failure_in(body: &str) -> Result<OnFailureRecord, crate::input::failure::RecordError> {
    if let Ok(notification) = serde_json::from_str::<Notification>(body) {
        if notification.kind.as_deref() == Some("Notification") {
            return OnFailureRecord::parse(&notification.message);
        }
    }
    OnFailureRecord::parse(body)
}
