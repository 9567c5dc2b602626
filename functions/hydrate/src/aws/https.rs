//! The HTTPS client every AWS call goes through: the SDK's own (hyper and
//! rustls), with ring for its cryptography instead of the SDK's default,
//! aws-lc. ring is in the build already for Kafka's TLS; aws-lc would add a
//! large C library to every build of the function, the tool and the tests.
//!
//! Built as the SDK builds its default client: the SDK config's connect and
//! read timeouts, its sleep, and the proxy named in the environment.

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
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
