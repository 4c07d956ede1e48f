//! Materialized views against their definitions: random INSERT, UPSERT, UPDATE (moving rows
//! between partitions too), DELETE and TRUNCATE on the sources, some of which fail and must
//! leave everything unchanged, and after every statement each view must equal its GROUP BY
//! query run over the sources. On 1 and several partitions, so partitioned views, views of
//! partial rows (read merged) and replicated views are all covered.

mod common;

use voltrs_engine::{Config, Database, Outcome, Session};

const SCHEMA: &str = "
CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, g INTEGER, h VARCHAR(3), x INTEGER, d DECIMAL);
PARTITION TABLE t ON COLUMN id;
CREATE TABLE r (k INTEGER NOT NULL PRIMARY KEY, name VARCHAR(5), w INTEGER);
CREATE INDEX t_dropped ON t (x);
CREATE INDEX t_part ON t (g, x) WHERE x > 20;
CREATE INDEX t_hash_gh ON t (g, h);
CREATE INDEX t_gx ON t (g, x);
CREATE INDEX t_h_id ON t (h, id);
CREATE INDEX t_g3x ON t (g / 3, x);
CREATE INDEX t_d ON t (d);
CREATE INDEX r_nw ON r (name, w);
CREATE INDEX r_w1 ON r (w + 1);
";

/// Index changes after the views exist: positions of the later indexes shift, and views
/// must keep probing the right ones.
const LATER_DDL: &str = "
DROP INDEX t_dropped;
CREATE INDEX t_hx ON t (h, x);
";

/// (view name, the view's query); each view is compared with its query's rows, sorted.
const VIEWS: &[(&str, &str)] = &[
    // partial rows: the GROUP BY lacks the partition column
    (
        "v_gh",
        "SELECT g, h, COUNT(*), COUNT(x), SUM(x), MIN(x), MAX(x), SUM(d), MIN(h) FROM t GROUP BY g, h",
    ),
    // partitioned on the partition column
    ("v_id", "SELECT id, COUNT(*), SUM(x), MAX(d) FROM t GROUP BY id"),
    // no GROUP BY, with a WHERE
    (
        "v_all",
        "SELECT COUNT(*), SUM(x), MIN(d), MAX(d), COUNT(h) FROM t WHERE x > 10 OR x IS NULL",
    ),
    // a group expression
    ("v_expr", "SELECT g / 3, COUNT(*), SUM(x), MIN(x) FROM t GROUP BY g / 3"),
    // a join with a replicated table
    (
        "v_join",
        "SELECT r.name, COUNT(*), SUM(t.x), MIN(t.x), MAX(r.w) FROM t JOIN r ON t.g = r.k GROUP BY r.name",
    ),
    // a comma join with the partition column in the GROUP BY
    (
        "v_join_id",
        "SELECT t.id, COUNT(*), SUM(r.w) FROM t, r WHERE t.g = r.k AND r.w > 2 GROUP BY t.id",
    ),
    // MIN / MAX read from the end of an index range on (group, argument), with a WHERE
    // (a partial index on the same key must not be used)
    (
        "v_gx",
        "SELECT g, COUNT(*), MAX(x), MIN(x), SUM(x) FROM t WHERE id <> 3 GROUP BY g",
    ),
    // group rows through an index on (group column, NOT NULL column)
    ("v_h", "SELECT h, COUNT(*), MAX(d), SUM(x), MIN(x) FROM t GROUP BY h"),
    // a GROUP BY expression matching an expression index (g / 3, x)
    ("v_g3", "SELECT g / 3, COUNT(*), MIN(x), MAX(x) FROM t GROUP BY g / 3"),
    // a join on an indexed expression of r and an indexed column of t, either side changing
    (
        "v_join_w",
        "SELECT t.h, COUNT(*), MAX(t.x), MIN(r.k) FROM r JOIN t ON r.w + 1 = t.g AND t.x = r.w * 10 GROUP BY t.h",
    ),
    // a view of the replicated table
    (
        "v_r",
        "SELECT name, COUNT(*), SUM(w), MAX(w), MIN(k) FROM r GROUP BY name",
    ),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn int_or_null(&mut self, n: u64) -> String {
        if self.below(6) == 0 {
            "NULL".into()
        } else {
            self.below(n).to_string()
        }
    }
    fn h(&mut self) -> String {
        match self.below(4) {
            0 => "NULL".into(),
            i => format!("'h{i}'"),
        }
    }
    fn decimal(&mut self) -> String {
        match self.below(5) {
            0 => "NULL".into(),
            _ => format!("{}.{}", self.below(100), self.below(10)),
        }
    }
}

fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    let out = s.execute_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let Some(Outcome::Rows(t)) = out.into_iter().last() else {
        panic!("{sql}: no rows")
    };
    let mut v: Vec<String> = t.rows.iter().map(|r| common::row_text(r)).collect();
    v.sort();
    v
}

fn random_write(rng: &mut Rng) -> String {
    match rng.below(14) {
        0..=3 => {
            // Multi-row INSERT; ids collide now and then, failing the whole statement.
            let n = 1 + rng.below(4);
            let vals: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "({}, {}, {}, {}, {})",
                        rng.below(60),
                        rng.int_or_null(8),
                        rng.h(),
                        rng.int_or_null(50),
                        rng.decimal()
                    )
                })
                .collect();
            format!("INSERT INTO t VALUES {}", vals.join(", "))
        }
        4 => format!(
            "UPSERT INTO t VALUES ({}, {}, {}, {}, {})",
            rng.below(60),
            rng.int_or_null(8),
            rng.h(),
            rng.int_or_null(50),
            rng.decimal()
        ),
        5 => format!(
            "UPSERT INTO t (id, x) VALUES ({}, {})",
            rng.below(60),
            rng.int_or_null(50)
        ),
        6 => format!("UPDATE t SET x = {} WHERE g = {}", rng.int_or_null(50), rng.below(8)),
        7 => format!("UPDATE t SET g = g + 1, h = {} WHERE x < {}", rng.h(), rng.below(50)),
        // moves rows between partitions; may collide with an existing id and fail
        8 => format!(
            "UPDATE t SET id = id + {} WHERE id % 7 = {}",
            1 + rng.below(5),
            rng.below(7)
        ),
        9 => format!("DELETE FROM t WHERE x = {} OR id = {}", rng.below(50), rng.below(60)),
        10 => format!("DELETE FROM t WHERE g = {}", rng.below(8)),
        11 => match rng.below(3) {
            0 => format!(
                "INSERT INTO r VALUES ({}, 'n{}', {})",
                rng.below(8),
                rng.below(3),
                rng.int_or_null(6)
            ),
            1 => format!("UPDATE r SET w = {} WHERE k = {}", rng.int_or_null(6), rng.below(8)),
            _ => format!("DELETE FROM r WHERE k = {}", rng.below(8)),
        },
        12 => format!("UPDATE r SET name = 'n{}' WHERE w > {}", rng.below(3), rng.below(6)),
        _ => {
            if rng.below(8) == 0 {
                "TRUNCATE TABLE t".into()
            } else {
                format!("UPDATE t SET d = d + 1 WHERE id < {}", rng.below(60))
            }
        }
    }
}

fn check(s: &mut Session, after: &str) {
    for (name, query) in VIEWS {
        let view = rows(s, &format!("SELECT * FROM {name}"));
        let direct = rows(s, query);
        assert_eq!(view, direct, "view {name} differs from its query after: {after}");
    }
}

fn run(partitions: usize, seed: u64, steps: usize) {
    let db = Database::open(Config::with_partitions(partitions)).expect("open");
    let mut s = db.session();
    s.execute_sql(SCHEMA).expect("schema");
    let mut rng = Rng(seed);
    // Some rows before the views exist: CREATE VIEW fills from them.
    for _ in 0..10 {
        let w = random_write(&mut rng);
        let _ = s.execute_sql(&w);
    }
    for (name, query) in VIEWS {
        s.execute_sql(&format!("CREATE VIEW {name} AS {query}"))
            .unwrap_or_else(|e| panic!("CREATE VIEW {name}: {e}"));
    }
    check(&mut s, "CREATE VIEW");
    s.execute_sql(LATER_DDL).expect("index DDL on view sources");
    check(&mut s, LATER_DDL);
    let mut failed = 0;
    for _ in 0..steps {
        let w = random_write(&mut rng);
        if s.execute_sql(&w).is_err() {
            failed += 1;
        }
        check(&mut s, &w);
    }
    assert!(failed > 0, "some statements should fail (duplicate keys) and roll back");
}

#[test]
fn views_equal_their_queries_on_one_partition() {
    run(1, 7, 400);
}

#[test]
fn views_equal_their_queries_on_several_partitions() {
    for (partitions, seed) in [(3, 11), (8, 12345)] {
        run(partitions, seed, 400);
    }
}
