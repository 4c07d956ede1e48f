//! What a transaction runs, and running it against a store (one site's partition for
//! single-partition work, every partition for multi-partition work).
//!
//! The same code serves both: [`Store`] is a window of partitions plus the transaction's
//! undo log. A transaction either commits (its undo log is dropped) or rolls back every
//! change it made, in every table, index and view ([`rollback`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use voltrs_sql::apply::{Store, WriteInputs, apply_write};
use voltrs_sql::binder::Bound;
use voltrs_sql::catalog::TableDef;
use voltrs_sql::exec::{ExecContext, execute};
use voltrs_sql::functions::FuncContext;
use voltrs_storage::{Partition, Value};
use voltrs_wire::Hashinator;

use crate::durability::record::{Command, CommandRef};
use crate::plan_cache::CachedPlan;
use crate::txn::{Aborted, AppStatus, Committed, Status, TxnId, TxnResult};
use crate::{Error, Outcome, ResultTable};

/// A bound statement with the values of its parameters.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub plan: Arc<CachedPlan>,
    pub values: Vec<Value>,
}

/// Cancels what a session runs (PostgreSQL's cancel request): a transaction that has not
/// started never runs, and a read-only one stops at its next deadline check. A write that
/// has started runs to the end, since a cancel is not deterministic and the command log
/// and replicas must see the same writes.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Asks the session's current transaction to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Forgets an earlier cancel (a frontend starting its next statement).
    pub fn reset(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.0
    }
}

/// What a transaction runs.
pub(crate) enum Work {
    /// Statements run in order (an ad hoc batch); `timeout` replaces the database's query
    /// timeout when set.
    Statements {
        list: Vec<Planned>,
        timeout: Option<Duration>,
        cancel: Option<CancelFlag>,
        /// What the command log records if the statements write.
        source: Option<Arc<Logged>>,
    },
    /// TRUNCATE TABLE.
    Truncate {
        table: Arc<TableDef>,
        source: Option<Arc<Logged>>,
    },
    /// A stored procedure with its (already converted) parameter values.
    Procedure {
        def: Arc<voltrs_sql::procedures::ProcedureDef>,
        params: Vec<Value>,
        cancel: Option<CancelFlag>,
        /// The database the procedure was called in (the command log records it).
        database: String,
    },
    /// A DDL statement: runs on the MP coordinator only.
    Ddl(crate::ddl::DdlWork),
    /// Rows and arena bytes of every stored table in every partition of the window:
    /// one row (PARTITION, TABLE_ID, ROWS, ARENA_BYTES) per table partition.
    StorageStats,
    /// The content hash of every partition of the window: one row (PARTITION, HASH).
    ContentHash,
    /// A snapshot's image of every partition (runs on the coordinator only).
    Snapshot(Arc<crate::durability::snapshots::Capture>),
    /// Restored rows put into a table's storage (runs on the coordinator only).
    Install(Box<crate::durability::snapshots::Install>),
}

/// What the command log records for a transaction that is not a procedure call: its
/// database and command (the SQL it ran, or the rows it loaded).
#[derive(Debug)]
pub(crate) struct Logged {
    pub database: String,
    pub command: Command,
}

impl Logged {
    pub fn adhoc(database: &str, sql: &str, params: &[Value]) -> Arc<Logged> {
        Arc::new(Logged {
            database: database.to_string(),
            command: Command::AdHoc {
                sql: sql.to_string(),
                params: params.to_vec(),
            },
        })
    }
}

impl Work {
    /// Attaches what the command log records if this work writes.
    pub fn with_source(mut self, logged: Arc<Logged>) -> Work {
        match &mut self {
            Work::Statements { source, .. } | Work::Truncate { source, .. } => *source = Some(logged),
            Work::Ddl(d) => d.source = Some(logged),
            _ => {}
        }
        self
    }

    /// The database and command the command log records for this work, if it is logged.
    pub fn logged(&self) -> Option<(&str, CommandRef<'_>)> {
        fn from(l: &Arc<Logged>) -> (&str, CommandRef<'_>) {
            (&l.database, l.command.as_ref())
        }
        match self {
            Work::Statements { source, .. } | Work::Truncate { source, .. } => source.as_ref().map(from),
            Work::Ddl(d) => d.source.as_ref().map(from),
            Work::Procedure {
                def, params, database, ..
            } => Some((
                database,
                CommandRef::Procedure {
                    name: &def.name,
                    params,
                },
            )),
            Work::StorageStats | Work::ContentHash | Work::Snapshot(_) | Work::Install(_) => None,
        }
    }

    /// The name `@Statistics PROCEDURE` counts the work under.
    pub fn label(&self) -> &str {
        match self {
            Work::Statements { .. } | Work::Truncate { .. } => "@AdHoc",
            Work::Procedure { def, .. } => &def.name,
            Work::Ddl(d) if d.ops.iter().any(|o| matches!(o, crate::ddl::DdlOp::Register(_))) => "@RegisterProcedure",
            Work::Ddl(_) => "@AdHoc",
            Work::StorageStats => "@Statistics",
            Work::ContentHash => "@ContentHash",
            Work::Snapshot(_) => "@SnapshotSave",
            Work::Install(_) => "@SnapshotRestore",
        }
    }

    /// The caller's cancel flag, if it can cancel.
    pub fn cancel(&self) -> Option<&AtomicBool> {
        match self {
            Work::Statements { cancel, .. } | Work::Procedure { cancel, .. } => cancel.as_ref().map(CancelFlag::flag),
            _ => None,
        }
    }

    /// Whether the work only reads (then the query timeout applies).
    pub fn read_only(&self) -> bool {
        match self {
            Work::Statements { list, .. } => list.iter().all(|p| matches!(p.plan.bound, Bound::Query { .. })),
            Work::Truncate { .. } | Work::Ddl(_) => false,
            Work::StorageStats | Work::ContentHash | Work::Snapshot(_) => true,
            Work::Install(_) => false,
            Work::Procedure { def, .. } => def.read_only,
        }
    }
}

/// Limits and inputs every transaction gets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Time limit of read-only transactions.
    pub query_timeout: Option<Duration>,
    /// Largest result a statement may build, in bytes.
    pub temp_bytes: usize,
}

/// The environment a transaction runs in.
#[derive(Clone, Copy)]
pub(crate) struct TxnEnv<'a> {
    pub hashinator: &'a Hashinator,
    pub txn: TxnId,
    pub limits: Limits,
    pub read_only: bool,
    pub started: Instant,
    /// The caller's cancel flag; statements check it only when the work is read-only.
    pub cancel: Option<&'a AtomicBool>,
}

impl<'a> TxnEnv<'a> {
    pub fn func(&self) -> FuncContext {
        FuncContext {
            now: self.txn.timestamp(),
            seed: self.txn.seed(),
        }
    }

    /// The cancel flag a statement checks as it runs: a write, once started, is not
    /// cancelled.
    pub fn read_cancel(&self) -> Option<&'a AtomicBool> {
        self.cancel.filter(|_| self.read_only)
    }

    pub fn deadline(&self) -> Option<(Instant, u64)> {
        if !self.read_only {
            return None;
        }
        self.limits
            .query_timeout
            .map(|t| (self.started + t, t.as_millis() as u64))
    }
}

/// Runs one bound statement against the store.
pub(crate) fn run_statement(
    store: &mut Store,
    env: &TxnEnv,
    bound: &Bound,
    values: &[Value],
) -> Result<Outcome, Error> {
    match bound {
        Bound::Query { plan, columns } => {
            let ctx = ExecContext {
                first: store.first,
                local: store.local,
                temp_limit: env.limits.temp_bytes,
                cancel: env.read_cancel(),
                ..ExecContext::new(store.partitions, env.hashinator, values, env.func(), env.deadline())
            };
            let rows = execute(plan, &ctx, None)?;
            let table = ResultTable {
                columns: columns.clone(),
                rows,
            };
            check_temp_bytes(&table, env.limits.temp_bytes)?;
            Ok(Outcome::Rows(table))
        }
        Bound::Write(w) => {
            if env.read_only {
                return Err(Error::Invalid("internal: a write in a read-only transaction".into()));
            }
            let inputs = WriteInputs {
                hashinator: env.hashinator,
                params: values,
                func: env.func(),
                deadline: None,
            };
            Ok(Outcome::Modified(apply_write(w, store, &inputs)?))
        }
    }
}

/// Fails when a result is larger than the temporary-table limit.
fn check_temp_bytes(table: &ResultTable, limit: usize) -> Result<(), Error> {
    let mut bytes = 0usize;
    for row in &table.rows {
        bytes += voltrs_sql::exec::row_bytes(row);
        if bytes > limit {
            return Err(voltrs_sql::exec::temp_limit_exceeded(limit));
        }
    }
    Ok(())
}

/// Runs `work` against the store; the caller ends it with [`finish`].
pub(crate) fn run(work: &Work, store: &mut Store, env: &TxnEnv, site: &mut crate::site::SiteLocal) -> TxnResult {
    if env.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(Aborted::graceful(Error::Cancelled));
    }
    match work {
        Work::Statements { list, timeout, .. } => {
            let mut outcomes = Vec::with_capacity(list.len());
            let mut failed = None;
            let mut limits = env.limits;
            if timeout.is_some() {
                limits.query_timeout = *timeout;
            }
            let env = &TxnEnv { limits, ..*env };
            for p in list {
                match run_statement(store, env, &p.plan.bound, &p.values) {
                    Ok(o) => outcomes.push(o),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            match failed {
                None => Ok(Committed {
                    outcomes,
                    app_status: AppStatus::default(),
                }),
                Some(e) => Err(Aborted::graceful(e)),
            }
        }
        Work::Truncate { table, .. } => voltrs_sql::apply::truncate(table, store)
            .map(|n| Committed {
                outcomes: vec![Outcome::Modified(n)],
                app_status: AppStatus::default(),
            })
            .map_err(Aborted::graceful),
        Work::Procedure { def, params, .. } => crate::procedure::run_body(def, params, store, env, site),
        Work::StorageStats => Ok(Committed {
            outcomes: vec![Outcome::Rows(storage_stats(store))],
            app_status: AppStatus::default(),
        }),
        Work::ContentHash => Ok(Committed {
            outcomes: vec![Outcome::Rows(content_hashes(store))],
            app_status: AppStatus::default(),
        }),
        Work::Ddl(_) | Work::Snapshot(_) | Work::Install(_) => Err(Aborted::new(
            Status::UnexpectedFailure,
            Error::Invalid("internal: coordinator-only work reached a site".into()),
        )),
    }
}

/// Ends a transaction: drops the undo log on commit, replays it on abort.
pub(crate) fn finish(result: TxnResult, store: &mut Store) -> TxnResult {
    match &result {
        Ok(_) => store.undo.clear(),
        Err(_) => {
            store.undo.rollback_to(0, store.partitions, store.first);
            store.undo.clear();
        }
    }
    result
}

/// Rows of every table a transaction touched, per partition, to refresh planner statistics.
pub(crate) fn touched_counts(
    partitions: &[Partition],
    first: usize,
    tables: &[(voltrs_storage::TableId, usize)],
) -> Vec<(voltrs_storage::TableId, usize, usize)> {
    tables
        .iter()
        .filter_map(|&(t, p)| {
            let n = partitions.get(p.checked_sub(first)?)?.table(t)?.len();
            Some((t, p, n))
        })
        .collect()
}

fn storage_stats(store: &Store) -> ResultTable {
    use voltrs_sql::outcome::ResultColumn;
    use voltrs_storage::DataType;
    let col = |name: &str| ResultColumn {
        name: name.into(),
        ty: DataType::BigInt,
    };
    let mut rows = Vec::new();
    for (i, part) in store.partitions.iter().enumerate() {
        for (id, t) in &part.tables {
            rows.push(vec![
                Value::Integer((store.first + i) as i64),
                Value::Integer(*id as i64),
                Value::Integer(t.len() as i64),
                Value::Integer(t.arena_bytes() as i64),
            ]);
        }
    }
    ResultTable {
        columns: vec![col("PARTITION"), col("TABLE_ID"), col("ROWS"), col("ARENA_BYTES")],
        rows,
    }
}

/// One table partition's figures, as [`Work::StorageStats`] reports them.
pub(crate) struct StoredTable {
    pub partition: usize,
    pub table: voltrs_storage::TableId,
    pub rows: usize,
    pub arena_bytes: usize,
}

/// The rows of a committed [`Work::StorageStats`].
pub(crate) fn stored_tables(c: &Committed) -> Vec<StoredTable> {
    let Some(Outcome::Rows(t)) = c.outcomes.first() else {
        return Vec::new();
    };
    let int = |row: &[Value], i: usize| match row.get(i) {
        Some(Value::Integer(v)) => *v as usize,
        _ => 0,
    };
    t.rows
        .iter()
        .map(|r| StoredTable {
            partition: int(r, 0),
            table: int(r, 1) as voltrs_storage::TableId,
            rows: int(r, 2),
            arena_bytes: int(r, 3),
        })
        .collect()
}

/// Sums [`Work::StorageStats`] rows per table, with the catalog's names.
pub(crate) fn decode_storage_stats(catalog: &voltrs_sql::catalog::Catalog, c: &Committed) -> Vec<crate::TableStats> {
    let stored = stored_tables(c);
    let mut out = Vec::new();
    for (db, ns) in &catalog.databases {
        for def in ns.tables.values() {
            let (rows, arena_bytes) = stored
                .iter()
                .filter(|s| s.table == def.id)
                .fold((0, 0), |(r, b), s| (r + s.rows, b + s.arena_bytes));
            out.push(crate::TableStats {
                database: db.clone(),
                table: def.name.clone(),
                rows,
                arena_bytes,
            });
        }
    }
    out
}

fn content_hashes(store: &Store) -> ResultTable {
    use voltrs_sql::outcome::ResultColumn;
    use voltrs_storage::DataType;
    let rows = store
        .partitions
        .iter()
        .enumerate()
        .map(|(i, part)| {
            vec![
                Value::Integer((store.first + i) as i64),
                Value::Integer(crate::content_hash::partition_hash(part) as i64),
            ]
        })
        .collect();
    let col = |name: &str| ResultColumn {
        name: name.into(),
        ty: DataType::BigInt,
    };
    ResultTable {
        columns: vec![col("PARTITION"), col("HASH")],
        rows,
    }
}
