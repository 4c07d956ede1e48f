//! The coroutine a call runs in, driven through Lua's C API (`lua_resume`) rather than
//! mlua's `Thread::resume`, which converts every argument and result through a `Vec` of
//! values and registry references. What goes in and out is small and fixed: the trampoline,
//! the phase and the function to run (pushed from registry references) start a call;
//! `voltdb.execute` yields `(EXECUTE, final)`; the trampoline returns `(ok, value)`.
//!
//! Reuse: a call that ends normally leaves the coroutine finished and empty, and the next
//! call starts in it again, saving the creation of a thread, its first stack growth and
//! its call frames. The memory limit must not notice: a reused coroutine keeps the stack
//! and call frames its calls grew (Lua shrinks them only at a collection), which a new one
//! would not have. So [`super::site`] hands the coroutine on only after a call that ran
//! fewer than [`HOOK_INTERVAL`](super::HOOK_INTERVAL) VM instructions (it cannot have
//! gone deep) and grew the heap by less than 256 KiB (its stack cannot have grown much):
//! the next call starts with at most that much more than a new coroutine would hold, and
//! what a procedure does decides it, the same on every replica. Every start also resets the
//! hook's instruction countdown, so the instruction limit counts from the call's first
//! instruction, as in a new coroutine.

use std::cell::RefCell;
use std::ffi::c_int;
use std::ptr;
use std::rc::Rc;

use mlua::{Function, Lua, Result as LuaResult, Thread, Value as LuaValue, ffi};

use super::api::CallState;
use super::raw::{call_state, closure};
use super::result::push_value;

/// How a resume ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resumed {
    /// The coroutine yielded (its values are at 1 ..= n of its stack).
    Yielded(c_int),
    /// The trampoline returned `ok, value` (at 1 and 2 of its stack).
    Returned,
    /// An error escaped the trampoline (error object on top); the coroutine is dead.
    Failed(c_int),
}

/// A Lua thread driven with `lua_resume`.
pub(super) struct Coroutine {
    /// Keeps the thread alive (mlua's reference to it).
    thread: Thread,
}

impl Coroutine {
    /// A new coroutine (with the state's global hook, as mlua sets it on every thread).
    pub(super) fn new(lua: &Lua, trampoline: &Function) -> LuaResult<Coroutine> {
        Ok(Coroutine {
            thread: lua.create_thread(trampoline.clone())?,
        })
    }

    fn state(&self) -> *mut ffi::lua_State {
        self.thread.state()
    }

    /// Starts `trampoline(phase, function)` (registry references). The coroutine is new or
    /// finished.
    pub(super) fn start(&self, trampoline: c_int, phase: i64, function: c_int) -> Resumed {
        let t = self.state();
        // SAFETY: `t` is a live thread that is not running; pushing 3 values onto an empty
        // stack fits its minimum size; none of these calls raises.
        unsafe {
            ffi::lua_settop(t, 0);
            // Restart the instruction countdown: lua_sethook resets it.
            ffi::lua_sethook(
                t,
                ffi::lua_gethook(t),
                ffi::lua_gethookmask(t),
                ffi::lua_gethookcount(t),
            );
            ffi::lua_rawgeti(t, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(trampoline));
            ffi::lua_pushinteger(t, phase);
            ffi::lua_rawgeti(t, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(function));
        }
        self.resume_with(2)
    }

    /// Resumes a coroutine that yielded, with no values (dropping what it yielded).
    pub(super) fn resume(&self) -> Resumed {
        // SAFETY: the coroutine is suspended; clearing its yielded values is what
        // lua_resume expects before a resume.
        unsafe { ffi::lua_settop(self.state(), 0) };
        self.resume_with(0)
    }

    fn resume_with(&self, nargs: c_int) -> Resumed {
        let mut nres: c_int = 0;
        // SAFETY: the thread is suspended or ready with its function and `nargs` values on
        // its stack. Errors inside are caught by lua_resume and reported by its status.
        let status = unsafe { ffi::lua_resume(self.state(), ptr::null_mut(), nargs, &mut nres) };
        match status {
            ffi::LUA_YIELD => Resumed::Yielded(nres),
            ffi::LUA_OK => Resumed::Returned,
            other => Resumed::Failed(other),
        }
    }

    /// The integer at `i` (1-based) of the stack, if it is one.
    pub(super) fn integer(&self, i: c_int) -> Option<i64> {
        let t = self.state();
        // SAFETY: reading a slot of a suspended thread; nothing converts or allocates.
        unsafe {
            (ffi::lua_type(t, i) == ffi::LUA_TNUMBER && ffi::lua_isinteger(t, i) != 0)
                .then(|| ffi::lua_tointegerx(t, i, ptr::null_mut()))
        }
    }

    /// Whether the value at `i` is `true`.
    pub(super) fn is_true(&self, i: c_int) -> bool {
        let t = self.state();
        // SAFETY: as `integer`.
        unsafe { ffi::lua_type(t, i) == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(t, i) != 0 }
    }

    /// Whether the value at `i` is nil (or absent).
    pub(super) fn is_nil(&self, i: c_int) -> bool {
        // SAFETY: as `integer`.
        unsafe { ffi::lua_type(self.state(), i) <= ffi::LUA_TNIL }
    }

    /// Takes the value at `i` (the stack is cut to below it) as an mlua value.
    pub(super) fn take(&self, lua: &Lua, i: c_int) -> LuaResult<LuaValue> {
        let t = self.state();
        // SAFETY: moving one value of a suspended or dead thread to the running state, in
        // mlua's protected call.
        unsafe {
            if ffi::lua_gettop(t) < i {
                return Ok(LuaValue::Nil);
            }
            ffi::lua_settop(t, i);
            lua.exec_raw((), |l| ffi::lua_xmove(t, l, 1))
        }
    }

    /// The number of values on the stack (a dead coroutine's error object is the last).
    pub(super) fn top(&self) -> c_int {
        // SAFETY: the thread is not running.
        unsafe { ffi::lua_gettop(self.state()) }
    }

    /// Leaves a finished coroutine empty, ready for [`Coroutine::start`].
    pub(super) fn clear(&self) {
        // SAFETY: the thread is not running.
        unsafe { ffi::lua_settop(self.state(), 0) };
    }
}

/// A registry reference to `f`, for [`Coroutine::start`].
pub(super) fn reference(lua: &Lua, f: &Function) -> LuaResult<c_int> {
    let mut r: c_int = 0;
    let out = &mut r;
    // SAFETY: luaL_ref pops the argument into the registry, inside mlua's protected call.
    unsafe { lua.exec_raw::<()>(f, |l| *out = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX))? };
    Ok(r)
}

/// Releases a reference made by [`reference`].
pub(super) fn release(lua: &Lua, r: c_int) {
    // SAFETY: inside mlua's protected call; an error (there is none to expect) is ignored,
    // leaving the reference in place.
    let _ = unsafe { lua.exec_raw::<()>((), |l| ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, r)) };
}

/// `params()`, which the trampoline calls to get `run`'s arguments: the invocation's
/// parameters ([`CallState::args`]), as a C function (`raw.rs` has the rules).
pub(super) fn params_function(lua: &Lua, shared: &Rc<RefCell<CallState>>) -> LuaResult<Function> {
    closure(lua, params, Some(shared), &[])
}

unsafe extern "C-unwind" fn params(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a closure made by `params_function`; the state is read
    // without a guard and no Lua code runs meanwhile; only borrowed values in this frame.
    unsafe {
        let Ok(st) = call_state(l).try_borrow_unguarded() else {
            return 0;
        };
        let n = c_int::try_from(st.args.len()).unwrap_or(c_int::MAX);
        ffi::luaL_checkstack(l, n, c"too many parameters".as_ptr());
        for v in &st.args {
            if !push_value(l, v, "") {
                ffi::lua_pushnil(l);
            }
        }
        n
    }
}
