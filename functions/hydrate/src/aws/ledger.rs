//! The idempotency table on DynamoDB: one item a failure, keyed by its
//! stable id, `in_progress` with an expiry while it is hydrated and sent,
//! then `delivered` until the table's TTL removes it; deleted instead when
//! its hydration or delivery fails, so that a retry need not wait.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::aws::batch_send::CallFailure;
use crate::aws::clients::Clients;
use crate::aws::{Begun, Ledger, LedgerState};

const IN_PROGRESS: &str = "in_progress";
const DELIVERED: &str = "delivered";

/// Why a failure was not hydrated because of the table.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("another invocation is delivering this failure; it is retried later")]
    InProgress,
    #[error("the idempotency table could not be written: {0}")]
    Call(String),
}

impl LedgerError {
    pub fn class(&self) -> &'static str {
        match self {
            LedgerError::InProgress => "InProgress",
            LedgerError::Call(_) => "Call",
        }
    }
}

impl From<CallFailure> for LedgerError {
    fn from(failure: CallFailure) -> Self {
        LedgerError::Call(failure.message)
    }
}

fn item(id: &str, state: &str, expires: u64) -> std::collections::HashMap<String, AttributeValue> {
    [
        ("id".to_owned(), AttributeValue::S(id.to_owned())),
        ("state".to_owned(), AttributeValue::S(state.to_owned())),
        ("expires".to_owned(), AttributeValue::N(expires.to_string())),
    ]
    .into()
}

impl Ledger for Clients {
    async fn begin(&self, table: &str, id: &str, now: u64, expires: u64) -> Begun {
        let put = self
            .dynamodb()
            .put_item()
            .table_name(table)
            .set_item(Some(item(id, IN_PROGRESS, expires)))
            .condition_expression(
                "attribute_not_exists(id) OR (#state = :in_progress AND #expires < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#expires", "expires")
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(None),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(CallFailure::of(&e)),
        }
        let found = self
            .dynamodb()
            .get_item()
            .table_name(table)
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| CallFailure::of(&e))?;
        let state = found
            .item()
            .and_then(|i| i.get("state"))
            .and_then(|s| s.as_s().ok());
        // Gone between the two calls: its owner is still about it, or it
        // just expired; either way, later.
        Ok(Some(match state.map(String::as_str) {
            Some(DELIVERED) => LedgerState::Delivered,
            _ => LedgerState::InProgress,
        }))
    }

    async fn delivered(&self, table: &str, id: &str, expires: u64) -> Result<(), CallFailure> {
        self.dynamodb()
            .put_item()
            .table_name(table)
            .set_item(Some(item(id, DELIVERED, expires)))
            .send()
            .await
            .map_err(|e| CallFailure::of(&e))?;
        Ok(())
    }

    async fn release(&self, table: &str, id: &str, expires: u64) -> Result<(), CallFailure> {
        // The expiry identifies our mark: one taken over after it expired
        // has a later one, and is its new owner's to delete.
        let delete = self
            .dynamodb()
            .delete_item()
            .table_name(table)
            .key("id", AttributeValue::S(id.to_owned()))
            .condition_expression("#state = :in_progress AND #expires = :expires")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#expires", "expires")
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        match delete {
            Ok(_) => Ok(()),
            // Not ours any more (taken over, delivered, or gone): nothing to release.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(CallFailure::of(&e)),
        }
    }
}
