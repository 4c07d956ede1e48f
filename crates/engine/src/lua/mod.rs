//! Lua stored procedures: a sandboxed, deterministic, resource-limited Lua 5.4 runtime that
//! mirrors VoltDB's Java `VoltProcedure` API.
//!
//! Owns: one Lua state per [`LuaSite`] (one per site thread, one for the MP coordinator), the
//! compiled chunk of every procedure it has run, the `voltdb` library procedures call, and
//! the conversions between SQL [`Value`]s and Lua values. Must not touch: SQL planning or
//! execution (statements run through the caller's [`LuaHost`]), the catalog, threads, time
//! (the transaction's time comes in [`TxnInfo`]).
//!
//! Life of `site.call(proc, txn, params, read_only, host)`:
//! 1. The chunk of `proc` is compiled once per `(name, version)` (a different version replaces
//!    it): its text is loaded in text mode into a fresh environment table, its top level runs
//!    (declaring statements with `voltdb.sql`), its globals are frozen and `run` is looked up.
//! 2. The call's limits are armed: the memory baseline (from the last full GC, run again when a
//!    chunk was compiled or garbage piled up past a slack), the instruction counter
//!    starts at zero, a read-only call gets a wall-clock deadline; `math.random` is seeded
//!    from [`TxnInfo::seed`].
//! 3. `run(params...)` starts in a coroutine (a new one, or the one a short call that ended
//!    well left: `coroutine.rs`). `voltdb.queue` collects statements; each `voltdb.execute`
//!    yields to Rust, which calls [`LuaHost::execute`] with the batch, checks the
//!    expectations and resumes `run`, which gets the result tables.
//! 4. `run`'s return value becomes the [`ProcOutput`] tables; any failure (abort, failed
//!    expectation, SQL error, limit, Lua error) becomes a [`LuaError`]. The limits are lifted.
//!
//! Where the work is: what a procedure calls on every transaction (`voltdb.queue`,
//! `queue_expect`, `execute`, `EXPECT_SCALAR_MATCH`, the methods of result tables) are C
//! functions over Lua's C API (`batch.rs`, `result.rs`, rules in `raw.rs`); the coroutine is
//! driven with `lua_resume` (`coroutine.rs`); the rest of the `voltdb` library is mlua
//! callbacks (`api.rs`) and Lua (`prelude.lua`). [`LuaSite`] (`site.rs`) runs the loop.
//!
//! # The procedure API
//!
//! A procedure is a Lua chunk. Its top level runs once per site when the chunk is compiled
//! (the *declaration*), and must define a global function `run`:
//!
//! ```lua
//! local check_contestant = voltdb.sql("SELECT contestant_number FROM contestants WHERE contestant_number = ?")
//! local insert_vote = voltdb.sql("INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)")
//!
//! function run(phone, contestant)
//!   voltdb.queue(check_contestant, contestant)
//!   local r = voltdb.execute()
//!   if r[1]:count() == 0 then return 1 end
//!   voltdb.queue_expect(insert_vote, voltdb.EXPECT_ONE_ROW, phone, "XX", contestant)
//!   voltdb.execute(true)
//!   return 0
//! end
//! ```
//!
//! | Function | Meaning |
//! |---|---|
//! | `voltdb.sql(text)` | Declares a statement; returns its handle. Only at the top level of the chunk (declaration); an error inside `run`. |
//! | `voltdb.queue(stmt, ...)` | Queues `stmt` with parameters for the next `execute`. Trailing `nil`s count as NULL parameters. |
//! | `voltdb.queue_expect(stmt, expectation, ...)` | Same, and checks the statement's result against `expectation`. |
//! | `voltdb.execute([final])` | Runs the queued batch; returns an array of result tables, one per queued statement, in order. `final = true` says no more SQL follows. |
//! | `voltdb.table(columns [, rows])` | Builds a result table: `columns` is `{ {"NAME", "VARCHAR"}, ... }` with types TINYINT SMALLINT INTEGER BIGINT FLOAT DECIMAL VARCHAR VARBINARY TIMESTAMP; `rows` an array of arrays of values (`nil` is NULL). |
//! | `voltdb.abort(message)` | Aborts the transaction (VoltDB's `VoltAbortException`): a user abort. |
//! | `voltdb.set_app_status(code [, text])` | Sets the application status code (a TINYINT, -128..127) and optional text; reported even when the call fails afterwards. |
//! | `voltdb.transaction_time()` | The transaction's timestamp, microseconds since the epoch (the same on every replica). |
//! | `voltdb.unique_id()` | The transaction's unique id. |
//!
//! Expectations (VoltDB's `Expectation`): `voltdb.EXPECT_ONE_ROW`, `EXPECT_ZERO_OR_ONE_ROW`,
//! `EXPECT_EMPTY`, `EXPECT_NON_EMPTY`, `EXPECT_SCALAR` (one row of one column),
//! `EXPECT_SCALAR_LONG` (a scalar of an integer type, not NULL) and
//! `voltdb.EXPECT_SCALAR_MATCH(n)` (a scalar equal to the integer `n`). A failed expectation
//! aborts the call with a message naming the statement (its declaration number and SQL text),
//! what was expected and what came back.
//!
//! Result tables (from `execute` or `voltdb.table`): `t:count()` and `#t` (rows);
//! `t:get(row, col)` (1-based row; `col` a 1-based index or a case-insensitive column name);
//! `t:row(i)` (a Lua table keyed by upper-case column name and by 1-based index);
//! `t:scalar()` (the only value of a one-row, one-column table); `t:columns()` (array of
//! names); `t:rows()` (iterator: `for row in t:rows() do ... end`). A result table is a Lua
//! table (its layout is in `prelude.lua`) with a protected metatable; treat it as
//! read-only: returned from the call that made it, it returns the result as SQL or
//! `voltdb.table` made it, whatever was written into it. Its values count toward the
//! memory limit.
//!
//! What `run` returns: `nil` → no tables; an integer (or a float with an integral value) →
//! one 1×1 BIGINT table with the column name `""` (as VoltDB does for a `long`); a result
//! table → that table; an array of result tables → those tables. Anything else fails the call.
//!
//! Values: TINYINT…BIGINT and TIMESTAMP (µs) are Lua integers; FLOAT a Lua float; DECIMAL a
//! Lua string in its exact text form (`"1.500000000000"`); VARCHAR a string; VARBINARY a
//! string of the raw bytes; NULL is `nil`. Parameters given to `queue` go to the host as
//! `Value::Integer`, `Value::Float`, `Value::Varchar` (a string that is not UTF-8 goes as
//! `Value::Varbinary`), `Value::Boolean` or `Value::Null`; the host coerces each to its
//! statement parameter's type (so a DECIMAL parameter is best passed as a string).
//!
//! # Errors, and why `pcall` cannot hide a failed transaction
//!
//! A user abort, a failed expectation, an SQL error from the host and an exceeded limit end
//! the call for good: `execute` and `abort` never return into `run` after such a failure (the
//! coroutine running `run` is abandoned at that point), and the `pcall`/`xpcall` that
//! procedures see re-raise any such failure that happens inside them (limits strike
//! anywhere; an SQL error in `execute`, whose side effects the caller must roll back, is
//! reported as [`LuaFailure::Sql`] with the host's error unchanged). This
//! differs from Java, where a caught exception lets the procedure go on: here the host undoes
//! nothing in the middle of a call, so going on after a failed statement could commit half a
//! batch. Other Lua errors (`error("x")`, a bad argument) are ordinary and `pcall` catches
//! them. A Lua error that reaches the top fails the call with Lua's message and line
//! (`Vote:12: attempt to index a nil value`); `error()` with a non-string value is reported
//! by its type, never by address.
//!
//! `run` must `execute` what it queues: returning with statements still queued fails the call
//! rather than silently dropping them. Only the first value `run` returns counts.
//! `voltdb.execute` suspends `run` (a coroutine yield), so it cannot be called from a function
//! that a library function calls back (a `table.sort` comparator, a `string.gsub`
//! replacement): that fails with a message saying so.
//!
//! # Sandbox
//!
//! Available: the base library without `dofile`, `loadfile`, `load`, `require`, `print` and
//! `collectgarbage`; `string` (without `string.dump`), `table`, `math`, `utf8`. Not
//! available: `io`, `os`, `debug`, `package`, `coroutine`. Chunks load in text mode only,
//! so bytecode is refused. Each procedure has its own environment table (its `_G`) with its
//! own copies of the library tables; its globals never reach another procedure. The shared
//! string metatable is protected (`getmetatable("")` is `false`).
//!
//! Globals are frozen once the declaration finishes: `run` may read them but assigning a
//! global inside `run` is an error (`cannot assign global 'x' inside run; make it local`),
//! so a forgotten `local` cannot carry state from one transaction to the next (a deliberate
//! `rawset(_G, ...)` still can). An `xpcall` message handler does not run once the call has
//! failed for good (Lua would run it with hooks off, out of reach of the limits).
//! `setmetatable` refuses `__gc` (finalizers run at times that differ between replicas) and
//! `__mode` (weak tables' contents depend on collection timing).
//!
//! # Determinism
//!
//! Every replica of a partition must compute the same result. `math.random` draws from an
//! in-tree generator seeded per transaction from [`TxnInfo::seed`] with Lua's argument rules
//! (`random()` → float in [0, 1), `random(m)` → [1, m], `random(m, n)` → [m, n]);
//! `math.randomseed` does not exist. There is no clock but `voltdb.transaction_time()`.
//! Still not deterministic, so to be avoided in anything that reaches a result or a write:
//! the order of `pairs()` / `next` (iterate arrays with `ipairs`, or sort keys first); the
//! text of `tostring` / `string.format("%s", ...)` of a table, function or userdata (it
//! contains an address); and state kept in chunk-level locals (upvalues), which survives
//! from call to call on one site like a Java procedure's fields but differs between sites.
//!
//! # Limits ([`LuaLimits`])
//!
//! * Instructions: a count hook every [`HOOK_INTERVAL`] VM instructions adds to a
//!   per-call counter; past [`LuaLimits::instructions`] the call fails with
//!   `instruction limit N exceeded`. Deterministic (to the hook interval).
//! * Memory: the baseline is the memory in use after the last full garbage collection, which
//!   runs before a call when a chunk was compiled since, or when the memory in use exceeds
//!   the baseline by more than max(4 MiB, baseline / 2) (a collection per call cost 1.4 µs on
//!   a 30 KB heap and 131 µs on a 600 KB one). The state's limit becomes baseline +
//!   [`LuaLimits::memory_bytes`]. An
//!   allocation past it first triggers Lua's emergency full collection, so the call fails
//!   (`memory limit N bytes exceeded`) exactly when its live data would pass the limit,
//!   whatever the collector's timing: deterministic. Result tables are Lua tables and count.
//!   Between calls the cap is [`SITE_MEMORY_CAP`].
//! * Time: a read-only call also fails after [`LuaLimits::read_only_timeout`] of wall-clock
//!   time (checked in the same hook). Writes are never timed out, as in VoltDB: a replica
//!   must not fail a write that another replica committed.
//!
//! A limit ends the call from the hook by yielding out of the coroutine that runs `run`,
//! which is then abandoned like an abort: no message handler and no `__close` method runs
//! after it. (An error raised from a hook would run them while Lua still has hooks off, out
//! of any limit's reach: `xpcall` with a looping handler kept its site forever.) Where Lua
//! cannot yield (inside a C function such as a `table.sort` comparator or a `gsub`
//! callback), the hook raises an error instead, which leaves the C function, and yields at a
//! later tick; `xpcall` also skips the procedure's handler once the call has failed.
//!
//! A failure of any kind fails only that call; the site runs the next call normally.
//!
//! Known gaps: a single C library call (a pathological `string.find` pattern on a long
//! subject) runs without hook checks until it returns; and collection time is not counted as
//! instructions, so a call that keeps its live data just under the memory limit while making
//! garbage forces an emergency full collection every few allocations and can run many times
//! slower than its instruction count suggests before the instruction limit ends it. Lua's
//! own structures count as memory too, and their sizes depend on history: the stack and call
//! frames of the coroutine a call runs in, which Lua shrinks only at a collection, and which
//! a call inherits when the one before it ran under [`HOOK_INTERVAL`] instructions and grew
//! the heap by less than 256 KiB (the coroutine is then reused: `coroutine.rs`). A call
//! that short cannot normally leave more than a few kilobytes; only a deep recursion of
//! large frames within those instructions, while collections free as much earlier garbage,
//! could leave more (a few MiB at worst) for the next call to start with.
//!
//! A [`LuaSite`] is not `Send` (a Lua state belongs to one thread): create it on the site
//! thread that uses it.

mod api;
mod batch;
mod coroutine;
mod random;
mod raw;
mod result;
mod site;
mod values;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use voltrs_sql::error::Error;
use voltrs_sql::outcome::ResultTable;
use voltrs_storage::{DataType, Value};

pub use site::{HOOK_INTERVAL, LuaSite, SITE_MEMORY_CAP, declared_statements, declared_statements_with};

/// Per-call resource limits of a [`LuaSite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LuaLimits {
    /// VM instructions one call may execute (counted in steps of [`HOOK_INTERVAL`]).
    pub instructions: u64,
    /// Bytes of Lua memory one call may hold on top of what the site held when it started.
    pub memory_bytes: usize,
    /// Wall-clock limit of a read-only call; `None` for no limit.
    pub read_only_timeout: Option<Duration>,
}

impl Default for LuaLimits {
    /// 100 million instructions, 64 MiB, 10 seconds for read-only calls.
    fn default() -> Self {
        LuaLimits {
            instructions: 100_000_000,
            memory_bytes: 64 << 20,
            read_only_timeout: Some(Duration::from_secs(10)),
        }
    }
}

/// What a procedure is: identity for caching compiled chunks, source, and declared parameter
/// types.
#[derive(Clone, Debug)]
pub struct LuaProcedure {
    pub name: String,
    /// Catalog version of this definition; a call with another version recompiles the chunk.
    pub version: u64,
    pub source: Arc<str>,
    pub param_types: Vec<DataType>,
}

/// The transaction's determinism inputs, the same on every replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnInfo {
    pub unique_id: i64,
    /// Microseconds since the Unix epoch.
    pub timestamp: i64,
    /// Seed of `math.random`.
    pub seed: u64,
}

/// One statement of a batch: which declared statement (index into the list that
/// [`declared_statements`] returned) and its parameters, not yet coerced to the statement's
/// parameter types.
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    pub stmt: usize,
    pub params: Vec<Value>,
}

/// Runs the SQL of a procedure call.
///
/// Contract: `execute` runs `batch` in order within the call's transaction and returns one
/// table per statement (DML returns its modified-row count as a 1×1 BIGINT table, as VoltDB
/// does). An `Err` fails the whole call (reported as [`LuaFailure::Sql`] with this error,
/// unchanged); the host need not undo anything the batch did, the caller rolls the
/// transaction back. `final_batch` says the procedure will run no more SQL.
pub trait LuaHost {
    fn execute(&mut self, batch: Vec<Queued>, final_batch: bool) -> Result<Vec<ResultTable>, Error>;
}

/// What a successful call returns.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcOutput {
    pub tables: Vec<ResultTable>,
    /// Set by `voltdb.set_app_status`: the code and optional text.
    pub app_status: Option<(i8, Option<String>)>,
}

/// Why a call failed. Every failure is deterministic except [`LuaFailure::Limit`] for a
/// read-only timeout.
#[derive(Clone, Debug, PartialEq)]
pub enum LuaFailure {
    /// `voltdb.abort(message)`.
    UserAbort(String),
    /// A failed expectation; the message names the statement.
    Expectation(String),
    /// An error returned by the host (SQL, constraint), unchanged.
    Sql(Error),
    /// Instruction, memory or time limit.
    Limit(String),
    /// Any other Lua error, with Lua's message and line.
    Runtime(String),
}

impl LuaFailure {
    /// The failure's message.
    pub fn message(&self) -> String {
        match self {
            LuaFailure::UserAbort(m) | LuaFailure::Expectation(m) | LuaFailure::Limit(m) | LuaFailure::Runtime(m) => {
                m.clone()
            }
            LuaFailure::Sql(e) => e.to_string(),
        }
    }
}

/// A failed call: why, and the app status set before the failure.
#[derive(Clone, Debug, PartialEq)]
pub struct LuaError {
    pub failure: LuaFailure,
    pub app_status: Option<(i8, Option<String>)>,
}
