//! Prepared statements: a query or DML statement bound once, run many times with new
//! parameter values and no parsing or binding. The path stored procedures take.

use std::sync::Arc;

use voltrs_sql::parser::{Statement, parse_script};
use voltrs_sql::route::Route;
use voltrs_storage::{DataType, Value};

use crate::plan_cache::CachedPlan;
use crate::prepare::{Context, bind_as_written, coerce_explicit};
use crate::work::{Planned, Work};
use crate::{Error, Outcome, Session};

/// A statement bound against one catalog version; its `?` / `$n` markers take values at
/// each run.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    plan: Arc<CachedPlan>,
    /// The statement as written (the command log records it with the values).
    text: String,
    version: u64,
    database: String,
}

impl PreparedStatement {
    /// The types the statement's parameters were inferred to have, in marker order.
    pub fn param_types(&self) -> &[DataType] {
        &self.plan.param_types
    }

    /// The result columns of a query; empty for a write (it answers a row count).
    pub fn columns(&self) -> &[crate::ResultColumn] {
        match &self.plan.bound {
            voltrs_sql::binder::Bound::Query { columns, .. } => columns,
            voltrs_sql::binder::Bound::Write(_) => &[],
        }
    }
}

impl Session {
    /// Binds one query or DML statement for repeated runs with [`Session::execute_prepared`].
    pub fn prepare(&mut self, sql: &str) -> Result<PreparedStatement, Error> {
        let mut statements = parse_script(sql)?;
        if statements.len() != 1 {
            return Err(Error::Invalid(format!(
                "a prepared statement is exactly one statement, got {}",
                statements.len()
            )));
        }
        let parsed = statements.remove(0);
        // The user's permissions apply when the statement is prepared.
        self.check_statement(&parsed.statement)?;
        if !matches!(
            parsed.statement,
            Statement::Query(_) | Statement::Insert { .. } | Statement::Update(_) | Statement::Delete(_)
        ) {
            return Err(Error::Invalid(
                "only SELECT, INSERT, UPSERT, UPDATE and DELETE can be prepared".into(),
            ));
        }
        let catalog = self.db.shared.catalog();
        let ns = catalog.database(&self.database)?.clone();
        let stats = crate::stats::PlannerStats {
            counts: &self.db.shared.row_counts,
            catalog: &catalog,
        };
        let mut cache = crate::plan_cache::PlanCache::default();
        let cx = Context {
            plan_cache: &mut cache,
            stats: &stats,
            catalog: &catalog,
            ns: &ns,
            database: &self.database,
            cache: false,
        };
        let plan = bind_as_written(&cx, &parsed.statement)?;
        Ok(PreparedStatement {
            text: parsed.text.clone(),
            plan: Arc::new(plan),
            version: catalog.version,
            database: self.database.clone(),
        })
    }

    /// Runs a prepared statement with `params` (one value per marker, converted to the
    /// marker's type). Fails if DDL changed the schema since it was prepared.
    pub fn execute_prepared(&mut self, stmt: &PreparedStatement, params: &[Value]) -> Result<Outcome, Error> {
        let (route, version, work) = self.prepared_work(stmt, params)?;
        prepared_outcome(self.run_work(route, version, work))
    }

    /// Like [`Session::execute_prepared`], without waiting: `reply` gets the outcome, on a
    /// site thread (keep it short: hand the outcome on).
    pub fn execute_prepared_async(
        &self,
        stmt: &PreparedStatement,
        params: &[Value],
        reply: impl FnOnce(Result<Outcome, Error>) + Send + 'static,
    ) {
        match self.prepared_work(stmt, params) {
            Ok((route, version, work)) => {
                self.db
                    .shared
                    .submit(route, version, work, Box::new(move |r| reply(prepared_outcome(r))))
            }
            Err(e) => reply(Err(e)),
        }
    }

    /// The transaction that runs a prepared statement: its route, catalog version and work.
    fn prepared_work(&self, stmt: &PreparedStatement, params: &[Value]) -> Result<(Route, u64, Work), Error> {
        let values = coerce_explicit(params, &stmt.plan.param_types)?;
        let catalog = self.db.shared.catalog();
        if catalog.version != stmt.version || catalog.database(&stmt.database).is_err() {
            return Err(schema_changed());
        }
        let read_only = matches!(stmt.plan.bound, voltrs_sql::binder::Bound::Query { .. });
        if let Some(refused) = self.refuse_write(read_only) {
            return Err(Error::Invalid(refused.status_string.unwrap_or_default()));
        }
        let route = voltrs_sql::route::route(&stmt.plan.bound, &values, &self.db.shared.hashinator);
        let work = Work::Statements {
            list: vec![Planned {
                plan: stmt.plan.clone(),
                values,
            }],
            timeout: self.timeout,
            cancel: self.cancel.clone(),
            source: None,
        };
        let work = if read_only {
            work
        } else {
            work.with_source(crate::work::Logged::adhoc(&stmt.database, &stmt.text, params))
        };
        Ok((route, catalog.version, work))
    }
}

fn schema_changed() -> Error {
    Error::Invalid("the schema changed since this statement was prepared: prepare it again".into())
}

/// A prepared statement's transaction result as its outcome.
fn prepared_outcome(r: crate::txn::TxnResult) -> Result<Outcome, Error> {
    match r {
        Ok(c) => Ok(c.outcomes.into_iter().next().unwrap_or(Outcome::Modified(0))),
        Err(a) if a.status == crate::txn::Status::TxnRestart => Err(schema_changed()),
        Err(a) => Err(a.error),
    }
}
