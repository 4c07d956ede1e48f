//! Cross-module checks of the shared text forms through the crate's public API only.

use voltrs_storage::Value;
use voltrs_storage::decimal::{Decimal, DecimalError, SCALE};
use voltrs_storage::text::{hex_upper, parse_hex, render, render_float};
use voltrs_storage::timestamp::{
    MAX_MICROS, MIN_MICROS, TimestampError, check_range, format_timestamp, from_naive, parse_timestamp, to_naive,
};

#[test]
fn decimal_text_round_trips_through_render() -> Result<(), DecimalError> {
    assert_eq!(SCALE, 12);
    for text in ["0", "1.5", "-0.001", "99999999999999999999999999.999999999999"] {
        let d = Decimal::parse(text)?;
        let rendered = render(&Value::Decimal(d)).unwrap_or_default();
        assert_eq!(Decimal::parse(&rendered)?, d);
        assert_eq!(Decimal::parse(&d.to_string_trimmed())?, d);
    }
    assert_eq!(
        Decimal::parse("1").and_then(|one| one.checked_div(Decimal::from_i64(3)))?,
        Decimal::parse("0.333333333333")?
    );
    Ok(())
}

#[test]
fn timestamp_text_round_trips_through_render() -> Result<(), TimestampError> {
    for text in [
        "1583-01-01 00:00:00.000000",
        "1969-12-31 23:59:59.999999",
        "2024-02-29 12:00:05.100000",
        "9999-12-31 23:59:59.999999",
    ] {
        let t = parse_timestamp(text)?;
        assert_eq!(render(&Value::Timestamp(t)).as_deref(), Some(text));
        assert_eq!(check_range(t), Ok(t));
        let naive = to_naive(t).ok_or(TimestampError::OutOfRange)?;
        assert_eq!(from_naive(&naive), t);
    }
    assert_eq!(parse_timestamp("1583-01-01")?, MIN_MICROS);
    assert_eq!(format_timestamp(MAX_MICROS), "9999-12-31 23:59:59.999999");
    Ok(())
}

#[test]
fn binary_and_float_forms() {
    let bytes = parse_hex("c0ffee").unwrap_or_default();
    assert_eq!(hex_upper(&bytes), "C0FFEE");
    assert_eq!(render(&Value::bytes(&bytes)).as_deref(), Some("C0FFEE"));
    assert_eq!(render_float(2.0), "2");
    assert_eq!(render(&Value::Float(0.25)).as_deref(), Some("0.25"));
    assert_eq!(render(&Value::Null), None);
}
