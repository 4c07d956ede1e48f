//! The one table of text forms shared by every interface (PG text format, the shell,
//! the slt runner). The JSON API keeps VoltDB's typed JSON instead.
//!
//! | Type                         | Text                                        | Example                      |
//! |------------------------------|---------------------------------------------|------------------------------|
//! | NULL                         | none (`render` returns `None`)              |                              |
//! | TINYINT … BIGINT             | decimal integer                             | `-42`                        |
//! | FLOAT                        | Rust `{}` Display: shortest round-trip digits, never an exponent | `1`, `0.1`, `100000000000000000000`, `-0` |
//! | FLOAT NaN / ±∞               | `NaN`, `Infinity`, `-Infinity`              |                              |
//! | DECIMAL                      | integer part, point, all 12 decimals (sqlcmd style) | `1.500000000000`     |
//! | TIMESTAMP                    | `YYYY-MM-DD HH:MM:SS.ffffff`                | `2024-02-29 12:00:00.000000` |
//! | VARCHAR                      | the string itself                           | `abc`                        |
//! | VARBINARY                    | upper-case hex, two digits a byte           | `00FF1A`                     |
//! | BOOLEAN                      | `true` / `false`                            |                              |
//!
//! **FLOAT choice.** Finite doubles use Rust's `{}` formatting: the shortest digit string
//! that reads back as the same double, written positionally without an exponent and without a
//! trailing `.0` (`1.0` → `1`, `1e20` → `100000000000000000000`, `1e-7` → `0.0000001`,
//! `-0.0` → `-0`). This differs from Java's `Double.toString` (`1.0`, `1.0E20`) but is
//! deterministic, exact on round trip, and never needs an exponent parser on the reading side.
//! Very large or very small magnitudes produce long strings (up to ~330 characters).
//!
//! VARBINARY literals are bare hex strings in VoltDB; [`parse_hex`] reads them back.

use crate::timestamp::format_timestamp;
use crate::value::Value;

/// Renders a value as text; `None` for SQL NULL.
pub fn render(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => render_float(*f),
        Value::Decimal(d) => d.to_string(),
        Value::Varchar(s) => s.to_string(),
        Value::Varbinary(b) => hex_upper(b),
        Value::Timestamp(t) => format_timestamp(*t),
        Value::Boolean(b) => if *b { "true" } else { "false" }.to_string(),
    })
}

/// The shortest text that reads back as the same double, without an exponent (Rust `{}`);
/// `NaN`, `Infinity`, `-Infinity` for the non-finite values. See the module docs.
pub fn render_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        format!("{f}")
    }
}

/// Upper-case hex, two digits per byte (`[0x00, 0xff]` → `00FF`); empty for no bytes.
pub fn hex_upper(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(b.len() * 2);
    for byte in b {
        s.push(char::from(DIGITS[usize::from(byte >> 4)]));
        s.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    s
}

/// Reads a bare hex string (a VoltDB VARBINARY literal) into bytes: an even number of hex
/// digits, either case, nothing else (no `0x`/`X'…'` wrapper, no whitespace). The empty
/// string is the empty value. `None` when the text is not such a string.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits = s.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| Some((hex_value(pair[0])? << 4) | hex_value(pair[1])?))
        .collect()
}

/// The value of one ASCII hex digit.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A byte count for messages: `100 MB`, `64 KB`, `512 bytes` (1 KB = 1024 bytes).
pub fn byte_size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::timestamp::parse_timestamp;
    use proptest::prelude::*;

    #[test]
    fn render_every_type() {
        assert_eq!(render(&Value::Null), None);
        assert_eq!(render(&Value::Integer(-42)).as_deref(), Some("-42"));
        assert_eq!(
            render(&Value::Integer(i64::MIN)).as_deref(),
            Some("-9223372036854775808")
        );
        assert_eq!(render(&Value::Float(1.5)).as_deref(), Some("1.5"));
        let dec = Decimal::parse("1.5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(render(&Value::Decimal(dec)).as_deref(), Some("1.500000000000"));
        assert_eq!(
            render(&Value::Decimal(Decimal::ZERO)).as_deref(),
            Some("0.000000000000")
        );
        assert_eq!(render(&Value::str("héllo")).as_deref(), Some("héllo"));
        assert_eq!(render(&Value::str("")).as_deref(), Some(""));
        assert_eq!(render(&Value::bytes(&[0, 0xff, 0x1a])).as_deref(), Some("00FF1A"));
        assert_eq!(render(&Value::bytes(&[])).as_deref(), Some(""));
        let t = parse_timestamp("1969-12-31 23:59:59.5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            render(&Value::Timestamp(t)).as_deref(),
            Some("1969-12-31 23:59:59.500000")
        );
        assert_eq!(render(&Value::Boolean(true)).as_deref(), Some("true"));
        assert_eq!(render(&Value::Boolean(false)).as_deref(), Some("false"));
    }

    #[test]
    fn floats() {
        assert_eq!(render_float(1.0), "1");
        assert_eq!(render_float(-2.5), "-2.5");
        assert_eq!(render_float(0.1), "0.1");
        assert_eq!(render_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(render_float(1e20), "100000000000000000000");
        assert_eq!(render_float(1e-7), "0.0000001");
        assert_eq!(render_float(0.0), "0");
        assert_eq!(render_float(-0.0), "-0");
        assert_eq!(render_float(f64::NAN), "NaN");
        assert_eq!(render_float(f64::INFINITY), "Infinity");
        assert_eq!(render_float(f64::NEG_INFINITY), "-Infinity");
        assert!(!render_float(f64::MAX).contains('e'));
        assert!(!render_float(f64::MIN_POSITIVE).contains('e'));
    }

    #[test]
    fn hex() {
        assert_eq!(hex_upper(&[0xde, 0xad, 0xbe, 0xef]), "DEADBEEF");
        assert_eq!(parse_hex("DEADbeef"), Some(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(parse_hex("00ff"), Some(vec![0, 255]));
        assert_eq!(parse_hex(""), Some(vec![]));
        for bad in ["0", "abc", "0g", "zz", " 00", "00 ", "0x00", "X'00'", "é0", "0é"] {
            assert_eq!(parse_hex(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn float_text_round_trips(f in any::<f64>()) {
            let text = render_float(f);
            if f.is_nan() {
                prop_assert_eq!(text, "NaN");
            } else {
                prop_assert!(!text.contains(['e', 'E']));
                let back: f64 = text.parse().unwrap_or(f64::NAN);
                prop_assert_eq!(back.to_bits(), f.to_bits());
            }
        }

        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let upper = hex_upper(&bytes);
            prop_assert_eq!(parse_hex(&upper), Some(bytes.clone()));
            prop_assert_eq!(parse_hex(&upper.to_lowercase()), Some(bytes));
        }

        #[test]
        fn parse_hex_never_panics(s in "\\PC{0,20}") {
            let _ = parse_hex(&s);
        }
    }
}
