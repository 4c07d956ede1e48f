//! What a call sends to SQL, as C functions (`raw.rs` has the rules they follow): statement
//! handles (`voltdb.sql`), expectations (`voltdb.EXPECT_*`), `voltdb.queue` /
//! `queue_expect`, which read their parameters straight off the Lua stack into the call's
//! queue, and `voltdb.execute`, which yields to the site and, resumed, hands back the
//! batch's result tables (`result.rs`).
//!
//! Handles and expectations are full userdata without finalizers, with protected
//! metatables ([`Metatables`]). A statement holds its position in the declaration and, as
//! user value, the token of the procedure that declared it (a table `prelude.lua` makes
//! per procedure environment; each environment's `queue` knows its own token). An
//! expectation holds its code ([`Expectation::from_code`]) and the value of
//! `EXPECT_SCALAR_MATCH`.

use std::cell::RefCell;
use std::ffi::c_int;
use std::fmt::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::rc::Rc;

use mlua::{Lua, Result as LuaResult, Table, ffi};
use voltrs_storage::Value;

use super::api::{CallState, Expectation, Pending, Phase, YIELD_EXECUTE};
use super::raw::{Described, Text, call_state, closure, has_metatable, integer, push_bytes, raise, string};
use super::result::push_batch;

/// The metatables of statement handles and expectations.
pub(super) struct Metatables {
    statement: Table,
    expectation: Table,
}

impl Metatables {
    /// Both metatables, protected (`getmetatable` answers `false`), with `__tostring`.
    pub(super) fn new(lua: &Lua) -> LuaResult<Metatables> {
        let make = |tostring: ffi::lua_CFunction| -> LuaResult<Table> {
            let mt = lua.create_table()?;
            mt.raw_set("__tostring", closure(lua, tostring, None, &[])?)?;
            mt.raw_set("__metatable", false)?;
            Ok(mt)
        };
        Ok(Metatables {
            statement: make(statement_text)?,
            expectation: make(expectation_text)?,
        })
    }
}

/// The C functions for the prelude: `statement(token, index)` (a handle), `queues(token)`
/// (the `queue` and `queue_expect` of one procedure), `expectation(code)` (a constant),
/// `EXPECT_SCALAR_MATCH(n)` and `execute([final])`.
pub(super) fn functions(
    lua: &Lua,
    shared: &Rc<RefCell<CallState>>,
    mts: &Metatables,
    result_mt: &Table,
) -> LuaResult<Table> {
    let (stmt, expect) = (&mts.statement, &mts.expectation);
    let functions = lua.create_table()?;
    functions.raw_set("statement", closure(lua, statement, None, &[stmt])?)?;
    functions.raw_set("queues", closure(lua, queues, Some(shared), &[stmt, expect])?)?;
    functions.raw_set("expectation", closure(lua, expectation, None, &[expect])?)?;
    functions.raw_set("EXPECT_SCALAR_MATCH", closure(lua, scalar_match, None, &[expect])?)?;
    functions.raw_set("execute", closure(lua, execute, Some(shared), &[result_mt])?)?;
    Ok(functions)
}

/// `statement(token, index)`: a statement handle (upvalue 1: its metatable).
unsafe extern "C-unwind" fn statement(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `functions`; 3 slots used.
    unsafe {
        let index = ffi::lua_tointegerx(l, 2, ptr::null_mut());
        let handle = ffi::lua_newuserdatauv(l, size_of::<i64>(), 1).cast::<i64>();
        handle.write(index);
        ffi::lua_pushvalue(l, 1);
        ffi::lua_setiuservalue(l, -2, 1);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_setmetatable(l, -2);
    }
    1
}

/// `tostring(handle)`: `statement N` (N from 1).
unsafe extern "C-unwind" fn statement_text(l: *mut ffi::lua_State) -> c_int {
    let mut text = Text::new();
    // SAFETY: called by Lua as the `__tostring` of statement handles, whose memory is one
    // i64.
    unsafe {
        let index = ffi::lua_touserdata(l, 1).cast::<i64>().read();
        let _ = write!(text, "statement {}", index + 1);
        push_bytes(l, text.as_bytes());
    }
    1
}

/// `expectation(code)`: one of the constant expectations (upvalue 1: their metatable).
unsafe extern "C-unwind" fn expectation(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `functions`.
    unsafe { new_expectation(l, ffi::lua_tointegerx(l, 1, ptr::null_mut()), 0) };
    1
}

/// `voltdb.EXPECT_SCALAR_MATCH(n)` (upvalue 1: the metatable of expectations).
unsafe extern "C-unwind" fn scalar_match(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `functions`.
    unsafe {
        match integer(l, 1) {
            Some(n) => new_expectation(l, Expectation::SCALAR_MATCH, n),
            None => raise(
                l,
                format_args!("voltdb.EXPECT_SCALAR_MATCH needs an integer, got {}", Described(l, 1)),
            ),
        }
    }
    1
}

/// Pushes an expectation userdata `[code, n]`.
///
/// # Safety
/// `l` runs a closure whose upvalue 1 is the metatable of expectations; 2 free slots.
unsafe fn new_expectation(l: *mut ffi::lua_State, code: i64, n: i64) {
    // SAFETY: per the contract; the memory is two i64.
    unsafe {
        let data = ffi::lua_newuserdatauv(l, 2 * size_of::<i64>(), 0).cast::<i64>();
        data.write(code);
        data.add(1).write(n);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_setmetatable(l, -2);
    }
}

/// `tostring(expectation)`: what it expects (`exactly one row`).
unsafe extern "C-unwind" fn expectation_text(l: *mut ffi::lua_State) -> c_int {
    let mut text = Text::new();
    // SAFETY: called by Lua as the `__tostring` of expectations, whose memory is two i64.
    unsafe {
        let data = ffi::lua_touserdata(l, 1).cast::<i64>();
        if let Some(Some(e)) = Expectation::from_code(data.read(), data.add(1).read()) {
            let _ = write!(text, "{}", e.describe());
        }
        push_bytes(l, text.as_bytes());
    }
    1
}

/// `queues(token)`: the `queue` and `queue_expect` of the procedure whose statements carry
/// `token` (upvalues 1-3: the call state, the metatables of statements and expectations).
unsafe extern "C-unwind" fn queues(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `functions`; 5 slots used.
    unsafe {
        for f in [queue as ffi::lua_CFunction, queue_expect] {
            for i in 1..=3 {
                ffi::lua_pushvalue(l, ffi::lua_upvalueindex(i));
            }
            ffi::lua_pushvalue(l, 1);
            ffi::lua_pushcclosure(l, f, 4);
        }
    }
    2
}

/// Why `queue` refused its arguments.
#[derive(Clone, Copy, Debug)]
enum Refused {
    NotRunning,
    NotStatement,
    OtherProcedure,
    NotExpectation,
    /// The parameter at this position (from 1), at this stack index.
    Parameter(i64, c_int),
    Internal,
}

/// `voltdb.queue(stmt, params...)`.
unsafe extern "C-unwind" fn queue(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `queues`.
    unsafe { queue_or_refuse(l, false) }
}

/// `voltdb.queue_expect(stmt, expectation, params...)`.
unsafe extern "C-unwind" fn queue_expect(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `queues`.
    unsafe { queue_or_refuse(l, true) }
}

/// Queues the statement, or raises why not (after every Rust value of the attempt is gone).
///
/// # Safety
/// `l` runs a closure made by `queues`.
unsafe fn queue_or_refuse(l: *mut ffi::lua_State, expects: bool) -> c_int {
    // SAFETY: per the contract; `enqueue` raises nothing.
    let queued = catch_unwind(AssertUnwindSafe(|| unsafe { enqueue(l, expects) }));
    let refused = match queued {
        Ok(Ok(())) => return 0,
        Ok(Err(refused)) => refused,
        Err(_) => Refused::Internal,
    };
    let what = if expects { "voltdb.queue_expect" } else { "voltdb.queue" };
    // SAFETY: per the contract; only borrowed values here.
    unsafe {
        match refused {
            Refused::NotRunning => raise(
                l,
                format_args!("{what} may only be called inside run, not while the procedure is declared"),
            ),
            Refused::NotStatement => raise(
                l,
                format_args!(
                    "{what}: argument 1 must be a statement made by voltdb.sql, got {}",
                    Described(l, 1)
                ),
            ),
            Refused::OtherProcedure => raise(l, format_args!("{what}: the statement belongs to another procedure")),
            Refused::NotExpectation => raise(
                l,
                format_args!(
                    "{what}: argument 2 must be an expectation (voltdb.EXPECT_...), got {}",
                    Described(l, 2)
                ),
            ),
            Refused::Parameter(position, i) => raise(
                l,
                format_args!(
                    "{what}: parameter {position}: a {} cannot be a SQL parameter",
                    Described::type_name(l, i)
                ),
            ),
            Refused::Internal => raise(l, format_args!("{what}: internal error: the statement was not queued")),
        }
    }
}

/// Checks `queue`'s arguments and adds the statement to the call's queue. Raises nothing.
///
/// # Safety
/// `l` runs a closure made by `queues`; at most 1 slot is used.
unsafe fn enqueue(l: *mut ffi::lua_State, expects: bool) -> Result<(), Refused> {
    // SAFETY (whole body): reading the arguments and upvalues of the running C function;
    // nothing here allocates in Lua or raises (lua_tolstring only reads a string).
    unsafe {
        let shared = call_state(l);
        if !matches!(shared.try_borrow().map(|st| st.phase), Ok(Phase::Running { .. })) {
            return Err(Refused::NotRunning);
        }
        // Only this procedure's handles carry its token as their user value.
        let mine = ffi::lua_type(l, 1) == ffi::LUA_TUSERDATA && {
            ffi::lua_getiuservalue(l, 1, 1);
            let same = ffi::lua_rawequal(l, -1, ffi::lua_upvalueindex(4)) != 0;
            ffi::lua_pop(l, 1);
            same
        };
        if !mine {
            return Err(if has_metatable(l, 1, ffi::lua_upvalueindex(2)) {
                Refused::OtherProcedure
            } else {
                Refused::NotStatement
            });
        }
        let stmt = usize::try_from(ffi::lua_touserdata(l, 1).cast::<i64>().read()).map_err(|_| Refused::Internal)?;
        let (expect, first) = if expects {
            if !has_metatable(l, 2, ffi::lua_upvalueindex(3)) {
                return Err(Refused::NotExpectation);
            }
            let data = ffi::lua_touserdata(l, 2).cast::<i64>();
            let expect = Expectation::from_code(data.read(), data.add(1).read()).ok_or(Refused::Internal)?;
            (expect, 3)
        } else {
            (None, 2)
        };
        let top = ffi::lua_gettop(l);
        let mut params = Vec::with_capacity(usize::try_from(top - first + 1).unwrap_or(0));
        for i in first..=top {
            let value = match ffi::lua_type(l, i) {
                ffi::LUA_TNIL => Value::Null,
                ffi::LUA_TBOOLEAN => Value::Boolean(ffi::lua_toboolean(l, i) != 0),
                ffi::LUA_TNUMBER if ffi::lua_isinteger(l, i) != 0 => {
                    Value::Integer(ffi::lua_tointegerx(l, i, ptr::null_mut()))
                }
                ffi::LUA_TNUMBER => Value::Float(ffi::lua_tonumberx(l, i, ptr::null_mut())),
                ffi::LUA_TSTRING => {
                    let bytes = string(l, i);
                    match std::str::from_utf8(bytes) {
                        Ok(s) => Value::str(s),
                        Err(_) => Value::bytes(bytes),
                    }
                }
                _ => return Err(Refused::Parameter(i64::from(i - first + 1), i)),
            };
            params.push(value);
        }
        let mut st = shared.try_borrow_mut().map_err(|_| Refused::Internal)?;
        st.queue.push(Pending { stmt, params, expect });
        Ok(())
    }
}

/// `voltdb.execute([final])`: yields `(EXECUTE, final)` to the site, which runs the queued
/// batch; resumed, returns the array of result tables (upvalues: the call state, the
/// metatable of result tables). A failed batch is never resumed.
unsafe extern "C-unwind" fn execute(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `functions`; the phase is read without a
    // guard and no Lua code runs meanwhile; lua_yieldk leaves this frame with longjmp, and
    // nothing in it has a destructor.
    unsafe {
        let running = matches!(
            call_state(l).try_borrow_unguarded().map(|st| st.phase),
            Ok(Phase::Running { .. })
        );
        if !running {
            raise(
                l,
                format_args!("voltdb.execute may only be called inside run, not while the procedure is declared"),
            );
        }
        if ffi::lua_isyieldable(l) == 0 {
            raise(
                l,
                format_args!(
                    "voltdb.execute cannot run inside a function called by a library function (table.sort, \
                     string.gsub, ...)"
                ),
            );
        }
        let final_batch = ffi::lua_type(l, 1) == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(l, 1) != 0;
        ffi::lua_settop(l, 0);
        ffi::lua_pushinteger(l, YIELD_EXECUTE);
        ffi::lua_pushboolean(l, c_int::from(final_batch));
        ffi::lua_yieldk(l, 2, 0, Some(executed))
    }
}

/// `execute`'s continuation once the site resumes it: the batch's result tables.
unsafe extern "C-unwind" fn executed(l: *mut ffi::lua_State, _status: c_int, _ctx: ffi::lua_KContext) -> c_int {
    // SAFETY: runs as `execute`, which the site resumed after storing the batch's results;
    // the state is read without a guard and no Lua code runs meanwhile.
    unsafe {
        let Ok(st) = call_state(l).try_borrow_unguarded() else {
            raise(
                l,
                format_args!("voltdb.execute: internal error: the results are unavailable"),
            );
        };
        push_batch(l, st, ffi::lua_upvalueindex(2));
    }
    1
}
