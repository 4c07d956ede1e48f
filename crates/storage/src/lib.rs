//! voltrs storage: values, types and per-partition row storage.
//!
//! Owns: the SQL types ([`DataType`]), runtime [`Value`]s with DECIMAL and TIMESTAMP, the
//! shared text forms ([`text`]), and per-partition tables ([`Table`], [`Partition`]) that
//! keep rows in arenas with stable [`RowId`]s. Must not touch: SQL parsing or planning,
//! threads, the network or the disk.
//!
//! Data flow: the SQL executor (1) computes a row's partition with the hashinator, (2) asks
//! that [`Partition`] for the [`Table`], (3) checks and updates the unique keys it computed,
//! (4) inserts, replaces or deletes by [`RowId`], and records the old image for undo.

pub mod decimal;
pub mod index;
pub mod row;
pub mod table;
pub mod text;
pub mod timestamp;
pub mod types;
pub mod value;

pub use decimal::Decimal;
pub use index::{Index, IndexMethod, IndexSpec, Key};
pub use table::{Partition, Row, RowId, Table, TableId};
pub use types::DataType;
pub use value::Value;
