//! `SendMessageBatch` requests with each message body written into the
//! request once.
//!
//! The SDK would take a copy of every body in its entry and then escape it
//! into the request's JSON a byte at a time: for a 10,000-record document
//! that escape alone was a third of an invocation's CPU (#27), and the
//! copies a megabyte held beside the parts. So the entries go to the SDK
//! with a placeholder for a body ([`MessageBodies::add`]), the bodies
//! themselves shared with the parts, not copied; once the SDK has written
//! the request, before it is signed, an interceptor puts each body in place
//! of its placeholder, escaped as a JSON string. A body is a document that
//! serde_json wrote: its only characters to escape are quotes and
//! backslashes, found with `memchr` between long runs copied whole. The
//! queue receives the same request but for how a character is escaped. A
//! retried attempt starts again from the request with placeholders, so it is
//! spliced again.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;

/// The bodies of one call's entries, and the placeholders that stand for
/// them in the entries.
pub struct MessageBodies {
    /// Random for each call, so no text of a body or an attribute can pass for a placeholder.
    marker: String,
    bodies: Vec<Bytes>,
}

/// Says how many bodies, never what they hold: the SDK may log an
/// interceptor, and a body is a document of records.
impl std::fmt::Debug for MessageBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBodies")
            .field("bodies", &self.bodies.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the SendMessageBatch request lost the placeholder of entry {0}")]
struct PlaceholderMissing(usize);

impl MessageBodies {
    pub fn new() -> Self {
        MessageBodies {
            marker: format!(
                "hydrator-message-body-{:016x}{:016x}-",
                fastrand::u64(..),
                fastrand::u64(..)
            ),
            bodies: Vec::new(),
        }
    }

    /// Keeps `body` (UTF-8 text, shared rather than copied) for the next
    /// entry, and returns the placeholder to give that entry as its body.
    /// Entries must go into the request in the order of their bodies.
    pub fn add(&mut self, body: Bytes) -> String {
        let placeholder = format!("{}{}", self.marker, self.bodies.len());
        self.bodies.push(body);
        placeholder
    }

    /// The body that `placeholder` stands for: what the queue receives in
    /// its place.
    pub fn body_of(&self, placeholder: &str) -> Option<&Bytes> {
        let index: usize = placeholder.strip_prefix(&self.marker)?.parse().ok()?;
        self.bodies.get(index)
    }

    /// `request` (JSON holding each placeholder once, as a string, in
    /// entry order) with each body written in place of its placeholder.
    fn splice(&self, request: &[u8]) -> Result<Vec<u8>, PlaceholderMissing> {
        let bodies: usize = self.bodies.iter().map(Bytes::len).sum();
        // Room for the escapes of a JSON document: about one in eight characters.
        let mut spliced = Vec::with_capacity(request.len() + bodies + bodies / 8);
        let mut rest = request;
        for (index, body) in self.bodies.iter().enumerate() {
            let placeholder = format!("\"{}{index}\"", self.marker);
            let at = find(rest, placeholder.as_bytes()).ok_or(PlaceholderMissing(index))?;
            spliced.extend_from_slice(&rest[..at]);
            write_string(&mut spliced, body);
            rest = &rest[at + placeholder.len()..];
        }
        spliced.extend_from_slice(rest);
        Ok(spliced)
    }
}

/// Writes `text` (UTF-8) as a JSON string, quoted and escaped.
fn write_string(out: &mut Vec<u8>, text: &[u8]) {
    // Text without control characters (any document serde_json wrote) needs
    // only its quotes and backslashes escaped; the least byte says which.
    let least = text.iter().fold(u8::MAX, |least, &b| least.min(b));
    if least < 0x20 {
        // Writing a string into a Vec cannot fail, and a body is UTF-8 (a
        // part's text); lossy only for what would not be.
        let _ = serde_json::to_writer(&mut *out, &String::from_utf8_lossy(text));
        return;
    }
    out.push(b'"');
    let mut rest = text;
    while let Some(at) = memchr::memchr2(b'"', b'\\', rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(&[b'\\', rest[at]]);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

impl Intercept for MessageBodies {
    fn name(&self) -> &'static str {
        "MessageBodies"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let spliced = match request.body().bytes() {
            Some(written) => self.splice(written)?,
            None => return Err("the SendMessageBatch request body is not in memory".into()),
        };
        request
            .headers_mut()
            .insert("content-length", spliced.len().to_string());
        *request.body_mut() = SdkBody::from(spliced);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    use serde_json::Value;

    fn entry(id: &str, body: String) -> SendMessageBatchRequestEntry {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .unwrap()
    }

    #[test]
    fn each_body_takes_its_placeholders_place_and_means_the_same() {
        let bodies = [
            r#"{"Records":[{"data":"AAEC"}],"quote":"\"","tab":"	"}"#,
            "plain",
            "\u{1}\u{1f}\\ \u{e9}\u{1F600}",
            "",
            "the marker's text: hydrator-message-body-",
        ];
        let mut taken = MessageBodies::new();
        let entries: Vec<_> = (0..11)
            .map(|i| {
                let body = Bytes::from_static(bodies[i % bodies.len()].as_bytes());
                entry(&format!("part-{}", i + 1), taken.add(body))
            })
            .collect();
        for (i, e) in entries.iter().enumerate() {
            assert!(e.message_body.starts_with(&taken.marker));
            let body = taken.body_of(&e.message_body).unwrap();
            assert_eq!(body, bodies[i % bodies.len()].as_bytes());
        }
        assert!(taken.body_of("plain").is_none());
        // The request as the SDK writes it: entries in order, placeholders as strings.
        let request = serde_json::json!({
            "QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
            "Entries": entries
                .iter()
                .map(|e| serde_json::json!({"Id": e.id, "MessageBody": e.message_body}))
                .collect::<Vec<_>>(),
        });
        let spliced = taken.splice(request.to_string().as_bytes()).unwrap();
        let spliced: Value = serde_json::from_slice(&spliced).unwrap();
        for (i, entry) in spliced["Entries"].as_array().unwrap().iter().enumerate() {
            assert_eq!(entry["Id"], format!("part-{}", i + 1));
            assert_eq!(entry["MessageBody"], bodies[i % bodies.len()], "entry {i}");
        }
    }

    #[test]
    fn a_body_is_shared_with_its_part_not_copied() {
        let part = Bytes::from(vec![b'x'; 4096]);
        let mut taken = MessageBodies::new();
        let placeholder = taken.add(part.clone());
        assert_eq!(taken.body_of(&placeholder).unwrap().as_ptr(), part.as_ptr());
    }

    proptest::proptest! {
        #[test]
        fn a_body_is_written_as_serde_json_writes_it(text in "(\\PC|[\"\\\\\u{0}-\u{1f}]){0,40}") {
            let mut written = Vec::new();
            write_string(&mut written, text.as_bytes());
            proptest::prop_assert_eq!(written, serde_json::to_vec(&text).unwrap());
        }
    }

    #[test]
    fn a_request_without_a_placeholder_is_refused() {
        let mut taken = MessageBodies::new();
        let first = taken.add(Bytes::from_static(b"a"));
        taken.add(Bytes::from_static(b"b"));
        let request = format!(r#"{{"Entries":[{{"MessageBody":"{first}"}}]}}"#);
        let error = taken.splice(request.as_bytes()).unwrap_err();
        assert_eq!(error.0, 1);
    }
}
