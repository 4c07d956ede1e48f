//! Snapshot tests on [`MemStorage`]: round trips, crashes at every step of a write, bit
//! flips and truncation anywhere, a full disk, failing syncs, and the CSV export.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use voltrs_storage::table::Table;
use voltrs_storage::{DataType, Decimal, Value};

use super::write::write_with_chunks;
use super::*;
use crate::durability::io::{DiskStorage, MemStorage, WriteFile};

const ROOT: &str = "/data/snapshots";

fn root() -> &'static Path {
    Path::new(ROOT)
}

fn dec(s: &str) -> Value {
    Value::Decimal(Decimal::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
}

fn text(s: &str) -> Value {
    Value::Varchar(Arc::from(s))
}

fn bin(b: &[u8]) -> Value {
    Value::Varbinary(Arc::from(b))
}

/// A table's columns, rows per partition, and whether it is replicated.
struct Fixture {
    database: &'static str,
    name: &'static str,
    columns: Vec<(String, DataType)>,
    replicated: bool,
    partitions: Vec<Table>,
}

fn table(types: &[DataType], rows: &[Vec<Value>]) -> Table {
    let mut t = Table::new(types, &[]);
    for r in rows {
        t.insert(r).unwrap_or_else(|e| panic!("{e}"));
    }
    t
}

fn fixture(
    database: &'static str,
    name: &'static str,
    columns: &[(&str, DataType)],
    replicated: bool,
    partitions: &[Vec<Vec<Value>>],
) -> Fixture {
    let types: Vec<DataType> = columns.iter().map(|c| c.1).collect();
    Fixture {
        database,
        name,
        columns: columns.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
        replicated,
        partitions: partitions.iter().map(|rows| table(&types, rows)).collect(),
    }
}

/// Three partitions: every column type with extremes, NULLs, empty and long strings; a
/// replicated table; an empty table in another database; a view-like summary table.
fn fixtures() -> Vec<Fixture> {
    use DataType::*;
    let all: &[(&str, DataType)] = &[
        ("TI", TinyInt),
        ("SI", SmallInt),
        ("I", Integer),
        ("BI", BigInt),
        ("F", Float),
        ("D", Decimal),
        ("VS", Varchar { len: 10, bytes: false }),
        ("VL", Varchar { len: 2000, bytes: true }),
        ("BS", Varbinary { len: 8 }),
        ("BL", Varbinary { len: 5000 }),
        ("TS", Timestamp),
        ("B", Boolean),
    ];
    let extreme = vec![
        Value::Integer(-127),
        Value::Integer(-32767),
        Value::Integer(i64::from(i32::MIN) + 1),
        Value::Integer(i64::MIN + 1),
        Value::Float(-1.6e308),
        dec("-99999999999999999999999999.999999999999"),
        text(""),
        text(&"é,\"x\"\n".repeat(250)),
        bin(&[]),
        bin(&[0xAB; 4000]),
        Value::Timestamp(-12_212_553_600_000_000),
        Value::Boolean(false),
    ];
    let other = vec![
        Value::Integer(127),
        Value::Integer(32767),
        Value::Integer(i64::from(i32::MAX)),
        Value::Integer(i64::MAX),
        Value::Float(0.1),
        dec("99999999999999999999999999.999999999999"),
        text("日本語"),
        text("x"),
        bin(&[0, 255]),
        bin(b"abc"),
        Value::Timestamp(253_402_300_799_999_999),
        Value::Boolean(true),
    ];
    let nulls = vec![Value::Null; all.len()];
    let many: Vec<Vec<Value>> = (0..40)
        .map(|i| {
            let mut r = other.clone();
            r[2] = Value::Integer(i);
            r[6] = text(&format!("row {i}"));
            r
        })
        .collect();
    vec![
        fixture(
            "VOLTRS",
            "ALL_TYPES",
            all,
            false,
            &[vec![extreme.clone(), nulls.clone()], many, vec![]],
        ),
        fixture(
            "VOLTRS",
            "REGIONS",
            &[("ID", Integer), ("NAME", Varchar { len: 20, bytes: false })],
            true,
            &[vec![
                vec![Value::Integer(1), text("north")],
                vec![Value::Integer(2), Value::Null],
            ]],
        ),
        fixture("OTHER_DB", "EMPTY", &[("K", BigInt)], false, &[vec![], vec![], vec![]]),
        fixture(
            "VOLTRS",
            "V_TOTALS",
            &[("REGION", Integer), ("N", BigInt), ("TOTAL", Decimal)],
            false,
            &[
                vec![vec![Value::Integer(1), Value::Integer(2), dec("3.5")]],
                vec![],
                vec![vec![Value::Integer(2), Value::Integer(1), dec("-0.000000000001")]],
            ],
        ),
    ]
}

fn images(fixtures: &[Fixture]) -> Vec<TableImage<'_>> {
    let mut out = Vec::new();
    for f in fixtures {
        for (p, t) in f.partitions.iter().enumerate() {
            out.push(TableImage {
                database: f.database,
                name: f.name,
                columns: &f.columns,
                replicated: f.replicated,
                partition: p as u32,
                table: t,
            });
        }
    }
    out
}

fn meta(nonce: &str, lsn: u64) -> SnapshotMeta {
    SnapshotMeta {
        nonce: nonce.to_string(),
        lsn,
        created_ms: 1_700_000_000_000 + lsn as i64,
        partition_count: 3,
        ddl: vec![
            ("VOLTRS".into(), "CREATE TABLE ALL_TYPES (TI TINYINT, ...);".into()),
            ("VOLTRS".into(), "PARTITION TABLE ALL_TYPES ON COLUMN I;".into()),
            ("OTHER_DB".into(), "CREATE TABLE EMPTY (K BIGINT);".into()),
        ],
    }
}

/// Rows by (database, table, partition), each rendered with `{:?}` (which tells value
/// classes apart, unlike `Value`'s `==`).
type Rows = BTreeMap<(String, String, u32), Vec<String>>;

fn expected_rows(images: &[TableImage<'_>]) -> Rows {
    let mut rows = Rows::new();
    for i in images {
        let entry = rows
            .entry((i.database.to_string(), i.name.to_string(), i.partition))
            .or_default();
        entry.extend(i.table.scan().map(|(_, r)| format!("{r:?}")));
    }
    // An empty partition's file holds no rows to visit.
    rows.retain(|_, r| !r.is_empty());
    rows
}

fn read_rows(storage: &dyn Storage, nonce: &str) -> Result<(SnapshotMeta, Rows), SnapshotError> {
    let mut rows = Rows::new();
    let meta = read_snapshot(storage, root(), nonce, &mut |db, table, p, row| {
        let entry = rows.entry((db.to_string(), table.to_string(), p)).or_default();
        entry.push(format!("{:?}", row.into_boxed_slice()));
        Ok(())
    })?;
    Ok((meta, rows))
}

fn files_of(mem: &MemStorage, nonce: &str) -> Vec<PathBuf> {
    let dir = root().join(nonce);
    mem.paths().into_iter().filter(|p| p.starts_with(&dir)).collect()
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn round_trip_every_type() {
    let fx = fixtures();
    let images = images(&fx);
    for chunk in [64, 1000, CHUNK_BYTES] {
        let mem = MemStorage::new();
        let summary = write_with_chunks(&mem, root(), &meta("s1", 42), &images, chunk).unwrap();
        assert_eq!(summary.rows, 2 + 40 + 2 + 2);
        let (m, rows) = read_rows(&mem, "s1").unwrap();
        assert_eq!(m, meta("s1", 42));
        // Every partition of every table comes back, empty ones included; the replicated
        // table once.
        assert!(rows == expected_rows(&images), "{chunk}-byte chunks");
        assert_eq!(files_of(&mem, "s1").len(), summary.files);
        assert_eq!(
            summary.bytes,
            files_of(&mem, "s1")
                .iter()
                .map(|p| mem.read(p).unwrap().len() as u64)
                .sum::<u64>()
        );
    }
}

#[test]
fn list_reports_tables_and_newest_is_the_highest_lsn() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_snapshot(&mem, root(), &meta("b_later_name", 7), &images).unwrap();
    write_snapshot(&mem, root(), &meta("a_newer", 9), &images).unwrap();
    let list = list_snapshots(&mem, root());
    assert_eq!(list.len(), 2);
    let a = &list[0];
    assert_eq!(
        (a.nonce.as_str(), a.complete, a.lsn, a.problem.as_deref()),
        ("a_newer", true, Some(9), None)
    );
    assert_eq!(a.partition_count, Some(3));
    let tables: Vec<(&str, &str, bool, u64)> = a
        .tables
        .iter()
        .map(|t| (t.database.as_str(), t.name.as_str(), t.replicated, t.rows))
        .collect();
    assert_eq!(
        tables,
        [
            ("OTHER_DB", "EMPTY", false, 0),
            ("VOLTRS", "ALL_TYPES", false, 42),
            ("VOLTRS", "REGIONS", true, 2),
            ("VOLTRS", "V_TOTALS", false, 2),
        ]
    );
    assert!(a.bytes > 0);
    assert_eq!(newest_complete(&mem, root()).map(|s| s.nonce), Some("a_newer".into()));
}

#[test]
fn a_name_clash_is_an_error() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_snapshot(&mem, root(), &meta("s1", 1), &images).unwrap();
    let e = write_snapshot(&mem, root(), &meta("s1", 2), &images).unwrap_err();
    assert_eq!(
        e.to_string(),
        "snapshot \"s1\" already exists (delete it or choose another name)"
    );
    assert_eq!(read_rows(&mem, "s1").unwrap().0.lsn, 1);
}

#[test]
fn names_are_checked() {
    let mem = MemStorage::new();
    let long = "x".repeat(129);
    for bad in ["", "a/b", "..", "a b", "snap.1", "é", long.as_str()] {
        let e = write_snapshot(&mem, root(), &meta(bad, 1), &[]).unwrap_err();
        assert!(matches!(e, SnapshotError::InvalidNonce { .. }), "{bad}: {e}");
        assert!(matches!(
            read_snapshot(&mem, root(), bad, &mut |_, _, _, _| Ok(())),
            Err(SnapshotError::InvalidNonce { .. })
        ));
        assert!(matches!(
            delete_snapshot(&mem, root(), bad),
            Err(SnapshotError::InvalidNonce { .. })
        ));
    }
    let e = write_snapshot(&mem, root(), &meta("a/b", 1), &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid snapshot name \"a/b\": use only letters, digits, '_' and '-'"
    );
    assert!(mem.paths().is_empty());
    check_nonce("Snap_2024-01-01").unwrap();
    check_nonce(&"x".repeat(128)).unwrap();
}

#[test]
fn delete_removes_a_snapshot() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_snapshot(&mem, root(), &meta("s1", 1), &images).unwrap();
    delete_snapshot(&mem, root(), "s1").unwrap();
    assert!(mem.paths().is_empty());
    assert!(list_snapshots(&mem, root()).is_empty());
    assert!(matches!(
        delete_snapshot(&mem, root(), "s1"),
        Err(SnapshotError::NotFound { .. })
    ));
    assert_eq!(
        read_rows(&mem, "s1").unwrap_err().to_string(),
        "snapshot \"s1\" does not exist"
    );
    // The name is free again.
    write_snapshot(&mem, root(), &meta("s1", 2), &images).unwrap();
}

#[test]
fn list_shows_incomplete_snapshots_and_ignores_plain_files() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_snapshot(&mem, root(), &meta("s1", 1), &images).unwrap();
    mem.remove_file(&root().join("s1").join(MARKER_FILE)).unwrap();
    mem.create_dir_all(&root().join("not a snapshot")).unwrap();
    mem.create(&root().join("stray.txt")).unwrap();
    let list = list_snapshots(&mem, root());
    let summary: Vec<(&str, bool, Option<u64>)> = list.iter().map(|s| (s.nonce.as_str(), s.complete, s.lsn)).collect();
    assert_eq!(summary, [("not a snapshot", false, None), ("s1", false, Some(1))]);
    assert_eq!(
        list[1].problem.as_deref(),
        Some("snapshot \"s1\" is incomplete: no COMPLETE marker (the write did not finish)")
    );
    assert!(list[1].bytes > 0);
    assert_eq!(list[1].tables.len(), 4);
    assert!(
        list[0]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("invalid snapshot name"))
    );
    assert_eq!(newest_complete(&mem, root()), None);
    assert!(matches!(read_rows(&mem, "s1"), Err(SnapshotError::Incomplete { .. })));
    // A missing root is no snapshots.
    assert!(list_snapshots(&mem, Path::new("/nowhere")).is_empty());
}

#[test]
fn a_flipped_bit_anywhere_names_its_file() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_with_chunks(&mem, root(), &meta("s1", 1), &images, 200).unwrap();
    let mut flips = 0;
    for path in files_of(&mem, "s1") {
        let file = name(&path);
        let len = mem.read(&path).unwrap().len();
        // Every byte of small files; a spread of offsets in large ones.
        let step = (len / 700).max(1);
        for offset in (0..len).step_by(step) {
            let bit = (offset % 8) as u8;
            assert!(mem.flip_bit(&path, offset, bit));
            match read_rows(&mem, "s1") {
                Err(SnapshotError::Corrupt {
                    file: f, offset: at, ..
                }) => {
                    assert_eq!(f, file, "flip at {file}:{offset}");
                    assert!(at <= offset as u64, "flip at {file}:{offset} reported at {at}");
                }
                other => panic!("flip at {file}:{offset}: {:?}", other.map(|r| r.0)),
            }
            assert!(mem.flip_bit(&path, offset, bit));
            flips += 1;
        }
    }
    assert!(flips > 1000, "{flips}");
    read_rows(&mem, "s1").unwrap();
}

#[test]
fn a_flipped_bit_in_rows_is_reported_at_its_chunk() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_with_chunks(&mem, root(), &meta("s1", 1), &images, 200).unwrap();
    let path = root().join("s1").join("t0002_VOLTRS_ALL_TYPES_p1.vsnap");
    let bytes = mem.read(&path).unwrap();
    // The header (12 bytes), then the table header chunk: its frame says how long it is.
    let header_chunk = 9 + u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let rows_chunk = 12 + header_chunk;
    assert!(mem.flip_bit(&path, rows_chunk + 20, 3));
    let e = read_rows(&mem, "s1").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("snapshot \"s1\": file t0002_VOLTRS_ALL_TYPES_p1.vsnap offset {rows_chunk}: checksum mismatch")
    );
}

#[test]
fn a_truncated_file_fails_clearly() {
    let fx = fixtures();
    let images = images(&fx);
    for path in {
        let mem = MemStorage::new();
        write_snapshot(&mem, root(), &meta("s1", 1), &images).unwrap();
        files_of(&mem, "s1")
    } {
        let file = name(&path);
        let mem = MemStorage::new();
        write_snapshot(&mem, root(), &meta("s1", 1), &images).unwrap();
        let len = mem.read(&path).unwrap().len() as u64;
        // Longest first: each cut shortens the file further.
        for cut in [len - 1, len / 2, 13, 12, 5, 0] {
            mem.open(&path).unwrap().truncate(cut).unwrap();
            let e = read_rows(&mem, "s1").unwrap_err();
            let SnapshotError::Corrupt { file: f, what, .. } = &e else {
                panic!("{file} cut at {cut}: {e}");
            };
            assert_eq!(f, &file);
            if file == MARKER_FILE {
                assert!(what.contains("ends") || what.contains("truncated"), "{e}");
            } else {
                assert_eq!(
                    e.to_string(),
                    format!(
                        "snapshot \"s1\": file {file} offset {cut}: truncated: the file has {cut} bytes, COMPLETE \
                         records {len}"
                    )
                );
            }
        }
    }
}

/// A storage that dies after a number of operations: that one and every later one fail,
/// as when the process is killed at that point.
#[derive(Clone)]
struct Dying {
    mem: MemStorage,
    left: Arc<AtomicUsize>,
}

impl Dying {
    fn new(mem: &MemStorage, ops: usize) -> Dying {
        Dying {
            mem: mem.clone(),
            left: Arc::new(AtomicUsize::new(ops)),
        }
    }

    fn tick(&self) -> io::Result<()> {
        match self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        {
            Ok(_) => Ok(()),
            Err(_) => Err(io::Error::other("killed")),
        }
    }

    fn used(&self, budget: usize) -> usize {
        budget - self.left.load(Ordering::SeqCst)
    }
}

struct DyingFile {
    inner: Box<dyn WriteFile>,
    owner: Dying,
}

impl WriteFile for DyingFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.owner.tick()?;
        self.inner.write_at(offset, buf)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.owner.tick()?;
        self.inner.sync()
    }
    fn allocate(&mut self, len: u64) -> io::Result<()> {
        self.owner.tick()?;
        self.inner.allocate(len)
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.owner.tick()?;
        self.inner.truncate(len)
    }
}

impl Storage for Dying {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.tick()?;
        self.mem.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.tick()?;
        self.mem.list(dir)
    }
    fn exists(&self, path: &Path) -> bool {
        self.mem.exists(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.tick()?;
        self.mem.read(path)
    }
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        self.tick()?;
        let inner = self.mem.create(path)?;
        Ok(Box::new(DyingFile {
            inner,
            owner: self.clone(),
        }))
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        self.tick()?;
        let inner = self.mem.open(path)?;
        Ok(Box::new(DyingFile {
            inner,
            owner: self.clone(),
        }))
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        self.mem.remove_file(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        self.mem.remove_dir_all(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.tick()?;
        self.mem.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.tick()?;
        self.mem.sync_dir(dir)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Send + Sync>> {
        self.mem.lock(path)
    }
}

#[test]
fn a_crash_at_any_step_leaves_no_incomplete_snapshot_to_pick() {
    let fx = fixtures();
    let images = images(&fx);
    let chunk = 300;
    let counter = Dying::new(&MemStorage::new(), usize::MAX);
    write_with_chunks(&counter, root(), &meta("new", 2), &images, chunk).unwrap();
    let steps = counter.used(usize::MAX);
    assert!(steps > 40, "{steps}");
    let expected = expected_rows(&images);
    let mut outcomes = BTreeMap::new();
    for step in 0..=steps {
        for torn in [0, 1, 9, 100, 1 << 30] {
            let mem = MemStorage::new();
            write_with_chunks(&mem, root(), &meta("old", 1), &images, chunk).unwrap();
            let written = write_with_chunks(&Dying::new(&mem, step), root(), &meta("new", 2), &images, chunk);
            mem.crash(torn);
            let newest = newest_complete(&mem, root()).map(|s| s.nonce);
            let newest = newest.unwrap_or_else(|| panic!("step {step} torn {torn}: no complete snapshot"));
            if written.is_ok() {
                assert_eq!(newest, "new", "step {step}");
            }
            // Whatever the listing calls complete reads back whole; the rest is incomplete.
            for info in list_snapshots(&mem, root()) {
                match read_rows(&mem, &info.nonce) {
                    Ok((m, rows)) => {
                        assert!(
                            info.complete,
                            "step {step} torn {torn}: {} reads but is listed incomplete",
                            info.nonce
                        );
                        assert_eq!(m.nonce, info.nonce);
                        assert!(rows == expected, "step {step} torn {torn}: other rows");
                    }
                    Err(e) => {
                        assert!(
                            !info.complete,
                            "step {step} torn {torn}: {} listed complete: {e}",
                            info.nonce
                        );
                        assert!(
                            matches!(e, SnapshotError::Incomplete { .. }),
                            "step {step} torn {torn}: {e}"
                        );
                    }
                }
            }
            *outcomes.entry(newest).or_insert(0) += 1;
        }
    }
    // Both outcomes happen: the crash points cover the whole write.
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
}

#[test]
fn a_full_disk_fails_cleanly() {
    let fx = fixtures();
    let images = images(&fx);
    let full = {
        let mem = MemStorage::new();
        write_snapshot(&mem, root(), &meta("s", 1), &images).unwrap().bytes
    };
    for space in [0, 11, 12, 100, 1000, full / 2, full - 1] {
        let mem = MemStorage::new();
        mem.set_space(Some(space));
        let e = write_snapshot(&mem, root(), &meta("s", 1), &images).unwrap_err();
        let SnapshotError::Io { source, .. } = &e else {
            panic!("{space} bytes free: {e}");
        };
        assert_eq!(source.raw_os_error(), Some(libc::ENOSPC), "{e}");
        assert!(e.to_string().starts_with("snapshot \"s\": "), "{e}");
        // The partial folder is gone, the space given back.
        assert!(mem.paths().is_empty(), "{space}: {:?}", mem.paths());
        assert!(list_snapshots(&mem, root()).is_empty());
        mem.set_space(None);
        write_snapshot(&mem, root(), &meta("s", 1), &images).unwrap();
    }
    let mem = MemStorage::new();
    mem.set_space(Some(full));
    write_snapshot(&mem, root(), &meta("s", 1), &images).unwrap();
}

#[test]
fn a_failed_sync_fails_without_a_marker() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    mem.fail_syncs(true);
    let e = write_snapshot(&mem, root(), &meta("s", 1), &images).unwrap_err();
    assert_eq!(
        e.to_string(),
        "snapshot \"s\": catalog.vsnap: simulated fdatasync failure"
    );
    assert!(mem.paths().iter().all(|p| name(p) != MARKER_FILE));
    assert_eq!(newest_complete(&mem, root()), None);
}

#[test]
fn images_that_are_not_a_whole_snapshot_are_refused() {
    let fx = fixtures();
    let all = images(&fx);
    let mem = MemStorage::new();
    let refuse = |images: &[TableImage<'_>], what: &str| {
        let e = write_snapshot(&mem, root(), &meta("s", 1), images).unwrap_err();
        assert!(matches!(e, SnapshotError::InvalidImage { .. }), "{e}");
        assert_eq!(e.to_string(), format!("snapshot \"s\": {what}"));
        assert!(mem.paths().is_empty());
    };
    refuse(&all[1..], "table VOLTRS.ALL_TYPES: 2 of its 3 partitions given");
    let mut twice = all.clone();
    twice.push(all[0]);
    refuse(&twice, "table VOLTRS.ALL_TYPES: partition 0 given twice");
    let mut rep = all.clone();
    rep[3].partition = 1;
    refuse(
        &rep,
        "table VOLTRS.REGIONS is replicated: write it once, as partition 0 (got partition 1)",
    );
    let mut far = all.clone();
    far[0].partition = 3;
    refuse(
        &far,
        "table VOLTRS.ALL_TYPES: partition 3 is not below the partition count 3",
    );

    // A FLOAT the wire codec would read back as NULL is refused, not silently changed.
    let cols = vec![("F".to_string(), DataType::Float)];
    let t = table(&[DataType::Float], &[vec![Value::Float(-1.75e308)]]);
    let image = TableImage {
        database: "VOLTRS",
        name: "F",
        columns: &cols,
        replicated: true,
        partition: 0,
        table: &t,
    };
    refuse(
        &[image],
        "table VOLTRS.F partition 0: column F of type FLOAT holds Float(-1.75e308), which cannot be stored",
    );
}

#[test]
fn a_visit_error_stops_the_read() {
    let fx = fixtures();
    let images = images(&fx);
    let mem = MemStorage::new();
    write_snapshot(&mem, root(), &meta("s", 1), &images).unwrap();
    let e = read_snapshot(&mem, root(), "s", &mut |_, table, _, _| {
        if table == "REGIONS" {
            Err("no room".into())
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "snapshot \"s\": file t0003_VOLTRS_REGIONS_p0.vsnap: no room"
    );
}

#[test]
fn csv_quotes_and_renders_values() {
    use DataType::*;
    let f = fixture(
        "VOLTRS",
        "PEOPLE",
        &[
            ("ID", Integer),
            ("NAME", Varchar { len: 30, bytes: false }),
            ("BORN", Timestamp),
            ("PIC", Varbinary { len: 4 }),
            ("SCORE", Decimal),
            ("W", Float),
        ],
        false,
        &[
            vec![
                vec![
                    Value::Integer(1),
                    text("Smith, \"Jo\""),
                    Value::Timestamp(1_000_001),
                    bin(&[0, 0xFF]),
                    dec("1.5"),
                    Value::Float(0.25),
                ],
                vec![
                    Value::Integer(2),
                    text(""),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            ],
            vec![vec![
                Value::Integer(3),
                text("two\nlines"),
                Value::Timestamp(-1),
                bin(&[]),
                dec("-2"),
                Value::Float(1e20),
            ]],
        ],
    );
    let mem = MemStorage::new();
    let mut imgs = images(std::slice::from_ref(&f));
    imgs.reverse(); // partition order comes from the images, not their order
    let files = write_csv(&mem, Path::new("/export"), &imgs).unwrap();
    assert_eq!(
        files,
        [CsvFile {
            database: "VOLTRS".into(),
            table: "PEOPLE".into(),
            file: "VOLTRS.PEOPLE.csv".into(),
            rows: 3
        }]
    );
    let csv = String::from_utf8(mem.read(Path::new("/export/VOLTRS.PEOPLE.csv")).unwrap()).unwrap();
    assert_eq!(
        csv,
        "ID,NAME,BORN,PIC,SCORE,W\n\
         1,\"Smith, \"\"Jo\"\"\",1970-01-01 00:00:01.000001,00FF,1.500000000000,0.25\n\
         2,\"\",,,,\n\
         3,\"two\nlines\",1969-12-31 23:59:59.999999,\"\",-2.000000000000,100000000000000000000\n"
    );
}

#[test]
fn csv_names_that_clash_get_a_suffix() {
    let a = fixture("VOLTRS", "A.B", &[("X", DataType::Integer)], true, &[vec![]]);
    let b = fixture("VOLTRS", "A-B", &[("X", DataType::Integer)], true, &[vec![]]);
    let mem = MemStorage::new();
    let mut imgs = images(std::slice::from_ref(&a));
    imgs.extend(images(std::slice::from_ref(&b)));
    let files: Vec<String> = write_csv(&mem, Path::new("/x"), &imgs)
        .unwrap()
        .into_iter()
        .map(|f| f.file)
        .collect();
    // "A-B" sorts before "A.B", so it keeps the plain name.
    assert_eq!(files, ["VOLTRS.A-B.csv", "VOLTRS.A-B-2.csv"]);
}

#[test]
fn round_trip_on_disk() {
    let dir = std::env::temp_dir().join(format!("voltrs-snapshot-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let fx = fixtures();
    let images = images(&fx);
    write_snapshot(&DiskStorage, &dir, &meta("s1", 5), &images).unwrap();
    let mut n = 0;
    let m = read_snapshot(&DiskStorage, &dir, "s1", &mut |_, _, _, _| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!((m, n), (meta("s1", 5), 46));
    assert_eq!(newest_complete(&DiskStorage, &dir).map(|s| s.nonce), Some("s1".into()));
    delete_snapshot(&DiskStorage, &dir, "s1").unwrap();
    assert!(list_snapshots(&DiskStorage, &dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
