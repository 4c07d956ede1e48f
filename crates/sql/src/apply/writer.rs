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

/// Every change a transaction made, newest last, so it can be undone by row id.
#[derive(Default)]
pub struct UndoLog {
    entries: Vec<UndoEntry>,
    /// Table partitions whose indexes were changed (rebuilt on rollback).
    touched: BTreeMap<(TableId, usize), Arc<TableDef>>,
}

impl UndoLog {
    pub fn new() -> UndoLog {
        UndoLog::default()
    }

    /// How many changes are recorded (a savepoint for [`UndoLog::rollback_to`]).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The table partitions (table id, partition) the log's changes touched.
    pub fn touched(&self) -> impl Iterator<Item = (TableId, usize)> + '_ {
        self.touched.keys().copied()
    }

    /// Forgets every change: the transaction committed.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.touched.clear();
    }

    /// Undoes every change after savepoint `mark`, newest first, in the partition window
    /// `partitions` (whose first element is partition `first`), then rebuilds the indexes
    /// of every table partition the log touched.
    pub fn rollback_to(&mut self, mark: usize, partitions: &mut [Partition], first: usize) {
        while self.entries.len() > mark {
            let Some(UndoEntry { table, p, undo }) = self.entries.pop() else {
                break;
            };
            let Ok(t) = stored_mut(partitions, first, &table, p) else {
                continue;
            };
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
        for ((_, p), table) in &self.touched {
            if let Ok(t) = stored_mut(partitions, first, table, *p) {
                // The state at the savepoint was consistent, so this cannot find duplicates.
                let _ = rebuild_indexes(table, t);
            }
        }
        if mark == 0 {
            self.touched.clear();
        }
    }
}

/// The storage a statement writes: a window of partitions (`partitions[0]` is partition
/// `first`; a site's single-partition work sees only its own) and the transaction's undo log.
pub struct Store<'a> {
    pub partitions: &'a mut [Partition],
    pub first: usize,
    /// Set for single-partition work: reads see only this partition.
    pub local: Option<usize>,
    pub undo: &'a mut UndoLog,
}

impl<'a> Store<'a> {
    /// Every partition, for multi-partition work.
    pub fn all(partitions: &'a mut [Partition], undo: &'a mut UndoLog) -> Store<'a> {
        Store {
            partitions,
            first: 0,
            local: None,
            undo,
        }
    }

    /// One partition `p`, for single-partition work on its site.
    pub fn single(partition: &'a mut Partition, p: usize, undo: &'a mut UndoLog) -> Store<'a> {
        Store {
            partitions: std::slice::from_mut(partition),
            first: p,
            local: Some(p),
            undo,
        }
    }

    /// The partitions a statement visits: the local one, or all of them.
    pub fn window(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.partitions.len()
    }
}

/// Applies a statement's writes to partitions, across any number of tables, keeping
/// unique maps current and recording undo entries in the transaction's log.
pub struct Writer<'a> {
    partitions: &'a mut [Partition],
    first: usize,
    undo: &'a mut UndoLog,
    /// The log's length when this statement began.
    mark: usize,
}

impl<'a> Writer<'a> {
    pub fn new(store: &'a mut Store<'_>) -> Writer<'a> {
        let mark = store.undo.len();
        Writer {
            partitions: store.partitions,
            first: store.first,
            undo: store.undo,
            mark,
        }
    }

    fn storage(&mut self, table: &Arc<TableDef>, p: usize) -> Result<&mut Table> {
        if !(self.first..self.first + self.partitions.len()).contains(&p) {
            return Err(outside_window(table));
        }
        self.undo.touched.entry((table.id, p)).or_insert_with(|| table.clone());
        stored_mut(self.partitions, self.first, table, p)
    }

    /// The current image of a row (reads see the statement's own writes).
    pub fn row(&self, table: &TableDef, p: usize, id: RowId) -> Option<Row> {
        self.partition(p)?.table(table.id)?.get(id)
    }

    /// Partition `p`'s storage, if this writer's window holds it.
    pub fn partition(&self, p: usize) -> Option<&Partition> {
        self.partitions.get(p.checked_sub(self.first)?)
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
        Ok(stored(self.partitions, self.first, table, p)?
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

    /// Replaces rows in place: the changed keys of all rows leave first, then the new ones
    /// enter, so a statement that shifts keys (`SET id = id + 1`) does not collide with
    /// itself. A key a row keeps (the usual case: a view's group, a primary key the
    /// statement does not set) stays in its index untouched.
    pub fn update_many(&mut self, table: &Arc<TableDef>, p: usize, changes: Vec<(RowId, Row)>) -> Result<()> {
        // Per row and index: `None` when the key stays, else (key leaving, key entering).
        type Move = Option<(Option<Box<[Value]>>, Option<Box<[Value]>>)>;
        let mut planned: Vec<(RowId, Row, Vec<Move>)> = Vec::with_capacity(changes.len());
        for (id, new) in changes {
            let t = self.storage(table, p)?;
            let Some(old) = t.get(id) else {
                continue;
            };
            let mut moves = Vec::with_capacity(table.uniques.len());
            for u in &table.uniques {
                let (ko, kn) = (unique_key(u, &old)?, unique_key(u, &new)?);
                moves.push(if ko == kn { None } else { Some((ko, kn)) });
            }
            if let Ok(t) = self.storage(table, p) {
                for (ix, m) in t.indexes.iter_mut().zip(&moves) {
                    if let Some((Some(ko), _)) = m {
                        ix.remove(ko, id);
                    }
                }
            }
            planned.push((id, new, moves));
        }
        for (id, new, moves) in planned {
            for (i, (u, m)) in table.uniques.iter().zip(&moves).enumerate() {
                if let Some((_, Some(kn))) = m
                    && u.kind.is_unique()
                    && self.find(table, p, i, kn)?.is_some()
                {
                    return Err(violation(table, u, kn));
                }
            }
            let t = self.storage(table, p)?;
            let Some(old) = t.replace(id, &new)? else {
                continue;
            };
            for (ix, m) in t.indexes.iter_mut().zip(moves) {
                if let Some((_, Some(kn))) = m {
                    ix.insert(kn, id);
                }
            }
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
        self.undo.entries.push(UndoEntry {
            table: table.clone(),
            p,
            undo,
        });
    }

    /// Runs `apply` with this writer; if it fails, everything it did is undone (the
    /// transaction's earlier statements stay).
    pub fn atomically(mut self, apply: impl FnOnce(&mut Writer) -> Result<()>) -> Result<()> {
        let r = apply(&mut self);
        if r.is_err() {
            self.undo.rollback_to(self.mark, self.partitions, self.first);
        }
        r
    }
}

fn stored<'p>(partitions: &'p [Partition], first: usize, table: &TableDef, p: usize) -> Result<&'p Table> {
    if p < first || p - first >= partitions.len() {
        return Err(outside_window(table));
    }
    partitions
        .get(p - first)
        .and_then(|part| part.table(table.id))
        .ok_or_else(|| missing(table, p))
}

fn stored_mut<'p>(partitions: &'p mut [Partition], first: usize, table: &TableDef, p: usize) -> Result<&'p mut Table> {
    if p < first || p - first >= partitions.len() {
        return Err(outside_window(table));
    }
    partitions
        .get_mut(p - first)
        .and_then(|part| part.table_mut(table.id))
        .ok_or_else(|| missing(table, p))
}

/// A single-partition transaction wrote a row that belongs elsewhere.
fn outside_window(table: &TableDef) -> Error {
    if table.partition_column.is_none() {
        Error::Invalid(format!(
            "Trying to write to replicated table '{}' in a single-partition procedure: replicated tables are written only by multi-partition transactions",
            table.name
        ))
    } else {
        Error::Constraint(format!(
            "Mispartitioned tuple in single-partition insert statement: the row of table '{}' belongs to another partition",
            table.name
        ))
    }
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
