//! Tests of CAST, column coercion and common types.

use super::*;
use voltrs_storage::text::hex_upper;

fn vc(len: u32) -> DataType {
    DataType::Varchar { len, bytes: false }
}
fn vcb(len: u32) -> DataType {
    DataType::Varchar { len, bytes: true }
}
fn dec(s: &str) -> Value {
    Value::Decimal(Decimal::parse(s).unwrap())
}
fn kind(r: Result<Value>) -> &'static str {
    r.unwrap_err().kind()
}

#[test]
fn integer_ranges() {
    let t = DataType::TinyInt;
    assert_eq!(cast(&Value::Integer(127), t).unwrap(), Value::Integer(127));
    assert_eq!(cast(&Value::Integer(-127), t).unwrap(), Value::Integer(-127));
    assert_eq!(kind(cast(&Value::Integer(128), t)), "range");
    assert_eq!(kind(cast(&Value::Integer(-128), t)), "range");
    assert_eq!(kind(cast(&Value::Integer(i64::MIN), DataType::BigInt)), "range");
    assert_eq!(kind(cast(&Value::Integer(40_000), DataType::SmallInt)), "range");
    let max = Value::Integer(i32::MAX as i64);
    assert_eq!(cast(&max, DataType::Integer).unwrap(), max);
}

#[test]
fn fractions_truncate_toward_zero() {
    assert_eq!(cast(&Value::Float(2.9), DataType::Integer).unwrap(), Value::Integer(2));
    assert_eq!(
        cast(&Value::Float(-2.9), DataType::Integer).unwrap(),
        Value::Integer(-2)
    );
    assert_eq!(
        cast(&Value::Float(127.5), DataType::TinyInt).unwrap(),
        Value::Integer(127)
    );
    assert_eq!(cast(&dec("-7.999"), DataType::BigInt).unwrap(), Value::Integer(-7));
    assert_eq!(kind(cast(&Value::Float(1e19), DataType::BigInt)), "range");
    assert_eq!(kind(cast(&Value::Float(i64::MIN as f64), DataType::BigInt)), "range");
    assert_eq!(kind(cast(&Value::Float(f64::NAN), DataType::BigInt)), "range");
    assert_eq!(kind(cast(&dec("128.5"), DataType::TinyInt)), "range");
}

#[test]
fn strings_to_numbers() {
    assert_eq!(
        cast(&Value::str(" 42 "), DataType::Integer).unwrap(),
        Value::Integer(42)
    );
    assert_eq!(cast(&Value::str("-7"), DataType::TinyInt).unwrap(), Value::Integer(-7));
    let e = cast(&Value::str("abc"), DataType::Integer).unwrap_err();
    assert_eq!(
        e,
        Error::Type("invalid character value for cast: 'abc' to INTEGER".into())
    );
    assert_eq!(kind(cast(&Value::str("1.5"), DataType::Integer)), "type");
    assert_eq!(kind(cast(&Value::str(""), DataType::BigInt)), "type");
    assert_eq!(kind(cast(&Value::str("200"), DataType::TinyInt)), "range");
    assert_eq!(
        kind(cast(&Value::str("99999999999999999999"), DataType::BigInt)),
        "range"
    );
    assert_eq!(cast(&Value::str("2.5e1"), DataType::Float).unwrap(), Value::Float(25.0));
    assert_eq!(kind(cast(&Value::str("inf"), DataType::Float)), "type");
    assert_eq!(kind(cast(&Value::str("1e999"), DataType::Float)), "range");
    assert_eq!(cast(&Value::str("1.25"), DataType::Decimal).unwrap(), dec("1.25"));
    assert_eq!(kind(cast(&Value::str("x1"), DataType::Decimal)), "type");
}

#[test]
fn numbers_to_numbers() {
    assert_eq!(cast(&Value::Integer(3), DataType::Float).unwrap(), Value::Float(3.0));
    assert_eq!(cast(&Value::Integer(3), DataType::Decimal).unwrap(), dec("3"));
    assert_eq!(cast(&dec("2.5"), DataType::Float).unwrap(), Value::Float(2.5));
    assert_eq!(cast(&Value::Float(0.5), DataType::Decimal).unwrap(), dec("0.5"));
    assert_eq!(kind(cast(&Value::Float(f64::INFINITY), DataType::Decimal)), "range");
    assert_eq!(
        cast(&Value::Boolean(true), DataType::Integer).unwrap(),
        Value::Integer(1)
    );
    assert_eq!(
        cast(&Value::Boolean(false), DataType::TinyInt).unwrap(),
        Value::Integer(0)
    );
}

#[test]
fn to_varchar_checks_length() {
    assert_eq!(cast(&Value::Integer(-12), vc(3)).unwrap(), Value::str("-12"));
    assert_eq!(kind(cast(&Value::Integer(-123), vc(3))), "range");
    assert_eq!(
        cast(&dec("1.5"), DataType::VARCHAR_MAX).unwrap(),
        Value::str("1.500000000000")
    );
    assert_eq!(
        cast(&Value::Float(1.5), DataType::VARCHAR_MAX).unwrap(),
        Value::str("1.5")
    );
    let e = cast(&Value::str("abcd"), vc(3)).unwrap_err();
    assert_eq!(e, Error::Range("value too long for VARCHAR(3)".into()));
    assert_eq!(cast(&Value::str("ééé"), vc(3)).unwrap(), Value::str("ééé"));
    assert_eq!(kind(cast(&Value::str("éé"), vcb(3))), "range");
    assert_eq!(cast(&Value::str("éa"), vcb(3)).unwrap(), Value::str("éa"));
    assert_eq!(
        cast(&Value::bytes(&[0xAB, 1]), DataType::VARCHAR_MAX).unwrap(),
        Value::str("AB01")
    );
    assert_eq!(
        cast(&Value::Timestamp(0), DataType::VARCHAR_MAX).unwrap(),
        Value::str("1970-01-01 00:00:00.000000")
    );
}

#[test]
fn timestamps_and_binary() {
    let ts = cast(&Value::str("2024-02-29 12:00:00"), DataType::Timestamp).unwrap();
    assert_eq!(ts, Value::Timestamp(1_709_208_000_000_000));
    assert_eq!(
        cast(&ts, DataType::BigInt).unwrap(),
        Value::Integer(1_709_208_000_000_000)
    );
    assert_eq!(kind(cast(&ts, DataType::Integer)), "range");
    assert_eq!(
        cast(&Value::Integer(5), DataType::Timestamp).unwrap(),
        Value::Timestamp(5)
    );
    let e = cast(&Value::str("yesterday"), DataType::Timestamp).unwrap_err();
    assert_eq!(
        e,
        Error::Type("invalid character value for cast: 'yesterday' to TIMESTAMP".into())
    );
    assert_eq!(kind(cast(&Value::Float(1.0), DataType::Timestamp)), "type");
    let vb = DataType::Varbinary { len: 2 };
    assert_eq!(cast(&Value::str("0aFF"), vb).unwrap(), Value::bytes(&[0x0A, 0xFF]));
    assert_eq!(kind(cast(&Value::str("0aF"), vb)), "type");
    assert_eq!(kind(cast(&Value::str("zz"), vb)), "type");
    assert_eq!(kind(cast(&Value::str("010203"), vb)), "range");
    assert_eq!(kind(cast(&Value::Integer(1), vb)), "type");
}

#[test]
fn null_and_untyped_target() {
    assert!(cast(&Value::Null, DataType::Integer).unwrap().is_null());
    assert_eq!(cast(&Value::str("x"), DataType::Null).unwrap(), Value::str("x"));
    assert!(
        coerce_for_column(&Value::Null, DataType::TinyInt, "A")
            .unwrap()
            .is_null()
    );
}

#[test]
fn column_integer_rules() {
    let t = DataType::TinyInt;
    assert_eq!(
        coerce_for_column(&Value::Integer(127), t, "A").unwrap(),
        Value::Integer(127)
    );
    let e = coerce_for_column(&Value::Integer(128), t, "A").unwrap_err();
    assert_eq!(
        e,
        Error::Range("value 128 out of range for column \"A\" of type TINYINT".into())
    );
    assert_eq!(kind(coerce_for_column(&Value::Integer(-128), t, "A")), "range");
    assert_eq!(
        coerce_for_column(&Value::Float(5.0), t, "A").unwrap(),
        Value::Integer(5)
    );
    assert_eq!(coerce_for_column(&dec("-5"), t, "A").unwrap(), Value::Integer(-5));
    assert_eq!(kind(coerce_for_column(&Value::Float(5.5), t, "A")), "type");
    assert_eq!(kind(coerce_for_column(&dec("5.5"), t, "A")), "type");
    assert_eq!(kind(coerce_for_column(&dec("500"), t, "A")), "range");
    assert_eq!(
        kind(coerce_for_column(&Value::Float(1e300), DataType::BigInt, "A")),
        "range"
    );
    let e = coerce_for_column(&Value::str("5"), DataType::Integer, "A").unwrap_err();
    assert_eq!(
        e,
        Error::Type("incompatible type VARCHAR for column \"A\" of type INTEGER".into())
    );
    assert_eq!(
        kind(coerce_for_column(&Value::Timestamp(0), DataType::BigInt, "A")),
        "type"
    );
}

#[test]
fn column_string_rules() {
    let e = coerce_for_column(&Value::str("abcdef"), vc(5), "A").unwrap_err();
    assert_eq!(
        e,
        Error::Range("value too long for column \"A\" of type VARCHAR(5)".into())
    );
    assert_eq!(
        coerce_for_column(&Value::str("ééé"), vc(3), "A").unwrap(),
        Value::str("ééé")
    );
    let e = coerce_for_column(&Value::str("éé"), vcb(3), "A").unwrap_err();
    assert_eq!(
        e,
        Error::Range("value too long for column \"A\" of type VARCHAR(3 BYTES)".into())
    );
    assert_eq!(kind(coerce_for_column(&Value::Integer(1), vc(5), "A")), "type");
    let vb = DataType::Varbinary { len: 2 };
    assert_eq!(
        coerce_for_column(&Value::str("ABCD"), vb, "B").unwrap(),
        Value::bytes(&[0xAB, 0xCD])
    );
    assert_eq!(kind(coerce_for_column(&Value::bytes(&[1, 2, 3]), vb, "B")), "range");
    assert_eq!(kind(coerce_for_column(&Value::str("XYZW"), vb, "B")), "type");
}

#[test]
fn column_other_rules() {
    let ts = DataType::Timestamp;
    assert_eq!(
        coerce_for_column(&Value::str("1970-01-01 00:00:01"), ts, "T").unwrap(),
        Value::Timestamp(1_000_000)
    );
    assert_eq!(
        coerce_for_column(&Value::Integer(7), ts, "T").unwrap(),
        Value::Timestamp(7)
    );
    assert_eq!(kind(coerce_for_column(&Value::str("soon"), ts, "T")), "type");
    assert_eq!(kind(coerce_for_column(&Value::Float(1.0), ts, "T")), "type");
    assert_eq!(
        coerce_for_column(&Value::Integer(2), DataType::Decimal, "D").unwrap(),
        dec("2")
    );
    assert_eq!(
        coerce_for_column(&Value::Integer(2), DataType::Float, "F").unwrap(),
        Value::Float(2.0)
    );
    assert_eq!(
        kind(coerce_for_column(&Value::Float(f64::NAN), DataType::Decimal, "D")),
        "range"
    );
    assert_eq!(kind(coerce_for_column(&Value::str("1"), DataType::Float, "F")), "type");
}

#[test]
fn common_types() {
    use DataType::*;
    assert_eq!(common_type(TinyInt, Integer), Some(Integer));
    assert_eq!(common_type(BigInt, SmallInt), Some(BigInt));
    assert_eq!(common_type(Integer, Decimal), Some(Decimal));
    assert_eq!(common_type(Decimal, Float), Some(Float));
    assert_eq!(common_type(Float, TinyInt), Some(Float));
    assert_eq!(common_type(vc(3), vc(10)), Some(vc(10)));
    assert_eq!(common_type(vcb(3), vcb(10)), Some(vcb(10)));
    assert_eq!(common_type(vcb(3), vc(2)), Some(vc(3)));
    assert_eq!(common_type(Null, vc(3)), Some(vc(3)));
    assert_eq!(common_type(Null, Null), Some(Null));
    assert_eq!(common_type(Timestamp, vc(30)), Some(Timestamp));
    assert_eq!(common_type(Timestamp, Timestamp), Some(Timestamp));
    assert_eq!(common_type(Integer, vc(3)), None);
    assert_eq!(common_type(Timestamp, BigInt), None);
    assert_eq!(common_type(Varbinary { len: 1 }, vc(3)), None);
}

#[test]
fn hex() {
    assert_eq!(parse_hex(""), Some(vec![]));
    assert_eq!(parse_hex("00fFa1"), Some(vec![0, 255, 0xA1]));
    assert_eq!(parse_hex("é1"), None);
    assert_eq!(parse_hex("abc"), None);
    assert_eq!(hex_upper(&[0xDE, 0xAD]), "DEAD");
}
