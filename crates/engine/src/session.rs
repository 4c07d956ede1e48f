//! Sessions: the per-connection state (current database, options) and statement dispatch.

use std::time::{Duration, Instant};

use voltrs_sql::apply::{WriteInputs, apply_write};
use voltrs_sql::binder::Bound;
use voltrs_sql::catalog::DEFAULT_DATABASE;
use voltrs_sql::ddl::{self, DdlContext};
use voltrs_sql::exec::{ExecContext, execute};
use voltrs_sql::functions::FuncContext;
use voltrs_sql::parser::{Statement, parse_script};
use voltrs_sql::planner::explain;
use voltrs_storage::Value;

use crate::database::{Database, State};
use crate::{Error, Outcome, ResultColumn, ResultTable};

pub struct Session {
    pub(crate) db: Database,
    pub(crate) database: String,
    partition_first_column: bool,
    pub(crate) timeout: Option<Duration>,
    plan_cache: bool,
}

impl Session {
    pub(crate) fn new(db: Database) -> Session {
        Session {
            db,
            database: DEFAULT_DATABASE.to_string(),
            partition_first_column: false,
            timeout: None,
            plan_cache: true,
        }
    }

    /// Partition every table created in this session on its first column where VoltDB's rules
    /// allow it (UNIQUE keys without that column become ASSUMEUNIQUE). Used by `voltrs-slt`.
    pub fn set_partition_first_column(&mut self, on: bool) {
        self.partition_first_column = on;
    }

    /// Time limit per statement (`None`: no limit).
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
            match self.execute(&s.statement, s.params, cacheable, mine) {
                Ok(o) => out.push(o),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn execute(
        &mut self,
        stmt: &Statement,
        markers: usize,
        cacheable: bool,
        params: &[Value],
    ) -> Result<Outcome, Error> {
        let db = self.db.clone();
        let mut guard = db.lock();
        let state: &mut State = &mut guard;
        let now = state.next_unique();
        let func = FuncContext { now, seed: now as u64 };
        let deadline = self.timeout.map(|t| (Instant::now() + t, t.as_millis() as u64));
        let catalog = state.catalog.clone();
        // Statements about databases themselves work even if the current one was dropped.
        match stmt {
            Statement::Use { name } => {
                catalog.database(name)?;
                self.database = name.clone();
                return Ok(Outcome::Done("USE".into()));
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
                let mut cx = crate::prepare::Context {
                    state,
                    catalog: &catalog,
                    ns: &ns,
                    database: &self.database,
                    cache: self.plan_cache && cacheable,
                };
                let (prepared, values) = crate::prepare::prepare(&mut cx, explained.unwrap_or(stmt), markers, params)?;
                if explained.is_some() {
                    return Ok(explain_outcome(&prepared.bound));
                }
                run_bound(state, &prepared.bound, &values, func, deadline)
            }
            Statement::Truncate { table } => {
                let t = ns.table(table)?.clone();
                Ok(Outcome::Modified(voltrs_sql::apply::truncate(
                    &t,
                    &mut state.partitions,
                )?))
            }
            Statement::CreateProcedure(_)
            | Statement::DropProcedure { .. }
            | Statement::PartitionProcedure { .. }
            | Statement::Exec { .. } => Err(Error::Invalid("stored procedures are not supported yet".into())),
            ddl_stmt => {
                let mut next = (*catalog).clone();
                let mut ctx = DdlContext {
                    partitions: &mut state.partitions,
                    hashinator: &state.hashinator,
                    func,
                    partition_first_column: self.partition_first_column,
                };
                let db_name = self.database.clone();
                let tag = match ddl_stmt {
                    Statement::CreateTable(ct) => ddl::create_table(&mut next, &db_name, ct, &mut ctx)?,
                    Statement::PartitionTable { table, column } => {
                        ddl::partition_table(&mut next, &db_name, table, column, &mut ctx)?
                    }
                    Statement::CreateIndex(ci) => ddl::create_index(&mut next, &db_name, ci, &mut ctx)?,
                    Statement::Drop {
                        kind,
                        name,
                        if_exists,
                        cascade,
                    } => ddl::drop(&mut next, &db_name, *kind, name, *if_exists, *cascade, &mut ctx)?,
                    Statement::CreateView(cv) => ddl::create_view(&mut next, &db_name, cv, &mut ctx)?,
                    Statement::AlterTable(at) => ddl::alter_table(&mut next, &db_name, at, &mut ctx)?,
                    Statement::CreateDatabase { name, if_not_exists } => {
                        ddl::create_database(&mut next, name, *if_not_exists)?
                    }
                    Statement::DropDatabase { name, if_exists } => {
                        ddl::drop_database(&mut next, name, *if_exists, &mut ctx)?
                    }
                    _ => return Err(Error::Invalid("internal: unhandled statement".into())),
                };
                next.version += 1;
                state.catalog = std::sync::Arc::new(next);
                Ok(Outcome::Done(tag))
            }
        }
    }
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

/// Runs a bound query or write with its parameter values.
pub(crate) fn run_bound(
    state: &mut State,
    bound: &Bound,
    values: &[Value],
    func: FuncContext,
    deadline: Option<(Instant, u64)>,
) -> Result<Outcome, Error> {
    match bound {
        Bound::Query { plan, columns } => {
            let ctx = ExecContext::new(&state.partitions, &state.hashinator, values, func, deadline);
            let rows = execute(plan, &ctx, None)?;
            Ok(Outcome::Rows(ResultTable {
                columns: columns.clone(),
                rows,
            }))
        }
        Bound::Write(w) => {
            let inputs = WriteInputs {
                hashinator: &state.hashinator,
                params: values,
                func,
                deadline,
            };
            Ok(Outcome::Modified(apply_write(w, &mut state.partitions, &inputs)?))
        }
    }
}
