//! Prepared statements: bound once, run with new values; clear errors for wrong values and
//! for a schema that changed since.

use voltrs_engine::{Config, Database, Outcome};
use voltrs_storage::Value;

fn rows(o: Outcome) -> Vec<Vec<Value>> {
    match o {
        Outcome::Rows(t) => t.rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

#[test]
fn prepared_statements_run_with_new_values() {
    let db = Database::open(Config::with_partitions(3)).expect("open");
    let mut s = db.session();
    s.execute_sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(10)); PARTITION TABLE t ON COLUMN id;")
        .expect("schema");
    let insert = s.prepare("INSERT INTO t VALUES (?, ?)").expect("prepare insert");
    assert_eq!(insert.param_types().len(), 2);
    for i in 0..20i64 {
        let out = s
            .execute_prepared(&insert, &[Value::Integer(i), Value::str(&format!("n{i}"))])
            .expect("insert");
        assert_eq!(out, Outcome::Modified(1));
    }
    let select = s.prepare("SELECT name FROM t WHERE id = ?").expect("prepare select");
    for i in 0..20i64 {
        let got = rows(s.execute_prepared(&select, &[Value::Integer(i)]).expect("select"));
        assert_eq!(got, vec![vec![Value::str(&format!("n{i}"))]]);
    }
    // A string that reads as a number is converted to the parameter's type.
    let got = rows(s.execute_prepared(&select, &[Value::str("7")]).expect("select"));
    assert_eq!(got, vec![vec![Value::str("n7")]]);

    let e = s.execute_prepared(&select, &[]).expect_err("missing value");
    assert!(e.to_string().contains("1 parameter"), "{e}");
    let e = s.execute_prepared(&select, &[Value::str("x")]).expect_err("bad value");
    assert!(e.to_string().contains("parameter $1"), "{e}");
    let e = s
        .execute_prepared(&insert, &[Value::Integer(3), Value::str("dup")])
        .expect_err("duplicate key");
    assert!(e.to_string().contains("CONSTRAINT VIOLATION"), "{e}");

    assert!(s.prepare("CREATE TABLE u (a INTEGER)").is_err());
    assert!(s.prepare("SELECT 1; SELECT 2").is_err());

    s.execute_sql("CREATE INDEX t_name ON t (name)").expect("ddl");
    let e = s.execute_prepared(&select, &[Value::Integer(1)]).expect_err("stale");
    assert!(e.to_string().contains("prepare it again"), "{e}");
}

/// A cancelled session's next transaction does not run (a write changes nothing); after a
/// reset the same statement runs.
#[test]
fn a_cancel_stops_work_that_has_not_started() {
    let db = Database::open(Config::with_partitions(2)).expect("open");
    let mut s = db.session();
    s.execute_sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY); PARTITION TABLE t ON COLUMN id;")
        .expect("schema");
    let flag = s.cancel_flag();
    let insert = s.prepare("INSERT INTO t VALUES (?)").expect("prepare");
    flag.cancel();
    let e = s
        .execute_prepared(&insert, &[Value::Integer(1)])
        .expect_err("cancelled");
    assert_eq!(e.to_string(), "canceling statement due to user request");
    let e = s.execute_sql("INSERT INTO t VALUES (2)").expect_err("cancelled");
    assert_eq!(e.kind(), "cancelled");
    flag.reset();
    let got = rows(s.execute_sql("SELECT COUNT(*) FROM t").expect("count").remove(0));
    assert_eq!(got, vec![vec![Value::Integer(0)]]);
    assert_eq!(
        s.execute_prepared(&insert, &[Value::Integer(1)]).expect("insert"),
        Outcome::Modified(1)
    );
}
