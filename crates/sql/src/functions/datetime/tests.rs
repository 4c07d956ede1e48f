//! Tests of the date and time functions.

use super::super::tests::{CTX, dec, run};
use super::*;
use crate::functions::{call, resolve};
use voltrs_storage::timestamp::parse_timestamp;

fn ts(s: &str) -> Value {
    Value::Timestamp(parse_timestamp(s).unwrap())
}
fn s(x: &str) -> Value {
    Value::str(x)
}
fn i(n: i64) -> Value {
    Value::Integer(n)
}

#[test]
fn range_constants() {
    let min = NaiveDate::from_ymd_opt(1583, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert_eq!(micros_of(min), MIN_TS);
    let max = NaiveDate::from_ymd_opt(9999, 12, 31)
        .unwrap()
        .and_hms_micro_opt(23, 59, 59, 999_999)
        .unwrap();
    assert_eq!(micros_of(max), MAX_TS);
}

#[test]
fn resolve_types() {
    let vc = DataType::Varchar { len: 10, bytes: false };
    assert_eq!(resolve("NOW", &[]).unwrap(), Some((Func::Now, DataType::Timestamp)));
    assert_eq!(
        resolve("CURRENT_TIMESTAMP", &[]).unwrap(),
        Some((Func::Now, DataType::Timestamp))
    );
    assert_eq!(resolve("NOW", &[DataType::Integer]).unwrap_err().kind(), "type");
    let y = resolve("YEAR", &[DataType::Timestamp]).unwrap();
    assert_eq!(y, Some((Func::Part(DatePart::Year), DataType::Integer)));
    let sec = resolve("SECOND", &[DataType::Timestamp]).unwrap();
    assert_eq!(sec, Some((Func::Part(DatePart::Second), DataType::Decimal)));
    assert_eq!(resolve("DAYOFWEEK", &[vc]).unwrap_err().kind(), "type");
    let add = resolve("DATEADD", &[vc, DataType::Integer, DataType::Timestamp]).unwrap();
    assert_eq!(add, Some((Func::DateAdd, DataType::Timestamp)));
    assert_eq!(
        resolve("DATEADD", &[vc, vc, DataType::Timestamp]).unwrap_err().kind(),
        "type"
    );
    assert_eq!(
        resolve("DATEDIFF", &[vc, DataType::Timestamp]).unwrap_err().kind(),
        "type"
    );
    let d = resolve("DATEDIFF", &[vc, DataType::Timestamp, DataType::Null]).unwrap();
    assert_eq!(d, Some((Func::DateDiff, DataType::BigInt)));
    assert_eq!(
        resolve("EXTRACT", &[vc, DataType::Timestamp]).unwrap().unwrap().1,
        DataType::Decimal
    );
}

#[test]
fn now_reads_the_context() {
    assert_eq!(run("NOW", &[]).unwrap(), Value::Timestamp(CTX.now));
}

#[test]
fn extract_fields() {
    // 2024-03-15 was a Friday.
    let t = ts("2024-03-15 13:45:30.250000");
    let get = |f: &str| run(f, std::slice::from_ref(&t)).unwrap();
    assert_eq!(get("YEAR"), i(2024));
    assert_eq!(get("QUARTER"), i(1));
    assert_eq!(get("MONTH"), i(3));
    assert_eq!(get("DAY"), i(15));
    assert_eq!(get("DAYOFMONTH"), i(15));
    assert_eq!(get("DAY_OF_WEEK"), i(6));
    assert_eq!(get("DAYOFYEAR"), i(31 + 29 + 15));
    assert_eq!(get("WEEK"), i(11));
    assert_eq!(get("WEEKDAY"), i(4));
    assert_eq!(get("HOUR"), i(13));
    assert_eq!(get("MINUTE"), i(45));
    assert_eq!(get("SECOND"), dec("30.25"));
    assert_eq!(run("EXTRACT", &[s("DAY_OF_WEEK"), t.clone()]).unwrap(), dec("6"));
    assert_eq!(run("EXTRACT", &[s("SECOND"), t.clone()]).unwrap(), dec("30.25"));
    assert_eq!(run("EXTRACT", &[s("FORTNIGHT"), t]).unwrap_err().kind(), "type");
    let sunday = ts("2023-01-01 00:00:00");
    assert_eq!(run("DAYOFWEEK", std::slice::from_ref(&sunday)).unwrap(), i(1));
    assert_eq!(run("WEEKDAY", std::slice::from_ref(&sunday)).unwrap(), i(6));
    assert_eq!(run("WEEK", &[sunday]).unwrap(), i(52));
    // Before the epoch.
    let old = ts("1969-12-31 23:59:59.5");
    assert_eq!(run("YEAR", std::slice::from_ref(&old)).unwrap(), i(1969));
    assert_eq!(run("SECOND", &[old]).unwrap(), dec("59.5"));
    assert!(run("YEAR", &[Value::Null]).unwrap().is_null());
    assert_eq!(
        run("YEAR", &[Value::Timestamp(MIN_TS - 1)]).unwrap_err().kind(),
        "range"
    );
    assert_eq!(run("YEAR", &[Value::Timestamp(i64::MIN)]).unwrap_err().kind(), "range");
}

#[test]
fn dateadd_clamps_month_ends() {
    let add = |u: &str, n: i64, t: &str| run("DATEADD", &[s(u), i(n), ts(t)]);
    assert_eq!(
        add("MONTH", 1, "2024-01-31 10:00:00").unwrap(),
        ts("2024-02-29 10:00:00")
    );
    assert_eq!(add("MONTH", 1, "2023-01-31").unwrap(), ts("2023-02-28"));
    assert_eq!(add("MONTH", -1, "2024-03-31").unwrap(), ts("2024-02-29"));
    assert_eq!(add("QUARTER", 1, "2024-11-30").unwrap(), ts("2025-02-28"));
    assert_eq!(add("YEAR", 1, "2024-02-29").unwrap(), ts("2025-02-28"));
    assert_eq!(add("YEAR", -4, "2024-02-29").unwrap(), ts("2020-02-29"));
    assert_eq!(add("DAY", 1, "2024-02-28").unwrap(), ts("2024-02-29"));
    assert_eq!(add("HOUR", -1, "2024-01-01").unwrap(), ts("2023-12-31 23:00:00"));
    assert_eq!(add("MINUTE", 90, "2024-01-01").unwrap(), ts("2024-01-01 01:30:00"));
    assert_eq!(add("SECOND", 1, "2024-01-01").unwrap(), ts("2024-01-01 00:00:01"));
    assert_eq!(add("MILLIS", 1, "2024-01-01").unwrap(), ts("2024-01-01 00:00:00.001"));
    assert_eq!(
        add("MICROSECOND", 1, "2024-01-01").unwrap(),
        ts("2024-01-01 00:00:00.000001")
    );
    assert_eq!(add("YEAR", 8000, "2024-01-01").unwrap_err().kind(), "range");
    assert_eq!(add("MONTH", i64::MAX, "2024-01-01").unwrap_err().kind(), "range");
    assert_eq!(add("DAY", i64::MAX / 2, "2024-01-01").unwrap_err().kind(), "range");
    assert_eq!(add("MICROS", i64::MAX, "2024-01-01").unwrap_err().kind(), "range");
    assert_eq!(add("FORTNIGHT", 1, "2024-01-01").unwrap_err().kind(), "type");
    assert!(
        run("DATEADD", &[s("DAY"), Value::Null, ts("2024-01-01")])
            .unwrap()
            .is_null()
    );
}

#[test]
fn datediff() {
    let diff = |u: &str, a: &str, b: &str| run("DATEDIFF", &[s(u), ts(a), ts(b)]).unwrap();
    assert_eq!(diff("YEAR", "2023-12-31", "2024-01-01"), i(1));
    assert_eq!(diff("MONTH", "2024-01-31", "2024-02-01"), i(1));
    assert_eq!(diff("MONTH", "2024-05-01", "2024-02-28"), i(-3));
    assert_eq!(diff("QUARTER", "2024-01-01", "2024-12-31"), i(3));
    assert_eq!(diff("WEEK", "2024-01-01", "2024-01-15"), i(2));
    assert_eq!(diff("DAY", "2024-01-01 23:00:00", "2024-01-02 01:00:00"), i(1));
    assert_eq!(diff("DAY", "2024-03-01", "2024-02-01"), i(-29));
    assert_eq!(diff("HOUR", "2024-01-01 00:30:00", "2024-01-01 02:29:00"), i(1));
    assert_eq!(diff("MINUTE", "2024-01-01 00:00:59", "2024-01-01 00:02:00"), i(1));
    assert_eq!(diff("SECOND", "2024-01-01", "2024-01-02"), i(86_400));
    assert_eq!(diff("MILLISECOND", "2024-01-01", "2024-01-01 00:00:01.5"), i(1_500));
    assert_eq!(diff("MICROS", "2024-01-01 00:00:01", "2024-01-01"), i(-1_000_000));
    let r = run(
        "DATEDIFF",
        &[s("MICROS"), Value::Timestamp(i64::MIN + 1), Value::Timestamp(i64::MAX)],
    );
    assert_eq!(r.unwrap_err().kind(), "range");
}

#[test]
fn truncation() {
    let tr = |u: &str, t: &str| run("TRUNCATE", &[s(u), ts(t)]).unwrap();
    let t = "2024-08-17 13:45:30.123456";
    assert_eq!(tr("YEAR", t), ts("2024-01-01"));
    assert_eq!(tr("QUARTER", t), ts("2024-07-01"));
    assert_eq!(tr("MONTH", t), ts("2024-08-01"));
    assert_eq!(tr("DAY", t), ts("2024-08-17"));
    assert_eq!(tr("HOUR", t), ts("2024-08-17 13:00:00"));
    assert_eq!(tr("MINUTE", t), ts("2024-08-17 13:45:00"));
    assert_eq!(tr("SECOND", t), ts("2024-08-17 13:45:30"));
    assert_eq!(tr("MILLISECOND", t), ts("2024-08-17 13:45:30.123"));
    assert_eq!(tr("MICROSECOND", t), ts(t));
    assert_eq!(tr("DAY", "1969-12-31 13:00:00"), ts("1969-12-31"));
    assert_eq!(tr("MILLIS", "1969-12-31 23:59:59.9995"), ts("1969-12-31 23:59:59.999"));
    assert_eq!(run("TRUNCATE", &[s("WEEK"), ts(t)]).unwrap_err().kind(), "type");
}

#[test]
fn epoch_conversions() {
    let t = ts("1970-01-02 00:00:01.5");
    assert_eq!(run("SINCE_EPOCH", &[s("SECOND"), t.clone()]).unwrap(), i(86_401));
    assert_eq!(run("SINCE_EPOCH", &[s("MILLIS"), t.clone()]).unwrap(), i(86_401_500));
    assert_eq!(
        run("SINCE_EPOCH", &[s("MICROSECOND"), t.clone()]).unwrap(),
        i(86_401_500_000)
    );
    assert_eq!(run("SINCE_EPOCH", &[s("DAY"), t]).unwrap_err().kind(), "type");
    assert_eq!(
        run("TO_TIMESTAMP", &[s("SECOND"), i(86_401)]).unwrap(),
        ts("1970-01-02 00:00:01")
    );
    assert_eq!(
        run("TO_TIMESTAMP", &[s("MILLISECOND"), i(1_500)]).unwrap(),
        ts("1970-01-01 00:00:01.5")
    );
    assert_eq!(run("TO_TIMESTAMP", &[s("MICROS"), i(7)]).unwrap(), Value::Timestamp(7));
    assert_eq!(
        run("TO_TIMESTAMP", &[s("SECOND"), i(i64::MAX)]).unwrap_err().kind(),
        "range"
    );
    assert_eq!(
        run("TO_TIMESTAMP", &[s("SECOND"), i(300_000_000_000)])
            .unwrap_err()
            .kind(),
        "range"
    );
    assert_eq!(run("FROM_UNIXTIME", &[i(60)]).unwrap(), ts("1970-01-01 00:01:00"));
}

#[test]
fn format_with_offsets() {
    let t = ts("2024-01-01 00:00:00.5");
    let f = |o: &str| run("FORMAT_TIMESTAMP", &[t.clone(), s(o)]);
    assert_eq!(
        run("FORMAT_TIMESTAMP", std::slice::from_ref(&t)).unwrap(),
        s("2024-01-01 00:00:00.500000")
    );
    assert_eq!(f("+05:30").unwrap(), s("2024-01-01 05:30:00.500000"));
    assert_eq!(f("-0800").unwrap(), s("2023-12-31 16:00:00.500000"));
    assert_eq!(f("UTC").unwrap(), s("2024-01-01 00:00:00.500000"));
    assert_eq!(f("GMT+1").unwrap(), s("2024-01-01 01:00:00.500000"));
    assert_eq!(f("+25:00").unwrap_err().kind(), "type");
    assert_eq!(f("+5:3x").unwrap_err().kind(), "unsupported");
    assert_eq!(f("America/New_York").unwrap_err().kind(), "unsupported");
    assert_eq!(f("+é1").unwrap_err().kind(), "type");
    assert_eq!(f("12").unwrap_err().kind(), "type");
    let max = Value::Timestamp(i64::MAX);
    let r = call(Func::FormatTimestamp, &[max, s("+01:00")], &CTX);
    assert_eq!(r.unwrap_err().kind(), "range");
}
