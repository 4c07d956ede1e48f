//! [`LuaSite`]: one Lua state, its compiled procedures, and the loop that runs a call.
//!
//! `run` executes in a coroutine so that the site stays sans-IO: `voltdb.execute` yields the
//! queued batch, the site calls the [`LuaHost`] outside Lua and resumes the coroutine, which
//! picks up the result tables. A call that must end (abort, failed expectation, SQL error) is
//! simply never resumed, so nothing in Lua can continue past it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_int;
use std::rc::Rc;
use std::time::Instant;

use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value as LuaValue, VmState};
use voltrs_sql::error::Error;
use voltrs_sql::outcome::ResultTable;
use voltrs_storage::{DataType, Decimal, Value};

use super::api::{self, CallState, Phase, Shared};
use super::coroutine::{self, Coroutine, Resumed};
use super::random::Rng;
use super::values::Results;
use super::{LuaError, LuaFailure, LuaHost, LuaLimits, LuaProcedure, ProcOutput, Queued, TxnInfo};

/// VM instructions between two runs of the limit hook.
pub const HOOK_INTERVAL: u32 = 1000;
/// Memory cap of a site's Lua state between calls (compiled chunks and cached values).
pub const SITE_MEMORY_CAP: usize = 1 << 30;

const PRELUDE: &str = include_str!("prelude.lua");

/// A call hands its coroutine to the next only if it ran under [`HOOK_INTERVAL`]
/// instructions and the heap grew by less than this (see `coroutine.rs`).
const REUSE_GROWTH: usize = 256 << 10;

/// One Lua state running procedures: one per site thread, one for the MP coordinator.
///
/// Not `Send`: create it on the thread that uses it.
pub struct LuaSite {
    pub(super) lua: Lua,
    shared: Shared,
    /// `prelude.lua`'s exports.
    new_env: Function,
    freeze: Function,
    trampoline: Function,
    /// Registry reference of `trampoline`, which starts every coroutine.
    trampoline_ref: c_int,
    /// The metatable of result tables.
    result_mt: Table,
    /// The coroutine the last call ended in, when it may run the next (see `coroutine.rs`).
    coroutine: Option<Coroutine>,
    pub(super) chunks: HashMap<String, Compiled>,
    next_chunk: u64,
    /// Memory in use after the last full collection (0: collect at the next call).
    baseline: usize,
    /// Memory in use when the call in progress started.
    used_at_start: usize,
}

/// A procedure's chunk after its declaration ran.
#[derive(Clone)]
pub(super) struct Compiled {
    version: u64,
    /// Identity of this compilation.
    pub(super) chunk: u64,
    /// Registry reference of its `run` (released when the chunk is replaced).
    run: c_int,
    statements: Rc<[String]>,
}

impl LuaSite {
    pub fn new(limits: LuaLimits) -> Result<LuaSite, Error> {
        let internal = |e: mlua::Error| Error::Invalid(format!("internal: cannot start Lua: {e}"));
        let libs = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE;
        let lua = Lua::new_with(libs, LuaOptions::default()).map_err(internal)?;
        let shared = Rc::new(RefCell::new(CallState::new(limits)));
        let result_mt = lua.create_table().map_err(internal)?;
        let primitives = api::primitives(&lua, &shared, &result_mt).map_err(internal)?;
        let exports: Table = lua
            .load(PRELUDE)
            .set_name("=prelude")
            .set_mode(ChunkMode::Text)
            .call(primitives)
            .map_err(internal)?;
        let hook_state = shared.clone();
        lua.set_global_hook(HookTriggers::new().every_nth_instruction(HOOK_INTERVAL), move |_, _| {
            hook(&hook_state)
        })
        .map_err(internal)?;
        lua.set_memory_limit(SITE_MEMORY_CAP).map_err(internal)?;
        lua.gc_set_mode(mlua::state::GcMode::Generational(mlua::state::GcGenParams::default()));
        let trampoline: Function = exports.get("trampoline").map_err(internal)?;
        Ok(LuaSite {
            new_env: exports.get("new_env").map_err(internal)?,
            freeze: exports.get("freeze").map_err(internal)?,
            trampoline_ref: coroutine::reference(&lua, &trampoline).map_err(internal)?,
            trampoline,
            result_mt,
            coroutine: None,
            lua,
            shared,
            chunks: HashMap::new(),
            next_chunk: 0,
            baseline: 0,
            used_at_start: 0,
        })
    }

    /// Runs `proc`'s `run` with `params` (already coerced to `proc.param_types`); compiles
    /// and caches the chunk per (name, version) on first use (another version replaces it).
    /// `read_only` enables the wall-clock timeout.
    pub fn call(
        &mut self,
        proc: &LuaProcedure,
        txn: TxnInfo,
        params: &[Value],
        read_only: bool,
        host: &mut dyn LuaHost,
    ) -> Result<ProcOutput, LuaError> {
        let compiled = self.compiled(proc).map_err(|failure| LuaError {
            failure,
            app_status: None,
        })?;
        let outcome = self
            .arm(Phase::Running { chunk: compiled.chunk }, txn, read_only)
            .and_then(|()| self.run(&compiled, proc, params, host));
        let app_status = self.disarm();
        match outcome {
            Ok(tables) => Ok(ProcOutput { tables, app_status }),
            Err(failure) => Err(LuaError { failure, app_status }),
        }
    }

    /// The compiled chunk of `proc`, compiling it if this site has not got this version.
    fn compiled(&mut self, proc: &LuaProcedure) -> Result<Compiled, LuaFailure> {
        if let Some(c) = self.chunks.get(&proc.name)
            && c.version == proc.version
        {
            return Ok(c.clone());
        }
        let compiled = self.compile(&proc.name, &proc.source, proc.version)?;
        if let Some(old) = self.chunks.insert(proc.name.clone(), compiled.clone()) {
            coroutine::release(&self.lua, old.run);
        }
        self.baseline = 0;
        Ok(compiled)
    }

    /// Loads `source` (text only) into a fresh environment, runs its top level under the
    /// limits, freezes its globals and finds `run`.
    fn compile(&mut self, name: &str, source: &str, version: u64) -> Result<Compiled, LuaFailure> {
        let chunk = self.next_chunk;
        self.next_chunk += 1;
        let env: Table = self.new_env.call(()).map_err(|e| self.failure_of(&e))?;
        let function = self
            .lua
            .load(source)
            .set_name(format!("={name}"))
            .set_mode(ChunkMode::Text)
            .set_environment(env.clone())
            .into_function()
            .map_err(|e| LuaFailure::Runtime(api::error_message(&e)))?;
        let function = coroutine::reference(&self.lua, &function).map_err(|e| self.failure_of(&e))?;
        let txn = TxnInfo {
            unique_id: 0,
            timestamp: 0,
            seed: 0,
        };
        let phase = Phase::Declaring { chunk };
        let declared = self
            .arm(phase, txn, false)
            .and_then(|()| self.drive(name, phase, function, &[], &mut NoSql))
            .map(|_| std::mem::take(&mut self.shared.borrow_mut().declared));
        self.disarm();
        coroutine::release(&self.lua, function);
        let statements = declared?;
        let globals: Table = self.freeze.call(env).map_err(|e| self.failure_of(&e))?;
        let run = match globals.raw_get::<LuaValue>("run").map_err(|e| self.failure_of(&e))? {
            LuaValue::Function(run) => run,
            LuaValue::Nil => {
                return Err(LuaFailure::Runtime(format!(
                    "{name}: the chunk does not define a global function run; define `function run(...) ... end` \
                     at its top level (not `local function run`)"
                )));
            }
            other => {
                return Err(LuaFailure::Runtime(format!(
                    "{name}: the global run is a {}, not a function",
                    other.type_name()
                )));
            }
        };
        Ok(Compiled {
            version,
            chunk,
            run: coroutine::reference(&self.lua, &run).map_err(|e| self.failure_of(&e))?,
            statements: statements.into(),
        })
    }

    /// Starts a call: resets the call state, collects garbage and arms the memory limit.
    fn arm(&mut self, phase: Phase, txn: TxnInfo, read_only: bool) -> Result<(), LuaFailure> {
        let memory_bytes = {
            let mut st = self.shared.borrow_mut();
            st.phase = phase;
            st.txn = txn;
            st.rng = Rng::new(txn.seed);
            st.declared.clear();
            st.queue.clear();
            st.results.clear();
            st.call = st.call.wrapping_add(1);
            st.app_status = None;
            st.failure = None;
            st.instructions = 0;
            st.stop_by_yield = false;
            st.deadline = match st.limits.read_only_timeout {
                Some(timeout) if read_only => Instant::now().checked_add(timeout),
                _ => None,
            };
            st.limits.memory_bytes
        };
        // A full collection costs time in proportion to the live heap, so it runs only when
        // a chunk was compiled or garbage has piled up past the slack. The limit is counted
        // from the live data of the last collection; an allocation that would cross it makes
        // Lua collect fully and retry first, so a call fails exactly when its live data
        // passes the limit, whatever garbage earlier calls left.
        let used = self.lua.used_memory();
        let slack = (4usize << 20).max(self.baseline / 2);
        if self.baseline == 0 || used > self.baseline.saturating_add(slack) {
            self.lua.gc_collect().map_err(|e| self.failure_of(&e))?;
            self.baseline = self.lua.used_memory().max(1);
        }
        self.used_at_start = self.lua.used_memory();
        let limit = self.baseline.saturating_add(memory_bytes);
        self.lua.set_memory_limit(limit).map_err(|e| self.failure_of(&e))?;
        Ok(())
    }

    /// Ends a call: lifts the limits and returns the app status it set.
    fn disarm(&mut self) -> Option<(i8, Option<String>)> {
        // Cannot fail: this state was made with a memory-tracking allocator.
        let _ = self.lua.set_memory_limit(SITE_MEMORY_CAP);
        let mut st = self.shared.borrow_mut();
        st.phase = Phase::Idle;
        st.queue.clear();
        st.results.clear();
        st.failure = None;
        st.deadline = None;
        st.app_status.take()
    }

    /// Runs `run(params...)` and converts what it returns.
    fn run(
        &mut self,
        compiled: &Compiled,
        proc: &LuaProcedure,
        params: &[Value],
        host: &mut dyn LuaHost,
    ) -> Result<Vec<ResultTable>, LuaFailure> {
        let name = &proc.name;
        if params.len() != proc.param_types.len() {
            return Err(LuaFailure::Runtime(format!(
                "{name} takes {} parameters, got {}",
                proc.param_types.len(),
                params.len()
            )));
        }
        {
            let mut st = self.shared.borrow_mut();
            st.args.clear();
            st.args
                .extend(params.iter().zip(&proc.param_types).map(|(v, ty)| lua_param(v, *ty)));
        }
        let phase = Phase::Running { chunk: compiled.chunk };
        let returned = self.drive(name, phase, compiled.run, &compiled.statements, host)?;
        let unexecuted = self.shared.borrow().queue.len();
        if unexecuted > 0 {
            return Err(LuaFailure::Runtime(format!(
                "{name}: run returned with {unexecuted} queued statements that were never executed; \
                 call voltdb.execute()"
            )));
        }
        let shared = &self.shared;
        let original = |origin| shared.borrow().original(origin);
        let results = Results {
            result_mt: &self.result_mt,
            original: &original,
        };
        results
            .returned(&returned)
            .map_err(|m| LuaFailure::Runtime(format!("{name}: {m}")))
    }

    /// Runs `function` (a registry reference) in a coroutine under the trampoline in
    /// `phase`, serving each `voltdb.execute` from `host`, until it returns (its first value)
    /// or fails. The coroutine is kept for the next call when this one was short and ended
    /// well (`coroutine.rs` explains why only then).
    fn drive(
        &mut self,
        name: &str,
        phase: Phase,
        function: c_int,
        statements: &[String],
        host: &mut dyn LuaHost,
    ) -> Result<LuaValue, LuaFailure> {
        let co = match self.coroutine.take() {
            Some(co) => co,
            None => Coroutine::new(&self.lua, &self.trampoline).map_err(|e| self.failure_of(&e))?,
        };
        let mut resumed = co.start(self.trampoline_ref, phase.code(), function);
        loop {
            if let Some(failure) = self.shared.borrow_mut().failure.take() {
                return Err(failure);
            }
            match resumed {
                Resumed::Yielded(n) if n >= 1 && co.integer(1) == Some(api::YIELD_EXECUTE) => {
                    let final_batch = co.is_true(2);
                    self.execute(name, final_batch, statements, host)?;
                    resumed = co.resume();
                }
                Resumed::Yielded(_) => {
                    return Err(LuaFailure::Runtime(
                        "internal: the procedure yielded outside voltdb.execute".into(),
                    ));
                }
                Resumed::Returned if co.is_true(1) => {
                    // Integers and nil (the usual returns) are read in place.
                    let value = if co.is_nil(2) {
                        LuaValue::Nil
                    } else if let Some(i) = co.integer(2) {
                        LuaValue::Integer(i)
                    } else {
                        co.take(&self.lua, 2).map_err(|e| self.failure_of(&e))?
                    };
                    co.clear();
                    let grew = self.lua.used_memory().saturating_sub(self.used_at_start);
                    if self.shared.borrow().instructions == 0 && grew < REUSE_GROWTH {
                        self.coroutine = Some(co);
                    }
                    return Ok(value);
                }
                Resumed::Returned => {
                    let error = co.take(&self.lua, 2);
                    return Err(match error {
                        Ok(e) => self.error_failure(Some(e)),
                        Err(e) => self.failure_of(&e),
                    });
                }
                Resumed::Failed(status) => {
                    if status == mlua::ffi::LUA_ERRMEM {
                        return Err(self.shared.borrow().memory_failure());
                    }
                    let error = co.take(&self.lua, co.top());
                    return Err(match error {
                        Ok(e) => self.error_failure(Some(e)),
                        Err(e) => self.failure_of(&e),
                    });
                }
            }
        }
    }

    /// Serves one `voltdb.execute`: runs the queued batch on `host`, checks expectations and
    /// leaves the result tables for the coroutine's `results()` to pick up.
    fn execute(
        &mut self,
        name: &str,
        final_batch: bool,
        statements: &[String],
        host: &mut dyn LuaHost,
    ) -> Result<(), LuaFailure> {
        let pending = std::mem::take(&mut self.shared.borrow_mut().queue);
        let mut tables = Vec::new();
        let mut expects = Vec::with_capacity(pending.len());
        if !pending.is_empty() {
            let batch = pending
                .into_iter()
                .map(|p| {
                    expects.push((p.stmt, p.expect));
                    Queued {
                        stmt: p.stmt,
                        params: p.params,
                    }
                })
                .collect();
            tables = host.execute(batch, final_batch).map_err(LuaFailure::Sql)?;
            if tables.len() != expects.len() {
                return Err(LuaFailure::Sql(Error::Invalid(format!(
                    "internal: the host returned {} tables for a batch of {} statements",
                    tables.len(),
                    expects.len()
                ))));
            }
            for (position, ((stmt, expect), table)) in expects.iter().zip(&tables).enumerate() {
                if let Some(expect) = expect
                    && let Err(got) = expect.check(table)
                {
                    let sql = statements.get(*stmt).map_or("?", String::as_str);
                    return Err(LuaFailure::Expectation(format!(
                        "{name}: statement {} ({sql}), batch position {}: {got}",
                        stmt + 1,
                        position + 1
                    )));
                }
            }
        }
        let mut st = self.shared.borrow_mut();
        let st = &mut *st;
        let start = st.results.len();
        st.results.extend(tables);
        st.batch = start..st.results.len();
        st.scratch.prepare(&st.results[start..]);
        Ok(())
    }

    /// The failure for an error value that reached the trampoline's `xpcall`.
    fn error_failure(&self, error: Option<LuaValue>) -> LuaFailure {
        match error {
            Some(e) if api::is_memory_error(&e) => self.shared.borrow().memory_failure(),
            Some(LuaValue::String(m)) => LuaFailure::Runtime(m.to_string_lossy()),
            Some(LuaValue::Error(e)) => self.failure_of(&e),
            other => LuaFailure::Runtime(format!(
                "error with a {} as the error object",
                other.as_ref().map_or("nil", LuaValue::type_name)
            )),
        }
    }

    /// The failure for an error mlua returned to Rust.
    fn failure_of(&self, e: &mlua::Error) -> LuaFailure {
        if api::is_memory(e) {
            self.shared.borrow().memory_failure()
        } else {
            LuaFailure::Runtime(api::error_message(e))
        }
    }
}

/// An invocation parameter as `run` receives it, by its declared type: an integer given for
/// a FLOAT parameter is a float, and for a DECIMAL parameter a decimal string; a DECIMAL is
/// its text (Lua has no decimals).
fn lua_param(v: &Value, ty: DataType) -> Value {
    match (v, ty) {
        (Value::Integer(i), DataType::Float) => Value::Float(*i as f64),
        (Value::Integer(i), DataType::Decimal) => Value::str(&Decimal::from_i64(*i).to_string()),
        (Value::Decimal(d), _) => Value::str(&d.to_string()),
        _ => v.clone(),
    }
}

/// Counts instructions and checks the deadline; once the call has failed, stops it at every
/// tick so that nothing (not even a `pcall` loop) keeps running.
fn hook(shared: &Shared) -> mlua::Result<VmState> {
    let Ok(mut st) = shared.try_borrow_mut() else {
        return Ok(VmState::Continue);
    };
    if st.phase == Phase::Idle {
        return Ok(VmState::Continue);
    }
    if st.failure.is_some() {
        return stop(&mut st);
    }
    st.instructions = st.instructions.saturating_add(u64::from(HOOK_INTERVAL));
    if st.instructions > st.limits.instructions {
        let failure = LuaFailure::Limit(format!("instruction limit {} exceeded", st.limits.instructions));
        st.failure.get_or_insert(failure);
        return stop(&mut st);
    }
    if let Some(deadline) = st.deadline
        && Instant::now() >= deadline
    {
        let ms = st.limits.read_only_timeout.map_or(0, |t| t.as_millis());
        let failure = LuaFailure::Limit(format!("read-only procedure timed out after {ms} ms"));
        st.failure.get_or_insert(failure);
        return stop(&mut st);
    }
    Ok(VmState::Continue)
}

/// Ends a failed call from the hook. Yielding hands control back to [`LuaSite::drive`], which
/// never resumes the coroutine: no message handler and no `__close` method runs. (An error
/// raised here would run them while Lua still has hooks off, where no limit can stop them.)
/// Where Lua cannot yield (inside a C function such as `table.sort`), the yield is ignored,
/// so every other tick raises the error instead, which unwinds out of the C function.
fn stop(st: &mut CallState) -> mlua::Result<VmState> {
    st.stop_by_yield = !st.stop_by_yield;
    if st.stop_by_yield {
        return Ok(VmState::Yield);
    }
    let message = st.failure.as_ref().map(LuaFailure::message).unwrap_or_default();
    Err(mlua::Error::runtime(message))
}

/// The host while a chunk is declared: `voltdb.execute` refuses to run then, so this is
/// never asked.
struct NoSql;

impl LuaHost for NoSql {
    fn execute(&mut self, _: Vec<Queued>, _: bool) -> Result<Vec<ResultTable>, Error> {
        Err(Error::Invalid(
            "internal: no SQL runs while a procedure is declared".into(),
        ))
    }
}

/// The statements a chunk declares (SQL texts in declaration order), checked by declaring it
/// in a throwaway site with the default limits; errors name the line (`procedure:3: ...`).
pub fn declared_statements(source: &str) -> Result<Vec<String>, Error> {
    declared_statements_with(source, LuaLimits::default())
}

/// [`declared_statements`] under `limits`: those of the sites that will run the procedure,
/// so a declaration that no site could finish is refused when the procedure is created.
pub fn declared_statements_with(source: &str, limits: LuaLimits) -> Result<Vec<String>, Error> {
    let mut site = LuaSite::new(limits)?;
    let compiled = site
        .compile("procedure", source, 0)
        .map_err(|f| Error::Invalid(format!("invalid Lua procedure: {}", f.message())))?;
    Ok(compiled.statements.to_vec())
}
