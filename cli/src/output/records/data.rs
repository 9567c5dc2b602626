//! A record's data as a person reads it: pretty JSON when it parses, text
//! when it is UTF-8, hex otherwise.

use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;

/// Data in the form it has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataView {
    /// `json`, `text` or `binary`.
    pub format: &'static str,
    /// The data's whole length.
    pub bytes: usize,
    /// The parsed JSON, the text, or the bytes in hex: at most `max_bytes`
    /// of the data.
    pub value: Value,
    /// Whether `value` holds less than the whole data.
    pub truncated: bool,
}

impl DataView {
    pub fn of(data: &[u8], max_bytes: usize) -> Self {
        let shown = &data[..data.len().min(max_bytes)];
        let truncated = shown.len() < data.len();
        if !truncated {
            if let Ok(json) = serde_json::from_slice::<Value>(data) {
                return Self::new("json", data, json, false);
            }
        }
        // Cut inside a character, the text is still text up to the cut.
        let text = match std::str::from_utf8(shown) {
            Ok(text) => Some(text),
            Err(e) if truncated && e.error_len().is_none() => {
                std::str::from_utf8(&shown[..e.valid_up_to()]).ok()
            }
            Err(_) => None,
        };
        match text {
            Some(text) if !text.is_empty() || data.is_empty() => {
                Self::new("text", data, Value::from(text), truncated)
            }
            _ => Self::new("binary", data, Value::from(hex(shown)), truncated),
        }
    }

    fn new(format: &'static str, data: &[u8], value: Value, truncated: bool) -> Self {
        Self {
            format,
            bytes: data.len(),
            value,
            truncated,
        }
    }

    /// Indented lines: the heading (form and size), then the data.
    pub fn lines(&self, indent: &str) -> String {
        let mut out = format!(
            "{indent}{}, {} byte(s){}:\n",
            self.format,
            self.bytes,
            if self.truncated { ", cut short" } else { "" }
        );
        let body = match (&self.value, self.format) {
            // serde_json escapes control characters inside strings.
            (value, "json") => serde_json::to_string_pretty(value).unwrap_or_default(),
            (Value::String(text), "text") => escaped(text),
            (Value::String(hex), _) => hex_lines(hex),
            _ => String::new(),
        };
        for line in body.lines() {
            let _ = writeln!(out, "{indent}  {line}");
        }
        out
    }
}

/// A Kinesis record's `data`, decoded.
pub fn kinesis_data(kinesis: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(kinesis["data"].as_str()?).ok()
}

/// Text with every control character but newline and tab escaped.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex in lines of 16 bytes, each after its offset.
fn hex_lines(hex: &str) -> String {
    hex.as_bytes()
        .chunks(32)
        .enumerate()
        .map(|(line, chunk)| {
            let pairs: Vec<&str> = chunk
                .chunks(2)
                .map(|pair| std::str::from_utf8(pair).unwrap_or("??"))
                .collect();
            format!("{:08x}  {}\n", line * 16, pairs.join(" "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_shown_as_json_text_or_hex_whichever_it_is() {
        let json = DataView::of(br#"{"order":1,"poison":true}"#, 100);
        assert_eq!(
            (json.format, json.value["poison"].clone()),
            ("json", Value::Bool(true))
        );
        assert!(json.lines("").contains("  \"order\": 1"));
        let text = DataView::of(b"not json {\x1b[2J", 100);
        assert_eq!(text.format, "text");
        let shown = text.lines("");
        assert!(
            shown.contains("not json {\\u{1b}[2J") && !shown.contains('\x1b'),
            "{shown}"
        );
        let binary = DataView::of(&[0xF3, 0x89, 0, 1], 100);
        assert_eq!(
            (binary.format, binary.value.as_str()),
            ("binary", Some("f3890001"))
        );
        assert!(binary.lines("").contains("00000000  f3 89 00 01"));
    }

    #[test]
    fn long_data_is_cut_and_says_so() {
        let long = format!("{{\"text\": \"{}\"}}", "é".repeat(100));
        let view = DataView::of(long.as_bytes(), 16);
        assert_eq!(
            (view.format, view.truncated, view.bytes),
            ("text", true, long.len())
        );
        assert_eq!(view.value, "{\"text\": \"ééé");
        // Cut between the two bytes of an é: the text stops before it.
        assert_eq!(DataView::of(long.as_bytes(), 15).value, "{\"text\": \"éé");
        let binary = DataView::of(&[0xFF; 100], 8);
        assert_eq!(binary.value.as_str().map(str::len), Some(16));
        assert!(binary.truncated);
        assert_eq!(DataView::of(b"", 8).format, "text");
    }
}
