//! Conversions between SQL values and Lua values, and result tables read back from Lua
//! (`result.rs` builds them; `prelude.lua` describes their layout).
//!
//! | SQL | Lua (to) | Lua (from, by column type) |
//! |---|---|---|
//! | TINYINT … BIGINT | integer | integer, or a float with an integral value, in the type's range |
//! | TIMESTAMP | integer (µs) | integer |
//! | FLOAT | float | float or integer |
//! | DECIMAL | string, exact text (`"1.500000000000"`) | string (exact), integer, float |
//! | VARCHAR | string | UTF-8 string |
//! | VARBINARY | string of raw bytes | string |
//! | NULL | nil | nil |

use mlua::{Table, Value as LuaValue};
use voltrs_sql::outcome::{ResultColumn, ResultTable};
use voltrs_storage::{DataType, Decimal, Value};

/// An integer as Lua reads one: an integer, or a float with an integral value in range.
pub(super) fn integer(v: &LuaValue) -> Option<i64> {
    match v {
        LuaValue::Integer(i) => Some(*i),
        LuaValue::Number(f) => float_integer(*f),
        _ => None,
    }
}

/// A float with an integral value in the range of an integer, as that integer.
pub(super) fn float_integer(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f)).then_some(f as i64)
}

/// A short description of a Lua value for messages: its type, and the value of a number.
pub(super) fn describe(v: &LuaValue) -> String {
    match v {
        LuaValue::Integer(i) => format!("integer {i}"),
        LuaValue::Number(f) => format!("float {f}"),
        other => other.type_name().to_string(),
    }
}

/// A value for a column of type `ty` of a table built by `voltdb.table`.
fn to_cell(v: &LuaValue, ty: DataType) -> Result<Value, String> {
    if v.is_nil() {
        return Ok(Value::Null);
    }
    let wrong = || format!("a {} value cannot be {}", ty.name(), describe(v));
    match ty {
        DataType::TinyInt | DataType::SmallInt | DataType::Integer | DataType::BigInt => {
            let i = integer(v).ok_or_else(wrong)?;
            match ty.integer_range() {
                Some((low, high)) if i < low || i > high => {
                    Err(format!("{i} is out of range for {} ({low}..{high})", ty.name()))
                }
                _ => Ok(Value::Integer(i)),
            }
        }
        DataType::Timestamp => integer(v).map(Value::Timestamp).ok_or_else(wrong),
        DataType::Float => match v {
            LuaValue::Integer(i) => Ok(Value::Float(*i as f64)),
            LuaValue::Number(f) => Ok(Value::Float(*f)),
            _ => Err(wrong()),
        },
        DataType::Decimal => {
            let d = match v {
                LuaValue::Integer(i) => Ok(Decimal::from_i64(*i)),
                LuaValue::Number(f) => Decimal::from_f64(*f),
                LuaValue::String(s) => {
                    let text = s.to_str().map_err(|_| "a DECIMAL string must be UTF-8".to_string())?;
                    Decimal::parse(&text)
                }
                _ => return Err(wrong()),
            };
            d.map(Value::Decimal)
                .map_err(|e| format!("bad DECIMAL {}: {e}", describe(v)))
        }
        DataType::Varchar { .. } => match v {
            LuaValue::String(s) => {
                let text = s
                    .to_str()
                    .map_err(|_| "a VARCHAR value must be UTF-8 text".to_string())?;
                Ok(Value::str(&text))
            }
            _ => Err(wrong()),
        },
        DataType::Varbinary { .. } => match v {
            LuaValue::String(s) => Ok(Value::bytes(&s.as_bytes())),
            _ => Err(wrong()),
        },
        // Only in a result read back: voltdb.table has no BOOLEAN type name.
        DataType::Boolean => match v {
            LuaValue::Boolean(b) => Ok(Value::Boolean(*b)),
            _ => Err(wrong()),
        },
        DataType::Null => Err(wrong()),
    }
}

/// A type name of `voltdb.table`'s column list.
fn type_named(name: &str) -> Option<DataType> {
    Some(match name.to_ascii_uppercase().as_str() {
        "TINYINT" => DataType::TinyInt,
        "SMALLINT" => DataType::SmallInt,
        "INTEGER" => DataType::Integer,
        "BIGINT" => DataType::BigInt,
        "FLOAT" => DataType::Float,
        "DECIMAL" => DataType::Decimal,
        "VARCHAR" => DataType::VARCHAR_MAX,
        "VARBINARY" => DataType::VARBINARY_MAX,
        "TIMESTAMP" => DataType::Timestamp,
        _ => return None,
    })
}

/// `voltdb.table(columns [, rows])`.
pub(super) fn build_table(columns: &Table, rows: Option<&Table>) -> Result<ResultTable, String> {
    let mut out = ResultTable::default();
    for i in 1..=columns.raw_len() {
        let spec: LuaValue = columns.raw_get(i).map_err(|e| e.to_string())?;
        let bad = || format!("column {i} must be {{name, type}}, e.g. {{\"N\", \"BIGINT\"}}");
        let LuaValue::Table(spec) = spec else { return Err(bad()) };
        let (name, ty): (LuaValue, LuaValue) = (
            spec.raw_get(1).map_err(|e| e.to_string())?,
            spec.raw_get(2).map_err(|e| e.to_string())?,
        );
        let (LuaValue::String(name), LuaValue::String(ty)) = (name, ty) else {
            return Err(bad());
        };
        let ty_name = ty.to_string_lossy();
        let ty = type_named(&ty_name).ok_or_else(|| {
            format!(
                "column {i}: unknown type \"{ty_name}\" (use TINYINT, SMALLINT, INTEGER, BIGINT, FLOAT, \
                 DECIMAL, VARCHAR, VARBINARY or TIMESTAMP)"
            )
        })?;
        let name = name
            .to_str()
            .map_err(|_| format!("column {i}: the name must be UTF-8"))?
            .to_string();
        out.columns.push(ResultColumn { name, ty });
    }
    let Some(rows) = rows else { return Ok(out) };
    let width = out.columns.len();
    for r in 1..=rows.raw_len() {
        let LuaValue::Table(row) = rows.raw_get(r).map_err(|e| e.to_string())? else {
            return Err(format!("row {r} must be an array of values"));
        };
        if row.raw_len() > width {
            return Err(format!("row {r} has {} values for {width} columns", row.raw_len()));
        }
        let mut cells = Vec::with_capacity(width);
        for (c, column) in out.columns.iter().enumerate() {
            let v: LuaValue = row.raw_get(c + 1).map_err(|e| e.to_string())?;
            cells
                .push(to_cell(&v, column.ty).map_err(|e| format!("row {r}, column {} ({}): {e}", c + 1, column.name))?);
        }
        out.rows.push(cells);
    }
    Ok(out)
}

/// Recognises result tables among Lua values and reads them back.
pub(super) struct Results<'a> {
    /// The metatable of every result table.
    pub(super) result_mt: &'a Table,
    /// The result of this call with that origin (slot 4), exactly as SQL or `voltdb.table`
    /// made it.
    pub(super) original: &'a dyn Fn(i64) -> Option<ResultTable>,
}

impl Results<'_> {
    /// The tables `run` returned: see the module docs for the accepted shapes.
    pub(super) fn returned(&self, v: &LuaValue) -> Result<Vec<ResultTable>, String> {
        let not_a_table = |what: &str| {
            format!("{what}; run must return nil, an integer, a result table or an array of result tables")
        };
        match v {
            LuaValue::Nil => Ok(Vec::new()),
            LuaValue::Integer(_) | LuaValue::Number(_) => match integer(v) {
                Some(i) => Ok(vec![ResultTable {
                    columns: vec![ResultColumn {
                        name: String::new(),
                        ty: DataType::BigInt,
                    }],
                    rows: vec![vec![Value::Integer(i)]],
                }]),
                None => Err(not_a_table(&format!(
                    "run returned the non-integral number {}",
                    describe(v)
                ))),
            },
            LuaValue::UserData(_) => Err(not_a_table("run returned a userdata that is not a result table")),
            LuaValue::Table(t) if t.metatable().as_ref() == Some(self.result_mt) => Ok(vec![self.read(t)?]),
            LuaValue::Table(array) => {
                let mut tables = Vec::new();
                for i in 1..=array.raw_len() {
                    let element: LuaValue = array.raw_get(i).map_err(|e| e.to_string())?;
                    match &element {
                        LuaValue::Table(t) if t.metatable().as_ref() == Some(self.result_mt) => {
                            tables.push(self.read(t)?)
                        }
                        _ => {
                            let what = format!("element {i} of the array run returned is {}", describe(&element));
                            return Err(not_a_table(&what));
                        }
                    }
                }
                Ok(tables)
            }
            other => Err(not_a_table(&format!("run returned a {}", other.type_name()))),
        }
    }

    /// A result table: the original when it was made in this call, else rebuilt from its
    /// contents (a result kept from an earlier call).
    fn read(&self, t: &Table) -> Result<ResultTable, String> {
        if let Ok(origin) = t.raw_get::<i64>(4)
            && let Some(original) = (self.original)(origin)
        {
            return Ok(original);
        }
        read_result(t).map_err(|e| format!("a result table that run returned is damaged: {e}"))
    }
}

/// A result table rebuilt from the Lua table (the layout described in `prelude.lua`).
fn read_result(t: &Table) -> Result<ResultTable, String> {
    let get = |i: i64| t.raw_get::<LuaValue>(i).map_err(|e| e.to_string());
    let count = |i: i64| match get(i)? {
        LuaValue::Integer(n) if n >= 0 => Ok(n),
        _ => Err(format!("slot {i} is not a count")),
    };
    let (n, w) = (count(1)?, count(2)?);
    let types = match get(3)? {
        LuaValue::String(s) => decode_types(&s.as_bytes()),
        _ => None,
    };
    let types = types
        .filter(|types| types.len() as i64 == w)
        .ok_or("its column types are unreadable")?;
    let header = super::result::HEADER as i64;
    let mut out = ResultTable::default();
    for (j, ty) in (1..=w).zip(types) {
        let LuaValue::String(name) = get(header + j)? else {
            return Err(format!("column {j} has no name"));
        };
        let name = name
            .to_str()
            .map_err(|_| format!("column {j}: the name is not UTF-8"))?;
        out.columns.push(ResultColumn {
            name: name.to_string(),
            ty,
        });
    }
    for r in 0..n {
        let mut row = Vec::with_capacity(out.columns.len());
        for (c, column) in (1..).zip(&out.columns) {
            let v = get(header + w + r * w + c)?;
            row.push(to_cell(&v, column.ty).map_err(|e| format!("row {}, column {c} ({}): {e}", r + 1, column.name))?);
        }
        out.rows.push(row);
    }
    Ok(out)
}

/// Appends the column types to `out` in the form [`decode_types`] reads: a letter per type,
/// followed by the length for VARCHAR and VARBINARY.
pub(super) fn encode_types(types: impl Iterator<Item = DataType>, out: &mut String) {
    for ty in types {
        let (letter, len) = match ty {
            DataType::TinyInt => ('t', None),
            DataType::SmallInt => ('s', None),
            DataType::Integer => ('i', None),
            DataType::BigInt => ('b', None),
            DataType::Float => ('f', None),
            DataType::Decimal => ('d', None),
            DataType::Varchar { len, bytes: false } => ('v', Some(len)),
            DataType::Varchar { len, bytes: true } => ('V', Some(len)),
            DataType::Varbinary { len } => ('x', Some(len)),
            DataType::Timestamp => ('T', None),
            DataType::Boolean => ('B', None),
            DataType::Null => ('n', None),
        };
        out.push(letter);
        if let Some(len) = len {
            // Digits by hand: `write!` costs more than the rest of a small result's build.
            let mut digits = [0u8; 10];
            let mut n = len;
            let mut i = digits.len();
            loop {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            out.extend(digits[i..].iter().map(|&d| char::from(d)));
        }
    }
}

/// The column types [`encode_types`] wrote; `None` if `s` is not such a text.
pub(super) fn decode_types(s: &[u8]) -> Option<Vec<DataType>> {
    let mut types = Vec::new();
    let mut i = 0;
    while let Some(&letter) = s.get(i) {
        i += 1;
        let digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let len = std::str::from_utf8(&s[i..i + digits])
            .ok()
            .and_then(|d| d.parse::<u32>().ok());
        i += digits;
        types.push(match (letter, len) {
            (b't', None) => DataType::TinyInt,
            (b's', None) => DataType::SmallInt,
            (b'i', None) => DataType::Integer,
            (b'b', None) => DataType::BigInt,
            (b'f', None) => DataType::Float,
            (b'd', None) => DataType::Decimal,
            (b'v', Some(len)) => DataType::Varchar { len, bytes: false },
            (b'V', Some(len)) => DataType::Varchar { len, bytes: true },
            (b'x', Some(len)) => DataType::Varbinary { len },
            (b'T', None) => DataType::Timestamp,
            (b'B', None) => DataType::Boolean,
            (b'n', None) => DataType::Null,
            _ => return None,
        });
    }
    Some(types)
}
