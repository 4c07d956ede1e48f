//! Values that are equal hash alike, across number classes (hash joins and hash indexes
//! rely on it).

use std::hash::{BuildHasher, RandomState};

use proptest::prelude::*;
use voltrs_storage::{Decimal, Value};

fn same_hash_when_equal(a: &Value, b: &Value) {
    let s = RandomState::new();
    if a == b {
        assert_eq!(s.hash_one(a), s.hash_one(b), "{a:?} == {b:?} but they hash differently");
    }
}

#[test]
fn known_cases() {
    let d = |s: &str| Value::Decimal(Decimal::parse(s).expect("decimal"));
    let pairs = [
        (d("12345678901234567.5"), Value::Float(12345678901234568e0)),
        (Value::Integer(9_210_000_000_000_000_000), Value::Float(9.21e18)),
        (Value::Integer(3), d("3")),
        (Value::Integer(3), Value::Float(3.0)),
        (Value::Float(0.0), Value::Float(-0.0)),
        (Value::Integer(0), Value::Float(-0.0)),
        (d("0.5"), Value::Float(0.5)),
    ];
    for (a, b) in &pairs {
        assert_eq!(a, b, "the pair is meant to be equal");
        same_hash_when_equal(a, b);
    }
}

proptest! {
    #[test]
    fn equal_numbers_hash_alike(i in any::<i64>(), f in any::<f64>(), units in any::<i64>(), frac in 0u32..1000) {
        let i = if i == i64::MIN { 0 } else { i };
        let dec = Decimal::parse(&format!("{}.{frac:03}", units / 1_000_000)).map(Value::Decimal);
        let values = [Value::Integer(i), Value::Float(f), Value::Float(i as f64), Value::Float(units as f64)];
        let mut all: Vec<Value> = values.to_vec();
        if let Ok(d) = dec {
            all.push(Value::Float(match &d { Value::Decimal(x) => x.to_f64(), _ => 0.0 }));
            all.push(d);
        }
        for a in &all {
            for b in &all {
                same_hash_when_equal(a, b);
            }
        }
    }
}
