//! The `hydrator` tool as an operator runs it, against the emulators: hydrate, dlq, show,
//! replay, redrive, KPL aggregates, the report page in a browser, and the doctor.
//!
//! One test binary an area, so that the support library and the SDK are linked once for
//! all of the area's modules.

mod cli;
mod cli_habits;
mod doctor;
mod kpl;
mod redrive;
mod replay_consumer;
mod report_page;
mod s3_destination;
