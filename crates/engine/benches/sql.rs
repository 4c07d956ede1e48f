//! Embedded SQL micro-benchmarks (criterion) on 2 partitions. Figures: docs/PERFORMANCE.md.
//!
//! "SQL text" cases go through the whole path (parse, plan cache or bind, execute);
//! "prepared" cases run a statement bound once ([`Session::prepare`]), which is the engine
//! time a stored procedure's statement costs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use voltrs_engine::{Config, Database, Session};
use voltrs_storage::Value;

const ROWS: i64 = 100_000;

fn session() -> Session {
    Database::open(Config::with_partitions(2)).expect("open").session()
}

/// `votes` (100k rows, partitioned on its primary key), `owners` (100k rows, one per phone),
/// `contestants` (4 rows, replicated), and `sink`: a table with two indexes and a view.
fn loaded() -> Session {
    let mut s = session();
    s.execute_sql(
        "CREATE TABLE votes (phone BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL, \
         PRIMARY KEY (phone)); PARTITION TABLE votes ON COLUMN phone;
         CREATE TABLE owners (phone BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL);
         PARTITION TABLE owners ON COLUMN phone;
         CREATE TABLE contestants (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);
         CREATE TABLE sink (phone BIGINT NOT NULL PRIMARY KEY, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL);
         PARTITION TABLE sink ON COLUMN phone;
         CREATE INDEX sink_contestant ON sink (contestant, state);
         CREATE VIEW sink_by_state (state, contestant, votes) AS
           SELECT state, contestant, COUNT(*) FROM sink GROUP BY state, contestant;",
    )
    .expect("schema");
    s.execute_sql("INSERT INTO contestants VALUES (1, 'Edwina'), (2, 'Kristofer'), (3, 'Jessie'), (4, 'Alana')")
        .expect("contestants");
    let states = ["MA", "NY", "CA", "TX", "WA", "OR"];
    for chunk in 0..(ROWS / 1000) {
        let values: Vec<String> = (0..1000)
            .map(|i| {
                let n = chunk * 1000 + i;
                format!("({}, '{}', {})", 5_550_000_000 + n, states[(n % 6) as usize], n % 4 + 1)
            })
            .collect();
        s.execute_sql(&format!("INSERT INTO votes VALUES {}", values.join(",")))
            .expect("votes");
    }
    s.execute_sql("INSERT INTO owners SELECT phone, 'owner' || state FROM votes")
        .expect("owners");
    s
}

fn point_and_insert(c: &mut Criterion, s: &mut Session) {
    let mut k = 0i64;
    c.bench_function("point select by primary key, 100k rows (SQL text, plan cache)", |b| {
        b.iter(|| {
            k = (k + 7919) % ROWS;
            s.execute_sql(&format!("SELECT state FROM votes WHERE phone = {}", 5_550_000_000 + k))
                .expect("select")
        })
    });
    let point = s.prepare("SELECT state FROM votes WHERE phone = ?").expect("prepare");
    c.bench_function("point select by primary key, 100k rows (prepared)", |b| {
        b.iter(|| {
            k = (k + 7919) % ROWS;
            s.execute_prepared(&point, &[Value::Integer(5_550_000_000 + k)])
                .expect("select")
        })
    });
    let mut next = 9_000_000_000i64;
    c.bench_function("insert one row, table with 2 indexes and a view (SQL text)", |b| {
        b.iter(|| {
            next += 1;
            s.execute_sql(&format!("INSERT INTO sink VALUES ({next}, 'MA', {})", next % 6))
                .expect("insert")
        })
    });
    let insert = s.prepare("INSERT INTO sink VALUES (?, ?, ?)").expect("prepare");
    c.bench_function("insert one row, table with 2 indexes and a view (prepared)", |b| {
        b.iter(|| {
            next += 1;
            s.execute_prepared(
                &insert,
                &[Value::Integer(next), Value::str("NY"), Value::Integer(next % 6)],
            )
            .expect("insert")
        })
    });
}

fn reads(c: &mut Criterion, s: &mut Session) {
    c.bench_function("join 100k x 100k rows on the primary key, then GROUP BY", |b| {
        b.iter(|| {
            s.execute_sql(black_box(
                "SELECT o.name, COUNT(*) FROM votes v JOIN owners o ON v.phone = o.phone GROUP BY o.name",
            ))
            .expect("join")
        })
    });
    c.bench_function("hash join 100k x 4 with aggregate", |b| {
        b.iter(|| {
            s.execute_sql(black_box(
                "SELECT c.name, COUNT(*) FROM votes v JOIN contestants c ON v.contestant = c.id GROUP BY c.name",
            ))
            .expect("join")
        })
    });
    c.bench_function("order by primary key limit 10, 100k rows (index walk)", |b| {
        b.iter(|| {
            s.execute_sql(black_box("SELECT phone FROM votes ORDER BY phone DESC LIMIT 10"))
                .expect("top")
        })
    });
    c.bench_function("range on primary key, 100 of 100k rows", |b| {
        b.iter(|| {
            s.execute_sql(black_box(
                "SELECT COUNT(*) FROM votes WHERE phone >= 5550050000 AND phone < 5550050100",
            ))
            .expect("range")
        })
    });
}

/// 1 048 576 rows: 1024 inserted, then doubled ten times by INSERT ... SELECT.
fn million(c: &mut Criterion) {
    let mut s = session();
    s.execute_sql(
        "CREATE TABLE big (id BIGINT NOT NULL, state VARCHAR(3) NOT NULL, contestant INTEGER NOT NULL);
         PARTITION TABLE big ON COLUMN id;",
    )
    .expect("schema");
    let values: Vec<String> = (0..1024).map(|n| format!("({n}, 'S{}', {})", n % 50, n % 6)).collect();
    s.execute_sql(&format!("INSERT INTO big VALUES {}", values.join(",")))
        .expect("seed");
    for step in 0..10 {
        let shift = 1024i64 << step;
        s.execute_sql(&format!(
            "INSERT INTO big SELECT id + {shift}, state, contestant FROM big"
        ))
        .expect("double");
    }
    c.bench_function("GROUP BY over 1M rows (two-phase)", |b| {
        b.iter(|| {
            s.execute_sql(black_box(
                "SELECT contestant, state, COUNT(*) FROM big GROUP BY contestant, state",
            ))
            .expect("group by")
        })
    });
}

/// A view's MAX after its extreme row leaves: `DELETE` of the current MAX row of a group
/// (10 groups over 100k rows, 2 partitions) in a view `GROUP BY grp ... MAX(val)`, with an
/// index on (grp, val), which the recomputation reads from the end of the group's range,
/// and without one (a scan of the partition). Only the DELETE is timed; the row goes back
/// untimed after each one.
fn view_max_delete(c: &mut Criterion) {
    for (table, index) in [("mx_ix", true), ("mx_scan", false)] {
        let mut s = session();
        s.execute_sql(&format!(
            "CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, grp INTEGER NOT NULL, val BIGINT NOT NULL);
             PARTITION TABLE {table} ON COLUMN id;"
        ))
        .expect("schema");
        if index {
            s.execute_sql(&format!("CREATE INDEX {table}_grp_val ON {table} (grp, val)"))
                .expect("index");
        }
        for chunk in 0..(ROWS / 1000) {
            let values: Vec<String> = (0..1000)
                .map(|i| {
                    let n = chunk * 1000 + i;
                    format!("({n}, {}, {n})", n % 10)
                })
                .collect();
            s.execute_sql(&format!("INSERT INTO {table} VALUES {}", values.join(",")))
                .expect("rows");
        }
        s.execute_sql(&format!(
            "CREATE VIEW {table}_v (grp, n, hi) AS SELECT grp, COUNT(*), MAX(val) FROM {table} GROUP BY grp"
        ))
        .expect("view");
        let how = if index {
            "index on (group, value)"
        } else {
            "no index: scan"
        };
        let mut g = 0i64;
        c.bench_function(
            &format!("view MAX after deleting the max row, 100k rows ({how})"),
            |b| {
                b.iter_custom(|iters| {
                    let mut spent = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        g = (g + 1) % 10;
                        let id = ROWS - 10 + g;
                        let start = std::time::Instant::now();
                        s.execute_sql(black_box(&format!("DELETE FROM {table} WHERE id = {id}")))
                            .expect("delete");
                        spent += start.elapsed();
                        s.execute_sql(&format!("INSERT INTO {table} VALUES ({id}, {g}, {id})"))
                            .expect("reinsert");
                    }
                    spent
                })
            },
        );
    }
}

fn benches(c: &mut Criterion) {
    let mut s = loaded();
    point_and_insert(c, &mut s);
    reads(c, &mut s);
    // A point-shaped statement on a 4-row table, so that parse + bind dominate: the plan
    // cache turns the bind into a lookup of the parameterized text.
    for (name, cache) in [("plan cache on", true), ("plan cache off", false)] {
        s.set_plan_cache(cache);
        let mut k = 0i64;
        c.bench_function(
            &format!("point select on a 4-row table, new literal each time ({name})"),
            |b| {
                b.iter(|| {
                    k = k % 4 + 1;
                    s.execute_sql(&format!("SELECT name FROM contestants WHERE id = {k}"))
                        .expect("point")
                })
            },
        );
    }
    drop(s);
    million(c);
    view_max_delete(c);
}

criterion_group! {
    name = sql;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(sql);
