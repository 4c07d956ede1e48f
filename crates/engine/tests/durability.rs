//! The command log and recovery on the in-memory file system: what a restart keeps after a
//! clean stop and after crashes (unsynced bytes lost, torn writes), and the errors for
//! damage, failed syncs, a full disk, a folder in use and a changed partition count.

use std::path::Path;
use std::sync::Arc;

use voltrs_engine::durability::io::MemStorage;
use voltrs_engine::durability::{Durability, LogMode, LogSettings};
use voltrs_engine::{Config, Database, Outcome, Status};
use voltrs_storage::Value;

const DIR: &str = "/data";

fn config(storage: &MemStorage, mode: LogMode, partitions: usize) -> Config {
    Config {
        durability: Some(Durability {
            dir: DIR.into(),
            log: LogSettings {
                mode,
                segment_bytes: 16 << 10,
                ..LogSettings::default()
            },
            snapshots: voltrs_engine::durability::SnapshotSettings::default(),
            storage: Arc::new(storage.clone()),
        }),
        ..Config::with_partitions(partitions)
    }
}

fn open(storage: &MemStorage) -> Database {
    Database::open(config(storage, LogMode::Sync, 3)).expect("open")
}

fn count(db: &Database, sql: &str) -> i64 {
    let mut s = db.session();
    match s.execute_sql(sql).expect("query").remove(0) {
        Outcome::Rows(t) => match t.rows.first().and_then(|r| r.first()) {
            Some(Value::Integer(n)) => *n,
            other => panic!("not a count: {other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

const SCHEMA: &str = "CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL, name VARCHAR(20));
PARTITION TABLE acct ON COLUMN id;
CREATE TABLE settings (k VARCHAR(10) NOT NULL PRIMARY KEY, v INTEGER);
CREATE TABLE stamps (id INTEGER NOT NULL PRIMARY KEY, at TIMESTAMP);
CREATE VIEW by_balance (balance, n) AS SELECT balance, COUNT(*) FROM acct GROUP BY balance;
CREATE PROCEDURE deposit PARTITION ON TABLE acct COLUMN id PARAMETER 0 AS UPDATE acct SET balance = balance + ? WHERE id = ?;";

/// Every way a write reaches the engine, each logged and replayed.
fn write_everything(db: &Database) {
    let mut s = db.session();
    s.execute_sql(SCHEMA).expect("schema");
    for i in 0..50i64 {
        s.execute_sql(&format!("INSERT INTO acct VALUES ({i}, 100, 'n{i}')"))
            .expect("insert");
    }
    let r = s.call(
        "@AdHoc",
        &[
            Value::str("INSERT INTO settings VALUES (?, ?); UPDATE settings SET v = v + 1 WHERE k = ?"),
            Value::str("a"),
            Value::Integer(1),
            Value::str("a"),
        ],
    );
    assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
    let prepared = s.prepare("UPDATE acct SET name = ? WHERE id = ?").expect("prepare");
    s.execute_prepared(&prepared, &[Value::str("renamed"), Value::Integer(7)])
        .expect("prepared");
    for i in 0..20i64 {
        // deposit(id, amount) with PARAMETER 0 = id: the statement takes amount then id.
        let r = s.call("deposit", &[Value::Integer(i), Value::Integer(i)]);
        assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
    }
    let r = s.call(
        "ACCT.insert",
        &[Value::Integer(1000), Value::Integer(5), Value::str("dp")],
    );
    assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
    let r = s.load_table(
        "ACCT",
        None,
        false,
        (2000..2010i64)
            .map(|i| vec![Value::Integer(i), Value::Integer(1), Value::Null])
            .collect(),
    );
    assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
    // A failed write is not logged and must not come back.
    let r = s.call("ACCT.insert", &[Value::Integer(1), Value::Integer(1), Value::Null]);
    assert_ne!(r.status, Status::Success);
    // NOW is the transaction's timestamp: replay must reuse the logged one.
    for i in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(3));
        s.execute_sql(&format!("INSERT INTO stamps VALUES ({i}, NOW)"))
            .expect("stamp");
    }
    s.execute_sql("CREATE DATABASE other; USE other; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (5);")
        .expect("other database");
}

#[test]
fn a_clean_restart_keeps_every_committed_write() {
    let storage = MemStorage::new();
    let before = {
        let db = open(&storage);
        write_everything(&db);
        db.content_hashes().expect("hash")
    };
    let db = open(&storage);
    let recovery = db.recovery().expect("recovery");
    assert!(recovery.replayed > 80, "{recovery:?}");
    assert_eq!(db.content_hashes().expect("hash"), before);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM acct"), 61);
    assert_eq!(count(&db, "SELECT SUM(n) FROM by_balance"), 61);
    assert_eq!(count(&db, "SELECT v FROM settings WHERE k = 'a'"), 2);
    assert_eq!(count(&db, "SELECT balance FROM acct WHERE id = 19"), 119);
    let mut s = db.session();
    s.execute_sql("USE other").expect("use");
    let Outcome::Rows(t) = s.execute_sql("SELECT x FROM t").expect("t").remove(0) else {
        panic!()
    };
    assert_eq!(t.rows, vec![vec![Value::Integer(5)]]);
    // New writes after recovery are logged after the replayed ones.
    drop(s);
    db.session()
        .execute_sql("INSERT INTO acct VALUES (5000, 1, 'late')")
        .expect("late");
    drop(db);
    let db = open(&storage);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM acct"), 62);
}

#[test]
fn a_crash_keeps_every_acknowledged_write_whatever_is_torn() {
    for torn in [0usize, 1, 7, 20, 100, 10_000] {
        let storage = MemStorage::new();
        let db = open(&storage);
        let mut s = db.session();
        s.execute_sql(SCHEMA).expect("schema");
        for i in 0..200i64 {
            s.execute_sql(&format!("INSERT INTO acct VALUES ({i}, {i}, NULL)"))
                .expect("insert");
        }
        let hash = db.content_hashes().expect("hash");
        storage.crash(torn);
        drop(s);
        drop(db);
        let db = open(&storage);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM acct"), 200, "torn {torn}");
        assert_eq!(db.content_hashes().expect("hash"), hash, "torn {torn}");
    }
}

#[test]
fn asynchronous_mode_loses_only_unsynced_writes_and_never_half_a_transaction() {
    let storage = MemStorage::new();
    let db = Database::open(config(&storage, LogMode::Async, 2)).expect("open");
    let mut s = db.session();
    s.execute_sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, b INTEGER)")
        .expect("schema");
    std::thread::sleep(std::time::Duration::from_millis(300));
    for i in 0..100 {
        // Each batch writes two rows in one transaction.
        let r = s.call(
            "@AdHoc",
            &[Value::str(&format!(
                "INSERT INTO t VALUES ({}, 1, 1); INSERT INTO t VALUES ({}, 1, 1)",
                2 * i,
                2 * i + 1
            ))],
        );
        assert_eq!(r.status, Status::Success);
    }
    storage.crash(37);
    drop(s);
    drop(db);
    let db = Database::open(config(&storage, LogMode::Async, 2)).expect("reopen");
    let n = count(&db, "SELECT COUNT(*) FROM t");
    assert_eq!(n % 2, 0, "half a transaction came back: {n} rows");
    assert!(n <= 200);
}

#[test]
fn a_flipped_bit_before_the_tail_stops_recovery_with_file_and_offset() {
    let storage = MemStorage::new();
    {
        let db = open(&storage);
        let mut s = db.session();
        s.execute_sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY)")
            .expect("schema");
        for i in 0..50 {
            s.execute_sql(&format!("INSERT INTO t VALUES ({i})")).expect("insert");
        }
    }
    let segment = storage
        .paths()
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "vlog"))
        .expect("a segment");
    assert!(storage.flip_bit(&segment, 200, 3));
    let Err(e) = Database::open(config(&storage, LogMode::Sync, 3)) else {
        panic!("a damaged log was accepted");
    };
    let msg = e.to_string();
    assert!(msg.contains(&segment.display().to_string()), "{msg}");
    assert!(msg.contains("offset"), "{msg}");
}

#[test]
fn a_failed_sync_fails_the_write_and_every_later_one() {
    let storage = MemStorage::new();
    let db = open(&storage);
    let mut s = db.session();
    s.execute_sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY)")
        .expect("schema");
    storage.fail_syncs(true);
    let e = s
        .execute_sql("INSERT INTO t VALUES (1)")
        .expect_err("a write whose sync failed");
    assert!(e.to_string().contains("command log"), "{e}");
    assert!(db.log_failure().is_some());
    let e = s.execute_sql("INSERT INTO t VALUES (2)").expect_err("a later write");
    assert!(e.to_string().contains("command log"), "{e}");
    // Reads fail too: this memory may hold what the log lost.
    assert!(s.execute_sql("SELECT COUNT(*) FROM t").is_err());
}

#[test]
fn a_full_disk_refuses_writes_before_they_run() {
    let storage = MemStorage::new();
    let db = open(&storage);
    let mut s = db.session();
    s.execute_sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, pad VARCHAR(200))")
        .expect("schema");
    // Room for the current segment only: the next one cannot be prepared.
    storage.set_space(Some(1024));
    let mut refused = None;
    let mut acked = 0;
    for i in 0..1000 {
        match s.execute_sql(&format!("INSERT INTO t VALUES ({i}, '{}')", "x".repeat(150))) {
            Ok(_) => acked += 1,
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        }
    }
    let refused = refused.expect("writes were never refused");
    assert!(refused.contains("disk is full"), "{refused}");
    assert!(db.log_failure().is_none(), "the log failed instead of refusing");
    storage.set_space(None);
    drop(s);
    drop(db);
    let db = open(&storage);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM t"), acked);
}

#[test]
fn a_folder_in_use_or_with_another_partition_count_is_refused() {
    let storage = MemStorage::new();
    let db = open(&storage);
    let Err(e) = Database::open(config(&storage, LogMode::Sync, 3)) else {
        panic!("two databases opened one folder");
    };
    assert!(e.to_string().contains("in use"), "{e}");
    drop(db);
    let Err(e) = Database::open(config(&storage, LogMode::Sync, 5)) else {
        panic!("the partition count changed");
    };
    assert!(e.to_string().contains("--sites 3"), "{e}");
}

fn ok(r: voltrs_engine::Response) -> voltrs_engine::Response {
    assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
    r
}

#[test]
fn a_snapshot_covers_the_log_before_it_and_recovery_starts_from_it() {
    let storage = MemStorage::new();
    let (before, segments_before) = {
        let db = open(&storage);
        write_everything(&db);
        let mut s = db.session();
        for i in 0..300i64 {
            s.execute_sql(&format!("UPSERT INTO acct VALUES ({i}, {i}, 'pad pad pad pad')"))
                .expect("upsert");
        }
        let segments_before = storage
            .paths()
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".vlog"))
            .count();
        let r = ok(s.call("@SnapshotSave", &[]));
        let lsn = match &r.tables[0].rows[0][4] {
            Value::Integer(l) => *l,
            other => panic!("{other:?}"),
        };
        assert!(lsn > 300, "snapshot LSN {lsn}");
        // Writes after the snapshot come back from the log.
        s.execute_sql("DELETE FROM acct WHERE id < 10").expect("delete");
        s.execute_sql("USE other; INSERT INTO t VALUES (6)").expect("insert");
        // The writer removes covered segments after the snapshot.
        std::thread::sleep(std::time::Duration::from_millis(200));
        (db.content_hashes().expect("hash"), segments_before)
    };
    let segments_after = storage
        .paths()
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".vlog"))
        .count();
    assert!(
        segments_after < segments_before,
        "{segments_before} segments before, {segments_after} after"
    );
    let db = open(&storage);
    let recovery = db.recovery().expect("recovery");
    assert!(
        recovery.snapshot.as_deref().is_some_and(|n| n.starts_with("MANUAL_")),
        "{recovery:?}"
    );
    assert_eq!(recovery.replayed, 2, "{recovery:?}");
    assert_eq!(db.content_hashes().expect("hash"), before);
    assert_eq!(
        count(&db, "SELECT SUM(n) FROM by_balance"),
        count(&db, "SELECT COUNT(*) FROM acct")
    );
    // The snapshot's own checks and listing.
    let mut s = db.session();
    let scan = ok(s.call("@SnapshotScan", &[]));
    assert_eq!(scan.tables[0].rows.len(), 1);
    assert_eq!(scan.tables[0].rows[0][7], Value::str("TRUE"));
    let nonce = scan.tables[0].rows[0][1].clone();
    let refused = s.call("@SnapshotDelete", &[Value::Null, nonce]);
    assert_ne!(refused.status, Status::Success);
    assert!(refused.status_string.unwrap_or_default().contains("recovery needs it"));
}

#[test]
fn snapshots_restore_into_another_database_and_export_as_csv() {
    let storage = MemStorage::new();
    {
        let db = open(&storage);
        write_everything(&db);
        let mut s = db.session();
        ok(s.call(
            "@SnapshotSave",
            &[Value::str("/exports"), Value::str("copy1"), Value::Integer(1)],
        ));
        ok(s.call(
            "@SnapshotSave",
            &[
                Value::str("/csv"),
                Value::str("copy1"),
                Value::Integer(1),
                Value::str("csv"),
            ],
        ));
        let e = s.call(
            "@SnapshotSave",
            &[Value::str("/exports"), Value::str("copy1"), Value::Integer(1)],
        );
        assert!(e.status_string.unwrap_or_default().contains("already exists"));
    }
    let names: Vec<String> = storage
        .paths()
        .iter()
        .filter(|p| p.starts_with("/csv/copy1"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("VOLTRS.ACCT.csv")), "{names:?}");
    let csv = String::from_utf8(
        storage
            .content(Path::new("/csv/copy1/VOLTRS.SETTINGS.csv"))
            .expect("csv"),
    )
    .expect("utf8");
    assert_eq!(csv, "K,V\na,2\n");
    // A second data folder on the same storage restores the copy.
    let other = Database::open(Config {
        durability: Some(Durability {
            dir: "/data2".into(),
            ..config(&storage, LogMode::Sync, 3).durability.expect("durability")
        }),
        ..Config::with_partitions(3)
    })
    .expect("open");
    let mut s = other.session();
    ok(s.call("@SnapshotRestore", &[Value::str("/exports"), Value::str("copy1")]));
    assert_eq!(count(&other, "SELECT COUNT(*) FROM acct"), 61);
    assert_eq!(count(&other, "SELECT SUM(n) FROM by_balance"), 61);
    // Restored rows are indexed: a primary-key duplicate is refused.
    assert!(s.execute_sql("INSERT INTO acct VALUES (1, 1, NULL)").is_err());
    // And they survive a restart (the restore took a snapshot of the folder).
    drop(s);
    drop(other);
    let again = Database::open(Config {
        durability: Some(Durability {
            dir: "/data2".into(),
            ..config(&storage, LogMode::Sync, 3).durability.expect("durability")
        }),
        ..Config::with_partitions(3)
    })
    .expect("reopen");
    assert_eq!(count(&again, "SELECT COUNT(*) FROM acct"), 61);
}

/// A read must not see a write whose log record is not yet durable: while the disk holds
/// the write's sync, a read of that row waits too.
#[test]
fn no_result_leaves_before_what_it_saw_is_durable() {
    let storage = MemStorage::new();
    let db = open(&storage);
    db.session()
        .execute_sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY)")
        .expect("schema");
    storage.hold_syncs(true);
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    let writer = {
        let db = db.clone();
        let tx = done_tx.clone();
        std::thread::spawn(move || {
            let r = db.session().execute_sql("INSERT INTO t VALUES (1)");
            let _ = tx.send(("write", r.is_ok()));
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    let reader = {
        let db = db.clone();
        std::thread::spawn(move || {
            let n = count(&db, "SELECT COUNT(*) FROM t");
            let _ = done_tx.send(("read", n == 1));
        })
    };
    // Neither answers while the sync is held (the read ran after the write, so it saw it).
    assert!(
        done_rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(),
        "a result left before the write it saw was durable"
    );
    storage.hold_syncs(false);
    let mut got = vec![done_rx.recv().expect("first"), done_rx.recv().expect("second")];
    got.sort();
    assert_eq!(got, vec![("read", true), ("write", true)]);
    writer.join().expect("writer");
    reader.join().expect("reader");
}

#[test]
fn automatic_snapshots_follow_the_log_size_and_keep_the_newest() {
    let storage = MemStorage::new();
    let mut c = config(&storage, LogMode::Sync, 2);
    if let Some(d) = &mut c.durability {
        d.snapshots.interval = None;
        d.snapshots.log_bytes = Some(4 << 10);
        d.snapshots.retain = 2;
    }
    let db = Database::open(c.clone()).expect("open");
    let mut s = db.session();
    s.execute_sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, pad VARCHAR(100))")
        .expect("schema");
    let autos = || {
        let mut names: Vec<String> = storage
            .paths()
            .iter()
            .filter_map(|p| {
                let p = p.to_string_lossy().into_owned();
                p.strip_prefix("/data/snapshots/AUTO_")
                    .and_then(|rest| rest.split('/').next().map(String::from))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..600 {
        s.execute_sql(&format!("INSERT INTO t VALUES ({i}, '{}')", "p".repeat(80)))
            .expect("insert");
        if i % 50 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(150));
            seen.extend(autos());
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    seen.extend(autos());
    assert!(seen.len() >= 3, "automatic snapshots taken: {seen:?}");
    assert!(autos().len() <= 2, "kept: {:?}", autos());
    // A non-blocking save answers at once and the snapshot appears.
    let r = ok(s.call("@SnapshotSave", &[Value::Null, Value::str("later"), Value::Integer(0)]));
    assert_eq!(r.tables[0].rows[0][8], Value::str("SUCCESS"));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(storage.content(Path::new("/data/snapshots/later/COMPLETE")).is_some());
    drop(s);
    drop(db);
    let db = Database::open(c).expect("reopen");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM t"), 600);
}
