//! Reading snapshots back: the marker, the catalog file and the table data files, each
//! checked against the marker and its chunk checksums before anything inside is used.

use std::collections::BTreeMap;
use std::path::Path;

use voltrs_storage::{DataType, Value};
use voltrs_wire::codec::{Reader, decode_table};

use super::format::{
    Chunk, Chunks, Corrupt, FileDigest, FileKind, bad, check_frames, check_header, corrupt, kind, wire_type,
};
use super::{CATALOG_FILE, MARKER_FILE, SnapshotError, SnapshotInfo, SnapshotMeta, TableInfo, check_nonce};
use crate::durability::io::Storage;

/// The row visitor of [`read_snapshot`]: database, table, partition, the row's values.
pub type Visit<'v> = dyn FnMut(&str, &str, u32, Vec<Value>) -> Result<(), String> + 'v;

/// Reads complete snapshot `nonce`: checks its marker and catalog file, then reads each
/// table data file in (database, table, partition) order, checking the whole file before
/// handing its rows to `visit` (a replicated table comes once, as partition 0). Returns
/// the meta (`meta.ddl` rebuilds the catalog).
///
/// A missing or invalid marker, a file whose length or checksum differs from the marker's,
/// or any malformed chunk is an error naming the file and offset. The error can come after
/// rows of earlier files were visited: on error the caller discards everything it loaded.
pub fn read_snapshot(
    storage: &dyn Storage,
    root: &Path,
    nonce: &str,
    visit: &mut Visit<'_>,
) -> Result<SnapshotMeta, SnapshotError> {
    check_nonce(nonce)?;
    let snap = Folder::open(storage, root, nonce)?;
    let marker = snap.marker()?;
    let digests: BTreeMap<&str, &FileDigest> = marker.files.iter().map(|d| (d.name.as_str(), d)).collect();
    let digest = |file: &str| {
        digests.get(file).copied().ok_or_else(|| SnapshotError::Corrupt {
            nonce: nonce.to_string(),
            file: MARKER_FILE.to_string(),
            offset: 0,
            what: format!("the marker does not list {file}"),
        })
    };
    let catalog_bytes = snap.read_checked(digest(CATALOG_FILE)?)?;
    let catalog = parse_catalog(&catalog_bytes).map_err(|c| snap.corrupt(CATALOG_FILE, c))?;
    snap.check_agreement(&marker, &catalog)?;
    for entry in &catalog.tables {
        let bytes = snap.read_checked(digest(&entry.file)?)?;
        read_table(&bytes, entry, visit).map_err(|e| match e {
            TableError::Corrupt(c) => snap.corrupt(&entry.file, c),
            TableError::Visit(message) => SnapshotError::Visit {
                nonce: nonce.to_string(),
                file: entry.file.clone(),
                message,
            },
        })?;
    }
    Ok(catalog.meta)
}

/// A complete snapshot's meta (its LSN and the DDL that rebuilds its catalog), checked
/// against the marker, without reading its rows.
pub fn read_meta(storage: &dyn Storage, root: &Path, nonce: &str) -> Result<SnapshotMeta, SnapshotError> {
    check_nonce(nonce)?;
    let snap = Folder::open(storage, root, nonce)?;
    let marker = snap.marker()?;
    let Some(digest) = marker.files.iter().find(|d| d.name == CATALOG_FILE) else {
        return Err(snap.corrupt(
            MARKER_FILE,
            Corrupt {
                offset: 0,
                what: format!("the marker does not list {CATALOG_FILE}"),
            },
        ));
    };
    let bytes = snap.read_checked(digest)?;
    let catalog = parse_catalog(&bytes).map_err(|c| snap.corrupt(CATALOG_FILE, c))?;
    snap.check_agreement(&marker, &catalog)?;
    Ok(catalog.meta)
}

/// Every folder under `root`, by name, complete or not. Never fails: what cannot
/// be read is reported in [`SnapshotInfo::problem`]; a missing root is no snapshots.
pub fn list_snapshots(storage: &dyn Storage, root: &Path) -> Vec<SnapshotInfo> {
    let Ok(names) = storage.list(root) else {
        return Vec::new();
    };
    names
        .into_iter()
        // Plain files are not snapshots; listing one fails.
        .filter(|name| storage.list(&root.join(name)).is_ok())
        .map(|name| inspect(storage, root, name))
        .collect()
}

/// The complete snapshot with the highest LSN (then the latest creation time).
pub fn newest_complete(storage: &dyn Storage, root: &Path) -> Option<SnapshotInfo> {
    list_snapshots(storage, root)
        .into_iter()
        .filter(|s| s.complete)
        .max_by_key(|s| (s.lsn, s.created_ms, s.nonce.clone()))
}

fn inspect(storage: &dyn Storage, root: &Path, nonce: String) -> SnapshotInfo {
    let mut info = SnapshotInfo {
        nonce,
        complete: false,
        lsn: None,
        created_ms: None,
        partition_count: None,
        bytes: 0,
        tables: Vec::new(),
        problem: None,
    };
    let problem = match inspect_into(storage, root, &mut info) {
        Ok(()) => return info,
        Err(e) => e.to_string(),
    };
    info.problem = Some(problem);
    // What an incomplete folder takes on disk (reading it is the only way to know).
    let dir = root.join(&info.nonce);
    info.bytes = storage
        .list(&dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| storage.read(&dir.join(f)).ok())
        .map(|b| b.len() as u64)
        .sum();
    info
}

/// Fills `info` from the catalog file, then checks the marker: complete when it is valid,
/// agrees with the catalog file and every file it lists is present.
fn inspect_into(storage: &dyn Storage, root: &Path, info: &mut SnapshotInfo) -> Result<(), SnapshotError> {
    check_nonce(&info.nonce)?;
    let snap = Folder::open(storage, root, &info.nonce)?;
    let catalog_bytes = snap.read(CATALOG_FILE)?;
    let catalog = parse_catalog(&catalog_bytes).map_err(|c| snap.corrupt(CATALOG_FILE, c))?;
    info.lsn = Some(catalog.meta.lsn);
    info.created_ms = Some(catalog.meta.created_ms);
    info.partition_count = Some(catalog.meta.partition_count);
    let mut tables: BTreeMap<(&str, &str), TableInfo> = BTreeMap::new();
    for t in &catalog.tables {
        tables
            .entry((&t.database, &t.table))
            .or_insert_with(|| TableInfo {
                database: t.database.clone(),
                name: t.table.clone(),
                replicated: t.replicated,
                rows: 0,
            })
            .rows += t.rows;
    }
    info.tables = tables.into_values().collect();

    let marker = snap.marker()?;
    snap.check_agreement(&marker, &catalog)?;
    for d in &marker.files {
        if d.name == CATALOG_FILE {
            snap.check_digest(d, &catalog_bytes)?;
        } else if !storage.exists(&snap.dir.join(&d.name)) {
            return Err(snap.incomplete(format!("{} is missing", d.name)));
        }
    }
    info.bytes = marker.files.iter().map(|d| d.len).sum::<u64>() + marker.len;
    info.complete = true;
    Ok(())
}

/// One snapshot folder being read; builds errors that name it.
struct Folder<'a> {
    storage: &'a dyn Storage,
    dir: std::path::PathBuf,
    nonce: &'a str,
}

struct Marker {
    nonce: String,
    lsn: u64,
    files: Vec<FileDigest>,
    /// The marker's own length.
    len: u64,
}

impl<'a> Folder<'a> {
    fn open(storage: &'a dyn Storage, root: &Path, nonce: &'a str) -> Result<Folder<'a>, SnapshotError> {
        let dir = root.join(nonce);
        if !storage.exists(&dir) {
            return Err(SnapshotError::NotFound {
                nonce: nonce.to_string(),
            });
        }
        Ok(Folder { storage, dir, nonce })
    }

    fn corrupt(&self, file: &str, c: Corrupt) -> SnapshotError {
        SnapshotError::Corrupt {
            nonce: self.nonce.to_string(),
            file: file.to_string(),
            offset: c.offset,
            what: c.what,
        }
    }

    fn incomplete(&self, reason: String) -> SnapshotError {
        SnapshotError::Incomplete {
            nonce: self.nonce.to_string(),
            reason,
        }
    }

    fn read(&self, file: &str) -> Result<Vec<u8>, SnapshotError> {
        self.storage
            .read(&self.dir.join(file))
            .map_err(|source| SnapshotError::Io {
                nonce: self.nonce.to_string(),
                path: file.to_string(),
                source,
            })
    }

    /// The marker: missing means the write never finished.
    fn marker(&self) -> Result<Marker, SnapshotError> {
        if !self.storage.exists(&self.dir.join(MARKER_FILE)) {
            return Err(self.incomplete(format!("no {MARKER_FILE} marker (the write did not finish)")));
        }
        let bytes = self.read(MARKER_FILE)?;
        parse_marker(&bytes).map_err(|c| self.corrupt(MARKER_FILE, c))
    }

    /// A file whose length and checksum match the marker's record of it.
    fn read_checked(&self, digest: &FileDigest) -> Result<Vec<u8>, SnapshotError> {
        let bytes = self.read(&digest.name)?;
        self.check_digest(digest, &bytes)?;
        Ok(bytes)
    }

    /// Length first (a truncated file is reported as such), then the chunk checksums (a
    /// flipped bit is reported at its chunk), then the whole-file checksum.
    fn check_digest(&self, digest: &FileDigest, bytes: &[u8]) -> Result<(), SnapshotError> {
        let len = bytes.len() as u64;
        if len != digest.len {
            let what = if len < digest.len {
                "truncated"
            } else {
                "longer than written"
            };
            return Err(self.corrupt(
                &digest.name,
                Corrupt {
                    offset: len.min(digest.len),
                    what: format!("{what}: the file has {len} bytes, {MARKER_FILE} records {}", digest.len),
                },
            ));
        }
        check_frames(bytes).map_err(|c| self.corrupt(&digest.name, c))?;
        if crc32c::crc32c(bytes) != digest.crc {
            return Err(self.corrupt(
                &digest.name,
                Corrupt {
                    offset: 0,
                    what: format!("the file's checksum differs from the one {MARKER_FILE} records"),
                },
            ));
        }
        Ok(())
    }

    /// The marker and the catalog file belong together and list the same files.
    fn check_agreement(&self, marker: &Marker, catalog: &CatalogFile) -> Result<(), SnapshotError> {
        let bad = |what: String| self.corrupt(MARKER_FILE, Corrupt { offset: 0, what });
        if marker.nonce != self.nonce || catalog.meta.nonce != self.nonce {
            return Err(bad(format!(
                "the folder is \"{}\" but the marker names \"{}\" and {CATALOG_FILE} \"{}\"",
                self.nonce, marker.nonce, catalog.meta.nonce
            )));
        }
        if marker.lsn != catalog.meta.lsn {
            return Err(bad(format!(
                "LSN {} differs from {CATALOG_FILE}'s {}",
                marker.lsn, catalog.meta.lsn
            )));
        }
        let mut listed: Vec<&str> = marker.files.iter().map(|d| d.name.as_str()).collect();
        let mut expected: Vec<&str> = catalog.tables.iter().map(|t| t.file.as_str()).collect();
        expected.push(CATALOG_FILE);
        listed.sort_unstable();
        expected.sort_unstable();
        if listed != expected {
            return Err(bad(format!(
                "it lists files {listed:?}, {CATALOG_FILE} implies {expected:?}"
            )));
        }
        Ok(())
    }
}

fn parse_marker(bytes: &[u8]) -> Result<Marker, Corrupt> {
    check_header(bytes, FileKind::Marker)?;
    let mut chunks = Chunks::new(bytes);
    let mut f = chunks.expect(kind::DIGEST)?.fields();
    let nonce = f.str("nonce")?;
    let lsn = f.u64("LSN")?;
    let count = f.u32("file count")?;
    let mut files = Vec::new();
    for _ in 0..count {
        files.push(FileDigest {
            name: f.str("file name")?,
            len: f.u64("file length")?,
            crc: f.u32("file checksum")?,
        });
    }
    f.done("digest")?;
    chunks.end()?;
    Ok(Marker {
        nonce,
        lsn,
        files,
        len: bytes.len() as u64,
    })
}

/// catalog.vsnap, decoded.
struct CatalogFile {
    meta: SnapshotMeta,
    tables: Vec<TableEntry>,
}

/// One table data file as the catalog file lists it.
struct TableEntry {
    file: String,
    database: String,
    table: String,
    partition: u32,
    replicated: bool,
    rows: u64,
}

fn parse_catalog(bytes: &[u8]) -> Result<CatalogFile, Corrupt> {
    check_header(bytes, FileKind::Catalog)?;
    let mut chunks = Chunks::new(bytes);
    let mut f = chunks.expect(kind::META)?.fields();
    let nonce = f.str("nonce")?;
    let lsn = f.u64("LSN")?;
    let created_ms = f.i64("creation time")?;
    let partition_count = f.u32("partition count")?;
    let ddl_count = f.u32("DDL count")?;
    f.done("meta")?;
    let mut ddl = Vec::new();
    for _ in 0..ddl_count {
        let mut f = chunks.expect(kind::DDL)?.fields();
        ddl.push((f.str("database")?, f.str("DDL text")?));
        f.done("DDL")?;
    }
    let mut f = chunks.expect(kind::TABLES)?.fields();
    let count = f.u32("table file count")?;
    let mut tables = Vec::new();
    for _ in 0..count {
        tables.push(TableEntry {
            file: f.str("file name")?,
            database: f.str("database")?,
            table: f.str("table")?,
            partition: f.u32("partition")?,
            replicated: f.bool("replicated")?,
            rows: f.u64("row count")?,
        });
    }
    f.done("table list")?;
    chunks.end()?;
    Ok(CatalogFile {
        meta: SnapshotMeta {
            nonce,
            lsn,
            created_ms,
            partition_count,
            ddl,
        },
        tables,
    })
}

enum TableError {
    Corrupt(Corrupt),
    Visit(String),
}

impl From<Corrupt> for TableError {
    fn from(c: Corrupt) -> TableError {
        TableError::Corrupt(c)
    }
}

/// Reads one table data file (already checked against the marker) into `visit`.
fn read_table(bytes: &[u8], entry: &TableEntry, visit: &mut Visit<'_>) -> Result<(), TableError> {
    check_header(bytes, FileKind::Table)?;
    let mut chunks = Chunks::new(bytes);
    let head = chunks.expect(kind::TABLE_HEADER)?;
    let mut f = head.fields();
    let database = f.str("database")?;
    let table = f.str("table")?;
    let partition = f.u32("partition")?;
    let replicated = f.bool("replicated")?;
    let ncols = f.u16("column count")?;
    let mut columns: Vec<(String, DataType)> = Vec::new();
    for _ in 0..ncols {
        columns.push((f.str("column name")?, f.data_type("column type")?));
    }
    f.done("table header")?;
    if (&database, &table, partition, replicated) != (&entry.database, &entry.table, entry.partition, entry.replicated)
    {
        return Err(TableError::Corrupt(bad(
            head.offset,
            format!(
                "the header holds {database}.{table} partition {partition}, {CATALOG_FILE} lists {}.{} partition {}",
                entry.database, entry.table, entry.partition
            ),
        )));
    }

    let (mut rows, mut row_chunks) = (0u64, 0u32);
    loop {
        let Some(chunk) = chunks.next_chunk()? else {
            return Err(TableError::Corrupt(bad(
                bytes.len(),
                "file ends before its table end chunk",
            )));
        };
        match chunk.kind {
            kind::ROWS => {
                row_chunks += 1;
                for row in decode_rows(&chunk, &columns)? {
                    rows += 1;
                    visit(&database, &table, partition, row).map_err(TableError::Visit)?;
                }
            }
            kind::TABLE_END => {
                let mut f = chunk.fields();
                let (want_rows, want_chunks) = (f.u64("row count")?, f.u32("chunk count")?);
                f.done("table end")?;
                if (want_rows, want_chunks) != (rows, row_chunks) || rows != entry.rows {
                    return Err(TableError::Corrupt(bad(
                        chunk.offset,
                        format!(
                            "{rows} rows in {row_chunks} chunks read, the end chunk records {want_rows} in \
                             {want_chunks} and {CATALOG_FILE} {}",
                            entry.rows
                        ),
                    )));
                }
                chunks.end()?;
                return Ok(());
            }
            other => {
                return Err(TableError::Corrupt(bad(
                    chunk.offset,
                    format!("{} chunk (kind {other}) among the rows", kind::name(other)),
                )));
            }
        }
    }
}

/// One rows chunk: a VoltTable whose columns must be the header's.
fn decode_rows(chunk: &Chunk<'_>, columns: &[(String, DataType)]) -> Result<Vec<Vec<Value>>, Corrupt> {
    let mut r = Reader::new(chunk.payload);
    let t = decode_table(&mut r).or_else(|e| corrupt(chunk.offset, format!("rows: {e}")))?;
    if r.remaining() != 0 {
        return corrupt(chunk.offset, format!("{} stray bytes after the rows", r.remaining()));
    }
    let same = t.columns.len() == columns.len()
        && t.columns
            .iter()
            .zip(columns)
            .all(|(c, (name, ty))| c.name == *name && c.ty == wire_type(*ty));
    if !same {
        return corrupt(chunk.offset, "the rows' columns differ from the table header's");
    }
    Ok(t.rows)
}
