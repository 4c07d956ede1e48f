//! The toolkit of the runtime's C functions: Lua calls them directly (no mlua callback
//! frame, no conversion of arguments into a `Vec` of values), which is what makes the
//! calls a procedure makes on every transaction cheap. They live in `batch.rs` (statement
//! handles, expectations, `voltdb.queue`, `voltdb.execute`), `result.rs` (result tables
//! and their methods) and `coroutine.rs` (the call's parameters).
//!
//! Safety rules, for every one of them:
//! * A C function may raise a Lua error (`lua_error` through [`raise`], or an allocation
//!   past the memory limit), which unwinds with `longjmp` over its frame to the nearest
//!   protected call (the trampoline's `xpcall`, mlua's `exec_raw`, or out of the
//!   coroutine). So no value with a destructor is ever alive in its frame when it calls
//!   Lua: work that needs one (a `Vec`, a `RefMut`) is done in a helper that returns first,
//!   messages are formatted into a fixed buffer on the stack ([`Text`]), and owned text a
//!   builder needs is made before it runs.
//! * The call state is reached through upvalue 1 ([`call_state`]) and borrowed only
//!   inside such a helper, or read without a guard (`try_borrow_unguarded`) by a function
//!   that runs no Lua code while it holds the reference: no borrow of it is alive while Lua
//!   runs (the primitives borrow it only for their own length).
//! * Each uses at most a few stack slots beyond its arguments (Lua guarantees
//!   `LUA_MINSTACK`, 20), or checks with `luaL_checkstack`.
//! * No Rust panic may unwind into Lua: code that could panic runs under `catch_unwind`.

use std::cell::RefCell;
use std::ffi::{CStr, c_int, c_void};
use std::fmt::{self, Write};
use std::ptr;
use std::rc::Rc;

use mlua::{Function, Lua, MultiValue, Result as LuaResult, Table, Value as LuaValue, ffi};

use super::api::CallState;
use super::values;

/// A C closure over `upvalues`: first a pointer to the call state when `state` is given,
/// then the tables in order.
pub(super) fn closure(
    lua: &Lua,
    f: ffi::lua_CFunction,
    state: Option<&Rc<RefCell<CallState>>>,
    upvalues: &[&Table],
) -> LuaResult<Function> {
    let tables: MultiValue = upvalues.iter().map(|t| LuaValue::Table((*t).clone())).collect();
    let state = state.map(|s| Rc::as_ptr(s).cast_mut().cast::<c_void>());
    let n = c_int::try_from(tables.len()).unwrap_or(0);
    // SAFETY: inside mlua's protected call, with the tables as arguments at 1 ..= n.
    unsafe {
        lua.exec_raw(tables, |l| {
            let mut n = n;
            if let Some(state) = state {
                ffi::lua_pushlightuserdata(l, state);
                ffi::lua_rotate(l, 1, 1);
                n += 1;
            }
            ffi::lua_pushcclosure(l, f, n);
        })
    }
}

/// The call state behind upvalue 1 of a closure made by [`closure`] with a state. Every
/// mlua callback of the Lua state holds a clone of the same `Rc`, so it outlives every
/// function that can reach it.
///
/// # Safety
/// `l` runs such a closure; the reference is not kept past the C function's return.
pub(super) unsafe fn call_state<'a>(l: *mut ffi::lua_State) -> &'a RefCell<CallState> {
    // SAFETY: per the contract.
    unsafe { &*ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast::<RefCell<CallState>>() }
}

/// Whether the value at `i` has the metatable at index `mt` (an upvalue).
///
/// # Safety
/// `l` is running and `i` a valid index; one free stack slot.
pub(super) unsafe fn has_metatable(l: *mut ffi::lua_State, i: c_int, mt: c_int) -> bool {
    // SAFETY: per the contract; lua_getmetatable pushes only when it returns non-zero.
    unsafe {
        ffi::lua_getmetatable(l, i) != 0 && {
            let same = ffi::lua_rawequal(l, -1, mt) != 0;
            ffi::lua_pop(l, 1);
            same
        }
    }
}

/// Argument `i` as an integer the way Lua reads one (an integer, or a float with an
/// integral value; not a string).
///
/// # Safety
/// `l` is a running state and `i` a valid index.
pub(super) unsafe fn integer(l: *mut ffi::lua_State, i: c_int) -> Option<ffi::lua_Integer> {
    // SAFETY: per the contract; a number converts without raising.
    unsafe {
        if ffi::lua_type(l, i) != ffi::LUA_TNUMBER {
            return None;
        }
        if ffi::lua_isinteger(l, i) != 0 {
            return Some(ffi::lua_tointegerx(l, i, ptr::null_mut()));
        }
        values::float_integer(ffi::lua_tonumberx(l, i, ptr::null_mut()))
    }
}

/// The bytes of the string at `i`, valid while it stays on the stack.
///
/// # Safety
/// The value at `i` is a string.
pub(super) unsafe fn string<'a>(l: *mut ffi::lua_State, i: c_int) -> &'a [u8] {
    // SAFETY: per the contract; lua_tolstring on a string neither converts nor allocates.
    unsafe {
        let mut len = 0usize;
        let p = ffi::lua_tolstring(l, i, &mut len);
        std::slice::from_raw_parts(p.cast::<u8>(), len)
    }
}

/// Pushes a copy of `bytes` as a Lua string.
///
/// # Safety
/// `l` may raise (see the module docs) and has a free stack slot.
pub(super) unsafe fn push_bytes(l: *mut ffi::lua_State, bytes: &[u8]) {
    // SAFETY: per the contract; Lua copies the bytes.
    unsafe { ffi::lua_pushlstring(l, bytes.as_ptr().cast(), bytes.len()) };
}

/// A size hint for `lua_createtable`; past `c_int` the table grows as it is filled.
pub(super) fn hint(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(0)
}

/// A value described for a message as `values::describe` does (`integer 3`, `float 1.5`,
/// `string`).
pub(super) struct Described(pub(super) *mut ffi::lua_State, pub(super) c_int);

impl Described {
    /// The Lua type name of the value at `i` (`table`).
    ///
    /// # Safety
    /// `l` is running and `i` a valid index.
    pub(super) unsafe fn type_name<'a>(l: *mut ffi::lua_State, i: c_int) -> &'a str {
        // SAFETY: per the contract; Lua's type names are static C strings.
        unsafe {
            CStr::from_ptr(ffi::lua_typename(l, ffi::lua_type(l, i)))
                .to_str()
                .unwrap_or("?")
        }
    }
}

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Described(l, i) = *self;
        // SAFETY: made only with a running state and a valid index.
        unsafe {
            match ffi::lua_type(l, i) {
                ffi::LUA_TNUMBER if ffi::lua_isinteger(l, i) != 0 => {
                    write!(f, "integer {}", ffi::lua_tointegerx(l, i, ptr::null_mut()))
                }
                ffi::LUA_TNUMBER => write!(f, "float {}", ffi::lua_tonumberx(l, i, ptr::null_mut())),
                _ => f.write_str(Described::type_name(l, i)),
            }
        }
    }
}

/// A message of up to 512 bytes on the stack (longer ones are cut), for [`raise`].
pub(super) struct Text {
    buf: [u8; 512],
    len: usize,
}

impl Text {
    pub(super) fn new() -> Text {
        Text { buf: [0; 512], len: 0 }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Raises `message`, prefixed with the caller's position (`P:3: `).
///
/// # Safety
/// `l` runs a C function called from Lua.
pub(super) unsafe fn raise(l: *mut ffi::lua_State, message: fmt::Arguments<'_>) -> ! {
    let mut text = Text::new();
    let _ = text.write_fmt(message);
    // SAFETY: per the contract; `text` has no destructor, so unwinding past it is sound.
    unsafe {
        ffi::luaL_where(l, 1);
        push_bytes(l, text.as_bytes());
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
}
