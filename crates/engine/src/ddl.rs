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
use crate::txn::{Aborted, AppStatus, Committed, TxnId, TxnResult};
use crate::{Error, Outcome};

/// A DDL statement and the session settings it runs with.
pub(crate) struct DdlWork {
    pub statement: Statement,
    /// The session's current database.
    pub database: String,
    /// `voltrs-slt` mode: partition new tables on their first column where allowed.
    pub partition_first_column: bool,
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
            tables: p.tables.keys().filter_map(|id| empty_storage(&current, *id).map(|t| (*id, t))).collect(),
        })
        .collect();
    let trial = build(work, &current, &mut scratch, shared, func).map_err(Aborted::graceful)?;
    let next = crate::procedure::replan_all(&trial.0, shared).map_err(Aborted::graceful)?;
    drop(next);
    let (next, tag) = build(work, &current, parts, shared, func).map_err(Aborted::graceful)?;
    let next = crate::procedure::replan_all(&next, shared).map_err(Aborted::graceful)?;
    shared.install_catalog(Arc::new(next));
    for (p, part) in parts.iter().enumerate() {
        shared
            .row_counts
            .reset(p, part.tables.iter().map(|(id, t)| (*id, t.len())));
    }
    Ok(Committed {
        outcomes: vec![Outcome::Done(tag)],
        app_status: AppStatus::default(),
    })
}

fn empty_storage(catalog: &Catalog, id: voltrs_storage::TableId) -> Option<voltrs_storage::Table> {
    catalog.all_tables().find(|t| t.id == id).map(|t| t.new_storage())
}

/// Runs the DDL function for the statement over `parts`; returns the next catalog (its
/// version bumped) and the command tag.
fn build(
    work: &DdlWork,
    current: &Catalog,
    parts: &mut Vec<Partition>,
    shared: &Shared,
    func: FuncContext,
) -> Result<(Catalog, String), Error> {
    let mut next = current.clone();
    let mut ctx = DdlContext {
        partitions: parts,
        hashinator: &shared.hashinator,
        func,
        partition_first_column: work.partition_first_column,
    };
    let db = work.database.as_str();
    let tag = match &work.statement {
        Statement::CreateTable(ct) => ddl::create_table(&mut next, db, ct, &mut ctx)?,
        Statement::PartitionTable { table, column } => ddl::partition_table(&mut next, db, table, column, &mut ctx)?,
        Statement::CreateIndex(ci) => ddl::create_index(&mut next, db, ci, &mut ctx)?,
        Statement::Drop {
            kind,
            name,
            if_exists,
            cascade,
        } => ddl::drop(&mut next, db, *kind, name, *if_exists, *cascade, &mut ctx)?,
        Statement::CreateView(cv) => ddl::create_view(&mut next, db, cv, &mut ctx)?,
        Statement::AlterTable(at) => ddl::alter_table(&mut next, db, at, &mut ctx)?,
        Statement::CreateDatabase { name, if_not_exists } => ddl::create_database(&mut next, name, *if_not_exists)?,
        Statement::DropDatabase { name, if_exists } => ddl::drop_database(&mut next, name, *if_exists, &mut ctx)?,
        _ => return Err(Error::Invalid("internal: not a DDL statement".into())),
    };
    next.version += 1;
    Ok((next, tag))
}
