//! The SQS dead-letter queue: one message a document.
//!
//! A document that does not fit the queue's message limit is refused, not
//! cut: the invocation (or the SQS message that carried the failure) then
//! fails, and the failure record is kept by the platform.

use aws_sdk_sqs::types::MessageAttributeValue;

use crate::document::HydratedDocument;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the document is {size} bytes, more than the queue's {limit}-byte message limit")]
    TooLarge { size: usize, limit: usize },
    #[error("the document could not be serialized: {0}")]
    Serialize(String),
    #[error("SendMessage to the dead-letter queue failed: {0}")]
    Send(String),
}

impl DeliveryError {
    pub fn class(&self) -> &'static str {
        match self {
            DeliveryError::TooLarge { .. } => "TooLarge",
            DeliveryError::Serialize(_) => "Serialize",
            DeliveryError::Send(_) => "Send",
        }
    }
}

/// Sends documents to one queue.
pub struct DlqWriter<'a> {
    pub client: &'a aws_sdk_sqs::Client,
    pub queue_url: &'a str,
    pub max_message_bytes: usize,
}

impl DlqWriter<'_> {
    /// Sends `document`, with attributes to filter on, and returns the message id.
    pub async fn send(&self, document: &HydratedDocument) -> Result<String, DeliveryError> {
        let body =
            serde_json::to_string(document).map_err(|e| DeliveryError::Serialize(e.to_string()))?;
        if body.len() > self.max_message_bytes {
            return Err(DeliveryError::TooLarge {
                size: body.len(),
                limit: self.max_message_bytes,
            });
        }
        let batch = &document.batch;
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| DeliveryError::Send(e.to_string()))
        };
        let output = self
            .client
            .send_message()
            .queue_url(self.queue_url)
            .message_body(body)
            .message_attributes("source", attribute(document.source)?)
            .message_attributes("streamArn", attribute(batch.stream_arn.as_str())?)
            .message_attributes("shardId", attribute(&batch.shard_id)?)
            .message_attributes("status", attribute(document.hydration.status.as_str())?)
            .send()
            .await
            .map_err(|e| DeliveryError::Send(crate::read::describe_sdk_error(&e)))?;
        Ok(output.message_id.unwrap_or_default())
    }
}
