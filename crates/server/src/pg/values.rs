//! voltrs values as PostgreSQL sees them: the type of each column (TINYINT and SMALLINT
//! are int2, INTEGER int4, BIGINT int8, FLOAT float8, DECIMAL numeric, VARCHAR varchar,
//! VARBINARY bytea, TIMESTAMP timestamp) and each value in text and binary format.

use std::error::Error;

use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::types::ToSqlText;
use pgwire::types::format::FormatOptions;
use postgres_types::{IsNull, ToSql, to_sql_checked};
use voltrs_storage::{DataType, Value};

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// The PostgreSQL type of a column of SQL type `ty`.
pub fn pg_type(ty: DataType) -> Type {
    match ty {
        DataType::TinyInt | DataType::SmallInt => Type::INT2,
        DataType::Integer => Type::INT4,
        DataType::BigInt | DataType::Null => Type::INT8,
        DataType::Float => Type::FLOAT8,
        DataType::Decimal => Type::NUMERIC,
        DataType::Varchar { .. } => Type::VARCHAR,
        DataType::Varbinary { .. } => Type::BYTEA,
        DataType::Timestamp => Type::TIMESTAMP,
        DataType::Boolean => Type::BOOL,
    }
}

/// One value to send, in either format.
#[derive(Debug)]
pub struct PgValue<'a>(pub &'a Value);

type Result = std::result::Result<IsNull, Box<dyn Error + Sync + Send>>;

impl ToSqlText for PgValue<'_> {
    fn to_sql_text(&self, ty: &Type, out: &mut BytesMut, _: &FormatOptions) -> Result {
        let text = match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Boolean(b) => (if *b { "t" } else { "f" }).to_string(),
            Value::Varbinary(b) if *ty == Type::BYTEA => {
                let mut s = String::with_capacity(2 + 2 * b.len());
                s.push_str("\\x");
                for byte in b.iter() {
                    s.push_str(&format!("{byte:02x}"));
                }
                s
            }
            Value::Float(f) => float_text(*f),
            Value::Timestamp(us) => timestamp_text(*us),
            other => voltrs_storage::text::render(other).unwrap_or_default(),
        };
        out.put_slice(text.as_bytes());
        Ok(IsNull::No)
    }
}

impl ToSql for PgValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result {
        match (self.0, ty) {
            (Value::Null, _) => return Ok(IsNull::Yes),
            (Value::Integer(i), t) if *t == Type::INT2 => out.put_i16(i16::try_from(*i)?),
            (Value::Integer(i), t) if *t == Type::INT4 => out.put_i32(i32::try_from(*i)?),
            (Value::Integer(i), t) if *t == Type::INT8 => out.put_i64(*i),
            (v, t) if *t == Type::FLOAT8 => out.put_f64(v.as_f64().ok_or("not a number")?),
            (Value::Boolean(b), t) if *t == Type::BOOL => out.put_u8(u8::from(*b)),
            (Value::Timestamp(us), t) if *t == Type::TIMESTAMP => out.put_i64(us - PG_EPOCH_US),
            (Value::Varbinary(b), _) => out.put_slice(b),
            (Value::Decimal(d), t) if *t == Type::NUMERIC => put_numeric(d.raw(), out),
            (other, _) => out.put_slice(voltrs_storage::text::render(other).unwrap_or_default().as_bytes()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A float8 as PostgreSQL writes it (`float8out`, PostgreSQL 12 and later): the shortest
/// digits that read back as the same double, in fixed notation when the decimal exponent
/// is in -4..15 and as `1.5e+20` / `1e-05` otherwise; `NaN`, `Infinity`, `-Infinity`.
/// (voltrs's shared text form never uses an exponent.)
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return (if f > 0.0 { "Infinity" } else { "-Infinity" }).into();
    }
    // Rust's `{:e}` gives the same shortest digits: `-1.2345e-7`, `1e20`, `0e0`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..15).contains(&exp) {
        let n = digits.len() as i32;
        let text = if exp < 0 {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else if exp + 1 >= n {
            format!("{digits}{}", "0".repeat((exp + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}{rest}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// A TIMESTAMP as PostgreSQL writes it: `2024-01-02 03:04:05`, with the fraction's
/// trailing zeros dropped (`...05.1`, `...05.123456`). voltrs's range (years 1583 to 9999)
/// needs no `BC` or five-digit years.
fn timestamp_text(us: i64) -> String {
    let mut text = voltrs_storage::timestamp::format_timestamp(us);
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    text
}

/// PostgreSQL's binary NUMERIC: base-10000 digits of a value with 12 decimal places
/// (`raw` is the value × 10^12).
fn put_numeric(raw: i128, out: &mut BytesMut) {
    const SCALE: u32 = 12;
    let negative = raw < 0;
    let mut magnitude = raw.unsigned_abs();
    // Integer part and fraction (12 digits = 3 base-10000 groups).
    let frac = (magnitude % 10u128.pow(SCALE)) as u64;
    magnitude /= 10u128.pow(SCALE);
    let mut int_groups = Vec::new();
    while magnitude > 0 {
        int_groups.push((magnitude % 10_000) as i16);
        magnitude /= 10_000;
    }
    int_groups.reverse();
    let frac_groups = [
        (frac / 100_000_000) as i16,
        ((frac / 10_000) % 10_000) as i16,
        (frac % 10_000) as i16,
    ];
    let mut digits: Vec<i16> = int_groups.clone();
    digits.extend_from_slice(&frac_groups);
    let mut weight = int_groups.len() as i16 - 1;
    // Drop leading zero groups (adjusting the weight) and trailing zero groups.
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if negative && !digits.is_empty() { 0x4000 } else { 0 });
    out.put_i16(SCALE as i16);
    for d in digits {
        out.put_i16(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltrs_storage::Decimal;

    fn numeric(text: &str) -> Vec<u8> {
        let mut out = BytesMut::new();
        put_numeric(Decimal::parse(text).unwrap().raw(), &mut out);
        out.to_vec()
    }

    #[test]
    fn numeric_binary_follows_postgresql() {
        // 1.5: ndigits 2, weight 0, positive, dscale 12, digits [1, 5000].
        assert_eq!(numeric("1.5"), [0, 2, 0, 0, 0, 0, 0, 12, 0, 1, 0x13, 0x88]);
        // -12345.000000000001: [1, 2345, 0, 0, 1], weight 1, negative.
        assert_eq!(
            numeric("-12345.000000000001"),
            [0, 5, 0, 1, 0x40, 0, 0, 12, 0, 1, 0x09, 0x29, 0, 0, 0, 0, 0, 1]
        );
        // 0: no digits.
        assert_eq!(numeric("0"), [0, 0, 0, 0, 0, 0, 0, 12]);
        // 0.0001: one digit [1] at weight -1.
        assert_eq!(numeric("0.0001"), [0, 1, 0xff, 0xff, 0, 0, 0, 12, 0, 1]);
    }

    #[test]
    fn text_forms() {
        let text = |v: Value, ty: Type| {
            let mut out = BytesMut::new();
            PgValue(&v)
                .to_sql_text(&ty, &mut out, &FormatOptions::default())
                .unwrap();
            String::from_utf8(out.to_vec()).unwrap()
        };
        assert_eq!(text(Value::bytes(&[0, 171]), Type::BYTEA), "\\x00ab");
        assert_eq!(text(Value::Integer(-7), Type::INT4), "-7");
        assert_eq!(text(Value::str("héllo"), Type::VARCHAR), "héllo");
        assert_eq!(text(Value::Boolean(true), Type::BOOL), "t");
        // Timestamps: PostgreSQL drops a zero fraction and trailing zeros.
        let stamp = |s: &str| Value::Timestamp(voltrs_storage::timestamp::parse_timestamp(s).unwrap());
        assert_eq!(
            text(stamp("2024-01-02 03:04:05"), Type::TIMESTAMP),
            "2024-01-02 03:04:05"
        );
        assert_eq!(
            text(stamp("2024-01-02 03:04:05.1"), Type::TIMESTAMP),
            "2024-01-02 03:04:05.1"
        );
        assert_eq!(
            text(stamp("1969-12-31 23:59:59.999999"), Type::TIMESTAMP),
            "1969-12-31 23:59:59.999999"
        );
        // Floats: float8out's shortest digits, exponent outside 1e-4..1e15.
        for (f, pg) in [
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (3.0, "3"),
            (0.0, "0"),
            (-0.0, "-0"),
            (166.66666666666666, "166.66666666666666"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e14, "100000000000000"),
            (123456789012345.6, "123456789012345.6"),
            (1e15, "1e+15"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (-1e300, "-1e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(text(Value::Float(f), Type::FLOAT8), pg, "{f:e}");
        }
    }
}

/// A bound parameter's value: `bytes` in text or binary format, of PostgreSQL type `ty`
/// (the client's, or the one voltrs described). The engine converts it to the parameter's
/// SQL type afterwards; a value it cannot take fails there with the parameter's name.
pub fn decode_param(ty: &Type, bytes: &[u8], binary: bool) -> std::result::Result<Value, String> {
    if !binary {
        let text = std::str::from_utf8(bytes).map_err(|_| format!("a {} parameter is not valid UTF-8", ty.name()))?;
        return decode_text(ty, text);
    }
    let fixed = |n: usize| -> std::result::Result<&[u8], String> {
        if bytes.len() == n {
            Ok(bytes)
        } else {
            Err(format!(
                "a binary {} parameter must be {n} bytes, not {}",
                ty.name(),
                bytes.len()
            ))
        }
    };
    Ok(match ty {
        t if *t == Type::INT2 => Value::Integer(i64::from(i16::from_be_bytes([fixed(2)?[0], bytes[1]]))),
        t if *t == Type::INT4 => Value::Integer(i64::from(i32::from_be_bytes(array(fixed(4)?)))),
        t if *t == Type::INT8 => Value::Integer(i64::from_be_bytes(array(fixed(8)?))),
        t if *t == Type::FLOAT4 => Value::Float(f64::from(f32::from_be_bytes(array(fixed(4)?)))),
        t if *t == Type::FLOAT8 => Value::Float(f64::from_be_bytes(array(fixed(8)?))),
        t if *t == Type::BOOL => Value::Boolean(fixed(1)?[0] != 0),
        t if *t == Type::BYTEA => Value::bytes(bytes),
        t if *t == Type::TIMESTAMP || *t == Type::TIMESTAMPTZ => {
            Value::Timestamp(i64::from_be_bytes(array(fixed(8)?)).saturating_add(PG_EPOCH_US))
        }
        t if *t == Type::DATE => {
            let days = i64::from(i32::from_be_bytes(array(fixed(4)?)));
            Value::Timestamp(days * 86_400_000_000 + PG_EPOCH_US)
        }
        t if *t == Type::NUMERIC => decode_text(ty, &numeric_text(bytes)?)?,
        _ => {
            Value::str(std::str::from_utf8(bytes).map_err(|_| format!("a {} parameter is not valid UTF-8", ty.name()))?)
        }
    })
}

fn array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(&b[..N]);
    a
}

fn decode_text(ty: &Type, text: &str) -> std::result::Result<Value, String> {
    let bad = || format!("invalid {} value '{text}'", ty.name());
    Ok(match ty {
        t if *t == Type::INT2 || *t == Type::INT4 || *t == Type::INT8 => {
            Value::Integer(text.trim().parse().map_err(|_| bad())?)
        }
        t if *t == Type::FLOAT4 || *t == Type::FLOAT8 => Value::Float(match text.trim() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s.parse().map_err(|_| bad())?,
        }),
        t if *t == Type::NUMERIC => {
            Value::Decimal(voltrs_storage::Decimal::parse(text.trim()).map_err(|e| format!("{e}"))?)
        }
        t if *t == Type::BOOL => Value::Boolean(match text.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "1" | "on" | "yes" => true,
            "f" | "false" | "0" | "off" | "no" => false,
            _ => return Err(bad()),
        }),
        t if *t == Type::BYTEA => match text.strip_prefix("\\x") {
            Some(hex) if hex.len() % 2 == 0 => Value::Varbinary(
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                    .collect::<std::result::Result<Vec<u8>, _>>()
                    .map_err(|_| bad())?
                    .into(),
            ),
            Some(_) => return Err(bad()),
            None => Value::bytes(text.as_bytes()),
        },
        // TIMESTAMP, DATE, text and unknown: a string the engine converts to the
        // parameter's type.
        _ => Value::str(text),
    })
}

/// PostgreSQL's binary NUMERIC as decimal text.
fn numeric_text(b: &[u8]) -> std::result::Result<String, String> {
    let bad = || "invalid binary NUMERIC parameter".to_string();
    if b.len() < 8 {
        return Err(bad());
    }
    let word = |i: usize| i16::from_be_bytes([b[i], b[i + 1]]);
    let ndigits = usize::try_from(word(0)).map_err(|_| bad())?;
    let weight = i64::from(word(2));
    let sign = u16::from_be_bytes([b[4], b[5]]);
    if b.len() != 8 + 2 * ndigits {
        return Err(bad());
    }
    if sign == 0xC000 {
        return Err("NaN is not a DECIMAL value".into());
    }
    let digits: Vec<i64> = (0..ndigits).map(|i| i64::from(word(8 + 2 * i))).collect();
    if digits.iter().any(|d| !(0..10_000).contains(d)) {
        return Err(bad());
    }
    let mut int_part = String::new();
    let mut frac_part = String::new();
    for (i, d) in digits.iter().enumerate() {
        let position = weight - i as i64; // power of 10000 of this digit
        if position >= 0 {
            if int_part.is_empty() {
                int_part.push_str(&d.to_string());
            } else {
                int_part.push_str(&format!("{d:04}"));
            }
        } else {
            // Zero groups between the point and this digit.
            while (frac_part.len() as i64) < (-position - 1) * 4 {
                frac_part.push_str("0000");
            }
            frac_part.push_str(&format!("{d:04}"));
        }
    }
    // Integer groups below the last digit given are zeros.
    let last_int_position = weight - ndigits as i64 + 1;
    if weight >= 0 && last_int_position > 0 {
        for _ in 0..last_int_position {
            int_part.push_str("0000");
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if frac_part.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_part}")
    })
}

#[cfg(test)]
mod param_tests {
    use super::*;
    use voltrs_storage::Decimal;

    #[test]
    fn binary_numeric_round_trips() {
        for text in [
            "1.5",
            "-12345.000000000001",
            "0",
            "0.0001",
            "10000",
            "99999999999999999999999999.999999999999",
        ] {
            let mut out = BytesMut::new();
            put_numeric(Decimal::parse(text).unwrap().raw(), &mut out);
            let back = decode_param(&Type::NUMERIC, &out, true).unwrap();
            assert_eq!(back, Value::Decimal(Decimal::parse(text).unwrap()), "{text}");
        }
    }

    #[test]
    fn parameters_in_both_formats() {
        assert_eq!(
            decode_param(&Type::INT4, &7i32.to_be_bytes(), true),
            Ok(Value::Integer(7))
        );
        assert_eq!(decode_param(&Type::INT8, b"-9", false), Ok(Value::Integer(-9)));
        assert_eq!(
            decode_param(&Type::FLOAT8, &1.5f64.to_be_bytes(), true),
            Ok(Value::Float(1.5))
        );
        assert_eq!(
            decode_param(&Type::BYTEA, b"\\x00ff", false),
            Ok(Value::bytes(&[0, 255]))
        );
        assert_eq!(
            decode_param(&Type::TIMESTAMP, &0i64.to_be_bytes(), true),
            Ok(Value::Timestamp(PG_EPOCH_US))
        );
        assert_eq!(decode_param(&Type::UNKNOWN, b"abc", false), Ok(Value::str("abc")));
        assert!(
            decode_param(&Type::INT4, &[1, 2], true)
                .unwrap_err()
                .contains("must be 4 bytes")
        );
        assert!(
            decode_param(&Type::INT4, b"x", false)
                .unwrap_err()
                .contains("invalid int4 value 'x'")
        );
    }
}
