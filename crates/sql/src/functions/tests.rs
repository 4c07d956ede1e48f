//! Tests of function resolution, math and conditional functions, and shared test helpers.

use super::*;

pub(super) const CTX: FuncContext = FuncContext {
    now: 1_700_000_000_123_456,
    seed: 7,
};

pub(super) fn run(name: &str, args: &[Value]) -> Result<Value> {
    let types: Vec<DataType> = args.iter().map(type_of).collect();
    let (func, _) = resolve(name, &types)?.ok_or_else(|| Error::Name(name.into()))?;
    call(func, args, &CTX)
}

pub(super) fn type_of(v: &Value) -> DataType {
    match v {
        Value::Null => DataType::Null,
        Value::Integer(_) => DataType::BigInt,
        Value::Float(_) => DataType::Float,
        Value::Decimal(_) => DataType::Decimal,
        Value::Varchar(_) => DataType::VARCHAR_MAX,
        Value::Varbinary(_) => DataType::VARBINARY_MAX,
        Value::Timestamp(_) => DataType::Timestamp,
        Value::Boolean(_) => DataType::Boolean,
    }
}

pub(super) fn dec(s: &str) -> Value {
    Value::Decimal(Decimal::parse(s).unwrap())
}

fn int(i: i64) -> Value {
    Value::Integer(i)
}

#[test]
fn resolve_errors() {
    let vc = DataType::Varchar { len: 5, bytes: false };
    assert_eq!(resolve("NO_SUCH_FN", &[]).unwrap(), None);
    let e = resolve("ABS", &[vc]).unwrap_err();
    assert_eq!(e, Error::Type("function ABS does not accept VARCHAR".into()));
    let e = resolve("SUBSTRING", &[vc]).unwrap_err();
    assert_eq!(e, Error::Type("function SUBSTRING takes 2 or 3 arguments".into()));
    let e = resolve("ABS", &[]).unwrap_err();
    assert_eq!(e, Error::Type("function ABS takes 1 argument".into()));
    assert_eq!(resolve("PI", &[DataType::Integer]).unwrap_err().kind(), "type");
    assert_eq!(
        resolve("MOD", &[DataType::Float, DataType::Integer])
            .unwrap_err()
            .kind(),
        "type"
    );
    assert!(
        resolve("COALESCE", &[DataType::Integer, vc])
            .unwrap_err()
            .to_string()
            .contains("COALESCE")
    );
    assert_eq!(
        resolve("DECODE", &[DataType::Integer, DataType::Integer])
            .unwrap_err()
            .kind(),
        "type"
    );
    assert_eq!(
        resolve("CEIL", &[DataType::Decimal]).unwrap(),
        Some((Func::Ceiling, DataType::Decimal))
    );
    assert_eq!(
        resolve("ROUND", &[DataType::Float]).unwrap(),
        Some((Func::Round, DataType::Float))
    );
    assert_eq!(
        resolve("SQRT", &[DataType::Integer]).unwrap(),
        Some((Func::Sqrt, DataType::Float))
    );
    assert_eq!(
        resolve("LOG", &[DataType::Integer]).unwrap(),
        Some((Func::Ln, DataType::Float))
    );
    let m = resolve("MOD", &[DataType::Integer, DataType::Decimal]).unwrap();
    assert_eq!(m, Some((Func::Mod(DataType::Decimal), DataType::Decimal)));
}

#[test]
fn wrong_arity_at_call_is_an_error_not_a_panic() {
    assert_eq!(call(Func::Abs, &[], &CTX).unwrap_err().kind(), "invalid");
    assert_eq!(
        call(Func::Substring, &[Value::str("x")], &CTX).unwrap_err().kind(),
        "invalid"
    );
}

#[test]
fn math() {
    assert_eq!(run("ABS", &[int(-5)]).unwrap(), int(5));
    assert_eq!(run("ABS", &[int(i64::MIN)]).unwrap_err().kind(), "range");
    assert_eq!(run("ABS", &[dec("-1.5")]).unwrap(), dec("1.5"));
    assert_eq!(run("ABS", &[Value::Float(-2.0)]).unwrap(), Value::Float(2.0));
    assert!(run("ABS", &[Value::Null]).unwrap().is_null());
    assert_eq!(run("CEILING", &[dec("1.1")]).unwrap(), dec("2"));
    assert_eq!(run("CEILING", &[dec("-1.1")]).unwrap(), dec("-1"));
    assert_eq!(run("FLOOR", &[dec("-1.1")]).unwrap(), dec("-2"));
    assert_eq!(run("FLOOR", &[dec("3")]).unwrap(), dec("3"));
    assert_eq!(run("FLOOR", &[Value::Float(-0.5)]).unwrap(), Value::Float(-1.0));
    assert_eq!(run("CEIL", &[int(7)]).unwrap(), int(7));
    assert_eq!(run("MOD", &[int(-7), int(3)]).unwrap(), int(-1));
    assert_eq!(
        run("MOD", &[int(7), int(0)]).unwrap_err(),
        Error::Range("division by zero".into())
    );
    assert_eq!(run("MOD", &[dec("7.5"), int(2)]).unwrap(), dec("1.5"));
    assert_eq!(run("POWER", &[int(2), int(10)]).unwrap(), Value::Float(1024.0));
    assert_eq!(
        run("POWER", &[Value::Float(10.0), int(400)]).unwrap_err().kind(),
        "range"
    );
    assert_eq!(run("SQRT", &[int(16)]).unwrap(), Value::Float(4.0));
    assert_eq!(run("SQRT", &[int(-1)]).unwrap_err().kind(), "range");
    assert_eq!(run("EXP", &[int(0)]).unwrap(), Value::Float(1.0));
    assert_eq!(run("LN", &[int(0)]).unwrap_err().kind(), "range");
    assert_eq!(run("LOG10", &[int(1000)]).unwrap(), Value::Float(3.0));
    assert_eq!(run("PI", &[]).unwrap(), Value::Float(std::f64::consts::PI));
    assert!(run("POWER", &[Value::Null, int(2)]).unwrap().is_null());
}

#[test]
fn rounding() {
    assert_eq!(run("ROUND", &[dec("2.5")]).unwrap(), dec("3"));
    assert_eq!(run("ROUND", &[dec("-2.5")]).unwrap(), dec("-3"));
    assert_eq!(run("ROUND", &[dec("1.2345"), int(2)]).unwrap(), dec("1.23"));
    assert_eq!(run("ROUND", &[dec("1.235"), int(2)]).unwrap(), dec("1.24"));
    assert_eq!(run("ROUND", &[dec("1250"), int(-2)]).unwrap(), dec("1300"));
    assert_eq!(run("ROUND", &[dec("1.5"), int(20)]).unwrap(), dec("1.5"));
    assert_eq!(run("ROUND", &[dec("123.5"), int(-40)]).unwrap(), dec("0"));
    assert_eq!(run("ROUND", &[Value::Float(2.5)]).unwrap(), Value::Float(3.0));
    assert_eq!(run("ROUND", &[Value::Float(1.25), int(1)]).unwrap(), Value::Float(1.3));
    assert_eq!(
        run("ROUND", &[Value::Float(1250.0), int(-2)]).unwrap(),
        Value::Float(1300.0)
    );
    assert_eq!(run("ROUND", &[int(1234), int(2)]).unwrap(), int(1234));
    assert_eq!(run("ROUND", &[int(1250), int(-2)]).unwrap(), int(1300));
    assert_eq!(run("ROUND", &[int(-1250), int(-2)]).unwrap(), int(-1300));
    assert_eq!(
        run("ROUND", &[int(i64::MAX), int(-18)]).unwrap(),
        int(9_000_000_000_000_000_000)
    );
    assert_eq!(run("ROUND", &[int(i64::MAX), int(-19)]).unwrap_err().kind(), "range");
    assert_eq!(run("ROUND", &[int(i64::MAX), int(-30)]).unwrap(), int(0));
    assert!(run("ROUND", &[int(5), Value::Null]).unwrap().is_null());
}

#[test]
fn coalesce_typing_and_values() {
    let t = |v: &[DataType]| resolve("COALESCE", v).unwrap().unwrap().1;
    assert_eq!(t(&[DataType::TinyInt, DataType::Integer]), DataType::Integer);
    assert_eq!(
        t(&[DataType::Null, DataType::Integer, DataType::Decimal]),
        DataType::Decimal
    );
    assert_eq!(t(&[DataType::Integer, DataType::Float]), DataType::Float);
    let vc = |len| DataType::Varchar { len, bytes: false };
    assert_eq!(t(&[vc(3), vc(8)]), vc(8));
    assert_eq!(t(&[DataType::Timestamp, vc(30)]), DataType::Timestamp);
    let (f, _) = resolve("COALESCE", &[DataType::Integer, DataType::Decimal])
        .unwrap()
        .unwrap();
    assert_eq!(call(f, &[Value::Null, int(3)], &CTX).unwrap(), dec("3"));
    assert!(matches!(
        call(f, &[int(4), Value::Null], &CTX).unwrap(),
        Value::Decimal(_)
    ));
    assert!(call(f, &[Value::Null, Value::Null], &CTX).unwrap().is_null());
    let (f, _) = resolve("COALESCE", &[DataType::Timestamp, vc(30)]).unwrap().unwrap();
    assert_eq!(
        call(f, &[Value::Null, Value::str("1970-01-01 00:00:01")], &CTX).unwrap(),
        Value::Timestamp(1_000_000)
    );
}

#[test]
fn nullif() {
    assert!(run("NULLIF", &[int(1), int(1)]).unwrap().is_null());
    assert_eq!(run("NULLIF", &[int(1), int(2)]).unwrap(), int(1));
    assert_eq!(run("NULLIF", &[int(1), Value::Null]).unwrap(), int(1));
    assert!(run("NULLIF", &[Value::Null, int(1)]).unwrap().is_null());
    assert!(run("NULLIF", &[int(2), dec("2.0")]).unwrap().is_null());
    let r = resolve("NULLIF", &[DataType::SmallInt, DataType::BigInt])
        .unwrap()
        .unwrap();
    assert_eq!(r, (Func::NullIf(DataType::BigInt), DataType::SmallInt));
}

#[test]
fn decode() {
    let a = |s: &str| Value::str(s);
    let args = [int(2), int(1), a("one"), int(2), a("two"), a("other")];
    assert_eq!(run("DECODE", &args).unwrap(), a("two"));
    let args = [int(9), int(1), a("one"), int(2), a("two"), a("other")];
    assert_eq!(run("DECODE", &args).unwrap(), a("other"));
    let args = [int(9), int(1), a("one"), int(2), a("two")];
    assert!(run("DECODE", &args).unwrap().is_null());
    // NULL matches NULL in DECODE.
    let args = [Value::Null, int(1), a("one"), Value::Null, a("null"), a("other")];
    assert_eq!(run("DECODE", &args).unwrap(), a("null"));
    let args = [int(1), Value::Null, a("null"), int(1), a("one")];
    assert_eq!(run("DECODE", &args).unwrap(), a("one"));
    // Numbers compare across classes; results convert to the common result type.
    let (f, ty) = resolve(
        "DECODE",
        &[
            DataType::Integer,
            DataType::Decimal,
            DataType::Integer,
            DataType::Decimal,
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(ty, DataType::Decimal);
    assert_eq!(
        call(f, &[int(3), dec("3.0"), int(7), dec("0.5")], &CTX).unwrap(),
        dec("7")
    );
    assert_eq!(
        call(f, &[int(4), dec("3.0"), int(7), dec("0.5")], &CTX).unwrap(),
        dec("0.5")
    );
}
