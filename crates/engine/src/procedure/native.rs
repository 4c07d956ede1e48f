//! Rust-native stored procedures, registered through the embedded API
//! ([`crate::Database::register_procedure`]).
//!
//! Like VoltDB's Java procedures: the SQL statements are declared up front (planned when the
//! procedure is registered and again after every DDL), the procedure queues statements with
//! parameter values and executes the batch, getting one table per statement; an `Err`
//! return, a failed expectation or a SQL error rolls back everything the transaction did.

use std::sync::Arc;

use voltrs_sql::procedures::ProcStatement;
use voltrs_storage::{DataType, Value};

use crate::txn::AppStatus;
use crate::{Error, ResultTable};

/// A stored procedure written in Rust.
pub trait NativeProcedure: Send + Sync + 'static {
    /// Runs one invocation. `params` are already converted to the declared types.
    fn run(&self, cx: &mut ProcedureContext<'_>, params: &[Value]) -> Result<Vec<ResultTable>, ProcedureError>;
}

/// What [`crate::Database::register_procedure`] needs.
#[derive(Clone)]
pub struct NativeSpec {
    pub name: String,
    /// Declared parameters: callers' values are converted to these types.
    pub params: Vec<(String, DataType)>,
    /// The SQL statements the procedure may queue, by index.
    pub statements: Vec<String>,
    /// `Some((table, column, parameter))` for a single-partition procedure.
    pub partition: Option<(String, String, usize)>,
    pub procedure: Arc<dyn NativeProcedure>,
}

/// Why a procedure stopped: it aborted itself, or a statement failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcedureError {
    /// The procedure chose to roll back (VoltDB's `VoltAbortException`): `USER_ABORT`.
    Abort(String),
    /// A statement failed (SQL, constraint or type error): `GRACEFUL_FAILURE`. A failed
    /// expectation is an [`ProcedureError::Abort`]. A procedure may also handle this error
    /// itself and go on: the failed statement changed nothing, as when a Java procedure
    /// catches VoltDB's exception.
    Sql(Error),
}

/// VoltDB's statement expectations: checked when the batch executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    OneRow,
    ZeroOrOneRow,
    Empty,
    NonEmpty,
    /// One row of one column.
    Scalar,
    /// One row of one integer column equal to the value.
    ScalarMatch(i64),
}

impl Expectation {
    /// Checks a statement's result; the message says what was expected.
    pub fn check(self, t: &ResultTable) -> Result<(), String> {
        let n = t.rows.len();
        let ok = match self {
            Expectation::OneRow => n == 1,
            Expectation::ZeroOrOneRow => n <= 1,
            Expectation::Empty => n == 0,
            Expectation::NonEmpty => n > 0,
            Expectation::Scalar => n == 1 && t.columns.len() == 1,
            Expectation::ScalarMatch(v) => {
                n == 1 && t.columns.len() == 1 && matches!(t.rows[0].first(), Some(Value::Integer(x)) if *x == v)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "expected {self:?} but the statement returned {n} row{}",
                if n == 1 { "" } else { "s" }
            ))
        }
    }
}

/// The boxed form the catalog keeps (`ProcSource::Native`).
pub(crate) struct NativeBox(pub Arc<dyn NativeProcedure>);

/// Runs queued statements for a procedure (shared with Lua procedures).
pub(crate) trait Executor {
    fn execute(&mut self, stmt: usize, params: &[Value]) -> Result<ResultTable, Error>;
}

/// What a native procedure can do during its transaction.
pub struct ProcedureContext<'a> {
    pub(crate) exec: &'a mut dyn Executor,
    pub(crate) statements: &'a [ProcStatement],
    pub(crate) queued: Vec<(usize, Vec<Value>, Option<Expectation>)>,
    pub(crate) unique_id: i64,
    pub(crate) timestamp: i64,
    pub(crate) app_status: AppStatus,
}

impl ProcedureContext<'_> {
    /// Queues declared statement `stmt` with its parameter values.
    pub fn queue(&mut self, stmt: usize, params: Vec<Value>) {
        self.queued.push((stmt, params, None));
    }

    /// Queues a statement whose result must meet `expect`.
    pub fn queue_expect(&mut self, stmt: usize, expect: Expectation, params: Vec<Value>) {
        self.queued.push((stmt, params, Some(expect)));
    }

    /// Runs the queued statements in order; one table per statement (DML: one row with
    /// the count of rows changed).
    pub fn execute(&mut self) -> Result<Vec<ResultTable>, ProcedureError> {
        let queued = std::mem::take(&mut self.queued);
        let mut out = Vec::with_capacity(queued.len());
        for (stmt, params, expect) in queued {
            let Some(decl) = self.statements.get(stmt) else {
                return Err(ProcedureError::Sql(Error::Invalid(format!(
                    "statement index {stmt} is not declared (the procedure declares {}, indexed from 0)",
                    self.statements.len()
                ))));
            };
            let table = self.exec.execute(stmt, &params).map_err(ProcedureError::Sql)?;
            if let Some(e) = expect {
                e.check(&table)
                    .map_err(|m| ProcedureError::Abort(format!("statement {stmt} ({}): {m}", decl.text)))?;
            }
            out.push(table);
        }
        Ok(out)
    }

    /// The transaction's timestamp in microseconds (never the wall clock: replicas agree).
    pub fn transaction_time(&self) -> i64 {
        self.timestamp
    }

    pub fn unique_id(&self) -> i64 {
        self.unique_id
    }

    /// Sets the application status the caller receives.
    pub fn set_app_status(&mut self, code: i8, message: Option<String>) {
        self.app_status = AppStatus { code, message };
    }
}
