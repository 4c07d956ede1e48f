//! Value formatting, sorting and hashing of query results, following SQLite's reference driver
//! (`slt_sqlite.c`): the query's type letters decide how each column is printed.
//!
//! - NULL is `NULL` whatever the letter.
//! - `I`: an integer as `%d`; a FLOAT or DECIMAL is truncated toward zero (like
//!   `sqlite3_column_int64`); a string gives its numeric prefix (else 0); a boolean gives 1 or 0;
//!   a timestamp gives its microseconds since the epoch.
//! - `R`: `%.3f` of the numeric value (integers too; strings by their numeric prefix).
//! - `T` (and any other letter): the shared text form (`voltrs_storage::text::render`), then
//!   the empty string becomes `(empty)` and every byte outside `' '..='~'` becomes `@`.
//! - A column without a letter (fewer letters than columns) uses the value's own type:
//!   integers and booleans as `I`, FLOAT and DECIMAL as `R`, everything else as `T`.

use md5::{Digest, Md5};
use voltrs_storage::Value;

use crate::parser::SortMode;

/// Formats one value for the type letter `letter` (`None`: by the value's own type).
pub fn format_value(value: &Value, letter: Option<char>) -> String {
    if value.is_null() {
        return "NULL".to_string();
    }
    let letter = letter.unwrap_or(match value {
        Value::Integer(_) | Value::Boolean(_) => 'I',
        Value::Float(_) | Value::Decimal(_) => 'R',
        _ => 'T',
    });
    match letter {
        'I' => as_integer(value).to_string(),
        'R' => format_real(as_real(value)),
        _ => format_text(value),
    }
}

/// Formats a row with the query's type letters, one letter per column.
pub fn format_row(row: &[Value], types: &str) -> Vec<String> {
    let letters: Vec<char> = types.chars().collect();
    row.iter()
        .enumerate()
        .map(|(i, v)| format_value(v, letters.get(i).copied()))
        .collect()
}

/// `T` rules: text form, `(empty)` for the empty string, `@` for every byte outside `' '..='~'`.
pub fn format_text(value: &Value) -> String {
    let Some(text) = voltrs_storage::text::render(value) else {
        return "NULL".to_string();
    };
    if text.is_empty() {
        return "(empty)".to_string();
    }
    text.bytes()
        .map(|b| if (b' '..=b'~').contains(&b) { b as char } else { '@' })
        .collect()
}

/// `%.3f` as SQLite's printf writes it (`-0.0` prints as `0.000`, infinities as `Inf`).
pub fn format_real(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "Inf".to_string() } else { "-Inf".to_string() }
    } else if f == 0.0 {
        "0.000".to_string()
    } else {
        format!("{f:.3}")
    }
}

/// The value as `sqlite3_column_int64` would give it.
pub fn as_integer(value: &Value) -> i64 {
    match value {
        Value::Null => 0,
        Value::Integer(i) => *i,
        // `as` truncates toward zero and saturates (NaN gives 0), like SQLite.
        Value::Float(f) => *f as i64,
        // Exact: the integer part of the decimal text.
        Value::Decimal(_) => {
            voltrs_storage::text::render(value).map_or(0, |t| text_to_integer(t.split('.').next().unwrap_or("")))
        }
        Value::Varchar(s) => text_to_integer(s),
        Value::Varbinary(b) => text_to_integer(&String::from_utf8_lossy(b)),
        Value::Timestamp(t) => *t,
        Value::Boolean(b) => i64::from(*b),
    }
}

/// The value as `sqlite3_column_double` would give it.
pub fn as_real(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Decimal(d) => d.to_f64(),
        Value::Varchar(s) => text_to_real(s),
        Value::Varbinary(b) => text_to_real(&String::from_utf8_lossy(b)),
        Value::Timestamp(t) => *t as f64,
        Value::Boolean(b) => f64::from(u8::from(*b)),
    }
}

/// The longest numeric prefix of `s` (after leading whitespace): `[+-]digits[.digits][e[+-]digits]`.
/// Returns the prefix and whether it is a plain integer (no fraction, no exponent).
fn numeric_prefix(s: &str) -> (&str, bool) {
    let s = s.trim_start();
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut integer = true;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        frac_digits = j - i - 1;
        if int_digits + frac_digits > 0 {
            i = j;
            integer = false;
        }
    }
    if int_digits + frac_digits == 0 {
        return ("", true);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            integer = false;
        }
    }
    (&s[..i], integer)
}

/// A string's integer value as SQLite reads it: its numeric prefix, truncated; else 0.
pub fn text_to_integer(s: &str) -> i64 {
    match numeric_prefix(s) {
        ("", _) => 0,
        (p, true) => p.parse::<i64>().unwrap_or_else(|_| {
            // Too many digits: saturate like SQLite.
            if p.starts_with('-') { i64::MIN } else { i64::MAX }
        }),
        (p, false) => p.parse::<f64>().map_or(0, |f| f as i64),
    }
}

/// A string's floating-point value as SQLite reads it: its numeric prefix; else 0.0.
pub fn text_to_real(s: &str) -> f64 {
    match numeric_prefix(s) {
        ("", _) => 0.0,
        (p, _) => p.parse::<f64>().unwrap_or(0.0),
    }
}

/// Sorts formatted rows per the sort mode and flattens them into the value list.
pub fn sort_and_flatten(mut rows: Vec<Vec<String>>, mode: SortMode) -> Vec<String> {
    match mode {
        SortMode::NoSort => rows.into_iter().flatten().collect(),
        SortMode::RowSort => {
            // Lexicographic over the row's strings, each compared bytewise (strcmp).
            rows.sort();
            rows.into_iter().flatten().collect()
        }
        SortMode::ValueSort => {
            let mut values: Vec<String> = rows.into_iter().flatten().collect();
            values.sort();
            values
        }
    }
}

/// MD5 over each value followed by `\n`, as lowercase hex.
pub fn md5_hex(values: &[String]) -> String {
    let mut hasher = Md5::new();
    for v in values {
        hasher.update(v.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hashed form of a result: `K values hashing to <md5>`.
pub fn hash_line(values: &[String]) -> String {
    format!("{} values hashing to {}", values.len(), md5_hex(values))
}

/// Parses an expected `K values hashing to <md5>` line.
pub fn parse_hash_line(line: &str) -> Option<(usize, String)> {
    let mut tokens = line.split_whitespace();
    let count = tokens.next()?.parse::<usize>().ok()?;
    if tokens.next()? != "values" || tokens.next()? != "hashing" || tokens.next()? != "to" {
        return None;
    }
    let hash = tokens.next()?;
    if tokens.next().is_some() || hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((count, hash.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltrs_storage::Decimal;

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::parse(s).expect("valid decimal"))
    }

    #[test]
    fn null_is_null_for_every_letter() {
        for l in [Some('I'), Some('R'), Some('T'), Some('X'), None] {
            assert_eq!(format_value(&Value::Null, l), "NULL");
        }
    }

    #[test]
    fn integer_letter() {
        assert_eq!(format_value(&Value::Integer(-42), Some('I')), "-42");
        assert_eq!(format_value(&Value::Float(2.9), Some('I')), "2");
        assert_eq!(format_value(&Value::Float(-2.9), Some('I')), "-2");
        assert_eq!(format_value(&Value::Float(f64::NAN), Some('I')), "0");
        assert_eq!(format_value(&Value::Float(1e300), Some('I')), i64::MAX.to_string());
        assert_eq!(format_value(&dec("-12.75"), Some('I')), "-12");
        assert_eq!(
            format_value(&dec("99999999999999999.5"), Some('I')),
            "99999999999999999"
        );
        assert_eq!(format_value(&Value::str("  17abc"), Some('I')), "17");
        assert_eq!(format_value(&Value::str("-3.9"), Some('I')), "-3");
        assert_eq!(format_value(&Value::str("1e3"), Some('I')), "1000");
        assert_eq!(format_value(&Value::str("abc"), Some('I')), "0");
        assert_eq!(format_value(&Value::str(""), Some('I')), "0");
        assert_eq!(format_value(&Value::str("."), Some('I')), "0");
        assert_eq!(
            format_value(&Value::str("99999999999999999999"), Some('I')),
            i64::MAX.to_string()
        );
        assert_eq!(format_value(&Value::Boolean(true), Some('I')), "1");
        assert_eq!(format_value(&Value::Boolean(false), Some('I')), "0");
    }

    #[test]
    fn real_letter() {
        assert_eq!(format_value(&Value::Integer(7), Some('R')), "7.000");
        assert_eq!(format_value(&Value::Float(1.0 / 3.0), Some('R')), "0.333");
        assert_eq!(format_value(&Value::Float(-2.5), Some('R')), "-2.500");
        assert_eq!(format_value(&Value::Float(-0.0), Some('R')), "0.000");
        assert_eq!(format_value(&Value::Float(-0.0001), Some('R')), "-0.000");
        assert_eq!(format_value(&dec("12.3456"), Some('R')), "12.346");
        assert_eq!(format_value(&Value::str("4.25x"), Some('R')), "4.250");
        assert_eq!(format_value(&Value::str(".5"), Some('R')), "0.500");
        assert_eq!(format_value(&Value::Float(f64::INFINITY), Some('R')), "Inf");
    }

    #[test]
    fn text_letter() {
        assert_eq!(format_value(&Value::str(""), Some('T')), "(empty)");
        assert_eq!(format_value(&Value::str("a b"), Some('T')), "a b");
        assert_eq!(format_value(&Value::str("tab\there"), Some('T')), "tab@here");
        // Per byte, as the C driver: a two-byte character gives two `@`.
        assert_eq!(format_value(&Value::str("é"), Some('T')), "@@");
        assert_eq!(format_value(&Value::Integer(5), Some('T')), "5");
        assert_eq!(format_value(&Value::str("x"), Some('Q')), "x");
    }

    #[test]
    fn own_type_when_no_letter() {
        let row = vec![
            Value::Integer(1),
            Value::Float(2.5),
            Value::str(""),
            Value::Boolean(true),
            Value::Null,
        ];
        assert_eq!(format_row(&row, "T"), vec!["1", "2.500", "(empty)", "1", "NULL"]);
        assert_eq!(format_row(&row, ""), vec!["1", "2.500", "(empty)", "1", "NULL"]);
    }

    #[test]
    fn sorting() {
        let rows = vec![
            vec!["2".to_string(), "b".to_string()],
            vec!["10".to_string(), "a".to_string()],
            vec!["2".to_string(), "a".to_string()],
        ];
        assert_eq!(
            sort_and_flatten(rows.clone(), SortMode::NoSort),
            vec!["2", "b", "10", "a", "2", "a"]
        );
        // Strings, not numbers: "10" < "2".
        assert_eq!(
            sort_and_flatten(rows.clone(), SortMode::RowSort),
            vec!["10", "a", "2", "a", "2", "b"]
        );
        assert_eq!(
            sort_and_flatten(rows, SortMode::ValueSort),
            vec!["10", "2", "2", "a", "a", "b"]
        );
    }

    #[test]
    fn hashing() {
        // md5("") and md5("1\n2\n") (checked with md5sum).
        assert_eq!(md5_hex(&[]), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            md5_hex(&["1".to_string(), "2".to_string()]),
            "6ddb4095eb719e2a9f0a3f95677d24e0"
        );
        assert_eq!(
            hash_line(&["a".to_string()]),
            "1 values hashing to 60b725f10c9c85c70d97880dfe8191b3"
        );
        assert_eq!(
            parse_hash_line("30 values hashing to 3C13DEE48D9356AE19AF2515E05E6B54"),
            Some((30, "3c13dee48d9356ae19af2515e05e6b54".to_string()))
        );
        assert_eq!(parse_hash_line("30 values hashing to xyz"), None);
        assert_eq!(parse_hash_line("30"), None);
        assert_eq!(
            parse_hash_line("1 values hashing to 3c13dee48d9356ae19af2515e05e6b54 extra"),
            None
        );
    }
}
