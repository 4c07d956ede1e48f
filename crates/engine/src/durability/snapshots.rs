//! Taking, scheduling and restoring snapshots (the files themselves are [`super::snapshot`]).
//!
//! A snapshot is taken at a multi-partition barrier: with every partition lent, the
//! coordinator copies each table's row arena (no indexes) and notes the last command-log
//! LSN; the partitions go back at once and a background thread writes the copies. So
//! single-partition work pauses only for the copy (a memory copy of the rows), and the
//! image is transaction-consistent: exactly the transactions up to that LSN. Once a
//! snapshot in the data folder is complete, the log segments it covers are removed.
//!
//! Restore (at start-up, or `@SnapshotRestore`) replays the snapshot's DDL, then installs
//! each table partition's rows straight into storage and rebuilds its indexes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use voltrs_sql::catalog::TableDef;
use voltrs_sql::route::Route;
use voltrs_storage::table::{Partition, Table};
use voltrs_storage::{DataType, Value};

use super::io::Storage;
use super::snapshot::{
    SnapshotMeta, SnapshotSummary, TableImage, delete_snapshot, list_snapshots, read_meta, read_snapshot, write_csv,
    write_snapshot,
};
use crate::database::{Database, Shared};
use crate::txn::{Aborted, AppStatus, Committed, Status, TxnResult};
use crate::work::Work;
use crate::{Error, Outcome};

/// When automatic snapshots are taken, and how many are kept.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    /// Every this often (`None`: not by time).
    pub interval: Option<Duration>,
    /// When the command log has grown by this many bytes since the last snapshot.
    pub log_bytes: Option<u64>,
    /// Automatic snapshots kept (older ones are deleted); at least 1.
    pub retain: usize,
}

impl Default for SnapshotSettings {
    fn default() -> SnapshotSettings {
        SnapshotSettings {
            interval: Some(Duration::from_secs(60 * 60)),
            log_bytes: Some(1 << 30),
            retain: 2,
        }
    }
}

/// The prefix of automatic snapshots' names.
pub const AUTO_PREFIX: &str = "AUTO_";

/// Copies of every table partition at one point of the transaction order.
pub(crate) struct Image {
    pub lsn: u64,
    pub partition_count: u32,
    pub ddl: Vec<(String, String)>,
    tables: Vec<ImageTable>,
}

struct ImageTable {
    database: String,
    name: String,
    columns: Vec<(String, DataType)>,
    replicated: bool,
    partition: u32,
    rows: Table,
}

/// Where a snapshot barrier sends its image.
pub(crate) struct Capture(Mutex<Option<Sender<Image>>>);

/// Takes the image on the coordinator, with every partition lent.
pub(crate) fn capture(capture: &Capture, shared: &Shared, parts: &[Partition]) -> TxnResult {
    let catalog = shared.catalog();
    // What to copy: each table of each partition (a replicated table once).
    let mut wanted = Vec::new();
    for (db, ns) in &catalog.databases {
        for def in ns.tables.values() {
            let columns: Vec<(String, DataType)> = def.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
            let replicated = !def.is_partitioned();
            for p in 0..parts.len() {
                if replicated && p > 0 {
                    break;
                }
                wanted.push((db.clone(), def.clone(), columns.clone(), replicated, p));
            }
        }
    }
    // The copies are memory copies of row arenas: one thread per partition (the sites are
    // idle at the barrier, so this uses their cores).
    let copies: Vec<Vec<(usize, Table)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(p, part)| {
                let wanted = &wanted;
                scope.spawn(move || {
                    wanted
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| w.4 == p)
                        .filter_map(|(i, w)| part.table(w.1.id).map(|t| (i, t.rows_copy())))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut by_index: Vec<Option<Table>> = (0..wanted.len()).map(|_| None).collect();
    for (i, t) in copies.into_iter().flatten() {
        if let Some(slot) = by_index.get_mut(i) {
            *slot = Some(t);
        }
    }
    let tables: Vec<ImageTable> = wanted
        .into_iter()
        .zip(by_index)
        .filter_map(|((database, def, columns, replicated, p), rows)| {
            Some(ImageTable {
                database,
                name: def.name.clone(),
                columns,
                replicated,
                partition: p as u32,
                rows: rows?,
            })
        })
        .collect();
    let image = Image {
        lsn: shared.last_lsn(),
        partition_count: parts.len() as u32,
        ddl: shared.ddl_history(),
        tables,
    };
    if let Some(tx) = capture.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = tx.send(image);
    }
    Ok(Committed {
        outcomes: Vec::new(),
        app_status: AppStatus::default(),
    })
}

/// Takes an image now (a barrier on every partition) and returns it.
pub(crate) fn take_image(shared: &Shared) -> Result<Image, String> {
    let (tx, rx) = bounded(1);
    let work = Work::Snapshot(Arc::new(Capture(Mutex::new(Some(tx)))));
    let version = shared.catalog().version;
    shared
        .run(Route::Multi, version, work)
        .map_err(|a| a.error.to_string())?;
    rx.recv()
        .map_err(|_| "the snapshot barrier returned no image".to_string())
}

fn images(image: &Image) -> Vec<TableImage<'_>> {
    image
        .tables
        .iter()
        .map(|t| TableImage {
            database: &t.database,
            name: &t.name,
            columns: &t.columns,
            replicated: t.replicated,
            partition: t.partition,
            table: &t.rows,
        })
        .collect()
}

/// Wall-clock milliseconds since the Unix epoch (snapshot names and creation times).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Writes an image as snapshot `nonce` under `root`.
pub(crate) fn write_image(
    storage: &dyn Storage,
    root: &Path,
    nonce: &str,
    image: &Image,
) -> Result<SnapshotSummary, String> {
    let meta = SnapshotMeta {
        nonce: nonce.to_string(),
        lsn: image.lsn,
        created_ms: now_ms(),
        partition_count: image.partition_count,
        ddl: image.ddl.clone(),
    };
    write_snapshot(storage, root, &meta, &images(image)).map_err(|e| e.to_string())
}

/// Writes an image as CSV files (one per table) in `dir`.
pub(crate) fn write_image_csv(storage: &dyn Storage, dir: &Path, image: &Image) -> Result<(usize, u64), String> {
    storage
        .create_dir_all(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = write_csv(storage, dir, &images(image)).map_err(|e| e.to_string())?;
    Ok((files.len(), files.iter().map(|f| f.rows).sum()))
}

/// Rows to put straight into a table's storage (restore): one partition's, or with
/// `partition` unset a replicated table's, copied into every partition.
pub(crate) struct Install {
    pub table: Arc<TableDef>,
    pub partition: Option<usize>,
    pub rows: Vec<Vec<Value>>,
}

/// Installs rows on the coordinator (every partition lent): the tables must be empty.
pub(crate) fn install(i: &Install, shared: &Shared, parts: &mut [Partition]) -> TxnResult {
    let fail = |m: String| Err(Aborted::new(Status::GracefulFailure, Error::Invalid(m)));
    let targets: Vec<usize> = match i.partition {
        Some(p) => vec![p],
        None => (0..parts.len()).collect(),
    };
    let mut counts = Vec::new();
    for p in targets {
        let Some(t) = parts.get_mut(p).and_then(|part| part.table_mut(i.table.id)) else {
            return fail(format!("table {} has no storage in partition {p}", i.table.name));
        };
        if !t.is_empty() {
            return fail(format!(
                "table {} is not empty: a snapshot restores into empty tables only",
                i.table.name
            ));
        }
        for (n, row) in i.rows.iter().enumerate() {
            let checked = voltrs_sql::apply::check_row(&i.table, row.clone())
                .map_err(|e| Aborted::graceful(Error::Invalid(format!("{} row {}: {e}", i.table.name, n + 1))))?;
            if let Err(e) = t.insert(&checked) {
                return fail(format!("{} row {}: {e}", i.table.name, n + 1));
            }
        }
        if let Err(e) = voltrs_sql::apply::rebuild_indexes(&i.table, t) {
            return fail(format!("table {}: {e}", i.table.name));
        }
        counts.push((i.table.id, p, t.len()));
    }
    shared.row_counts.set(&counts);
    Ok(Committed {
        outcomes: vec![Outcome::Modified(i.rows.len() as u64)],
        app_status: AppStatus::default(),
    })
}

/// Loads snapshot `nonce` from `root` into `db`, whose tables must be empty: replays its
/// DDL first when `with_schema` (the database has no schema yet), then installs its rows.
pub(crate) fn restore(
    db: &Database,
    storage: &dyn Storage,
    root: &Path,
    nonce: &str,
    with_schema: bool,
) -> Result<SnapshotMeta, String> {
    if with_schema {
        let meta = read_meta(storage, root, nonce).map_err(|e| e.to_string())?;
        replay_ddl(db, &meta.ddl)?;
    }
    type Pending = (String, String, u32, Vec<Vec<Value>>);
    let install_rows = |p: Pending| -> Result<(), String> {
        let (database, table, partition, rows) = p;
        let catalog = db.shared.catalog();
        let def = catalog
            .database(&database)
            .and_then(|ns| ns.table(&table))
            .map_err(|e| format!("snapshot table {database}.{table}: {e}"))?
            .clone();
        let partition = def.is_partitioned().then_some(partition as usize);
        let work = Work::Install(Box::new(Install {
            table: def,
            partition,
            rows,
        }));
        db.shared
            .run(Route::Multi, catalog.version, work)
            .map(|_| ())
            .map_err(|a| a.error.to_string())
    };
    // Rows come file by file: one table partition's rows are installed together.
    let mut pending: Option<Pending> = None;
    let meta = read_snapshot(storage, root, nonce, &mut |database, table, partition, row| {
        match &mut pending {
            Some((d, t, p, rows)) if d == database && t == table && *p == partition => rows.push(row),
            _ => {
                if let Some(done) = pending.replace((database.to_string(), table.to_string(), partition, vec![row])) {
                    install_rows(done)?;
                }
            }
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    if let Some(done) = pending.take() {
        install_rows(done)?;
    }
    Ok(meta)
}

/// Replays a snapshot's DDL into `db` (before its rows are installed).
pub(crate) fn replay_ddl(db: &Database, ddl: &[(String, String)]) -> Result<(), String> {
    for (database, text) in ddl {
        let mut s = db.session();
        s.set_database(database);
        s.set_admin(true);
        let r = s.call("@AdHoc", &[Value::str(text)]);
        if r.status != Status::Success {
            return Err(format!(
                "the snapshot's DDL `{}` fails: {}",
                text.chars().take(80).collect::<String>(),
                r.status_string.unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// A request to the snapshot thread.
pub(crate) struct Request {
    pub root: PathBuf,
    pub nonce: String,
    pub csv: bool,
    /// Gets the outcome once written (a blocking save); `None` for a non-blocking one.
    pub done: Option<Sender<Result<SnapshotSummary, String>>>,
}

/// The snapshot thread's handle: requests go in, automatic snapshots happen inside.
pub(crate) struct SnapshotService {
    requests: Sender<Request>,
    pub settings: SnapshotSettings,
    /// The data folder's snapshot root (recovery reads only this one).
    pub root: PathBuf,
    pub storage: Arc<dyn Storage>,
    /// The last snapshot written to the root, if any: (nonce, LSN, when).
    last: Mutex<Option<(String, u64, i64)>>,
}

impl SnapshotService {
    pub fn submit(&self, r: Request) -> Result<(), String> {
        self.requests
            .send(r)
            .map_err(|_| "the snapshot thread has stopped".to_string())
    }

    /// The last snapshot written to the data folder: (nonce, LSN, creation time in ms).
    pub fn last(&self) -> Option<(String, u64, i64)> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Starts the snapshot thread for the data folder's `root`.
pub(crate) fn start(
    shared: &Arc<Shared>,
    storage: Arc<dyn Storage>,
    root: PathBuf,
    settings: SnapshotSettings,
    last: Option<(String, u64, i64)>,
) -> std::io::Result<Arc<SnapshotService>> {
    let (tx, rx) = unbounded();
    let service = Arc::new(SnapshotService {
        requests: tx,
        settings,
        root,
        storage,
        last: Mutex::new(last),
    });
    let weak = Arc::downgrade(shared);
    let s = service.clone();
    std::thread::Builder::new()
        .name("voltrs-snapshot".into())
        .spawn(move || run(weak, &s, rx))?;
    Ok(service)
}

fn run(shared: Weak<Shared>, service: &SnapshotService, requests: Receiver<Request>) {
    let mut last_auto = Instant::now();
    let mut log_bytes_at_last = 0u64;
    loop {
        let request = match requests.recv_timeout(Duration::from_millis(100)) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.stopping() {
            return;
        }
        let request = request.or_else(|| {
            let log_bytes = shared
                .log
                .get()
                .map_or(0, |l| l.stats.bytes.load(std::sync::atomic::Ordering::Relaxed));
            let by_time = service.settings.interval.is_some_and(|i| last_auto.elapsed() >= i);
            let by_size = service
                .settings
                .log_bytes
                .is_some_and(|b| log_bytes.saturating_sub(log_bytes_at_last) >= b);
            (by_time || by_size).then(|| Request {
                root: service.root.clone(),
                nonce: format!("{AUTO_PREFIX}{}", now_ms()),
                csv: false,
                done: None,
            })
        });
        let Some(r) = request else { continue };
        let auto = r.nonce.starts_with(AUTO_PREFIX) && r.done.is_none();
        if auto {
            last_auto = Instant::now();
            log_bytes_at_last = shared
                .log
                .get()
                .map_or(0, |l| l.stats.bytes.load(std::sync::atomic::Ordering::Relaxed));
        }
        let outcome = save(&shared, service, &r);
        match (&outcome, &r.done) {
            (Err(e), None) => eprintln!("voltrs: snapshot {} failed: {e}", r.nonce),
            (Ok(s), None) if auto => eprintln!(
                "voltrs: automatic snapshot {} written ({} rows, {} bytes, up to log record {})",
                s.nonce, s.rows, s.bytes, s.lsn
            ),
            _ => {}
        }
        if auto && outcome.is_ok() {
            prune(service);
        }
        if let Some(done) = r.done {
            let _ = done.send(outcome);
        }
    }
}

/// Takes and writes one snapshot; one in the data folder releases the log it covers.
fn save(shared: &Shared, service: &SnapshotService, r: &Request) -> Result<SnapshotSummary, String> {
    super::snapshot::check_nonce(&r.nonce).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let image = take_image(shared)?;
    let captured = started.elapsed();
    let storage = &*service.storage;
    if r.csv {
        let dir = r.root.join(&r.nonce);
        let (files, rows) = write_image_csv(storage, &dir, &image)?;
        return Ok(SnapshotSummary {
            nonce: r.nonce.clone(),
            lsn: image.lsn,
            files,
            bytes: 0,
            rows,
        });
    }
    storage
        .create_dir_all(&r.root)
        .map_err(|e| format!("cannot create {}: {e}", r.root.display()))?;
    let summary = write_image(storage, &r.root, &r.nonce, &image)?;
    eprintln!(
        "voltrs: snapshot {}: partitions paused {:.1} ms for the copy, {} rows and {} bytes written in {:.1} ms",
        r.nonce,
        captured.as_secs_f64() * 1e3,
        summary.rows,
        summary.bytes,
        (started.elapsed() - captured).as_secs_f64() * 1e3
    );
    if r.root == service.root {
        *service.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((r.nonce.clone(), image.lsn, now_ms()));
        if let Some(log) = shared.log.get() {
            log.release_upto(image.lsn);
        }
    }
    Ok(summary)
}

/// Deletes automatic snapshots beyond the newest `retain` (and incomplete ones older than
/// the newest complete one).
fn prune(service: &SnapshotService) {
    let mut autos: Vec<_> = list_snapshots(&*service.storage, &service.root)
        .into_iter()
        .filter(|s| s.nonce.starts_with(AUTO_PREFIX))
        .collect();
    autos.sort_by_key(|s| (s.complete, s.lsn, s.created_ms));
    let keep = service.settings.retain.max(1);
    let complete = autos.iter().filter(|s| s.complete).count();
    let mut extra_complete = complete.saturating_sub(keep);
    for s in autos {
        let drop = if s.complete {
            if extra_complete > 0 {
                extra_complete -= 1;
                true
            } else {
                false
            }
        } else {
            true
        };
        if drop && let Err(e) = delete_snapshot(&*service.storage, &service.root, &s.nonce) {
            eprintln!("voltrs: could not delete old snapshot {}: {e}", s.nonce);
        }
    }
}
