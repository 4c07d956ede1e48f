//! voltrs engine: the embedded database API.
//!
//! Owns: the [`Database`] (the current catalog version, every partition's storage, the
//! hashinator) and [`Session`]s (the current database of a connection, shell or slt file).
//! Must not touch: SQL semantics (that is `voltrs-sql`), sockets, the disk.
//!
//! Life of `session.execute_sql(text)`:
//! 1. `voltrs_sql::parser::parse_script` splits and parses the text.
//! 2. Each statement runs in order under the database lock, with a transaction timestamp
//!    and a random seed taken from the engine's unique-id generator (never read from the
//!    clock inside SQL): queries are bound and executed over the partitions; writes are
//!    applied with statement atomicity; DDL builds the next catalog version and swaps it in.
//! 3. The first failing statement stops the script; statements before it stay applied.
//!
//! Queries and DML are bound through the plan cache ([`plan_cache`], shared by all sessions
//! of a database, keyed per catalog version by the statement with its literals turned into
//! parameters); `Session::set_plan_cache(false)` binds every statement afresh.
//!
//! Stored procedures written in Lua run in [`lua`]: a sandboxed, deterministic,
//! resource-limited Lua state per site ([`lua::LuaSite`]) that hands each batch of SQL to a
//! [`lua::LuaHost`].
//!
//! Until the transaction engine arrives, one lock serializes statements; the partitions are
//! already separate and every scan touches one partition per call, so the site threads of
//! the next layer take over the same storage shape.

mod call;
mod content_hash;
mod coordinator;
mod database;
mod ddl;
mod gate;
pub mod lua;
mod memory;
mod plan_cache;
mod prepare;
mod prepared;
mod procedure;
mod session;
mod site;
mod stats;
// The system procedures' result tables; the invocation layer calls them.
#[allow(dead_code, unused_imports)]
mod sysproc;
pub mod txn;
mod work;

pub use call::Response;
pub use database::{Config, Database, TableStats};
pub use lua::LuaLimits;
pub use plan_cache::{CAPACITY as PLAN_CACHE_CAPACITY, PlanCacheStats};
pub use prepared::PreparedStatement;
pub use procedure::native::{Expectation, NativeProcedure, NativeSpec, ProcedureContext, ProcedureError};
pub use session::Session;
pub use txn::{AppStatus, Status};
pub use voltrs_sql::error::Error;
pub use voltrs_sql::outcome::{Outcome, ResultColumn, ResultTable};
