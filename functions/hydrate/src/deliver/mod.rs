//! Delivery out: where a finished document goes when the function sends it
//! itself rather than returning it for an OnSuccess destination.
//!
//! - [`parts`]: a document cut into ordered parts that fit a message.
//! - [`sqs`]: the dead-letter queue, with `SendMessageBatch`.
//! - [`offload`]: a body too large for the queue kept in S3, with a pointer.
//! - [`firehose`]: the optional long-term archive, with `PutRecordBatch`.
//!
//! Both send through [`crate::aws::batch_send`]: in batches, resending only what
//! failed with an error worth retrying.

pub mod firehose;
pub mod offload;
pub mod sqs;

pub use firehose::{Archive, Archived};
pub use offload::{Offload, S3Pointer};
pub use sqs::{DeliveryError, DlqWriter};
