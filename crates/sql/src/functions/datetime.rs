//! Date and time scalar functions over TIMESTAMP (microseconds since the epoch, UTC, no
//! time zone), following VoltDB: calendar conversions accept only years 1583 to 9999 and
//! results must stay there; DATEADD by months clamps the day to the month's end; DATEDIFF
//! counts calendar fields (years, months, days) and then time-of-day differences, as
//! VoltDB does; unit and field names arrive as upper-case VARCHAR values.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use voltrs_storage::timestamp::format_timestamp;
use voltrs_storage::{DataType, Decimal, Value};

use super::{Func, FuncContext, arg, expect, int_arg, is_int, is_str, is_ts, str_arg, wrong_arg};
use crate::error::{Error, Result, range_err, type_err};

/// 1583-01-01 00:00:00, the first TIMESTAMP VoltDB converts to a date.
const MIN_TS: i64 = -12_212_553_600_000_000;
/// 9999-12-31 23:59:59.999999, the last.
const MAX_TS: i64 = 253_402_300_799_999_999;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A field of a TIMESTAMP, as EXTRACT and the one-argument functions (YEAR(ts), ...) read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatePart {
    Year,
    Quarter,
    Month,
    /// Day of the month.
    Day,
    /// 1 = Sunday ... 7 = Saturday.
    DayOfWeek,
    DayOfYear,
    /// ISO-8601 week of the year.
    Week,
    /// 0 = Monday ... 6 = Sunday.
    Weekday,
    Hour,
    Minute,
    /// Seconds with their fraction, a DECIMAL.
    Second,
}

impl DatePart {
    /// Parses an upper-case field or function name (`DAY_OF_WEEK`, `DAYOFWEEK`, ...).
    pub fn parse(name: &str) -> Option<DatePart> {
        Some(match name {
            "YEAR" => DatePart::Year,
            "QUARTER" => DatePart::Quarter,
            "MONTH" => DatePart::Month,
            "DAY" | "DAY_OF_MONTH" | "DAYOFMONTH" => DatePart::Day,
            "DAY_OF_WEEK" | "DAYOFWEEK" => DatePart::DayOfWeek,
            "DAY_OF_YEAR" | "DAYOFYEAR" => DatePart::DayOfYear,
            "WEEK" | "WEEK_OF_YEAR" | "WEEKOFYEAR" => DatePart::Week,
            "WEEKDAY" => DatePart::Weekday,
            "HOUR" => DatePart::Hour,
            "MINUTE" => DatePart::Minute,
            "SECOND" => DatePart::Second,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DatePart::Year => "YEAR",
            DatePart::Quarter => "QUARTER",
            DatePart::Month => "MONTH",
            DatePart::Day => "DAY",
            DatePart::DayOfWeek => "DAY_OF_WEEK",
            DatePart::DayOfYear => "DAY_OF_YEAR",
            DatePart::Week => "WEEK",
            DatePart::Weekday => "WEEKDAY",
            DatePart::Hour => "HOUR",
            DatePart::Minute => "MINUTE",
            DatePart::Second => "SECOND",
        }
    }

    /// INTEGER, or DECIMAL for SECOND.
    pub fn result_type(self) -> DataType {
        if self == DatePart::Second {
            DataType::Decimal
        } else {
            DataType::Integer
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Milli,
    Micro,
}

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "YEAR" => Unit::Year,
            "QUARTER" => Unit::Quarter,
            "MONTH" => Unit::Month,
            "WEEK" => Unit::Week,
            "DAY" => Unit::Day,
            "HOUR" => Unit::Hour,
            "MINUTE" => Unit::Minute,
            "SECOND" => Unit::Second,
            "MILLISECOND" | "MILLIS" => Unit::Milli,
            "MICROSECOND" | "MICROS" => Unit::Micro,
            _ => return None,
        })
    }

    /// Length in microseconds of the fixed-length units.
    fn micros(self) -> Option<i64> {
        Some(match self {
            Unit::Week => 7 * MICROS_PER_DAY,
            Unit::Day => MICROS_PER_DAY,
            Unit::Hour => 3_600_000_000,
            Unit::Minute => 60_000_000,
            Unit::Second => 1_000_000,
            Unit::Milli => 1_000,
            Unit::Micro => 1,
            Unit::Year | Unit::Quarter | Unit::Month => return None,
        })
    }
}

pub(super) fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "NOW" | "CURRENT_TIMESTAMP" => Func::Now,
        "EXTRACT" => Func::Extract,
        "DATEADD" => Func::DateAdd,
        "DATEDIFF" => Func::DateDiff,
        "TRUNCATE" => Func::Truncate,
        "SINCE_EPOCH" => Func::SinceEpoch,
        "TO_TIMESTAMP" => Func::ToTimestamp,
        "FROM_UNIXTIME" => Func::FromUnixtime,
        "FORMAT_TIMESTAMP" => Func::FormatTimestamp,
        other => Func::Part(DatePart::parse(other)?),
    })
}

pub(super) fn result_type(name: &str, func: Func, args: &[DataType]) -> Result<DataType> {
    Ok(match func {
        Func::Now => DataType::Timestamp,
        Func::Extract => {
            expect(name, args, &[is_str, is_ts])?;
            DataType::Decimal
        }
        Func::Part(p) => {
            expect(name, args, &[is_ts])?;
            p.result_type()
        }
        Func::DateAdd => {
            expect(name, args, &[is_str, is_int, is_ts])?;
            DataType::Timestamp
        }
        Func::DateDiff => {
            expect(name, args, &[is_str, is_ts])?;
            DataType::BigInt
        }
        Func::Truncate => {
            expect(name, args, &[is_str, is_ts])?;
            DataType::Timestamp
        }
        Func::SinceEpoch => {
            expect(name, args, &[is_str, is_ts])?;
            DataType::BigInt
        }
        Func::ToTimestamp => {
            expect(name, args, &[is_str, is_int])?;
            DataType::Timestamp
        }
        Func::FromUnixtime => {
            expect(name, args, &[is_int])?;
            DataType::Timestamp
        }
        _ => {
            // FORMAT_TIMESTAMP
            expect(name, args, &[is_ts, is_str])?;
            DataType::VARCHAR_MAX
        }
    })
}

/// Converts an input TIMESTAMP to a calendar date-time, or VoltDB's range error.
fn input(func: Func, ts: i64) -> Result<NaiveDateTime> {
    let out_of_range = || {
        Error::Range(format!(
            "Input to SQL function {} is outside of the supported range (years 1583 to 9999, inclusive).",
            func.name()
        ))
    };
    if !(MIN_TS..=MAX_TS).contains(&ts) {
        return Err(out_of_range());
    }
    DateTime::from_timestamp_micros(ts)
        .map(|d| d.naive_utc())
        .ok_or_else(out_of_range)
}

/// A TIMESTAMP result, or VoltDB's range error when it leaves years 1583 to 9999.
fn output(func: Func, ts: Option<i64>) -> Result<Value> {
    match ts {
        Some(t) if (MIN_TS..=MAX_TS).contains(&t) => Ok(Value::Timestamp(t)),
        _ => range_err(format!(
            "SQL function {} would produce a value outside of the supported range (years 1583 to 9999, inclusive).",
            func.name()
        )),
    }
}

fn micros_of(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_micros()
}

fn micros_of_day(dt: NaiveDateTime) -> i64 {
    i64::from(dt.num_seconds_from_midnight()) * 1_000_000 + i64::from(dt.nanosecond() / 1_000)
}

fn bad_unit<T>(func: Func, unit: &str) -> Result<T> {
    type_err(format!("invalid time unit '{unit}' for function {}", func.name()))
}

fn unit_arg(func: Func, v: &Value, allowed: &[Unit]) -> Result<Option<Unit>> {
    let Some(s) = str_arg(func, v)? else {
        return Ok(None);
    };
    match Unit::parse(s) {
        Some(u) if allowed.contains(&u) => Ok(Some(u)),
        _ => bad_unit(func, s),
    }
}

fn ts_arg(func: Func, v: &Value) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Timestamp(t) => Ok(Some(*t)),
        other => wrong_arg(func, other),
    }
}

const CALENDAR: [Unit; 9] = [
    Unit::Year,
    Unit::Quarter,
    Unit::Month,
    Unit::Day,
    Unit::Hour,
    Unit::Minute,
    Unit::Second,
    Unit::Milli,
    Unit::Micro,
];
const ALL_UNITS: [Unit; 10] = [
    Unit::Year,
    Unit::Quarter,
    Unit::Month,
    Unit::Week,
    Unit::Day,
    Unit::Hour,
    Unit::Minute,
    Unit::Second,
    Unit::Milli,
    Unit::Micro,
];
const EPOCH_UNITS: [Unit; 3] = [Unit::Second, Unit::Milli, Unit::Micro];

pub(super) fn call(func: Func, args: &[Value], ctx: &FuncContext) -> Result<Value> {
    macro_rules! get {
        ($e:expr) => {
            match $e? {
                Some(x) => x,
                None => return Ok(Value::Null),
            }
        };
    }
    match func {
        Func::Now => Ok(Value::Timestamp(ctx.now)),
        Func::Part(p) => {
            let ts = get!(ts_arg(func, arg(args, 0)));
            part(p, input(func, ts)?)
        }
        Func::Extract => {
            let field = get!(str_arg(func, arg(args, 0)));
            let ts = get!(ts_arg(func, arg(args, 1)));
            let p = DatePart::parse(&field.trim().to_ascii_uppercase())
                .ok_or_else(|| Error::Type(format!("invalid field '{field}' for function EXTRACT")))?;
            match part(p, input(func, ts)?)? {
                Value::Integer(i) => Ok(Value::Decimal(Decimal::from_i64(i))),
                other => Ok(other),
            }
        }
        Func::DateAdd => {
            let unit = get!(unit_arg(func, arg(args, 0), &ALL_UNITS));
            let n = get!(int_arg(func, arg(args, 1)));
            let ts = get!(ts_arg(func, arg(args, 2)));
            date_add(unit, n, ts)
        }
        Func::DateDiff => {
            let unit = get!(unit_arg(func, arg(args, 0), &ALL_UNITS));
            let t1 = get!(ts_arg(func, arg(args, 1)));
            let t2 = get!(ts_arg(func, arg(args, 2)));
            date_diff(unit, t1, t2).map(Value::Integer)
        }
        Func::Truncate => {
            let unit = get!(unit_arg(func, arg(args, 0), &CALENDAR));
            let ts = get!(ts_arg(func, arg(args, 1)));
            truncate(unit, ts)
        }
        Func::SinceEpoch => {
            let unit = get!(unit_arg(func, arg(args, 0), &EPOCH_UNITS));
            let ts = get!(ts_arg(func, arg(args, 1)));
            input(func, ts)?;
            // Like VoltDB, division truncates toward zero.
            Ok(Value::Integer(ts / unit.micros().unwrap_or(1)))
        }
        Func::ToTimestamp | Func::FromUnixtime => {
            let unit = if func == Func::FromUnixtime {
                Unit::Second
            } else {
                get!(unit_arg(func, arg(args, 0), &EPOCH_UNITS))
            };
            let n = get!(int_arg(func, arg(args, if func == Func::FromUnixtime { 0 } else { 1 })));
            match n.checked_mul(unit.micros().unwrap_or(1)) {
                Some(t) => output(func, Some(t)),
                None => range_err(format!("Input to {} would overflow TIMESTAMP data type", func.name())),
            }
        }
        _ => {
            // FORMAT_TIMESTAMP(ts[, offset])
            let ts = get!(ts_arg(func, arg(args, 0)));
            let offset = if args.len() > 1 {
                parse_offset(get!(str_arg(func, arg(args, 1))))?
            } else {
                0
            };
            match ts.checked_add(offset) {
                Some(t) => Ok(Value::str(&format_timestamp(t))),
                None => range_err("TIMESTAMP out of range in function FORMAT_TIMESTAMP"),
            }
        }
    }
}

fn part(p: DatePart, dt: NaiveDateTime) -> Result<Value> {
    let i = match p {
        DatePart::Year => i64::from(dt.year()),
        DatePart::Quarter => i64::from(dt.month().div_ceil(3)),
        DatePart::Month => i64::from(dt.month()),
        DatePart::Day => i64::from(dt.day()),
        DatePart::DayOfWeek => i64::from(dt.weekday().number_from_sunday()),
        DatePart::DayOfYear => i64::from(dt.ordinal()),
        DatePart::Week => i64::from(dt.iso_week().week()),
        DatePart::Weekday => i64::from(dt.weekday().num_days_from_monday()),
        DatePart::Hour => i64::from(dt.hour()),
        DatePart::Minute => i64::from(dt.minute()),
        DatePart::Second => {
            let raw = i128::from(dt.second()) * 1_000_000_000_000 + i128::from(dt.nanosecond() / 1_000) * 1_000_000;
            return Ok(Value::Decimal(Decimal::from_raw(raw)?));
        }
    };
    Ok(Value::Integer(i))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (y, m) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

fn date_add(unit: Unit, n: i64, ts: i64) -> Result<Value> {
    let func = Func::DateAdd;
    let dt = input(func, ts)?;
    let too_large = || range_err("interval is too large for DATEADD function");
    let Some(step) = unit.micros() else {
        let per = match unit {
            Unit::Year => 12,
            Unit::Quarter => 3,
            _ => 1,
        };
        let Some(months) = n.checked_mul(per) else {
            return too_large();
        };
        let Some(total) = (i64::from(dt.year()) * 12 + i64::from(dt.month0())).checked_add(months) else {
            return too_large();
        };
        let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        if !(1583..=9999).contains(&year) {
            return output(func, None);
        }
        let year = year as i32;
        let day = dt.day().min(days_in_month(year, month));
        let date = NaiveDate::from_ymd_opt(year, month, day);
        return output(func, date.map(|d| micros_of(d.and_time(dt.time()))));
    };
    match n.checked_mul(step) {
        Some(delta) => output(func, ts.checked_add(delta)),
        None => too_large(),
    }
}

fn date_diff(unit: Unit, t1: i64, t2: i64) -> Result<i64> {
    let func = Func::DateDiff;
    let overflow = || Error::Range("numeric value out of range in function DATEDIFF".into());
    match unit {
        Unit::Micro => return t2.checked_sub(t1).ok_or_else(overflow),
        Unit::Milli => return t2.checked_sub(t1).map(|d| d / 1_000).ok_or_else(overflow),
        _ => {}
    }
    let (a, b) = (input(func, t1)?, input(func, t2)?);
    let years = i64::from(b.year()) - i64::from(a.year());
    let months = years * 12 + i64::from(b.month()) - i64::from(a.month());
    let days = (b.date() - a.date()).num_days();
    let tod = micros_of_day(b) - micros_of_day(a);
    Ok(match unit {
        Unit::Year => years,
        Unit::Quarter => months / 3,
        Unit::Month => months,
        Unit::Week => days / 7,
        Unit::Day => days,
        Unit::Hour => days * 24 + tod / 3_600_000_000,
        Unit::Minute => days * 1_440 + tod / 60_000_000,
        _ => days * 86_400 + tod / 1_000_000,
    })
}

fn truncate(unit: Unit, ts: i64) -> Result<Value> {
    let func = Func::Truncate;
    let dt = input(func, ts)?;
    if let Some(step) = unit.micros() {
        // Whole days since the epoch are aligned on UTC midnight, so this is exact.
        return output(func, Some(ts.div_euclid(step) * step));
    }
    let month = match unit {
        Unit::Year => 1,
        Unit::Quarter => (dt.month() - 1) / 3 * 3 + 1,
        _ => dt.month(),
    };
    let date = NaiveDate::from_ymd_opt(dt.year(), month, 1);
    output(func, date.and_then(|d| d.and_hms_opt(0, 0, 0)).map(micros_of))
}

/// Parses a time zone offset: `+05:30`, `-0800`, `+5`, optionally after `UTC`/`GMT`; `Z`,
/// `UTC`, `GMT` or empty for zero. Returns microseconds to add.
fn parse_offset(s: &str) -> Result<i64> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper);
    if body.is_empty() || body == "Z" {
        return Ok(0);
    }
    let invalid = || {
        if t.bytes().any(|c| c.is_ascii_alphabetic()) {
            Err(Error::Unsupported(format!(
                "time zone '{t}' in FORMAT_TIMESTAMP (use an offset such as '+05:30')"
            )))
        } else {
            type_err(format!("invalid time zone offset '{t}' for function FORMAT_TIMESTAMP"))
        }
    };
    if !body.is_ascii() {
        return invalid();
    }
    let (sign, rest) = match body.as_bytes().first() {
        Some(b'+') => (1, &body[1..]),
        Some(b'-') => (-1, &body[1..]),
        _ => return invalid(),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() > 2 => rest.split_at(rest.len() - 2),
        None => (rest, "0"),
    };
    let digits = |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|c| c.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return invalid();
    }
    let (h, m) = (h.parse::<i64>().unwrap_or(99), m.parse::<i64>().unwrap_or(99));
    if h > 18 || m > 59 {
        return invalid();
    }
    Ok(sign * (h * 3_600 + m * 60) * 1_000_000)
}

#[cfg(test)]
mod tests;
