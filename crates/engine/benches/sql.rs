//! Embedded SQL micro-benchmarks (criterion): statement latency through the whole path
//! (parse, bind, plan, execute) on 2 partitions. Figures: docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use voltrs_engine::{Config, Database, Session};

const ROWS: i64 = 100_000;

fn loaded() -> Session {
    let db = Database::open(Config { partitions: 2 }).expect("open");
    let mut s = db.session();
    s.execute_sql(
        "CREATE TABLE votes (phone BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL, \
         PRIMARY KEY (phone)); PARTITION TABLE votes ON COLUMN phone;
         CREATE TABLE contestants (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);
         CREATE TABLE sink (phone BIGINT NOT NULL PRIMARY KEY, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL);
         PARTITION TABLE sink ON COLUMN phone;",
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
    s
}

fn benches(c: &mut Criterion) {
    let mut s = loaded();
    let mut next = 9_000_000_000i64;
    c.bench_function("insert one row (partitioned, primary key, SQL text)", |b| {
        b.iter(|| {
            next += 1;
            s.execute_sql(&format!("INSERT INTO sink VALUES ({next}, 'MA', 1)"))
                .expect("insert")
        })
    });
    c.bench_function("point select by primary key (full scan, no index yet)", |b| {
        b.iter(|| {
            s.execute_sql(black_box("SELECT state FROM votes WHERE phone = 5550004242"))
                .expect("select")
        })
    });
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
    s.set_plan_cache(true);
    c.bench_function("group by over 100k rows (two-phase)", |b| {
        b.iter(|| {
            s.execute_sql(black_box(
                "SELECT contestant, state, COUNT(*) FROM votes GROUP BY contestant, state",
            ))
            .expect("group by")
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
    c.bench_function("order by limit 10 over 100k rows (per-partition top-k)", |b| {
        b.iter(|| {
            s.execute_sql(black_box("SELECT phone FROM votes ORDER BY phone DESC LIMIT 10"))
                .expect("top")
        })
    });
}

criterion_group! {
    name = sql;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(sql);
