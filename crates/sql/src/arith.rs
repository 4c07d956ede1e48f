//! Arithmetic on SQL values: the result type of `+ - * / %` and `||` under VoltDB's
//! promotion rules ([`arith_type`]), and their evaluation ([`arith`], [`negate`]) with NULL
//! propagation, overflow checks and division-by-zero errors. Nothing here panics.
//!
//! Rules: integer with integer computes in BIGINT; DECIMAL with an integer or DECIMAL
//! computes in DECIMAL; anything with FLOAT computes in FLOAT; an untyped NULL adopts the
//! other side. BIGINT results equal to `i64::MIN` are out of range (that value is VoltDB's
//! NULL), and FLOAT results that are infinite or NaN are errors, as in VoltDB.

use voltrs_storage::{DataType, Decimal, Value};

use crate::cast::{show_value, value_type_name};
use crate::error::{Error, Result, range_err, type_err};
use crate::expr::BinOp;

/// The type `l op r` computes in, or a type error naming the operator and both types.
pub fn arith_type(op: BinOp, l: DataType, r: DataType) -> Result<DataType> {
    match op {
        BinOp::Concat => {
            let stringy = |t: DataType| t.is_string() || t == DataType::Null;
            if stringy(l) && stringy(r) {
                Ok(DataType::VARCHAR_MAX)
            } else {
                incompatible(op, l, r)
            }
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            let numeric = |t: DataType| t.is_numeric() || t == DataType::Null;
            if !numeric(l) || !numeric(r) {
                return incompatible(op, l, r);
            }
            Ok(if l == DataType::Float || r == DataType::Float {
                DataType::Float
            } else if l == DataType::Decimal || r == DataType::Decimal {
                DataType::Decimal
            } else {
                DataType::BigInt
            })
        }
        _ => Err(Error::Invalid(format!("{} is not an arithmetic operator", op.symbol()))),
    }
}

fn incompatible<T>(op: BinOp, l: DataType, r: DataType) -> Result<T> {
    type_err(format!(
        "incompatible data types in operation: {} {} {}",
        l.name(),
        op.symbol(),
        r.name()
    ))
}

/// Evaluates `l op r` in type `ty` (as returned by [`arith_type`]): NULL if either side is
/// NULL; overflow, division by zero and non-finite FLOAT results are [`Error::Range`].
pub fn arith(op: BinOp, l: &Value, r: &Value, ty: DataType) -> Result<Value> {
    if l.is_null() || r.is_null() {
        return Ok(Value::Null);
    }
    if op == BinOp::Concat {
        return match (l, r, ty) {
            (Value::Varchar(a), Value::Varchar(b), DataType::Varchar { .. } | DataType::Null) => {
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a);
                s.push_str(b);
                Ok(Value::str(&s))
            }
            _ => operand_err(op, l, r),
        };
    }
    if !matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod) {
        return Err(Error::Invalid(format!("{} is not an arithmetic operator", op.symbol())));
    }
    match ty {
        t if t.is_integer() => match (l, r) {
            (Value::Integer(a), Value::Integer(b)) => int_op(op, *a, *b, t),
            _ => operand_err(op, l, r),
        },
        DataType::Decimal => {
            let (Some(a), Some(b)) = (to_decimal(l)?, to_decimal(r)?) else {
                return operand_err(op, l, r);
            };
            decimal_op(op, a, b)
        }
        DataType::Float => {
            let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
                return operand_err(op, l, r);
            };
            float_op(op, a, b)
        }
        _ => operand_err(op, l, r),
    }
}

fn operand_err<T>(op: BinOp, l: &Value, r: &Value) -> Result<T> {
    type_err(format!(
        "incompatible data types in operation: {} {} {}",
        value_type_name(l),
        op.symbol(),
        value_type_name(r)
    ))
}

fn overflow<T>(op: BinOp, a: impl std::fmt::Display, b: impl std::fmt::Display, ty: &str) -> Result<T> {
    range_err(format!(
        "numeric value out of range: {a} {} {b} overflows {ty}",
        op.symbol()
    ))
}

fn int_op(op: BinOp, a: i64, b: i64, ty: DataType) -> Result<Value> {
    let result = match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div if b == 0 => return range_err("division by zero"),
        BinOp::Div => a.checked_div(b),
        BinOp::Mod if b == 0 => return range_err("division by zero"),
        BinOp::Mod if b == -1 => Some(0),
        BinOp::Mod => a.checked_rem(b),
        _ => None,
    };
    let (min, max) = ty.integer_range().unwrap_or((i64::MIN + 1, i64::MAX));
    match result {
        Some(v) if v >= min && v <= max => Ok(Value::Integer(v)),
        _ => overflow(op, a, b, ty.name()),
    }
}

/// A numeric value as DECIMAL (`None` for non-numeric values).
fn to_decimal(v: &Value) -> Result<Option<Decimal>> {
    Ok(match v {
        Value::Integer(i) => Some(Decimal::from_i64(*i)),
        Value::Decimal(d) => Some(*d),
        Value::Float(f) => Some(Decimal::from_f64(*f).map_err(|_| {
            Error::Range(format!(
                "numeric value out of range: {} does not fit DECIMAL",
                show_value(v)
            ))
        })?),
        _ => None,
    })
}

fn decimal_op(op: BinOp, a: Decimal, b: Decimal) -> Result<Value> {
    if matches!(op, BinOp::Div | BinOp::Mod) && b.raw() == 0 {
        return range_err("division by zero");
    }
    let result = match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div => a.checked_div(b),
        // Both sides share the scale, so the remainder of the raw values is the scaled remainder.
        _ => Decimal::from_raw(a.raw() % b.raw()),
    };
    match result {
        Ok(d) => Ok(Value::Decimal(d)),
        Err(_) => overflow(op, a, b, "DECIMAL"),
    }
}

fn float_op(op: BinOp, a: f64, b: f64) -> Result<Value> {
    if matches!(op, BinOp::Div | BinOp::Mod) && b == 0.0 {
        return range_err("division by zero");
    }
    let result = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        _ => a % b,
    };
    if result.is_finite() {
        Ok(Value::Float(result))
    } else {
        let show = voltrs_storage::text::render_float;
        overflow(op, show(a), show(b), "FLOAT")
    }
}

/// Unary minus: NULL stays NULL; negating the most negative BIGINT is out of range.
pub fn negate(v: &Value) -> Result<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Integer(i) => match i.checked_neg() {
            Some(n) if n != i64::MIN => Ok(Value::Integer(n)),
            _ => range_err(format!("numeric value out of range: -({i}) overflows BIGINT")),
        },
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Decimal(d) => Ok(Value::Decimal(d.neg())),
        other => type_err(format!(
            "incompatible data type in operation: -{}",
            value_type_name(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::parse(s).unwrap())
    }

    fn int(op: BinOp, a: i64, b: i64) -> Result<Value> {
        arith(op, &Value::Integer(a), &Value::Integer(b), DataType::BigInt)
    }

    #[test]
    fn result_types() {
        use DataType::*;
        assert_eq!(arith_type(BinOp::Add, TinyInt, SmallInt).unwrap(), BigInt);
        assert_eq!(arith_type(BinOp::Mul, Integer, Integer).unwrap(), BigInt);
        assert_eq!(arith_type(BinOp::Sub, Integer, Decimal).unwrap(), Decimal);
        assert_eq!(arith_type(BinOp::Div, Decimal, Decimal).unwrap(), Decimal);
        assert_eq!(arith_type(BinOp::Add, Decimal, Float).unwrap(), Float);
        assert_eq!(arith_type(BinOp::Add, BigInt, Float).unwrap(), Float);
        assert_eq!(arith_type(BinOp::Add, Null, Decimal).unwrap(), Decimal);
        assert_eq!(arith_type(BinOp::Add, Float, Null).unwrap(), Float);
        assert_eq!(arith_type(BinOp::Add, Null, Null).unwrap(), BigInt);
        assert_eq!(
            arith_type(BinOp::Concat, DataType::VARCHAR_MAX, Varchar { len: 3, bytes: true }).unwrap(),
            DataType::VARCHAR_MAX
        );
        assert_eq!(
            arith_type(BinOp::Concat, Null, Varchar { len: 3, bytes: false }).unwrap(),
            DataType::VARCHAR_MAX
        );
    }

    #[test]
    fn type_errors_name_operator_and_types() {
        let v = DataType::Varchar { len: 10, bytes: false };
        let e = arith_type(BinOp::Add, v, DataType::Integer).unwrap_err();
        assert_eq!(
            e,
            Error::Type("incompatible data types in operation: VARCHAR + INTEGER".into())
        );
        assert!(arith_type(BinOp::Sub, DataType::Timestamp, DataType::Timestamp).is_err());
        assert!(arith_type(BinOp::Add, DataType::Timestamp, DataType::BigInt).is_err());
        assert!(arith_type(BinOp::Concat, v, DataType::Integer).is_err());
        assert!(arith_type(BinOp::Add, DataType::Boolean, DataType::Integer).is_err());
        assert_eq!(
            arith_type(BinOp::Eq, DataType::Integer, DataType::Integer)
                .unwrap_err()
                .kind(),
            "invalid"
        );
    }

    #[test]
    fn integer_arithmetic() {
        assert_eq!(int(BinOp::Add, 2, 3).unwrap(), Value::Integer(5));
        assert_eq!(int(BinOp::Div, 7, 2).unwrap(), Value::Integer(3));
        assert_eq!(int(BinOp::Div, -7, 2).unwrap(), Value::Integer(-3));
        assert_eq!(int(BinOp::Mod, -7, 2).unwrap(), Value::Integer(-1));
        assert_eq!(int(BinOp::Mod, 7, -2).unwrap(), Value::Integer(1));
        assert_eq!(int(BinOp::Mod, i64::MAX, -1).unwrap(), Value::Integer(0));
    }

    #[test]
    fn integer_overflow_and_null_sentinel() {
        let e = int(BinOp::Add, i64::MAX, 1).unwrap_err();
        assert_eq!(e.kind(), "range");
        assert!(e.to_string().starts_with("numeric value out of range"), "{e}");
        assert!(e.to_string().contains('+'), "{e}");
        assert_eq!(int(BinOp::Mul, i64::MAX / 2 + 1, 2).unwrap_err().kind(), "range");
        // i64::MIN is VoltDB's BIGINT NULL: a result equal to it is out of range.
        assert_eq!(int(BinOp::Sub, -i64::MAX, 1).unwrap_err().kind(), "range");
        assert_eq!(int(BinOp::Sub, -i64::MAX, 0).unwrap(), Value::Integer(-i64::MAX));
        assert_eq!(int(BinOp::Mul, i64::MIN + 1, -1).unwrap(), Value::Integer(i64::MAX));
        // Narrower result types are checked against their own range.
        let r = arith(BinOp::Add, &Value::Integer(127), &Value::Integer(1), DataType::TinyInt);
        assert_eq!(r.unwrap_err().kind(), "range");
    }

    #[test]
    fn division_by_zero() {
        for op in [BinOp::Div, BinOp::Mod] {
            assert_eq!(int(op, 1, 0).unwrap_err(), Error::Range("division by zero".into()));
            let d = arith(op, &dec("1.5"), &dec("0"), DataType::Decimal).unwrap_err();
            assert_eq!(d, Error::Range("division by zero".into()));
            let f = arith(op, &Value::Float(1.0), &Value::Float(0.0), DataType::Float).unwrap_err();
            assert_eq!(f, Error::Range("division by zero".into()));
        }
    }

    #[test]
    fn decimal_and_float() {
        let r = arith(BinOp::Add, &Value::Integer(1), &dec("0.5"), DataType::Decimal).unwrap();
        assert_eq!(r, dec("1.5"));
        let r = arith(BinOp::Mod, &dec("7.5"), &Value::Integer(2), DataType::Decimal).unwrap();
        assert_eq!(r, dec("1.5"));
        let r = arith(BinOp::Mod, &dec("-7.5"), &Value::Integer(2), DataType::Decimal).unwrap();
        assert_eq!(r, dec("-1.5"));
        let r = arith(BinOp::Mul, &Value::Integer(3), &Value::Float(0.5), DataType::Float).unwrap();
        assert_eq!(r, Value::Float(1.5));
        let r = arith(BinOp::Mul, &Value::Float(1e308), &Value::Float(10.0), DataType::Float);
        assert_eq!(r.unwrap_err().kind(), "range");
        let big = dec("90000000000000000000000000");
        assert_eq!(
            arith(BinOp::Mul, &big, &big, DataType::Decimal).unwrap_err().kind(),
            "range"
        );
    }

    #[test]
    fn nulls_and_concat() {
        assert!(
            arith(BinOp::Add, &Value::Null, &Value::Integer(1), DataType::BigInt)
                .unwrap()
                .is_null()
        );
        assert!(
            arith(BinOp::Div, &Value::Integer(1), &Value::Null, DataType::BigInt)
                .unwrap()
                .is_null()
        );
        let c = arith(
            BinOp::Concat,
            &Value::str("ab"),
            &Value::str("cé"),
            DataType::VARCHAR_MAX,
        )
        .unwrap();
        assert_eq!(c, Value::str("abcé"));
        assert!(
            arith(BinOp::Concat, &Value::str("a"), &Value::Null, DataType::VARCHAR_MAX)
                .unwrap()
                .is_null()
        );
        let e = arith(BinOp::Add, &Value::str("a"), &Value::Integer(1), DataType::BigInt).unwrap_err();
        assert_eq!(e.kind(), "type");
    }

    #[test]
    fn negation() {
        assert_eq!(negate(&Value::Integer(5)).unwrap(), Value::Integer(-5));
        assert_eq!(negate(&Value::Integer(-i64::MAX)).unwrap(), Value::Integer(i64::MAX));
        assert_eq!(negate(&Value::Integer(i64::MIN)).unwrap_err().kind(), "range");
        assert_eq!(negate(&dec("1.25")).unwrap(), dec("-1.25"));
        assert_eq!(negate(&Value::Float(2.0)).unwrap(), Value::Float(-2.0));
        assert!(negate(&Value::Null).unwrap().is_null());
        assert_eq!(negate(&Value::str("x")).unwrap_err().kind(), "type");
    }

    proptest! {
        #[test]
        fn integer_ops_match_i128(a in any::<i64>(), b in any::<i64>()) {
            for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Mod] {
                let got = int(op, a, b);
                let (x, y) = (a as i128, b as i128);
                let expected = match op {
                    BinOp::Add => Some(x + y),
                    BinOp::Sub => Some(x - y),
                    BinOp::Mul => Some(x * y),
                    BinOp::Div => (y != 0).then(|| x / y),
                    _ => (y != 0).then(|| x % y),
                };
                match expected {
                    None => prop_assert_eq!(got, Err(Error::Range("division by zero".into()))),
                    Some(v) if v > i64::MIN as i128 && v <= i64::MAX as i128 => {
                        prop_assert_eq!(got, Ok(Value::Integer(v as i64)))
                    }
                    Some(_) => prop_assert_eq!(got.map_err(|e| e.kind()), Err("range")),
                }
            }
        }
    }
}
