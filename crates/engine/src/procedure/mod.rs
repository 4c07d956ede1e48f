//! Stored procedures: creating them (`CREATE PROCEDURE`, `DROP PROCEDURE`, the legacy
//! `PARTITION PROCEDURE`, Rust procedures registered through the embedded API), planning
//! them against each catalog version, and the default procedures every table gets.
//!
//! A procedure's statements are planned when it is created and again by every later DDL
//! statement ([`replan_all`]), which is refused, naming the procedure, if one of them no
//! longer plans. Running a procedure is in [`run`].

pub(crate) mod defaults;
pub mod native;
pub(crate) mod run;

use std::sync::Arc;

use voltrs_sql::catalog::{Catalog, Namespace};
use voltrs_sql::parser::{Statement, parse_script};
use voltrs_sql::proc_parser::{CreateProcedure, ProcBody, ProcPartition};
use voltrs_sql::procedures::{ProcPartitionDef, ProcSource, ProcStatement, ProcedureDef};
use voltrs_storage::DataType;

use crate::Error;
use crate::database::Shared;
use crate::plan_cache::PlanCache;
use crate::stats::PlannerStats;

pub(crate) use defaults::default_procedure;
pub(crate) use run::run_body;

fn ns_mut<'c>(cat: &'c mut Catalog, db: &str) -> Result<&'c mut Namespace, Error> {
    match cat.databases.get_mut(db) {
        Some(ns) => Ok(Arc::make_mut(ns)),
        None => Err(Error::Name(format!("database \"{db}\" does not exist"))),
    }
}

/// `CREATE PROCEDURE`: plans the body against `next` and adds the procedure.
pub(crate) fn create(next: &mut Catalog, db: &str, cp: &CreateProcedure, shared: &Shared) -> Result<String, Error> {
    let key = cp.name.to_uppercase();
    if next.database(db)?.procedures.contains_key(&key) {
        return Err(Error::Invalid(format!("procedure \"{}\" already exists", cp.name)));
    }
    let (texts, body) = match &cp.body {
        ProcBody::Sql(stmts) => (
            stmts.iter().map(|s| s.text.clone()).collect::<Vec<_>>(),
            ProcSource::Sql,
        ),
        ProcBody::Lua(source) => (
            crate::lua::declared_statements_with(source, shared.lua_limits)?,
            ProcSource::Lua(Arc::from(source.as_str())),
        ),
    };
    let def = build(
        next,
        db,
        &cp.name,
        cp.params.clone(),
        cp.partition.as_ref(),
        cp.allow.clone(),
        body,
        &texts,
        shared,
    )?;
    ns_mut(next, db)?.procedures.insert(key, Arc::new(def));
    Ok("CREATE PROCEDURE".into())
}

/// Plans a procedure's statements and checks its parameters and routing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    catalog: &Catalog,
    db: &str,
    name: &str,
    declared: Option<Vec<(String, DataType)>>,
    partition: Option<&ProcPartition>,
    allow: Vec<String>,
    body: ProcSource,
    texts: &[String],
    shared: &Shared,
) -> Result<ProcedureDef, Error> {
    let ns = catalog.database(db)?;
    let statements = plan_statements(catalog, ns, db, texts, shared)
        .map_err(|(i, e)| Error::Invalid(format!("procedure \"{name}\", statement {}: {e}", i + 1)))?;
    let markers: Vec<DataType> = statements
        .iter()
        .flat_map(|s| s.plan.param_types.iter().copied())
        .collect();
    let declared_params = declared.is_some();
    let params = match (&body, declared) {
        (_, Some(d)) => {
            if matches!(body, ProcSource::Sql) && d.len() != markers.len() {
                return Err(Error::Invalid(format!(
                    "procedure \"{name}\" declares {} parameter{} but its statements have {} ? marker{}",
                    d.len(),
                    plural(d.len()),
                    markers.len(),
                    plural(markers.len())
                )));
            }
            d
        }
        (ProcSource::Sql | ProcSource::Default, None) => markers
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("PARAM{i}"), *t))
            .collect(),
        (_, None) => {
            return Err(Error::Invalid(format!(
                "procedure \"{name}\" must declare its parameters"
            )));
        }
    };
    let partition = match partition {
        Some(p) => Some(check_partition(ns, name, p, &params)?),
        None => None,
    };
    if partition.is_some()
        && let Some(t) = statements.iter().find_map(|s| writes_replicated(&s.plan.bound))
    {
        return Err(Error::Invalid(format!(
            "procedure \"{name}\" is single-partition but writes replicated table \"{t}\": replicated tables are written only by multi-partition procedures"
        )));
    }
    let read_only = statements.iter().all(ProcStatement::reads_only);
    Ok(ProcedureDef {
        name: name.to_string(),
        partition,
        allow,
        params,
        declared_params,
        body,
        statements,
        read_only,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Plans SQL texts against a catalog; on failure, the index of the statement and the error.
fn plan_statements(
    catalog: &Catalog,
    ns: &Namespace,
    db: &str,
    texts: &[String],
    shared: &Shared,
) -> Result<Vec<ProcStatement>, (usize, Error)> {
    let stats = PlannerStats {
        counts: &shared.row_counts,
        catalog,
    };
    let mut cache = PlanCache::default();
    let mut out = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let mut parsed = parse_script(text).map_err(|e| (i, e))?;
        if parsed.len() != 1 {
            return Err((
                i,
                Error::Invalid("a procedure statement must be exactly one statement".into()),
            ));
        }
        let mut stmt = parsed.remove(0).statement;
        if let Statement::Truncate { table } = &stmt {
            // In a procedure TRUNCATE TABLE is a DELETE of every row (same rows, same views).
            let delete = format!("DELETE FROM \"{}\"", table.replace('"', "\"\""));
            stmt = parse_script(&delete).map_err(|e| (i, e))?.remove(0).statement;
        }
        let cx = crate::prepare::Context {
            plan_cache: &mut cache,
            stats: &stats,
            catalog,
            ns,
            database: db,
            cache: false,
        };
        let plan = crate::prepare::bind_as_written(&cx, &stmt).map_err(|e| (i, e))?;
        out.push(ProcStatement {
            text: text.clone(),
            plan: Arc::new(plan),
        });
    }
    Ok(out)
}

/// Checks `PARTITION ON TABLE t COLUMN c [PARAMETER n]` against the schema.
fn check_partition(
    ns: &Namespace,
    name: &str,
    p: &ProcPartition,
    params: &[(String, DataType)],
) -> Result<ProcPartitionDef, Error> {
    let table = ns.table(&p.table)?;
    let Some(col) = table.partition_column else {
        return Err(Error::Invalid(format!(
            "procedure \"{name}\" is partitioned on table \"{}\", which is replicated (not partitioned)",
            table.name
        )));
    };
    let actual = &table.columns[col].name;
    if *actual != p.column {
        return Err(Error::Invalid(format!(
            "procedure \"{name}\" is partitioned on column \"{}\" but table \"{}\" is partitioned on column \"{actual}\"",
            p.column, table.name
        )));
    }
    let parameter = p.parameter.unwrap_or(0);
    if let Some((pname, pty)) = params.get(parameter) {
        let col_ty = table.columns[col].ty;
        let class = |t: DataType| {
            if t.is_integer() {
                "integer"
            } else if matches!(t, DataType::Varchar { .. }) {
                "string"
            } else if matches!(t, DataType::Varbinary { .. }) {
                "binary"
            } else {
                "other"
            }
        };
        if class(*pty) != class(col_ty) {
            return Err(Error::Invalid(format!(
                "procedure \"{name}\" is partitioned on parameter {parameter} ({pname} {}), which cannot hold values of partition column \"{actual}\" ({})",
                pty.name(),
                col_ty.name()
            )));
        }
    }
    if parameter >= params.len() {
        return Err(Error::Invalid(format!(
            "procedure \"{name}\" is partitioned on parameter {parameter} but takes {} parameter{} (PARAMETER counts from 0)",
            params.len(),
            plural(params.len())
        )));
    }
    Ok(ProcPartitionDef {
        table: table.name.clone(),
        column: actual.clone(),
        parameter,
    })
}

/// The replicated table a statement writes, if it writes one.
fn writes_replicated(bound: &voltrs_sql::binder::Bound) -> Option<String> {
    use voltrs_sql::binder::{Bound, BoundWrite};
    match bound {
        Bound::Write(
            BoundWrite::Insert { table, .. } | BoundWrite::Update { table, .. } | BoundWrite::Delete { table, .. },
        ) if !table.is_partitioned() => Some(table.name.clone()),
        _ => None,
    }
}

/// `DROP PROCEDURE [IF EXISTS] name`.
pub(crate) fn drop(next: &mut Catalog, db: &str, name: &str, if_exists: bool) -> Result<String, Error> {
    let ns = ns_mut(next, db)?;
    if ns.procedures.remove(&name.to_uppercase()).is_none() && !if_exists {
        return Err(Error::Name(format!("procedure \"{name}\" does not exist")));
    }
    Ok("DROP PROCEDURE".into())
}

/// `PARTITION PROCEDURE name ON TABLE t COLUMN c [PARAMETER n]`.
pub(crate) fn partition(next: &mut Catalog, db: &str, name: &str, p: &ProcPartition) -> Result<String, Error> {
    let key = name.to_uppercase();
    let ns = next.database(db)?;
    let Some(def) = ns.procedures.get(&key) else {
        return Err(Error::Name(format!("procedure \"{name}\" does not exist")));
    };
    let mut def = (**def).clone();
    def.partition = Some(check_partition(ns, name, p, &def.params)?);
    ns_mut(next, db)?.procedures.insert(key, Arc::new(def));
    Ok("PARTITION PROCEDURE".into())
}

/// The next catalog with every stored procedure planned against it; fails naming the first
/// procedure that no longer plans (so the DDL that caused it is refused).
pub(crate) fn replan_all(next: &Catalog, shared: &Shared) -> Result<Catalog, Error> {
    let mut out = next.clone();
    for (db, ns) in &next.databases {
        for (key, def) in &ns.procedures {
            let texts: Vec<String> = def.statements.iter().map(|s| s.text.clone()).collect();
            let declared = def.declared_params.then(|| def.params.clone());
            let partition = def.partition.as_ref().map(|p| ProcPartition {
                table: p.table.clone(),
                column: p.column.clone(),
                parameter: Some(p.parameter),
            });
            let fresh = build(
                next,
                db,
                &def.name,
                declared,
                partition.as_ref(),
                def.allow.clone(),
                def.body.clone(),
                &texts,
                shared,
            )
            .map_err(|e| Error::Invalid(format!("the change would break procedure \"{}\": {e}", def.name)))?;
            ns_mut(&mut out, db)?.procedures.insert(key.clone(), Arc::new(fresh));
        }
    }
    Ok(out)
}

/// Registers a Rust procedure (replacing one of the same name).
pub(crate) fn register(
    next: &mut Catalog,
    db: &str,
    spec: &native::NativeSpec,
    shared: &Shared,
) -> Result<String, Error> {
    let partition = spec.partition.as_ref().map(|(table, column, parameter)| ProcPartition {
        table: table.to_uppercase(),
        column: column.to_uppercase(),
        parameter: Some(*parameter),
    });
    let body = ProcSource::Native(Arc::new(native::NativeBox(spec.procedure.clone())));
    let def = build(
        next,
        db,
        &spec.name,
        Some(spec.params.clone()),
        partition.as_ref(),
        Vec::new(),
        body,
        &spec.statements,
        shared,
    )?;
    ns_mut(next, db)?
        .procedures
        .insert(spec.name.to_uppercase(), Arc::new(def));
    Ok("REGISTER PROCEDURE".into())
}
