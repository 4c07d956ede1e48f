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
            Value::Float(f) if f.is_nan() => "NaN".into(),
            Value::Float(f) if f.is_infinite() => (if *f > 0.0 { "Infinity" } else { "-Infinity" }).into(),
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
    }
}
