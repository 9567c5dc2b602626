//! The HTTPS client every AWS call goes through: the SDK's own (hyper and
//! rustls), built as the SDK builds its default client (the SDK config's
//! connect and read timeouts, its sleep, the proxy named in the environment).
//!
//! Its cryptography is the SDK default's, aws-lc, whose key exchange prefers
//! the post-quantum hybrid X25519MLKEM768, when the `post-quantum-tls`
//! feature is on, as it is for the artefact that ships. Without it, ring
//! (already in the build for Kafka's TLS): the tests' debug builds leave the
//! feature out, sparing each of them aws-lc's large C library.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The client for [`aws_config::ConfigLoader::http_client`] and
/// [`aws_config::SdkConfig`]s built by hand. It keeps a pool of connections
/// for each set of timeouts, so one made at start serves every client.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(crypto()));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

#[cfg(feature = "post-quantum-tls")]
fn crypto() -> CryptoMode {
    CryptoMode::AwsLc
}

#[cfg(not(feature = "post-quantum-tls"))]
fn crypto() -> CryptoMode {
    CryptoMode::Ring
}
