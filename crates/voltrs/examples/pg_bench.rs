//! Round trips over the PostgreSQL port, for comparison with `voltrs bench` over VoltDB's
//! protocol: a point select by primary key and a single-row insert, in the simple query
//! protocol (SQL text with literals) or the extended one (a prepared statement with a
//! parameter, binary results), with N connections each keeping one statement in flight
//! (a PostgreSQL connection runs one statement at a time).
//!
//! ```sh
//! cargo run --release -p voltrs --example pg_bench -- PORT [select|insert] [simple|extended] [CONNECTIONS] [SECONDS]
//! ```
//!
//! Uses the table of `voltrs bench` (`BENCH_KV`, created and loaded with 10 000 rows here if
//! missing).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio_postgres::{Client, NoTls};

const ROWS: i64 = 10_000;

async fn connect(port: u16) -> Client {
    let (client, conn) = tokio_postgres::connect(&format!("host=127.0.0.1 port={port} user=bench"), NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: pg_bench PORT [select|insert] [simple|extended] [N] [SECONDS]");
    let workload = args.get(2).map_or("select", String::as_str).to_string();
    let mode = args.get(3).map_or("extended", String::as_str).to_string();
    let n: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let seconds: f64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(5.0);

    let setup = connect(port).await;
    let exists = setup.simple_query("SELECT COUNT(*) FROM bench_kv").await.is_ok();
    if !exists {
        setup
            .batch_execute(
                "CREATE TABLE bench_kv (id BIGINT NOT NULL, val VARCHAR(64) NOT NULL, PRIMARY KEY (id));\
                 PARTITION TABLE bench_kv ON COLUMN id;",
            )
            .await
            .expect("create bench_kv");
    }
    let upsert = setup
        .prepare("UPSERT INTO bench_kv VALUES ($1, $2)")
        .await
        .expect("prepare upsert");
    for id in 0..ROWS {
        setup
            .execute(&upsert, &[&id, &format!("value {id}")])
            .await
            .expect("load");
    }

    let next_key = Arc::new(AtomicI64::new(
        ROWS + SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64),
    ));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for seed in 0..n {
        let (workload, mode, next_key) = (workload.clone(), mode.clone(), next_key.clone());
        tasks.push(tokio::spawn(async move {
            let c = connect(port).await;
            let select = c
                .prepare("SELECT val FROM bench_kv WHERE id = $1")
                .await
                .expect("prepare");
            let insert = c
                .prepare("INSERT INTO bench_kv VALUES ($1, $2)")
                .await
                .expect("prepare");
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (seed as u64 + 1);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let t = Instant::now();
                match (workload.as_str(), mode.as_str()) {
                    ("select", "simple") => {
                        let sql = format!("SELECT val FROM bench_kv WHERE id = {}", x % ROWS as u64);
                        let rows = c.simple_query(&sql).await.expect("select");
                        assert_eq!(rows.len(), 3, "row description, one row, command complete");
                    }
                    ("select", _) => {
                        let id = (x % ROWS as u64) as i64;
                        c.query_one(&select, &[&id]).await.expect("select");
                    }
                    ("insert", "simple") => {
                        let id = next_key.fetch_add(1, Ordering::Relaxed);
                        c.simple_query(&format!("INSERT INTO bench_kv VALUES ({id}, 'inserted')"))
                            .await
                            .expect("insert");
                    }
                    _ => {
                        let id = next_key.fetch_add(1, Ordering::Relaxed);
                        c.execute(&insert, &[&id, &"inserted"]).await.expect("insert");
                    }
                }
                latencies.push(t.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    println!(
        "pg {workload} {mode} connections={n}: {} calls, {:.0} calls/s, p50 {} us, p99 {} us, max {} us",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        all[all.len() - 1]
    );
}
