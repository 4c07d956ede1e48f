//! Stored procedures in the catalog: their routing, parameters and planned statements.
//!
//! A procedure is part of a catalog version like a table: DDL that changes the schema
//! re-plans every procedure against the next version (in the engine), so a procedure's
//! statements always match the storage they run on.

use std::any::Any;
use std::sync::Arc;

use voltrs_storage::DataType;

use crate::binder::{Bound, Prepared};

/// A stored procedure.
#[derive(Debug, Clone)]
pub struct ProcedureDef {
    /// As written in CREATE PROCEDURE (matched case-insensitively; the catalog's key is
    /// upper-case).
    pub name: String,
    /// Set for a single-partition procedure.
    pub partition: Option<ProcPartitionDef>,
    /// Roles allowed to call it besides users with the `allproc` permission (upper-case);
    /// checked only when security is on.
    pub allow: Vec<String>,
    /// The parameters callers pass, with the types their values are converted to.
    pub params: Vec<(String, DataType)>,
    /// Whether `params` was declared (otherwise it comes from the statements' `?` markers).
    pub declared_params: bool,
    pub body: ProcSource,
    /// The statements the procedure runs or may queue, planned against this catalog
    /// version (for a SQL body, in order; for Lua and native ones, in declaration order).
    pub statements: Vec<ProcStatement>,
    /// True when every statement only reads.
    pub read_only: bool,
}

/// Routing of a single-partition procedure: the value of parameter `parameter`, placed as a
/// value of `table`'s partition column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcPartitionDef {
    pub table: String,
    pub column: String,
    pub parameter: usize,
}

/// One planned statement of a procedure.
#[derive(Debug, Clone)]
pub struct ProcStatement {
    /// The SQL as written.
    pub text: String,
    pub plan: Arc<Prepared>,
}

impl ProcStatement {
    pub fn reads_only(&self) -> bool {
        matches!(self.plan.bound, Bound::Query { .. })
    }
}

/// What a procedure's body is.
#[derive(Clone)]
pub enum ProcSource {
    /// SQL statements run in order; their `?` markers take the parameters in order.
    Sql,
    /// A Lua chunk defining `run`.
    Lua(Arc<str>),
    /// A Rust procedure registered through the embedded API (the engine's type, boxed).
    Native(Arc<dyn Any + Send + Sync>),
    /// A default procedure (`T.insert`, ...): one SQL statement generated from the table.
    Default,
}

impl std::fmt::Debug for ProcSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcSource::Sql => f.write_str("Sql"),
            ProcSource::Lua(_) => f.write_str("Lua"),
            ProcSource::Native(_) => f.write_str("Native"),
            ProcSource::Default => f.write_str("Default"),
        }
    }
}

impl ProcedureDef {
    /// The language for listings.
    pub fn language(&self) -> &'static str {
        match self.body {
            ProcSource::Sql | ProcSource::Default => "SQL",
            ProcSource::Lua(_) => "LUA",
            ProcSource::Native(_) => "RUST",
        }
    }
}
