//! [`Writer`]: every change a statement makes, across tables, with index upkeep, view
//! maintenance and one undo log.

use std::collections::BTreeMap;
use std::sync::Arc;

use voltrs_storage::{Partition, Row, RowId, Table, TableId, Value};

use super::keys::{rebuild_indexes, unique_key, violation};
use crate::catalog::TableDef;
use crate::error::{Error, Result};

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
