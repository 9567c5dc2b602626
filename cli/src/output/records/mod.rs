//! Saved records as people and scripts read them: each record's data as
//! JSON, text or hex ([`data`]), KPL aggregates taken apart ([`view`]), and
//! the lines a whole failure gets in `dlq` and `hydrate` ([`contents`]).

mod contents;
mod data;
mod view;

pub(crate) use contents::dlq_report;
pub use contents::{contents_json, print_contents};
pub use data::DataView;
pub use view::{kpl_counts, print_views, views, KplCounts, RecordView, UserRecordView};

#[cfg(test)]
mod tests;
