//! The one table of text forms shared by every interface (PG text format, the shell,
//! the slt runner). The JSON API keeps VoltDB's typed JSON instead.

use crate::timestamp::format_timestamp;
use crate::value::Value;

/// Renders a value as text; `None` for SQL NULL.
pub fn render(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => render_float(*f),
        Value::Decimal(d) => d.to_string(),
        Value::Varchar(s) => s.to_string(),
        Value::Varbinary(b) => hex_upper(b),
        Value::Timestamp(t) => format_timestamp(*t),
        Value::Boolean(b) => if *b { "true" } else { "false" }.to_string(),
    })
}

/// Shortest text that reads back as the same double; `NaN`, `Infinity`, `-Infinity`.
pub fn render_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        format!("{f:?}")
    }
}

pub fn hex_upper(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(b.len() * 2);
    for byte in b {
        s.push(DIGITS[(byte >> 4) as usize] as char);
        s.push(DIGITS[(byte & 15) as usize] as char);
    }
    s
}
