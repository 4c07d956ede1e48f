//! CSV export of table images: one file per table holding every partition's rows, for
//! people and other tools (docs/STORAGE-FORMAT.md, "CSV export").
//!
//! RFC 4180 quoting: a field is quoted when it holds a comma, a double quote, CR or LF,
//! or is the empty string (so it differs from NULL, which is an empty unquoted field);
//! a quote inside is doubled. Lines end with LF. The first line holds the column names.
//! Values use the shared text forms of `voltrs_storage::text` (TIMESTAMP
//! `YYYY-MM-DD HH:MM:SS.ffffff`, VARBINARY upper-case hex, DECIMAL with 12 decimals).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use voltrs_storage::Value;
use voltrs_storage::text::render;

use super::{SnapshotError, TableImage, file_safe};
use crate::durability::io::{Storage, WriteFile};

/// Bytes buffered before a write.
const FLUSH_BYTES: usize = 1 << 20;

/// One CSV file [`write_csv`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    pub database: String,
    pub table: String,
    /// The file name in the export folder.
    pub file: String,
    pub rows: u64,
}

/// Writes one CSV file per table into `dir` (created if missing; files of the same name
/// are replaced): `<DATABASE>.<TABLE>.csv`, each table's partitions in partition order,
/// every file synced. Characters other than letters, digits and '_' in names become '-';
/// should two tables then share a name, the later gets `-2`, `-3`, ... appended.
pub fn write_csv(storage: &dyn Storage, dir: &Path, tables: &[TableImage<'_>]) -> Result<Vec<CsvFile>, SnapshotError> {
    let at = |path: &Path| {
        let path = path.display().to_string();
        move |source| SnapshotError::Csv { path, source }
    };
    storage.create_dir_all(dir).map_err(at(dir))?;
    let mut by_table: BTreeMap<(&str, &str), Vec<&TableImage<'_>>> = BTreeMap::new();
    for image in tables {
        by_table.entry((image.database, image.name)).or_default().push(image);
    }
    let mut written = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for ((db, table), mut parts) in by_table {
        parts.sort_by_key(|i| i.partition);
        let stem = format!("{}.{}", file_safe(db), file_safe(table));
        let mut file = format!("{stem}.csv");
        let mut n = 1;
        while !taken.insert(file.clone()) {
            n += 1;
            file = format!("{stem}-{n}.csv");
        }
        let path = dir.join(&file);
        let rows = write_table(storage, &path, &parts).map_err(at(&path))?;
        written.push(CsvFile {
            database: db.to_string(),
            table: table.to_string(),
            file,
            rows,
        });
    }
    storage.sync_dir(dir).map_err(at(dir))?;
    Ok(written)
}

fn write_table(storage: &dyn Storage, path: &Path, parts: &[&TableImage<'_>]) -> io::Result<u64> {
    let mut out = Out {
        file: storage.create(path)?,
        buf: String::new(),
        offset: 0,
    };
    if let Some(first) = parts.first() {
        let names: Vec<Option<String>> = first.columns.iter().map(|(n, _)| Some(n.clone())).collect();
        line(&mut out.buf, &names);
    }
    let mut rows = 0;
    let mut fields = Vec::new();
    for image in parts {
        image.table.for_each(|_, row: &[Value]| {
            fields.clear();
            fields.extend(row.iter().map(render));
            line(&mut out.buf, &fields);
            rows += 1;
            out.flush_if_full().map(|()| true)
        })?;
    }
    out.flush()?;
    out.file.sync()?;
    Ok(rows)
}

/// A file written through a buffer.
struct Out {
    file: Box<dyn WriteFile>,
    buf: String,
    offset: u64,
}

impl Out {
    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_BYTES {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.write_at(self.offset, self.buf.as_bytes())?;
        self.offset += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Appends one CSV line: NULL (`None`) as an empty unquoted field.
fn line(out: &mut String, fields: &[Option<String>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(text) = f {
            field(out, text);
        }
    }
    out.push('\n');
}

fn field(out: &mut String, text: &str) {
    if text.is_empty() || text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}
