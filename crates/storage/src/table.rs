//! One partition's rows of one table: an arena of fixed-size records with stable row ids.
//!
//! A row keeps its id until it is deleted; a deleted slot is reused by a later insert.
//! Undo restores a deleted row into the same slot, so ids held by indexes stay valid.
//! A full scan walks the arena in slot order, never an index. Records are encoded by the
//! table's [`Layout`] (see [`crate::row`]): no heap allocation per row for fixed-width
//! columns and short strings.

use std::collections::BTreeMap;

use crate::index::{Index, IndexSpec};
use crate::row::{EncodeError, Layout};
use crate::types::DataType;
use crate::value::Value;

/// Stable identity of a row within one partition's table.
pub type RowId = u32;

/// A row as values, one per column, in column order.
pub type Row = Box<[Value]>;

/// Catalog identity of a table; never reused within a running database.
pub type TableId = u32;

#[derive(Debug, Default, Clone)]
pub struct Table {
    layout: Layout,
    /// `layout.size()` bytes per slot.
    records: Vec<u8>,
    /// `layout.outline_count()` values per slot (long strings).
    outline: Vec<Value>,
    live: Vec<bool>,
    free: Vec<RowId>,
    len: usize,
    /// The table's indexes, in catalog order. The SQL layer computes keys and keeps them
    /// current; rows with a NULL in the key are not entered.
    pub indexes: Vec<Index>,
}

impl Table {
    pub fn new(columns: &[DataType], indexes: &[IndexSpec]) -> Table {
        Table {
            layout: Layout::new(columns),
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

    pub fn contains(&self, id: RowId) -> bool {
        self.live.get(id as usize).copied().unwrap_or(false)
    }

    /// A live row's values.
    pub fn get(&self, id: RowId) -> Option<Row> {
        let mut out = Vec::with_capacity(self.layout.columns());
        self.read_into(id, &mut out).then(|| out.into_boxed_slice())
    }

    /// Appends a live row's values to `out`; false (and nothing appended) if `id` is not live.
    pub fn read_into(&self, id: RowId, out: &mut Vec<Value>) -> bool {
        if !self.contains(id) {
            return false;
        }
        let (record, outline) = self.slot(id as usize);
        self.layout.decode_into(record, outline, out);
        true
    }

    fn slot(&self, i: usize) -> (&[u8], &[Value]) {
        let (size, k) = (self.layout.size(), self.layout.outline_count());
        (
            &self.records[i * size..(i + 1) * size],
            &self.outline[i * k..(i + 1) * k],
        )
    }

    fn write(&mut self, i: usize, row: &[Value]) -> Result<(), EncodeError> {
        let (size, k) = (self.layout.size(), self.layout.outline_count());
        if i >= self.live.len() {
            self.records.resize((i + 1) * size, 0);
            self.outline.resize((i + 1) * k, Value::Null);
            self.live.resize(i + 1, false);
        }
        self.layout.encode(
            row,
            &mut self.records[i * size..(i + 1) * size],
            &mut self.outline[i * k..(i + 1) * k],
        )
    }

    fn clear_slot(&mut self, i: usize) {
        let k = self.layout.outline_count();
        for v in &mut self.outline[i * k..(i + 1) * k] {
            *v = Value::Null;
        }
        self.live[i] = false;
    }

    pub fn insert(&mut self, row: &[Value]) -> Result<RowId, EncodeError> {
        let id = match self.free.last() {
            Some(&id) => id,
            None => self.live.len() as RowId,
        };
        self.write(id as usize, row)?;
        if self.free.last() == Some(&id) {
            self.free.pop();
        }
        self.live[id as usize] = true;
        self.len += 1;
        Ok(id)
    }

    pub fn delete(&mut self, id: RowId) -> Option<Row> {
        let row = self.get(id)?;
        self.clear_slot(id as usize);
        self.free.push(id);
        self.len -= 1;
        Some(row)
    }

    /// Replaces a live row, returning the old image (`None` if `id` is not live).
    pub fn replace(&mut self, id: RowId, row: &[Value]) -> Result<Option<Row>, EncodeError> {
        let Some(old) = self.get(id) else {
            return Ok(None);
        };
        self.overwrite(id, row, &old)?;
        Ok(Some(old))
    }

    /// Writes `row` over the live row at `id`, whose current image the caller read as `old`
    /// (it is put back if `row` does not encode). False if no row is at `id`.
    pub fn overwrite(&mut self, id: RowId, row: &[Value], old: &[Value]) -> Result<bool, EncodeError> {
        if !self.contains(id) {
            return Ok(false);
        }
        if let Err(e) = self.write(id as usize, row) {
            // The slot must never hold a half-written row.
            let _ = self.write(id as usize, old);
            return Err(e);
        }
        Ok(true)
    }

    /// Puts a deleted row back into its old slot (undo of a delete).
    pub fn restore(&mut self, id: RowId, row: &[Value]) -> Result<(), EncodeError> {
        self.write(id as usize, row)?;
        if self.free.last() == Some(&id) {
            self.free.pop();
        } else if let Some(pos) = self.free.iter().rposition(|f| *f == id) {
            self.free.remove(pos);
        }
        if !std::mem::replace(&mut self.live[id as usize], true) {
            self.len += 1;
        }
        Ok(())
    }

    /// Ids of the live rows, in slot order.
    pub fn ids(&self) -> impl Iterator<Item = RowId> + '_ {
        (0..self.live.len() as RowId).filter(|&id| self.contains(id))
    }

    /// Live rows in slot order.
    pub fn scan(&self) -> impl Iterator<Item = (RowId, Row)> + '_ {
        (0..self.live.len() as RowId).filter_map(|id| self.get(id).map(|r| (id, r)))
    }

    /// Calls `visit` with each live row in slot order (decoded into one reused buffer)
    /// until it returns false.
    pub fn for_each<E>(&self, mut visit: impl FnMut(RowId, &[Value]) -> Result<bool, E>) -> Result<(), E> {
        let mut buf = Vec::with_capacity(self.layout.columns());
        for id in 0..self.live.len() as RowId {
            buf.clear();
            if self.read_into(id, &mut buf) && !visit(id, &buf)? {
                break;
            }
        }
        Ok(())
    }

    /// Removes every row, returning them with their ids (for undo).
    pub fn take_all(&mut self) -> Vec<(RowId, Row)> {
        let rows: Vec<(RowId, Row)> = self.scan().collect();
        self.records.clear();
        self.outline.clear();
        self.live.clear();
        self.free.clear();
        self.len = 0;
        for ix in &mut self.indexes {
            ix.clear();
        }
        rows
    }

    /// A copy of the rows only (the arena, no indexes): what a snapshot writes, taken at a
    /// point of the transaction order and written later while the table moves on.
    pub fn rows_copy(&self) -> Table {
        Table {
            layout: self.layout.clone(),
            records: self.records.clone(),
            outline: self.outline.clone(),
            live: self.live.clone(),
            free: self.free.clone(),
            len: self.len,
            indexes: Vec::new(),
        }
    }

    /// Bytes held by the row arena (records, out-of-line slots and bookkeeping; not the
    /// heap bytes of long strings, nor indexes).
    pub fn arena_bytes(&self) -> usize {
        self.records.capacity()
            + self.outline.capacity() * std::mem::size_of::<Value>()
            + self.live.capacity()
            + self.free.capacity() * std::mem::size_of::<RowId>()
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
