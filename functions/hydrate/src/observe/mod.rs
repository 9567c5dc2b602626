//! What the function tells its operators: JSON log lines (`logging`) and
//! one embedded-metric-format line a document (`metrics`). Neither ever
//! carries record data.

pub mod logging;
pub mod metrics;
