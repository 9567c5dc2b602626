//! `SendMessageBatch` requests with each message body written into the
//! request once.
//!
//! The SDK copies every body into its entry and then escapes it into the
//! request's JSON a byte at a time: for a 10,000-record document that escape
//! alone was a third of an invocation's CPU (#27). So the entries go to the
//! SDK with a placeholder for a body ([`MessageBodies::take`]), and once the
//! SDK has written the request, before it is signed, an interceptor puts
//! each body in place of its placeholder, escaped as a JSON string. A body is
//! a document that serde_json wrote: its only characters to escape are
//! quotes and backslashes, found with `memchr` between long runs copied
//! whole. The queue receives the same request but for how a character is
//! escaped. A retried attempt starts again from the request with
//! placeholders, so it is spliced again.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

/// The bodies of one call's entries, taken out of them, and the
/// placeholders left in their place.
pub struct MessageBodies {
    /// Random for each call, so no text of a body or an attribute can pass for a placeholder.
    marker: String,
    bodies: Vec<String>,
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
    /// Takes each entry's body, leaving a placeholder.
    pub fn take(entries: &mut [SendMessageBatchRequestEntry]) -> Self {
        let marker = format!(
            "hydrator-message-body-{:016x}{:016x}-",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        let bodies = entries
            .iter_mut()
            .enumerate()
            .map(|(index, entry)| {
                std::mem::replace(&mut entry.message_body, format!("{marker}{index}"))
            })
            .collect();
        MessageBodies { marker, bodies }
    }

    /// `request` (JSON holding each placeholder once, as a string, in
    /// entry order) with each body written in place of its placeholder.
    fn splice(&self, request: &[u8]) -> Result<Vec<u8>, PlaceholderMissing> {
        let bodies: usize = self.bodies.iter().map(String::len).sum();
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

/// Writes `text` as a JSON string, quoted and escaped.
fn write_string(out: &mut Vec<u8>, text: &str) {
    // Text without control characters (any document serde_json wrote) needs
    // only its quotes and backslashes escaped; the least byte says which.
    let least = text.bytes().fold(u8::MAX, u8::min);
    if least < 0x20 {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
        return;
    }
    out.push(b'"');
    let mut rest = text.as_bytes();
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
    use serde_json::Value;

    fn entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
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
        let mut entries: Vec<_> = (0..11)
            .map(|i| entry(&format!("part-{}", i + 1), bodies[i % bodies.len()]))
            .collect();
        let taken = MessageBodies::take(&mut entries);
        assert!(entries
            .iter()
            .all(|e| e.message_body.starts_with(&taken.marker)));
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

    proptest::proptest! {
        #[test]
        fn a_body_is_written_as_serde_json_writes_it(text in "(\\PC|[\"\\\\\u{0}-\u{1f}]){0,40}") {
            let mut written = Vec::new();
            write_string(&mut written, &text);
            proptest::prop_assert_eq!(written, serde_json::to_vec(&text).unwrap());
        }
    }

    #[test]
    fn a_request_without_a_placeholder_is_refused() {
        let mut entries = vec![entry("part-1", "a"), entry("part-2", "b")];
        let taken = MessageBodies::take(&mut entries);
        let request = format!(
            r#"{{"Entries":[{{"MessageBody":"{}"}}]}}"#,
            entries[0].message_body
        );
        let error = taken.splice(request.as_bytes()).unwrap_err();
        assert_eq!(error.0, 1);
    }
}
