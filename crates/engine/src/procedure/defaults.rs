//! Default procedures, named and shaped as VoltDB's (`DefaultProcedureManager`): for every
//! table `T`, `T.insert`; with a primary key also `T.update`, `T.upsert` and `T.delete`;
//! `T.select` only on a partitioned table whose primary key includes the partition column.
//! A partitioned table's default procedures are single-partition on its partition column.
//!
//! Parameters: insert / upsert take every column in table order; select / delete the
//! primary-key columns in key order; update every column, then the key columns.

use voltrs_sql::catalog::{Catalog, TableDef};
use voltrs_sql::expr::ExprKind;
use voltrs_sql::proc_parser::ProcPartition;
use voltrs_sql::procedures::{ProcSource, ProcedureDef};

use crate::Error;
use crate::database::Shared;

/// The default procedure `name` (`TABLE.op`, any case) of database `db`, if there is one.
pub(crate) fn default_procedure(
    catalog: &Catalog,
    db: &str,
    name: &str,
    shared: &Shared,
) -> Option<Result<ProcedureDef, Error>> {
    let (table, op) = name.rsplit_once('.')?;
    let ns = catalog.database(db).ok()?;
    let t = ns.tables.get(&table.to_uppercase())?;
    if t.is_view() {
        return None;
    }
    let op = op.to_lowercase();
    let (sql, partition_param) = shape(t, &op)?;
    let partition = match (t.partition_column, partition_param) {
        (Some(col), Some(parameter)) => Some(ProcPartition {
            table: t.name.clone(),
            column: t.columns[col].name.clone(),
            parameter: Some(parameter),
        }),
        _ => None,
    };
    let canonical = format!("{}.{op}", t.name);
    Some(super::build(
        catalog,
        db,
        &canonical,
        None,
        partition.as_ref(),
        Vec::new(),
        ProcSource::Default,
        &[sql],
        shared,
    ))
}

/// The SQL of default procedure `op` of `t` and its partitioning parameter; `None` when
/// the table has no such procedure.
fn shape(t: &TableDef, op: &str) -> Option<(String, Option<usize>)> {
    let name = quote(&t.name);
    let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.name)).collect();
    let marks = vec!["?"; cols.len()].join(", ");
    let pk: Option<Vec<usize>> = t.primary_key().map(|k| {
        k.exprs
            .iter()
            .filter_map(|e| match e.kind {
                ExprKind::Column(i) => Some(i),
                _ => None,
            })
            .collect()
    });
    let where_pk = |pk: &[usize]| {
        pk.iter()
            .map(|&i| format!("({} = ?)", cols[i]))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let part = t.partition_column;
    let pk_has_part = match (&pk, part) {
        (Some(pk), Some(c)) => pk.contains(&c),
        _ => false,
    };
    match op {
        "insert" => Some((format!("INSERT INTO {name} VALUES ({marks})"), part)),
        "upsert" | "update" | "delete" | "select" => {
            let pk = pk?;
            if part.is_some() && !pk_has_part {
                return None;
            }
            let in_pk = part.and_then(|c| pk.iter().position(|&i| i == c));
            match op {
                "upsert" => Some((format!("UPSERT INTO {name} VALUES ({marks})"), part)),
                "update" => {
                    let sets: Vec<String> = cols.iter().map(|c| format!("{c} = ?")).collect();
                    Some((
                        format!("UPDATE {name} SET {} WHERE {}", sets.join(", "), where_pk(&pk)),
                        part,
                    ))
                }
                "delete" => Some((format!("DELETE FROM {name} WHERE {}", where_pk(&pk)), in_pk)),
                _ if part.is_some() => Some((format!("SELECT * FROM {name} WHERE {}", where_pk(&pk)), in_pk)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A name as a quoted identifier (catalog names are upper-case already).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The default procedure names of a table, for `@SystemCatalog PROCEDURES`.
pub(crate) fn default_names(t: &TableDef) -> Vec<String> {
    ["insert", "update", "upsert", "delete", "select"]
        .iter()
        .filter(|op| !t.is_view() && shape(t, op).is_some())
        .map(|op| format!("{}.{op}", t.name))
        .collect()
}
