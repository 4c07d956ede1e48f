//! Stored procedures end to end through the embedded API: DDL procedures, default
//! procedures, EXEC / CALL, Lua and Rust procedures, routing, atomicity and DDL checks.

use std::sync::Arc;

use voltrs_engine::{
    Config, Database, NativeProcedure, NativeSpec, Outcome, ProcedureContext, ProcedureError, ResultTable, Status,
};
use voltrs_storage::{DataType, Value};

fn db(partitions: usize) -> Database {
    let db = Database::open(Config::with_partitions(partitions)).expect("open");
    db.session()
        .execute_sql(
            "CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, owner VARCHAR(20), balance BIGINT NOT NULL);
             PARTITION TABLE acct ON COLUMN id;
             CREATE TABLE rates (code VARCHAR(3) NOT NULL PRIMARY KEY, rate FLOAT);
             CREATE VIEW by_owner (owner, n, total) AS SELECT owner, COUNT(*), SUM(balance) FROM acct GROUP BY owner;",
        )
        .expect("schema");
    db
}

fn ints(t: &ResultTable) -> Vec<Vec<i64>> {
    t.rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Integer(i) => *i,
                    Value::Null => i64::MIN,
                    other => panic!("not an integer: {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn rows(db: &Database, sql: &str) -> Vec<Vec<i64>> {
    match db.session().execute_sql(sql).expect(sql).pop() {
        Some(Outcome::Rows(t)) => ints(&t),
        other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn sql_procedures_route_and_return_one_table_per_statement() {
    let db = db(4);
    let mut s = db.session();
    s.execute_sql(
        "CREATE PROCEDURE open_acct PARTITION ON TABLE acct COLUMN id AS INSERT INTO acct VALUES (?, ?, ?);
         CREATE PROCEDURE deposit PARTITION ON TABLE acct COLUMN id PARAMETER 1 AS BEGIN
            UPDATE acct SET balance = balance + ? WHERE id = ?;
            SELECT balance FROM acct WHERE id = ?;
         END;",
    )
    .expect("create");
    for id in 1..=20i64 {
        let r = s.call(
            "OPEN_ACCT",
            &[Value::Integer(id), Value::str("ann"), Value::Integer(100)],
        );
        assert_eq!(r.status, Status::Success, "{r:?}");
        assert_eq!(ints(&r.tables[0]), vec![vec![1]]);
    }
    let r = s.call("deposit", &[Value::Integer(5), Value::Integer(7), Value::Integer(7)]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(r.tables.len(), 2);
    assert_eq!(ints(&r.tables[0]), vec![vec![1]]);
    assert_eq!(ints(&r.tables[1]), vec![vec![105]]);
    // EXEC returns the first table; CALL the same.
    let out = s
        .execute_sql("EXEC deposit 1, 8, 8; CALL deposit(-1, 8, 8)")
        .expect("exec");
    assert_eq!(out.len(), 2);
    assert_eq!(rows(&db, "SELECT balance FROM acct WHERE id = 8"), vec![vec![100]]);
    assert_eq!(rows(&db, "SELECT n, total FROM by_owner"), vec![vec![20, 2005]]);
    // Wrong count, bad type, unknown procedure: clear errors.
    let r = s.call("deposit", &[Value::Integer(5)]);
    assert_eq!(r.status, Status::GracefulFailure);
    assert!(r.status_string.unwrap().contains("EXPECTS 3 PARAMS, BUT RECEIVED 1"));
    let r = s.call("deposit", &[Value::str("x"), Value::Integer(1), Value::Integer(1)]);
    assert_eq!(r.status, Status::GracefulFailure);
    let r = s.call("nope", &[]);
    assert_eq!(r.status, Status::UnexpectedFailure);
    assert!(r.status_string.unwrap().contains("Procedure nope was not found"));
    let r = s.call("@Nope", &[]);
    assert_eq!(r.status, Status::UnexpectedFailure);
    assert_eq!(r.status_string.unwrap(), "Procedure @Nope was not found");
}

#[test]
fn a_failing_statement_rolls_back_the_whole_procedure() {
    let db = db(2);
    let mut s = db.session();
    s.execute_sql(
        "CREATE PROCEDURE two PARTITION ON TABLE acct COLUMN id AS BEGIN
            INSERT INTO acct VALUES (?, 'bob', 10);
            INSERT INTO acct VALUES (?, 'bob', 20);
         END;",
    )
    .expect("create");
    let r = s.call("two", &[Value::Integer(1), Value::Integer(1)]);
    assert_eq!(r.status, Status::GracefulFailure, "{r:?}");
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM acct"), vec![vec![0]]);
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM by_owner"), vec![vec![0]]);
    // The index holds no trace either: the key is free again.
    let r = s.call(
        "acct.insert",
        &[Value::Integer(1), Value::str("bob"), Value::Integer(1)],
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
}

#[test]
fn a_single_partition_insert_of_a_row_of_another_partition_fails() {
    let db = db(4);
    let mut s = db.session();
    s.execute_sql(
        "CREATE PROCEDURE wrong PARTITION ON TABLE acct COLUMN id AS INSERT INTO acct VALUES (? + 1, 'x', 0)",
    )
    .expect("create");
    let mut failed = 0;
    for id in 0..20 {
        let r = s.call("wrong", &[Value::Integer(id)]);
        if r.status != Status::Success {
            failed += 1;
            let m = r.status_string.unwrap();
            assert!(m.contains("Mispartitioned tuple"), "{m}");
        }
    }
    assert!(failed > 0, "some rows hash elsewhere");
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM acct"), vec![vec![20 - failed]]);
}

#[test]
fn default_procedures_follow_voltdb() {
    let db = db(3);
    let mut s = db.session();
    let ok = |r: voltrs_engine::Response| {
        assert_eq!(r.status, Status::Success, "{r:?}");
        r
    };
    ok(s.call("ACCT.insert", &[Value::Integer(1), Value::str("a"), Value::Integer(5)]));
    ok(s.call("acct.UPSERT", &[Value::Integer(1), Value::str("b"), Value::Integer(6)]));
    let r = ok(s.call("acct.select", &[Value::Integer(1)]));
    assert_eq!(r.tables[0].rows[0][1], Value::str("b"));
    ok(s.call(
        "acct.update",
        &[Value::Integer(1), Value::str("c"), Value::Integer(7), Value::Integer(1)],
    ));
    assert_eq!(rows(&db, "SELECT balance FROM acct"), vec![vec![7]]);
    ok(s.call("acct.delete", &[Value::Integer(1)]));
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM acct"), vec![vec![0]]);
    // A replicated table has no .select; a view has no procedures.
    assert!(s.call("rates.select", &[Value::str("USD")]).status != Status::Success);
    ok(s.call("rates.insert", &[Value::str("USD"), Value::Float(1.0)]));
    assert!(s.call("by_owner.insert", &[]).status != Status::Success);
}

#[test]
fn ddl_that_breaks_a_procedure_is_refused() {
    let db = db(2);
    let mut s = db.session();
    s.execute_sql("CREATE PROCEDURE total AS SELECT SUM(rate) FROM rates")
        .expect("create");
    let e = s.execute_sql("DROP TABLE rates").expect_err("refused");
    assert!(e.to_string().contains("procedure \"total\""), "{e}");
    s.execute_sql("DROP PROCEDURE total; DROP TABLE rates").expect("drop");
}

struct Transfer;

impl NativeProcedure for Transfer {
    fn run(&self, cx: &mut ProcedureContext<'_>, params: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        cx.queue(0, vec![params[0].clone()]);
        let t = cx.execute()?;
        let balance = match t[0].rows.first().map(|r| &r[0]) {
            Some(Value::Integer(b)) => *b,
            _ => return Err(ProcedureError::Abort("no such account".into())),
        };
        cx.queue(1, vec![params[1].clone(), params[0].clone()]);
        let out = cx.execute()?;
        if balance < 0 {
            return Err(ProcedureError::Abort("overdrawn".into()));
        }
        cx.set_app_status(7, Some("done".into()));
        Ok(out)
    }
}

#[test]
fn rust_procedures_run_and_abort_atomically() {
    let db = db(2);
    db.register_procedure(NativeSpec {
        name: "Adjust".into(),
        params: vec![("ID".into(), DataType::BigInt), ("DELTA".into(), DataType::BigInt)],
        statements: vec![
            "SELECT balance FROM acct WHERE id = ?".into(),
            "UPDATE acct SET balance = balance + ? WHERE id = ?".into(),
        ],
        partition: Some(("acct".into(), "id".into(), 0)),
        procedure: Arc::new(Transfer),
    })
    .expect("register");
    let mut s = db.session();
    s.execute_sql("INSERT INTO acct VALUES (3, 'z', 10), (4, 'z', -5)")
        .expect("rows");
    let r = s.call("adjust", &[Value::Integer(3), Value::Integer(5)]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(r.app_status.code, 7);
    let r = s.call("adjust", &[Value::Integer(4), Value::Integer(1)]);
    assert_eq!(r.status, Status::UserAbort);
    assert_eq!(
        rows(&db, "SELECT id, balance FROM acct ORDER BY id"),
        vec![vec![3, 15], vec![4, -5]]
    );
}

#[test]
fn lua_procedures_run_declared_statements() {
    let db = db(2);
    let mut s = db.session();
    s.execute_sql(
        "CREATE PROCEDURE bump (id BIGINT, delta BIGINT) PARTITION ON TABLE acct COLUMN id LANGUAGE LUA AS $$
            local get = voltdb.sql('SELECT balance FROM acct WHERE id = ?')
            local put = voltdb.sql('UPDATE acct SET balance = ? WHERE id = ?')
            function run(id, delta)
              voltdb.queue(get, id)
              local r = voltdb.execute()
              if r[1]:count() == 0 then voltdb.abort('no account ' .. id) end
              local b = r[1]:get(1, 1) + delta
              voltdb.queue(put, b, id)
              voltdb.execute(true)
              return b
            end
         $$;
         INSERT INTO acct VALUES (1, 'l', 40);",
    )
    .expect("create");
    let r = s.call("bump", &[Value::Integer(1), Value::Integer(2)]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(ints(&r.tables[0]), vec![vec![42]]);
    let r = s.call("bump", &[Value::Integer(9), Value::Integer(2)]);
    assert_eq!(r.status, Status::UserAbort, "{r:?}");
    assert!(r.status_string.unwrap().contains("no account 9"));
}

#[test]
fn adhoc_batches_are_one_transaction() {
    let db = db(3);
    let mut s = db.session();
    let r = s.call(
        "@AdHoc",
        &[Value::str("INSERT INTO acct VALUES (1, 'a', 1); INSERT INTO acct VALUES (2, 'a', 1); INSERT INTO acct VALUES (1, 'a', 1)")],
    );
    assert_eq!(r.status, Status::GracefulFailure, "{r:?}");
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM acct"), vec![vec![0]]);
    let r = s.call(
        "@AdHoc",
        &[
            Value::str("INSERT INTO acct VALUES (?, 'a', ?); SELECT COUNT(*) FROM acct"),
            Value::Integer(5),
            Value::Integer(1),
        ],
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(r.tables.len(), 2);
    let r = s.call(
        "@AdHoc",
        &[Value::str("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)")],
    );
    assert!(r.status_string.unwrap().contains("DDL mixed with DML"));
}

#[test]
fn create_procedure_checks_routing_and_bodies() {
    let db = db(2);
    let mut s = db.session();
    let e = s
        .execute_sql("CREATE PROCEDURE w PARTITION ON TABLE acct COLUMN id AS BEGIN SELECT * FROM acct WHERE id = ?; INSERT INTO rates VALUES ('X', 1); END")
        .expect_err("writes a replicated table");
    assert!(e.to_string().contains("writes replicated table \"RATES\""), "{e}");
    let e = s
        .execute_sql("CREATE PROCEDURE v (code VARCHAR) PARTITION ON TABLE acct COLUMN id LANGUAGE LUA AS $$ function run(c) return 0 end $$")
        .expect_err("a string cannot route a BIGINT column");
    assert!(e.to_string().contains("cannot hold values of partition column"), "{e}");
    // A VARCHAR parameter without a size takes any length; TRUNCATE works in a body.
    s.execute_sql(
        "CREATE PROCEDURE rate (code VARCHAR) LANGUAGE LUA AS $$
            local ins = voltdb.sql('INSERT INTO rates VALUES (?, 1.5)')
            function run(code) voltdb.queue(ins, code) voltdb.execute() return 1 end $$;
         CREATE PROCEDURE wipe AS TRUNCATE TABLE rates;",
    )
    .expect("create");
    let r = s.call("rate", &[Value::str("USD")]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    let r = s.call("wipe", &[]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(ints(&r.tables[0]), vec![vec![1]]);
}

#[test]
fn a_ddl_batch_failing_on_stored_rows_keeps_catalog_and_storage_in_step() {
    let db = db(2);
    let mut s = db.session();
    s.execute_sql("CREATE TABLE r (id INTEGER NOT NULL PRIMARY KEY, a VARCHAR(3), b INTEGER); INSERT INTO r VALUES (1,'x',5),(2,'y',5);")
        .expect("rows");
    let r = s.call(
        "@AdHoc",
        &[Value::str(
            "ALTER TABLE r DROP COLUMN a; CREATE UNIQUE INDEX ub ON r (b)",
        )],
    );
    assert_eq!(r.status, Status::GracefulFailure, "{r:?}");
    assert!(r.status_string.unwrap().contains("statement 2 of the batch"));
    // The first change stayed, and the table reads correctly.
    assert_eq!(
        rows(&db, "SELECT id, b FROM r ORDER BY id"),
        vec![vec![1, 5], vec![2, 5]]
    );
    assert!(db.session().execute_sql("SELECT a FROM r").is_err());
}
