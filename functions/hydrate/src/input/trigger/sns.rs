//! SNS: the on-failure topic delivers each record as a notification whose
//! `Message` is the record's JSON text.

use serde::Deserialize;
use serde_json::Value;

use super::error::InputError;
use crate::input::failure::{AnyRecord, OnFailureRecord};
use crate::input::fault;

/// An SNS notification as SNS writes it into an SQS message body when raw
/// delivery is off.
#[derive(Deserialize)]
pub(super) struct Notification {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(rename = "Message")]
    pub message: String,
}

/// Every record of an SNS event, in order; the first bad one fails them all,
/// because the invocation fails or succeeds as a whole.
pub(super) fn records(records: &[Value]) -> Result<Vec<AnyRecord>, InputError> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let message = fault::object(record, "Sns", "Sns")
                .and_then(|sns| fault::string(sns, "Message", "Sns.Message"))
                .map_err(|fault| InputError::MalformedEnvelope {
                    envelope: "SNS",
                    index,
                    reason: fault.into(),
                })?;
            OnFailureRecord::parse_any(message).map_err(|error| InputError::InRecord {
                envelope: "SNS",
                index,
                error,
            })
        })
        .collect()
}
