//! VoltDB's JSON forms of a response, written straight into a `String`.
//!
//! Two shapes share one head (`status`, `appstatus`, `statusstring`, `appstatusstring`):
//!
//! * `/api/1.0/`: `results` is an array of tables, each
//!   `{"status":-128,"schema":[{"name":"C","type":6}],"data":[[..]]}` (`type` is the column's
//!   VoltDB type code, `status` the table's status byte, always VoltDB's default -128 here).
//! * `/api/2.0/`: `results` is an object keyed by the table's position, each table an array
//!   of row objects: `{"0":[{"C":1}],"1":[]}`.
//!
//! Values are written as VoltDB's JSON writer writes them (`VoltTableRow.putJSONRep`):
//!
//! | Type              | JSON                                                  | Example          |
//! |-------------------|-------------------------------------------------------|------------------|
//! | NULL of any type  | `null`                                                |                  |
//! | TINYINT … BIGINT  | number                                                | `-42`            |
//! | FLOAT             | number, Java's `Double.toString` without trailing zeros | `1.5`, `1`, `1.0E20` |
//! | DECIMAL           | string, Java's `BigDecimal.toString` at scale 12      | `"3.140000000000"`, `"0E-12"` |
//! | VARCHAR           | string                                                | `"abc"`          |
//! | VARBINARY         | string of upper-case hex                              | `"00FF"`         |
//! | TIMESTAMP         | number: microseconds since the Unix epoch             | `1700000000000000` |
//! | BOOLEAN           | number 1 or 0 (the column is a TINYINT on the wire)   | `1`              |
//!
//! FLOAT NaN and ±∞ have no JSON form (VoltDB's writer fails the whole answer); they are
//! written as `null`.
//!
//! Strings escape `"`, `\`, control characters, U+007F–U+009F, U+2028, U+2029 (which end a
//! line in older JavaScript, where a jsonp answer is evaluated) and the `/` of `</` (so an
//! answer can sit inside an HTML `<script>`).

use std::fmt::Write;

use voltrs_engine::Response;
use voltrs_storage::{Decimal, Value};
use voltrs_wire::codec::VoltType;

/// The status byte of every result table (VoltDB's "uninitialized" default).
const TABLE_STATUS: i8 = -128;

/// Which JSON API the answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The JSON of an invocation's response.
pub fn response(r: &Response, version: Version) -> String {
    let mut out = String::with_capacity(256);
    head(
        &mut out,
        r.status.code(),
        r.app_status.code,
        r.status_string.as_deref(),
        r.app_status.message.as_deref(),
    );
    match version {
        Version::V1 => {
            out.push('[');
            for (i, t) in r.tables.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{{\"status\":{TABLE_STATUS},\"schema\":[");
                for (j, c) in t.columns.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"name\":");
                    string(&mut out, &c.name);
                    let _ = write!(out, ",\"type\":{}}}", VoltType::of(c.ty).code());
                }
                out.push_str("],\"data\":[");
                for (j, row) in t.rows.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    for (k, v) in row.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        value(&mut out, v);
                    }
                    out.push(']');
                }
                out.push_str("]}");
            }
            out.push_str("]}");
        }
        Version::V2 => {
            out.push('{');
            for (i, t) in r.tables.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "\"{i}\":[");
                for (j, row) in t.rows.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push('{');
                    for (k, (c, v)) in t.columns.iter().zip(row).enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        string(&mut out, &c.name);
                        out.push(':');
                        value(&mut out, v);
                    }
                    out.push('}');
                }
                out.push(']');
            }
            out.push_str("}}");
        }
    }
    out
}

/// The answer to a request refused before any call (bad request, failed login): VoltDB
/// writes it in the `/api/1.0/` shape with no results whatever the API version.
pub fn refusal(status: i8, message: &str) -> String {
    let mut out = String::with_capacity(96 + message.len());
    head(&mut out, status, -128, Some(message), None);
    out.push_str("[]}");
    out
}

/// `{"status":..,"appstatus":..,"statusstring":..,"appstatusstring":..,"results":`
fn head(out: &mut String, status: i8, app_status: i8, status_string: Option<&str>, app_status_string: Option<&str>) {
    let _ = write!(
        out,
        "{{\"status\":{status},\"appstatus\":{app_status},\"statusstring\":"
    );
    optional_string(out, status_string);
    out.push_str(",\"appstatusstring\":");
    optional_string(out, app_status_string);
    out.push_str(",\"results\":");
}

fn optional_string(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.push_str("null"),
    }
}

/// One value (see the module docs for each type's form).
pub fn value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => match java_double(*f) {
            Some(text) => out.push_str(&text),
            None => out.push_str("null"),
        },
        Value::Decimal(d) => {
            out.push('"');
            out.push_str(&java_decimal(*d));
            out.push('"');
        }
        Value::Varchar(s) => string(out, s),
        Value::Varbinary(b) => {
            out.push('"');
            out.push_str(&voltrs_storage::text::hex_upper(b));
            out.push('"');
        }
        Value::Timestamp(us) => {
            let _ = write!(out, "{us}");
        }
        Value::Boolean(b) => out.push(if *b { '1' } else { '0' }),
    }
}

/// A JSON string literal (see the module docs for what is escaped).
pub fn string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut prior = '\0';
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' if prior == '<' => out.push_str("\\/"),
            c if c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c) || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
        prior = c;
    }
    out.push('"');
}

/// A finite double as VoltDB's JSON writer prints it: Java's `Double.toString` (positional
/// for magnitudes in [10^-3, 10^7), else `d.dddE±n` with at least one fraction digit), with
/// trailing fraction zeros and a trailing point removed from the positional form. The digits
/// are the shortest that read back as the same double, as in Java 19 and later, except where
/// that is a single digit that Java refines with a second one (a few subnormals: Java's
/// `4.9E-324` is `5.0E-324` here). `None` for NaN and the infinities.
pub fn java_double(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        // Rust's positional form is already without trailing zeros: `1`, `0.5`, `-0`.
        return Some(format!("{f}"));
    }
    // `{:e}` gives the same shortest digits as `1.2345e-5` or `1e20`.
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e')?;
    let point = if mantissa.contains('.') { "" } else { ".0" };
    Some(format!("{mantissa}{point}E{exponent}"))
}

/// A DECIMAL as Java's `BigDecimal.toString` prints a value of scale 12 (VoltDB's JSON
/// writer): positional with all 12 fraction digits when the adjusted exponent is at least
/// -6, else scientific (`1.00000E-7`, and zero as `0E-12`).
pub fn java_decimal(d: Decimal) -> String {
    const SCALE: usize = 12;
    let raw = d.raw();
    let digits = raw.unsigned_abs().to_string();
    let sign = if raw < 0 { "-" } else { "" };
    let adjusted = digits.len() as i64 - 1 - SCALE as i64;
    if adjusted >= -6 {
        if digits.len() > SCALE {
            let (int, frac) = digits.split_at(digits.len() - SCALE);
            format!("{sign}{int}.{frac}")
        } else {
            format!("{sign}0.{}{digits}", "0".repeat(SCALE - digits.len()))
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        format!("{sign}{first}{point}{rest}E{adjusted}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltrs_engine::{AppStatus, ResultColumn, ResultTable, Status};
    use voltrs_storage::DataType;

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    fn table() -> ResultTable {
        ResultTable {
            columns: vec![
                ResultColumn {
                    name: "ID".into(),
                    ty: DataType::BigInt,
                },
                ResultColumn {
                    name: "NAME".into(),
                    ty: DataType::VARCHAR_MAX,
                },
            ],
            rows: vec![
                vec![Value::Integer(1), Value::str("a\"b")],
                vec![Value::Integer(2), Value::Null],
            ],
        }
    }

    fn success(tables: Vec<ResultTable>) -> Response {
        Response {
            status: Status::Success,
            status_string: None,
            app_status: AppStatus::default(),
            tables,
        }
    }

    #[test]
    fn v1_has_schema_and_row_arrays() {
        let r = success(vec![table(), ResultTable::default()]);
        assert_eq!(
            response(&r, Version::V1),
            r#"{"status":1,"appstatus":-128,"statusstring":null,"appstatusstring":null,"results":[{"status":-128,"schema":[{"name":"ID","type":6},{"name":"NAME","type":9}],"data":[[1,"a\"b"],[2,null]]},{"status":-128,"schema":[],"data":[]}]}"#
        );
    }

    #[test]
    fn v2_keys_tables_by_position_and_rows_by_column() {
        let r = success(vec![table(), ResultTable::default()]);
        assert_eq!(
            response(&r, Version::V2),
            r#"{"status":1,"appstatus":-128,"statusstring":null,"appstatusstring":null,"results":{"0":[{"ID":1,"NAME":"a\"b"},{"ID":2,"NAME":null}],"1":[]}}"#
        );
        assert_eq!(
            response(&success(Vec::new()), Version::V2),
            r#"{"status":1,"appstatus":-128,"statusstring":null,"appstatusstring":null,"results":{}}"#
        );
    }

    #[test]
    fn failures_carry_their_status_and_app_status() {
        let r = Response {
            status: Status::UserAbort,
            status_string: Some("no".into()),
            app_status: AppStatus {
                code: 7,
                message: Some("why".into()),
            },
            tables: Vec::new(),
        };
        assert_eq!(
            response(&r, Version::V1),
            r#"{"status":-1,"appstatus":7,"statusstring":"no","appstatusstring":"why","results":[]}"#
        );
        assert_eq!(
            refusal(-3, "Procedure parameter is missing"),
            r#"{"status":-3,"appstatus":-128,"statusstring":"Procedure parameter is missing","appstatusstring":null,"results":[]}"#
        );
    }

    #[test]
    fn the_output_is_json_that_reads_back() {
        let mut t = table();
        t.rows
            .push(vec![Value::Integer(i64::MAX), Value::str("ü \u{1} \u{2028} </script>")]);
        let text = response(&success(vec![t]), Version::V2);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["results"]["0"][2]["ID"], i64::MAX);
        assert_eq!(parsed["results"]["0"][2]["NAME"], "ü \u{1} \u{2028} </script>");
        assert!(text.contains(r#"\u0001 \u2028 <\/script>"#), "{text}");
    }

    fn one(v: Value) -> String {
        let mut s = String::new();
        value(&mut s, &v);
        s
    }

    #[test]
    fn values_take_voltdbs_json_forms() {
        assert_eq!(one(Value::Null), "null");
        assert_eq!(one(Value::Integer(-128)), "-128");
        assert_eq!(one(Value::Integer(i64::MIN + 1)), "-9223372036854775807");
        assert_eq!(one(Value::Float(1.5)), "1.5");
        assert_eq!(one(Value::Decimal(dec("3.14"))), r#""3.140000000000""#);
        assert_eq!(one(Value::str("x")), r#""x""#);
        assert_eq!(one(Value::bytes(&[0, 0xab, 0xff])), r#""00ABFF""#);
        assert_eq!(one(Value::bytes(&[])), r#""""#);
        assert_eq!(one(Value::Timestamp(1_700_000_000_123_456)), "1700000000123456");
        assert_eq!(one(Value::Timestamp(-1)), "-1");
        assert_eq!(one(Value::Boolean(true)), "1");
        assert_eq!(one(Value::Float(f64::NAN)), "null");
        assert_eq!(one(Value::Float(f64::NEG_INFINITY)), "null");
    }

    #[test]
    fn doubles_print_as_java_with_trailing_zeros_cut() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (1234567.0, "1234567"),
            (9999999.5, "9999999.5"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (0.000999, "9.99E-4"),
            (1e20, "1.0E20"),
            (-1.5e-10, "-1.5E-10"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        ];
        for (f, want) in cases {
            assert_eq!(java_double(f).as_deref(), Some(want), "{f:e}");
        }
    }

    #[test]
    fn decimals_print_as_java_bigdecimal_at_scale_12() {
        let cases = [
            ("3.14", "3.140000000000"),
            ("-3.14", "-3.140000000000"),
            ("1", "1.000000000000"),
            (
                "99999999999999999999999999.999999999999",
                "99999999999999999999999999.999999999999",
            ),
            (
                "-99999999999999999999999999.999999999999",
                "-99999999999999999999999999.999999999999",
            ),
            ("0.5", "0.500000000000"),
            ("0.000001", "0.000001000000"),
            ("0.0000001", "1.00000E-7"),
            ("-0.000000000001", "-1E-12"),
            ("0.000000000012", "1.2E-11"),
            ("0", "0E-12"),
        ];
        for (text, want) in cases {
            assert_eq!(java_decimal(dec(text)), want, "{text}");
        }
    }
}
