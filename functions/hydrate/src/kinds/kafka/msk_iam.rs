//! The MSK IAM token: how a client proves its IAM identity to an Amazon MSK
//! cluster over SASL/OAUTHBEARER. It is the URL of a `kafka-cluster:Connect`
//! request to `kafka.<region>.amazonaws.com`, presigned with SigV4 for the
//! service `kafka-cluster` and valid for 900 seconds, with a `User-Agent`
//! parameter after the signature, then base64url without padding: the form
//! AWS's signer libraries (`aws-msk-iam-sasl-signer` in Rust, Python and Go,
//! `aws-msk-iam-auth` in Java) produce and MSK's brokers check.
//!
//! Built here with `aws-sigv4`, which the SDK already carries, rather than
//! the signer crate, which brings STS and a date library for a few lines.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rskafka::client::{OauthBearerCredentials, OauthCallback};

/// How long a token is good for, as the signer libraries make it.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);
/// The `User-Agent` parameter: MSK logs it to tell clients apart.
const USER_AGENT: &str = concat!("hydrator-rs/", env!("CARGO_PKG_VERSION"));

/// A signed token and when it stops being accepted.
#[derive(Clone)]
pub struct MskIamToken {
    pub token: String,
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for MskIamToken {
    // The token is a credential for 15 minutes: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MskIamToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why no token was made; the classes, never the signer's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the region is not an AWS region name")]
    Region,
    #[error("the SigV4 signer refused the request")]
    Signing,
    #[error("no credentials for the MSK IAM token")]
    Credentials,
}

/// The token for a cluster in `region`, signed with `credentials` at `now`.
pub fn token(
    region: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<MskIamToken, TokenError> {
    // The region becomes a host name: only a region's characters may pass.
    let region_ok = (1..=32).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(TokenError::Region);
    }
    let mut url = format!("https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("kafka-cluster")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|_| TokenError::Signing)?;
    let request = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|_| TokenError::Signing)?;
    let (instructions, _signature) = sign(request, &params.into())
        .map_err(|_| TokenError::Signing)?
        .into_parts();
    for (name, value) in instructions.params() {
        push_pair(&mut url, name, value);
    }
    push_pair(&mut url, "User-Agent", USER_AGENT);
    Ok(MskIamToken {
        token: URL_SAFE_NO_PAD.encode(url.as_bytes()),
        expires_at: now + TOKEN_LIFETIME,
    })
}

/// The OAUTHBEARER settings for rskafka: each connection asks for a token
/// signed with the function's current credentials (the role's, renewed by
/// the provider as they near their end).
pub fn oauth_bearer(
    region: String,
    credentials: SharedCredentialsProvider,
) -> OauthBearerCredentials {
    let callback: OauthCallback = Arc::new(move || {
        let region = region.clone();
        let credentials = credentials.clone();
        Box::pin(async move {
            let credentials = credentials
                .provide_credentials()
                .await
                .map_err(|_| TokenError::Credentials)?;
            Ok(token(&region, &credentials, SystemTime::now())?.token)
        })
    });
    OauthBearerCredentials {
        callback,
        authz_id: None,
        bearer_kvs: Vec::new(),
    }
}

/// `&name=value`, the value form-encoded as the signer libraries write it.
fn push_pair(url: &mut String, name: &str, value: &str) {
    url.push('&');
    url.push_str(name);
    url.push('=');
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                url.push(byte as char)
            }
            b' ' => url.push('+'),
            // Writing to a String cannot fail.
            _ => {
                let _ = write!(url, "%{byte:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests;
