//! A Kafka broker reached over TLS only (`support/kafka/tls_front.py`: a
//! tansu broker of its own behind a TLS front, with a certificate authority
//! made for the test process), for reading over TLS as MSK's listeners
//! require, and with a client certificate where the front asks for one.
//!
//! Every broker of a process chains to one authority, so the one trusted-roots
//! file (`SSL_CERT_FILE`, read once a process) serves every test; its folder
//! is removed when the process exits, and each broker's when it is dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::workspace_root;

/// The broker and its front, killed on drop; then its folder (server
/// certificate, the broker's log) is removed.
pub struct TlsBroker {
    /// `127.0.0.1:PORT`: the front, the only address the broker advertises.
    pub bootstrap: String,
    /// The certificate authority the front's certificate chains to.
    pub ca: PathBuf,
    /// A client certificate that authority signed, and its key (PEM).
    pub client_certificate: PathBuf,
    pub client_key: PathBuf,
    // Dropped in this order: the front (and with it the broker) before its folder.
    _front: tokio::process::Child,
    _dir: tempfile::TempDir,
}

/// The folder of the process's certificate authority, once made.
static AUTHORITY: OnceLock<PathBuf> = OnceLock::new();

/// Removes the authority's folder; registered with `atexit`, as a static is
/// never dropped and any test of the process may still use the folder.
extern "C" fn remove_authority() {
    if let Some(folder) = AUTHORITY.get() {
        std::fs::remove_dir_all(folder).ok();
    }
}

/// The process's certificate authority, made on first use and removed when
/// the process exits.
fn authority() -> &'static Path {
    AUTHORITY.get_or_init(|| {
        let root = workspace_root();
        let folder = tempfile::Builder::new()
            .prefix("hydrator-kafka-ca-")
            .tempdir()
            .expect("a folder for the test authority")
            .keep();
        // SAFETY: `remove_authority` is a plain function that touches only
        // the static above; registering it has no other precondition.
        let registered = unsafe { libc::atexit(remove_authority) };
        assert_eq!(
            registered, 0,
            "the authority's removal at exit is registered"
        );
        let made = std::process::Command::new(root.join(".tools/venv/bin/python"))
            .arg(root.join("tests/support/kafka/tls_front.py"))
            .arg("--make-ca")
            .arg(&folder)
            .status()
            .expect("run tls_front.py (scripts/tools.sh installs .tools/venv)");
        assert!(made.success(), "the test authority is made");
        folder
    })
}

impl TlsBroker {
    /// A front that takes any TLS client.
    pub async fn start() -> TlsBroker {
        Self::start_with(false).await
    }

    /// A front that takes only clients with a certificate the authority signed.
    pub async fn start_mutual() -> TlsBroker {
        Self::start_with(true).await
    }

    /// A TLS front, with a certificate the same authority signed, before a
    /// plaintext service already listening on `port` (an emulator): for
    /// calls that must go over TLS. `bootstrap` is then the front's address.
    pub async fn front_to(port: u16) -> TlsBroker {
        Self::spawn(&["--to".into(), port.to_string().into()], false).await
    }

    async fn start_with(mutual: bool) -> TlsBroker {
        let tansu = workspace_root().join(".tools/kafka/bin/tansu");
        Self::spawn(&[tansu.into_os_string()], mutual).await
    }

    async fn spawn(what: &[std::ffi::OsString], mutual: bool) -> TlsBroker {
        let authority = authority();
        let root = workspace_root();
        let dir = tempfile::Builder::new()
            .prefix("hydrator-kafka-tls-")
            .tempdir()
            .expect("a folder for the TLS front");
        let mut front = tokio::process::Command::new(root.join(".tools/venv/bin/python"))
            .arg(root.join("tests/support/kafka/tls_front.py"))
            .args(what)
            .arg(dir.path())
            .arg("--ca")
            .arg(authority)
            .args(mutual.then_some("--mutual"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the TLS front (scripts/tools.sh installs .tools/venv and tansu)");
        let mut line = String::new();
        let stdout = front.stdout.take().expect("piped stdout");
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the TLS front starts within a minute")
        .expect("read its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("the TLS front printed no port: {line:?}"));
        TlsBroker {
            bootstrap: format!("127.0.0.1:{port}"),
            ca: authority.join("ca.pem"),
            client_certificate: authority.join("client.pem"),
            client_key: authority.join("client.key"),
            _front: front,
            _dir: dir,
        }
    }
}
