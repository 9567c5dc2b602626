//! Loopback ports for the processes the tests start themselves (cargo lambda
//! watch, a tansu broker of a test's own): one free to listen on, and the
//! wait until the process listens there.

use std::time::{Duration, Instant};

/// A port free on 127.0.0.1 now (the process started next binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until something listens on 127.0.0.1:`port`; panics naming `what`
/// after `timeout`.
pub async fn wait_for_port(port: u16, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
