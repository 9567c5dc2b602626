//! What was wrong with an input, said without quoting it.
//!
//! serde's messages quote the values they reject (`invalid type: string
//! "…"`), and a value here may be a partition key, a card number or an
//! attacker's forged log line. So no input error is ever built from a
//! formatted message that held input: only from the class of a JSON error
//! with its position, and from the path of a field the hydrator itself
//! declares. Both are `'static` or numbers, so a leak cannot be written.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// A JSON text that did not parse: serde's class of error and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonFault {
    kind: &'static str,
    line: usize,
    column: usize,
}

impl From<serde_json::Error> for JsonFault {
    fn from(error: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match error.classify() {
            Category::Syntax => "a syntax error (or nesting deeper than 128 levels)",
            Category::Eof => "an unexpected end of input",
            Category::Data => "a value of the wrong type",
            Category::Io => "a read error",
        };
        Self {
            kind,
            line: error.line(),
            column: error.column(),
        }
    }
}

/// How deep input may nest. serde_json stops a parse into `Value` at 128
/// levels, but not one into `RawValue`, which is how records are kept; a
/// record kept deeper than this would make a document that serde_json (and
/// the tool) cannot read back, since the document adds levels around it.
pub const MAX_DEPTH: usize = 100;

impl JsonFault {
    /// Checks that `text` (valid JSON) nests no deeper than [`MAX_DEPTH`].
    pub(crate) fn check_depth(text: &str) -> Result<(), JsonFault> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (index, byte) in text.bytes().enumerate() {
            match (in_string, escaped, byte) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (true, false, b'"') => in_string = false,
                (true, false, _) => {}
                (false, _, b'"') => in_string = true,
                (false, _, b'[' | b'{') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(JsonFault {
                            kind: "nesting deeper than 100 levels",
                            line: 1 + text.as_bytes()[..index]
                                .iter()
                                .filter(|b| **b == b'\n')
                                .count(),
                            column: index - text[..index].rfind('\n').map_or(0, |n| n + 1) + 1,
                        });
                    }
                }
                (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
                (false, _, _) => {}
            }
        }
        Ok(())
    }
}

impl fmt::Display for JsonFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.kind),
            line => write!(f, "{} at line {line}, column {}", self.kind, self.column),
        }
    }
}

/// A field the hydrator reads that is absent or of the wrong JSON type.
/// `path` is the hydrator's own name for it, never a key taken from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldFault {
    pub path: &'static str,
    /// `None` when the field is missing; otherwise what it should have been.
    pub expected: Option<&'static str>,
}

impl FieldFault {
    pub(crate) fn missing(path: &'static str) -> Self {
        Self {
            path,
            expected: None,
        }
    }

    pub(crate) fn not(path: &'static str, expected: &'static str) -> Self {
        Self {
            path,
            expected: Some(expected),
        }
    }
}

impl fmt::Display for FieldFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expected {
            None => write!(f, "`{}` is missing", self.path),
            Some(expected) => write!(f, "`{}` is not {expected}", self.path),
        }
    }
}

/// `value[key]` as a string; null counts as missing.
pub(crate) fn string<'a>(
    value: &'a Value,
    key: &str,
    path: &'static str,
) -> Result<&'a str, FieldFault> {
    match value.get(key) {
        None | Some(Value::Null) => Err(FieldFault::missing(path)),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(FieldFault::not(path, "a string")),
    }
}

/// `value[key]` as an object; null counts as missing.
pub(crate) fn object<'a>(
    value: &'a Value,
    key: &str,
    path: &'static str,
) -> Result<&'a Value, FieldFault> {
    match value.get(key) {
        None | Some(Value::Null) => Err(FieldFault::missing(path)),
        Some(inner @ Value::Object(_)) => Ok(inner),
        Some(_) => Err(FieldFault::not(path, "an object")),
    }
}

/// A JSON object's members in order, duplicates kept, each value exactly as
/// written. Duplicate keys are legal JSON that readers resolve differently
/// (first wins, last wins), so the members that matter are checked for them.
#[derive(Debug)]
pub(crate) struct Members(pub Vec<(String, Box<RawValue>)>);

impl Members {
    /// The members of `text`; `None` when it is valid JSON but no object.
    pub(crate) fn parse(text: &str) -> Result<Option<Self>, JsonFault> {
        if !text.trim_start().starts_with('{') {
            // Parsed for the error class alone: invalid JSON stays an error.
            serde_json::from_str::<serde::de::IgnoredAny>(text)?;
            return Ok(None);
        }
        let members = serde_json::from_str(text)?;
        JsonFault::check_depth(text)?;
        Ok(Some(members))
    }

    /// The one value of `key`: `Err` with the key's name when it occurs twice.
    pub(crate) fn unique(&self, key: &'static str) -> Result<Option<&RawValue>, &'static str> {
        let mut found = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| &**v);
        let first = found.next();
        match found.next() {
            Some(_) => Err(key),
            None => Ok(first),
        }
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// Whether `text` is 1 to `max` characters of `[A-Za-z0-9_.-]`, the pattern
/// AWS gives shard ids, stream names and table names. An identifier that
/// passes may appear in errors and logs: it cannot hold a quote, a space or
/// a line break.
pub(crate) fn is_identifier(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_faults_say_where_but_not_what() {
        let marker = "ZQX\\\"MARK\\u0041ER\"";
        for text in [
            format!("{{\"a\": \"{marker}\" oops}}"),
            format!("{{\"{marker}"),
            format!("[\"{marker}\", tru]"),
        ] {
            let error = serde_json::from_str::<Value>(&text).unwrap_err();
            let fault = JsonFault::from(error).to_string();
            assert!(!fault.contains("ZQX"), "{fault}");
            assert!(fault.contains("line 1"), "{fault}");
        }
        let data = serde_json::from_str::<u32>("\"ZQX\"").unwrap_err();
        assert!(!JsonFault::from(data).to_string().contains("ZQX"));
    }

    #[test]
    fn nesting_is_bounded_outside_strings_only() {
        let deep = |n: usize| format!("{{\"a\": {}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(Members::parse(&deep(MAX_DEPTH - 1)).is_ok());
        let error = Members::parse(&deep(MAX_DEPTH)).unwrap_err();
        assert!(error.to_string().contains("nesting deeper"), "{error}");
        let in_string = format!("{{\"a\": \"{}\\\"{}\"}}", "[".repeat(500), "{".repeat(500));
        assert!(Members::parse(&in_string).is_ok());
    }

    #[test]
    fn members_keep_duplicates_and_exact_values() {
        let members = Members::parse(r#"{"a": 1.50, "b": {"x": "y"}, "a": 2}"#)
            .unwrap()
            .unwrap();
        assert_eq!(members.0.len(), 3);
        assert_eq!(members.0[0].1.get(), "1.50");
        assert_eq!(members.unique("a").unwrap_err(), "a");
        assert_eq!(
            members.unique("b").unwrap().map(RawValue::get),
            Some(r#"{"x": "y"}"#)
        );
        assert!(members.unique("c").unwrap().is_none());
        assert!(Members::parse("[1]").unwrap().is_none());
        assert!(Members::parse("[1").is_err());
        assert!(Members::parse("{\"a\": ").is_err());
    }

    #[test]
    fn fields_are_named_by_their_declared_path() {
        let value: Value = serde_json::json!({"s": "t", "n": 5, "o": {}, "z": null});
        assert_eq!(string(&value, "s", "s"), Ok("t"));
        assert_eq!(
            string(&value, "n", "x.n").unwrap_err().to_string(),
            "`x.n` is not a string"
        );
        assert_eq!(
            string(&value, "z", "z").unwrap_err().to_string(),
            "`z` is missing"
        );
        assert!(object(&value, "o", "o").is_ok());
        assert_eq!(
            object(&value, "s", "s").unwrap_err().expected,
            Some("an object")
        );
    }

    #[test]
    fn identifiers_have_the_aws_pattern() {
        assert!(is_identifier("shardId-000000000001", 1, 128));
        assert!(!is_identifier("", 1, 128));
        assert!(!is_identifier(&"a".repeat(129), 1, 128));
        for bad in ["a b", "a\nb", "a\"b", "a/b", "é"] {
            assert!(!is_identifier(bad, 1, 128), "{bad}");
        }
    }
}
