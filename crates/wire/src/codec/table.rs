use std::sync::Arc;

use voltrs_storage::{Decimal, Value};

use super::{Reader, VoltType, WireError, put_bytes, put_str};

/// VoltDB's FLOAT NULL (-1.7E308); a Java reader takes anything at or below it as NULL.
pub const FLOAT_NULL: f64 = -1.7e308;

/// One column of a VoltTable.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: VoltType,
}

/// A decoded VoltTable (results on the client side, VOLTTABLE parameters on the server).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

/// Appends one VoltTable. Values are written as their column's type; a value of another
/// type is converted (an engine result never needs that, a hand-built table might).
pub fn encode_table<'a, R>(out: &mut Vec<u8>, columns: &[(&str, VoltType)], rows: R)
where
    R: IntoIterator<Item = &'a [Value]>,
{
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    let header_len: usize = 1 + 2 + columns.len() + columns.iter().map(|(n, _)| 4 + n.len()).sum::<usize>();
    out.extend_from_slice(&(header_len as i32).to_be_bytes());
    out.push(0x80);
    out.extend_from_slice(&(columns.len() as i16).to_be_bytes());
    for (_, ty) in columns {
        out.push(ty.code() as u8);
    }
    for (name, _) in columns {
        put_str(out, Some(name));
    }
    let count_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut count: i32 = 0;
    for row in rows {
        let row_start = out.len();
        out.extend_from_slice(&[0; 4]);
        for ((_, ty), v) in columns.iter().zip(row.iter()) {
            encode_value(out, *ty, v);
        }
        let len = (out.len() - row_start - 4) as i32;
        out[row_start..row_start + 4].copy_from_slice(&len.to_be_bytes());
        count += 1;
    }
    out[count_at..count_at + 4].copy_from_slice(&count.to_be_bytes());
    let total = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&total.to_be_bytes());
}

/// Appends one value as type `ty`, without a type byte; NULL is the type's sentinel.
pub fn encode_value(out: &mut Vec<u8>, ty: VoltType, v: &Value) {
    match ty {
        VoltType::TinyInt => out.push(int(v).map_or(i8::MIN, |i| i as i8) as u8),
        VoltType::SmallInt => out.extend_from_slice(&int(v).map_or(i16::MIN, |i| i as i16).to_be_bytes()),
        VoltType::Integer => out.extend_from_slice(&int(v).map_or(i32::MIN, |i| i as i32).to_be_bytes()),
        VoltType::BigInt => out.extend_from_slice(&int(v).unwrap_or(i64::MIN).to_be_bytes()),
        VoltType::Timestamp => out.extend_from_slice(&int(v).unwrap_or(i64::MIN).to_be_bytes()),
        VoltType::Float => out.extend_from_slice(&v.as_f64().unwrap_or(FLOAT_NULL).to_be_bytes()),
        VoltType::Decimal => {
            let raw = match v {
                Value::Null => i128::MIN,
                Value::Decimal(d) => d.raw(),
                Value::Integer(i) => Decimal::from_i64(*i).raw(),
                other => other
                    .as_f64()
                    .and_then(|f| Decimal::from_f64(f).ok())
                    .map_or(i128::MIN, |d| d.raw()),
            };
            out.extend_from_slice(&raw.to_be_bytes());
        }
        VoltType::Boolean => out.push(match v {
            Value::Null => i8::MIN as u8,
            Value::Boolean(b) => u8::from(*b),
            other => u8::from(int(other).unwrap_or(0) != 0),
        }),
        VoltType::Varbinary => match v {
            Value::Null => put_bytes(out, None),
            Value::Varbinary(b) => put_bytes(out, Some(b)),
            other => put_str(out, voltrs_storage::text::render(other).as_deref()),
        },
        VoltType::Date => {
            let days = int(v).map_or(i32::MIN, |us| date_code(us.div_euclid(86_400_000_000)));
            out.extend_from_slice(&days.to_be_bytes());
        }
        // STRING, and the types no engine value has (written as text or NULL).
        _ => match v {
            Value::Null => put_str(out, None),
            Value::Varchar(s) => put_str(out, Some(s)),
            other => put_str(out, voltrs_storage::text::render(other).as_deref()),
        },
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) | Value::Timestamp(i) => Some(*i),
        Value::Boolean(b) => Some(i64::from(*b)),
        Value::Float(f) => Some(*f as i64),
        Value::Decimal(d) => d.to_i64_trunc(),
        _ => None,
    }
}

/// VoltDB's DATE: `year << 16 | month << 8 | day`, from days since 1970-01-01.
fn date_code(days: i64) -> i32 {
    let (y, m, d) = civil_from_days(days);
    ((y as i32) << 16) | ((m as i32) << 8) | d as i32
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01; `None` for an impossible date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// Reads one value of type `ty` (no type byte); each type's sentinel is NULL.
pub fn decode_value(r: &mut Reader<'_>, ty: VoltType, at: usize) -> Result<Value, WireError> {
    Ok(match ty {
        VoltType::Null => Value::Null,
        VoltType::TinyInt => null_or(r.i8("TINYINT")?, i8::MIN, |i| Value::Integer(i64::from(i))),
        VoltType::SmallInt => null_or(r.i16("SMALLINT")?, i16::MIN, |i| Value::Integer(i64::from(i))),
        VoltType::Integer => null_or(r.i32("INTEGER")?, i32::MIN, |i| Value::Integer(i64::from(i))),
        VoltType::BigInt => null_or(r.i64("BIGINT")?, i64::MIN, Value::Integer),
        VoltType::Timestamp => null_or(r.i64("TIMESTAMP")?, i64::MIN, Value::Timestamp),
        VoltType::Float => {
            let f = r.f64("FLOAT")?;
            if f <= FLOAT_NULL { Value::Null } else { Value::Float(f) }
        }
        VoltType::String => match r.string("STRING")? {
            None => Value::Null,
            Some(s) => Value::Varchar(Arc::from(s)),
        },
        VoltType::Varbinary => match r.bytes("VARBINARY")? {
            None => Value::Null,
            Some(b) => Value::Varbinary(Arc::from(b)),
        },
        VoltType::Decimal => {
            let raw = r.i128("DECIMAL")?;
            if raw == i128::MIN {
                Value::Null
            } else {
                Value::Decimal(
                    Decimal::from_raw(raw)
                        .map_err(|_| WireError::Invalid(format!("DECIMAL at offset {at} is out of range")))?,
                )
            }
        }
        VoltType::Boolean => match r.i8("BOOLEAN")? {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            _ => Value::Null,
        },
        VoltType::Date => {
            let code = r.i32("DATE")?;
            if code == i32::MIN {
                Value::Null
            } else {
                let (y, m, d) = (i64::from(code >> 16), ((code >> 8) & 0xff) as u32, (code & 0xff) as u32);
                let days = days_from_civil(y, m, d)
                    .ok_or_else(|| WireError::Invalid(format!("invalid DATE {y}-{m}-{d} at offset {at}")))?;
                Value::Timestamp(days * 86_400_000_000)
            }
        }
        VoltType::VoltTable | VoltType::GeographyPoint | VoltType::Geography => {
            return Err(WireError::Invalid(format!(
                "{} values are not supported (offset {at})",
                ty.name()
            )));
        }
    })
}

fn null_or<T: PartialEq>(v: T, null: T, f: impl FnOnce(T) -> Value) -> Value {
    if v == null { Value::Null } else { f(v) }
}

/// Reads a whole VoltTable, starting at its total length.
pub fn decode_table(r: &mut Reader<'_>) -> Result<Table, WireError> {
    let at = r.position();
    let total = r.i32("table length")?;
    let total = r.count(i64::from(total), "table length")?;
    let body = r.take(total, "table")?;
    let mut t = Reader::new(body);
    let header_len = t.i32("table header length")?;
    t.count(i64::from(header_len), "table header length")?;
    t.i8("table status")?;
    let ncols = t.i16("column count")?;
    let ncols = t.count(i64::from(ncols), "column count")?;
    // Each column takes at least 5 header bytes: check before allocating.
    if ncols * 5 > t.remaining() {
        return Err(WireError::BadLength {
            what: "column count",
            len: ncols as i64,
            offset: at,
        });
    }
    let mut types = Vec::with_capacity(ncols);
    for _ in 0..ncols {
        let p = t.position();
        let code = t.i8("column type")?;
        let ty = VoltType::from_code(code).ok_or(WireError::UnknownType {
            code,
            offset: at + 4 + p,
        })?;
        types.push(ty);
    }
    let mut columns = Vec::with_capacity(ncols);
    for ty in types {
        let name = t.string("column name")?.unwrap_or_default().to_string();
        columns.push(Column { name, ty });
    }
    let nrows = t.i32("row count")?;
    let nrows = t.count(i64::from(nrows), "row count")?;
    if nrows * 4 > t.remaining() {
        return Err(WireError::BadLength {
            what: "row count",
            len: nrows as i64,
            offset: at,
        });
    }
    let mut rows = Vec::with_capacity(nrows);
    for _ in 0..nrows {
        let len = t.i32("row length")?;
        let len = t.count(i64::from(len), "row length")?;
        let row_at = at + 4 + t.position();
        let mut rr = Reader::new(t.take(len, "row")?);
        let mut row = Vec::with_capacity(columns.len());
        for c in &columns {
            let p = row_at + rr.position();
            row.push(decode_value(&mut rr, c.ty, p)?);
        }
        if rr.remaining() != 0 {
            return Err(WireError::Invalid(format!(
                "row at offset {row_at} has {} bytes after its last value",
                rr.remaining()
            )));
        }
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

impl Table {
    /// Encodes this table (for VOLTTABLE parameters and tests).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let cols: Vec<(&str, VoltType)> = self.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect();
        encode_table(out, &cols, self.rows.iter().map(Vec::as_slice));
    }
}
