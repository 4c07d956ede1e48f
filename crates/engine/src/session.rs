//! Sessions: the per-connection state (current database, options) and statement dispatch.

use std::sync::Arc;
use std::time::Duration;

use voltrs_sql::binder::Bound;
use voltrs_sql::catalog::{Catalog, DEFAULT_DATABASE};
use voltrs_sql::parser::{Parsed, Statement, parse_script};
use voltrs_sql::planner::explain;
use voltrs_sql::route::{Route, route};
use voltrs_storage::Value;

use crate::database::Database;
use crate::ddl::{DdlOp, DdlWork};
use crate::permissions::Permissions;
use crate::plan_cache::CachedPlan;
use crate::stats::PlannerStats;
use crate::txn::{Status, TxnResult};
use crate::work::{Planned, Work};
use crate::{Error, Outcome, ResultColumn, ResultTable};

use crate::call::MAX_RESTARTS;

pub struct Session {
    pub(crate) db: Database,
    pub(crate) database: String,
    pub(crate) partition_first_column: bool,
    pub(crate) timeout: Option<Duration>,
    plan_cache: bool,
    /// An admin session (VoltDB's admin port) may write while the database is paused.
    pub(crate) admin: bool,
    /// What the logged-in user may do; `None` (security off) allows everything.
    pub(crate) permissions: Option<Arc<Permissions>>,
    /// Set when a frontend can cancel this session's work.
    pub(crate) cancel: Option<crate::CancelFlag>,
}

impl Session {
    pub(crate) fn new(db: Database) -> Session {
        Session {
            db,
            database: DEFAULT_DATABASE.to_string(),
            partition_first_column: false,
            timeout: None,
            plan_cache: true,
            admin: false,
            permissions: None,
            cancel: None,
        }
    }

    /// A new session of the same database with this one's settings (its current database,
    /// user, admin flag, timeout), for running a call on another thread.
    pub fn fork(&self) -> Session {
        Session {
            db: self.db.clone(),
            database: self.database.clone(),
            partition_first_column: self.partition_first_column,
            timeout: self.timeout,
            plan_cache: self.plan_cache,
            admin: self.admin,
            permissions: self.permissions.clone(),
            cancel: self.cancel.clone(),
        }
    }

    /// The flag that cancels this session's work (see [`crate::CancelFlag`]), made on first
    /// use; forks share it.
    pub fn cancel_flag(&mut self) -> crate::CancelFlag {
        self.cancel.get_or_insert_with(Default::default).clone()
    }

    /// Switches the current database without checking that it exists (a frontend passing
    /// on a `USE` that already succeeded on a fork).
    pub fn set_database(&mut self, name: &str) {
        self.database = name.to_string();
    }

    /// Limits this session to what a user may do (security on); `None` allows everything.
    pub fn set_permissions(&mut self, permissions: Option<Arc<Permissions>>) {
        self.permissions = permissions;
    }

    /// Fails unless the session's user may run this statement.
    pub(crate) fn check_statement(&self, stmt: &Statement) -> Result<(), Error> {
        let Some(p) = &self.permissions else {
            return Ok(());
        };
        let (write, ddl) = match stmt {
            // A procedure call checks the procedure's own permission.
            Statement::Use { .. } | Statement::Exec { .. } => return Ok(()),
            Statement::Query(_) | Statement::Explain(_) => (false, false),
            Statement::Insert { .. } | Statement::Update(_) | Statement::Delete(_) | Statement::Truncate { .. } => {
                (true, false)
            }
            _ => (true, true),
        };
        p.check_sql(write, ddl)
    }

    /// Marks this session as an administrator's (VoltDB's admin port): it may write while
    /// the database is paused.
    pub fn set_admin(&mut self, on: bool) {
        self.admin = on;
    }

    /// Partition every table created in this session on its first column where VoltDB's rules
    /// allow it (UNIQUE keys without that column become ASSUMEUNIQUE). Used by `voltrs-slt`.
    pub fn set_partition_first_column(&mut self, on: bool) {
        self.partition_first_column = on;
    }

    /// Time limit of this session's read-only statements, replacing the database's query
    /// timeout (`None`: the database's). Writes are never timed out (as in VoltDB: a
    /// timeout would make replicas and replay diverge).
    pub fn set_statement_timeout(&mut self, limit: Option<Duration>) {
        self.timeout = limit;
    }

    /// Whether this session's queries and DML go through the database's plan cache (default
    /// on). Off, every statement is bound as written and the cache is not touched.
    pub fn set_plan_cache(&mut self, on: bool) {
        self.plan_cache = on;
    }

    /// The session's current database (`USE`).
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs a `;`-separated script, stopping at the first failing statement (the statements
    /// before it stay applied; see [`Session::execute_script`] to get their outcomes too).
    pub fn execute_sql(&mut self, sql: &str) -> Result<Vec<Outcome>, Error> {
        let (outcomes, error) = self.execute_script(sql);
        match error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// Runs a `;`-separated script, stopping at the first failing statement; returns the
    /// outcomes of the statements that ran and the error that stopped it, if any. A script
    /// that does not parse runs nothing.
    pub fn execute_script(&mut self, sql: &str) -> (Vec<Outcome>, Option<Error>) {
        self.execute_script_with_params(sql, &[])
    }

    /// Runs a statement or a script whose `?` / `$n` markers take `params`, stopping at the
    /// first failing statement. Markers are numbered per statement (`?` in text order, or
    /// `$1`, `$2`, ...); the statements take the values in order, each as many as it has
    /// markers, and the total must match. Each value is converted to the type its context
    /// gives the marker (see `voltrs_sql::binder::ParamMode`).
    pub fn execute_with_params(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Outcome>, Error> {
        let (outcomes, error) = self.execute_script_with_params(sql, params);
        match error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// [`Session::execute_with_params`], returning the outcomes of the statements that ran
    /// and the error that stopped the script, if any. A wrong number of values runs nothing.
    pub fn execute_script_with_params(&mut self, sql: &str, params: &[Value]) -> (Vec<Outcome>, Option<Error>) {
        let statements = match parse_script(sql) {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let wanted: usize = statements.iter().map(|s| s.params).sum();
        if wanted != params.len() {
            let e = Error::Invalid(format!(
                "the statement{} take{} {wanted} parameter value{} but {} {} given",
                if statements.len() == 1 { "" } else { "s" },
                if statements.len() == 1 { "s" } else { "" },
                if wanted == 1 { "" } else { "s" },
                params.len(),
                if params.len() == 1 { "was" } else { "were" }
            ));
            return (Vec::new(), Some(e));
        }
        let mut out = Vec::with_capacity(statements.len());
        let mut rest = params;
        for s in statements {
            let (mine, after) = rest.split_at(s.params.min(rest.len()));
            rest = after;
            let cacheable = s.operator_depth <= crate::prepare::MAX_CACHED_DEPTH;
            match self.execute(&s, cacheable, mine) {
                Ok(o) => out.push(o),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn execute(&mut self, parsed: &Parsed, cacheable: bool, params: &[Value]) -> Result<Outcome, Error> {
        let mut last = None;
        for _ in 0..MAX_RESTARTS {
            let catalog = self.db.shared.catalog();
            let (route, work) = match self.plan(&catalog, &parsed.statement, parsed.params, cacheable, params)? {
                PlanOutcome::Done(o) => return Ok(o),
                PlanOutcome::Run(route, work) => (route, work),
            };
            let work = if work.read_only() {
                work
            } else {
                work.with_source(crate::work::Logged::adhoc(&self.database, &parsed.text, params))
            };
            if let Some(refused) = self.refuse_write(work.read_only()) {
                return Err(Error::Invalid(refused.status_string.unwrap_or_default()));
            }
            match self.db.shared.run(route, catalog.version, work) {
                Ok(c) => return Ok(c.outcomes.into_iter().next().unwrap_or(Outcome::Modified(0))),
                Err(a) if a.status == Status::TxnRestart => last = Some(a.error),
                Err(a) => return Err(a.error),
            }
        }
        Err(last.unwrap_or_else(|| Error::Invalid("the transaction was restarted too often".into())))
    }

    /// Plans one statement: its route and work, or its outcome when it needs no transaction.
    fn plan(
        &mut self,
        catalog: &Arc<Catalog>,
        stmt: &Statement,
        markers: usize,
        cacheable: bool,
        params: &[Value],
    ) -> Result<PlanOutcome, Error> {
        self.check_statement(stmt)?;
        // Statements about databases themselves work even if the current one was dropped.
        match stmt {
            Statement::Use { name } => {
                catalog.database(name)?;
                self.database = name.clone();
                return Ok(PlanOutcome::Done(Outcome::Done("USE".into())));
            }
            Statement::CreateDatabase { .. } | Statement::DropDatabase { .. } => {}
            _ => {
                catalog.database(&self.database)?;
            }
        }
        if markers > 0
            && !matches!(
                stmt,
                Statement::Query(_)
                    | Statement::Insert { .. }
                    | Statement::Update(_)
                    | Statement::Delete(_)
                    | Statement::Explain(_)
            )
        {
            return Err(Error::Invalid(
                "parameter markers are allowed only in queries, INSERT, UPSERT, UPDATE and DELETE".into(),
            ));
        }
        let ns = catalog.database(&self.database).cloned().unwrap_or_default();
        match stmt {
            Statement::Explain(_)
            | Statement::Query(_)
            | Statement::Insert { .. }
            | Statement::Update(_)
            | Statement::Delete(_) => {
                let explained = match stmt {
                    Statement::Explain(inner) => Some(inner.as_ref()),
                    _ => None,
                };
                let (plan, values) =
                    self.prepare_statement(catalog, explained.unwrap_or(stmt), markers, cacheable, params)?;
                if explained.is_some() {
                    return Ok(PlanOutcome::Done(explain_outcome(&plan.bound)));
                }
                let r = route(&plan.bound, &values, &self.db.shared.hashinator);
                Ok(PlanOutcome::Run(
                    r,
                    Work::Statements {
                        list: vec![Planned { plan, values }],
                        timeout: self.timeout,
                        cancel: self.cancel.clone(),
                        source: None,
                    },
                ))
            }
            Statement::Truncate { table } => Ok(PlanOutcome::Run(
                Route::Multi,
                Work::Truncate {
                    table: ns.table(table)?.clone(),
                    source: None,
                },
            )),
            Statement::Use { .. } => Err(Error::Invalid("internal: USE reached planning".into())),
            Statement::Exec { name, args } => Ok(PlanOutcome::Done(self.exec_statement(name, args)?)),
            ddl_stmt => Ok(PlanOutcome::Run(
                Route::Multi,
                Work::Ddl(DdlWork {
                    source: None,
                    ops: vec![DdlOp::Statement(Box::new(ddl_stmt.clone()))],
                    database: self.database.clone(),
                    partition_first_column: self.partition_first_column,
                }),
            )),
        }
    }

    /// Binds a query or DML statement through the plan cache (or as written, with the cache
    /// off) and converts its parameter values.
    pub(crate) fn prepare_statement(
        &self,
        catalog: &Catalog,
        stmt: &Statement,
        markers: usize,
        cacheable: bool,
        params: &[Value],
    ) -> Result<(Arc<CachedPlan>, Vec<Value>), Error> {
        let shared = &self.db.shared;
        let ns = catalog.database(&self.database)?;
        let stats = PlannerStats {
            counts: &shared.row_counts,
            catalog,
        };
        let mut cache = shared.plan_cache();
        let mut cx = crate::prepare::Context {
            plan_cache: &mut cache,
            stats: &stats,
            catalog,
            ns,
            database: &self.database,
            cache: self.plan_cache && cacheable,
        };
        crate::prepare::prepare(&mut cx, stmt, markers, params)
    }

    /// Runs a transaction planned against `version` and waits for it.
    pub(crate) fn run_work(&self, route: Route, version: u64, work: Work) -> TxnResult {
        self.db.shared.run(route, version, work)
    }
}

/// A planned statement: already answered, or a transaction to run.
enum PlanOutcome {
    Done(Outcome),
    Run(Route, Work),
}

/// The plan of a bound statement as EXPLAIN's result: one row per line.
fn explain_outcome(bound: &Bound) -> Outcome {
    let lines = match bound {
        Bound::Query { plan, .. } => explain(Some(plan), None),
        Bound::Write(w) => explain(None, Some(w)),
    };
    Outcome::Rows(ResultTable {
        columns: vec![ResultColumn {
            name: "EXECUTION_PLAN".into(),
            ty: voltrs_storage::DataType::VARCHAR_MAX,
        }],
        rows: lines.into_iter().map(|l| vec![Value::str(&l)]).collect(),
    })
}
