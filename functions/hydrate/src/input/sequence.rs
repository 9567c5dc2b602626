//! Stream sequence numbers as ordered decimal strings.
//!
//! Kinesis sequence numbers have up to 129 digits and DynamoDB Streams ones are
//! shorter; neither fits a machine integer, so they are kept as validated
//! strings and ordered the way decimals order: by length, then digit by digit.
//! The only arithmetic the hydrator needs is "one more" and "one less", to name
//! the inclusive bounds of a gap between two records it did read.

use std::cmp::Ordering;
use std::fmt;

/// The longest sequence number the services accept (`0|([1-9]\d{0,128})`).
pub const MAX_DIGITS: usize = 129;

/// A non-negative decimal sequence number without leading zeros.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SequenceNumber(String);

/// Why a string is not a sequence number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceNumberError {
    #[error("is empty")]
    Empty,
    #[error("has {0} digits, more than the {MAX_DIGITS} a stream allows")]
    TooLong(usize),
    #[error("is not a decimal number")]
    NotDecimal,
    #[error("has a leading zero")]
    LeadingZero,
}

impl SequenceNumber {
    /// Accepts exactly the pattern the stream APIs document: `0|([1-9]\d{0,128})`.
    pub fn parse(text: &str) -> Result<Self, SequenceNumberError> {
        validate(text)?;
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The next number up. It may have one digit more than `MAX_DIGITS` when
    /// every digit is a nine; it only ever names a gap bound, never a request.
    pub fn successor(&self) -> Self {
        let mut digits = self.0.clone().into_bytes();
        for d in digits.iter_mut().rev() {
            if *d == b'9' {
                *d = b'0';
            } else {
                *d += 1;
                return Self(into_string(digits));
            }
        }
        digits.insert(0, b'1');
        Self(into_string(digits))
    }

    /// The next number down, or `None` for zero.
    pub fn predecessor(&self) -> Option<Self> {
        if self.0 == "0" {
            return None;
        }
        let mut digits = self.0.clone().into_bytes();
        for d in digits.iter_mut().rev() {
            if *d == b'0' {
                *d = b'9';
            } else {
                *d -= 1;
                break;
            }
        }
        if digits.len() > 1 && digits[0] == b'0' {
            digits.remove(0);
        }
        Some(Self(into_string(digits)))
    }

    /// Orders a raw sequence number from a service response against this one
    /// without allocating; the response is trusted to be a decimal string.
    pub fn cmp_str(&self, other: &str) -> Ordering {
        compare_decimal(&self.0, other)
    }
}

/// Checks `text` against `0|([1-9]\d{0,128})` without allocating.
pub fn validate(text: &str) -> Result<(), SequenceNumberError> {
    if text.is_empty() {
        return Err(SequenceNumberError::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SequenceNumberError::NotDecimal);
    }
    if text.len() > MAX_DIGITS {
        return Err(SequenceNumberError::TooLong(text.len()));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(SequenceNumberError::LeadingZero);
    }
    Ok(())
}

fn into_string(digits: Vec<u8>) -> String {
    // Only ASCII digits were ever written into `digits`.
    String::from_utf8(digits).expect("decimal digits are ASCII")
}

/// Orders two decimal strings without leading zeros: a longer one is larger,
/// and equal lengths compare digit by digit.
pub fn compare_decimal(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_decimal(&self.0, &other.0)
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SequenceNumber({})", self.0)
    }
}

impl serde::Serialize for SequenceNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read back only when valid: a document read from a queue is input too.
impl<'de> serde::Deserialize<'de> for SequenceNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        SequenceNumber::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seq(s: &str) -> SequenceNumber {
        SequenceNumber::parse(s).unwrap()
    }

    #[test]
    fn a_longer_number_is_larger_whatever_its_digits() {
        assert!(seq("9") < seq("10"));
        assert!(seq("99999999999999999999") < seq("100000000000000000000"));
        let kinesis_a = "49601189658422359378836298521827638475320189012309704722";
        let kinesis_b = "49601189658422359378836298522902373528957594348623495186";
        assert_eq!(kinesis_a.len(), 56);
        assert!(seq(kinesis_a) < seq(kinesis_b));
        assert!(seq("100000000053490326648") < seq(kinesis_a));
    }

    #[test]
    fn numbers_past_u128_compare_and_step() {
        let big = "9".repeat(129);
        assert_eq!(
            seq(&big).successor().as_str(),
            format!("1{}", "0".repeat(129))
        );
        let p = seq(&format!("1{}", "0".repeat(100))).predecessor().unwrap();
        assert_eq!(p.as_str(), "9".repeat(100));
        assert_eq!(seq("1").predecessor().unwrap().as_str(), "0");
        assert_eq!(seq("0").predecessor(), None);
        assert_eq!(seq("0").successor().as_str(), "1");
        assert_eq!(seq("109").successor().as_str(), "110");
    }

    #[test]
    fn only_the_documented_pattern_parses() {
        assert_eq!(SequenceNumber::parse(""), Err(SequenceNumberError::Empty));
        assert_eq!(
            SequenceNumber::parse("007"),
            Err(SequenceNumberError::LeadingZero)
        );
        assert_eq!(
            SequenceNumber::parse("-1"),
            Err(SequenceNumberError::NotDecimal)
        );
        assert_eq!(
            SequenceNumber::parse("1e5"),
            Err(SequenceNumberError::NotDecimal)
        );
        assert_eq!(
            SequenceNumber::parse(" 1"),
            Err(SequenceNumberError::NotDecimal)
        );
        assert_eq!(
            SequenceNumber::parse("１"),
            Err(SequenceNumberError::NotDecimal)
        );
        assert_eq!(
            SequenceNumber::parse(&"1".repeat(130)),
            Err(SequenceNumberError::TooLong(130))
        );
        assert!(SequenceNumber::parse(&"1".repeat(129)).is_ok());
        assert!(SequenceNumber::parse("0").is_ok());
    }

    proptest! {
        #[test]
        fn order_matches_integer_order_where_integers_fit(a in any::<u128>(), b in any::<u128>()) {
            let (sa, sb) = (seq(&a.to_string()), seq(&b.to_string()));
            prop_assert_eq!(sa.cmp(&sb), a.cmp(&b));
        }

        #[test]
        fn successor_and_predecessor_are_inverse(text in "0|[1-9][0-9]{0,128}") {
            let n = seq(&text);
            prop_assert_eq!(n.successor().predecessor().unwrap(), n.clone());
            prop_assert!(n < n.successor());
            if let Some(p) = n.predecessor() {
                prop_assert_eq!(p.successor(), n.clone());
                prop_assert!(p < n);
            }
        }

        #[test]
        fn successor_matches_integer_addition(a in 0u128..u128::MAX) {
            let next = seq(&a.to_string()).successor();
            prop_assert_eq!(next.as_str(), (a + 1).to_string());
        }
    }
}
