//! A JSON API request's inputs: the `name=value` pairs of the query string and of a
//! form-encoded body, and the procedure parameters (`Parameters`, a JSON array).

use std::sync::Arc;

use voltrs_storage::Value;

/// The request's fields, query string first then body (so the query string wins when both
/// carry a name, as with Java servlets' `getParameter`).
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Adds the pairs of `application/x-www-form-urlencoded` text: `&`-separated, `+` for
    /// space, `%XX` escapes. Invalid UTF-8 becomes U+FFFD; a malformed escape stays as written.
    pub fn add(&mut self, encoded: &[u8]) {
        for pair in encoded.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            self.0.push((decode(name), decode(value)));
        }
    }

    /// The first value of `name`; the match ignores ASCII case (VoltDB's documented
    /// spellings are `Procedure`, `Parameters`, `User`, `Password`, `Hashedpassword`,
    /// `admin`, `jsonp`, `Querytimeout`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-decodes one component.
fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => match (s.get(i + 1).and_then(|&b| hex(b)), s.get(i + 2).and_then(|&b| hex(b))) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The values of a `Parameters` array: JSON strings become VARCHAR (the engine converts them
/// to the parameter's type: DECIMAL, TIMESTAMP, hex VARBINARY, ...), integers BIGINT, other
/// numbers FLOAT, `true`/`false` BOOLEAN, `null` NULL. Arrays and objects (VoltDB's array
/// and table parameters) are refused with the parameter's position.
pub fn parameters(text: &str) -> Result<Vec<Value>, String> {
    let parsed: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("Parameters is not valid JSON ({e})"))?;
    let serde_json::Value::Array(items) = parsed else {
        return Err("Parameters must be a JSON array, such as [1,\"text\",null]".into());
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            Ok(match item {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Boolean(b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Integer(i),
                    None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Value::Varchar(Arc::from(s)),
                serde_json::Value::Array(_) => {
                    return Err(format!("parameter {}: array parameters are not supported", i + 1));
                }
                serde_json::Value::Object(_) => {
                    return Err(format!(
                        "parameter {}: table (JSON object) parameters are not supported",
                        i + 1
                    ));
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_then_body_and_first_wins() {
        let mut f = Fields::default();
        f.add(b"Procedure=%40AdHoc&Parameters=%5B%22select+1%22%5D&jsonp");
        f.add(b"procedure=Other&User=a%2Bb%3D&&x=%zz%4");
        assert_eq!(f.get("Procedure"), Some("@AdHoc"));
        assert_eq!(f.get("parameters"), Some("[\"select 1\"]"));
        assert_eq!(f.get("jsonp"), Some(""));
        assert_eq!(f.get("user"), Some("a+b="));
        assert_eq!(f.get("x"), Some("%zz%4"));
        assert_eq!(f.get("Password"), None);
    }

    #[test]
    fn utf8_escapes_decode_and_bad_bytes_are_replaced() {
        let mut f = Fields::default();
        f.add("a=%C3%BC%E2%82%AC&b=%FF".as_bytes());
        assert_eq!(f.get("a"), Some("ü€"));
        assert_eq!(f.get("b"), Some("\u{fffd}"));
    }

    #[test]
    fn parameters_map_json_types_to_values() {
        let v = parameters(r#"[1, -9223372036854775808, 1.5, 1e3, 18446744073709551615, "x", null, true]"#).unwrap();
        assert!(matches!(v[0], Value::Integer(1)));
        assert!(matches!(v[1], Value::Integer(i64::MIN)));
        assert!(matches!(v[2], Value::Float(f) if f == 1.5));
        assert!(matches!(v[3], Value::Float(f) if f == 1000.0));
        assert!(matches!(v[4], Value::Float(f) if f == 18446744073709551615.0));
        assert!(matches!(&v[5], Value::Varchar(s) if &**s == "x"));
        assert!(v[6].is_null());
        assert!(matches!(v[7], Value::Boolean(true)));
        assert!(parameters("[]").unwrap().is_empty());
    }

    #[test]
    fn bad_parameters_say_what_is_wrong() {
        assert!(
            parameters("[1,")
                .unwrap_err()
                .starts_with("Parameters is not valid JSON")
        );
        assert!(
            parameters("{}")
                .unwrap_err()
                .starts_with("Parameters must be a JSON array")
        );
        assert_eq!(
            parameters("[1,[2]]").unwrap_err(),
            "parameter 2: array parameters are not supported"
        );
        assert!(
            parameters(r#"[{"a":1}]"#)
                .unwrap_err()
                .starts_with("parameter 1: table")
        );
    }
}
