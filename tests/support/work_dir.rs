//! A test's folder in the temporary folder, for its files and its
//! processes' logs: removed when the test passes, kept when it fails, for a
//! look at what the processes wrote.

use std::path::Path;

/// A new empty folder named `hydrator-{name}-` and a random suffix, removed
/// with what it holds when dropped, pass or fail.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("hydrator-{name}-"))
        .tempdir()
        .expect("create folder")
}

/// A new folder, removed with what it holds when dropped, unless the thread
/// is panicking (an assertion failed): then it stays and its path is printed.
pub struct WorkDir(tempfile::TempDir);

impl WorkDir {
    /// A new empty folder named `{prefix}` and a random suffix.
    pub fn new(prefix: &str) -> WorkDir {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("a work folder");
        WorkDir(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.disable_cleanup(true);
            eprintln!("kept for the failed test: {}", self.0.path().display());
        }
    }
}
