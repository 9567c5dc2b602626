//! A Kafka broker reached over TLS only (`support/kafka/tls_front.py`: a
//! tansu broker of its own behind a TLS front, with a certificate authority
//! made for the test), for reading over TLS as MSK's listeners require.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::workspace_root;

/// The broker and its front, killed on drop.
pub struct TlsBroker {
    /// `127.0.0.1:PORT`: the front, the only address the broker advertises.
    pub bootstrap: String,
    /// The certificate authority the front's certificate chains to.
    pub ca: PathBuf,
    _front: tokio::process::Child,
}

impl TlsBroker {
    pub async fn start() -> TlsBroker {
        let root = workspace_root();
        let dir = std::env::temp_dir().join(format!(
            "hydrator-kafka-tls-{}",
            crate::stream::unique_suffix()
        ));
        let mut front = tokio::process::Command::new(root.join(".tools/venv/bin/python"))
            .arg(root.join("tests/support/kafka/tls_front.py"))
            .arg(root.join(".tools/kafka/bin/tansu"))
            .arg(&dir)
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
            ca: dir.join("ca.pem"),
            _front: front,
        }
    }
}
