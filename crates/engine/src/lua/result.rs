//! Result tables: built from the batch's [`ResultTable`]s for Lua, and the methods that
//! read them or can fail (`count`, `#t`, `scalar`, `get`, `row`), as C functions over the
//! layout `prelude.lua` describes (see `raw.rs` for the rules they follow).
//!
//! Why C for the methods: a C function keeps its caller's frame even when the procedure
//! tail-calls it (`return t:get(3, 1)`), so an error names the procedure's line
//! (`luaL_where(L, 1)`), as it did when result tables were userdata; and with the limit
//! hook on, every VM instruction of a Lua method would pay for the hook.

use std::ffi::{CStr, c_int};
use std::fmt::Write;
use std::ops::Range;
use std::ptr;

use mlua::{Function, Lua, Result as LuaResult, Table, ffi};
use voltrs_sql::outcome::ResultTable;
use voltrs_storage::Value;

use super::api::CallState;
use super::raw::{Described, has_metatable, hint, integer, push_bytes, raise, string};
use super::values;

/// Slots before a result table's column names: n, w, types, origin (see `prelude.lua`).
pub(super) const HEADER: usize = 4;
const N: ffi::lua_Integer = 1;
const W: ffi::lua_Integer = 2;
const H: ffi::lua_Integer = HEADER as ffi::lua_Integer;

/// Owned text the builder needs, made before it runs and reused across calls.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// Every table's encoded column types ([`values::encode_types`]), one after another.
    types: String,
    type_spans: Vec<Range<usize>>,
    /// The text of every DECIMAL value, in the order the builder meets them.
    decimals: String,
    decimal_spans: Vec<Range<usize>>,
    /// Per table, when some column name is not already upper case: the range of
    /// `upper_spans` holding every column's upper-case name (the keys of `t:row(i)`).
    upper_names: Vec<Option<Range<usize>>>,
    upper: String,
    upper_spans: Vec<Range<usize>>,
}

impl Scratch {
    /// Makes the text [`push_results`] needs for `tables`.
    pub(super) fn prepare(&mut self, tables: &[ResultTable]) {
        self.types.clear();
        self.type_spans.clear();
        self.decimals.clear();
        self.decimal_spans.clear();
        self.upper_names.clear();
        self.upper.clear();
        self.upper_spans.clear();
        for t in tables {
            let start = self.types.len();
            values::encode_types(t.columns.iter().map(|c| c.ty), &mut self.types);
            self.type_spans.push(start..self.types.len());
            let upper = |name: &str| name.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase());
            if t.columns.iter().all(|c| upper(&c.name)) {
                self.upper_names.push(None);
            } else {
                let first = self.upper_spans.len();
                for c in &t.columns {
                    let start = self.upper.len();
                    if c.name.is_ascii() {
                        self.upper.extend(c.name.chars().map(|ch| ch.to_ascii_uppercase()));
                    } else {
                        self.upper.push_str(&c.name.to_uppercase());
                    }
                    self.upper_spans.push(start..self.upper.len());
                }
                self.upper_names.push(Some(first..self.upper_spans.len()));
            }
            for v in t.rows.iter().flat_map(|row| row.iter().take(t.columns.len())) {
                if let Value::Decimal(d) = v {
                    let start = self.decimals.len();
                    let _ = write!(self.decimals, "{d}");
                    self.decimal_spans.push(start..self.decimals.len());
                }
            }
        }
    }
}

/// What the builder makes: one table per result in an array, or one result alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Array,
    Single,
}

/// `voltdb.table`'s result: `table` as a Lua result table with metatable `mt` and `origin`.
pub(super) fn build_result(lua: &Lua, mt: &Table, table: &ResultTable, origin: i64) -> LuaResult<Table> {
    let mut scratch = Scratch::default();
    let tables = std::slice::from_ref(table);
    scratch.prepare(tables);
    let scratch = &scratch;
    // SAFETY: a protected call (see the module docs); the closure only borrows.
    unsafe {
        lua.exec_raw(mt, |l| {
            push_results(l, 1, tables, |_| origin, Shape::Single, scratch);
            ffi::lua_replace(l, 1);
        })
    }
}

/// Pushes `tables` as Lua result tables with the metatable at stack index `mt`, table `k`
/// with origin `origin(k)`. `scratch` must have been prepared for `tables`.
///
/// # Safety
/// `l` is running inside a protected call or a C function called from Lua (an allocation
/// may raise); at least 4 stack slots are free.
unsafe fn push_results(
    l: *mut ffi::lua_State,
    mt: c_int,
    tables: &[ResultTable],
    origin: impl Fn(usize) -> i64,
    shape: Shape,
    scratch: &Scratch,
) {
    // SAFETY: per the contract; every value used is borrowed.
    unsafe {
        if shape == Shape::Array {
            ffi::lua_createtable(l, hint(tables.len()), 0);
        }
        let mut decimals = scratch.decimal_spans.iter();
        for (k, t) in tables.iter().enumerate() {
            let (n, w) = (t.rows.len(), t.columns.len());
            let upper = scratch.upper_names.get(k).cloned().flatten();
            let upper = upper.and_then(|r| scratch.upper_spans.get(r)).unwrap_or(&[]);
            let len = HEADER + w + n.saturating_mul(w) + upper.len();
            ffi::lua_createtable(l, hint(len), 0);
            ffi::lua_pushinteger(l, n as ffi::lua_Integer);
            ffi::lua_rawseti(l, -2, 1);
            ffi::lua_pushinteger(l, w as ffi::lua_Integer);
            ffi::lua_rawseti(l, -2, 2);
            let types = scratch.type_spans.get(k).and_then(|s| scratch.types.get(s.clone()));
            push_bytes(l, types.unwrap_or("").as_bytes());
            ffi::lua_rawseti(l, -2, 3);
            ffi::lua_pushinteger(l, origin(k));
            ffi::lua_rawseti(l, -2, 4);
            let mut i = HEADER as ffi::lua_Integer;
            for column in &t.columns {
                i += 1;
                push_bytes(l, column.name.as_bytes());
                ffi::lua_rawseti(l, -2, i);
            }
            for row in &t.rows {
                for c in 0..w {
                    i += 1;
                    let value = row.get(c).unwrap_or(&Value::Null);
                    let decimal = match value {
                        Value::Decimal(_) => decimals.next().and_then(|s| scratch.decimals.get(s.clone())),
                        _ => None,
                    };
                    if push_value(l, value, decimal.unwrap_or("")) {
                        ffi::lua_rawseti(l, -2, i);
                    }
                }
            }
            for span in upper {
                i += 1;
                push_bytes(l, scratch.upper.get(span.clone()).unwrap_or("").as_bytes());
                ffi::lua_rawseti(l, -2, i);
            }
            ffi::lua_pushvalue(l, mt);
            ffi::lua_setmetatable(l, -2);
            if shape == Shape::Array {
                ffi::lua_rawseti(l, -2, k as ffi::lua_Integer + 1);
            }
        }
    }
}

/// Pushes `v` (a DECIMAL as `decimal`, its text) and returns true, or pushes nothing for
/// NULL.
///
/// # Safety
/// As [`push_results`], with one free slot.
pub(super) unsafe fn push_value(l: *mut ffi::lua_State, v: &Value, decimal: &str) -> bool {
    // SAFETY: per the contract.
    unsafe {
        match v {
            Value::Null => return false,
            Value::Integer(i) | Value::Timestamp(i) => ffi::lua_pushinteger(l, *i),
            Value::Float(f) => ffi::lua_pushnumber(l, *f),
            Value::Boolean(b) => ffi::lua_pushboolean(l, c_int::from(*b)),
            Value::Decimal(_) => push_bytes(l, decimal.as_bytes()),
            Value::Varchar(s) => push_bytes(l, s.as_bytes()),
            Value::Varbinary(b) => push_bytes(l, b),
        }
    }
    true
}

/// Pushes the array of result tables of the batch the site just ran
/// ([`CallState::batch`]), with the metatable at index `mt`.
///
/// # Safety
/// `l` runs a C function called from Lua (see `raw.rs`); `st` is read without a guard and
/// no Lua code runs meanwhile.
pub(super) unsafe fn push_batch(l: *mut ffi::lua_State, st: &CallState, mt: c_int) {
    let tables = st.results.get(st.batch.clone()).unwrap_or(&[]);
    let first = st.batch.start;
    // SAFETY: per the contract; `scratch` was prepared for these tables.
    unsafe { push_results(l, mt, tables, |k| st.origin_at(first + k), Shape::Array, &st.scratch) };
}

/// `count`, `__len`, `scalar`, `get` and `row` for the prelude, each a C closure whose
/// upvalue is the metatable of result tables (`mt`).
pub(super) fn methods(lua: &Lua, mt: &Table) -> LuaResult<Table> {
    let methods = lua.create_table()?;
    let functions: [(&str, ffi::lua_CFunction); 4] = [("count", count), ("scalar", scalar), ("get", get), ("row", row)];
    for (name, function) in functions {
        let f: Function = super::raw::closure(lua, function, None, &[mt])?;
        methods.raw_set(name, f)?;
    }
    Ok(methods)
}

/// `t:count()` and `#t`: the number of rows.
unsafe extern "C-unwind" fn count(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made by `methods`.
    unsafe {
        check_result(l, c"count");
        ffi::lua_pushinteger(l, field(l, N));
    }
    1
}

/// `t:scalar()`: the only value of a one-row, one-column table.
unsafe extern "C-unwind" fn scalar(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made by `methods`.
    unsafe {
        check_result(l, c"scalar");
        let (n, w) = (field(l, N), field(l, W));
        if n != 1 || w != 1 {
            raise(
                l,
                format_args!("scalar() needs one row of one column, the table has {n} rows of {w} columns"),
            );
        }
        ffi::lua_rawgeti(l, 1, H + 2);
    }
    1
}

/// `t:get(row, col)`: a value by 1-based row and by 1-based column or column name.
unsafe extern "C-unwind" fn get(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made by `methods`.
    unsafe {
        check_result(l, c"get");
        let w = field(l, W);
        let r = row_index(l, 2);
        let c = column_index(l, 3, w);
        ffi::lua_rawgeti(l, 1, H + w + (r - 1) * w + c);
    }
    1
}

/// `t:row(i)`: row `i` as a table keyed by column number and by upper-case column name.
unsafe extern "C-unwind" fn row(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made by `methods`; at most 4 stack slots above
    // the arguments (the row, a value, its copy or its key).
    unsafe {
        check_result(l, c"row");
        let (n, w) = (field(l, N), field(l, W));
        let base = H + w + (row_index(l, 2) - 1) * w;
        // The upper-case names follow the values when some name is not upper case.
        let upper = H + w + n * w;
        let keys = if ffi::lua_rawgeti(l, 1, upper + 1) == ffi::LUA_TNIL {
            H
        } else {
            upper
        };
        ffi::lua_pop(l, 1);
        let size = c_int::try_from(w).unwrap_or(0);
        ffi::lua_createtable(l, size, size);
        for j in 1..=w {
            if ffi::lua_rawgeti(l, 1, base + j) == ffi::LUA_TNIL {
                ffi::lua_pop(l, 1);
                continue;
            }
            ffi::lua_pushvalue(l, -1);
            ffi::lua_rawseti(l, -3, j);
            ffi::lua_rawgeti(l, 1, keys + j);
            ffi::lua_rotate(l, -2, 1);
            ffi::lua_rawset(l, -3);
        }
    }
    1
}

/// Raises unless argument 1 is a result table (its metatable is upvalue 1).
///
/// # Safety
/// `l` runs a C closure made by [`methods`].
unsafe fn check_result(l: *mut ffi::lua_State, method: &CStr) {
    // SAFETY: per the contract.
    unsafe {
        if !has_metatable(l, 1, ffi::lua_upvalueindex(1)) {
            let method = method.to_str().unwrap_or("?");
            raise(
                l,
                format_args!("{method}() needs a result table, got {}", Described(l, 1)),
            );
        }
    }
}

/// The count in header slot `i` (N or W) of the result table at 1 (raises if damaged).
///
/// # Safety
/// `l` runs a C closure made by [`methods`] and argument 1 is a table.
unsafe fn field(l: *mut ffi::lua_State, i: ffi::lua_Integer) -> ffi::lua_Integer {
    // SAFETY: per the contract.
    unsafe {
        let is_integer = ffi::lua_rawgeti(l, 1, i) == ffi::LUA_TNUMBER && ffi::lua_isinteger(l, -1) != 0;
        let n = ffi::lua_tointegerx(l, -1, ptr::null_mut());
        ffi::lua_pop(l, 1);
        if !is_integer || n < 0 {
            raise(l, format_args!("the result table is damaged: slot {i} is not a count"));
        }
        n
    }
}

/// Argument `i` as a 1-based row number of the result table at 1, checked.
///
/// # Safety
/// As [`field`].
unsafe fn row_index(l: *mut ffi::lua_State, i: c_int) -> ffi::lua_Integer {
    // SAFETY: per the contract.
    unsafe {
        let n = field(l, N);
        match integer(l, i) {
            Some(r) if r >= 1 && r <= n => r,
            Some(r) => raise(l, format_args!("row {r} is out of range: the table has {n} rows")),
            None => raise(l, format_args!("row must be an integer, got {}", Described(l, i))),
        }
    }
}

/// Argument `i` as a 1-based column number, or a column name (ASCII case folded) of the
/// result table at 1, checked.
///
/// # Safety
/// As [`field`].
unsafe fn column_index(l: *mut ffi::lua_State, i: c_int, w: ffi::lua_Integer) -> ffi::lua_Integer {
    // SAFETY: per the contract.
    unsafe {
        if ffi::lua_type(l, i) == ffi::LUA_TSTRING {
            let wanted = string(l, i);
            if std::str::from_utf8(wanted).is_err() {
                raise(l, format_args!("column name is not UTF-8"));
            }
            for j in 1..=w {
                ffi::lua_rawgeti(l, 1, H + j);
                let found = ffi::lua_type(l, -1) == ffi::LUA_TSTRING && string(l, -1).eq_ignore_ascii_case(wanted);
                ffi::lua_pop(l, 1);
                if found {
                    return j;
                }
            }
            no_such_column(l, i, w);
        }
        match integer(l, i) {
            Some(c) if c >= 1 && c <= w => c,
            Some(c) => raise(l, format_args!("column {c} is out of range: the table has {w} columns")),
            None => raise(
                l,
                format_args!("column must be a number or a name, got {}", Described(l, i)),
            ),
        }
    }
}

/// Raises `no column named "x" (columns: A, B)`, made by Lua from the names (any number).
///
/// # Safety
/// As [`field`]; argument `i` is a string.
unsafe fn no_such_column(l: *mut ffi::lua_State, i: c_int, w: ffi::lua_Integer) -> ! {
    // SAFETY: per the contract; the stack holds at most 3 pieces before each concat.
    unsafe {
        ffi::luaL_where(l, 1);
        ffi::lua_pushstring(l, c"no column named \"".as_ptr());
        ffi::lua_pushvalue(l, i);
        ffi::lua_pushstring(l, c"\" (columns: ".as_ptr());
        ffi::lua_concat(l, 4);
        for j in 1..=w {
            if j > 1 {
                ffi::lua_pushstring(l, c", ".as_ptr());
                ffi::lua_concat(l, 2);
            }
            ffi::lua_rawgeti(l, 1, H + j);
            ffi::lua_concat(l, 2);
        }
        ffi::lua_pushstring(l, c")".as_ptr());
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
}
