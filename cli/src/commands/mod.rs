//! One module a command; each has a `run` (or, for `dlq`, `list` and
//! `drain`) taking its flags from [`crate::args`].

pub mod dlq;
pub mod doctor;
pub mod failures;
pub mod hydrate;
pub mod redrive;
pub mod replay;
pub mod report;
pub mod show;
pub mod stats;
