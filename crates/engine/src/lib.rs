//! voltrs engine: the embedded database API.
//!
//! Owns: the [`Database`] (the catalog, the partition sites and the MP coordinator, the
//! hashinator), [`Session`]s (the current database of a connection, shell or slt file),
//! stored procedures and system procedures. Must not touch: SQL semantics (that is
//! `voltrs-sql`), sockets, the disk.
//!
//! Life of `session.execute_sql(text)`:
//! 1. `voltrs_sql::parser::parse_script` splits and parses the text.
//! 2. Each statement is planned on the caller's thread and runs as its own transaction:
//!    on one partition's site when it touches one partition ([`voltrs_sql::route`]), else
//!    on the MP coordinator over every partition; DDL is an MP barrier that installs the
//!    next catalog version. The transaction's timestamp and random seed come from its
//!    unique id (never from the clock inside SQL).
//! 3. The first failing statement stops the script; statements before it stay applied.
//!
//! Life of `session.call(name, params)`: [`call`] resolves the procedure (stored, default
//! or system), converts the parameters, routes it by its partitioning parameter and runs
//! it on a site or the coordinator; every write of a failed transaction is undone.
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
pub mod durability;
mod gate;
pub mod lua;
mod memory;
mod permissions;
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
pub use memory::{physical_bytes as physical_memory_bytes, resident_bytes as resident_memory_bytes};
pub use permissions::Permissions;
pub use plan_cache::{CAPACITY as PLAN_CACHE_CAPACITY, PlanCacheStats};
pub use prepared::PreparedStatement;
pub use procedure::native::{Expectation, NativeProcedure, NativeSpec, ProcedureContext, ProcedureError};
pub use session::Session;
pub use stats::{LATENCY_BUCKET_COUNT, LATENCY_BUCKETS_NS, ProcedureMetrics};
pub use sysproc::{ClusterState, MemoryInfo, NodeInfo};
pub use txn::{AppStatus, Status};
pub use voltrs_sql::error::Error;
pub use voltrs_sql::outcome::{Outcome, ResultColumn, ResultTable};
pub use work::CancelFlag;
