//! Message bodies that delivery kept in S3, in the SQS Extended Client
//! convention (the body a pointer, `ExtendedPayloadSize` beside it): followed
//! back to the body wherever the tool reads the dead-letter queue, and
//! deleted with their message when the operator asks.

use std::collections::HashMap;

use hydrate::{ObjectReader, S3Pointer};

use crate::sources::assemble::Message;

/// The largest offloaded body read: a part holding one 10 MiB record, in
/// base64 and with its envelope, is under 14 MiB.
pub const MAX_OFFLOADED_BYTES: usize = 32 * 1024 * 1024;

/// Puts back the body of each message whose body is a pointer, and gives the
/// pointers followed, by message id. A body that cannot be read stays a
/// pointer: the message is then not a document, so it is reported and left
/// in the queue.
pub async fn follow(
    objects: &ObjectReader,
    messages: &mut [Message],
) -> HashMap<String, S3Pointer> {
    let mut followed = HashMap::new();
    for message in messages {
        let Some(pointer) = S3Pointer::from_body(&message.body) else {
            continue;
        };
        let read = objects
            .read(
                &pointer.s3_bucket_name,
                &pointer.s3_key,
                MAX_OFFLOADED_BYTES,
            )
            .await
            .map_err(|e| e.to_string())
            .and_then(|bytes| String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into()));
        match read {
            Ok(body) => {
                message.body = body;
                followed.insert(message.message_id.clone(), pointer);
            }
            // The message id is SQS's own; the pointer is not repeated.
            Err(error) => eprintln!(
                "warning: the offloaded body of message {} could not be read: {error}",
                message.message_id
            ),
        }
    }
    followed
}

/// Deletes the objects of `pointers`; gives how many could not be deleted.
pub async fn delete<'a>(
    objects: &ObjectReader,
    pointers: impl IntoIterator<Item = &'a S3Pointer>,
) -> usize {
    let mut failed = 0;
    for pointer in pointers {
        if let Err(error) = objects
            .delete(&pointer.s3_bucket_name, &pointer.s3_key)
            .await
        {
            eprintln!("warning: an offloaded body could not be deleted: {error}");
            failed += 1;
        }
    }
    failed
}
