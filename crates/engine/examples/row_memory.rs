//! Bytes per row of a voter-like table: `votes (phone BIGINT, state VARCHAR(2),
//! contestant INTEGER)`, partitioned on `phone` over 2 partitions.
//!
//! `cargo run --release -p voltrs-engine --example row_memory [-- ROWS [pk]]`
//! (default 10 000 000 rows). With `pk` the table has
//! `PRIMARY KEY (phone)`. Rows arrive one prepared INSERT at a time, as a voter client sends
//! them. Prints the row arena's bytes per row (what the storage holds) and the process's
//! resident-set growth per row (what the machine pays: arena slack, allocator and index
//! included).

use voltrs_engine::{Config, Database};
use voltrs_storage::Value;

/// Resident set size in bytes, from /proc (Linux); 0 elsewhere.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: i64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10_000_000);
    let pk = args.next().as_deref() == Some("pk");
    let db = Database::open(Config::with_partitions(2))?;
    let mut s = db.session();
    let key = if pk { ", PRIMARY KEY (phone)" } else { "" };
    s.execute_sql(&format!(
        "CREATE TABLE votes (phone BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL{key});
         PARTITION TABLE votes ON COLUMN phone;"
    ))?;
    let before = rss();
    let states = ["MA", "NY", "CA", "TX", "WA", "OR"].map(Value::str);
    let insert = s.prepare("INSERT INTO votes VALUES (?, ?, ?)")?;
    let start = std::time::Instant::now();
    for n in 0..rows {
        let row = [
            Value::Integer(5_550_000_000 + n),
            states[(n % 6) as usize].clone(),
            Value::Integer(n % 6 + 1),
        ];
        s.execute_prepared(&insert, &row)?;
    }
    let elapsed = start.elapsed();
    let grown = rss().saturating_sub(before);
    let stats = db.storage_stats();
    let votes = stats.iter().find(|t| t.table == "VOTES").ok_or("votes table missing")?;
    println!(
        "{} rows{}: row arena {:.1} bytes/row; resident set growth {:.1} bytes/row; \
         {:.2} s to insert ({:.0} rows/s)",
        votes.rows,
        if pk { ", PRIMARY KEY (phone)" } else { ", no index" },
        votes.arena_bytes as f64 / votes.rows as f64,
        grown as f64 / votes.rows as f64,
        elapsed.as_secs_f64(),
        votes.rows as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
