//! `failures list` and `failures retry`: the hydrator's own failure queue
//! (`HydratorFailures`), each message classified ([`kind`]), and moved back
//! to the on-failure queue, or its S3 notification sent to the hydrator
//! again, once the cause is fixed.

mod kind;
mod list;
mod retry;

pub use kind::{classify, Classified, Retry};
pub use list::list;
pub use retry::retry;
