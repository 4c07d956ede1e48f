//! `@AdHoc(sql [, params...])`: a `;`-separated batch run as one transaction.
//!
//! The batch is single-partition only if every statement reads only replicated tables or is
//! pinned by its partition column to one partition (and none writes a replicated table);
//! see [`voltrs_sql::route`]. DDL batches run as one multi-partition barrier, checked as a
//! whole on empty storage first; a batch may not mix DDL with queries or DML. `EXEC` and
//! `CALL` are refused inside a batch.

use voltrs_sql::parser::{Parsed, Statement, parse_script};
use voltrs_sql::route::{Route, route};
use voltrs_storage::Value;

use super::{MAX_RESTARTS, Response};
use crate::Error;
use crate::ddl::{DdlOp, DdlWork};
use crate::session::Session;
use crate::txn::Status;
use crate::work::{Planned, Work};

pub(super) fn call(session: &mut Session, params: &[Value]) -> Response {
    let Some(Value::Varchar(sql)) = params.first() else {
        return Response::failure(
            Status::GracefulFailure,
            "@AdHoc takes the SQL text as its first parameter (a string)",
        );
    };
    let sql = sql.to_string();
    match run(session, &sql, &params[1..]) {
        Ok(r) => r,
        Err(e) => Response::failure(super::refusal_status(&e), e.to_string()),
    }
}

fn is_ddl(s: &Statement) -> bool {
    matches!(
        s,
        Statement::CreateTable(_)
            | Statement::PartitionTable { .. }
            | Statement::CreateIndex(_)
            | Statement::CreateView(_)
            | Statement::Drop { .. }
            | Statement::AlterTable(_)
            | Statement::CreateDatabase { .. }
            | Statement::DropDatabase { .. }
            | Statement::CreateProcedure(_)
            | Statement::DropProcedure { .. }
            | Statement::PartitionProcedure { .. }
    )
}

fn run(session: &mut Session, sql: &str, params: &[Value]) -> Result<Response, Error> {
    let statements = parse_script(sql)?;
    if statements.is_empty() {
        return Err(Error::Invalid("@AdHoc was given no SQL statement".into()));
    }
    let wanted: usize = statements.iter().map(|s| s.params).sum();
    if wanted != params.len() {
        return Err(Error::Invalid(format!(
            "the @AdHoc batch takes {wanted} parameter value{} but {} {} given",
            if wanted == 1 { "" } else { "s" },
            params.len(),
            if params.len() == 1 { "was" } else { "were" }
        )));
    }
    if statements.iter().any(|s| matches!(s.statement, Statement::Exec { .. })) {
        return Err(Error::Invalid(
            "EXEC and CALL cannot run inside an @AdHoc batch: invoke the procedure itself".into(),
        ));
    }
    for s in &statements {
        session.check_statement(&s.statement)?;
    }
    let ddl = statements.iter().filter(|s| is_ddl(&s.statement)).count();
    if ddl > 0 && ddl < statements.len() {
        return Err(Error::Invalid(
            "DDL mixed with DML and queries is unsupported: send DDL in its own @AdHoc batch".into(),
        ));
    }
    if ddl > 0 {
        return Ok(run_ddl(session, statements));
    }
    if let [single] = statements.as_slice()
        && !matches!(
            single.statement,
            Statement::Query(_) | Statement::Insert { .. } | Statement::Update(_) | Statement::Delete(_)
        )
    {
        // USE, EXPLAIN, TRUNCATE: as a session statement.
        let outcomes = session.execute_with_params(&single.text, params)?;
        return Ok(Response::from_result(Ok(crate::txn::Committed {
            outcomes,
            app_status: Default::default(),
        })));
    }
    for s in &statements {
        if !matches!(
            s.statement,
            Statement::Query(_) | Statement::Insert { .. } | Statement::Update(_) | Statement::Delete(_)
        ) {
            return Err(Error::Invalid(format!(
                "\"{}\" cannot be part of a multi-statement @AdHoc batch",
                s.text
            )));
        }
    }
    run_dml(session, &statements, params)
}

fn run_dml(session: &mut Session, statements: &[Parsed], params: &[Value]) -> Result<Response, Error> {
    let mut last = None;
    for _ in 0..MAX_RESTARTS {
        let catalog = session.db.shared.catalog();
        let mut list = Vec::with_capacity(statements.len());
        let mut r = Route::Anywhere;
        let mut rest = params;
        for s in statements {
            let (mine, after) = rest.split_at(s.params.min(rest.len()));
            rest = after;
            let cacheable = s.operator_depth <= crate::prepare::MAX_CACHED_DEPTH;
            let (plan, values) = session.prepare_statement(&catalog, &s.statement, s.params, cacheable, mine)?;
            r = r.and(route(&plan.bound, &values, &session.db.shared.hashinator));
            list.push(Planned { plan, values });
        }
        let work = Work::Statements {
            list,
            timeout: session.timeout,
            cancel: session.cancel.clone(),
            source: None,
        };
        let work = if work.read_only() {
            work
        } else {
            work.with_source(crate::work::Logged::adhoc(
                &session.database,
                &batch_text(statements),
                params,
            ))
        };
        if let Some(refused) = session.refuse_write(work.read_only()) {
            return Ok(refused);
        }
        match session.run_work(r, catalog.version, work) {
            Err(a) if a.status == Status::TxnRestart => last = Some(a),
            result => return Ok(Response::from_result(result)),
        }
    }
    Ok(Response::from_result(Err(
        last.unwrap_or_else(crate::txn::Aborted::restart)
    )))
}

/// A batch's statements as one text that parses back to them.
fn batch_text(statements: &[Parsed]) -> String {
    let texts: Vec<&str> = statements.iter().map(|s| s.text.as_str()).collect();
    texts.join(";\n")
}

fn run_ddl(session: &mut Session, statements: Vec<Parsed>) -> Response {
    if let Some(r) = session.refuse_write(false) {
        return r;
    }
    let catalog = session.db.shared.catalog();
    let source = crate::work::Logged::adhoc(&session.database, &batch_text(&statements), &[]);
    let work = Work::Ddl(DdlWork {
        source: Some(source),
        ops: statements
            .into_iter()
            .map(|s| DdlOp::Statement(Box::new(s.statement)))
            .collect(),
        database: session.database.clone(),
        partition_first_column: session.partition_first_column,
    });
    Response::from_result(session.run_work(Route::Multi, catalog.version, work))
}
