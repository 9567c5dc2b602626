//! The token against SigV4 as AWS documents it for query-string signing:
//! the canonical request and the string to sign are rebuilt here from the
//! decoded token, and the signature computed again with a plain HMAC, so a
//! token in any other form fails.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION: &str = "FwoGZXIvYXdzE/session+token=";

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", SECRET, Some(SESSION.into()), None, "test")
}

/// 2026-12-07T00:12:30Z.
fn signing_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_602_350)
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// SigV4's URI encoding: RFC 3986's unreserved characters kept.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The token's URL, and its parameters in order, decoded.
fn decoded(token: &str) -> (String, Vec<(String, String)>) {
    let url = String::from_utf8(URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap();
    let (base, query) = url.split_once('?').unwrap();
    let pairs = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (form_decode(name), form_decode(value))
        })
        .collect();
    (base.to_owned(), pairs)
}

#[test]
fn the_token_is_the_presigned_connect_url_in_base64url() {
    let token = token("us-west-2", &credentials(), signing_time()).unwrap();
    assert!(
        !token.token.contains(['=', '+', '/']),
        "base64url, no padding"
    );
    assert_eq!(token.expires_at, signing_time() + Duration::from_secs(900));
    let (base, pairs) = decoded(&token.token);
    assert_eq!(base, "https://kafka.us-west-2.amazonaws.com/");
    assert_eq!(pairs[0], ("Action".into(), "kafka-cluster:Connect".into()));
    assert_eq!(
        pairs.last().unwrap(),
        &("User-Agent".to_owned(), USER_AGENT.to_owned()),
        "the user agent comes after the signature"
    );
    let params: BTreeMap<_, _> = pairs.into_iter().collect();
    assert_eq!(params["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(
        params["X-Amz-Credential"],
        "AKIDEXAMPLE/20261207/us-west-2/kafka-cluster/aws4_request"
    );
    assert_eq!(params["X-Amz-Date"], "20261207T001230Z");
    assert_eq!(params["X-Amz-Expires"], "900");
    assert_eq!(params["X-Amz-SignedHeaders"], "host");
    assert_eq!(params["X-Amz-Security-Token"], SESSION);
    assert_eq!(params["X-Amz-Signature"].len(), 64);
}

#[test]
fn the_signature_is_sigv4_over_the_documented_canonical_request() {
    let token = token("us-west-2", &credentials(), signing_time()).unwrap();
    let (_, pairs) = decoded(&token.token);
    let signature = pairs
        .iter()
        .find(|(name, _)| name == "X-Amz-Signature")
        .map(|(_, value)| value.clone())
        .unwrap();
    // Every parameter but the signature and the user agent is signed, sorted by name.
    let mut signed: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(name, _)| name != "X-Amz-Signature" && name != "User-Agent")
        .map(|(name, value)| (uri_encode(&name), uri_encode(&value)))
        .collect();
    signed.sort();
    let query: Vec<String> = signed.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let canonical = format!(
        "GET\n/\n{}\nhost:kafka.us-west-2.amazonaws.com\n\nhost\n{}",
        query.join("&"),
        hex(&Sha256::digest(b""))
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n20261207T001230Z\n20261207/us-west-2/kafka-cluster/aws4_request\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = ["20261207", "us-west-2", "kafka-cluster", "aws4_request"]
        .iter()
        .fold(format!("AWS4{SECRET}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes()).to_vec()
        });
    assert_eq!(hex(&hmac(&key, string_to_sign.as_bytes())), signature);
}

#[test]
fn only_a_region_name_becomes_the_host() {
    for region in [
        "",
        "us-east-1.example.com/x",
        "US-EAST-1",
        "us east 1",
        &"a".repeat(33),
    ] {
        assert_eq!(
            token(region, &credentials(), signing_time()).map(|_| ()),
            Err(TokenError::Region),
            "{region:?}"
        );
    }
}

#[tokio::test]
async fn each_connection_signs_with_the_providers_credentials() {
    let provider = SharedCredentialsProvider::new(credentials());
    let bearer = oauth_bearer("eu-west-1".into(), provider);
    let token = (bearer.callback)().await.unwrap();
    let (base, pairs) = decoded(&token);
    assert_eq!(base, "https://kafka.eu-west-1.amazonaws.com/");
    let credential = pairs
        .iter()
        .find(|(name, _)| name == "X-Amz-Credential")
        .map(|(_, value)| value.as_str())
        .unwrap();
    assert!(credential.starts_with("AKIDEXAMPLE/"));
    assert!(credential.ends_with("/eu-west-1/kafka-cluster/aws4_request"));
    assert!(bearer.authz_id.is_none() && bearer.bearer_kvs.is_empty());
}
