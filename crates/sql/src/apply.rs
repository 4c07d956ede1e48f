//! Applying writes: INSERT, UPSERT, UPDATE, DELETE and TRUNCATE, with statement atomicity.
//!
//! 1. Read phase: the source rows (or the target rows and their new images) are computed
//!    with a read-only [`ExecContext`], so a statement never sees its own writes.
//! 2. Write phase: every change goes through [`Writer`], which keeps unique keys current
//!    and records an undo entry (row id and old image).
//! 3. On any error the undo log is replayed in reverse and the unique maps of the touched
//!    tables are rebuilt, so a failing statement changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use voltrs_storage::{Index, Partition, Row, RowId, Table, TableId, Value};
use voltrs_wire::Hashinator;

use crate::binder::BoundWrite;
use crate::catalog::{ColumnDef, DefaultValue, TableDef, UniqueKey};
use crate::error::{Error, Result};
use crate::exec::{Env, ExecContext, eval, execute, matching_rows};
use crate::functions::FuncContext;

/// Inputs a write needs besides the partitions.
pub struct WriteInputs<'a> {
    pub hashinator: &'a Hashinator,
    pub params: &'a [Value],
    pub func: FuncContext,
    pub deadline: Option<(Instant, u64)>,
}

enum Undo {
    Inserted { id: RowId },
    Deleted { id: RowId, row: Row },
    Updated { id: RowId, old: Row },
    Truncated { rows: Vec<(RowId, Row)> },
}

/// One undo entry: which table and partition, and how to reverse the change.
struct UndoEntry {
    table: Arc<TableDef>,
    p: usize,
    undo: Undo,
}

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
fn target_partitions(table: &TableDef, row: &[Value], h: &Hashinator, count: usize) -> Vec<usize> {
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
    static NO_ROUTING: std::sync::OnceLock<Hashinator> = std::sync::OnceLock::new();
    let ctx = ExecContext::new(
        &[],
        NO_ROUTING.get_or_init(|| Hashinator::new(1)),
        &[],
        FuncContext { now: 0, seed: 0 },
        None,
    );
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

fn violation(table: &TableDef, u: &UniqueKey, key: &[Value]) -> Error {
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
        let v = crate::cast::coerce_for_column(&v, c.ty, &c.name)?;
        if v.is_null() && !c.nullable {
            return Err(Error::Constraint(format!(
                "CONSTRAINT VIOLATION: column \"{}\" of table \"{}\" is NOT NULL",
                c.name, table.name
            )));
        }
        out.push(v);
    }
    Ok(out.into_boxed_slice())
}

/// A column's value when an INSERT does not give one.
pub fn default_value(c: &ColumnDef, now: i64) -> Value {
    match &c.default {
        Some(DefaultValue::Value(v)) => v.clone(),
        Some(DefaultValue::Now) => Value::Timestamp(now),
        None => Value::Null,
    }
}

/// Applies a statement's writes to partitions, across any number of tables, keeping
/// unique maps current and one undo log for the whole statement.
pub struct Writer<'a> {
    partitions: &'a mut [Partition],
    undo: Vec<UndoEntry>,
    /// Table partitions whose unique maps this writer changed (rebuilt on rollback).
    touched: BTreeMap<(TableId, usize), Arc<TableDef>>,
}

impl<'a> Writer<'a> {
    pub fn new(partitions: &'a mut [Partition]) -> Writer<'a> {
        Writer {
            partitions,
            undo: Vec::new(),
            touched: BTreeMap::new(),
        }
    }

    fn storage(&mut self, table: &Arc<TableDef>, p: usize) -> Result<&mut Table> {
        self.touched.entry((table.id, p)).or_insert_with(|| table.clone());
        stored_mut(self.partitions, table, p)
    }

    /// The current image of a row (reads see the statement's own writes).
    pub fn row(&self, table: &TableDef, p: usize, id: RowId) -> Option<Row> {
        self.partitions.get(p)?.table(table.id)?.get(id)
    }

    /// The partitions this writer writes to.
    pub fn partitions(&self) -> &[Partition] {
        self.partitions
    }

    /// The row's key for every unique constraint, failing on one already taken.
    fn free_keys(&mut self, table: &Arc<TableDef>, p: usize, row: &[Value]) -> Result<Vec<Option<Box<[Value]>>>> {
        let mut keys = Vec::with_capacity(table.uniques.len());
        for (i, u) in table.uniques.iter().enumerate() {
            let k = unique_key(u, row)?;
            if let Some(k) = &k
                && u.kind.is_unique()
                && self.find(table, p, i, k)?.is_some()
            {
                return Err(violation(table, u, k));
            }
            keys.push(k);
        }
        Ok(keys)
    }

    /// Finds the row holding a key of unique index `u` in partition `p`.
    pub fn find(&self, table: &TableDef, p: usize, u: usize, key: &[Value]) -> Result<Option<RowId>> {
        Ok(stored(self.partitions, table, p)?
            .indexes
            .get(u)
            .and_then(|ix| ix.get_unique(key)))
    }

    pub fn insert(&mut self, table: &Arc<TableDef>, p: usize, row: Row) -> Result<RowId> {
        let keys = self.free_keys(table, p, &row)?;
        let t = self.storage(table, p)?;
        if let Some(limit) = table.row_limit
            && t.len() as u64 >= limit
        {
            return Err(Error::Constraint(format!(
                "CONSTRAINT VIOLATION: table \"{}\" would exceed its LIMIT PARTITION ROWS {limit}",
                table.name
            )));
        }
        let id = t.insert(&row)?;
        add_keys(t, keys, id);
        self.log(table, p, Undo::Inserted { id });
        if !table.views.is_empty() {
            crate::views::row_entered(self, table, p, id)?;
        }
        Ok(id)
    }

    pub fn delete(&mut self, table: &Arc<TableDef>, p: usize, id: RowId) -> Result<()> {
        let t = self.storage(table, p)?;
        let Some(row) = t.delete(id) else {
            return Ok(());
        };
        remove_keys(table, t, &row, id)?;
        let left = (!table.views.is_empty()).then(|| row.clone());
        self.log(table, p, Undo::Deleted { id, row });
        if let Some(old) = left {
            crate::views::row_left(self, table, p, id, &old)?;
        }
        Ok(())
    }

    /// Replaces rows in place: old keys of all rows leave first, then new keys enter, so a
    /// statement that shifts keys (`SET id = id + 1`) does not collide with itself.
    pub fn update_many(&mut self, table: &Arc<TableDef>, p: usize, changes: Vec<(RowId, Row)>) -> Result<()> {
        for (id, _) in &changes {
            let t = self.storage(table, p)?;
            let Some(old) = t.get(*id) else {
                continue;
            };
            remove_keys(table, t, &old, *id)?;
        }
        for (id, new) in changes {
            let keys = self.free_keys(table, p, &new)?;
            let t = self.storage(table, p)?;
            let Some(old) = t.replace(id, &new)? else {
                continue;
            };
            add_keys(t, keys, id);
            let changed = (!table.views.is_empty()).then(|| old.clone());
            self.log(table, p, Undo::Updated { id, old });
            if let Some(old) = changed {
                crate::views::row_changed(self, table, p, id, &old)?;
            }
        }
        Ok(())
    }

    /// Removes every row of a table partition; returns how many.
    pub fn truncate(&mut self, table: &Arc<TableDef>, p: usize) -> Result<u64> {
        let rows = self.storage(table, p)?.take_all();
        let n = rows.len() as u64;
        self.log(table, p, Undo::Truncated { rows });
        if !table.views.is_empty() {
            crate::views::truncated(self, table, p)?;
        }
        Ok(n)
    }

    fn log(&mut self, table: &Arc<TableDef>, p: usize, undo: Undo) {
        self.undo.push(UndoEntry {
            table: table.clone(),
            p,
            undo,
        });
    }

    /// Runs `apply` with this writer; if it fails, everything it did is undone.
    pub fn atomically(mut self, apply: impl FnOnce(&mut Writer) -> Result<()>) -> Result<()> {
        let r = apply(&mut self);
        if r.is_err() {
            self.rollback();
        }
        r
    }

    /// Undoes everything this writer did, newest change first.
    pub fn rollback(mut self) {
        while let Some(UndoEntry { table, p, undo }) = self.undo.pop() {
            if let Ok(t) = self.storage(&table, p) {
                match undo {
                    Undo::Inserted { id } => {
                        t.delete(id);
                    }
                    // The images came out of this storage, so they encode again.
                    Undo::Deleted { id, row } => {
                        let _ = t.restore(id, &row);
                    }
                    Undo::Updated { id, old } => {
                        let _ = t.replace(id, &old);
                    }
                    Undo::Truncated { rows } => {
                        for (id, row) in rows {
                            let _ = t.restore(id, &row);
                        }
                    }
                }
            }
        }
        for ((_, p), table) in std::mem::take(&mut self.touched) {
            if let Ok(t) = stored_mut(self.partitions, &table, p) {
                // The pre-statement state was consistent, so this cannot find duplicates.
                let _ = rebuild_indexes(&table, t);
            }
        }
    }
}

fn stored<'p>(partitions: &'p [Partition], table: &TableDef, p: usize) -> Result<&'p Table> {
    partitions
        .get(p)
        .and_then(|part| part.table(table.id))
        .ok_or_else(|| missing(table, p))
}

fn stored_mut<'p>(partitions: &'p mut [Partition], table: &TableDef, p: usize) -> Result<&'p mut Table> {
    partitions
        .get_mut(p)
        .and_then(|part| part.table_mut(table.id))
        .ok_or_else(|| missing(table, p))
}

fn missing(table: &TableDef, p: usize) -> Error {
    Error::Invalid(format!("internal: table \"{}\" missing in partition {p}", table.name))
}

/// Enters a row's keys (computed by `Writer::free_keys`) into the indexes.
fn add_keys(t: &mut Table, keys: Vec<Option<Box<[Value]>>>, id: RowId) {
    for (k, ix) in keys.into_iter().zip(t.indexes.iter_mut()) {
        if let Some(k) = k {
            ix.insert(k, id);
        }
    }
}

/// Removes a row's keys from the indexes.
fn remove_keys(def: &TableDef, t: &mut Table, row: &[Value], id: RowId) -> Result<()> {
    for (u, ix) in def.uniques.iter().zip(t.indexes.iter_mut()) {
        if let Some(k) = unique_key(u, row)? {
            ix.remove(&k, id);
        }
    }
    Ok(())
}

/// Runs a bound write; returns the number of rows affected.
pub fn apply_write(w: &BoundWrite, partitions: &mut [Partition], inputs: &WriteInputs) -> Result<u64> {
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

fn read_ctx<'a>(partitions: &'a [Partition], inputs: &'a WriteInputs) -> ExecContext<'a> {
    ExecContext::new(
        partitions,
        inputs.hashinator,
        inputs.params,
        inputs.func,
        inputs.deadline,
    )
}

fn insert(
    table: &Arc<TableDef>,
    targets: &[usize],
    source: &crate::plan::Plan,
    upsert: bool,
    partitions: &mut [Partition],
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
    let count = partitions.len();
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
    partitions: &mut [Partition],
    inputs: &WriteInputs,
) -> Result<u64> {
    let count = partitions.len();
    // Read phase: new images per partition.
    let mut plan: Vec<Vec<(RowId, Row)>> = Vec::with_capacity(count);
    {
        let ctx = read_ctx(partitions, inputs);
        for p in 0..count {
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
            plan.push(changes);
        }
    }
    let mut n = 0u64;
    Writer::new(partitions).atomically(|w| {
        // Rows whose partition value now hashes elsewhere move after every partition has
        // applied its in-place changes, so keys that shift across partitions do not collide
        // with rows the statement has not updated yet.
        let mut arriving: Vec<(usize, Row)> = Vec::new();
        for (p, changes) in plan.into_iter().enumerate() {
            if table.partition_column.is_none() && p == 0 {
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
    partitions: &mut [Partition],
    inputs: &WriteInputs,
) -> Result<u64> {
    let count = partitions.len();
    let mut ids: Vec<Vec<RowId>> = Vec::with_capacity(count);
    {
        let ctx = read_ctx(partitions, inputs);
        for p in 0..count {
            ids.push(matching_rows(scan, p, &ctx)?.into_iter().map(|(id, _)| id).collect());
        }
    }
    let n = if table.partition_column.is_some() {
        ids.iter().map(|v| v.len() as u64).sum()
    } else {
        ids.first().map(|v| v.len() as u64).unwrap_or(0)
    };
    Writer::new(partitions).atomically(|w| {
        for (p, list) in ids.into_iter().enumerate() {
            for id in list {
                w.delete(table, p, id)?;
            }
        }
        Ok(())
    })?;
    Ok(n)
}

/// TRUNCATE TABLE: removes every row; returns how many (one copy for a replicated table).
pub fn truncate(table: &Arc<TableDef>, partitions: &mut [Partition]) -> Result<u64> {
    crate::views::check_writable(table, "TRUNCATE TABLE")?;
    let mut n = 0;
    Writer::new(partitions).atomically(|w| {
        for p in 0..w.partitions().len() {
            let len = w.truncate(table, p)?;
            if table.partition_column.is_some() || p == 0 {
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
