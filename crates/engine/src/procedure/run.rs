//! Running a procedure body on a store: SQL statements in order, a Lua chunk's `run`, or a
//! Rust procedure. Every path ends the same way: committed tables, or an abort whose status
//! says who failed (the procedure, SQL, or something unexpected).

use voltrs_sql::apply::Store;
use voltrs_sql::procedures::{ProcSource, ProcStatement, ProcedureDef};
use voltrs_storage::{DataType, Value};

use super::native::{Executor, NativeBox, ProcedureContext, ProcedureError};
use crate::prepare::coerce_borrowed;
use crate::site::SiteLocal;
use crate::txn::{Aborted, AppStatus, Committed, Status, TxnResult};
use crate::work::{TxnEnv, run_statement};
use crate::{Error, Outcome, ResultColumn, ResultTable};

/// A statement's result as a table: DML gives one row with the number of rows changed.
pub(crate) fn outcome_table(o: Outcome) -> ResultTable {
    match o {
        Outcome::Rows(t) => t,
        Outcome::Modified(n) => ResultTable {
            columns: vec![ResultColumn {
                name: "modified_tuples".into(),
                ty: DataType::BigInt,
            }],
            rows: vec![vec![Value::Integer(n as i64)]],
        },
        Outcome::Done(_) => ResultTable::default(),
    }
}

/// Runs declared statements against the transaction's store.
struct StoreExecutor<'s, 'a> {
    store: &'s mut Store<'a>,
    env: &'s TxnEnv<'s>,
    statements: &'s [ProcStatement],
}

impl Executor for StoreExecutor<'_, '_> {
    fn execute(&mut self, stmt: usize, params: &[Value]) -> Result<ResultTable, Error> {
        let Some(s) = self.statements.get(stmt) else {
            return Err(Error::Invalid(format!("statement {stmt} is not declared")));
        };
        let values = coerce_borrowed(params, &s.plan.param_types)?;
        run_statement(self.store, self.env, &s.plan.bound, &values).map(outcome_table)
    }
}

/// Runs a procedure body with its parameter values (already converted to its types).
pub(crate) fn run_body(
    def: &ProcedureDef,
    params: &[Value],
    store: &mut Store,
    env: &TxnEnv,
    site: &mut SiteLocal,
) -> TxnResult {
    let mut exec = StoreExecutor {
        store,
        env,
        statements: &def.statements,
    };
    match &def.body {
        ProcSource::Sql | ProcSource::Default => {
            let mut tables = Vec::with_capacity(def.statements.len());
            let mut rest = params;
            for (i, s) in def.statements.iter().enumerate() {
                let (mine, after) = rest.split_at(s.plan.param_types.len().min(rest.len()));
                rest = after;
                tables.push(exec.execute(i, mine).map_err(Aborted::graceful)?);
            }
            Ok(committed(tables, AppStatus::default()))
        }
        ProcSource::Native(any) => {
            let Some(NativeBox(proc)) = any.downcast_ref::<NativeBox>() else {
                return Err(unexpected("internal: a native procedure of an unknown kind".into()));
            };
            let mut cx = ProcedureContext {
                exec: &mut exec,
                statements: &def.statements,
                queued: Vec::new(),
                unique_id: env.txn.unique_id,
                timestamp: env.txn.timestamp(),
                app_status: AppStatus::default(),
            };
            let mut r = proc.run(&mut cx, params);
            if r.is_ok() && !cx.queued.is_empty() {
                r = Err(ProcedureError::Abort(format!(
                    "the procedure returned with {} queued statement{} not executed",
                    cx.queued.len(),
                    if cx.queued.len() == 1 { "" } else { "s" }
                )));
            }
            let app_status = cx.app_status;
            match r {
                Ok(tables) => Ok(committed(tables, app_status)),
                Err(ProcedureError::Abort(m)) => Err(Aborted {
                    status: Status::UserAbort,
                    error: Error::Invalid(m),
                    app_status,
                }),
                Err(ProcedureError::Sql(e)) => Err(Aborted {
                    status: Status::GracefulFailure,
                    error: e,
                    app_status,
                }),
            }
        }
        ProcSource::Lua(source) => lua(def, source, params, &mut exec, env, site),
    }
}

fn committed(tables: Vec<ResultTable>, app_status: AppStatus) -> Committed {
    Committed {
        outcomes: tables.into_iter().map(Outcome::Rows).collect(),
        app_status,
    }
}

fn unexpected(message: String) -> Aborted {
    Aborted::new(Status::UnexpectedFailure, Error::Invalid(message))
}

/// Lets a Lua procedure run its declared statements.
struct LuaBridge<'e> {
    exec: &'e mut dyn Executor,
}

impl crate::lua::LuaHost for LuaBridge<'_> {
    fn execute(&mut self, batch: Vec<crate::lua::Queued>, _final_batch: bool) -> Result<Vec<ResultTable>, Error> {
        batch
            .into_iter()
            .map(|q| self.exec.execute(q.stmt, &q.params))
            .collect()
    }
}

fn lua(
    def: &ProcedureDef,
    source: &std::sync::Arc<str>,
    params: &[Value],
    exec: &mut dyn Executor,
    env: &TxnEnv,
    site: &mut SiteLocal,
) -> TxnResult {
    use crate::lua::{LuaFailure, LuaProcedure, LuaSite, TxnInfo};
    if site.lua.is_none() {
        site.lua = Some(LuaSite::new(site.lua_limits).map_err(|e| unexpected(e.to_string()))?);
    }
    let Some(lua) = site.lua.as_mut() else {
        return Err(unexpected("internal: no Lua state".into()));
    };
    let proc = LuaProcedure {
        name: def.name.clone(),
        version: source_version(source),
        source: source.clone(),
        param_types: def.params.iter().map(|(_, t)| *t).collect(),
    };
    let txn = TxnInfo {
        unique_id: env.txn.unique_id,
        timestamp: env.txn.timestamp(),
        seed: env.txn.seed(),
    };
    let mut host = LuaBridge { exec };
    match lua.call(&proc, txn, params, env.read_only, &mut host) {
        Ok(out) => Ok(committed(
            out.tables,
            out.app_status
                .map(|(code, message)| AppStatus { code, message })
                .unwrap_or_default(),
        )),
        Err(e) => {
            let app_status = e
                .app_status
                .clone()
                .map(|(code, message)| AppStatus { code, message })
                .unwrap_or_default();
            let (status, error) = match e.failure {
                LuaFailure::UserAbort(m) | LuaFailure::Expectation(m) => (Status::UserAbort, Error::Invalid(m)),
                LuaFailure::Sql(e) => (Status::GracefulFailure, e),
                LuaFailure::Limit(m) | LuaFailure::Runtime(m) => (Status::UnexpectedFailure, Error::Invalid(m)),
            };
            Err(Aborted {
                status,
                error,
                app_status,
            })
        }
    }
}

/// Identifies a Lua source for the compiled-chunk cache: equal sources share a chunk.
fn source_version(source: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    source.hash(&mut h);
    h.finish()
}
