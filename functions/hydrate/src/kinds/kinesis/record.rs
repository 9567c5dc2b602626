//! A Kinesis record as `GetRecords` gives it, its data kept as the base64
//! text of the answer.
//!
//! Lambda's event carries a record's data as base64, and so does the
//! `GetRecords` answer: the text passes through unchanged, never decoded
//! into bytes only to be encoded again, nor copied out of the answer (#27).
//! It is checked to be the one standard, padded encoding of its bytes, so
//! what passes through is what Lambda would have written.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
pub use bytes_utils::Str;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// One record of a shard. Its strings, like its data, are as a rule slices
/// of the answer it came in ([`Str`]), so a record read holds no memory of
/// its own beyond these few words: at 10,000 records of a batch, their own
/// copies of sequence numbers, keys and encryption types took 1.6 MB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    pub sequence_number: Str,
    pub partition_key: Str,
    pub data: Base64Text,
    /// Whole milliseconds since the epoch: Kinesis keeps arrival times to the millisecond.
    pub arrival_millis: Option<i64>,
    pub encryption_type: Option<Str>,
}

/// Standard, padded base64 text that is the encoding of some bytes, kept
/// as a JSON string, quotes and all: as a rule the very slice of the answer
/// it came in, which it keeps alive. It is written out as it is, since
/// base64 has nothing to escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Text {
    quoted: Bytes,
}

/// Text that is not canonical standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("record data is not standard base64")]
pub struct NotBase64;

impl Base64Text {
    /// `quoted`, a JSON string, when what it quotes is what encoding its
    /// bytes gives: the standard alphabet, padded, and no bits set past the
    /// last byte.
    pub fn quoted(quoted: Bytes) -> Result<Self, NotBase64> {
        match &quoted[..] {
            [b'"', text @ .., b'"'] if is_canonical(text) => Ok(Base64Text { quoted }),
            _ => Err(NotBase64),
        }
    }

    /// `text`, when it is canonical base64 (quoted here).
    pub fn new(text: &str) -> Result<Self, NotBase64> {
        Self::quoted(Bytes::from(format!("\"{text}\"")))
    }

    /// The encoding of `bytes`.
    pub fn encode(bytes: &[u8]) -> Self {
        Base64Text {
            quoted: Bytes::from(format!("\"{}\"", STANDARD.encode(bytes))),
        }
    }

    /// The base64 text, without its quotes.
    fn text(&self) -> &[u8] {
        &self.quoted[1..self.quoted.len() - 1]
    }

    /// The text's length.
    pub fn len(&self) -> usize {
        self.text().len()
    }

    pub fn is_empty(&self) -> bool {
        self.text().is_empty()
    }

    /// How many bytes the text encodes, without decoding it.
    pub fn decoded_len(&self) -> usize {
        let text = self.text();
        let padding = text.iter().rev().take(2).filter(|&&b| b == b'=').count();
        text.len() / 4 * 3 - padding
    }
}

impl Serialize for Base64Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written as JSON text that needs no checking: a quoted run of base64
        // digits (checked when it was made) is a JSON string. serde_json's
        // `RawValue` asks its serializer for exactly this (a struct and a
        // field under the name below) but can only be made from a borrowed
        // text by parsing it, a scan of every byte each time a record is
        // measured or written (#27). The test below holds serde_json to it.
        const RAW_VALUE: &str = "$serde_json::private::RawValue";
        // SAFETY: every `Base64Text` is made of canonical base64 (checked by
        // `quoted`, or written by `encode`) in quotes: ASCII, so UTF-8.
        let quoted = unsafe { std::str::from_utf8_unchecked(&self.quoted) };
        let mut raw = serializer.serialize_struct(RAW_VALUE, 1)?;
        raw.serialize_field(RAW_VALUE, quoted)?;
        raw.end()
    }
}

/// The value of a base64 digit (0 to 63), or 0xFF for any other byte.
const DIGITS: [u8; 256] = {
    let mut table = [0xFF; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn is_canonical(text: &[u8]) -> bool {
    if text.len() % 4 != 0 {
        return false;
    }
    let padding = match text {
        [.., b'=', b'='] => 2,
        [.., b'='] => 1,
        _ => 0,
    };
    let digits = &text[..text.len() - padding];
    // Branch-free over blocks, so the check costs a fraction of a copy.
    let invalid = digits
        .chunks(64)
        .map(|block| {
            block
                .iter()
                .fold(0, |seen, &b| seen | DIGITS[usize::from(b)])
        })
        .any(|seen| seen & 0xC0 != 0);
    if invalid {
        return false;
    }
    // Padding leaves bits of the last digit unused; canonical text has them clear.
    let unused = match padding {
        2 => 0b1111,
        1 => 0b11,
        _ => 0,
    };
    digits
        .last()
        .is_none_or(|&last| DIGITS[usize::from(last)] & unused == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_that_is_not_the_encoding_of_bytes_is_refused() {
        for text in [
            "A",
            "AB=",
            "A===",
            "AB$=",
            "QQ",
            "QR==",
            "QUJ=",
            "QUI=\n",
            "QU I=",
            "=QUI",
            "QUJD\u{e9}",
        ] {
            assert_eq!(Base64Text::new(text), Err(NotBase64), "{text:?}");
        }
        for text in ["", "QQ==", "QUI=", "QUJD", "+/+/"] {
            assert!(Base64Text::new(text).is_ok(), "{text:?}");
        }
        for quoted in ["QQ==", "\"QQ==", "QQ==\"", "\"", ""] {
            assert_eq!(
                Base64Text::quoted(Bytes::from(quoted)),
                Err(NotBase64),
                "{quoted:?}"
            );
        }
    }

    #[test]
    fn the_text_is_written_as_it_is_by_each_way_serde_json_writes() {
        #[derive(Serialize)]
        struct Record {
            data: Base64Text,
        }
        let record = Record {
            data: Base64Text::new("QUJD").unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"data":"QUJD"}"#
        );
        assert_eq!(
            serde_json::to_string_pretty(&record).unwrap(),
            "{\n  \"data\": \"QUJD\"\n}"
        );
        assert_eq!(
            serde_json::to_value(&record).unwrap(),
            serde_json::json!({"data": "QUJD"})
        );
        let erased: &dyn erased_serde::Serialize = &record;
        assert_eq!(serde_json::to_string(erased).unwrap(), r#"{"data":"QUJD"}"#);
    }

    proptest! {
        #[test]
        fn encoded_bytes_pass_and_count_as_themselves(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = STANDARD.encode(&bytes);
            let checked = Base64Text::new(&text).expect("an encoding is canonical");
            prop_assert_eq!(serde_json::to_string(&checked).unwrap(), format!("\"{text}\""));
            prop_assert_eq!(checked.decoded_len(), bytes.len());
        }

        #[test]
        fn the_check_agrees_with_a_strict_decoder(text in "[A-Za-z0-9+/=]{0,12}") {
            let decodes = STANDARD.decode(&text).is_ok();
            prop_assert_eq!(Base64Text::new(&text).is_ok(), decodes, "{}", text);
        }
    }
}
