//! The invocation payload, byte for byte, whatever it is.
//!
//! The runtime parses each payload into the handler's type before the handler
//! runs, and answers one that is not JSON (cut short, not UTF-8) with an
//! error of its own, whose class is the runtime's and whose message quotes
//! the parser. The hydrator classifies every payload itself
//! ([`crate::input::trigger::parse`]), so this layer, placed in front of that
//! parse, wraps the body in a JSON string of its base64, which always parses,
//! and [`RawPayload`] unwraps it: the handler gets exactly the bytes sent.

use std::task::{Context, Poll};

use base64::Engine;
use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::LambdaInvocation;
use serde::{Deserialize, Deserializer};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The payload as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPayload(pub Vec<u8>);

impl<'de> Deserialize<'de> for RawPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wrapped = <&str>::deserialize(deserializer)?;
        BASE64
            .decode(wrapped)
            .map(RawPayload)
            .map_err(|_| serde::de::Error::custom("the payload layer's wrapping is not base64"))
    }
}

/// Wraps each invocation's body for [`RawPayload`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RawPayloadLayer;

impl<S> Layer<S> for RawPayloadLayer {
    type Service = RawPayloadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RawPayloadService(inner)
    }
}

pub struct RawPayloadService<S>(S);

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for RawPayloadService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        invocation.body = wrap(&invocation.body).into();
        self.0.call(invocation)
    }
}

fn wrap(body: &[u8]) -> Vec<u8> {
    let mut wrapped = Vec::with_capacity(body.len() / 3 * 4 + 8);
    wrapped.push(b'"');
    wrapped.extend_from_slice(BASE64.encode(body).as_bytes());
    wrapped.push(b'"');
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_survive_the_wrapping() {
        for body in [
            &b""[..],
            b"{",
            b"\xff\xfe",
            b"{\"Records\": []}",
            &[0u8; 1000],
        ] {
            let wrapped = wrap(body);
            let payload: RawPayload = serde_json::from_slice(&wrapped).unwrap();
            assert_eq!(payload.0, body);
        }
    }
}
