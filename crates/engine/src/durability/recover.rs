//! Opening a data folder: lock it, check its partition count, load the newest complete
//! snapshot, replay the command log after it, then start logging.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use voltrs_storage::Value;

use super::io::Storage;
use super::log::{self, LogMode, LogSettings};
use super::record::{Command, MULTI_PARTITION, Record};
use super::scan::scan_log;
use crate::database::Database;
use crate::txn::Status;
use crate::{Error, Response};

/// Where and how a database keeps its data on disk.
#[derive(Clone)]
pub struct Durability {
    /// The data folder (created if missing).
    pub dir: PathBuf,
    pub log: LogSettings,
    pub snapshots: super::snapshots::SnapshotSettings,
    pub storage: Arc<dyn Storage>,
}

impl std::fmt::Debug for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durability")
            .field("dir", &self.dir)
            .field("log", &self.log)
            .finish()
    }
}

impl Durability {
    /// The real file system under `dir`, with these log settings.
    pub fn on_disk(dir: impl Into<PathBuf>, log: LogSettings) -> Durability {
        Durability {
            dir: dir.into(),
            log,
            snapshots: Default::default(),
            storage: Arc::new(super::io::DiskStorage),
        }
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// Where snapshots of the data folder go (the ones recovery loads).
    pub fn snapshot_dir(&self) -> PathBuf {
        self.dir.join("snapshots")
    }
}

/// What opening the data folder did.
#[derive(Debug, Clone, Default)]
pub struct Recovery {
    /// The snapshot loaded, if any.
    pub snapshot: Option<String>,
    /// Log records replayed after it.
    pub replayed: u64,
    /// A torn last record that was cut off.
    pub torn: Option<String>,
    pub elapsed: Duration,
}

/// The file holding the partition count fixed at the folder's first start.
const PARTITIONS_FILE: &str = "partitions";

/// Locks and checks the folder, recovers its content into `db` (which must be empty) and
/// starts the command log. Returns the lock guard, held for the database's life.
pub(crate) fn open(db: &Database, d: &Durability) -> Result<(Recovery, Box<dyn Send + Sync>), Error> {
    let started = Instant::now();
    let storage = &*d.storage;
    let folder = |e: std::io::Error| Error::Invalid(format!("data folder {}: {e}", d.dir.display()));
    storage.create_dir_all(&d.dir).map_err(folder)?;
    let lock = storage.lock(&d.dir.join("voltrs.lock")).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            Error::Invalid(format!(
                "data folder {} is in use by another voltrs server (it holds {}/voltrs.lock)",
                d.dir.display(),
                d.dir.display()
            ))
        } else {
            folder(e)
        }
    })?;
    check_partitions(storage, &d.dir, db.shared.partition_count())?;
    let mut recovery = Recovery::default();
    let mut after = 0;
    let mut last = None;
    if let Some(snap) = super::snapshot::newest_complete(storage, &d.snapshot_dir()) {
        let meta = super::snapshots::restore(db, storage, &d.snapshot_dir(), &snap.nonce, true)
            .map_err(|e| Error::Invalid(format!("cannot load snapshot {}: {e}", snap.nonce)))?;
        after = meta.lsn;
        last = Some((meta.nonce.clone(), meta.lsn, meta.created_ms));
        recovery.snapshot = Some(meta.nonce);
    }
    let log_dir = d.log_dir();
    let mut replayer = Replayer::new(db);
    let summary = scan_log(storage, &log_dir, after, true, &mut |record, _, _| {
        replayer.replay(record)
    })
    .map_err(|e| Error::Invalid(e.to_string()))?;
    replayer.drain().map_err(Error::Invalid)?;
    recovery.replayed = summary.replayed;
    recovery.torn = summary.torn.clone();
    if let Some(t) = &summary.torn {
        eprintln!("voltrs: warning: {t}");
    }
    // A snapshot taken from now on includes every record recovered.
    db.shared.set_recovered_lsn(summary.next_lsn - 1);
    let service = super::snapshots::start(
        &db.shared,
        d.storage.clone(),
        d.snapshot_dir(),
        d.snapshots.clone(),
        last,
    )
    .map_err(|e| Error::Invalid(format!("cannot start the snapshot thread: {e}")))?;
    let _ = db.shared.snapshots.set(service);
    if d.log.mode == LogMode::Off {
        if summary.records > 0 {
            eprintln!(
                "voltrs: warning: the command log of {} was replayed, but with the command log off new writes are not logged: only snapshots keep them",
                d.dir.display()
            );
        }
        recovery.elapsed = started.elapsed();
        return Ok((recovery, lock));
    }
    let shared = Arc::downgrade(&db.shared);
    let on_durable: log::DurableFn = Box::new(move |r| {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        match r {
            Ok(lsn) => shared.gate.advance(lsn),
            Err(e) => {
                eprintln!("voltrs: the command log failed: {e}");
                shared.gate.fail();
            }
        }
    });
    let (log, writer) = log::start(
        d.storage.clone(),
        &log_dir,
        d.log.clone(),
        summary.next_lsn,
        summary.segments,
        on_durable,
    )
    .map_err(|e| Error::Invalid(format!("cannot start the command log in {}: {e}", log_dir.display())))?;
    db.shared.gate.set_durable(summary.next_lsn - 1);
    db.shared.set_log(log, writer);
    recovery.elapsed = started.elapsed();
    Ok((recovery, lock))
}

/// Fixes the partition count at the folder's first start; a later start must match it
/// (the hash ring and every logged routing depend on it).
fn check_partitions(storage: &dyn Storage, dir: &Path, partitions: usize) -> Result<(), Error> {
    let path = dir.join(PARTITIONS_FILE);
    if storage.exists(&path) {
        let text = storage
            .read(&path)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))?;
        let stored: usize = String::from_utf8_lossy(&text).trim().parse().map_err(|_| {
            Error::Invalid(format!(
                "{} does not hold a partition count: the data folder is damaged",
                path.display()
            ))
        })?;
        if stored != partitions {
            return Err(Error::Invalid(format!(
                "data folder {} was created with {stored} partitions but this server has {partitions}: start it with --sites {stored}",
                dir.display()
            )));
        }
        return Ok(());
    }
    // Written aside and renamed, so a crash never leaves an empty or partial file.
    let write = || -> std::io::Result<()> {
        let tmp = dir.join("partitions.tmp");
        let mut f = storage.create(&tmp)?;
        f.write_at(0, format!("{partitions}\n").as_bytes())?;
        f.sync()?;
        storage.rename(&tmp, &path)?;
        storage.sync_dir(dir)
    };
    write().map_err(|e| Error::Invalid(format!("cannot write {}: {e}", path.display())))
}

/// Runs logged transactions again, in log order, each with its logged unique id; each
/// committed before, so each must commit again.
///
/// Single-partition procedure calls are queued without waiting (their lane keeps them in
/// order, and the unique id is taken while the call is queued on this thread); anything
/// else first waits for those to finish, then runs alone.
struct Replayer<'a> {
    db: &'a Database,
    results: crossbeam_channel::Receiver<(u64, String, Response)>,
    sender: crossbeam_channel::Sender<(u64, String, Response)>,
    outstanding: usize,
}

/// Calls in flight during replay before the next one waits for an answer.
const REPLAY_WINDOW: usize = 4096;

impl<'a> Replayer<'a> {
    fn new(db: &'a Database) -> Replayer<'a> {
        let (sender, results) = crossbeam_channel::unbounded();
        Replayer {
            db,
            results,
            sender,
            outstanding: 0,
        }
    }

    fn replay(&mut self, record: Record) -> Result<(), String> {
        let mut session = self.db.session();
        session.set_database(&record.database);
        session.set_admin(true);
        if let Command::Procedure { ref name, ref params } = record.command
            && record.partition != MULTI_PARTITION
        {
            while self.outstanding >= REPLAY_WINDOW {
                self.take_one()?;
            }
            let tx = self.sender.clone();
            let (lsn, what) = (record.lsn, describe(&record.command));
            self.db.shared.set_replayed_id(Some(record.unique_id));
            session.call_on_partition_async(name, record.partition as usize, params.clone(), move |r| {
                let _ = tx.send((lsn, what, r));
            });
            self.db.shared.set_replayed_id(None);
            self.outstanding += 1;
            return Ok(());
        }
        self.drain()?;
        self.db.shared.set_replayed_id(Some(record.unique_id));
        let response = match record.command {
            Command::Procedure { ref name, ref params } => session.call(name, params),
            Command::AdHoc { ref sql, ref params } => {
                let mut all = Vec::with_capacity(params.len() + 1);
                all.push(Value::str(sql));
                all.extend(params.iter().cloned());
                session.call("@AdHoc", &all)
            }
            Command::Load {
                ref table,
                upsert,
                ref rows,
            } => session.load_table(table, None, upsert, rows.clone()),
        };
        self.db.shared.set_replayed_id(None);
        check(record.lsn, &describe(&record.command), response)
    }

    fn take_one(&mut self) -> Result<(), String> {
        let (lsn, what, response) = self
            .results
            .recv()
            .map_err(|_| "a site stopped during replay".to_string())?;
        self.outstanding -= 1;
        check(lsn, &what, response)
    }

    /// Waits for every queued call.
    fn drain(&mut self) -> Result<(), String> {
        while self.outstanding > 0 {
            self.take_one()?;
        }
        Ok(())
    }
}

fn check(lsn: u64, what: &str, response: Response) -> Result<(), String> {
    if response.status == Status::Success {
        return Ok(());
    }
    Err(format!(
        "record {lsn} ({what}) committed before but fails when replayed: {}",
        response.status_string.unwrap_or_default()
    ))
}

fn describe(c: &Command) -> String {
    match c {
        Command::Procedure { name, .. } => format!("procedure {name}"),
        Command::AdHoc { sql, .. } => {
            let short: String = sql.chars().take(80).collect();
            format!("SQL `{short}`")
        }
        Command::Load { table, rows, .. } => format!("{} rows loaded into {table}", rows.len()),
    }
}
