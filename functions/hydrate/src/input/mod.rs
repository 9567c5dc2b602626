//! What comes in: an invocation payload (`raw_payload`), its trigger's
//! envelope (`trigger`: SNS, SQS, S3 events, bare records), the on-failure
//! record inside (`failure`) or an S3 on-failure destination's object
//! (`failure_object`), and the values they carry, each held to what AWS
//! allows before anything uses it: stream ARNs (`stream_arn`) in known
//! regions (`regions`), sequence numbers (`sequence`). Every error here is
//! made of field paths and classes (`fault`), never of input text.

pub mod failure;
pub mod failure_object;
pub mod fault;
pub mod raw_payload;
pub mod regions;
pub mod sequence;
pub mod stream_arn;
pub mod trigger;
