//! `GetRecords` answers read from their own JSON text.
//!
//! The SDK would parse each answer into its own records, decoding every
//! record's data from base64, only for the document to encode the same bytes
//! into the same text again: at 10,000 records those passes were most of an
//! invocation's CPU (#27). So the `GetRecords` call carries an interceptor
//! ([`RawAnswer`]) that takes a successful answer's body as it arrives, up
//! to a bound, and hands the SDK an empty answer in its place; the body is
//! then read here, each record keeping its data as the text Kinesis sent.
//! An error answer is left to the SDK, which classifies it as for any call,
//! and the body is still read within the SDK's timeouts and retries.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body::{Body, Frame};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

use super::record::{Base64Text, KinesisRecord, Str};
use crate::read::{Page, StreamError};

/// The largest answer body taken. A page holds at most 10 MiB of data
/// (about 14 MB as base64) in at most 10,000 records, whose sequence
/// numbers, partition keys and field names add at most about 5 MB.
pub const MAX_ANSWER_BYTES: usize = 20 * 1024 * 1024;

/// What the SDK parses in place of a successful answer: no records.
const EMPTY_ANSWER: &[u8] = b"{}";

/// Takes the body of one call's successful answer. Made afresh for each
/// call; a retried call's later answer replaces an earlier one.
#[derive(Clone, Default)]
pub struct RawAnswer(Arc<Mutex<Option<Vec<u8>>>>);

/// Names itself only: the SDK may log an interceptor, and the body holds records.
impl std::fmt::Debug for RawAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawAnswer")
    }
}

impl RawAnswer {
    /// The body taken, once the call has returned.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok()?.take()
    }
}

impl Intercept for RawAnswer {
    fn name(&self) -> &'static str {
        "RawAnswer"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        if !response.status().is_success() {
            return Ok(());
        }
        // Made once at its full size: grown by doubling, a 14 MB answer
        // would be copied along the way and held twice over.
        let capacity = response
            .headers()
            .get("content-length")
            .and_then(|len| len.parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_ANSWER_BYTES);
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(Capture {
            inner: body,
            taken: Vec::with_capacity(capacity),
            slot: self.0.clone(),
            finished: false,
        });
        Ok(())
    }
}

/// The body the SDK reads: the answer's bytes go to the slot, and the SDK
/// sees [`EMPTY_ANSWER`] once they are all in.
struct Capture {
    inner: SdkBody,
    taken: Vec<u8>,
    slot: Arc<Mutex<Option<Vec<u8>>>>,
    finished: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the GetRecords answer is over {MAX_ANSWER_BYTES} bytes")]
struct AnswerTooLarge;

impl Body for Capture {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if this.taken.len() + data.len() > MAX_ANSWER_BYTES {
                            return Poll::Ready(Some(Err(AnswerTooLarge.into())));
                        }
                        this.taken.extend_from_slice(&data);
                    }
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    let body = std::mem::take(&mut this.taken);
                    if let Ok(mut slot) = this.slot.lock() {
                        *slot = Some(body);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(EMPTY_ANSWER)))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer<'a> {
    #[serde(default, borrow)]
    records: Vec<AnswerRecord<'a>>,
    next_shard_iterator: Option<String>,
    millis_behind_latest: Option<i64>,
}

/// The strings are borrowed from the answer unless they hold an escape
/// (Kinesis writes none in sequence numbers or data, `\/` being the only
/// one base64 could hold).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AnswerRecord<'a> {
    #[serde(borrow)]
    sequence_number: Text<'a>,
    /// Epoch seconds.
    approximate_arrival_timestamp: Option<f64>,
    #[serde(borrow)]
    data: Text<'a>,
    // Kinesis always sends one; the model has it optional.
    #[serde(borrow, default)]
    partition_key: Option<Text<'a>>,
    #[serde(borrow, default)]
    encryption_type: Option<Text<'a>>,
}

/// A JSON string of the answer: borrowed where it holds no escape, which
/// `Cow<str>` is only as a field of its own, not within an `Option`.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl Text<'_> {
    /// The text as a slice of `body` where it is one, else as its own.
    fn within(self, body: &Bytes) -> Str {
        match self.0 {
            // Borrowed text lies within `body`, and is UTF-8: neither fails.
            Cow::Borrowed(text) => {
                Str::try_from(body.slice_ref(text.as_bytes())).unwrap_or_else(|_| Str::from(text))
            }
            Cow::Owned(text) => Str::from(text),
        }
    }
}

/// The page a `GetRecords` answer's body holds. Each record's data is a
/// slice of `body`, which lives until the last of them is let go.
pub fn page(body: Bytes) -> Result<Page<KinesisRecord>, StreamError> {
    let answer: Answer = serde_json::from_slice(&body).map_err(|e| {
        StreamError::Service(format!(
            "the GetRecords answer is not valid ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let records = answer
        .records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let data = match record.data.0 {
                Cow::Borrowed(text) => Base64Text::quoted(quoted_in(&body, text)),
                Cow::Owned(text) => Base64Text::new(&text),
            };
            let data = data.map_err(|e| {
                StreamError::Service(format!(
                    "the GetRecords answer's Records[{index}].Data: {e}"
                ))
            })?;
            Ok(KinesisRecord {
                sequence_number: record.sequence_number.within(&body),
                partition_key: record
                    .partition_key
                    .map_or_else(Str::new, |key| key.within(&body)),
                data,
                arrival_millis: record.approximate_arrival_timestamp.and_then(millis),
                encryption_type: record.encryption_type.map(|text| text.within(&body)),
            })
        })
        .collect::<Result<_, StreamError>>()?;
    Ok(Page {
        records,
        next_iterator: answer.next_shard_iterator,
        millis_behind_latest: answer.millis_behind_latest,
    })
}

/// The JSON string of `body` whose contents, without an escape, are `text`:
/// a slice of `body` from quote to quote.
fn quoted_in(body: &Bytes, text: &str) -> Bytes {
    // Borrowed text lies within `body`; its quotes lie either side of it.
    let start = text.as_ptr() as usize - body.as_ptr() as usize;
    body.slice(start.saturating_sub(1)..(start + text.len() + 1).min(body.len()))
}

/// Epoch seconds, as the answer writes them, to the nearest whole
/// millisecond: `1545084650.987` is 1545084650987 ms, though the double
/// nearest it lies just below. `None` for a number no time can be.
fn millis(seconds: f64) -> Option<i64> {
    let millis = (seconds * 1000.0).round();
    (millis.is_finite() && millis.abs() < 1e17).then_some(millis as i64)
}

#[cfg(test)]
mod tests;
