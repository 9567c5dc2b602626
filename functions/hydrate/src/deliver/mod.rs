//! Delivery out: where a finished document goes when the function sends it
//! itself rather than returning it for an OnSuccess destination.
//!
//! - [`parts`]: a document cut into ordered parts that fit a message.
//! - [`sqs`]: the dead-letter queue, with `SendMessageBatch`.
//! - [`firehose`]: the optional long-term archive, with `PutRecordBatch`.
//!
//! Both retry what failed on the schedule of [`crate::backoff`].

pub mod firehose;
pub mod parts;
pub mod sqs;

pub use crate::backoff::Backoff;
pub use firehose::{Archive, Archived};
pub use sqs::{DeliveryError, DlqWriter, Sent};

/// Consecutive items in batches of at most `max_items` items and `max_bytes`
/// bytes (an item larger than `max_bytes` goes alone), for APIs that take
/// batches bounded both ways.
fn batches<T>(
    items: Vec<T>,
    max_items: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<Vec<T>> {
    let mut batches: Vec<Vec<T>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let item_size = size(&item);
        match batches.last_mut() {
            Some(batch) if batch.len() < max_items && bytes + item_size <= max_bytes => {
                bytes += item_size;
                batch.push(item);
            }
            _ => {
                bytes = item_size;
                batches.push(vec![item]);
            }
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_respect_both_bounds_and_keep_order() {
        let sizes = vec![4, 4, 4, 9, 1, 1, 1, 1, 20, 2];
        let batches = super::batches(sizes, 3, 10, |s| *s);
        assert_eq!(
            batches,
            vec![
                vec![4, 4],
                vec![4],
                vec![9, 1],
                vec![1, 1, 1],
                vec![20],
                vec![2]
            ]
        );
    }
}
