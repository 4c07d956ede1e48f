//! The mlua half of the `voltdb` library, and the per-call state it shares with the site.
//!
//! [`primitives`] collects what `prelude.lua` builds each procedure's `voltdb` table from:
//! the mlua callbacks made here (`sql`, `abort`, `table`, `set_app_status`, ..., the
//! message handler and `check`), and the C functions of `batch.rs`, `result.rs` and
//! `coroutine.rs`, which serve what a procedure calls on every transaction. Every one
//! reaches the call through one `Rc<RefCell<CallState>>`: the callbacks borrow it only for
//! their own length (never across a call into Lua); the C functions follow `raw.rs`.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use std::time::Instant;

use mlua::{Lua, MultiValue, Result as LuaResult, Table, Value as LuaValue, Variadic};
use voltrs_sql::outcome::ResultTable;
use voltrs_storage::{DataType, Value};

use super::batch::{self, Metatables};
use super::random::Rng;
use super::result::{self, Scratch};
use super::{LuaFailure, LuaLimits, TxnInfo};
use super::{coroutine, values};

/// Where the site is: between calls, running a chunk's top level, or running `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Idle,
    Declaring { chunk: u64 },
    Running { chunk: u64 },
}

impl Phase {
    /// The phase as `prelude.lua`'s trampoline receives it.
    pub(super) fn code(self) -> i64 {
        match self {
            Phase::Idle => 0,
            Phase::Declaring { .. } => DECLARING,
            Phase::Running { .. } => RUNNING,
        }
    }
}

/// Codes shared with `prelude.lua` and the C functions: the phase the trampoline receives
/// (only `RUNNING` is handed to the prelude, which gives `run` its parameters then), and
/// the first value of each yield to the site.
const DECLARING: i64 = 1;
const RUNNING: i64 = 2;
pub(super) const YIELD_EXECUTE: i64 = 1;
pub(super) const YIELD_ABORT: i64 = 2;
/// Bits of a result table's origin (slot 4) that hold its position in `CallState::results`.
const ORIGIN_POSITION_BITS: u32 = 24;

/// A statement queued for the next `execute`.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) stmt: usize,
    pub(super) params: Vec<Value>,
    pub(super) expect: Option<Expectation>,
}

/// State of the call in progress, shared by the primitives, the hook and the site.
#[derive(Debug)]
pub(super) struct CallState {
    pub(super) limits: LuaLimits,
    pub(super) phase: Phase,
    pub(super) txn: TxnInfo,
    pub(super) rng: Rng,
    /// Statements declared so far by the chunk being declared.
    pub(super) declared: Vec<String>,
    pub(super) queue: Vec<Pending>,
    /// This call's number, which tells its result tables from those an earlier call made.
    pub(super) call: u64,
    /// Every result this call handed to Lua, so that returning one returns it exactly: its
    /// Lua table carries the origin (call << 24) + position + 1 ([`CallState::origin_at`]).
    pub(super) results: Vec<ResultTable>,
    /// The results of the last `voltdb.execute`, which its continuation (batch.rs) hands to Lua,
    /// and the text it needs for them.
    pub(super) batch: Range<usize>,
    pub(super) scratch: Scratch,
    /// The invocation's parameters as `run` receives them (`params()` in coroutine.rs).
    pub(super) args: Vec<Value>,
    pub(super) app_status: Option<(i8, Option<String>)>,
    /// The failure that ends this call. Once set, the hook raises at every tick and the
    /// guarded `pcall` re-raises, so Lua cannot continue past it.
    pub(super) failure: Option<LuaFailure>,
    pub(super) instructions: u64,
    pub(super) deadline: Option<Instant>,
    /// Whether the hook's last stop of a failed call was a yield (see `site::stop`).
    pub(super) stop_by_yield: bool,
}

pub(super) type Shared = Rc<RefCell<CallState>>;

impl CallState {
    pub(super) fn new(limits: LuaLimits) -> CallState {
        CallState {
            limits,
            phase: Phase::Idle,
            txn: TxnInfo {
                unique_id: 0,
                timestamp: 0,
                seed: 0,
            },
            rng: Rng::new(0),
            declared: Vec::new(),
            queue: Vec::new(),
            call: 0,
            results: Vec::new(),
            batch: 0..0,
            scratch: Scratch::default(),
            args: Vec::new(),
            app_status: None,
            failure: None,
            instructions: 0,
            deadline: None,
            stop_by_yield: false,
        }
    }

    /// The chunk whose `run` is running, or an error naming `what` may only be used there.
    fn running(&self, what: &str) -> LuaResult<u64> {
        match self.phase {
            Phase::Running { chunk } => Ok(chunk),
            _ => Err(mlua::Error::runtime(format!(
                "{what} may only be called inside run, not while the procedure is declared"
            ))),
        }
    }

    /// Records `failure` (the first one wins) and returns the error that unwinds Lua.
    pub(super) fn fail(&mut self, failure: LuaFailure) -> mlua::Error {
        let error = mlua::Error::runtime(failure.message());
        self.failure.get_or_insert(failure);
        error
    }

    /// The `origin` of the result at `position` of `results`, or 0 (none) past 2^24.
    pub(super) fn origin_at(&self, position: usize) -> i64 {
        let position = position as i64 + 1;
        let call = (self.call & ((1 << (63 - ORIGIN_POSITION_BITS)) - 1)) as i64;
        if position < 1 << ORIGIN_POSITION_BITS {
            (call << ORIGIN_POSITION_BITS) | position
        } else {
            0
        }
    }

    /// The result of this call whose Lua table has `origin`.
    pub(super) fn original(&self, origin: i64) -> Option<ResultTable> {
        let call = (self.call & ((1 << (63 - ORIGIN_POSITION_BITS)) - 1)) as i64;
        if origin >> ORIGIN_POSITION_BITS != call {
            return None;
        }
        let position = (origin & ((1 << ORIGIN_POSITION_BITS) - 1)) as usize;
        position.checked_sub(1).and_then(|p| self.results.get(p)).cloned()
    }

    /// The memory-limit failure of this call.
    pub(super) fn memory_failure(&self) -> LuaFailure {
        LuaFailure::Limit(format!("memory limit {} bytes exceeded", self.limits.memory_bytes))
    }
}

/// What a queued statement's result must look like (VoltDB's `Expectation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expectation {
    OneRow,
    ZeroOrOneRow,
    Empty,
    NonEmpty,
    Scalar,
    ScalarLong,
    ScalarMatch(i64),
}

impl Expectation {
    /// The constants, in the order of their codes (1, 2, ...).
    const CONSTANTS: [(&'static str, Expectation); 6] = [
        ("EXPECT_ONE_ROW", Expectation::OneRow),
        ("EXPECT_ZERO_OR_ONE_ROW", Expectation::ZeroOrOneRow),
        ("EXPECT_EMPTY", Expectation::Empty),
        ("EXPECT_NON_EMPTY", Expectation::NonEmpty),
        ("EXPECT_SCALAR", Expectation::Scalar),
        ("EXPECT_SCALAR_LONG", Expectation::ScalarLong),
    ];
    /// The code of `EXPECT_SCALAR_MATCH(n)`.
    pub(super) const SCALAR_MATCH: i64 = 7;

    /// The expectation `prelude.lua` names by `code` (0: none; 1 to 6: the constants; 7:
    /// `ScalarMatch(n)`); `None` for an unknown code.
    pub(super) fn from_code(code: i64, n: i64) -> Option<Option<Expectation>> {
        match code {
            0 => Some(None),
            Self::SCALAR_MATCH => Some(Some(Expectation::ScalarMatch(n))),
            _ => {
                let i = usize::try_from(code).ok()?.checked_sub(1)?;
                Self::CONSTANTS.get(i).map(|(_, e)| Some(*e))
            }
        }
    }

    pub(super) fn describe(self) -> String {
        match self {
            Expectation::OneRow => "exactly one row".into(),
            Expectation::ZeroOrOneRow => "zero or one row".into(),
            Expectation::Empty => "no rows".into(),
            Expectation::NonEmpty => "at least one row".into(),
            Expectation::Scalar => "one row of one column".into(),
            Expectation::ScalarLong => "one row of one non-NULL integer column".into(),
            Expectation::ScalarMatch(n) => format!("one row of one column with the value {n}"),
        }
    }

    /// `Err(what came back)` when `t` does not meet the expectation.
    pub(super) fn check(self, t: &ResultTable) -> Result<(), String> {
        let rows = t.rows.len();
        let scalar = || match t.rows.as_slice() {
            [row] if t.columns.len() == 1 && row.len() == 1 => Some(&row[0]),
            _ => None,
        };
        let ok = match self {
            Expectation::OneRow => rows == 1,
            Expectation::ZeroOrOneRow => rows <= 1,
            Expectation::Empty => rows == 0,
            Expectation::NonEmpty => rows > 0,
            Expectation::Scalar => scalar().is_some(),
            Expectation::ScalarLong => {
                matches!(scalar(), Some(Value::Integer(_))) && t.columns.first().is_some_and(|c| c.ty.is_integer())
            }
            Expectation::ScalarMatch(n) => matches!(scalar(), Some(Value::Integer(v)) if *v == n),
        };
        if ok {
            return Ok(());
        }
        let got = match (self, scalar()) {
            (Expectation::ScalarLong | Expectation::ScalarMatch(_), Some(v)) => {
                let ty = t.columns.first().map_or(DataType::Null, |c| c.ty);
                let text = voltrs_storage::text::render(v).unwrap_or_else(|| "NULL".into());
                format!("the {} value {text}", ty.name())
            }
            _ => format!("{rows} rows of {} columns", t.columns.len()),
        };
        Err(format!("expected {}, got {got}", self.describe()))
    }
}

/// Builds the table of primitives `prelude.lua` receives. `result_mt` is the (still empty)
/// metatable of result tables, which the prelude fills in.
pub(super) fn primitives(lua: &Lua, shared: &Shared, result_mt: &Table) -> LuaResult<Table> {
    let p = lua.create_table()?;
    p.set("RUNNING", RUNNING)?;
    p.set("ABORT", YIELD_ABORT)?;
    p.set("RESULT_MT", result_mt)?;
    p.set("METHODS", result::methods(lua, result_mt)?)?;
    p.set("params", coroutine::params_function(lua, shared)?)?;
    for pair in batch::functions(lua, shared, &Metatables::new(lua)?, result_mt)?.pairs::<String, mlua::Function>() {
        let (name, f) = pair?;
        p.set(name, f)?;
    }
    let names = lua.create_sequence_from(Expectation::CONSTANTS.iter().map(|(name, _)| *name))?;
    p.set("EXPECT_NAMES", names)?;

    // `voltdb.sql(text)` records the text; the position it returns goes into the handle.
    let s = shared.clone();
    p.set(
        "sql",
        lua.create_function(move |_, text: LuaValue| {
            let mut st = s.borrow_mut();
            if !matches!(st.phase, Phase::Declaring { .. }) {
                return Err(mlua::Error::runtime(
                    "voltdb.sql may only be called while the procedure is declared (at the top level of \
                     the chunk), not inside run",
                ));
            };
            let LuaValue::String(text) = text else {
                return Err(mlua::Error::runtime(format!(
                    "voltdb.sql needs the statement's SQL text, got {}",
                    values::describe(&text)
                )));
            };
            let text = text
                .to_str()
                .map_err(|_| mlua::Error::runtime("voltdb.sql: the SQL text is not UTF-8"))?;
            if text.trim().is_empty() {
                return Err(mlua::Error::runtime("voltdb.sql: the SQL text is empty"));
            }
            st.declared.push(text.to_string());
            Ok(st.declared.len() - 1)
        })?,
    )?;

    let s = shared.clone();
    p.set(
        "abort",
        lua.create_function(move |_, message: LuaValue| {
            let mut st = s.borrow_mut();
            st.running("voltdb.abort")?;
            let text = match &message {
                LuaValue::String(m) => m.to_string_lossy(),
                LuaValue::Nil => "procedure aborted".into(),
                LuaValue::Integer(_) | LuaValue::Number(_) => values::describe(&message),
                other => format!("procedure aborted (with a {} message)", other.type_name()),
            };
            st.failure.get_or_insert(LuaFailure::UserAbort(text));
            Ok(())
        })?,
    )?;

    let s = shared.clone();
    let mt = result_mt.clone();
    p.set(
        "table",
        lua.create_function(move |lua, (columns, rows): (LuaValue, Option<Table>)| {
            let LuaValue::Table(columns) = columns else {
                return Err(mlua::Error::runtime(
                    "voltdb.table needs an array of {name, type} columns as its first argument",
                ));
            };
            let table = values::build_table(&columns, rows.as_ref())
                .map_err(|e| mlua::Error::runtime(format!("voltdb.table: {e}")))?;
            // Kept as the original only inside run: a table built while the chunk is
            // declared outlives the call.
            let origin = {
                let st = s.borrow();
                if matches!(st.phase, Phase::Running { .. }) {
                    st.origin_at(st.results.len())
                } else {
                    0
                }
            };
            let built = result::build_result(lua, &mt, &table, origin)?;
            if origin != 0 {
                s.borrow_mut().results.push(table);
            }
            Ok(built)
        })?,
    )?;

    let s = shared.clone();
    p.set(
        "set_app_status",
        lua.create_function(move |_, (code, text): (LuaValue, Option<mlua::LuaString>)| {
            let mut st = s.borrow_mut();
            st.running("voltdb.set_app_status")?;
            let code = match values::integer(&code) {
                Some(c) => i8::try_from(c).map_err(|_| {
                    mlua::Error::runtime(format!(
                        "voltdb.set_app_status: code {c} is outside the TINYINT range -128..127"
                    ))
                })?,
                None => {
                    return Err(mlua::Error::runtime(format!(
                        "voltdb.set_app_status: the code must be an integer, got {}",
                        values::describe(&code)
                    )));
                }
            };
            st.app_status = Some((code, text.map(|t| t.to_string_lossy())));
            Ok(())
        })?,
    )?;

    let s = shared.clone();
    p.set(
        "transaction_time",
        lua.create_function(move |_, ()| {
            let st = s.borrow();
            st.running("voltdb.transaction_time").map(|_| st.txn.timestamp)
        })?,
    )?;

    let s = shared.clone();
    p.set(
        "unique_id",
        lua.create_function(move |_, ()| {
            let st = s.borrow();
            st.running("voltdb.unique_id").map(|_| st.txn.unique_id)
        })?,
    )?;

    let s = shared.clone();
    p.set(
        "random",
        lua.create_function(move |_, args: Variadic<LuaValue>| {
            s.borrow_mut().rng.lua_random(&args).map_err(mlua::Error::runtime)
        })?,
    )?;

    // `check(pcall(...))`: re-raises when the call has failed for good (see the module docs),
    // and turns a memory error caught by `pcall` into that failure.
    let s = shared.clone();
    p.set(
        "check",
        lua.create_function(move |_, results: MultiValue| {
            let mut st = s.borrow_mut();
            if let Some(failure) = &st.failure {
                return Err(mlua::Error::runtime(failure.message()));
            }
            let out_of_memory = matches!(results.front(), Some(LuaValue::Boolean(false)))
                && results.get(1).is_some_and(is_memory_error);
            if out_of_memory {
                let failure = st.memory_failure();
                return Err(st.fail(failure));
            }
            Ok(results)
        })?,
    )?;

    let s = shared.clone();
    p.set(
        "handler",
        lua.create_function(move |lua, error: LuaValue| {
            if is_memory_error(&error) {
                let mut st = s.borrow_mut();
                let failure = st.memory_failure();
                st.fail(failure);
                return Ok(error);
            }
            handler(lua, error)
        })?,
    )?;

    Ok(p)
}

/// The message handler of the `xpcall` that runs every chunk and `run`: keeps string errors
/// (Lua already put the position in them), and turns an error from a Rust primitive or a
/// non-string error value into a string with the position of the Lua code that raised it.
fn handler(lua: &Lua, error: LuaValue) -> LuaResult<LuaValue> {
    let message = match &error {
        LuaValue::String(_) => return Ok(error),
        LuaValue::Error(e) => error_message(e),
        LuaValue::Nil => "error raised with nil as the error object".to_string(),
        other => format!(
            "error raised with a {} as the error object; raise a string",
            other.type_name()
        ),
    };
    let position = (1..64)
        .find_map(|level| {
            lua.inspect_stack(level, |d| {
                let source = d.source();
                let file = source.short_src.unwrap_or_default();
                // The first frame of the procedure's own code: neither C nor the prelude.
                let procedure_code = matches!(source.what, "Lua" | "main") && file != "prelude";
                procedure_code.then(|| format!("{file}:{}: ", d.current_line().unwrap_or(0)))
            })
            .flatten()
        })
        .unwrap_or_default();
    Ok(LuaValue::String(lua.create_string(format!("{position}{message}"))?))
}

/// Whether an error value is Lua's or mlua's out-of-memory error (the memory limit).
pub(super) fn is_memory_error(error: &LuaValue) -> bool {
    match error {
        LuaValue::String(m) => m.as_bytes() == b"not enough memory".as_slice(),
        LuaValue::Error(e) => is_memory(e),
        _ => false,
    }
}

/// Whether an mlua error is, or was caused by, running out of memory.
pub(super) fn is_memory(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::CallbackError { cause, .. } => is_memory(cause),
        mlua::Error::MemoryError(_) => true,
        _ => false,
    }
}

/// The message of an mlua error without the traceback mlua adds to callback errors.
pub(super) fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => {
            m.split("\nstack traceback:").next().unwrap_or(m).to_string()
        }
        mlua::Error::MemoryError(_) => "not enough memory".to_string(),
        other => other.to_string(),
    }
}
