//! A record's data as a person reads it: pretty JSON when it parses, text
//! when it is UTF-8, hex otherwise; and a record as lines of text.

use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::RecordView;

/// How much of one record's data is shown unless `--max-bytes` says otherwise.
pub const DEFAULT_MAX_BYTES: usize = 4096;

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
    fn lines(&self, indent: &str) -> String {
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

/// A key as a quoted string, control characters escaped.
fn quoted(key: &str) -> String {
    format!("{key:?}")
}

/// One record as a person reads it.
pub fn record_text(view: &RecordView) -> String {
    let mut out = format!("record {}", view.index);
    if let Some(seq) = &view.sequence_number {
        let _ = write!(out, "  sequence {}", crate::report::printable(seq));
    }
    if let Some(key) = &view.partition_key {
        let _ = write!(out, "  partition key {}", quoted(key));
    }
    out.push('\n');
    if let Some(error) = &view.error {
        let _ = writeln!(out, "  not shown: {error}");
    }
    if let Some(change) = &view.dynamodb {
        for line in serde_json::to_string_pretty(change)
            .unwrap_or_default()
            .lines()
        {
            let _ = writeln!(out, "  {line}");
        }
    }
    if let Some(error) = &view.kpl_error {
        let _ = writeln!(
            out,
            "  starts with the KPL magic but is not an aggregate ({error}): shown as raw data"
        );
    }
    if let Some(data) = &view.data {
        out += &data.lines("  ");
    }
    if let Some(users) = &view.user_records {
        let _ = writeln!(out, "  KPL aggregate of {} user record(s)", users.len());
        for user in users {
            let _ = write!(
                out,
                "  user record {}  partition key {}",
                user.index,
                quoted(&user.partition_key)
            );
            if let Some(hash_key) = &user.explicit_hash_key {
                let _ = write!(out, "  explicit hash key {}", quoted(hash_key));
            }
            out.push('\n');
            out += &user.data.lines("    ");
        }
    }
    out
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
