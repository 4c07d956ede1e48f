//! The catalog: databases (namespaces) of tables and indexes. Immutable and versioned:
//! DDL builds the next [`Catalog`] and the engine swaps the `Arc`, so planning can read a
//! catalog without locks while the next version is being built.
//!
//! Names are case-insensitive and stored upper-case, as VoltDB reports them.

use std::collections::BTreeMap;
use std::sync::Arc;

use voltrs_storage::{DataType, TableId, Value};

use crate::error::{Result, name_err};
use crate::expr::Expr;

/// The database every session starts in.
pub const DEFAULT_DATABASE: &str = "VOLTRS";

#[derive(Debug, Clone)]
pub struct Catalog {
    pub version: u64,
    pub databases: BTreeMap<String, Arc<Namespace>>,
    pub next_table_id: TableId,
}

#[derive(Debug, Clone, Default)]
pub struct Namespace {
    pub name: String,
    pub tables: BTreeMap<String, Arc<TableDef>>,
    /// Every index by name (unique ones also appear as a [`UniqueKey`] of their table).
    pub indexes: BTreeMap<String, IndexDef>,
    /// Stored procedures by upper-case name.
    pub procedures: BTreeMap<String, Arc<crate::procedures::ProcedureDef>>,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub id: TableId,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// The partition column; `None` for a replicated table.
    pub partition_column: Option<usize>,
    /// Every index of the table, in the order of the storage's indexes: constraints
    /// (PRIMARY KEY, UNIQUE, ASSUMEUNIQUE) first, then CREATE INDEX ones (unique or not,
    /// `kind` says).
    pub uniques: Vec<UniqueKey>,
    /// `LIMIT PARTITION ROWS n`.
    pub row_limit: Option<u64>,
    /// The constraint name of the row limit, if it has one.
    pub row_limit_name: Option<String>,
    /// Set when this table is a materialized view: how its rows derive from its sources.
    pub view: Option<Arc<crate::views::ViewDef>>,
    /// The materialized views over this table (their current definitions), maintained by
    /// every write to it. Kept current by [`crate::views::relink`].
    pub views: Vec<Arc<TableDef>>,
}

#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: String,
    pub ty: DataType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    Value(Value),
    /// `DEFAULT NOW` / `CURRENT_TIMESTAMP`: the transaction's timestamp.
    Now,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKind {
    PrimaryKey,
    Unique,
    /// Promised globally unique by the user; checked within each partition only.
    AssumeUnique,
    /// A plain (non-unique) index from CREATE INDEX: any number of rows per key.
    NotUnique,
}

impl UniqueKind {
    /// Whether a key may be held by one row only.
    pub fn is_unique(self) -> bool {
        self != UniqueKind::NotUnique
    }
}

#[derive(Debug, Clone)]
pub struct UniqueKey {
    /// The constraint or index name; a name the user gave that contains `HASH` makes a hash
    /// index (VoltDB's naming rule), any other an ordered tree.
    pub name: String,
    pub kind: UniqueKind,
    /// Key expressions over the table's row (plain columns for constraints).
    pub exprs: Vec<Expr>,
    /// Partial index predicate: only rows that satisfy it are keyed.
    pub predicate: Option<Expr>,
    /// Set when the key comes from CREATE INDEX (dropped with DROP INDEX).
    pub index: bool,
}

#[derive(Debug, Clone)]
pub struct IndexDef {
    pub name: String,
    pub table: String,
    pub unique: Option<UniqueKind>,
    pub exprs: Vec<Expr>,
    /// The key as written, for listings.
    pub text: Vec<String>,
    pub predicate: Option<Expr>,
}

impl UniqueKey {
    /// How the storage keeps this index.
    pub fn storage_spec(&self) -> voltrs_storage::IndexSpec {
        // VoltDB's rule reads the name the user gave; generated constraint names (which
        // embed table and column names) never make a hash index.
        let method = if self.name.contains("HASH") && !self.name.starts_with("VOLTDB_AUTOGEN_") {
            voltrs_storage::IndexMethod::Hash
        } else {
            voltrs_storage::IndexMethod::Tree
        };
        voltrs_storage::IndexSpec {
            unique: self.kind.is_unique(),
            method,
            integer_key: matches!(self.exprs.as_slice(), [e] if e.ty.is_integer()),
        }
    }
}

impl TableDef {
    /// Empty storage for one partition of this table: its row layout and indexes.
    pub fn new_storage(&self) -> voltrs_storage::Table {
        let types: Vec<DataType> = self.columns.iter().map(|c| c.ty).collect();
        voltrs_storage::Table::new(&types, &self.index_specs())
    }

    /// Storage specs of every index, in storage order.
    pub fn index_specs(&self) -> Vec<voltrs_storage::IndexSpec> {
        self.uniques.iter().map(UniqueKey::storage_spec).collect()
    }
}

impl Catalog {
    pub fn new() -> Catalog {
        let mut databases = BTreeMap::new();
        databases.insert(
            DEFAULT_DATABASE.to_string(),
            Arc::new(Namespace {
                name: DEFAULT_DATABASE.to_string(),
                ..Namespace::default()
            }),
        );
        Catalog {
            version: 1,
            databases,
            next_table_id: 1,
        }
    }

    pub fn database(&self, name: &str) -> Result<&Arc<Namespace>> {
        match self.databases.get(name) {
            Some(ns) => Ok(ns),
            None => name_err(format!("database \"{name}\" does not exist")),
        }
    }

    /// Every table of every database (for storage bookkeeping).
    pub fn all_tables(&self) -> impl Iterator<Item = &Arc<TableDef>> {
        self.databases.values().flat_map(|ns| ns.tables.values())
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new()
    }
}

impl Namespace {
    pub fn table(&self, name: &str) -> Result<&Arc<TableDef>> {
        match self.tables.get(name) {
            Some(t) => Ok(t),
            None => name_err(format!("object not found: table \"{name}\" does not exist")),
        }
    }
}

impl TableDef {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn primary_key(&self) -> Option<&UniqueKey> {
        self.uniques.iter().find(|u| u.kind == UniqueKind::PrimaryKey)
    }

    /// Whether the rows are spread over the partitions (a partitioned table, or a view of
    /// one that holds partial rows), rather than fully copied into every partition.
    pub fn is_partitioned(&self) -> bool {
        self.partition_column.is_some() || self.view.as_ref().is_some_and(|v| v.partial)
    }

    pub fn is_view(&self) -> bool {
        self.view.is_some()
    }
}
