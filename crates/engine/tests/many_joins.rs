//! A comma join of 64 tables (as in SQLite's select5 corpus) plans by equalities into hash
//! joins instead of a cross product, so it answers; a statement timeout would fail it otherwise.

use std::time::Duration;

use voltrs_engine::{Config, Database, Outcome};
use voltrs_storage::Value;

#[test]
fn sixty_four_table_comma_join() {
    let db = Database::open(Config::with_partitions(4)).expect("open");
    let mut s = db.session();
    s.set_statement_timeout(Some(Duration::from_secs(20)));
    let n = 64;
    for t in 1..=n {
        s.execute_sql(&format!(
            "CREATE TABLE t{t} (a{t} INTEGER NOT NULL PRIMARY KEY, b{t} INTEGER, x{t} VARCHAR(8))"
        ))
        .expect("create");
        if t % 2 == 0 {
            s.execute_sql(&format!("PARTITION TABLE t{t} ON COLUMN a{t}"))
                .expect("partition");
        }
        let rows: Vec<String> = (1..=10).map(|i| format!("({i}, {}, 'r{t}_{i}')", 11 - i)).collect();
        s.execute_sql(&format!("INSERT INTO t{t} VALUES {}", rows.join(", ")))
            .expect("insert");
    }
    // Chain t1.b1 = t2.a2, t2.b2 = t3.a3, ... listed in a scrambled order.
    let tables: Vec<String> = (1..=n).rev().map(|t| format!("t{t}")).collect();
    let mut preds: Vec<String> = (1..n).map(|t| format!("b{t} = a{}", t + 1)).collect();
    preds.reverse();
    preds.swap(3, 40);
    preds.push("a1 = 3".into());
    let sql = format!(
        "SELECT x1, x2, x63, x64 FROM {} WHERE {}",
        tables.join(", "),
        preds.join(" AND ")
    );
    let out = s.execute_sql(&sql).expect("64-way join");
    let Some(Outcome::Rows(t)) = out.into_iter().next() else {
        panic!("no rows outcome")
    };
    // b = 11 - a, so the chain alternates 3, 8, 3, 8, ...
    assert_eq!(
        t.rows,
        vec![vec![
            Value::str("r1_3"),
            Value::str("r2_8"),
            Value::str("r63_3"),
            Value::str("r64_8")
        ]]
    );
}
