//! What the commands print and write: tables, JSON and progress
//! ([`report`]), drain's report and file names ([`drain_report`],
//! [`file_names`]), records as people read them ([`records`]), and the
//! incident page ([`html`]), and the counts `dlq stats` and the page show
//! ([`stats`]).

pub mod drain_report;
pub mod file_names;
pub mod html;
pub mod records;
pub mod report;
pub mod stats;
