//! String scalar functions (VoltDB semantics): positions and lengths count characters
//! (code points), OCTET_LENGTH counts bytes; negative lengths are a "substring error";
//! results longer than VoltDB's largest value (1 MiB) are range errors instead of huge
//! allocations. Slicing always happens at character boundaries.

use voltrs_storage::types::MAX_VALUE_BYTES;
use voltrs_storage::{DataType, Value};

use super::{Func, arg, expect, int_arg, is_int, is_str, str_arg, wrong_arg};
use crate::error::{Result, range_err};

pub(super) fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "SUBSTRING" | "SUBSTR" => Func::Substring,
        "CHAR_LENGTH" | "CHARACTER_LENGTH" => Func::CharLength,
        "OCTET_LENGTH" => Func::OctetLength,
        "LOWER" | "LCASE" => Func::Lower,
        "UPPER" | "UCASE" => Func::Upper,
        "TRIM" => Func::Trim,
        "LTRIM" => Func::LTrim,
        "RTRIM" => Func::RTrim,
        "LEFT" => Func::Left,
        "RIGHT" => Func::Right,
        "REPLACE" => Func::Replace,
        "CONCAT" => Func::Concat,
        "REPEAT" => Func::Repeat,
        "SPACE" => Func::Space,
        "POSITION" => Func::Position,
        _ => return None,
    })
}

/// The declared type of a string argument, VARCHAR_MAX for an untyped NULL.
fn string_type(t: DataType) -> DataType {
    if t.is_string() { t } else { DataType::VARCHAR_MAX }
}

pub(super) fn result_type(name: &str, func: Func, args: &[DataType]) -> Result<DataType> {
    let first = args.first().copied().unwrap_or(DataType::Null);
    Ok(match func {
        Func::Substring => {
            expect(name, args, &[is_str, is_int])?;
            string_type(first)
        }
        Func::Left | Func::Right => {
            expect(name, args, &[is_str, is_int])?;
            string_type(first)
        }
        Func::Lower | Func::Upper | Func::Trim | Func::LTrim | Func::RTrim => {
            expect(name, args, &[is_str])?;
            string_type(first)
        }
        Func::CharLength | Func::Position => {
            expect(name, args, &[is_str])?;
            DataType::Integer
        }
        Func::OctetLength => {
            expect(name, args, &[|t| is_str(t) || matches!(t, DataType::Varbinary { .. })])?;
            DataType::Integer
        }
        Func::Replace | Func::Concat => {
            expect(name, args, &[is_str])?;
            DataType::VARCHAR_MAX
        }
        Func::Repeat => {
            expect(name, args, &[is_str, is_int])?;
            DataType::VARCHAR_MAX
        }
        _ => {
            // SPACE
            expect(name, args, &[is_int])?;
            DataType::VARCHAR_MAX
        }
    })
}

/// Byte offset of the `n`-th character (0-based), or the length when `s` is shorter.
fn byte_offset(s: &str, n: i64) -> usize {
    if n <= 0 {
        return 0;
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

fn count(n: usize) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn substring_error<T>() -> Result<T> {
    range_err("data exception: substring error")
}

fn too_long<T>(func: Func) -> Result<T> {
    range_err(format!(
        "the result of function {} is longer than {MAX_VALUE_BYTES} bytes",
        func.name()
    ))
}

/// A string result checked against the 1 MiB limit.
fn bounded(func: Func, s: String) -> Result<Value> {
    if s.len() > MAX_VALUE_BYTES as usize {
        too_long(func)
    } else {
        Ok(Value::str(&s))
    }
}

pub(super) fn call(func: Func, args: &[Value]) -> Result<Value> {
    macro_rules! s {
        ($i:expr) => {
            match str_arg(func, arg(args, $i))? {
                Some(s) => s,
                None => return Ok(Value::Null),
            }
        };
    }
    macro_rules! n {
        ($i:expr) => {
            match int_arg(func, arg(args, $i))? {
                Some(n) => n,
                None => return Ok(Value::Null),
            }
        };
    }
    match func {
        Func::Substring => {
            let s = s!(0);
            let from = n!(1);
            if args.len() < 3 {
                return Ok(Value::str(&s[byte_offset(s, from.saturating_sub(1))..]));
            }
            let len = n!(2);
            if len < 0 {
                return range_err(format!(
                    "data exception -- substring error, negative length argument {len}"
                ));
            }
            // SQL standard: a start before 1 moves the end left while the start stays at 1.
            let (start, len) = if from < 1 {
                (1, len.saturating_add(from.saturating_sub(1)).max(0))
            } else {
                (from, len)
            };
            let rest = &s[byte_offset(s, start - 1)..];
            Ok(Value::str(&rest[..byte_offset(rest, len)]))
        }
        Func::CharLength => Ok(count(s!(0).chars().count())),
        Func::OctetLength => match arg(args, 0) {
            Value::Null => Ok(Value::Null),
            Value::Varchar(s) => Ok(count(s.len())),
            Value::Varbinary(b) => Ok(count(b.len())),
            other => wrong_arg(func, other),
        },
        Func::Lower => Ok(Value::str(&s!(0).to_lowercase())),
        Func::Upper => Ok(Value::str(&s!(0).to_uppercase())),
        Func::Trim | Func::LTrim | Func::RTrim => {
            let s = s!(0);
            let pat = if args.len() > 1 { s!(1) } else { " " };
            if pat.is_empty() {
                return range_err("data exception -- trim error, invalid length argument 0");
            }
            // Like VoltDB, a longer trim string is removed as a whole, repeatedly.
            let mut t = s;
            if func != Func::RTrim {
                t = t.trim_start_matches(pat);
            }
            if func != Func::LTrim {
                t = t.trim_end_matches(pat);
            }
            Ok(Value::str(t))
        }
        Func::Left | Func::Right => {
            let s = s!(0);
            let n = n!(1);
            if n < 0 {
                return substring_error();
            }
            if func == Func::Left {
                return Ok(Value::str(&s[..byte_offset(s, n)]));
            }
            let chars = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
            Ok(Value::str(&s[byte_offset(s, chars.saturating_sub(n))..]))
        }
        Func::Replace => {
            let (s, from, to) = (s!(0), s!(1), s!(2));
            if from.is_empty() {
                return Ok(Value::str(s));
            }
            let hits = s.matches(from).count();
            let len = (s.len() - hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
            if len > MAX_VALUE_BYTES as usize {
                return too_long(func);
            }
            Ok(Value::str(&s.replace(from, to)))
        }
        Func::Concat => {
            let mut out = String::new();
            for i in 0..args.len() {
                let part = s!(i);
                if out.len().saturating_add(part.len()) > MAX_VALUE_BYTES as usize {
                    return too_long(func);
                }
                out.push_str(part);
            }
            Ok(Value::str(&out))
        }
        Func::Repeat => {
            let s = s!(0);
            let n = n!(1);
            if n < 0 {
                return substring_error();
            }
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if s.len().saturating_mul(n) > MAX_VALUE_BYTES as usize {
                return too_long(func);
            }
            bounded(func, s.repeat(n))
        }
        Func::Space => {
            let n = n!(0);
            if n < 0 {
                return substring_error();
            }
            if n > i64::from(MAX_VALUE_BYTES) {
                return too_long(func);
            }
            bounded(func, " ".repeat(usize::try_from(n).unwrap_or(0)))
        }
        _ => {
            // POSITION(needle, haystack)
            let (needle, hay) = (s!(0), s!(1));
            Ok(match hay.find(needle) {
                Some(b) => count(hay[..b].chars().count() + 1),
                None => Value::Integer(0),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use voltrs_storage::{DataType, Value};

    use crate::error::Error;
    use crate::functions::{Func, resolve};

    fn s(x: &str) -> Value {
        Value::str(x)
    }
    fn i(n: i64) -> Value {
        Value::Integer(n)
    }

    #[test]
    fn resolve_types() {
        let v5 = DataType::Varchar { len: 5, bytes: false };
        assert_eq!(
            resolve("SUBSTRING", &[v5, DataType::Integer]).unwrap(),
            Some((Func::Substring, v5))
        );
        assert_eq!(
            resolve("UPPER", &[DataType::Null]).unwrap(),
            Some((Func::Upper, DataType::VARCHAR_MAX))
        );
        assert_eq!(
            resolve("CHAR_LENGTH", &[v5]).unwrap(),
            Some((Func::CharLength, DataType::Integer))
        );
        assert_eq!(
            resolve("CONCAT", &[v5, v5, v5]).unwrap(),
            Some((Func::Concat, DataType::VARCHAR_MAX))
        );
        let e = resolve("SUBSTRING", &[v5, v5]).unwrap_err();
        assert_eq!(e, Error::Type("function SUBSTRING does not accept VARCHAR".into()));
        assert_eq!(resolve("CONCAT", &[v5]).unwrap_err().kind(), "type");
        assert_eq!(resolve("LOWER", &[DataType::Integer]).unwrap_err().kind(), "type");
        assert!(resolve("OCTET_LENGTH", &[DataType::Varbinary { len: 4 }]).is_ok());
    }

    #[test]
    fn substring_edges() {
        assert_eq!(run("SUBSTRING", &[s("hello"), i(2)]).unwrap(), s("ello"));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(2), i(3)]).unwrap(), s("ell"));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(0)]).unwrap(), s("hello"));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(-5)]).unwrap(), s("hello"));
        // Start before 1 shortens the result (SQL standard).
        assert_eq!(run("SUBSTRING", &[s("hello"), i(0), i(3)]).unwrap(), s("he"));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(-1), i(3)]).unwrap(), s("h"));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(-5), i(3)]).unwrap(), s(""));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(9)]).unwrap(), s(""));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(4), i(100)]).unwrap(), s("lo"));
        assert_eq!(run("SUBSTRING", &[s("hello"), i(2), i(0)]).unwrap(), s(""));
        assert_eq!(
            run("SUBSTRING", &[s("hello"), i(1), i(-1)]).unwrap_err().kind(),
            "range"
        );
        assert_eq!(run("SUBSTRING", &[s("héllo"), i(2), i(2)]).unwrap(), s("él"));
        assert_eq!(
            run("SUBSTRING", &[s("héllo"), i(i64::MIN), i(i64::MAX)]).unwrap(),
            s("")
        );
        assert_eq!(
            run("SUBSTRING", &[s("héllo"), i(i64::MAX), i(i64::MAX)]).unwrap(),
            s("")
        );
        assert!(run("SUBSTRING", &[Value::Null, i(1)]).unwrap().is_null());
        assert!(run("SUBSTRING", &[s("x"), i(1), Value::Null]).unwrap().is_null());
    }

    #[test]
    fn lengths_and_case() {
        assert_eq!(run("CHAR_LENGTH", &[s("héllo")]).unwrap(), i(5));
        assert_eq!(run("OCTET_LENGTH", &[s("héllo")]).unwrap(), i(6));
        assert_eq!(run("OCTET_LENGTH", &[Value::bytes(&[1, 2])]).unwrap(), i(2));
        assert_eq!(run("LOWER", &[s("AbÉ")]).unwrap(), s("abé"));
        assert_eq!(run("UPPER", &[s("abé")]).unwrap(), s("ABÉ"));
    }

    #[test]
    fn trims() {
        assert_eq!(run("TRIM", &[s("  a b  ")]).unwrap(), s("a b"));
        assert_eq!(run("LTRIM", &[s("  a  ")]).unwrap(), s("a  "));
        assert_eq!(run("RTRIM", &[s("  a  ")]).unwrap(), s("  a"));
        assert_eq!(run("TRIM", &[s("xxaxx"), s("x")]).unwrap(), s("a"));
        assert_eq!(run("TRIM", &[s("ababcab"), s("ab")]).unwrap(), s("c"));
        assert_eq!(run("TRIM", &[s("ééaé"), s("é")]).unwrap(), s("a"));
        assert_eq!(run("TRIM", &[s("a"), s("")]).unwrap_err().kind(), "range");
    }

    #[test]
    fn left_right_replace_concat() {
        assert_eq!(run("LEFT", &[s("héllo"), i(2)]).unwrap(), s("hé"));
        assert_eq!(run("LEFT", &[s("abc"), i(10)]).unwrap(), s("abc"));
        assert_eq!(run("RIGHT", &[s("héllo"), i(4)]).unwrap(), s("éllo"));
        assert_eq!(run("RIGHT", &[s("abc"), i(10)]).unwrap(), s("abc"));
        assert_eq!(run("RIGHT", &[s("abc"), i(0)]).unwrap(), s(""));
        assert_eq!(run("LEFT", &[s("abc"), i(-1)]).unwrap_err().kind(), "range");
        assert_eq!(run("REPLACE", &[s("a-b-c"), s("-"), s("+")]).unwrap(), s("a+b+c"));
        assert_eq!(run("REPLACE", &[s("abc"), s(""), s("x")]).unwrap(), s("abc"));
        assert!(run("REPLACE", &[s("abc"), Value::Null, s("x")]).unwrap().is_null());
        assert_eq!(run("CONCAT", &[s("a"), s("b"), s("c")]).unwrap(), s("abc"));
        assert!(run("CONCAT", &[s("a"), Value::Null]).unwrap().is_null());
    }

    #[test]
    fn repeat_space_position() {
        assert_eq!(run("REPEAT", &[s("ab"), i(3)]).unwrap(), s("ababab"));
        assert_eq!(run("REPEAT", &[s("ab"), i(0)]).unwrap(), s(""));
        assert_eq!(run("REPEAT", &[s("ab"), i(-1)]).unwrap_err().kind(), "range");
        assert_eq!(run("REPEAT", &[s("ab"), i(i64::MAX)]).unwrap_err().kind(), "range");
        assert_eq!(run("SPACE", &[i(3)]).unwrap(), s("   "));
        assert_eq!(run("SPACE", &[i(i64::MAX)]).unwrap_err().kind(), "range");
        assert_eq!(run("POSITION", &[s("lo"), s("héllo")]).unwrap(), i(4));
        assert_eq!(run("POSITION", &[s("z"), s("hello")]).unwrap(), i(0));
        assert_eq!(run("POSITION", &[s(""), s("hello")]).unwrap(), i(1));
        assert!(run("POSITION", &[Value::Null, s("hello")]).unwrap().is_null());
    }
}
