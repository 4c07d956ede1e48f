//! Conversions between SQL values and Lua values, and the result-table userdata.
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

use mlua::{AnyUserData, Lua, MetaMethod, Result as LuaResult, Table, UserData, UserDataMethods, Value as LuaValue};
use voltrs_sql::outcome::{ResultColumn, ResultTable};
use voltrs_storage::{DataType, Decimal, Value};

/// A result table as Lua sees it: from `voltdb.execute` or built by `voltdb.table`.
#[derive(Clone, Debug)]
pub(super) struct LuaTable(pub(super) ResultTable);

impl UserData for LuaTable {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("count", |_, t, ()| Ok(t.0.rows.len()));
        methods.add_meta_method(MetaMethod::Len, |_, t, ()| Ok(t.0.rows.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, t, ()| {
            Ok(format!(
                "result table ({} columns, {} rows)",
                t.0.columns.len(),
                t.0.rows.len()
            ))
        });
        methods.add_method("get", |lua, t, (row, col): (LuaValue, LuaValue)| {
            let r = t.row_index(&row).map_err(mlua::Error::runtime)?;
            let c = t.column_index(&col).map_err(mlua::Error::runtime)?;
            t.0.rows[r].get(c).map_or(Ok(LuaValue::Nil), |v| to_lua(lua, v))
        });
        methods.add_method("row", |lua, t, row: LuaValue| {
            let r = t.row_index(&row).map_err(mlua::Error::runtime)?;
            t.row_table(lua, r)
        });
        methods.add_method("scalar", |lua, t, ()| match t.0.rows.as_slice() {
            [row] if row.len() == 1 => to_lua(lua, &row[0]),
            _ => Err(mlua::Error::runtime(format!(
                "scalar() needs one row of one column, the table has {} rows of {} columns",
                t.0.rows.len(),
                t.0.columns.len()
            ))),
        });
        methods.add_method("columns", |lua, t, ()| {
            lua.create_sequence_from(t.0.columns.iter().map(|c| c.name.clone()))
        });
        methods.add_function("rows", |lua, this: AnyUserData| {
            let mut next = 0;
            lua.create_function_mut(move |lua, ()| {
                let t = this.borrow::<LuaTable>()?;
                if next >= t.0.rows.len() {
                    return Ok(LuaValue::Nil);
                }
                next += 1;
                Ok(LuaValue::Table(t.row_table(lua, next - 1)?))
            })
        });
    }
}

impl LuaTable {
    /// A 1-based Lua row number to a 0-based index, checked.
    fn row_index(&self, row: &LuaValue) -> Result<usize, String> {
        let n = self.0.rows.len();
        match integer(row) {
            Some(i) if i >= 1 && (i as u64) <= n as u64 => Ok(i as usize - 1),
            Some(i) => Err(format!("row {i} is out of range: the table has {n} rows")),
            None => Err(format!("row must be an integer, got {}", describe(row))),
        }
    }

    /// A 1-based column number or a case-insensitive column name to a 0-based index.
    fn column_index(&self, col: &LuaValue) -> Result<usize, String> {
        let columns = &self.0.columns;
        if let LuaValue::String(s) = col {
            let name = s.to_str().map_err(|_| "column name is not UTF-8".to_string())?;
            return columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(&name))
                .ok_or_else(|| format!("no column named \"{}\" (columns: {})", &*name, column_list(columns)));
        }
        match integer(col) {
            Some(i) if i >= 1 && (i as u64) <= columns.len() as u64 => Ok(i as usize - 1),
            Some(i) => Err(format!(
                "column {i} is out of range: the table has {} columns",
                columns.len()
            )),
            None => Err(format!("column must be a number or a name, got {}", describe(col))),
        }
    }

    /// Row `r` as a Lua table keyed by upper-case column name and by 1-based column number.
    fn row_table(&self, lua: &Lua, r: usize) -> LuaResult<Table> {
        let columns = &self.0.columns;
        let table = lua.create_table_with_capacity(columns.len(), columns.len())?;
        for (i, (column, value)) in columns.iter().zip(&self.0.rows[r]).enumerate() {
            let v = to_lua(lua, value)?;
            table.raw_set(i + 1, v.clone())?;
            table.raw_set(column.name.to_uppercase(), v)?;
        }
        Ok(table)
    }
}

fn column_list(columns: &[ResultColumn]) -> String {
    columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// An integer as Lua reads one: an integer, or a float with an integral value in range.
pub(super) fn integer(v: &LuaValue) -> Option<i64> {
    match v {
        LuaValue::Integer(i) => Some(*i),
        LuaValue::Number(f) if f.fract() == 0.0 && *f >= -9.223_372_036_854_776e18 && *f < 9.223_372_036_854_776e18 => {
            Some(*f as i64)
        }
        _ => None,
    }
}

/// A short description of a Lua value for messages: its type, and the value of a number.
pub(super) fn describe(v: &LuaValue) -> String {
    match v {
        LuaValue::Integer(i) => format!("integer {i}"),
        LuaValue::Number(f) => format!("float {f}"),
        other => other.type_name().to_string(),
    }
}

/// A SQL value to Lua.
pub(super) fn to_lua(lua: &Lua, v: &Value) -> LuaResult<LuaValue> {
    Ok(match v {
        Value::Null => LuaValue::Nil,
        Value::Integer(i) | Value::Timestamp(i) => LuaValue::Integer(*i),
        Value::Float(f) => LuaValue::Number(*f),
        Value::Decimal(d) => LuaValue::String(lua.create_string(d.to_string())?),
        Value::Varchar(s) => LuaValue::String(lua.create_string(&**s)?),
        Value::Varbinary(b) => LuaValue::String(lua.create_string(&**b)?),
        Value::Boolean(b) => LuaValue::Boolean(*b),
    })
}

/// An invocation parameter to Lua, by its declared type: an integer given for a FLOAT
/// parameter is a float, and for a DECIMAL parameter a decimal string.
pub(super) fn param_to_lua(lua: &Lua, v: &Value, ty: DataType) -> LuaResult<LuaValue> {
    match (v, ty) {
        (Value::Integer(i), DataType::Float) => Ok(LuaValue::Number(*i as f64)),
        (Value::Integer(i), DataType::Decimal) => {
            Ok(LuaValue::String(lua.create_string(Decimal::from_i64(*i).to_string())?))
        }
        _ => to_lua(lua, v),
    }
}

/// A `voltdb.queue` argument to a SQL parameter; the host coerces it to the statement's type.
pub(super) fn to_param(v: &LuaValue) -> Result<Value, String> {
    Ok(match v {
        LuaValue::Nil => Value::Null,
        LuaValue::Boolean(b) => Value::Boolean(*b),
        LuaValue::Integer(i) => Value::Integer(*i),
        LuaValue::Number(f) => Value::Float(*f),
        LuaValue::String(s) => match s.to_str() {
            Ok(text) => Value::str(&text),
            Err(_) => Value::bytes(&s.as_bytes()),
        },
        other => return Err(format!("a {} cannot be a SQL parameter", other.type_name())),
    })
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
        DataType::Boolean | DataType::Null => Err(wrong()),
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

/// The tables `run` returned: see the module docs for the accepted shapes.
pub(super) fn returned_tables(v: &LuaValue) -> Result<Vec<ResultTable>, String> {
    let not_a_table =
        |what: &str| format!("{what}; run must return nil, an integer, a result table or an array of result tables");
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
        LuaValue::UserData(ud) => match ud.borrow::<LuaTable>() {
            Ok(t) => Ok(vec![t.0.clone()]),
            Err(_) => Err(not_a_table("run returned a userdata that is not a result table")),
        },
        LuaValue::Table(array) => {
            let mut tables = Vec::new();
            for i in 1..=array.raw_len() {
                let element: LuaValue = array.raw_get(i).map_err(|e| e.to_string())?;
                let table = match &element {
                    LuaValue::UserData(ud) => ud.borrow::<LuaTable>().ok().map(|t| t.0.clone()),
                    _ => None,
                };
                let what = format!("element {i} of the array run returned is {}", describe(&element));
                tables.push(table.ok_or_else(|| not_a_table(&what))?);
            }
            Ok(tables)
        }
        other => Err(not_a_table(&format!("run returned a {}", other.type_name()))),
    }
}
