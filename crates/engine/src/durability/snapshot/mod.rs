//! Snapshots: a transaction-consistent image of every partition plus the catalog, in a
//! folder of checksummed files that is either complete or ignored. The byte layout is
//! specified in docs/STORAGE-FORMAT.md ("Snapshots"); this module owns those files and
//! nothing else: it does not take the image (the caller hands it partition copies), does
//! not rebuild the catalog or the tables (the caller's `visit` does), and does not decide
//! which snapshot recovery uses or when old ones go.
//!
//! Life of a snapshot:
//! 1. The caller copies each partition at one point of the transaction order and calls
//!    [`write_snapshot`] (on a background thread) with a [`SnapshotMeta`] (name, the last
//!    command-log LSN the image includes, the DDL that rebuilds the catalog) and one
//!    [`TableImage`] per table and partition (a replicated table once, as partition 0).
//! 2. [`write_snapshot`] creates `root/<nonce>/`, writes `catalog.vsnap`, then one
//!    `t<n>_<DB>_<TABLE>_p<P>.vsnap` per table image, each synced, then syncs the folder and
//!    writes the marker `COMPLETE` (through `COMPLETE.tmp` and a rename) holding every other
//!    file's name, length and CRC32C. A crash before the rename leaves a folder without a
//!    marker, which [`list_snapshots`] reports as incomplete and [`newest_complete`] skips.
//! 3. At start-up [`newest_complete`] picks the complete snapshot with the highest LSN and
//!    [`read_snapshot`] checks each file against the marker and its chunk checksums, then
//!    hands back the meta and every row through `visit`; the caller replays the command
//!    log after `meta.lsn`.
//! 4. [`delete_snapshot`] removes the marker first, so a crash while deleting leaves an
//!    incomplete snapshot, never a complete-looking one with files missing.
//!
//! [`write_csv`] writes the same images as one CSV file per table, for people and other
//! tools; it is an export, not something [`read_snapshot`] reads.

mod csv;
mod format;
mod read;
#[cfg(test)]
mod tests;
mod write;

use std::io;
use std::path::Path;

use voltrs_storage::DataType;
use voltrs_storage::table::Table;

use crate::durability::io::Storage;

pub use csv::{CsvFile, write_csv};
pub use read::{Visit, list_snapshots, newest_complete, read_meta, read_snapshot};
pub use write::write_snapshot;

/// The catalog file of every snapshot.
pub const CATALOG_FILE: &str = "catalog.vsnap";
/// The completion marker, written last.
pub const MARKER_FILE: &str = "COMPLETE";
/// The marker before its rename; never read.
const MARKER_TMP: &str = "COMPLETE.tmp";
/// Row bytes per chunk of a table data file (a chunk holds whole rows, so one with a
/// large row can be bigger).
const CHUNK_BYTES: usize = 1 << 20;
/// The longest snapshot name (it is a folder name).
const MAX_NONCE_LEN: usize = 128;

/// What a snapshot is, besides its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The snapshot's name and folder: `[A-Za-z0-9_-]+`, at most 128 characters.
    pub nonce: String,
    /// The last command-log record the image includes; replay starts after it.
    pub lsn: u64,
    /// Wall-clock creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub partition_count: u32,
    /// `(database, DDL text)` in the order they were applied: replaying them rebuilds
    /// the catalog.
    pub ddl: Vec<(String, String)>,
}

/// One partition's copy of one table (or a materialized view: its rows are stored as
/// they are, not recomputed).
#[derive(Debug, Clone, Copy)]
pub struct TableImage<'a> {
    pub database: &'a str,
    pub name: &'a str,
    pub columns: &'a [(String, DataType)],
    /// A replicated table is identical in every partition: it is written once, as
    /// partition 0, and the reader loads it into every partition.
    pub replicated: bool,
    pub partition: u32,
    pub table: &'a Table,
}

/// What [`write_snapshot`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub nonce: String,
    pub lsn: u64,
    /// Files, the marker included.
    pub files: usize,
    pub bytes: u64,
    pub rows: u64,
}

/// One folder under the snapshot root, as [`list_snapshots`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The folder name.
    pub nonce: String,
    /// A valid marker that agrees with the catalog file, and every file it lists present.
    /// File contents are checked by [`read_snapshot`], not here.
    pub complete: bool,
    /// From the catalog file; `None` when it is missing or unreadable.
    pub lsn: Option<u64>,
    pub created_ms: Option<i64>,
    pub partition_count: Option<u32>,
    /// Bytes of all its files.
    pub bytes: u64,
    pub tables: Vec<TableInfo>,
    /// Why it is not complete, or what else is wrong with it.
    pub problem: Option<String>,
}

/// One table of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub database: String,
    pub name: String,
    pub replicated: bool,
    /// Rows over all partitions (a replicated table's one copy).
    pub rows: u64,
}

/// Why a snapshot could not be written, found or read. Every message names the snapshot
/// and, where there is one, the file (and the byte offset in it).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("invalid snapshot name \"{nonce}\": {reason}")]
    InvalidNonce { nonce: String, reason: &'static str },
    #[error("snapshot \"{nonce}\" already exists (delete it or choose another name)")]
    Exists { nonce: String },
    #[error("snapshot \"{nonce}\" does not exist")]
    NotFound { nonce: String },
    #[error("snapshot \"{nonce}\" is incomplete: {reason}")]
    Incomplete { nonce: String, reason: String },
    /// A file's bytes are not what the format or the marker says they must be.
    #[error("snapshot \"{nonce}\": file {file} offset {offset}: {what}")]
    Corrupt {
        nonce: String,
        file: String,
        offset: u64,
        what: String,
    },
    /// The tables handed to [`write_snapshot`] do not make a whole image.
    #[error("snapshot \"{nonce}\": {what}")]
    InvalidImage { nonce: String, what: String },
    /// `path` is a file name inside the snapshot folder, or a folder.
    #[error("snapshot \"{nonce}\": {path}: {source}")]
    Io {
        nonce: String,
        path: String,
        source: io::Error,
    },
    /// The caller's `visit` refused a row.
    #[error("snapshot \"{nonce}\": file {file}: {message}")]
    Visit {
        nonce: String,
        file: String,
        message: String,
    },
    #[error("CSV export: {path}: {source}")]
    Csv { path: String, source: io::Error },
}

/// Checks a snapshot name: `[A-Za-z0-9_-]+`, at most 128 characters.
pub fn check_nonce(nonce: &str) -> Result<(), SnapshotError> {
    let reason = if nonce.is_empty() {
        "it is empty"
    } else if nonce.len() > MAX_NONCE_LEN {
        "it is longer than 128 characters"
    } else if !nonce
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        "use only letters, digits, '_' and '-'"
    } else {
        return Ok(());
    };
    Err(SnapshotError::InvalidNonce {
        nonce: nonce.to_string(),
        reason,
    })
}

/// Deletes a snapshot, complete or not: the marker first (then the folder is an incomplete
/// snapshot, whatever a crash leaves of it), then everything else.
pub fn delete_snapshot(storage: &dyn Storage, root: &Path, nonce: &str) -> Result<(), SnapshotError> {
    check_nonce(nonce)?;
    let dir = root.join(nonce);
    if !storage.exists(&dir) {
        return Err(SnapshotError::NotFound {
            nonce: nonce.to_string(),
        });
    }
    remove(storage, root, &dir).map_err(|(path, source)| SnapshotError::Io {
        nonce: nonce.to_string(),
        path,
        source,
    })
}

/// A name for a file name: letters, digits and '_' kept, anything else '-', at most 64
/// characters. The real name is inside the file.
fn file_safe(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
        .collect()
}

/// Removes a snapshot folder, marker first; on failure, the path that failed.
fn remove(storage: &dyn Storage, root: &Path, dir: &Path) -> Result<(), (String, io::Error)> {
    let marker = dir.join(MARKER_FILE);
    if storage.exists(&marker) {
        storage.remove_file(&marker).map_err(|e| (MARKER_FILE.to_string(), e))?;
        storage.sync_dir(dir).map_err(|e| (dir.display().to_string(), e))?;
    }
    storage
        .remove_dir_all(dir)
        .map_err(|e| (dir.display().to_string(), e))?;
    storage.sync_dir(root).map_err(|e| (root.display().to_string(), e))
}
