//! VoltDB-shaped result tables for the system procedures that describe the database:
//! `@SystemCatalog`, `@SystemInformation`, `@Statistics` and `@GetPartitionKeys`.
//!
//! Owns: the exact column names, types and order of each result, and the rules that turn
//! the catalog and the engine's figures into rows. Must not touch: locks, clocks, sockets
//! or storage. Every function here is pure: the engine gathers the inputs (the catalog,
//! [`ProcedureInfo`]s, [`NodeInfo`], counters) under its own locks and passes them in, so
//! each shape is a plain unit test.
//!
//! 1. A client calls e.g. `@SystemCatalog('COLUMNS')`; the engine takes the current
//!    [`Catalog`](voltrs_sql::catalog::Catalog) and its procedure list.
//! 2. [`catalog::system_catalog`] (or [`information::system_information`],
//!    [`statistics::statistics`], [`keys::partition_keys`]) matches the selector
//!    case-insensitively; an unknown one is an [`Error::Invalid`] that names it and lists the
//!    valid ones.
//! 3. It returns [`ResultTable`]s whose columns match VoltDB's column for column, so
//!    VoltDB's own clients (the Python `VoltClient` topology discovery, `VoltBulkLoader`,
//!    the JDBC driver's `DatabaseMetaData`) read them unchanged.
//!
//! Every shape cites the VoltDB source it was read from (VoltDB is AGPL: read for behaviour
//! only). VoltDB's `STRING` columns are `VARCHAR` here ([`STRING`]); its result columns
//! carry no length, so they use the largest one.

pub mod catalog;
pub mod information;
pub mod keys;
mod procedures;
pub mod statistics;

#[cfg(test)]
mod tests;

use std::time::Duration;

use voltrs_storage::{DataType, Value};

use crate::{Error, ResultColumn};

pub use catalog::system_catalog;
pub use information::system_information;
pub use keys::partition_keys;
pub use statistics::{StatsInputs, statistics};

/// VoltDB's `STRING` column type in a result table.
pub const STRING: DataType = DataType::VARCHAR_MAX;

/// The partition id VoltDB gives the multi-partition initiator (`MpInitiator.MP_INIT_PID`).
pub const MP_PARTITION: i32 = 16383;

/// One user procedure (DDL/SQL, Lua, Rust-native) or default procedure (`T.insert`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureInfo {
    /// As the catalog spells it (default procedures: `VOTES.insert`).
    pub name: String,
    pub single_partition: bool,
    /// The 0-based parameter that routes a single-partition call.
    pub partition_parameter: Option<usize>,
    /// The type of the partition *column* (VoltDB reports the column's type, which is what
    /// clients hash the parameter as).
    pub partition_parameter_type: Option<DataType>,
    pub read_only: bool,
    /// Parameter name (may be synthetic, `PARAM0`) and type, in call order.
    pub params: Vec<(String, DataType)>,
    /// A default procedure (generated per table, not declared).
    pub default: bool,
}

/// One procedure's counters on one partition (`@Statistics PROCEDURE`). Times are
/// nanoseconds; sizes are bytes. Use `..ProcedureStatRow::default()` for what the engine
/// does not measure.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureStatRow {
    /// [`MP_PARTITION`] for multi-partition executions.
    pub partition_id: i32,
    pub procedure: String,
    pub invocations: u64,
    pub timed_invocations: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    pub avg_ns: u64,
    pub min_result_bytes: u32,
    pub max_result_bytes: u32,
    pub avg_result_bytes: u32,
    pub min_param_bytes: u32,
    pub max_param_bytes: u32,
    pub avg_param_bytes: u32,
    pub aborts: u64,
    pub failures: u64,
    /// A transactional procedure (VoltDB's non-transactional NT procedures report 0).
    pub transactional: bool,
    /// A compound procedure (VoltDB 11+); voltrs has none.
    pub compound: bool,
}

impl Default for ProcedureStatRow {
    fn default() -> Self {
        ProcedureStatRow {
            partition_id: 0,
            procedure: String::new(),
            invocations: 0,
            timed_invocations: 0,
            min_ns: 0,
            max_ns: 0,
            avg_ns: 0,
            min_result_bytes: 0,
            max_result_bytes: 0,
            avg_result_bytes: 0,
            min_param_bytes: 0,
            max_param_bytes: 0,
            avg_param_bytes: 0,
            aborts: 0,
            failures: 0,
            transactional: true,
            compound: false,
        }
    }
}

/// One table's (or view's) storage on one partition (`@Statistics TABLE`). A replicated
/// table has one row per partition, each for its own copy, as in VoltDB.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStatRow {
    pub partition_id: i32,
    pub database: String,
    pub table: String,
    /// VoltDB's engine class name: `PersistentTable` for tables and views alike
    /// (`StreamedTable` for streams).
    pub table_type: String,
    pub rows: u64,
    /// Bytes reserved for rows (VoltDB `TUPLE_ALLOCATED_MEMORY`, reported in KiB).
    pub allocated_bytes: u64,
    /// Bytes the rows occupy (`TUPLE_DATA_MEMORY`); 0 if unknown.
    pub data_bytes: u64,
    /// Bytes of out-of-line strings and binaries (`STRING_DATA_MEMORY`); 0 if unknown.
    pub string_bytes: u64,
    /// `LIMIT PARTITION ROWS n`.
    pub row_limit: Option<u64>,
}

/// Whether the node accepts work from clients (`@Pause` / `@Resume`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterState {
    Running,
    Paused,
}

impl ClusterState {
    /// VoltDB's `OperationMode` name.
    pub fn name(self) -> &'static str {
        match self {
            ClusterState::Running => "RUNNING",
            ClusterState::Paused => "PAUSED",
        }
    }
}

/// The node answering (voltrs is one host, host id usually 0).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub host_id: i32,
    pub hostname: String,
    /// The address clients can dial (VoltClient connects to it).
    pub ip_address: String,
    pub client_port: u16,
    pub admin_port: u16,
    /// 0 when the HTTP/JSON interface is off.
    pub http_port: u16,
    pub pg_port: Option<u16>,
    pub version: String,
    pub build: String,
    /// Milliseconds since the Unix epoch.
    pub start_time_ms: i64,
    pub uptime: Duration,
    pub cluster_state: ClusterState,
    /// Execution sites on this host (one per partition on a single node).
    pub sites: usize,
    pub partitions: usize,
    /// CPU threads available to the process.
    pub cpus: usize,
    pub data_dir: String,
    /// `off`, or the command log mode (`sync` / `async`).
    pub command_log: String,
    pub memory: MemoryInfo,
}

/// Process and storage memory, in bytes (`@Statistics MEMORY` reports KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryInfo {
    pub rss_bytes: u64,
    pub tuple_count: u64,
    pub tuple_data_bytes: u64,
    pub tuple_allocated_bytes: u64,
    pub string_bytes: u64,
    pub index_bytes: u64,
    pub physical_bytes: u64,
}

/// VoltDB's wire type code (`VoltType.java`): TINYINT 3, SMALLINT 4, INTEGER 5, BIGINT 6,
/// FLOAT 8, VARCHAR 9, TIMESTAMP 11, DECIMAL 22, VARBINARY 25.
pub fn volt_type_code(ty: DataType) -> i8 {
    ty.wire_code()
}

/// The `java.sql.Types` code VoltDB reports for a type (`VoltType.getJdbcSqlType`).
pub(crate) fn jdbc_type(ty: DataType) -> i64 {
    match ty {
        DataType::TinyInt => -6,
        DataType::SmallInt => 5,
        DataType::Integer => 4,
        DataType::BigInt => -5,
        DataType::Float => 6,
        DataType::Decimal => 3,
        DataType::Varchar { .. } => 12,
        DataType::Varbinary { .. } => -3,
        DataType::Timestamp => 93,
        DataType::Boolean => 16,
        // java.sql.Types.OTHER, what VoltDB reports for a type without a JDBC mapping.
        DataType::Null => 1111,
    }
}

/// The JDBC `TYPE_NAME` (`VoltType.toSQLString`, upper-cased; `OTHER` when it has none).
pub(crate) fn jdbc_type_name(ty: DataType) -> &'static str {
    match ty {
        DataType::Null => "OTHER",
        other => other.name(),
    }
}

/// Storage bytes of a fixed-size type; `None` for VARCHAR / VARBINARY.
pub(crate) fn fixed_bytes(ty: DataType) -> Option<i64> {
    match ty {
        DataType::TinyInt | DataType::Boolean => Some(1),
        DataType::SmallInt => Some(2),
        DataType::Integer => Some(4),
        DataType::BigInt | DataType::Float | DataType::Timestamp => Some(8),
        DataType::Decimal => Some(16),
        DataType::Varchar { .. } | DataType::Varbinary { .. } | DataType::Null => None,
    }
}

/// JDBC precision (`COLUMN_SIZE`) and radix of a type, with `var_len` standing for the
/// length of a VARCHAR / VARBINARY (`getColumnSizeAndRadix` and `getTypePrecisionAndRadix`).
pub(crate) fn precision_radix(ty: DataType, var_len: i64) -> (Option<i64>, Option<i64>) {
    match ty {
        DataType::TinyInt | DataType::SmallInt | DataType::Integer | DataType::BigInt | DataType::Timestamp => {
            (fixed_bytes(ty).map(|b| b * 8 - 1), Some(2))
        }
        // The digits of a double's mantissa.
        DataType::Float => (Some(53), Some(2)),
        DataType::Decimal => (Some(38), Some(10)),
        DataType::Varchar { .. } | DataType::Varbinary { .. } => (Some(var_len), None),
        DataType::Boolean | DataType::Null => (None, None),
    }
}

/// JDBC `DECIMAL_DIGITS` / `SCALE`: 12 for DECIMAL, none otherwise.
pub(crate) fn decimal_digits(ty: DataType) -> Option<i64> {
    (ty == DataType::Decimal).then_some(12)
}

/// Result columns from `(name, type)` pairs.
pub(crate) fn columns(spec: &[(&str, DataType)]) -> Vec<ResultColumn> {
    spec.iter()
        .map(|&(name, ty)| ResultColumn {
            name: name.to_string(),
            ty,
        })
        .collect()
}

/// A VARCHAR value.
pub(crate) fn text(s: &str) -> Value {
    Value::str(s)
}

/// An integer value of any width.
pub(crate) fn int(i: impl Into<i64>) -> Value {
    Value::Integer(i.into())
}

/// An integer value from an unsigned counter, saturating at `i64::MAX`.
pub(crate) fn count(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An optional integer: NULL when absent.
pub(crate) fn opt_int(i: Option<i64>) -> Value {
    i.map_or(Value::Null, Value::Integer)
}

/// Bytes to VoltDB's KiB figures (rounded down, as VoltDB divides).
pub(crate) fn kib(bytes: u64) -> Value {
    count(bytes / 1024)
}

/// Matches `selector` (trimmed, case-insensitive) against `valid`, returning the canonical
/// upper-case spelling, or an error naming the selector and listing the valid ones.
pub(crate) fn match_selector(procedure: &str, selector: &str, valid: &[&'static str]) -> Result<&'static str, Error> {
    let wanted = selector.trim();
    valid
        .iter()
        .find(|v| v.eq_ignore_ascii_case(wanted))
        .copied()
        .ok_or_else(|| {
            Error::Invalid(format!(
                "invalid {procedure} selector \"{selector}\": expected one of {}",
                valid.join(", ")
            ))
        })
}

/// A JSON string literal (quotes included) with JSON's escapes.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The execution site of a partition on this node: site `p` runs partition `p`, and the
/// multi-partition initiator is the next site after the partitions' (VoltDB numbers sites
/// in creation order and creates the MP initiator last; clients only read the host id).
pub(crate) fn site_id(node: &NodeInfo, partition: i32) -> i32 {
    if partition == MP_PARTITION {
        i32::try_from(node.sites).unwrap_or(i32::MAX)
    } else {
        partition
    }
}
