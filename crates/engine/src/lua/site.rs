//! [`LuaSite`]: one Lua state, its compiled procedures, and the loop that runs a call.
//!
//! `run` executes in a coroutine so that the site stays sans-IO: `voltdb.execute` yields the
//! queued batch, the site calls the [`LuaHost`] outside Lua and resumes the coroutine with the
//! result tables. A call that must end (abort, failed expectation, SQL error) is simply never
//! resumed, so nothing in Lua can continue past it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use mlua::chunk::ChunkMode;
use mlua::thread::ThreadStatus;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value as LuaValue, VmState};
use voltrs_sql::error::Error;
use voltrs_sql::outcome::ResultTable;
use voltrs_storage::Value;

use super::api::{self, CallState, Phase, Shared};
use super::random::Rng;
use super::values::{self, LuaTable};
use super::{LuaError, LuaFailure, LuaHost, LuaLimits, LuaProcedure, ProcOutput, Queued, TxnInfo};

/// VM instructions between two runs of the limit hook.
pub const HOOK_INTERVAL: u32 = 1000;
/// Memory cap of a site's Lua state between calls (compiled chunks and cached values).
pub const SITE_MEMORY_CAP: usize = 1 << 30;

const PRELUDE: &str = include_str!("prelude.lua");

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
    pub(super) chunks: HashMap<String, Compiled>,
    next_chunk: u64,
    /// Memory in use after the last full collection (0: collect at the next call).
    baseline: usize,
}

/// A procedure's chunk after its declaration ran.
#[derive(Clone)]
pub(super) struct Compiled {
    version: u64,
    /// Identity of this compilation: statement handles carry it.
    pub(super) chunk: u64,
    run: Function,
    statements: Rc<[String]>,
}

impl LuaSite {
    pub fn new(limits: LuaLimits) -> Result<LuaSite, Error> {
        let internal = |e: mlua::Error| Error::Invalid(format!("internal: cannot start Lua: {e}"));
        let libs = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE;
        let lua = Lua::new_with(libs, LuaOptions::default()).map_err(internal)?;
        let shared = Rc::new(RefCell::new(CallState::new(limits)));
        let primitives = api::primitives(&lua, &shared).map_err(internal)?;
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
        Ok(LuaSite {
            new_env: exports.get("new_env").map_err(internal)?,
            freeze: exports.get("freeze").map_err(internal)?,
            trampoline: exports.get("trampoline").map_err(internal)?,
            lua,
            shared,
            chunks: HashMap::new(),
            next_chunk: 0,
            baseline: 0,
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
        self.chunks.insert(proc.name.clone(), compiled.clone());
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
        let txn = TxnInfo {
            unique_id: 0,
            timestamp: 0,
            seed: 0,
        };
        let declared = self
            .arm(Phase::Declaring { chunk }, txn, false)
            .and_then(|()| {
                self.drive(
                    name,
                    MultiValue::from_vec(vec![LuaValue::Function(function)]),
                    &[],
                    &mut NoSql,
                )
            })
            .map(|_| std::mem::take(&mut self.shared.borrow_mut().declared));
        self.disarm();
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
            run,
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
        let mut args = MultiValue::with_capacity(params.len() + 1);
        args.push_back(LuaValue::Function(compiled.run.clone()));
        for (v, ty) in params.iter().zip(&proc.param_types) {
            args.push_back(values::param_to_lua(&self.lua, v, *ty).map_err(|e| self.failure_of(&e))?);
        }
        let returned = self.drive(name, args, &compiled.statements, host)?;
        let unexecuted = self.shared.borrow().queue.len();
        if unexecuted > 0 {
            return Err(LuaFailure::Runtime(format!(
                "{name}: run returned with {unexecuted} queued statements that were never executed; \
                 call voltdb.execute()"
            )));
        }
        values::returned_tables(returned.front().unwrap_or(&LuaValue::Nil))
            .map_err(|m| LuaFailure::Runtime(format!("{name}: {m}")))
    }

    /// Runs `args[0](args[1..])` in a new coroutine under the trampoline, serving each
    /// `voltdb.execute` from `host`, until it returns (its results) or fails.
    fn drive(
        &mut self,
        name: &str,
        args: MultiValue,
        statements: &[String],
        host: &mut dyn LuaHost,
    ) -> Result<MultiValue, LuaFailure> {
        let thread = self
            .lua
            .create_thread(self.trampoline.clone())
            .map_err(|e| self.failure_of(&e))?;
        let mut input = args;
        loop {
            let resumed = thread.resume::<MultiValue>(input);
            if let Some(failure) = self.shared.borrow_mut().failure.take() {
                return Err(failure);
            }
            let mut out = resumed.map_err(|e| self.failure_of(&e))?;
            match thread.status() {
                ThreadStatus::Resumable => input = self.execute(name, &mut out, statements, host)?,
                ThreadStatus::Finished => {
                    return match out.pop_front() {
                        Some(LuaValue::Boolean(true)) => Ok(out),
                        _ => Err(self.error_failure(out.pop_front())),
                    };
                }
                status => {
                    return Err(LuaFailure::Runtime(format!(
                        "internal: the procedure's coroutine stopped in state {status:?}"
                    )));
                }
            }
        }
    }

    /// Serves one `voltdb.execute`: runs the queued batch on `host`, checks expectations and
    /// returns the array of result tables to resume `run` with.
    fn execute(
        &mut self,
        name: &str,
        yielded: &mut MultiValue,
        statements: &[String],
        host: &mut dyn LuaHost,
    ) -> Result<MultiValue, LuaFailure> {
        let is_execute = matches!(yielded.pop_front(), Some(LuaValue::String(s)) if s == "execute");
        if !is_execute {
            return Err(LuaFailure::Runtime(
                "internal: the procedure yielded outside voltdb.execute".into(),
            ));
        }
        let final_batch = matches!(yielded.pop_front(), Some(LuaValue::Boolean(true)));
        let pending = std::mem::take(&mut self.shared.borrow_mut().queue);
        let mut tables = Vec::new();
        if !pending.is_empty() {
            let (batch, expects): (Vec<Queued>, Vec<_>) = pending
                .into_iter()
                .map(|p| {
                    (
                        Queued {
                            stmt: p.stmt,
                            params: p.params,
                        },
                        (p.stmt, p.expect),
                    )
                })
                .unzip();
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
        let array = self
            .lua
            .create_table_with_capacity(tables.len(), 0)
            .map_err(|e| self.failure_of(&e))?;
        for (i, table) in tables.into_iter().enumerate() {
            array.raw_set(i + 1, LuaTable(table)).map_err(|e| self.failure_of(&e))?;
        }
        Ok(MultiValue::from_vec(vec![LuaValue::Table(array)]))
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
