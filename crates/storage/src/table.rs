//! One partition's rows of one table: an arena of slots with stable row ids.
//!
//! A row keeps its id until it is deleted; a deleted slot is reused by a later insert.
//! Undo restores a deleted row into the same slot, so ids held by indexes stay valid.
//! A full scan walks the arena in slot order, never an index.

use std::collections::BTreeMap;

use crate::index::{Index, IndexSpec};
use crate::value::Value;

/// Stable identity of a row within one partition's table.
pub type RowId = u32;

/// A stored row: one value per column, in column order.
pub type Row = Box<[Value]>;

/// Catalog identity of a table; never reused within a running database.
pub type TableId = u32;

#[derive(Debug, Default, Clone)]
pub struct Table {
    slots: Vec<Option<Row>>,
    free: Vec<RowId>,
    len: usize,
    /// The table's indexes, in catalog order. The SQL layer computes keys and keeps them
    /// current; rows with a NULL in the key are not entered.
    pub indexes: Vec<Index>,
}

impl Table {
    pub fn new(indexes: &[IndexSpec]) -> Table {
        Table {
            indexes: indexes.iter().map(|s| Index::new(*s)).collect(),
            ..Table::default()
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, id: RowId) -> Option<&Row> {
        self.slots.get(id as usize).and_then(|s| s.as_ref())
    }

    pub fn insert(&mut self, row: Row) -> RowId {
        self.len += 1;
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(row);
                id
            }
            None => {
                self.slots.push(Some(row));
                (self.slots.len() - 1) as RowId
            }
        }
    }

    pub fn delete(&mut self, id: RowId) -> Option<Row> {
        let row = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        self.len -= 1;
        Some(row)
    }

    /// Replaces a live row, returning the old image.
    pub fn replace(&mut self, id: RowId, row: Row) -> Option<Row> {
        let slot = self.slots.get_mut(id as usize)?;
        if slot.is_none() {
            return None;
        }
        slot.replace(row)
    }

    /// Puts a deleted row back into its old slot (undo of a delete).
    pub fn restore(&mut self, id: RowId, row: Row) {
        let idx = id as usize;
        if idx >= self.slots.len() {
            self.slots.resize(idx + 1, None);
        }
        if self.free.last() == Some(&id) {
            self.free.pop();
        } else if let Some(pos) = self.free.iter().rposition(|f| *f == id) {
            self.free.remove(pos);
        }
        if self.slots[idx].replace(row).is_none() {
            self.len += 1;
        }
    }

    /// Live rows in slot order.
    pub fn scan(&self) -> impl Iterator<Item = (RowId, &Row)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|r| (i as RowId, r)))
    }

    /// Removes every row, returning them with their ids (for undo).
    pub fn take_all(&mut self) -> Vec<(RowId, Row)> {
        let rows: Vec<(RowId, Row)> = std::mem::take(&mut self.slots)
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|r| (i as RowId, r)))
            .collect();
        self.free.clear();
        self.len = 0;
        for ix in &mut self.indexes {
            ix.clear();
        }
        rows
    }
}

/// One partition's data: every table's rows in that partition.
#[derive(Debug, Default, Clone)]
pub struct Partition {
    pub tables: BTreeMap<TableId, Table>,
}

impl Partition {
    pub fn table(&self, id: TableId) -> Option<&Table> {
        self.tables.get(&id)
    }
    pub fn table_mut(&mut self, id: TableId) -> Option<&mut Table> {
        self.tables.get_mut(&id)
    }
}
