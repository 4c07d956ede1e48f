//! The stored form of a row: a fixed-size byte record per table, laid out from the
//! column types, so a row costs no heap allocation of its own.
//!
//! Layout: a NULL bitmap (one bit per column), then one slot per column:
//! TINYINT 1 byte, SMALLINT 2, INTEGER 4, BIGINT / FLOAT / TIMESTAMP 8, DECIMAL 16 (the
//! scaled i128), little-endian. VARCHAR and VARBINARY whose declared maximum fits in
//! [`INLINE_MAX_BYTES`] are stored inline as a length byte plus the bytes (VoltDB also
//! inlines strings under 64 bytes); longer ones live out of line as shared values, and the
//! record holds nothing for them.

use std::sync::Arc;

use crate::decimal::Decimal;
use crate::types::DataType;
use crate::value::Value;

/// Largest declared string size (in bytes) stored inside the record.
pub const INLINE_MAX_BYTES: u32 = 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Int {
        offset: u32,
        width: u8,
    },
    Float {
        offset: u32,
    },
    Decimal {
        offset: u32,
    },
    Timestamp {
        offset: u32,
    },
    Boolean {
        offset: u32,
    },
    /// Inline string or binary: a length byte, then up to `cap` bytes.
    Inline {
        offset: u32,
        cap: u8,
        text: bool,
    },
    /// Out of line: index into the row's out-of-line values.
    Outline {
        index: u32,
    },
}

/// How one table's rows are encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    slots: Vec<Slot>,
    /// Bytes per record (bitmap included).
    size: usize,
    /// Out-of-line values per row.
    outline: usize,
}

/// Why a value cannot be stored in its column's slot (the SQL layer checks types first,
/// so this means a bug upstream, reported rather than stored wrongly).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("value {value} does not fit column {column} stored as {slot}")]
pub struct EncodeError {
    pub column: usize,
    pub value: String,
    pub slot: String,
}

impl Layout {
    pub fn new(columns: &[DataType]) -> Layout {
        let mut offset = columns.len().div_ceil(8) as u32;
        let mut outline = 0u32;
        let mut slots = Vec::with_capacity(columns.len());
        for ty in columns {
            let (slot, width) = match *ty {
                DataType::TinyInt => (Slot::Int { offset, width: 1 }, 1),
                DataType::SmallInt => (Slot::Int { offset, width: 2 }, 2),
                DataType::Integer => (Slot::Int { offset, width: 4 }, 4),
                DataType::BigInt => (Slot::Int { offset, width: 8 }, 8),
                DataType::Float => (Slot::Float { offset }, 8),
                DataType::Decimal => (Slot::Decimal { offset }, 16),
                DataType::Timestamp => (Slot::Timestamp { offset }, 8),
                DataType::Boolean => (Slot::Boolean { offset }, 1),
                DataType::Varchar { len, bytes } => {
                    let max = if bytes { len } else { len.saturating_mul(4) };
                    inline_or_outline(offset, max, true, &mut outline)
                }
                DataType::Varbinary { len } => inline_or_outline(offset, len, false, &mut outline),
                DataType::Null => {
                    outline += 1;
                    (Slot::Outline { index: outline - 1 }, 0)
                }
            };
            slots.push(slot);
            offset += width;
        }
        Layout {
            slots,
            size: offset as usize,
            outline: outline as usize,
        }
    }

    /// Bytes per record.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Out-of-line values per row.
    pub fn outline_count(&self) -> usize {
        self.outline
    }

    pub fn columns(&self) -> usize {
        self.slots.len()
    }

    /// Writes `row` into `record` (exactly `size()` bytes) and `outline` (exactly
    /// `outline_count()` values).
    pub fn encode(&self, row: &[Value], record: &mut [u8], outline: &mut [Value]) -> Result<(), EncodeError> {
        record.fill(0);
        for (c, (slot, v)) in self.slots.iter().zip(row).enumerate() {
            if let Slot::Outline { index } = slot {
                outline[*index as usize] = v.clone();
                continue;
            }
            if v.is_null() {
                record[c / 8] |= 1 << (c % 8);
                continue;
            }
            let bad = || EncodeError {
                column: c,
                value: format!("{v:?}"),
                slot: format!("{slot:?}"),
            };
            match (*slot, v) {
                (Slot::Int { offset, width }, Value::Integer(i)) => {
                    let bytes = i.to_le_bytes();
                    let w = usize::from(width);
                    // The value must survive the narrowing (sign-extended back).
                    let shift = 64 - 8 * w as u32;
                    if (i << shift) >> shift != *i {
                        return Err(bad());
                    }
                    put(record, offset, &bytes[..w]);
                }
                (Slot::Float { offset }, Value::Float(f)) => put(record, offset, &f.to_le_bytes()),
                (Slot::Decimal { offset }, Value::Decimal(d)) => put(record, offset, &d.raw().to_le_bytes()),
                (Slot::Timestamp { offset }, Value::Timestamp(t)) => put(record, offset, &t.to_le_bytes()),
                (Slot::Boolean { offset }, Value::Boolean(b)) => put(record, offset, &[u8::from(*b)]),
                (Slot::Inline { offset, cap, text }, v) => {
                    let bytes: &[u8] = match (v, text) {
                        (Value::Varchar(s), true) => s.as_bytes(),
                        (Value::Varbinary(b), false) => b,
                        _ => return Err(bad()),
                    };
                    if bytes.len() > usize::from(cap) {
                        return Err(bad());
                    }
                    record[offset as usize] = bytes.len() as u8;
                    put(record, offset + 1, bytes);
                }
                _ => return Err(bad()),
            }
        }
        Ok(())
    }

    /// Reads a record back into values, appending to `out`.
    pub fn decode_into(&self, record: &[u8], outline: &[Value], out: &mut Vec<Value>) {
        for (c, slot) in self.slots.iter().enumerate() {
            if let Slot::Outline { index } = slot {
                out.push(outline.get(*index as usize).cloned().unwrap_or(Value::Null));
                continue;
            }
            if record[c / 8] & (1 << (c % 8)) != 0 {
                out.push(Value::Null);
                continue;
            }
            out.push(match *slot {
                Slot::Int { offset, width } => {
                    let w = usize::from(width);
                    let mut b = [0u8; 8];
                    b[..w].copy_from_slice(get(record, offset, w));
                    let shift = 64 - 8 * w as u32;
                    Value::Integer((i64::from_le_bytes(b) << shift) >> shift)
                }
                Slot::Float { offset } => Value::Float(f64::from_le_bytes(array(record, offset))),
                Slot::Decimal { offset } => match Decimal::from_raw(i128::from_le_bytes(array(record, offset))) {
                    Ok(d) => Value::Decimal(d),
                    Err(_) => Value::Null,
                },
                Slot::Timestamp { offset } => Value::Timestamp(i64::from_le_bytes(array(record, offset))),
                Slot::Boolean { offset } => Value::Boolean(record[offset as usize] != 0),
                Slot::Inline { offset, text, .. } => {
                    let len = usize::from(record[offset as usize]);
                    let bytes = get(record, offset + 1, len);
                    if text {
                        // Encoded from a `str`, so always valid UTF-8.
                        Value::Varchar(Arc::from(String::from_utf8_lossy(bytes).as_ref()))
                    } else {
                        Value::Varbinary(Arc::from(bytes))
                    }
                }
                Slot::Outline { .. } => Value::Null,
            });
        }
    }
}

fn inline_or_outline(offset: u32, max: u32, text: bool, outline: &mut u32) -> (Slot, u32) {
    if max <= INLINE_MAX_BYTES {
        (
            Slot::Inline {
                offset,
                cap: max as u8,
                text,
            },
            max + 1,
        )
    } else {
        *outline += 1;
        (Slot::Outline { index: *outline - 1 }, 0)
    }
}

fn put(record: &mut [u8], offset: u32, bytes: &[u8]) {
    let at = offset as usize;
    record[at..at + bytes.len()].copy_from_slice(bytes);
}

fn get(record: &[u8], offset: u32, len: usize) -> &[u8] {
    let at = offset as usize;
    &record[at..at + len]
}

fn array<const N: usize>(record: &[u8], offset: u32) -> [u8; N] {
    let mut b = [0u8; N];
    b.copy_from_slice(get(record, offset, N));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(types: &[DataType], row: Vec<Value>) -> Vec<Value> {
        let layout = Layout::new(types);
        let mut record = vec![0u8; layout.size()];
        let mut outline = vec![Value::Null; layout.outline_count()];
        layout.encode(&row, &mut record, &mut outline).expect("encode");
        let mut out = Vec::new();
        layout.decode_into(&record, &outline, &mut out);
        out
    }

    #[test]
    fn every_type_round_trips_with_nulls() {
        let types = [
            DataType::TinyInt,
            DataType::SmallInt,
            DataType::Integer,
            DataType::BigInt,
            DataType::Float,
            DataType::Decimal,
            DataType::Timestamp,
            DataType::Varchar { len: 2, bytes: false },
            DataType::Varchar { len: 100, bytes: false },
            DataType::Varbinary { len: 8 },
            DataType::Varbinary { len: 1000 },
        ];
        let row = vec![
            Value::Integer(-127),
            Value::Integer(-32767),
            Value::Integer(i64::from(i32::MIN) + 1),
            Value::Integer(i64::MAX),
            Value::Float(-1.5e300),
            Value::Decimal(Decimal::parse("-12345678901234567890.123456789012").expect("decimal")),
            Value::Timestamp(-1_000_000),
            Value::str("é猫"),
            Value::str(&"x".repeat(100)),
            Value::bytes(&[0, 255, 7]),
            Value::bytes(&[9; 1000]),
        ];
        assert_eq!(round_trip(&types, row.clone()), row);
        let nulls = vec![Value::Null; types.len()];
        assert_eq!(round_trip(&types, nulls.clone()), nulls);
    }

    #[test]
    fn voter_row_is_compact() {
        let layout = Layout::new(&[
            DataType::BigInt,
            DataType::Varchar { len: 2, bytes: false },
            DataType::Integer,
        ]);
        assert_eq!(layout.size(), 1 + 8 + 9 + 4);
        assert_eq!(layout.outline_count(), 0);
    }

    #[test]
    fn values_that_do_not_fit_are_refused() {
        let layout = Layout::new(&[DataType::TinyInt, DataType::Varchar { len: 2, bytes: true }]);
        let mut record = vec![0u8; layout.size()];
        let mut outline = Vec::new();
        assert!(
            layout
                .encode(&[Value::Integer(300), Value::Null], &mut record, &mut outline)
                .is_err()
        );
        assert!(
            layout
                .encode(&[Value::Null, Value::str("abc")], &mut record, &mut outline)
                .is_err()
        );
        assert!(
            layout
                .encode(&[Value::str("1"), Value::Null], &mut record, &mut outline)
                .is_err()
        );
    }
}
