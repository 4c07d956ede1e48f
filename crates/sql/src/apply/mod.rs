//! Applying writes: INSERT, UPSERT, UPDATE, DELETE and TRUNCATE, with statement atomicity.
//!
//! 1. Read phase: the source rows (or the target rows and their new images) are computed
//!    with a read-only [`ExecContext`], so a statement never sees its own writes.
//! 2. Write phase: every change goes through [`Writer`], which keeps unique keys current
//!    and records an undo entry (row id and old image).
//! 3. On any error the undo log is replayed in reverse and the unique maps of the touched
//!    tables are rebuilt, so a failing statement changes nothing.

mod keys;
mod writer;

use std::sync::Arc;
use std::time::Instant;

use voltrs_storage::{Partition, Row, RowId, TableId, Value};
use voltrs_wire::Hashinator;

use crate::binder::BoundWrite;
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::exec::{Env, ExecContext, eval, execute, matching_rows};
use crate::functions::FuncContext;

pub use keys::{check_row, check_value, default_value, partition_of, rebuild_indexes, unique_key};
pub use writer::{Store, UndoLog, Writer};

use keys::target_partitions;

/// Inputs a write needs besides the partitions.
pub struct WriteInputs<'a> {
    pub hashinator: &'a Hashinator,
    pub params: &'a [Value],
    pub func: FuncContext,
    pub deadline: Option<(Instant, u64)>,
}

/// Runs a bound write; returns the number of rows affected. On failure the statement's
/// changes are undone; on success they stay in `store.undo` for the transaction.
pub fn apply_write(w: &BoundWrite, partitions: &mut Store, inputs: &WriteInputs) -> Result<u64> {
    match w {
        BoundWrite::Insert {
            table,
            targets,
            source,
            upsert,
        } => insert(table, targets, source, *upsert, partitions, inputs),
        BoundWrite::Update { table, scan, sets } => update(table, scan, sets, partitions, inputs),
        BoundWrite::Delete { table, scan } => delete(table, scan, partitions, inputs),
    }
}

fn read_ctx<'a>(store: &'a Store, inputs: &'a WriteInputs) -> ExecContext<'a> {
    ExecContext {
        first: store.first,
        local: store.local,
        ..ExecContext::new(
            store.partitions,
            inputs.hashinator,
            inputs.params,
            inputs.func,
            inputs.deadline,
        )
    }
}

fn insert(
    table: &Arc<TableDef>,
    targets: &[usize],
    source: &crate::plan::Plan,
    upsert: bool,
    partitions: &mut Store,
    inputs: &WriteInputs,
) -> Result<u64> {
    let rows = execute(source, &read_ctx(partitions, inputs), None)?;
    let mut full_rows = Vec::with_capacity(rows.len());
    for src in rows {
        let mut row: Vec<Value> = table
            .columns
            .iter()
            .map(|c| default_value(c, inputs.func.now))
            .collect();
        for (v, &t) in src.into_iter().zip(targets) {
            row[t] = v;
        }
        full_rows.push(check_row(table, row)?);
    }
    let count = inputs.hashinator.partition_count() as usize;
    let pk = if upsert {
        table
            .uniques
            .iter()
            .position(|u| u.kind == crate::catalog::UniqueKind::PrimaryKey)
    } else {
        None
    };
    let n = full_rows.len() as u64;
    Writer::new(partitions).atomically(|w| {
        for row in full_rows {
            for p in target_partitions(table, &row, inputs.hashinator, count) {
                if let Some(pk) = pk {
                    let key = unique_key(&table.uniques[pk], &row)?;
                    if let Some(key) = key
                        && let Some(id) = w.find(table, p, pk, &key)?
                    {
                        let merged = merge_upsert(w, table, p, id, &row, targets, table.columns.len())?;
                        w.update_many(table, p, vec![(id, merged)])?;
                        continue;
                    }
                }
                w.insert(table, p, row.clone())?;
            }
        }
        Ok(())
    })?;
    Ok(n)
}

/// UPSERT with a column list changes only the listed columns of an existing row.
fn merge_upsert(
    w: &Writer,
    table: &TableDef,
    p: usize,
    id: RowId,
    new: &Row,
    targets: &[usize],
    width: usize,
) -> Result<Row> {
    if targets.len() == width {
        return Ok(new.clone());
    }
    let old = w
        .row(table, p, id)
        .ok_or_else(|| Error::Invalid("internal: upsert target vanished".into()))?;
    let mut row = old.to_vec();
    for &t in targets {
        row[t] = new[t].clone();
    }
    Ok(row.into_boxed_slice())
}

fn update(
    table: &Arc<TableDef>,
    scan: &crate::plan::Plan,
    sets: &[(usize, crate::expr::Expr)],
    partitions: &mut Store,
    inputs: &WriteInputs,
) -> Result<u64> {
    let count = inputs.hashinator.partition_count() as usize;
    // Read phase: new images per partition.
    let mut plan: Vec<(usize, Vec<(RowId, Row)>)> = Vec::with_capacity(count);
    {
        let ctx = read_ctx(partitions, inputs);
        for p in partitions.window() {
            let mut changes = Vec::new();
            for (id, row) in matching_rows(scan, p, &ctx)? {
                let mut new = row.to_vec();
                for (col, e) in sets {
                    new[*col] = eval(
                        e,
                        &Env {
                            row: &row,
                            parent: None,
                        },
                        &ctx,
                    )?;
                }
                changes.push((id, check_row(table, new)?));
            }
            plan.push((p, changes));
        }
    }
    let mut n = 0u64;
    let first = partitions.first;
    Writer::new(partitions).atomically(|w| {
        // Rows whose partition value now hashes elsewhere move after every partition has
        // applied its in-place changes, so keys that shift across partitions do not collide
        // with rows the statement has not updated yet.
        let mut arriving: Vec<(usize, Row)> = Vec::new();
        for (p, changes) in plan {
            if table.partition_column.is_none() && p == first {
                n = changes.len() as u64;
            }
            let mut stay = Vec::with_capacity(changes.len());
            let mut moved = Vec::new();
            for (id, row) in changes {
                if table.partition_column.is_some() {
                    n += 1;
                    let dest = target_partitions(table, &row, inputs.hashinator, count)[0];
                    if dest != p {
                        moved.push((id, dest, row));
                        continue;
                    }
                }
                stay.push((id, row));
            }
            for (id, _, _) in &moved {
                w.delete(table, p, *id)?;
            }
            w.update_many(table, p, stay)?;
            arriving.extend(moved.into_iter().map(|(_, dest, row)| (dest, row)));
        }
        for (dest, row) in arriving {
            w.insert(table, dest, row)?;
        }
        Ok(())
    })?;
    Ok(n)
}

fn delete(
    table: &Arc<TableDef>,
    scan: &crate::plan::Plan,
    partitions: &mut Store,
    inputs: &WriteInputs,
) -> Result<u64> {
    let count = inputs.hashinator.partition_count() as usize;
    let mut ids: Vec<(usize, Vec<RowId>)> = Vec::with_capacity(count);
    {
        let ctx = read_ctx(partitions, inputs);
        for p in partitions.window() {
            ids.push((p, matching_rows(scan, p, &ctx)?.into_iter().map(|(id, _)| id).collect()));
        }
    }
    let n = if table.partition_column.is_some() {
        ids.iter().map(|(_, v)| v.len() as u64).sum()
    } else {
        ids.first().map(|(_, v)| v.len() as u64).unwrap_or(0)
    };
    Writer::new(partitions).atomically(|w| {
        for (p, list) in ids {
            for id in list {
                w.delete(table, p, id)?;
            }
        }
        Ok(())
    })?;
    Ok(n)
}

/// TRUNCATE TABLE: removes every row; returns how many (one copy for a replicated table).
pub fn truncate(table: &Arc<TableDef>, partitions: &mut Store) -> Result<u64> {
    crate::views::check_writable(table, "TRUNCATE TABLE")?;
    let mut n = 0;
    let window = partitions.window();
    let first = window.start;
    Writer::new(partitions).atomically(|w| {
        for p in window {
            let len = w.truncate(table, p)?;
            if table.partition_column.is_some() || p == first {
                n += len;
            }
        }
        Ok(())
    })?;
    Ok(n)
}

/// Unused-table guard for callers that look a table up by id.
pub fn has_table(partitions: &[Partition], id: TableId) -> bool {
    partitions.first().is_some_and(|p| p.table(id).is_some())
}
