//! Sessions: the per-connection state (current database, options) and statement dispatch.

use std::time::{Duration, Instant};

use voltrs_sql::apply::{WriteInputs, apply_write};
use voltrs_sql::binder::{Binder, Bound};
use voltrs_sql::catalog::DEFAULT_DATABASE;
use voltrs_sql::ddl::{self, DdlContext};
use voltrs_sql::exec::{ExecContext, execute};
use voltrs_sql::functions::FuncContext;
use voltrs_sql::parser::{Statement, parse_script};
use voltrs_sql::planner::explain;

use crate::database::{Database, State};
use crate::{Error, Outcome, ResultColumn, ResultTable};

pub struct Session {
    db: Database,
    database: String,
    partition_first_column: bool,
    timeout: Option<Duration>,
}

impl Session {
    pub(crate) fn new(db: Database) -> Session {
        Session {
            db,
            database: DEFAULT_DATABASE.to_string(),
            partition_first_column: false,
            timeout: None,
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
        let statements = match parse_script(sql) {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::with_capacity(statements.len());
        for s in statements {
            match self.execute(&s.statement) {
                Ok(o) => out.push(o),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn execute(&mut self, stmt: &Statement) -> Result<Outcome, Error> {
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
        let ns = catalog.database(&self.database).cloned().unwrap_or_default();
        match stmt {
            Statement::Explain(inner) => {
                let mut binder = Binder::new(&catalog, &ns, state);
                let lines = match inner.as_ref() {
                    Statement::Query(q) => match binder.bind_query(q)? {
                        Bound::Query { plan, .. } => explain(Some(&plan), None),
                        Bound::Write(w) => explain(None, Some(&w)),
                    },
                    Statement::Insert { insert, upsert } => explain(None, Some(&binder.bind_insert(insert, *upsert)?)),
                    Statement::Update(u) => explain(None, Some(&binder.bind_update(u)?)),
                    Statement::Delete(d) => explain(None, Some(&binder.bind_delete(d)?)),
                    _ => return Err(Error::Invalid("EXPLAIN takes a query or a DML statement".into())),
                };
                Ok(Outcome::Rows(ResultTable {
                    columns: vec![ResultColumn {
                        name: "EXECUTION_PLAN".into(),
                        ty: voltrs_storage::DataType::VARCHAR_MAX,
                    }],
                    rows: lines
                        .into_iter()
                        .map(|l| vec![voltrs_storage::Value::str(&l)])
                        .collect(),
                }))
            }
            Statement::Query(q) => {
                let bound = Binder::new(&catalog, &ns, state).bind_query(q)?;
                let Bound::Query { plan, columns } = bound else {
                    return Err(Error::Invalid("internal: a query bound to a write".into()));
                };
                let ctx = ExecContext::new(&state.partitions, &state.hashinator, &[], func, deadline);
                let rows = execute(&plan, &ctx, None)?;
                Ok(Outcome::Rows(ResultTable { columns, rows }))
            }
            Statement::Insert { insert, upsert } => {
                let w = Binder::new(&catalog, &ns, state).bind_insert(insert, *upsert)?;
                self.write(state, &w, func, deadline)
            }
            Statement::Update(u) => {
                let w = Binder::new(&catalog, &ns, state).bind_update(u)?;
                self.write(state, &w, func, deadline)
            }
            Statement::Delete(d) => {
                let w = Binder::new(&catalog, &ns, state).bind_delete(d)?;
                self.write(state, &w, func, deadline)
            }
            Statement::Truncate { table } => {
                let t = ns.table(table)?.clone();
                Ok(Outcome::Modified(voltrs_sql::apply::truncate(
                    &t,
                    &mut state.partitions,
                )?))
            }
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
                        kind, name, if_exists, ..
                    } => ddl::drop(&mut next, &db_name, *kind, name, *if_exists, &mut ctx)?,
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

    fn write(
        &self,
        state: &mut State,
        w: &voltrs_sql::binder::BoundWrite,
        func: FuncContext,
        deadline: Option<(Instant, u64)>,
    ) -> Result<Outcome, Error> {
        let inputs = WriteInputs {
            hashinator: &state.hashinator,
            params: &[],
            func,
            deadline,
        };
        let n = apply_write(w, &mut state.partitions, &inputs)?;
        Ok(Outcome::Modified(n))
    }
}
