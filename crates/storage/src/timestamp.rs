//! TIMESTAMP: an `i64` count of microseconds since the Unix epoch (1970-01-01 00:00:00),
//! without a time zone, as VoltDB stores it.
//!
//! * Valid range (VoltDB's): `1583-01-01 00:00:00.000000` ([`MIN_MICROS`]) through
//!   `9999-12-31 23:59:59.999999` ([`MAX_MICROS`]). [`parse_timestamp`] rejects text outside
//!   it with [`TimestampError::OutOfRange`]; [`check_range`] does the same for computed values.
//! * Text accepted by [`parse_timestamp`] (surrounding whitespace is ignored):
//!   `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD HH:MM:SS.f` with 1 to 6 fractional
//!   digits; a `T` may replace the space. Fewer than 6 fractional digits are padded on the
//!   right (`.1` is 100000 µs). Month, day, hour, minute and second always take two digits.
//! * Text produced by [`format_timestamp`]: always `YYYY-MM-DD HH:MM:SS.ffffff`. Instants before
//!   1970 are split with floor division, so `-1` µs is `1969-12-31 23:59:59.999999`. Any `i64`
//!   formats (proleptic Gregorian calendar); years outside 0..=9999 get an explicit sign.
//! * [`to_naive`] and [`from_naive`] bridge to `chrono` for the SQL date functions.

use chrono::{DateTime, NaiveDateTime};

/// Microseconds in a second.
const MICROS_PER_SECOND: i64 = 1_000_000;
/// Seconds in a day.
const SECONDS_PER_DAY: i64 = 86_400;
/// First valid year.
const MIN_YEAR: i64 = 1583;
/// Last valid year.
const MAX_YEAR: i64 = 9999;

/// `1583-01-01 00:00:00.000000`, the earliest valid TIMESTAMP.
pub const MIN_MICROS: i64 = -12_212_553_600_000_000;
/// `9999-12-31 23:59:59.999999`, the latest valid TIMESTAMP.
pub const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// Why a TIMESTAMP could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text is not one of the accepted forms, or names a date or time that does not exist
    /// (`2023-02-30`, `24:00:00`). Holds the text as given.
    #[error("invalid TIMESTAMP '{0}': expected YYYY-MM-DD[ HH:MM:SS[.ffffff]]")]
    Invalid(String),
    /// The instant lies outside 1583-01-01 00:00:00 ..= 9999-12-31 23:59:59.999999.
    #[error("TIMESTAMP out of range")]
    OutOfRange,
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD HH:MM:SS.f{1,6}` (a `T` may
/// replace the space; surrounding whitespace is ignored) into microseconds since the epoch.
///
/// Errors: [`TimestampError::Invalid`] for any other text, more than 6 fractional digits, or a
/// date or time that does not exist; [`TimestampError::OutOfRange`] for a well-formed year
/// outside 1583..=9999 (a year above 9999 may be written with up to 9 digits).
pub fn parse_timestamp(s: &str) -> Result<i64, TimestampError> {
    let invalid = || TimestampError::Invalid(s.to_string());
    let text = s.trim().as_bytes();

    // Date: a year of 4 digits, or up to 9 for years above 9999 (out of range, not
    // malformed), then MM and DD.
    let year_len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(4..=9).contains(&year_len) {
        return Err(invalid());
    }
    let (year_digits, rest) = text.split_at(year_len);
    let year = i64::from(digits_value(year_digits));
    if year_len > 4 && year <= MAX_YEAR {
        // Only years beyond 9999 may take more than four digits (no padded `01970`).
        return Err(invalid());
    }
    let rest = expect(rest, b'-').ok_or_else(invalid)?;
    let (month, rest) = two_digits(rest).ok_or_else(invalid)?;
    let rest = expect(rest, b'-').ok_or_else(invalid)?;
    let (day, rest) = two_digits(rest).ok_or_else(invalid)?;

    // Optional time.
    let (hour, minute, second, micros, rest) = match rest.split_first() {
        None => (0, 0, 0, 0, rest),
        Some((b' ' | b'T', time)) => {
            let (hour, rest) = two_digits(time).ok_or_else(invalid)?;
            let rest = expect(rest, b':').ok_or_else(invalid)?;
            let (minute, rest) = two_digits(rest).ok_or_else(invalid)?;
            let rest = expect(rest, b':').ok_or_else(invalid)?;
            let (second, rest) = two_digits(rest).ok_or_else(invalid)?;
            let (micros, rest) = match rest.split_first() {
                Some((b'.', fraction)) => {
                    let n = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
                    if !(1..=6).contains(&n) {
                        return Err(invalid());
                    }
                    let (digits, rest) = fraction.split_at(n);
                    // Pad on the right: ".1" is 100000 µs.
                    (digits_value(digits) * 10u32.pow(6 - n as u32), rest)
                }
                _ => (0, rest),
            };
            (hour, minute, second, micros, rest)
        }
        Some(_) => return Err(invalid()),
    };
    if !rest.is_empty() {
        return Err(invalid());
    }

    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(TimestampError::OutOfRange);
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(invalid());
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(invalid());
    }
    let seconds_of_day = i64::from((hour * 60 + minute) * 60 + second);
    let seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY + seconds_of_day;
    Ok(seconds * MICROS_PER_SECOND + i64::from(micros))
}

/// Formats as `YYYY-MM-DD HH:MM:SS.ffffff`, always with 6 decimals.
///
/// Negative values (before 1970) use floor division: `-1` is `1969-12-31 23:59:59.999999`.
/// Every `i64` formats; years outside 0..=9999 (never produced by valid TIMESTAMPs) are written
/// with a sign, like `+292278-…` or `-0001-…`.
pub fn format_timestamp(micros: i64) -> String {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction = micros.rem_euclid(MICROS_PER_SECOND);
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("+{year}")
    };
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{fraction:06}")
}

/// `Ok(micros)` when it lies in [`MIN_MICROS`]`..=`[`MAX_MICROS`], else
/// [`TimestampError::OutOfRange`]. For results of date arithmetic.
pub fn check_range(micros: i64) -> Result<i64, TimestampError> {
    if (MIN_MICROS..=MAX_MICROS).contains(&micros) {
        Ok(micros)
    } else {
        Err(TimestampError::OutOfRange)
    }
}

/// The calendar date and time of `micros` (UTC, i.e. no time zone); `None` only when chrono
/// cannot represent it (far outside the valid TIMESTAMP range). Does not check
/// [`MIN_MICROS`]/[`MAX_MICROS`]; use [`check_range`] for that.
pub fn to_naive(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|dt| dt.naive_utc())
}

/// Microseconds since the epoch of a calendar date and time (read as UTC); sub-microsecond
/// digits are dropped (toward the past). Every `NaiveDateTime` fits an `i64`; the result is not
/// range-checked (see [`check_range`]).
pub fn from_naive(dt: &NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_micros()
}

/// Consumes `byte` at the start of `s`.
fn expect(s: &[u8], byte: u8) -> Option<&[u8]> {
    s.strip_prefix(&[byte])
}

/// Two ASCII digits at the start of `s`, as a number, and the rest.
fn two_digits(s: &[u8]) -> Option<(u32, &[u8])> {
    match s {
        [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some((u32::from(a - b'0') * 10 + u32::from(b - b'0'), rest))
        }
        _ => None,
    }
}

/// The value of a run of at most 9 ASCII digits (callers guarantee both).
fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |acc, &d| acc.wrapping_mul(10).wrapping_add(u32::from(d - b'0')))
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1..=12) of `year`, proleptic Gregorian.
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // 0..=399
    let month_from_march = i64::from((month + 9) % 12); // March = 0
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`); valid for every day count derived from an `i64` of microseconds.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // 0..=146096
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..=31
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31, so the narrowing cannot lose anything.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Timelike};
    use proptest::prelude::*;

    fn ts(s: &str) -> i64 {
        parse_timestamp(s).unwrap_or_else(|e| panic!("parse {s:?}: {e}"))
    }

    fn naive(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_micro_opt(h, mi, s, us))
            .unwrap_or_else(|| panic!("bad test date {y}-{m}-{d}"))
    }

    #[test]
    fn range_constants() {
        assert_eq!(MIN_MICROS, from_naive(&naive(1583, 1, 1, 0, 0, 0, 0)));
        assert_eq!(MAX_MICROS, from_naive(&naive(9999, 12, 31, 23, 59, 59, 999_999)));
        assert_eq!(format_timestamp(MIN_MICROS), "1583-01-01 00:00:00.000000");
        assert_eq!(format_timestamp(MAX_MICROS), "9999-12-31 23:59:59.999999");
        assert_eq!(check_range(MIN_MICROS), Ok(MIN_MICROS));
        assert_eq!(check_range(MAX_MICROS), Ok(MAX_MICROS));
        assert_eq!(check_range(MIN_MICROS - 1), Err(TimestampError::OutOfRange));
        assert_eq!(check_range(MAX_MICROS + 1), Err(TimestampError::OutOfRange));
    }

    #[test]
    fn parse_accepted_forms() {
        assert_eq!(ts("1970-01-01"), 0);
        assert_eq!(ts("1970-01-01 00:00:00"), 0);
        assert_eq!(ts("1970-01-01 00:00:00.000000"), 0);
        assert_eq!(ts("1970-01-01 00:00:01"), 1_000_000);
        assert_eq!(ts("1970-01-01T00:00:01.5"), 1_500_000);
        assert_eq!(ts("  2024-02-29 12:34:56.789  "), ts("2024-02-29 12:34:56.789000"));
        assert_eq!(ts("\t2024-02-29\n"), ts("2024-02-29 00:00:00"));
        assert_eq!(ts("2023-06-15 10:20:05.1") % 60_000_000, 5_100_000);
        assert_eq!(ts("2023-06-15 10:20:05.1"), ts("2023-06-15 10:20:05") + 100_000);
        assert_eq!(ts("2023-06-15 10:20:05.01"), ts("2023-06-15 10:20:05") + 10_000);
        assert_eq!(ts("2023-06-15 10:20:05.000001"), ts("2023-06-15 10:20:05") + 1);
        assert_eq!(ts("2023-06-15 10:20:05.123456"), ts("2023-06-15 10:20:05") + 123_456);
        assert_eq!(ts("2023-06-15 10:20:05.12345"), ts("2023-06-15 10:20:05") + 123_450);
        assert_eq!(
            ts("2023-06-15 10:20:05.654321"),
            from_naive(&naive(2023, 6, 15, 10, 20, 5, 654_321))
        );
        assert_eq!(ts("1583-01-01"), MIN_MICROS);
        assert_eq!(ts("9999-12-31 23:59:59.999999"), MAX_MICROS);
    }

    #[test]
    fn parse_before_1970() {
        assert_eq!(ts("1969-12-31 23:59:59.999999"), -1);
        assert_eq!(ts("1969-12-31 23:59:59"), -1_000_000);
        assert_eq!(ts("1969-12-31"), -86_400_000_000);
        assert_eq!(
            ts("1600-02-29 01:02:03.4"),
            from_naive(&naive(1600, 2, 29, 1, 2, 3, 400_000))
        );
    }

    #[test]
    fn leap_days() {
        assert!(parse_timestamp("2024-02-29").is_ok());
        assert!(parse_timestamp("2000-02-29").is_ok());
        assert!(parse_timestamp("1600-02-29").is_ok());
        for s in ["2023-02-29", "1900-02-29", "2100-02-29", "1700-02-29"] {
            assert_eq!(parse_timestamp(s), Err(TimestampError::Invalid(s.into())), "{s}");
        }
        assert_eq!(
            format_timestamp(ts("2024-02-29 23:59:59.999999") + 1),
            "2024-03-01 00:00:00.000000"
        );
        assert_eq!(
            format_timestamp(ts("1900-02-28 23:59:59.999999") + 1),
            "1900-03-01 00:00:00.000000"
        );
    }

    #[test]
    fn parse_rejects_invalid() {
        for s in [
            "",
            " ",
            "2023",
            "2023-01",
            "2023-1-01",
            "2023-01-1",
            "23-01-01",
            "2023/01/01",
            "2023-01-01 T",
            "2023-01-01T",
            "2023-01-01  00:00:00",
            "2023-01-01 0:00:00",
            "2023-01-01 00:00",
            "2023-01-01 00:00:0",
            "2023-01-01 00:00:00.",
            "2023-01-01 00:00:00.1234567",
            "2023-01-01 00:00:00.1x",
            "2023-01-01 00:00:00Z",
            "2023-01-01 00:00:00+01:00",
            "2023-01-01x",
            "2023-02-30",
            "2023-04-31",
            "2023-00-10",
            "2023-13-01",
            "2023-01-00",
            "2023-01-32",
            "2023-01-01 24:00:00",
            "2023-01-01 23:60:00",
            "2023-01-01 23:59:60",
            "-2023-01-01",
            "+2023-01-01",
            "2023-01-01t00:00:00",
            "2023-01-01 00:00:00 .5",
            "１２３４-01-01",
            "1234567890-01-01",
            "01970-01-01",
            "09999-12-31",
            "2023-01-01 00:00:00.-1",
        ] {
            assert_eq!(parse_timestamp(s), Err(TimestampError::Invalid(s.into())), "{s:?}");
        }
    }

    #[test]
    fn parse_rejects_out_of_range() {
        for s in [
            "1582-12-31 23:59:59.999999",
            "1582-10-10",
            "0001-01-01",
            "0000-01-01",
            "10000-01-01",
            "999999999-12-31 23:59:59",
        ] {
            assert_eq!(parse_timestamp(s), Err(TimestampError::OutOfRange), "{s}");
        }
    }

    #[test]
    fn format_examples() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00.000000");
        assert_eq!(format_timestamp(1), "1970-01-01 00:00:00.000001");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(format_timestamp(-1_000_000), "1969-12-31 23:59:59.000000");
        assert_eq!(format_timestamp(-1_000_001), "1969-12-31 23:59:58.999999");
        assert_eq!(format_timestamp(-86_400_000_000), "1969-12-31 00:00:00.000000");
        assert_eq!(
            format_timestamp(ts("1900-01-01 12:00:00.5")),
            "1900-01-01 12:00:00.500000"
        );
        assert_eq!(
            format_timestamp(ts("2023-06-15 10:20:05.1")),
            "2023-06-15 10:20:05.100000"
        );
        assert_eq!(format_timestamp(1_700_000_000_123_456), "2023-11-14 22:13:20.123456");
        assert_eq!(format_timestamp(i64::MAX), "+294247-01-10 04:00:54.775807");
        assert_eq!(format_timestamp(i64::MIN), "-290308-12-21 19:59:05.224192");
        assert_eq!(format_timestamp(ts("1583-01-01") - 1), "1582-12-31 23:59:59.999999");
    }

    #[test]
    fn naive_bridge() {
        let dt = naive(1969, 7, 20, 20, 17, 40, 123_456);
        let micros = from_naive(&dt);
        assert_eq!(to_naive(micros), Some(dt));
        assert_eq!(format_timestamp(micros), "1969-07-20 20:17:40.123456");
        assert_eq!(to_naive(-1), Some(naive(1969, 12, 31, 23, 59, 59, 999_999)));
        assert_eq!(to_naive(MAX_MICROS), Some(naive(9999, 12, 31, 23, 59, 59, 999_999)));
        let _ = (to_naive(i64::MAX), to_naive(i64::MIN)); // never panics
        let sub_micro = naive(2000, 1, 1, 0, 0, 0, 0)
            .with_nanosecond(1_999)
            .unwrap_or_else(|| panic!("nanosecond"));
        assert_eq!(from_naive(&sub_micro), ts("2000-01-01 00:00:00.000001"));
    }

    proptest! {
        #[test]
        fn parse_format_round_trip(t in MIN_MICROS..=MAX_MICROS) {
            prop_assert_eq!(parse_timestamp(&format_timestamp(t)), Ok(t));
        }

        #[test]
        fn format_agrees_with_chrono(t in any::<i64>()) {
            if let Some(dt) = to_naive(t) {
                prop_assert_eq!(from_naive(&dt), t);
                if (0..=9999).contains(&dt.year()) {
                    prop_assert_eq!(
                        format_timestamp(t),
                        dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
                    );
                }
            }
            let _ = format_timestamp(t);
        }

        #[test]
        fn days_round_trip(days in -110_000_000i64..110_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse_timestamp(&s);
        }

        #[test]
        fn parse_shaped_text_never_panics(
            s in "[0-9]{1,11}-[0-9]{1,3}-[0-9]{1,3}([ T][0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,8})?)?"
        ) {
            let _ = parse_timestamp(&s);
        }
    }
}
