//! Value conversions: SQL `CAST` ([`cast`]), the stricter conversion applied when a value is
//! stored into a column ([`coerce_for_column`]), and the type two expressions unify in
//! ([`common_type`]). Semantics follow VoltDB: integer types exclude their most negative
//! value (it is NULL), FLOAT and DECIMAL truncate toward zero when cast to an integer type,
//! CAST never truncates strings silently, TIMESTAMP converts to and from integers as
//! microseconds since the epoch, and VARCHAR converts to VARBINARY by hex-decoding.

use voltrs_storage::text::render;
use voltrs_storage::timestamp::parse_timestamp;
use voltrs_storage::{DataType, Decimal, Value};

use crate::error::{Error, Result, range_err, type_err};

const DECIMAL_ONE: i128 = 1_000_000_000_000;

/// The type name of a value's storage class, for messages (`Value::Integer` is `INTEGER`).
pub fn value_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Integer(_) => "INTEGER",
        Value::Float(_) => "FLOAT",
        Value::Decimal(_) => "DECIMAL",
        Value::Varchar(_) => "VARCHAR",
        Value::Varbinary(_) => "VARBINARY",
        Value::Timestamp(_) => "TIMESTAMP",
        Value::Boolean(_) => "BOOLEAN",
    }
}

/// A value's text form for messages (`NULL` for SQL NULL).
pub fn show_value(v: &Value) -> String {
    render(v).unwrap_or_else(|| "NULL".into())
}

/// Decodes hex text (either case, even length) into bytes; `None` when it is not hex.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Whether `s` fits VARCHAR(len) (characters) or VARCHAR(len BYTES).
fn fits_varchar(s: &str, len: u32, bytes: bool) -> bool {
    let len = len as usize;
    s.len() <= len || (!bytes && s.chars().count() <= len)
}

fn in_integer_range(i: i64, ty: DataType) -> bool {
    ty.integer_range().is_some_and(|(min, max)| i >= min && i <= max)
}

/// Truncates a double toward zero into an i64; `None` for NaN, infinities and values
/// outside (i64::MIN, i64::MAX].
fn f64_to_i64_trunc(f: f64) -> Option<i64> {
    // 2^63, exactly representable.
    const LIMIT: f64 = -(i64::MIN as f64);
    let t = f.trunc();
    // -2^63 is the BIGINT NULL and 2^63 does not fit: both are out of range.
    (t > -LIMIT && t < LIMIT).then_some(t as i64)
}

fn invalid_for_cast<T>(s: &str, to: DataType) -> Result<T> {
    type_err(format!("invalid character value for cast: '{s}' to {}", to.name()))
}

fn cannot_cast<T>(v: &Value, to: DataType) -> Result<T> {
    type_err(format!("cannot cast {} to {to}", value_type_name(v)))
}

fn parse_i64_text(s: &str, to: DataType) -> Result<i64> {
    use std::num::IntErrorKind;
    match s.trim().parse::<i64>() {
        Ok(i) => Ok(i),
        Err(e) if matches!(e.kind(), IntErrorKind::PosOverflow | IntErrorKind::NegOverflow) => {
            range_err(format!("value {} out of range for {}", s.trim(), to.name()))
        }
        Err(_) => invalid_for_cast(s, to),
    }
}

fn parse_f64_text(s: &str) -> Result<f64> {
    let t = s.trim();
    let numeric_chars = t
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'));
    match t.parse::<f64>() {
        Ok(f) if numeric_chars && f.is_finite() => Ok(f),
        Ok(_) if numeric_chars => range_err(format!("value {t} out of range for FLOAT")),
        _ => invalid_for_cast(s, DataType::Float),
    }
}

fn parse_decimal_text(s: &str) -> Result<Decimal> {
    Decimal::parse(s.trim()).map_err(|e| match Error::from(e) {
        Error::Type(_) => Error::Type(format!(
            "invalid character value for cast: '{s}' to {}",
            DataType::Decimal.name()
        )),
        other => other,
    })
}

/// SQL `CAST(v AS to)`. NULL stays NULL; a `DataType::Null` target returns `v` unchanged.
pub fn cast(v: &Value, to: DataType) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    match to {
        DataType::Null => Ok(v.clone()),
        t if t.is_integer() => {
            let i = match v {
                Value::Integer(i) => *i,
                Value::Float(f) => f64_to_i64_trunc(*f).ok_or_else(|| out_of_range(v, t))?,
                Value::Decimal(d) => d.to_i64_trunc().ok_or_else(|| out_of_range(v, t))?,
                Value::Varchar(s) => parse_i64_text(s, t)?,
                Value::Timestamp(ts) => *ts,
                Value::Boolean(b) => i64::from(*b),
                _ => return cannot_cast(v, t),
            };
            if in_integer_range(i, t) {
                Ok(Value::Integer(i))
            } else {
                Err(out_of_range(v, t))
            }
        }
        DataType::Float => match v {
            Value::Integer(_) | Value::Float(_) | Value::Decimal(_) => Ok(Value::Float(v.as_f64().unwrap_or(0.0))),
            Value::Varchar(s) => Ok(Value::Float(parse_f64_text(s)?)),
            _ => cannot_cast(v, to),
        },
        DataType::Decimal => match v {
            Value::Integer(i) => Ok(Value::Decimal(Decimal::from_i64(*i))),
            Value::Decimal(d) => Ok(Value::Decimal(*d)),
            Value::Float(f) => Decimal::from_f64(*f)
                .map(Value::Decimal)
                .map_err(|_| out_of_range(v, to)),
            Value::Varchar(s) => Ok(Value::Decimal(parse_decimal_text(s)?)),
            _ => cannot_cast(v, to),
        },
        DataType::Varchar { len, bytes } => {
            let s = match v {
                Value::Varchar(s) => {
                    if fits_varchar(s, len, bytes) {
                        return Ok(v.clone());
                    }
                    return range_err(format!("value too long for {to}"));
                }
                other => render(other).unwrap_or_default(),
            };
            if fits_varchar(&s, len, bytes) {
                Ok(Value::str(&s))
            } else {
                range_err(format!("value too long for {to}"))
            }
        }
        DataType::Varbinary { len } => {
            let b: Vec<u8> = match v {
                Value::Varbinary(b) => b.to_vec(),
                Value::Varchar(s) => match parse_hex(s.trim()) {
                    Some(b) => b,
                    None => return invalid_for_cast(s, to),
                },
                _ => return cannot_cast(v, to),
            };
            if b.len() <= len as usize {
                Ok(Value::bytes(&b))
            } else {
                range_err(format!("value too long for {to}"))
            }
        }
        DataType::Timestamp => match v {
            Value::Timestamp(t) => Ok(Value::Timestamp(*t)),
            // Microseconds since the epoch, within VoltDB's valid range (years 1583..=9999).
            Value::Integer(t) => Ok(Value::Timestamp(voltrs_storage::timestamp::check_range(*t)?)),
            Value::Varchar(s) => parse_timestamp(s)
                .map(Value::Timestamp)
                .map_err(|e| match Error::from(e) {
                    Error::Type(_) => Error::Type(format!("invalid character value for cast: '{s}' to TIMESTAMP")),
                    other => other,
                }),
            _ => cannot_cast(v, to),
        },
        DataType::Boolean => match v {
            Value::Boolean(b) => Ok(Value::Boolean(*b)),
            _ => cannot_cast(v, to),
        },
        _ => cannot_cast(v, to),
    }
}

fn out_of_range(v: &Value, to: DataType) -> Error {
    Error::Range(format!("value {} out of range for {to}", show_value(v)))
}

/// The conversion applied when storing `v` into column `column` of type `ty` (INSERT,
/// UPDATE, DEFAULT). Stricter than [`cast`]: no string-to-number or number-to-string
/// conversion, no fractional value into an integer column; messages name the column.
/// Strings are accepted for TIMESTAMP (parsed) and VARBINARY (hex) columns, integers for
/// TIMESTAMP columns (microseconds).
pub fn coerce_for_column(v: &Value, ty: DataType, column: &str) -> Result<Value> {
    let incompatible = || {
        type_err(format!(
            "incompatible type {} for column \"{column}\" of type {ty}",
            value_type_name(v)
        ))
    };
    let out_of_range = || {
        range_err(format!(
            "value {} out of range for column \"{column}\" of type {ty}",
            show_value(v)
        ))
    };
    let too_long = || range_err(format!("value too long for column \"{column}\" of type {ty}"));
    if v.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        DataType::Null => Ok(v.clone()),
        t if t.is_integer() => {
            let i = match v {
                Value::Integer(i) => *i,
                Value::Float(f) if !f.is_finite() => return out_of_range(),
                Value::Float(f) if f.fract() != 0.0 => return fraction_err(v, ty, column),
                Value::Float(f) => match f64_to_i64_trunc(*f) {
                    Some(i) => i,
                    None => return out_of_range(),
                },
                Value::Decimal(d) if d.raw() % DECIMAL_ONE != 0 => {
                    return fraction_err(v, ty, column);
                }
                Value::Decimal(d) => match d.to_i64_trunc() {
                    Some(i) => i,
                    None => return out_of_range(),
                },
                _ => return incompatible(),
            };
            if in_integer_range(i, t) {
                Ok(Value::Integer(i))
            } else {
                out_of_range()
            }
        }
        DataType::Float => match v {
            // VoltDB's wire reads any FLOAT at or below -1.7E308 as NULL: not storable as data
            // (it would come back NULL from a client, a snapshot or a replica).
            Value::Float(f) if *f <= -1.7e308 => range_err(format!(
                "value {f:e} is out of range for column \"{column}\" of type FLOAT (at or below -1.7E308 is FLOAT's NULL value)"
            )),
            Value::Integer(_) | Value::Float(_) | Value::Decimal(_) => Ok(Value::Float(v.as_f64().unwrap_or(0.0))),
            _ => incompatible(),
        },
        DataType::Decimal => match v {
            Value::Integer(i) => Ok(Value::Decimal(Decimal::from_i64(*i))),
            Value::Decimal(d) => Ok(Value::Decimal(*d)),
            Value::Float(f) => match Decimal::from_f64(*f) {
                Ok(d) => Ok(Value::Decimal(d)),
                Err(_) => out_of_range(),
            },
            _ => incompatible(),
        },
        DataType::Varchar { len, bytes } => match v {
            Value::Varchar(s) if fits_varchar(s, len, bytes) => Ok(v.clone()),
            Value::Varchar(_) => too_long(),
            _ => incompatible(),
        },
        DataType::Varbinary { len } => {
            let b: Vec<u8> = match v {
                Value::Varbinary(b) => b.to_vec(),
                Value::Varchar(s) => match parse_hex(s.trim()) {
                    Some(b) => b,
                    None => {
                        return type_err(format!(
                            "invalid hexadecimal value '{s}' for column \"{column}\" of type {ty}"
                        ));
                    }
                },
                _ => return incompatible(),
            };
            if b.len() <= len as usize {
                Ok(Value::bytes(&b))
            } else {
                too_long()
            }
        }
        DataType::Timestamp => match v {
            Value::Timestamp(t) => Ok(Value::Timestamp(*t)),
            // Microseconds since the epoch, within VoltDB's valid range (years 1583..=9999).
            Value::Integer(t) => Ok(Value::Timestamp(voltrs_storage::timestamp::check_range(*t)?)),
            Value::Varchar(s) => parse_timestamp(s)
                .map(Value::Timestamp)
                .map_err(|e| match Error::from(e) {
                    Error::Type(_) => Error::Type(format!(
                        "invalid TIMESTAMP value '{s}' for column \"{column}\" of type {ty}"
                    )),
                    Error::Range(_) => {
                        Error::Range(format!("value '{s}' out of range for column \"{column}\" of type {ty}"))
                    }
                    other => other,
                }),
            _ => incompatible(),
        },
        DataType::Boolean => match v {
            Value::Boolean(b) => Ok(Value::Boolean(*b)),
            _ => incompatible(),
        },
        _ => incompatible(),
    }
}

fn fraction_err<T>(v: &Value, ty: DataType, column: &str) -> Result<T> {
    type_err(format!(
        "value {} is not an integer for column \"{column}\" of type {ty}",
        show_value(v)
    ))
}

fn integer_rank(t: DataType) -> u8 {
    match t {
        DataType::TinyInt => 1,
        DataType::SmallInt => 2,
        DataType::Integer => 3,
        _ => 4,
    }
}

/// The type two sides are compared or unified in (UNION columns, CASE branches, IN lists,
/// COALESCE); `None` when they are incompatible.
pub fn common_type(a: DataType, b: DataType) -> Option<DataType> {
    use DataType as T;
    Some(match (a, b) {
        (T::Null, other) | (other, T::Null) => other,
        (x, y) if x.is_integer() && y.is_integer() => {
            if integer_rank(x) >= integer_rank(y) {
                x
            } else {
                y
            }
        }
        (T::Float, y) | (y, T::Float) if y.is_numeric() => T::Float,
        (T::Decimal, y) | (y, T::Decimal) if y.is_numeric() => T::Decimal,
        (T::Varchar { len: l1, bytes: b1 }, T::Varchar { len: l2, bytes: b2 }) => T::Varchar {
            len: l1.max(l2),
            bytes: b1 && b2,
        },
        (T::Varbinary { len: l1 }, T::Varbinary { len: l2 }) => T::Varbinary { len: l1.max(l2) },
        (T::Timestamp, T::Timestamp | T::Varchar { .. }) | (T::Varchar { .. }, T::Timestamp) => T::Timestamp,
        (T::Boolean, T::Boolean) => T::Boolean,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
