//! The places failures are read from: the dead-letter queue ([`queue`],
//! with bodies offloaded to S3 followed back by [`offloaded`] and messages
//! joined into documents by [`assemble`]), files and folders saved on disk
//! ([`saved`]), and either one for `dlq stats` and `dlq report` ([`gather`]).

pub mod assemble;
pub mod bucket;
pub mod document;
pub mod filter;
pub mod gather;
pub mod offloaded;
pub mod queue;
pub mod saved;
