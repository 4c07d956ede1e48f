//! Runtime values. One variant per storage class; the column or expression
//! [`DataType`](crate::DataType) says which integer width a `Integer` belongs to.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::decimal::Decimal;

/// A SQL value. `Null` is SQL NULL of any type (on the wire it becomes the type's sentinel).
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    /// TINYINT, SMALLINT, INTEGER or BIGINT.
    Integer(i64),
    Float(f64),
    Decimal(Decimal),
    Varchar(Arc<str>),
    Varbinary(Arc<[u8]>),
    /// Microseconds since the Unix epoch, no time zone.
    Timestamp(i64),
    Boolean(bool),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn str(s: &str) -> Value {
        Value::Varchar(Arc::from(s))
    }

    pub fn bytes(b: &[u8]) -> Value {
        Value::Varbinary(Arc::from(b))
    }

    /// The value as an f64 if it is numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Decimal(d) => Some(d.to_f64()),
            _ => None,
        }
    }

    /// SQL comparison: `None` when either side is NULL or the two are not comparable.
    pub fn sql_cmp(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        match (self, other) {
            (Null, _) | (_, Null) => None,
            (Integer(a), Integer(b)) => Some(a.cmp(b)),
            (Float(a), Float(b)) => a.partial_cmp(b),
            (Decimal(a), Decimal(b)) => Some(a.cmp(b)),
            (Integer(a), Decimal(b)) => Some(crate::decimal::Decimal::cmp_i64(*a, b)),
            (Decimal(a), Integer(b)) => Some(crate::decimal::Decimal::cmp_i64(*b, a).reverse()),
            (Integer(a), Float(b)) => cmp_i64_f64(*a, *b),
            (Float(a), Integer(b)) => cmp_i64_f64(*b, *a).map(Ordering::reverse),
            (Decimal(a), Float(b)) => a.to_f64().partial_cmp(b),
            (Float(a), Decimal(b)) => a.partial_cmp(&b.to_f64()),
            (Varchar(a), Varchar(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Varbinary(a), Varbinary(b)) => Some(a.cmp(b)),
            (Timestamp(a), Timestamp(b)) => Some(a.cmp(b)),
            (Boolean(a), Boolean(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Rank of the storage class in the total order (NULL sorts first, as VoltDB does).
    fn class_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Boolean(_) => 1,
            Value::Integer(_) | Value::Float(_) | Value::Decimal(_) => 2,
            Value::Timestamp(_) => 3,
            Value::Varchar(_) => 4,
            Value::Varbinary(_) => 5,
        }
    }
}

fn cmp_i64_f64(a: i64, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    // Exact for |a| < 2^53; beyond that compare in f64 space, then break ties exactly.
    let af = a as f64;
    match af.partial_cmp(&b) {
        Some(Ordering::Equal) if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&b) => {
            Some(a.cmp(&(b as i64)))
        }
        other => other,
    }
}

/// Total order used for sorting, grouping and index keys: NULL first, then by value;
/// numbers of different classes compare numerically; NaN sorts above every number.
impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        if let Some(ord) = self.sql_cmp(other) {
            return ord;
        }
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::Float(a), _) if a.is_nan() => Ordering::Greater,
            (_, Value::Float(b)) if b.is_nan() => Ordering::Less,
            _ => self.class_rank().cmp(&other.class_rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

/// Consistent with `Eq`: numbers equal across classes hash alike. Every number hashes as
/// its nearest double (integers and decimals correctly rounded), because every equality
/// between classes implies equal nearest doubles: INTEGER = FLOAT compares in doubles and
/// then exactly, DECIMAL = FLOAT compares the decimal's nearest double, and INTEGER = DECIMAL
/// is exact. Distinct large integers may share a hash; that costs a probe, never a row.
impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Boolean(b) => b.hash(state),
            Value::Integer(i) => hash_number(*i as f64, state),
            Value::Float(f) => hash_number(*f, state),
            Value::Decimal(d) => hash_number(d.to_f64(), state),
            Value::Timestamp(t) => t.hash(state),
            Value::Varchar(s) => s.hash(state),
            Value::Varbinary(b) => b.hash(state),
        }
    }
}

fn hash_number<H: Hasher>(f: f64, state: &mut H) {
    2u8.hash(state);
    // -0.0 equals 0.0.
    let bits = if f == 0.0 { 0 } else { f.to_bits() };
    bits.hash(state);
}
