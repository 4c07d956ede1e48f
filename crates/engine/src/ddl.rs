//! DDL as a multi-partition barrier: on the coordinator, with every partition lent, a DDL
//! statement builds the next catalog version, rebuilds the storage it changes, re-plans the
//! stored procedures and installs the version. DDL that would break a procedure is refused
//! (naming it) before any storage changes.

use std::sync::Arc;

use voltrs_sql::catalog::Catalog;
use voltrs_sql::ddl::{self, DdlContext};
use voltrs_sql::functions::FuncContext;
use voltrs_sql::parser::Statement;
use voltrs_storage::Partition;

use crate::database::Shared;
use crate::procedure::native::NativeSpec;
use crate::txn::{Aborted, AppStatus, Committed, TxnId, TxnResult};
use crate::{Error, Outcome};

/// One schema change.
pub(crate) enum DdlOp {
    Statement(Box<Statement>),
    /// Registers a Rust procedure (embedded API).
    Register(NativeSpec),
}

/// DDL statements (one, or an `@AdHoc` batch applied in order) and the session settings
/// they run with.
pub(crate) struct DdlWork {
    pub ops: Vec<DdlOp>,
    /// The session's current database.
    pub database: String,
    /// `voltrs-slt` mode: partition new tables on their first column where allowed.
    pub partition_first_column: bool,
    /// What the command log records (`None`: not logged, e.g. registering a native
    /// procedure, which the embedding program does again at every start).
    pub source: Option<Arc<crate::work::Logged>>,
}

/// Applies a DDL statement to the lent partitions and installs the next catalog.
pub(crate) fn apply(work: &DdlWork, shared: &Shared, parts: &mut Vec<Partition>, txn: TxnId) -> TxnResult {
    let current = shared.catalog();
    let func = FuncContext {
        now: txn.timestamp(),
        seed: txn.seed(),
    };
    // First on empty storage, to see the catalog it would make and check every procedure
    // against it without touching data.
    let mut scratch: Vec<Partition> = parts
        .iter()
        .map(|p| Partition {
            tables: p
                .tables
                .keys()
                .filter_map(|id| empty_storage(&current, *id).map(|t| (*id, t)))
                .collect(),
        })
        .collect();
    let mut trial = (*current).clone();
    for op in &work.ops {
        build(work, op, &mut trial, &mut scratch, shared, func).map_err(Aborted::graceful)?;
        trial = crate::procedure::replan_all(&trial, shared).map_err(Aborted::graceful)?;
    }
    // Each statement's catalog is installed as soon as its storage changed, so a batch
    // whose later statement fails only on real rows (a unique index over duplicates, say)
    // leaves the catalog and the storage agreeing: the statements before it stay applied.
    let mut next = (*current).clone();
    let mut outcomes = Vec::with_capacity(work.ops.len());
    let mut failed = None;
    for (i, op) in work.ops.iter().enumerate() {
        let applied = build(work, op, &mut next, parts, shared, func)
            .and_then(|tag| crate::procedure::replan_all(&next, shared).map(|c| (tag, c)));
        match applied {
            Ok((tag, replanned)) => {
                next = replanned;
                next.version = current.version + 1 + i as u64;
                shared.install_catalog(Arc::new(next.clone()));
                outcomes.push(Outcome::Done(tag));
            }
            Err(e) => {
                failed = Some((i, e));
                break;
            }
        }
    }
    for (p, part) in parts.iter().enumerate() {
        shared
            .row_counts
            .reset(p, part.tables.iter().map(|(id, t)| (*id, t.len())));
    }
    match failed {
        None => Ok(Committed {
            outcomes,
            app_status: AppStatus::default(),
        }),
        Some((0, e)) => Err(Aborted::graceful(e)),
        Some((i, e)) => Err(Aborted::graceful(Error::Invalid(format!(
            "DDL statement {} of the batch failed on the stored rows: {e} (the {i} statement{} before it stay applied)",
            i + 1,
            if i == 1 { "" } else { "s" }
        )))),
    }
}

fn empty_storage(catalog: &Catalog, id: voltrs_storage::TableId) -> Option<voltrs_storage::Table> {
    catalog.all_tables().find(|t| t.id == id).map(|t| t.new_storage())
}

/// Applies one schema change to `next` and the storage in `parts`; returns its command tag.
fn build(
    work: &DdlWork,
    op: &DdlOp,
    next: &mut Catalog,
    parts: &mut Vec<Partition>,
    shared: &Shared,
    func: FuncContext,
) -> Result<String, Error> {
    let db = work.database.as_str();
    let statement = match op {
        DdlOp::Register(spec) => return crate::procedure::register(next, db, spec, shared),
        DdlOp::Statement(s) => s.as_ref(),
    };
    let mut ctx = DdlContext {
        partitions: parts,
        hashinator: &shared.hashinator,
        func,
        partition_first_column: work.partition_first_column,
    };
    Ok(match statement {
        Statement::CreateTable(ct) => ddl::create_table(next, db, ct, &mut ctx)?,
        Statement::PartitionTable { table, column } => ddl::partition_table(next, db, table, column, &mut ctx)?,
        Statement::CreateIndex(ci) => ddl::create_index(next, db, ci, &mut ctx)?,
        Statement::Drop {
            kind,
            name,
            if_exists,
            cascade,
        } => ddl::drop(next, db, *kind, name, *if_exists, *cascade, &mut ctx)?,
        Statement::CreateView(cv) => ddl::create_view(next, db, cv, &mut ctx)?,
        Statement::AlterTable(at) => ddl::alter_table(next, db, at, &mut ctx)?,
        Statement::CreateDatabase { name, if_not_exists } => ddl::create_database(next, name, *if_not_exists)?,
        Statement::DropDatabase { name, if_exists } => ddl::drop_database(next, name, *if_exists, &mut ctx)?,
        Statement::CreateProcedure(cp) => crate::procedure::create(next, db, cp, shared)?,
        Statement::DropProcedure { name, if_exists } => crate::procedure::drop(next, db, name, *if_exists)?,
        Statement::PartitionProcedure { name, partition } => crate::procedure::partition(next, db, name, partition)?,
        _ => return Err(Error::Invalid("internal: not a DDL statement".into())),
    })
}
