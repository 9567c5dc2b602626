//! Delivery out: where a finished document goes when the function sends it
//! itself rather than returning it for an OnSuccess destination.

pub mod sqs;

pub use sqs::{DeliveryError, DlqWriter};
