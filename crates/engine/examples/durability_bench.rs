//! Durability figures on the real file system (docs/PERFORMANCE.md, "Durability"):
//! snapshot write time and size for N rows, recovery time from that snapshot, and
//! recovery time per million command-log records.
//!
//! `cargo run --release -p voltrs-engine --example durability_bench -- [ROWS] [RECORDS] [DIR]`
//! (defaults 10 000 000 rows, 1 000 000 records, a folder under /tmp).

use std::time::Instant;

use voltrs_engine::durability::{Durability, LogMode, LogSettings};
use voltrs_engine::{Config, Database, Status};
use voltrs_storage::Value;

fn open(dir: &std::path::Path, mode: LogMode) -> Database {
    let settings = LogSettings {
        mode,
        ..LogSettings::default()
    };
    let mut d = Durability::on_disk(dir, settings);
    d.snapshots.interval = None;
    d.snapshots.log_bytes = None;
    Database::open(Config {
        durability: Some(d),
        ..Config::with_partitions(2)
    })
    .expect("open")
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let m = e.metadata().map(|m| (m.is_dir(), m.len())).unwrap_or((false, 0));
        total += if m.0 { dir_bytes(&e.path()) } else { m.1 };
    }
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let records: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let base = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("voltrs-durability-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&base);

    // Snapshot of `rows` rows (id BIGINT, balance BIGINT, name VARCHAR(20)).
    let snap_dir = base.join("snapshot");
    {
        let db = open(&snap_dir, LogMode::Async);
        let mut s = db.session();
        s.execute_sql(
            "CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL, name VARCHAR(20));
             PARTITION TABLE acct ON COLUMN id;",
        )
        .expect("schema");
        let t = Instant::now();
        let batch = 50_000;
        let mut i = 0;
        while i < rows {
            let n = batch.min(rows - i);
            let data = (i..i + n)
                .map(|k| vec![Value::Integer(k), Value::Integer(k % 1000), Value::str("customer name")])
                .collect();
            let r = s.load_table("ACCT", None, false, data);
            assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
            i += n;
        }
        eprintln!("loaded {rows} rows in {:.1} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let r = s.call("@SnapshotSave", &[]);
        assert_eq!(r.status, Status::Success, "{:?}", r.status_string);
        let secs = t.elapsed().as_secs_f64();
        let bytes = dir_bytes(&snap_dir.join("snapshots"));
        println!(
            "snapshot: {rows} rows, {:.1} MiB, written in {secs:.2} s (blocking @SnapshotSave)",
            bytes as f64 / (1 << 20) as f64
        );
    }
    let t = Instant::now();
    let db = open(&snap_dir, LogMode::Async);
    let r = db.recovery().expect("recovery").clone();
    println!(
        "recovery from the snapshot: {:.2} s ({} log records replayed, {:.2} s until open returned)",
        r.elapsed.as_secs_f64(),
        r.replayed,
        t.elapsed().as_secs_f64()
    );
    drop(db);

    // Recovery per million log records: single-row inserts, pipelined.
    let log_dir = base.join("log");
    {
        let db = open(&log_dir, LogMode::Async);
        let mut s = db.session();
        s.execute_sql("CREATE TABLE kv (k BIGINT NOT NULL PRIMARY KEY, v BIGINT); PARTITION TABLE kv ON COLUMN k;")
            .expect("schema");
        let t = Instant::now();
        let (tx, rx) = crossbeam_channel::bounded(4096);
        let mut outstanding = 0;
        for k in 0..records {
            let tx = tx.clone();
            s.call_async("KV.insert", vec![Value::Integer(k), Value::Integer(k)], move |r| {
                let _ = tx.send(r.status);
            });
            outstanding += 1;
            if outstanding >= 1000 {
                assert_eq!(rx.recv().expect("reply"), Status::Success);
                outstanding -= 1;
            }
        }
        for _ in 0..outstanding {
            assert_eq!(rx.recv().expect("reply"), Status::Success);
        }
        eprintln!("logged {records} inserts in {:.1} s", t.elapsed().as_secs_f64());
    }
    let db = open(&log_dir, LogMode::Async);
    let r = db.recovery().expect("recovery");
    println!(
        "recovery from the log: {} records in {:.2} s = {:.2} s per million",
        r.replayed,
        r.elapsed.as_secs_f64(),
        r.elapsed.as_secs_f64() * 1e6 / r.replayed.max(1) as f64
    );
    drop(db);
    let _ = std::fs::remove_dir_all(&base);
}
