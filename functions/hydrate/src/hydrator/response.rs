//! What the function answers: a document, a delivery report, or an SQS
//! partial batch response.

use serde::Serialize;

use crate::deliver::Archived;
use crate::document::{HydratedDocument, Status};

/// What the function returns.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// The document itself for the usual single failure, so an OnSuccess
    /// destination carries it as it is.
    One(Box<HydratedDocument>),
    Many(Vec<HydratedDocument>),
    /// What was sent to the dead-letter queue.
    Delivered(DeliveryReport),
    /// The SQS messages to retry.
    Batch(BatchResponse),
}

#[derive(Debug, Serialize)]
pub struct DeliveryReport {
    pub delivered: Vec<Receipt>,
}

/// One document sent to the dead-letter queue.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// One message a part, in part order.
    pub message_ids: Vec<String>,
    pub group_id: String,
    /// What the failure names, in the document's place.
    #[serde(flatten)]
    pub failed: Failed,
    pub status: Status,
    pub hydrated_records: u32,
    /// What the Firehose archive took, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<Archived>,
}

/// What a delivered failure names: a stream shard's sequence range, or a
/// Kafka cluster and its partitions' ranges.
#[derive(Debug, Serialize)]
#[serde(untagged, rename_all = "camelCase")]
pub enum Failed {
    #[serde(rename_all = "camelCase")]
    Shard {
        stream_arn: String,
        shard_id: String,
        start_sequence_number: String,
        end_sequence_number: String,
    },
    Kafka {
        cluster: String,
        partitions: String,
    },
}

/// The SQS partial batch response: only these messages are retried.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

impl Response {
    /// The bytes the response takes as JSON, counted without keeping them.
    pub fn serialized_len(&self) -> Result<usize, serde_json::Error> {
        crate::document::json_len(self)
    }
}
