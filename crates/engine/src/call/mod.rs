//! Invocations: `session.call(procedure, params)`, the path every frontend takes.
//!
//! 1. A name starting with `@` is a system procedure ([`system`]); `@AdHoc` plans SQL
//!    ([`adhoc`]).
//! 2. Otherwise the procedure is looked up case-insensitively: a stored procedure of the
//!    session's database, else a default procedure (`TABLE.insert`, ...).
//! 3. The parameter values are counted and converted to the procedure's types; a
//!    single-partition procedure is routed by its partitioning parameter (hashed as a value
//!    of the partition column, VoltDB's hashinator), any other runs on the MP coordinator.
//! 4. A transaction queued before DDL changed the catalog is planned again.

mod adhoc;
mod load;
mod snapshot;
mod system;

use std::sync::Arc;

use voltrs_sql::catalog::Catalog;
use voltrs_sql::exec::place_value;
use voltrs_sql::proc_parser::ExecArg;
use voltrs_sql::procedures::ProcedureDef;
use voltrs_sql::route::Route;
use voltrs_storage::{Decimal, Value};

use crate::database::Shared;
use crate::permissions::Permissions;
use crate::session::Session;
use crate::txn::{AppStatus, Status, TxnResult};
use crate::work::Work;
use crate::{Error, Outcome, ResultTable};

/// How often an invocation is planned again when DDL changed the catalog while it was
/// queued.
pub(crate) const MAX_RESTARTS: usize = 16;

/// The answer to an invocation, as VoltDB's clients see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: Status,
    /// Why it failed (`None` on success).
    pub status_string: Option<String>,
    pub app_status: AppStatus,
    /// One table per statement or per returned table.
    pub tables: Vec<ResultTable>,
}

impl Response {
    pub fn failure(status: Status, message: impl Into<String>) -> Response {
        Response {
            status,
            status_string: Some(message.into()),
            app_status: AppStatus::default(),
            tables: Vec::new(),
        }
    }

    pub(crate) fn from_result(r: TxnResult) -> Response {
        match r {
            Ok(c) => Response {
                status: Status::Success,
                status_string: None,
                app_status: c.app_status,
                tables: c
                    .outcomes
                    .into_iter()
                    .map(crate::procedure::run::outcome_table)
                    .collect(),
            },
            Err(a) => Response {
                status: a.status,
                status_string: Some(a.error.to_string()),
                app_status: a.app_status,
                tables: Vec::new(),
            },
        }
    }
}

impl Session {
    /// Invokes a procedure (stored, default or system) with parameter values and waits.
    pub fn call(&mut self, name: &str, params: &[Value]) -> Response {
        if let Some(sys) = name.strip_prefix('@') {
            return system::call(self, sys, params);
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.call_async(name, params.to_vec(), move |r| {
            let _ = tx.send(r);
        });
        rx.recv()
            .unwrap_or_else(|_| Response::failure(Status::ServerUnavailable, "the database stopped"))
    }

    /// Invokes a procedure without waiting: `reply` gets the response, on a site thread
    /// (keep it short: hand the response on). System procedures run before this returns.
    pub fn call_async(&mut self, name: &str, params: Vec<Value>, reply: impl FnOnce(Response) + Send + 'static) {
        if let Some(sys) = name.strip_prefix('@') {
            reply(system::call(self, sys, &params));
            return;
        }
        submit(self.new_call(name, params, None), MAX_RESTARTS, Box::new(reply));
    }

    /// Invokes a single-partition procedure on partition `partition` whatever its
    /// partitioning parameter hashes to: one leg of VoltDB's all-partition call.
    pub fn call_on_partition_async(
        &mut self,
        name: &str,
        partition: usize,
        params: Vec<Value>,
        reply: impl FnOnce(Response) + Send + 'static,
    ) {
        if partition >= self.db.shared.partition_count() {
            return reply(Response::failure(
                Status::GracefulFailure,
                format!(
                    "partition {partition} does not exist (the database has {} partitions)",
                    self.db.shared.partition_count()
                ),
            ));
        }
        submit(
            self.new_call(name, params, Some(partition)),
            MAX_RESTARTS,
            Box::new(reply),
        );
    }

    /// An invocation of this session's user in its current database.
    fn new_call(&self, name: &str, params: Vec<Value>, destination: Option<usize>) -> Call {
        Call {
            shared: self.db.shared.clone(),
            database: self.database.clone(),
            admin: self.admin,
            permissions: self.permissions.clone(),
            name: name.to_string(),
            params,
            destination,
            cancel: self.cancel.clone(),
        }
    }

    /// Finds a stored or default procedure by name (any case).
    pub(crate) fn resolve(&self, catalog: &Catalog, name: &str) -> Result<Arc<ProcedureDef>, Error> {
        resolve(&self.db.shared, catalog, &self.database, name)
    }

    pub(crate) fn refuse_write(&self, read_only: bool) -> Option<Response> {
        refuse_write(&self.db.shared, self.admin, read_only)
    }

    /// `EXEC name arg, ...` / `CALL name(arg, ...)` as a statement: the first result table.
    pub(crate) fn exec_statement(&mut self, name: &str, args: &[ExecArg]) -> Result<Outcome, Error> {
        let params: Vec<Value> = args.iter().map(exec_value).collect::<Result<_, _>>()?;
        let r = self.call(name, &params);
        if r.status != Status::Success {
            let message = r.status_string.unwrap_or_else(|| format!("{name} failed"));
            return Err(match r.status {
                Status::UserAbort => Error::Invalid(format!("{name} aborted: {message}")),
                _ => Error::Invalid(message),
            });
        }
        Ok(match r.tables.into_iter().next() {
            Some(t) => Outcome::Rows(t),
            None => Outcome::Done("EXEC".into()),
        })
    }
}

/// An EXEC literal as a value (converted to the parameter's type by the call).
fn exec_value(a: &ExecArg) -> Result<Value, Error> {
    Ok(match a {
        ExecArg::Null => Value::Null,
        ExecArg::Integer(i) => Value::Integer(*i),
        ExecArg::Number(text) => {
            if text.contains(['e', 'E']) {
                Value::Float(
                    text.parse::<f64>()
                        .map_err(|_| Error::Type(format!("{text} is not a number")))?,
                )
            } else {
                Value::Decimal(Decimal::parse(text).map_err(|e| Error::Type(format!("{text}: {e}")))?)
            }
        }
        ExecArg::String(s) => Value::str(s),
        ExecArg::Binary(b) => Value::Varbinary(b.clone().into()),
    })
}

/// One invocation on its way: everything needed to plan it again after a restart.
struct Call {
    shared: Arc<Shared>,
    database: String,
    admin: bool,
    permissions: Option<Arc<Permissions>>,
    name: String,
    params: Vec<Value>,
    /// The partition an all-partition leg runs on.
    destination: Option<usize>,
    cancel: Option<crate::CancelFlag>,
}

type ReplyFn = Box<dyn FnOnce(Response) + Send>;

/// Resolves, converts and routes an invocation and queues it; a transaction the catalog
/// changed under is planned and queued again (up to `attempts` times).
fn submit(call: Call, attempts: usize, reply: ReplyFn) {
    let catalog = call.shared.catalog();
    let def = match resolve(&call.shared, &catalog, &call.database, &call.name) {
        Ok(d) => d,
        Err(e) => return reply(Response::failure(refusal_status(&e), e.to_string())),
    };
    if let Some(p) = &call.permissions
        && let Err(e) = p.check_procedure(&def)
    {
        return reply(Response::failure(refusal_status(&e), e.to_string()));
    }
    let (route, values) = match bind_call(&call.shared, &catalog, &call.database, &def, &call.params) {
        Ok(x) => x,
        Err(e) => return reply(Response::failure(Status::GracefulFailure, e.to_string())),
    };
    let route = match (call.destination, route) {
        (None, route) => route,
        (Some(p), Route::Partition(_)) => Route::Partition(p),
        (Some(_), _) => {
            return reply(Response::failure(
                Status::GracefulFailure,
                format!(
                    "procedure {} is multi-partition: only a single-partition procedure can run on a chosen partition",
                    def.name
                ),
            ));
        }
    };
    if let Some(r) = refuse_write(&call.shared, call.admin, def.read_only) {
        return reply(r);
    }
    let shared = call.shared.clone();
    let work = Work::Procedure {
        def: def.clone(),
        params: values,
        cancel: call.cancel.clone(),
        database: call.database.clone(),
    };
    shared.submit(
        route,
        catalog.version,
        work,
        Box::new(move |r: TxnResult| match r {
            // Planned again off the site thread: queueing from here could wait on this
            // site's own full inbox.
            Err(a) if a.status == Status::TxnRestart && attempts > 1 => {
                let retry = std::thread::Builder::new()
                    .name("voltrs-restart".into())
                    .spawn(move || submit(call, attempts - 1, reply));
                if let Err(e) = retry {
                    report_restart_failure(&e);
                }
            }
            r => reply(Response::from_result(r)),
        }),
    );
}

/// A restart thread could not start (the process is out of threads); the caller's reply
/// was dropped with the closure, so it sees the database as stopped.
fn report_restart_failure(e: &std::io::Error) {
    eprintln!("voltrs: cannot restart a transaction: {e}");
}

/// The status of a call refused with `e` before it ran. VoltDB answers an unknown
/// procedure and a permission refusal with UNEXPECTED_FAILURE, the rest (bad SQL, bad
/// parameters, an unknown database) with GRACEFUL_FAILURE.
pub(crate) fn refusal_status(e: &Error) -> Status {
    match e {
        Error::Name(m) if m.ends_with("was not found") => Status::UnexpectedFailure,
        Error::Permission(_) => Status::UnexpectedFailure,
        _ => Status::GracefulFailure,
    }
}

/// Finds a stored or default procedure of database `db` by name (any case).
fn resolve(shared: &Shared, catalog: &Catalog, db: &str, name: &str) -> Result<Arc<ProcedureDef>, Error> {
    let ns = catalog.database(db)?;
    if let Some(def) = ns.procedures.get(&name.to_uppercase()) {
        return Ok(def.clone());
    }
    if let Some(def) = shared.cached_default(catalog.version, db, name) {
        return Ok(def);
    }
    match crate::procedure::default_procedure(catalog, db, name, shared) {
        Some(Ok(def)) => {
            let def = Arc::new(def);
            shared.cache_default(catalog.version, db, name, def.clone());
            Ok(def)
        }
        Some(Err(e)) => Err(e),
        None => Err(Error::Name(format!("Procedure {name} was not found"))),
    }
}

/// A failure response if the database does not take writes now (paused, or above its
/// memory limit) and the work may write.
fn refuse_write(shared: &Shared, admin: bool, read_only: bool) -> Option<Response> {
    if read_only {
        return None;
    }
    if shared.paused() && !admin {
        return Some(Response::failure(
            Status::ServerUnavailable,
            "Server is paused and is available in read-only mode - please try again later",
        ));
    }
    if let Some(refusal) = shared.log.get().and_then(|log| log.refusal()) {
        return Some(Response::failure(Status::GracefulFailure, refusal));
    }
    shared
        .memory_refusal()
        .map(|m| Response::failure(Status::GracefulFailure, m))
}

/// Converts the values to the procedure's parameter types and finds its route.
fn bind_call(
    shared: &Shared,
    catalog: &Catalog,
    db: &str,
    def: &ProcedureDef,
    params: &[Value],
) -> Result<(Route, Vec<Value>), Error> {
    if params.len() != def.params.len() {
        return Err(Error::Invalid(format!(
            "PROCEDURE {} EXPECTS {} PARAMS, BUT RECEIVED {}",
            def.name,
            def.params.len(),
            params.len()
        )));
    }
    let mut values = Vec::with_capacity(params.len());
    for (i, (v, (pname, ty))) in params.iter().zip(&def.params).enumerate() {
        if v.is_null() {
            values.push(Value::Null);
            continue;
        }
        let converted = crate::prepare::convert_param(v, *ty).map_err(|e| {
            Error::Type(format!(
                "procedure {} parameter {} ({pname} {}): {e}",
                def.name,
                i + 1,
                ty.name()
            ))
        })?;
        values.push(converted);
    }
    let route = match &def.partition {
        None => Route::Multi,
        Some(p) => {
            let table = catalog.database(db)?.table(&p.table)?;
            let v = values.get(p.parameter).cloned().unwrap_or(Value::Null);
            match place_value(table, &v, &shared.hashinator) {
                Some(Some(part)) => Route::Partition(part),
                // NULL goes to partition 0, as VoltDB's hashinator sends it.
                Some(None) => Route::Partition(0),
                None => {
                    return Err(Error::Type(format!(
                        "procedure {} cannot be routed: parameter {} value {v:?} is not a valid value of partition column {}.{}",
                        def.name,
                        p.parameter + 1,
                        p.table,
                        p.column
                    )));
                }
            }
        }
    };
    Ok((route, values))
}
