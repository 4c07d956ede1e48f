//! [`Writer`]: every change a statement makes, across tables, with index upkeep, view
//! maintenance and one undo log.

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

/// An update between its two halves: the row, its images, and per index whose key it
/// changes the key leaving and the key entering (`None`: the row is not in that index).
struct PlannedUpdate {
    id: RowId,
    old: Row,
    new: Row,
    moves: Vec<(usize, IndexKey, IndexKey)>,
}

/// A row's key in one index; `None` when the row is not in it.
type IndexKey = Option<Box<[Value]>>;

/// Whether a row's key for `u` may differ between two images: false only for a plain
/// column key whose columns hold equal values (then the keys are equal, no need to build
/// them).
fn key_may_differ(u: &crate::catalog::UniqueKey, old: &[Value], new: &[Value]) -> bool {
    use crate::expr::ExprKind;
    if u.predicate.is_some() {
        return true;
    }
    u.exprs.iter().any(|e| match e.kind {
        ExprKind::Column(i) => old.get(i) != new.get(i),
        _ => true,
    })
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
    /// Table partitions whose indexes were changed (rebuilt on rollback), each once. A
    /// vector kept across transactions: a transaction touches few, and clearing keeps the
    /// allocation.
    touched: Vec<(TableId, usize, Arc<TableDef>)>,
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
        self.touched.iter().map(|(id, p, _)| (*id, *p))
    }

    /// Notes that a change reaches table partition (`table`, `p`).
    fn touch(&mut self, table: &Arc<TableDef>, p: usize) {
        // Newest first: a statement writes one table partition many times in a row.
        if !self.touched.iter().rev().any(|(id, q, _)| *id == table.id && *q == p) {
            self.touched.push((table.id, p, table.clone()));
        }
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
        for (_, p, table) in &self.touched {
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
        self.undo.touch(table, p);
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
        let mut planned = Vec::with_capacity(changes.len());
        for (id, new) in changes {
            let Some(old) = self.storage(table, p)?.get(id) else {
                continue;
            };
            planned.push(self.plan_update(table, p, id, old, new)?);
        }
        for update in planned {
            self.finish_update(table, p, update)?;
        }
        Ok(())
    }

    /// Replaces one row in place with `edit` of its current image (the image must still
    /// pass [`super::check_row`]: `edit` checks what it changed). False if no row is at `id`.
    pub fn update_row(
        &mut self,
        table: &Arc<TableDef>,
        p: usize,
        id: RowId,
        edit: impl FnOnce(&[Value]) -> Result<Row>,
    ) -> Result<bool> {
        let Some(old) = self.storage(table, p)?.get(id) else {
            return Ok(false);
        };
        let new = edit(&old)?;
        let update = self.plan_update(table, p, id, old, new)?;
        self.finish_update(table, p, update)?;
        Ok(true)
    }

    /// The first half of an update: the keys the row changes leave their indexes.
    fn plan_update(&mut self, table: &Arc<TableDef>, p: usize, id: RowId, old: Row, new: Row) -> Result<PlannedUpdate> {
        let mut moves = Vec::new();
        for (i, u) in table.uniques.iter().enumerate() {
            if !key_may_differ(u, &old, &new) {
                continue;
            }
            let (ko, kn) = (unique_key(u, &old)?, unique_key(u, &new)?);
            if ko != kn {
                moves.push((i, ko, kn));
            }
        }
        if !moves.is_empty() {
            let t = self.storage(table, p)?;
            for (i, ko, _) in &moves {
                if let (Some(ix), Some(ko)) = (t.indexes.get_mut(*i), ko) {
                    ix.remove(ko, id);
                }
            }
        }
        Ok(PlannedUpdate { id, old, new, moves })
    }

    /// The second half: the new keys are checked and enter, the new image is written.
    fn finish_update(&mut self, table: &Arc<TableDef>, p: usize, update: PlannedUpdate) -> Result<()> {
        let PlannedUpdate { id, old, new, moves } = update;
        for (i, _, kn) in &moves {
            if let (Some(u), Some(kn)) = (table.uniques.get(*i), kn)
                && u.kind.is_unique()
                && self.find(table, p, *i, kn)?.is_some()
            {
                return Err(violation(table, u, kn));
            }
        }
        let t = self.storage(table, p)?;
        if !t.overwrite(id, &new, &old)? {
            return Ok(());
        }
        for (i, _, kn) in moves {
            if let (Some(ix), Some(kn)) = (t.indexes.get_mut(i), kn) {
                ix.insert(kn, id);
            }
        }
        let changed = (!table.views.is_empty()).then(|| old.clone());
        self.log(table, p, Undo::Updated { id, old });
        if let Some(old) = changed {
            crate::views::row_changed(self, table, p, id, &old)?;
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
