//! What a failure document says about its batch, read the same way by every
//! source and every report: the batch info of its on-failure record, and the
//! name of its stream.

use hydrate::StreamArn;
use serde_json::Value;

/// `KinesisBatchInfo` or `DDBStreamBatchInfo`, whichever the record has.
pub fn batch_info(failure: &Value) -> Option<&Value> {
    failure
        .as_object()?
        .iter()
        .find(|(key, _)| key.ends_with("BatchInfo"))
        .map(|(_, v)| v)
}

/// `orders` from `arn:...:stream/orders` or `arn:...:table/orders/stream/2026-...`;
/// anything that is not a stream ARN is named by its length alone, since a
/// document's text may be forged.
pub fn stream_name(arn: &str) -> String {
    StreamArn::parse(arn).map_or_else(
        |_| format!("(not a stream ARN, {} bytes)", arn.len()),
        |a| a.name().to_owned(),
    )
}
