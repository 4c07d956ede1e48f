//! Row checks and keys: the partition a row belongs to, the key a row has in an index,
//! duplicate-key errors, and index rebuilds.

use voltrs_storage::{Index, Row, Table, Value};
use voltrs_wire::Hashinator;

use crate::catalog::{ColumnDef, DefaultValue, TableDef, UniqueKey};
use crate::error::{Error, Result};
use crate::exec::{Env, ExecContext, eval};

/// The partition a partition-column value belongs to (NULL goes to partition 0).
pub fn partition_of(value: &Value, h: &Hashinator) -> usize {
    (match value {
        Value::Integer(i) => h.partition_for_integer(*i),
        Value::Varchar(s) => h.partition_for_str(s),
        Value::Varbinary(b) => h.partition_for_bytes(b),
        _ => 0,
    }) as usize
}

/// The partitions that hold (a copy of) a row of `table`.
pub(super) fn target_partitions(table: &TableDef, row: &[Value], h: &Hashinator, count: usize) -> Vec<usize> {
    match table.partition_column {
        Some(c) => vec![partition_of(&row[c], h).min(count.saturating_sub(1))],
        None => (0..count).collect(),
    }
}

/// Computes a row's key for one index; `None` when the row is not keyed
/// (a NULL in the key, or the partial-index predicate is not TRUE).
pub fn unique_key(u: &UniqueKey, row: &[Value]) -> Result<Option<Box<[Value]>>> {
    use crate::expr::ExprKind;
    // Plain column keys (every constraint) need no evaluation context.
    let plain = u.predicate.is_none() && u.exprs.iter().all(|e| matches!(e.kind, ExprKind::Column(_)));
    if plain {
        let mut key = Vec::with_capacity(u.exprs.len());
        for e in &u.exprs {
            let v = match e.kind {
                ExprKind::Column(i) => row.get(i).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            };
            if v.is_null() {
                return Ok(None);
            }
            key.push(v);
        }
        return Ok(Some(key.into_boxed_slice()));
    }
    // Index expressions are deterministic functions of the row: no tables, parameters or clock.
    let ctx = ExecContext::row_only();
    let env = Env { row, parent: None };
    if let Some(p) = &u.predicate
        && !matches!(eval(p, &env, &ctx)?, Value::Boolean(true))
    {
        return Ok(None);
    }
    let mut key = Vec::with_capacity(u.exprs.len());
    for e in &u.exprs {
        let v = eval(e, &env, &ctx)?;
        if v.is_null() {
            return Ok(None);
        }
        key.push(v);
    }
    Ok(Some(key.into_boxed_slice()))
}

pub(super) fn violation(table: &TableDef, u: &UniqueKey, key: &[Value]) -> Error {
    let vals: Vec<String> = key
        .iter()
        .map(|v| voltrs_storage::text::render(v).unwrap_or_else(|| "NULL".into()))
        .collect();
    let kind = match u.kind {
        crate::catalog::UniqueKind::PrimaryKey => "PRIMARY KEY",
        crate::catalog::UniqueKind::Unique | crate::catalog::UniqueKind::NotUnique => "UNIQUE",
        crate::catalog::UniqueKind::AssumeUnique => "ASSUMEUNIQUE",
    };
    Error::Constraint(format!(
        "CONSTRAINT VIOLATION: duplicate key ({}) for {kind} constraint \"{}\" on table \"{}\"",
        vals.join(", "),
        u.name,
        table.name
    ))
}

/// Rebuilds every index of a table partition from its rows, failing on a duplicate key
/// of a unique one.
pub fn rebuild_indexes(def: &TableDef, t: &mut Table) -> Result<()> {
    let mut indexes: Vec<Index> = def.index_specs().into_iter().map(Index::new).collect();
    for (id, row) in t.scan() {
        for (u, ix) in def.uniques.iter().zip(indexes.iter_mut()) {
            if let Some(k) = unique_key(u, &row)? {
                if u.kind.is_unique() && ix.get_unique(&k).is_some() {
                    return Err(violation(def, u, &k));
                }
                ix.insert(k, id);
            }
        }
    }
    t.indexes = indexes;
    Ok(())
}

/// Checks and converts a full row for storage: column types, NOT NULL.
pub fn check_row(table: &TableDef, row: Vec<Value>) -> Result<Row> {
    let mut out = Vec::with_capacity(row.len());
    for (v, c) in row.into_iter().zip(&table.columns) {
        out.push(check_value(table, c, &v)?);
    }
    Ok(out.into_boxed_slice())
}

/// One value of a row for column `c` of `table`, as [`check_row`] checks it.
pub fn check_value(table: &TableDef, c: &ColumnDef, v: &Value) -> Result<Value> {
    let v = crate::cast::coerce_for_column(v, c.ty, &c.name)?;
    if v.is_null() && !c.nullable {
        return Err(Error::Constraint(format!(
            "CONSTRAINT VIOLATION: column \"{}\" of table \"{}\" is NOT NULL",
            c.name, table.name
        )));
    }
    Ok(v)
}

/// A column's value when an INSERT does not give one.
pub fn default_value(c: &ColumnDef, now: i64) -> Value {
    match &c.default {
        Some(DefaultValue::Value(v)) => v.clone(),
        Some(DefaultValue::Now) => Value::Timestamp(now),
        None => Value::Null,
    }
}
