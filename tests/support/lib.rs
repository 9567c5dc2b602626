//! What the integration tests, the demo and the benchmark share: the way to
//! the emulators, streams and tables to write failed batches into, on-failure records
//! built as an event source mapping builds them, and a Lambda runtime API host
//! that runs the real `hydrate` binary.

pub mod cargo_lambda;
pub mod check;
pub mod cli;
pub mod emf;
pub mod emulator;
pub mod failure;
pub mod fault_proxy;
pub mod hostile;
pub mod invoke_api;
pub mod kafka;
pub mod kafka_broker;
pub mod kafka_tls;
pub mod layout;
pub mod pipeline;
pub mod ports;
pub mod powertools;
pub mod queue;
pub mod redrive;
pub mod runtime_api;
pub mod stream;
pub mod table;
pub mod work_dir;

/// The workspace root, for the tools installed under `.tools/`.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}
