//! The project's own promises, checked without the emulators: the deployment templates and
//! the consumer's wiring, the documentation's links and names, and the source layout.
//!
//! One test binary an area, so that the support library and the SDK are linked once for
//! all of the area's modules.

mod docs;
mod docs_names;
mod infra;
mod infra_wiring;
mod layout;
mod monitoring;
mod template;
