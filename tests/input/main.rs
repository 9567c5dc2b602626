//! Every way a failure arrives: the triggers over the wire (SNS, SQS, direct, Pipes, S3),
//! the saved events in `events/`, and the real binary under the Lambda runtime interface.
//!
//! One test binary an area, so that the support library and the SDK are linked once for
//! all of the area's modules.

mod events;
mod runtime_interface;
mod triggers;
