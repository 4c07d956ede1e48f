//! Writing a snapshot folder: check the image set, then the catalog file, the table data
//! files, and the marker last (see the module docs for the order and why).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use voltrs_storage::Value;
use voltrs_wire::codec::encode_table;

use super::format::{
    FileDigest, FileKind, FileWriter, cell_size, kind, put_data_type, put_str, put_u32, put_u64, wire_type,
};
use super::{
    CATALOG_FILE, CHUNK_BYTES, MARKER_FILE, MARKER_TMP, SnapshotError, SnapshotMeta, SnapshotSummary, TableImage,
    check_nonce, file_safe, remove,
};
use crate::durability::io::Storage;

/// Writes snapshot `meta.nonce` under `root` from `tables`: every partition of every
/// partitioned table, and each replicated table once as partition 0.
///
/// Fails, leaving nothing behind that [`super::newest_complete`] would pick, when the name
/// is invalid or taken, the images do not make a whole image, a value cannot be stored
/// unchanged, or the disk fails (full, a failed sync). On failure the folder is removed
/// if the storage still allows it.
pub fn write_snapshot(
    storage: &dyn Storage,
    root: &Path,
    meta: &SnapshotMeta,
    tables: &[TableImage<'_>],
) -> Result<SnapshotSummary, SnapshotError> {
    write_with_chunks(storage, root, meta, tables, CHUNK_BYTES)
}

/// [`write_snapshot`] with a chosen chunk size (tests use small ones).
pub(super) fn write_with_chunks(
    storage: &dyn Storage,
    root: &Path,
    meta: &SnapshotMeta,
    tables: &[TableImage<'_>],
    chunk_bytes: usize,
) -> Result<SnapshotSummary, SnapshotError> {
    check_nonce(&meta.nonce)?;
    let files = plan(meta, tables)?;
    let dir = root.join(&meta.nonce);
    if storage.exists(&dir) {
        return Err(SnapshotError::Exists {
            nonce: meta.nonce.clone(),
        });
    }
    let writer = Writer {
        storage,
        dir: &dir,
        meta,
        chunk_bytes,
    };
    let result = writer.write_all(root, &files);
    if result.is_err() {
        // Best effort: the disk may be what failed. What stays has no valid marker.
        let _ = remove(storage, root, &dir);
    }
    result
}

/// One table data file to write.
struct Planned<'a> {
    file: String,
    image: &'a TableImage<'a>,
}

/// Checks that `tables` is a whole image and names each file, in (database, table,
/// partition) order.
fn plan<'a>(meta: &SnapshotMeta, tables: &'a [TableImage<'a>]) -> Result<Vec<Planned<'a>>, SnapshotError> {
    let invalid = |what: String| SnapshotError::InvalidImage {
        nonce: meta.nonce.clone(),
        what,
    };
    if meta.partition_count == 0 {
        return Err(invalid("the partition count is 0".into()));
    }
    let mut by_table: BTreeMap<(&str, &str), BTreeMap<u32, &TableImage<'_>>> = BTreeMap::new();
    for image in tables {
        let name = format!("table {}.{}", image.database, image.name);
        if image.partition >= meta.partition_count {
            return Err(invalid(format!(
                "{name}: partition {} is not below the partition count {}",
                image.partition, meta.partition_count
            )));
        }
        if image.replicated && image.partition != 0 {
            return Err(invalid(format!(
                "{name} is replicated: write it once, as partition 0 (got partition {})",
                image.partition
            )));
        }
        if image.columns.len() > i16::MAX as usize {
            return Err(invalid(format!("{name} has {} columns", image.columns.len())));
        }
        let parts = by_table.entry((image.database, image.name)).or_default();
        if let Some(first) = parts.values().next()
            && (first.columns != image.columns || first.replicated != image.replicated)
        {
            return Err(invalid(format!("{name}: partitions disagree on its columns")));
        }
        if parts.insert(image.partition, image).is_some() {
            return Err(invalid(format!("{name}: partition {} given twice", image.partition)));
        }
    }
    let mut files = Vec::new();
    for (n, ((db, table), parts)) in by_table.into_iter().enumerate() {
        let replicated = parts.values().any(|i| i.replicated);
        let wanted = if replicated { 1 } else { meta.partition_count as usize };
        if parts.len() != wanted {
            return Err(invalid(format!(
                "table {db}.{table}: {} of its {wanted} partitions given",
                parts.len()
            )));
        }
        for (p, image) in parts {
            let file = format!("t{:04}_{}_{}_p{p}.vsnap", n + 1, file_safe(db), file_safe(table));
            files.push(Planned { file, image });
        }
    }
    Ok(files)
}

struct Writer<'a> {
    storage: &'a dyn Storage,
    dir: &'a Path,
    meta: &'a SnapshotMeta,
    chunk_bytes: usize,
}

impl Writer<'_> {
    fn io(&self, path: impl Into<String>) -> impl FnOnce(io::Error) -> SnapshotError + '_ {
        let path = path.into();
        move |source| SnapshotError::Io {
            nonce: self.meta.nonce.clone(),
            path,
            source,
        }
    }

    fn write_all(&self, root: &Path, files: &[Planned<'_>]) -> Result<SnapshotSummary, SnapshotError> {
        let dir_name = self.dir.display().to_string();
        self.storage.create_dir_all(self.dir).map_err(self.io(&*dir_name))?;
        self.storage
            .sync_dir(root)
            .map_err(self.io(root.display().to_string()))?;

        let mut digests = vec![self.catalog(files).map_err(self.io(CATALOG_FILE))?];
        let mut rows = 0;
        for f in files {
            let (digest, n) = self.table(f)?;
            digests.push(digest);
            rows += n;
        }
        self.storage.sync_dir(self.dir).map_err(self.io(&*dir_name))?;

        let marker = self.marker(&digests).map_err(self.io(MARKER_TMP))?;
        self.storage
            .rename(&self.dir.join(MARKER_TMP), &self.dir.join(MARKER_FILE))
            .map_err(self.io(MARKER_FILE))?;
        self.storage.sync_dir(self.dir).map_err(self.io(&*dir_name))?;
        Ok(SnapshotSummary {
            nonce: self.meta.nonce.clone(),
            lsn: self.meta.lsn,
            files: digests.len() + 1,
            bytes: digests.iter().map(|d| d.len).sum::<u64>() + marker.len,
            rows,
        })
    }

    /// catalog.vsnap: meta, one chunk per DDL statement, the table list.
    fn catalog(&self, files: &[Planned<'_>]) -> io::Result<FileDigest> {
        let m = self.meta;
        let mut w = FileWriter::create(self.storage, self.dir, CATALOG_FILE, FileKind::Catalog)?;
        let mut meta = Vec::new();
        put_str(&mut meta, &m.nonce);
        put_u64(&mut meta, m.lsn);
        meta.extend_from_slice(&m.created_ms.to_be_bytes());
        put_u32(&mut meta, m.partition_count);
        put_u32(&mut meta, m.ddl.len() as u32);
        w.chunk(kind::META, &meta)?;
        for (db, text) in &m.ddl {
            let mut ddl = Vec::with_capacity(8 + db.len() + text.len());
            put_str(&mut ddl, db);
            put_str(&mut ddl, text);
            w.chunk(kind::DDL, &ddl)?;
        }
        let mut list = Vec::new();
        put_u32(&mut list, files.len() as u32);
        for f in files {
            put_str(&mut list, &f.file);
            put_str(&mut list, f.image.database);
            put_str(&mut list, f.image.name);
            put_u32(&mut list, f.image.partition);
            list.push(u8::from(f.image.replicated));
            put_u64(&mut list, f.image.table.len() as u64);
        }
        w.chunk(kind::TABLES, &list)?;
        w.finish()
    }

    /// One table data file: header, rows in VoltTable chunks, end. Returns the rows written.
    fn table(&self, f: &Planned<'_>) -> Result<(FileDigest, u64), SnapshotError> {
        let image = f.image;
        let io = || self.io(&*f.file);
        let mut w = FileWriter::create(self.storage, self.dir, &f.file, FileKind::Table).map_err(io())?;
        let mut header = Vec::new();
        put_str(&mut header, image.database);
        put_str(&mut header, image.name);
        put_u32(&mut header, image.partition);
        header.push(u8::from(image.replicated));
        header.extend_from_slice(&(image.columns.len() as u16).to_be_bytes());
        for (name, ty) in image.columns {
            put_str(&mut header, name);
            put_data_type(&mut header, *ty);
        }
        w.chunk(kind::TABLE_HEADER, &header).map_err(io())?;

        let columns: Vec<(&str, _)> = image.columns.iter().map(|(n, t)| (n.as_str(), wire_type(*t))).collect();
        let mut pending: Vec<Box<[Value]>> = Vec::new();
        let mut pending_bytes = 0;
        let (mut rows, mut chunks) = (0u64, 0u32);
        let mut payload = Vec::new();
        let mut flush = |pending: &mut Vec<Box<[Value]>>, w: &mut FileWriter| -> io::Result<()> {
            payload.clear();
            encode_table(&mut payload, &columns, pending.iter().map(|r| &r[..]));
            pending.clear();
            chunks += 1;
            w.chunk(kind::ROWS, &payload)
        };
        for (_, row) in image.table.scan() {
            pending_bytes += self.row_size(image, &row)?;
            pending.push(row);
            rows += 1;
            if pending_bytes >= self.chunk_bytes {
                flush(&mut pending, &mut w).map_err(io())?;
                pending_bytes = 0;
            }
        }
        if !pending.is_empty() {
            flush(&mut pending, &mut w).map_err(io())?;
        }
        if rows != image.table.len() as u64 {
            return Err(SnapshotError::InvalidImage {
                nonce: self.meta.nonce.clone(),
                what: format!(
                    "table {}.{} partition {}: {rows} rows scanned, the table counts {}",
                    image.database,
                    image.name,
                    image.partition,
                    image.table.len()
                ),
            });
        }
        let mut end = Vec::new();
        put_u64(&mut end, rows);
        put_u32(&mut end, chunks);
        w.chunk(kind::TABLE_END, &end).map_err(io())?;
        Ok((w.finish().map_err(io())?, rows))
    }

    /// A row's encoded size; an error for a row the codec would not bring back unchanged.
    fn row_size(&self, image: &TableImage<'_>, row: &[Value]) -> Result<usize, SnapshotError> {
        let invalid = |what: String| SnapshotError::InvalidImage {
            nonce: self.meta.nonce.clone(),
            what: format!(
                "table {}.{} partition {}: {what}",
                image.database, image.name, image.partition
            ),
        };
        if row.len() != image.columns.len() {
            return Err(invalid(format!(
                "a row has {} values for {} columns",
                row.len(),
                image.columns.len()
            )));
        }
        let mut size = 4;
        for ((name, ty), v) in image.columns.iter().zip(row) {
            size += cell_size(*ty, v).ok_or_else(|| {
                invalid(format!(
                    "column {name} of type {ty} holds {v:?}, which cannot be stored"
                ))
            })?;
        }
        Ok(size)
    }

    /// COMPLETE.tmp: the nonce, the LSN, and every file's digest.
    fn marker(&self, digests: &[FileDigest]) -> io::Result<FileDigest> {
        let mut w = FileWriter::create(self.storage, self.dir, MARKER_TMP, FileKind::Marker)?;
        let mut payload = Vec::new();
        put_str(&mut payload, &self.meta.nonce);
        put_u64(&mut payload, self.meta.lsn);
        put_u32(&mut payload, digests.len() as u32);
        for d in digests {
            put_str(&mut payload, &d.name);
            put_u64(&mut payload, d.len);
            put_u32(&mut payload, d.crc);
        }
        w.chunk(kind::DIGEST, &payload)?;
        w.finish()
    }
}
