//! `@SnapshotSave`, `@SnapshotScan`, `@SnapshotDelete`, `@SnapshotRestore` and
//! `@Statistics COMMANDLOG` / `SNAPSHOTSTATUS`-style reporting of the durability state.

use std::path::PathBuf;
use std::sync::Arc;

use voltrs_storage::{DataType, Value};

use crate::durability::snapshot::{delete_snapshot, list_snapshots, newest_complete};
use crate::durability::snapshots::{Request, SnapshotService, restore};
use crate::session::Session;
use crate::{Error, ResultColumn, ResultTable};

fn service(session: &Session) -> Result<Arc<SnapshotService>, Error> {
    session
        .db
        .shared
        .snapshots
        .get()
        .cloned()
        .ok_or_else(|| Error::Invalid("snapshots need a data folder: this database runs in memory only".into()))
}

fn text(params: &[Value], i: usize) -> Option<String> {
    match params.get(i) {
        Some(Value::Varchar(s)) if !s.is_empty() => Some(s.to_string()),
        _ => None,
    }
}

/// The folder a call names, or the data folder's snapshot folder.
fn root(service: &SnapshotService, params: &[Value]) -> PathBuf {
    text(params, 0).map_or_else(|| service.root.clone(), PathBuf::from)
}

fn columns(cols: &[(&str, DataType)]) -> Vec<ResultColumn> {
    cols.iter()
        .map(|(n, ty)| ResultColumn {
            name: n.to_string(),
            ty: *ty,
        })
        .collect()
}

const VARCHAR: DataType = DataType::VARCHAR_MAX;

/// `@SnapshotSave([path, nonce, blocking[, format]])`: with no parameters, a blocking
/// snapshot named `MANUAL_<ms>` in the data folder; `format` is `native` or `csv`.
pub(super) fn save(session: &Session, params: &[Value]) -> Result<Vec<ResultTable>, Error> {
    let service = service(session)?;
    let root = root(&service, params);
    let now = crate::durability::snapshots::now_ms();
    let nonce = text(params, 1).unwrap_or_else(|| format!("MANUAL_{now}"));
    let blocking = match params.get(2) {
        None | Some(Value::Null) => true,
        Some(Value::Integer(i)) => *i != 0,
        Some(Value::Boolean(b)) => *b,
        Some(v) => {
            return Err(Error::Type(format!(
                "@SnapshotSave's blocking flag (parameter 3) must be 0 or 1, not {}",
                voltrs_storage::text::render(v).unwrap_or_default()
            )));
        }
    };
    let csv = match text(params, 3).map(|f| f.to_ascii_lowercase()) {
        None => false,
        Some(f) if f == "native" => false,
        Some(f) if f == "csv" => true,
        Some(f) => {
            return Err(Error::Invalid(format!(
                "@SnapshotSave's format must be native or csv, not {f}"
            )));
        }
    };
    let (tx, rx) = crossbeam_channel::bounded(1);
    service
        .submit(Request {
            root: root.clone(),
            nonce: nonce.clone(),
            csv,
            done: blocking.then_some(tx),
        })
        .map_err(Error::Invalid)?;
    let (result, err, lsn, files, bytes, rows) = if blocking {
        match rx.recv() {
            Ok(Ok(s)) => ("SUCCESS", String::new(), s.lsn, s.files, s.bytes, s.rows),
            Ok(Err(e)) => ("FAILURE", e, 0, 0, 0, 0),
            Err(_) => ("FAILURE", "the snapshot thread stopped".into(), 0, 0, 0, 0),
        }
    } else {
        ("SUCCESS", "started (not blocking)".into(), 0, 0, 0, 0)
    };
    if result == "FAILURE" {
        return Err(Error::Invalid(format!("snapshot {nonce} failed: {err}")));
    }
    let node = session.db.shared.node_info();
    Ok(vec![ResultTable {
        columns: columns(&[
            ("HOST_ID", DataType::Integer),
            ("HOSTNAME", VARCHAR),
            ("PATH", VARCHAR),
            ("NONCE", VARCHAR),
            ("TXNID", DataType::BigInt),
            ("FILES", DataType::BigInt),
            ("BYTES", DataType::BigInt),
            ("ROWS", DataType::BigInt),
            ("RESULT", VARCHAR),
            ("ERR_MSG", VARCHAR),
        ]),
        rows: vec![vec![
            Value::Integer(0),
            Value::str(&node.hostname),
            Value::str(&root.display().to_string()),
            Value::str(&nonce),
            Value::Integer(lsn as i64),
            Value::Integer(files as i64),
            Value::Integer(bytes as i64),
            Value::Integer(rows as i64),
            Value::str(result),
            Value::str(&err),
        ]],
    }])
}

/// `@SnapshotScan([path])`: every snapshot in the folder, complete or not.
pub(super) fn scan(session: &Session, params: &[Value]) -> Result<Vec<ResultTable>, Error> {
    let service = service(session)?;
    let root = root(&service, params);
    let rows = list_snapshots(&*service.storage, &root)
        .into_iter()
        .map(|s| {
            let tables: Vec<String> = s.tables.iter().map(|t| format!("{}.{}", t.database, t.name)).collect();
            vec![
                Value::str(&root.display().to_string()),
                Value::str(&s.nonce),
                s.lsn.map_or(Value::Null, |l| Value::Integer(l as i64)),
                s.created_ms.map_or(Value::Null, |ms| Value::Timestamp(ms * 1000)),
                Value::Integer(s.bytes as i64),
                Value::str(&tables.join(",")),
                Value::Integer(s.tables.iter().map(|t| t.rows).sum::<u64>() as i64),
                Value::str(if s.complete { "TRUE" } else { "FALSE" }),
                s.problem.map_or(Value::Null, |p| Value::str(&p)),
            ]
        })
        .collect();
    Ok(vec![ResultTable {
        columns: columns(&[
            ("PATH", VARCHAR),
            ("NONCE", VARCHAR),
            ("TXNID", DataType::BigInt),
            ("CREATED", DataType::Timestamp),
            ("SIZE", DataType::BigInt),
            ("TABLES", VARCHAR),
            ("ROWS", DataType::BigInt),
            ("COMPLETE", VARCHAR),
            ("PROBLEM", VARCHAR),
        ]),
        rows,
    }])
}

/// `@SnapshotDelete(path, nonce)`. The newest complete snapshot of the data folder is
/// what recovery needs (the log before it is gone): it is refused.
pub(super) fn delete(session: &Session, params: &[Value]) -> Result<Vec<ResultTable>, Error> {
    let service = service(session)?;
    let root = root(&service, params);
    let Some(nonce) = text(params, 1) else {
        return Err(Error::Invalid("@SnapshotDelete takes (path, nonce)".into()));
    };
    if root == service.root && newest_complete(&*service.storage, &root).is_some_and(|s| s.nonce == nonce) {
        return Err(Error::Invalid(format!(
            "snapshot {nonce} is the newest complete one of the data folder: recovery needs it (take a newer one first)"
        )));
    }
    delete_snapshot(&*service.storage, &root, &nonce).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(vec![ResultTable {
        columns: columns(&[("NONCE", VARCHAR), ("RESULT", VARCHAR)]),
        rows: vec![vec![Value::str(&nonce), Value::str("SUCCESS")]],
    }])
}

/// `@SnapshotRestore(path, nonce)`: loads a snapshot into empty tables (and its schema
/// into a database without one), then takes a snapshot of the data folder so what was
/// loaded survives a restart (it is not in the command log).
pub(super) fn restore_call(session: &Session, params: &[Value]) -> Result<Vec<ResultTable>, Error> {
    let service = service(session)?;
    let root = root(&service, params);
    let Some(nonce) = text(params, 1) else {
        return Err(Error::Invalid("@SnapshotRestore takes (path, nonce)".into()));
    };
    let catalog = session.db.shared.catalog();
    let no_schema = catalog.databases.values().all(|ns| ns.tables.is_empty());
    let meta = restore(&session.db, &*service.storage, &root, &nonce, no_schema).map_err(Error::Invalid)?;
    let now = crate::durability::snapshots::now_ms();
    let (tx, rx) = crossbeam_channel::bounded(1);
    service
        .submit(Request {
            root: service.root.clone(),
            nonce: format!("RESTORED_{now}"),
            csv: false,
            done: Some(tx),
        })
        .map_err(Error::Invalid)?;
    match rx.recv() {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Err(Error::Invalid(format!(
                "snapshot {nonce} was loaded but the snapshot that makes it durable failed: {e}"
            )));
        }
        Err(_) => return Err(Error::Invalid("the snapshot thread stopped".into())),
    }
    Ok(vec![ResultTable {
        columns: columns(&[("NONCE", VARCHAR), ("TXNID", DataType::BigInt), ("RESULT", VARCHAR)]),
        rows: vec![vec![
            Value::str(&meta.nonce),
            Value::Integer(meta.lsn as i64),
            Value::str("SUCCESS"),
        ]],
    }])
}

/// `@Statistics COMMANDLOG`: the log's mode, positions and counters.
pub(super) fn command_log_stats(session: &Session) -> ResultTable {
    let shared = &session.db.shared;
    let cols = columns(&[
        ("MODE", VARCHAR),
        ("APPENDED_LSN", DataType::BigInt),
        ("DURABLE_LSN", DataType::BigInt),
        ("RECORDS", DataType::BigInt),
        ("SYNCS", DataType::BigInt),
        ("BYTES", DataType::BigInt),
        ("LAST_SNAPSHOT", VARCHAR),
        ("LAST_SNAPSHOT_LSN", DataType::BigInt),
        ("FAILURE", VARCHAR),
    ]);
    let last = shared.snapshots.get().and_then(|s| s.last());
    let (name, lsn) = last.map_or((Value::Null, Value::Null), |(n, l, _)| {
        (Value::str(&n), Value::Integer(l as i64))
    });
    let row = match shared.log.get() {
        Some(log) => {
            use std::sync::atomic::Ordering::Relaxed;
            vec![
                Value::str(log.settings.mode.name()),
                Value::Integer(log.appended() as i64),
                Value::Integer(log.durable() as i64),
                Value::Integer(log.stats.records.load(Relaxed) as i64),
                Value::Integer(log.stats.syncs.load(Relaxed) as i64),
                Value::Integer(log.stats.bytes.load(Relaxed) as i64),
                name,
                lsn,
                log.failure().map_or(Value::Null, |f| Value::str(&f)),
            ]
        }
        None => vec![
            Value::str("off"),
            Value::Integer(0),
            Value::Integer(0),
            Value::Integer(0),
            Value::Integer(0),
            Value::Integer(0),
            name,
            lsn,
            Value::Null,
        ],
    };
    ResultTable {
        columns: cols,
        rows: vec![row],
    }
}
