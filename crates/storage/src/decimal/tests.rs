use super::*;
use proptest::prelude::*;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap_or_else(|e| panic!("parse {s:?}: {e}"))
}

fn raw(s: &str) -> i128 {
    d(s).raw()
}

const MAX_TEXT: &str = "99999999999999999999999999.999999999999";

#[test]
fn parse_plain_forms() {
    assert_eq!(raw("0"), 0);
    assert_eq!(raw("1"), ONE_RAW);
    assert_eq!(raw("-1"), -ONE_RAW);
    assert_eq!(raw("+1"), ONE_RAW);
    assert_eq!(raw("1.5"), 1_500_000_000_000);
    assert_eq!(raw("-0.5"), -500_000_000_000);
    assert_eq!(raw(".5"), 500_000_000_000);
    assert_eq!(raw("-.5"), -500_000_000_000);
    assert_eq!(raw("5."), 5 * ONE_RAW);
    assert_eq!(raw("007.0700"), 7_070_000_000_000);
    assert_eq!(raw("  42  "), 42 * ONE_RAW);
    assert_eq!(raw("\t-3.25\n"), -3_250_000_000_000);
    assert_eq!(raw("0.000000000001"), 1);
    assert_eq!(raw("-0"), 0);
    assert_eq!(raw("-0.000"), 0);
    assert_eq!(
        raw("56789012345678901234567890"),
        56_789_012_345_678_901_234_567_890i128 * ONE_RAW
    );
}

#[test]
fn parse_exponent_forms() {
    assert_eq!(d("1.5e3"), Decimal::from_i64(1500));
    assert_eq!(d("1.5E3"), Decimal::from_i64(1500));
    assert_eq!(d("1.5e+3"), Decimal::from_i64(1500));
    assert_eq!(raw("-2E-4"), -200_000_000);
    assert_eq!(raw("2e-12"), 2);
    assert_eq!(raw("5e-13"), 1);
    assert_eq!(raw("-5e-13"), -1);
    assert_eq!(raw("4.9e-13"), 0);
    assert_eq!(raw("1e-100"), 0);
    assert_eq!(raw("1e-1000000000000000000000"), 0);
    assert_eq!(raw("0e1000000000000000000000"), 0);
    assert_eq!(d("1e25"), Decimal::from_i128_scaled(10i128.pow(25), 0).unwrap());
    assert_eq!(d(".1e1"), Decimal::ONE);
    assert_eq!(d("12345e-2"), d("123.45"));
    assert_eq!(d("0.00012345e4"), d("1.2345"));
    assert_eq!(Decimal::parse("1e26"), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::parse("1e999999999999"), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::parse("-1e26"), Err(DecimalError::OutOfRange));
}

#[test]
fn parse_rounds_half_up_beyond_12_decimals() {
    assert_eq!(raw("0.0000000000005"), 1);
    assert_eq!(raw("-0.0000000000005"), -1);
    assert_eq!(raw("0.0000000000004"), 0);
    assert_eq!(raw("-0.0000000000004"), 0);
    assert_eq!(raw("0.00000000000049999999"), 0);
    assert_eq!(raw("1.1234567890125"), 1_123_456_789_013);
    assert_eq!(raw("-1.1234567890125"), -1_123_456_789_013);
    assert_eq!(raw("1.1234567890124999"), 1_123_456_789_012);
    assert_eq!(raw("2.9999999999995"), 3 * ONE_RAW);
    assert_eq!(raw("-2.9999999999995"), -3 * ONE_RAW);
    assert_eq!(raw("0.9999999999999999999999999"), ONE_RAW);
    assert_eq!(raw("0.0000000000015"), 2);
    assert_eq!(raw("0.0000000000025"), 3); // HALF_UP, not banker's rounding
}

#[test]
fn range_boundary() {
    assert_eq!(d(MAX_TEXT), Decimal::MAX);
    assert_eq!(d(&format!("-{MAX_TEXT}")), Decimal::MIN);
    assert_eq!(Decimal::MAX.raw(), LIMIT - 1);
    // Rounds down to the maximum.
    assert_eq!(d(&format!("{MAX_TEXT}4")), Decimal::MAX);
    assert_eq!(d(&format!("-{MAX_TEXT}49999")), Decimal::MIN);
    // One more digit, or rounding up past the maximum, is out of range.
    for s in [
        "999999999999999999999999999.999999999999".to_string(),
        "100000000000000000000000000".to_string(),
        "100000000000000000000000000.0".to_string(),
        format!("{MAX_TEXT}5"),
        format!("-{MAX_TEXT}5"),
        format!("{MAX_TEXT}9"),
        "9.9999999999999999999999999999999999999999e25".to_string(),
    ] {
        assert_eq!(Decimal::parse(&s), Err(DecimalError::OutOfRange), "{s}");
    }
    assert_eq!(d("99999999999999999999999999"), d("9.9999999999999999999999999e25"));
    assert_eq!(Decimal::from_raw(LIMIT), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_raw(-LIMIT), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_raw(i128::MIN), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_raw(LIMIT - 1), Ok(Decimal::MAX));
}

#[test]
fn parse_rejects_malformed() {
    for s in [
        "", " ", "-", "+", ".", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1.2.3", "1 2", "1,5", "1_000", "abc", "0x10",
        "+-1", "--1", "1e5.5", "1e5e5", "NaN", "inf", "Infinity", "1-", "1.5f", "١", "1e 5", "- 1",
    ] {
        assert_eq!(Decimal::parse(s), Err(DecimalError::Invalid(s.to_string())), "{s:?}");
    }
}

#[test]
fn display_and_trimmed() {
    assert_eq!(d("1.5").to_string(), "1.500000000000");
    assert_eq!(d("-0.5").to_string(), "-0.500000000000");
    assert_eq!(Decimal::ZERO.to_string(), "0.000000000000");
    assert_eq!(Decimal::MAX.to_string(), MAX_TEXT);
    assert_eq!(Decimal::MIN.to_string(), format!("-{MAX_TEXT}"));
    assert_eq!(d("1.5").to_string_trimmed(), "1.5");
    assert_eq!(d("2").to_string_trimmed(), "2");
    assert_eq!(d("20").to_string_trimmed(), "20");
    assert_eq!(d("-0.001").to_string_trimmed(), "-0.001");
    assert_eq!(Decimal::ZERO.to_string_trimmed(), "0");
    assert_eq!(d("-100.10").to_string_trimmed(), "-100.1");
    assert_eq!(format!("{:>16}", d("1.5")), "  1.500000000000");
    assert_eq!(format!("{:<15}|", d("1")), "1.000000000000 |");
}

#[test]
fn from_f64_uses_shortest_text() {
    assert_eq!(Decimal::from_f64(0.1), Ok(d("0.1")));
    assert_eq!(Decimal::from_f64(-2.5), Ok(d("-2.5")));
    assert_eq!(Decimal::from_f64(1.5e3), Ok(d("1500")));
    assert_eq!(Decimal::from_f64(1e-13), Ok(Decimal::ZERO));
    assert_eq!(Decimal::from_f64(5e-13), Ok(d("0.000000000001")));
    assert_eq!(Decimal::from_f64(-0.0), Ok(Decimal::ZERO));
    assert_eq!(Decimal::from_f64(1e25), Ok(d("1e25")));
    assert_eq!(Decimal::from_f64(1e26), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_f64(f64::MAX), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_f64(f64::MIN_POSITIVE), Ok(Decimal::ZERO));
    assert_eq!(Decimal::from_f64(f64::NAN), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_f64(f64::INFINITY), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::from_f64(f64::NEG_INFINITY), Err(DecimalError::OutOfRange));
}

#[test]
fn to_f64_is_accurate() {
    assert_eq!(d("0.1").to_f64(), 0.1);
    assert_eq!(d("-2.5").to_f64(), -2.5);
    assert_eq!(d("123456.789").to_f64(), 123456.789);
    assert_eq!(Decimal::MAX.to_f64(), 1e26);
    assert_eq!(Decimal::MIN.to_f64(), -1e26);
    // Beyond 2^53 raw units the conversion must still be correctly rounded.
    for text in [
        "12345678901234.123456789012",
        "33333333333333333333.333333333333",
        "-9007.199254740993",
        "9007.199254740993",
        "0.000000000001",
    ] {
        let expected: f64 = text.parse().unwrap_or(f64::NAN);
        assert_eq!(d(text).to_f64(), expected, "{text}");
    }
    assert_eq!(Decimal::ZERO.to_f64(), 0.0);
}

#[test]
fn integer_conversions() {
    assert_eq!(d("42").to_i64_exact(), Some(42));
    assert_eq!(d("42.5").to_i64_exact(), None);
    assert_eq!(d("-42.9").to_i64_trunc(), Some(-42));
    assert_eq!(d("1e20").to_i64_exact(), None);
    assert_eq!(d("1e20").to_i64_trunc(), None);
    assert_eq!(Decimal::from_i64(i64::MIN).to_i64_exact(), Some(i64::MIN));
    assert_eq!(Decimal::from_i64(i64::MAX).to_i64_trunc(), Some(i64::MAX));
    assert_eq!(Decimal::cmp_i64(2, &d("1.5")), Ordering::Greater);
    assert_eq!(Decimal::cmp_i64(-2, &d("-1.5")), Ordering::Less);
    assert_eq!(Decimal::cmp_i64(3, &d("3")), Ordering::Equal);
}

#[test]
fn from_i128_scaled() {
    assert_eq!(Decimal::from_i128_scaled(12345, 2), Ok(d("123.45")));
    assert_eq!(Decimal::from_i128_scaled(-12345, 0), Ok(d("-12345")));
    assert_eq!(Decimal::from_i128_scaled(15, 13), Ok(d("0.000000000002")));
    assert_eq!(Decimal::from_i128_scaled(-15, 13), Ok(d("-0.000000000002")));
    assert_eq!(Decimal::from_i128_scaled(14, 13), Ok(d("0.000000000001")));
    assert_eq!(Decimal::from_i128_scaled(1, 12), Ok(Decimal(1)));
    assert_eq!(
        Decimal::from_i128_scaled(i128::MAX, 50),
        Ok(d("1.7014118346046923173168730371588410572e-12"))
    );
    assert_eq!(Decimal::from_i128_scaled(i128::MIN, 50), Ok(d("-0.000000000002")));
    assert_eq!(Decimal::from_i128_scaled(i128::MAX, 51), Ok(Decimal::ZERO));
    assert_eq!(Decimal::from_i128_scaled(i128::MIN, u32::MAX), Ok(Decimal::ZERO));
    assert_eq!(Decimal::from_i128_scaled(LIMIT - 1, 12), Ok(Decimal::MAX));
    assert_eq!(Decimal::from_i128_scaled(LIMIT, 12), Err(DecimalError::OutOfRange));
    assert_eq!(
        Decimal::from_i128_scaled(10i128.pow(26), 0),
        Err(DecimalError::OutOfRange)
    );
    assert_eq!(Decimal::from_i128_scaled(i128::MAX, 0), Err(DecimalError::OutOfRange));
}

#[test]
fn add_sub() {
    assert_eq!(d("1.5").checked_add(d("2.25")), Ok(d("3.75")));
    assert_eq!(d("1.5").checked_sub(d("2.25")), Ok(d("-0.75")));
    assert_eq!(
        Decimal::MAX.checked_add(d("0.000000000001")),
        Err(DecimalError::OutOfRange)
    );
    assert_eq!(
        Decimal::MIN.checked_sub(d("0.000000000001")),
        Err(DecimalError::OutOfRange)
    );
    assert_eq!(Decimal::MAX.checked_sub(Decimal::MIN), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MAX.checked_add(Decimal::MIN), Ok(Decimal::ZERO));
}

#[test]
fn mul() {
    assert_eq!(d("1.5").checked_mul(d("2")), Ok(d("3")));
    assert_eq!(d("-1.5").checked_mul(d("1.5")), Ok(d("-2.25")));
    assert_eq!(d("0.000001").checked_mul(d("0.000001")), Ok(d("0.000000000001")));
    // 0.0000005 × 0.000001 = 5e-13 → HALF_UP to 1e-12, both signs.
    assert_eq!(d("0.0000005").checked_mul(d("0.000001")), Ok(Decimal(1)));
    assert_eq!(d("-0.0000005").checked_mul(d("0.000001")), Ok(Decimal(-1)));
    assert_eq!(d("0.0000004").checked_mul(d("0.000001")), Ok(Decimal::ZERO));
    assert_eq!(d("-0.0000004").checked_mul(d("-0.000001")), Ok(Decimal::ZERO));
    // Large operands need the 256-bit path: raw × raw is ~10^62 and ~10^75.
    assert_eq!(
        d("12345678901234.5").checked_mul(d("1000000000")),
        Ok(d("12345678901234500000000"))
    );
    assert_eq!(Decimal::MAX.checked_mul(Decimal::ONE), Ok(Decimal::MAX));
    assert_eq!(Decimal::MIN.checked_mul(Decimal::ONE), Ok(Decimal::MIN));
    assert_eq!(Decimal::MAX.checked_mul(d("-1")), Ok(Decimal::MIN));
    assert_eq!(Decimal::MAX.checked_mul(d("0.1")), Ok(d("10000000000000000000000000")));
    assert_eq!(
        d("9999999999999.999999999999").checked_mul(d("9999999999999.999999999999")),
        // Exact: 10^26 - 20 + 10^-24.
        Ok(d("99999999999999999999999980"))
    );
    assert_eq!(
        d("10000000000000").checked_mul(d("10000000000000")),
        Err(DecimalError::OutOfRange)
    );
    assert_eq!(Decimal::MAX.checked_mul(Decimal::MAX), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MIN.checked_mul(Decimal::MAX), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MAX.checked_mul(Decimal::ZERO), Ok(Decimal::ZERO));
}

#[test]
fn div() {
    let one = Decimal::ONE;
    assert_eq!(one.checked_div(d("3")), Ok(d("0.333333333333")));
    assert_eq!(d("2").checked_div(d("3")), Ok(d("0.666666666667")));
    assert_eq!(d("-2").checked_div(d("3")), Ok(d("-0.666666666667")));
    assert_eq!(d("2").checked_div(d("-3")), Ok(d("-0.666666666667")));
    assert_eq!(d("-2").checked_div(d("-3")), Ok(d("0.666666666667")));
    assert_eq!(d("-1").checked_div(d("3")), Ok(d("-0.333333333333")));
    // Exactly half an ulp: 1e-12 / 2 → 1e-12 (away from zero), both signs.
    assert_eq!(Decimal(1).checked_div(d("2")), Ok(Decimal(1)));
    assert_eq!(Decimal(-1).checked_div(d("2")), Ok(Decimal(-1)));
    assert_eq!(Decimal(1).checked_div(d("-2")), Ok(Decimal(-1)));
    assert_eq!(Decimal(1).checked_div(d("3")), Ok(Decimal::ZERO));
    assert_eq!(d("7.5").checked_div(d("2.5")), Ok(d("3")));
    // Large operands need the 256-bit path (raw × 10^12 overflows i128).
    assert_eq!(Decimal::MAX.checked_div(one), Ok(Decimal::MAX));
    assert_eq!(Decimal::MIN.checked_div(one), Ok(Decimal::MIN));
    assert_eq!(Decimal::MAX.checked_div(Decimal::MAX), Ok(one));
    assert_eq!(
        Decimal::MAX.checked_div(d("3")),
        Ok(d("33333333333333333333333333.333333333333"))
    );
    assert_eq!(Decimal::MIN.checked_div(d("-2")), Ok(d("50000000000000000000000000")));
    assert_eq!(
        d("12345678901234567890123456").checked_div(d("1234567890123.456789012345")),
        Ok(d("10000000000000.000000000005"))
    );
    assert_eq!(d("1").checked_div(Decimal::MAX), Ok(Decimal::ZERO));
    assert_eq!(d("1e13").checked_div(d("1e-12")), Ok(d("1e25")));
    assert_eq!(d("1e14").checked_div(d("1e-12")), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MAX.checked_div(d("0.5")), Err(DecimalError::OutOfRange));
    assert_eq!(one.checked_div(Decimal::ZERO), Err(DecimalError::DivideByZero));
    assert_eq!(
        Decimal::ZERO.checked_div(Decimal::ZERO),
        Err(DecimalError::DivideByZero)
    );
}

#[test]
fn rem() {
    assert_eq!(d("7.5").checked_rem(d("2")), Ok(d("1.5")));
    assert_eq!(d("-7.5").checked_rem(d("2")), Ok(d("-1.5")));
    assert_eq!(d("7.5").checked_rem(d("-2")), Ok(d("1.5")));
    assert_eq!(d("-7.5").checked_rem(d("-2")), Ok(d("-1.5")));
    assert_eq!(d("6").checked_rem(d("3")), Ok(Decimal::ZERO));
    assert_eq!(Decimal::MAX.checked_rem(Decimal::MIN), Ok(Decimal::ZERO));
    assert_eq!(Decimal::MAX.checked_rem(d("10")), Ok(d("9.999999999999")));
    assert_eq!(d("1").checked_rem(Decimal::ZERO), Err(DecimalError::DivideByZero));
}

#[test]
fn sign_helpers() {
    assert_eq!(d("-1.5").abs(), d("1.5"));
    assert_eq!(Decimal::MIN.abs(), Decimal::MAX);
    assert_eq!(d("-1.5").neg(), d("1.5"));
    assert_eq!(-d("1.5"), d("-1.5"));
    assert_eq!(d("-1.5").signum(), -1);
    assert_eq!(Decimal::ZERO.signum(), 0);
    assert_eq!(d("0.000000000001").signum(), 1);
    assert!(Decimal::ZERO.is_zero());
    assert!(!Decimal(1).is_zero());
    assert!(d("-0.1").is_negative());
    assert!(!Decimal::ZERO.is_negative());
    assert_eq!(Decimal::default(), Decimal::ZERO);
    assert_eq!(Decimal::from(7i64), d("7"));
    assert_eq!("2.5".parse::<Decimal>(), Ok(d("2.5")));
}

#[test]
fn trunc_floor_ceil() {
    assert_eq!(d("1.7").trunc(), d("1"));
    assert_eq!(d("-1.7").trunc(), d("-1"));
    assert_eq!(d("-0.7").trunc(), Decimal::ZERO);
    assert_eq!(d("1.2").floor(), Ok(d("1")));
    assert_eq!(d("-1.2").floor(), Ok(d("-2")));
    assert_eq!(d("-1").floor(), Ok(d("-1")));
    assert_eq!(d("1.2").ceil(), Ok(d("2")));
    assert_eq!(d("-1.2").ceil(), Ok(d("-1")));
    assert_eq!(d("-0.2").ceil(), Ok(Decimal::ZERO));
    assert_eq!(d("3").ceil(), Ok(d("3")));
    assert_eq!(Decimal::MAX.trunc(), d("99999999999999999999999999"));
    assert_eq!(Decimal::MAX.floor(), Ok(d("99999999999999999999999999")));
    assert_eq!(Decimal::MAX.ceil(), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MIN.floor(), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MIN.ceil(), Ok(d("-99999999999999999999999999")));
}

#[test]
fn round_half_up() {
    assert_eq!(d("2.5").round(0), Ok(d("3")));
    assert_eq!(d("-2.5").round(0), Ok(d("-3")));
    assert_eq!(d("2.4999").round(0), Ok(d("2")));
    assert_eq!(d("-2.4999").round(0), Ok(d("-2")));
    assert_eq!(d("1.005").round(2), Ok(d("1.01")));
    assert_eq!(d("-1.005").round(2), Ok(d("-1.01")));
    assert_eq!(d("1.004").round(2), Ok(d("1")));
    assert_eq!(d("1234.5").round(-2), Ok(d("1200")));
    assert_eq!(d("1250").round(-2), Ok(d("1300")));
    assert_eq!(d("-1250").round(-2), Ok(d("-1300")));
    assert_eq!(d("-1249.99").round(-2), Ok(d("-1200")));
    assert_eq!(d("0.000000000001").round(12), Ok(Decimal(1)));
    assert_eq!(d("0.000000000005").round(11), Ok(d("0.00000000001")));
    assert_eq!(d("1.23").round(100), Ok(d("1.23")));
    assert_eq!(d("1.23").round(i32::MAX), Ok(d("1.23")));
    assert_eq!(d("5e25").round(-26), Err(DecimalError::OutOfRange));
    assert_eq!(d("4.9e25").round(-26), Ok(Decimal::ZERO));
    assert_eq!(d("4.9e25").round(-25), Ok(d("5e25")));
    assert_eq!(Decimal::MAX.round(-27), Ok(Decimal::ZERO));
    assert_eq!(Decimal::MAX.round(i32::MIN), Ok(Decimal::ZERO));
    assert_eq!(Decimal::MAX.round(0), Err(DecimalError::OutOfRange));
    assert_eq!(Decimal::MAX.round(12), Ok(Decimal::MAX));
    assert_eq!(Decimal::MIN.round(11), Err(DecimalError::OutOfRange));
}

fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (-(LIMIT - 1)..LIMIT).prop_map(Decimal),
        (-1_000_000_000_000_000i128..1_000_000_000_000_000).prop_map(Decimal),
        any::<i64>().prop_map(Decimal::from_i64),
    ]
}

proptest! {
    #[test]
    fn parse_display_round_trip(x in any_decimal()) {
        prop_assert_eq!(Decimal::parse(&x.to_string()), Ok(x));
        prop_assert_eq!(Decimal::parse(&x.to_string_trimmed()), Ok(x));
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = Decimal::parse(&s);
    }

    #[test]
    fn parse_numeric_text_never_panics(s in "[-+ ]?[0-9]{0,45}\\.?[0-9]{0,45}([eE][-+]?[0-9]{0,25})?") {
        let _ = Decimal::parse(&s);
    }

    #[test]
    fn to_f64_matches_parsing_the_text(x in any_decimal()) {
        let expected: f64 = x.to_string().parse().unwrap_or(f64::NAN);
        prop_assert_eq!(x.to_f64(), expected);
    }

    #[test]
    fn from_f64_round_trips_short_values(i in -1_000_000_000i64..1_000_000_000, scale in 0u32..7) {
        let x = Decimal::from_i128_scaled(i128::from(i), scale).unwrap_or(Decimal::ZERO);
        prop_assert_eq!(Decimal::from_f64(x.to_f64()), Ok(x));
    }

    #[test]
    fn div_then_mul_is_close(a in any_decimal(), b in (1i128..1_000_000_000_000_000_000).prop_map(Decimal)) {
        if let Ok(q) = a.checked_div(b) {
            // a = q × b + r with |r| ≤ |b| × 0.5e-12 (plus rounding of the product).
            if let Ok(back) = q.checked_mul(b) {
                let diff = (back.raw() - a.raw()).abs();
                prop_assert!(diff <= b.raw().abs() / ONE_RAW + 1, "a={a} b={b} q={q} back={back}");
            }
        }
    }

    #[test]
    fn rem_matches_definition(a in any_decimal(), b in any_decimal()) {
        if !b.is_zero() {
            let r = a.checked_rem(b).unwrap_or(Decimal::ZERO);
            prop_assert!(r.abs() < b.abs());
            prop_assert!(r.is_zero() || r.is_negative() == a.is_negative());
            prop_assert_eq!((a.raw() - r.raw()) % b.raw(), 0);
        }
    }
}
