//! The plan cache and statement parameters, through the session API.

use voltrs_engine::{Config, Database, Error, Outcome, Session};
use voltrs_storage::Value;

fn db() -> Database {
    let db = Database::open(Config::with_partitions(4)).expect("open");
    db.session()
        .execute_sql(
            "CREATE TABLE t (id INTEGER NOT NULL, s VARCHAR(8), x BIGINT, ts TIMESTAMP, PRIMARY KEY (id));
             PARTITION TABLE t ON COLUMN id;
             CREATE TABLE u (id INTEGER NOT NULL, t_id INTEGER, PRIMARY KEY (id));",
        )
        .expect("schema");
    db
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    match s.execute_sql(sql).expect(sql).pop() {
        Some(Outcome::Rows(t)) => t.rows,
        other => panic!("{sql}: {other:?}"),
    }
}

fn rows_with(s: &mut Session, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
    match s.execute_with_params(sql, params)?.pop() {
        Some(Outcome::Rows(t)) => Ok(t.rows),
        other => panic!("{sql}: {other:?}"),
    }
}

fn text(rows: &[Vec<Value>]) -> String {
    format!("{rows:?}")
}

#[test]
fn a_repeated_shape_hits() {
    let db = db();
    let mut s = db.session();
    for i in 0..10 {
        s.execute_sql(&format!("INSERT INTO t VALUES ({i}, 'v{i}', {i}, NULL)"))
            .expect("insert");
    }
    let after_inserts = db.plan_cache_stats();
    assert_eq!(after_inserts.misses, 1, "{after_inserts:?}");
    assert_eq!(after_inserts.hits, 9, "{after_inserts:?}");
    for i in 0..10 {
        let r = rows(&mut s, &format!("SELECT s FROM t WHERE id = {i}"));
        assert_eq!(text(&r), format!("[[Varchar(\"v{i}\")]]"));
        s.execute_sql(&format!("UPDATE t SET x = x + 1 WHERE id = {i}"))
            .expect("update");
    }
    s.execute_sql("DELETE FROM t WHERE id = 3").expect("delete");
    s.execute_sql("DELETE FROM t WHERE id = 4").expect("delete");
    let st = db.plan_cache_stats();
    // One miss per shape; `UPDATE ... x + 1 WHERE id = 1` is a shape of its own, because
    // equal literals share one parameter (`x + $1 WHERE id = $1`).
    assert_eq!(st.misses - after_inserts.misses, 4, "{st:?}");
    assert_eq!(st.hits - after_inserts.hits, 18, "{st:?}");
    // Another session shares the cache.
    let mut other = db.session();
    rows(&mut other, "SELECT s FROM t WHERE id = 77");
    assert_eq!(db.plan_cache_stats().hits, st.hits + 1);
}

#[test]
fn ddl_invalidates() {
    let db = db();
    let mut s = db.session();
    s.execute_sql("INSERT INTO t VALUES (1, 'a', 1, NULL)").expect("insert");
    rows(&mut s, "SELECT * FROM t WHERE id = 1");
    assert!(db.plan_cache_stats().entries > 0);
    s.execute_sql("ALTER TABLE t ADD COLUMN extra INTEGER").expect("alter");
    let before = db.plan_cache_stats();
    let r = rows(&mut s, "SELECT * FROM t WHERE id = 1");
    assert_eq!(r[0].len(), 5, "the new column is seen: the old plan was dropped");
    let after = db.plan_cache_stats();
    assert_eq!(after.misses, before.misses + 1);
    assert_eq!(after.entries, 1, "old entries dropped");
    s.execute_sql("DROP TABLE u").expect("drop");
    assert!(s.execute_sql("SELECT * FROM u WHERE id = 1").is_err());
}

#[test]
fn results_agree_with_the_cache_on_and_off() {
    let script = [
        "INSERT INTO t VALUES (1, 'a', 10, '2020-01-01 00:00:00')",
        "INSERT INTO t VALUES (2, 'bbbbbb', 3000000000, '2021-01-01 00:00:00')",
        "INSERT INTO t VALUES (3, 'cc', -4, NULL)",
        "INSERT INTO u VALUES (1, 1), (2, 2), (3, 2)",
        "SELECT id FROM t WHERE ts = '2021-01-01 00:00:00'",
        "SELECT id FROM t WHERE ts > '2020-06-01' OR s = '2020-06-01'",
        "SELECT 'x', s || 'yy' FROM t WHERE id = 1",
        "SELECT s FROM t WHERE s STARTS WITH 'bb'",
        "SELECT id + 1, COUNT(*) FROM t GROUP BY id + 1 ORDER BY 1",
        "SELECT t.id, u.id FROM t, u WHERE t.id = u.t_id AND u.id > 1 ORDER BY 2",
        "SELECT t.id, u.id FROM t, u WHERE t.id = u.t_id",
        "INSERT INTO u VALUES (4, 3), (5, 1)",
        "SELECT t.id, u.id FROM t, u WHERE t.id = u.t_id",
        "SELECT x FROM t WHERE x = 3000000000 OR x = 1.5 OR x = 1e1",
        "SELECT id FROM t WHERE id IN (1, 3) ORDER BY id LIMIT 1",
        "UPDATE t SET s = 'zz' WHERE id = 3",
        "SELECT s, x FROM t ORDER BY id",
        "SELECT id FROM t WHERE ts = 'bad'",
    ];
    let run = |cache: bool| {
        let db = db();
        let mut s = db.session();
        s.set_plan_cache(cache);
        let mut out = Vec::new();
        for _ in 0..2 {
            for sql in script {
                out.push(format!("{:?}", s.execute_sql(sql)));
            }
        }
        (out, db.plan_cache_stats())
    };
    let (on, on_stats) = run(true);
    let (off, off_stats) = run(false);
    for (i, (a, b)) in on.iter().zip(&off).enumerate() {
        assert_eq!(a, b, "statement {i}: {}", script[i % script.len()]);
    }
    assert!(on_stats.hits > 0, "{on_stats:?}");
    assert_eq!(off_stats.hits + off_stats.misses, 0, "cache off leaves it untouched");
}

#[test]
fn explicit_parameters() {
    let db = db();
    let mut s = db.session();
    s.execute_with_params(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        &[
            Value::Integer(1),
            Value::str("abc"),
            Value::Integer(5),
            Value::str("2020-01-01"),
        ],
    )
    .expect("insert with params");
    s.execute_with_params(
        "INSERT INTO t (id, s) VALUES ($1, $2)",
        &[Value::str("2"), Value::str("de")],
    )
    .expect("a string converts to the INTEGER column");
    let r = rows_with(
        &mut s,
        "SELECT s FROM t WHERE id = ? AND x + ? > 5",
        &[Value::Integer(1), Value::Integer(1)],
    )
    .expect("select");
    assert_eq!(text(&r), "[[Varchar(\"abc\")]]");
    let r = rows_with(&mut s, "SELECT id FROM t WHERE ts < $1", &[Value::str("2021-01-01")]).expect("ts");
    assert_eq!(text(&r), "[[Integer(1)]]");
    let r = rows_with(
        &mut s,
        "SELECT id FROM t WHERE s LIKE ? ORDER BY id LIMIT ?",
        &[Value::str("%"), Value::Integer(1)],
    )
    .expect("like");
    assert_eq!(text(&r), "[[Integer(1)]]");
    let r = rows_with(&mut s, "SELECT CAST(? AS INTEGER) + 1", &[Value::str("41")]).expect("cast");
    assert_eq!(text(&r), "[[Integer(42)]]");
    // A script: each statement takes its own values, in order.
    let out = s
        .execute_with_params(
            "UPDATE t SET x = ? WHERE id = ?; SELECT x FROM t WHERE id = ?",
            &[Value::Integer(9), Value::Integer(2), Value::Integer(2)],
        )
        .expect("script");
    assert_eq!(
        format!("{:?}", out.last()),
        "Some(Rows(ResultTable { columns: [ResultColumn { name: \"X\", ty: BigInt }], rows: [[Integer(9)]] }))"
    );
    // The same statement again hits.
    let before = db.plan_cache_stats();
    rows_with(&mut s, "SELECT id FROM t WHERE ts < $1", &[Value::str("2030-01-01")]).expect("ts");
    assert_eq!(db.plan_cache_stats().hits, before.hits + 1);
}

#[test]
fn parameter_errors_are_clear() {
    let db = db();
    let mut s = db.session();
    let err = |r: Result<Vec<Outcome>, Error>| r.expect_err("must fail").to_string();
    let e = err(s.execute_with_params("SELECT * FROM t WHERE id = ?", &[]));
    assert!(e.contains("takes 1 parameter value but 0 were given"), "{e}");
    let e = err(s.execute_with_params("SELECT * FROM t WHERE id = ?", &[Value::Integer(1), Value::Integer(2)]));
    assert!(e.contains("takes 1 parameter value but 2 were given"), "{e}");
    let e = err(s.execute_with_params("SELECT * FROM t WHERE id = 1", &[Value::Integer(1)]));
    assert!(e.contains("takes 0 parameter values but 1 was given"), "{e}");
    let e = err(s.execute_with_params("SELECT * FROM t WHERE id = ?", &[Value::str("abc")]));
    assert!(e.contains("parameter $1 cannot be used as INTEGER"), "{e}");
    let e = err(s.execute_with_params("SELECT * FROM t WHERE id = ?", &[Value::Integer(1 << 40)]));
    assert!(e.contains("parameter $1"), "{e}");
    let e = err(s.execute_with_params("SELECT * FROM t WHERE ts = ?", &[Value::str("not a time")]));
    assert!(e.contains("parameter $1 cannot be used as TIMESTAMP"), "{e}");
    let e = err(s.execute_with_params("SELECT ?", &[Value::Integer(1)]));
    assert!(e.contains("cannot infer the type of parameter $1"), "{e}");
    let e = err(s.execute_with_params(
        "SELECT * FROM t WHERE id = ? OR id = $2",
        &[Value::Integer(1), Value::Integer(1)],
    ));
    assert!(e.contains("cannot mix"), "{e}");
    let e = err(s.execute_with_params("CREATE TABLE p (a INTEGER DEFAULT ?)", &[Value::Integer(1)]));
    assert!(e.contains("only in queries"), "{e}");
    let e = err(s.execute_with_params("SELECT * FROM t WHERE id = $99999", &[]));
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn a_join_plan_survives_writes_until_a_table_doubles() {
    let db = Database::open(Config::with_partitions(2)).expect("open");
    let mut s = db.session();
    s.execute_sql(
        "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY, b INTEGER); CREATE TABLE b (id INTEGER NOT NULL PRIMARY KEY);
         INSERT INTO a VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5); INSERT INTO b VALUES (1), (2), (3);",
    )
    .expect("setup");
    let join = "SELECT a.id FROM a JOIN b ON a.b = b.id ORDER BY a.id";
    rows(&mut s, join);
    // 5 -> 6 rows: the same power of two (8), so the cached join plan is reused.
    s.execute_sql("INSERT INTO a VALUES (6, 1)").expect("insert");
    let before = db.plan_cache_stats();
    assert_eq!(rows(&mut s, join).len(), 4);
    assert_eq!(
        db.plan_cache_stats().hits,
        before.hits + 1,
        "a small write keeps the join plan"
    );
    // 6 -> 9 rows crosses 8: the plan is bound again.
    s.execute_sql("INSERT INTO a VALUES (7, 2), (8, 3), (9, 9)")
        .expect("insert");
    let before = db.plan_cache_stats();
    assert_eq!(rows(&mut s, join).len(), 6);
    assert_eq!(
        db.plan_cache_stats().misses,
        before.misses + 1,
        "a doubled table re-plans"
    );
}
