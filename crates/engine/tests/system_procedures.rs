//! System procedures through `session.call`, with VoltDB's result shapes, and the safety
//! limits that refuse work with a clear error while the sites keep serving.

use std::time::Duration;

use voltrs_engine::{Config, Database, Response, Status};
use voltrs_storage::Value;

fn db(config: Config) -> Database {
    let db = Database::open(config).expect("open");
    db.session()
        .execute_sql(
            "CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, owner VARCHAR(20), balance BIGINT NOT NULL);
             PARTITION TABLE acct ON COLUMN id;
             CREATE TABLE rates (code VARCHAR(3) NOT NULL PRIMARY KEY, rate FLOAT);
             CREATE PROCEDURE get_acct PARTITION ON TABLE acct COLUMN id AS SELECT * FROM acct WHERE id = ?;",
        )
        .expect("schema");
    db
}

fn ok(r: Response) -> Response {
    assert_eq!(r.status, Status::Success, "{r:?}");
    r
}

fn column(r: &Response, table: usize, name: &str) -> Vec<Value> {
    let t = &r.tables[table];
    let i = t
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", t.columns));
    t.rows.iter().map(|row| row[i].clone()).collect()
}

#[test]
fn catalog_statistics_and_topology() {
    let db = db(Config::with_partitions(3));
    let mut s = db.session();
    ok(s.call("@Ping", &[]));
    let tables = ok(s.call("@SystemCatalog", &[Value::str("TABLES")]));
    let names = column(&tables, 0, "TABLE_NAME");
    assert!(names.contains(&Value::str("ACCT")) && names.contains(&Value::str("RATES")));
    let procs = ok(s.call("@SystemCatalog", &[Value::str("procedures")]));
    let pnames = column(&procs, 0, "PROCEDURE_NAME");
    let at = pnames
        .iter()
        .position(|v| *v == Value::str("get_acct"))
        .expect("listed");
    let remarks = &column(&procs, 0, "REMARKS")[at];
    let Value::Varchar(json) = remarks else {
        panic!("{remarks:?}")
    };
    assert!(
        json.contains("\"singlePartition\":true") && json.contains("\"partitionParameterType\":6"),
        "{json}"
    );
    assert!(pnames.contains(&Value::str("ACCT.insert")), "{pnames:?}");
    let cols = ok(s.call("@SystemCatalog", &[Value::str("COLUMNS")]));
    assert!(column(&cols, 0, "REMARKS").contains(&Value::str("PARTITION_COLUMN")));

    for id in 0..10 {
        ok(s.call("ACCT.insert", &[Value::Integer(id), Value::str("o"), Value::Integer(1)]));
    }
    ok(s.call("get_acct", &[Value::Integer(1)]));
    let stats = ok(s.call("@Statistics", &[Value::str("PROCEDURE"), Value::Integer(0)]));
    let invoked: i64 = column(&stats, 0, "INVOCATIONS")
        .iter()
        .zip(column(&stats, 0, "PROCEDURE"))
        .filter(|(_, p)| *p == Value::str("ACCT.insert"))
        .map(|(v, _)| if let Value::Integer(i) = v { *i } else { 0 })
        .sum();
    assert_eq!(invoked, 10);
    let t = ok(s.call("@Statistics", &[Value::str("TABLE"), Value::Integer(0)]));
    let acct_rows: i64 = column(&t, 0, "TUPLE_COUNT")
        .iter()
        .zip(column(&t, 0, "TABLE_NAME"))
        .filter(|(_, n)| *n == Value::str("ACCT"))
        .map(|(v, _)| if let Value::Integer(i) = v { *i } else { 0 })
        .sum();
    assert_eq!(acct_rows, 10);
    let topo = ok(s.call("@Statistics", &[Value::str("TOPO"), Value::Integer(0)]));
    assert_eq!(topo.tables.len(), 2);
    assert_eq!(topo.tables[0].rows.len(), 4, "3 partitions and the MP initiator");
    let keys = ok(s.call("@GetPartitionKeys", &[Value::str("INTEGER")]));
    assert_eq!(keys.tables[0].rows.len(), 3);
    ok(s.call("@Statistics", &[Value::str("MEMORY"), Value::Integer(0)]));
    ok(s.call("@Statistics", &[Value::str("PARTITIONCOUNT"), Value::Integer(0)]));
    let info = ok(s.call("@SystemInformation", &[Value::str("OVERVIEW")]));
    assert!(column(&info, 0, "KEY").contains(&Value::str("CLIENTPORT")));
    let plan = ok(s.call("@Explain", &[Value::str("SELECT * FROM acct WHERE id = 5")]));
    assert!(!plan.tables[0].rows.is_empty());
    let plan = ok(s.call("@ExplainProc", &[Value::str("GET_ACCT")]));
    assert_eq!(plan.tables[0].rows.len(), 1);
    let r = s.call("@NoSuchThing", &[]);
    assert_eq!(r.status, Status::UnexpectedFailure);
    assert!(r.status_string.unwrap().contains("@NoSuchThing"));
}

#[test]
fn pause_makes_the_client_side_read_only() {
    let db = db(Config::with_partitions(2));
    let mut s = db.session();
    ok(s.call("@Pause", &[]));
    let r = s.call("ACCT.insert", &[Value::Integer(1), Value::str("o"), Value::Integer(1)]);
    assert_eq!(r.status, Status::ServerUnavailable);
    assert!(s.execute_sql("INSERT INTO rates VALUES ('EUR', 1.1)").is_err());
    ok(s.call("get_acct", &[Value::Integer(1)]));
    let mut admin = db.session();
    admin.set_admin(true);
    ok(admin.call("ACCT.insert", &[Value::Integer(1), Value::str("o"), Value::Integer(1)]));
    ok(s.call("@Resume", &[]));
    ok(s.call("ACCT.insert", &[Value::Integer(2), Value::str("o"), Value::Integer(1)]));
}

#[test]
fn memory_above_the_limit_makes_the_database_read_only() {
    let config = Config {
        memory_limit_bytes: Some(1),
        ..Config::with_partitions(2)
    };
    let db = db(config);
    let mut s = db.session();
    // The monitor turns the database read-only at its first reading.
    std::thread::sleep(Duration::from_millis(1200));
    let e = s
        .execute_sql("INSERT INTO rates VALUES ('EUR', 1.1)")
        .expect_err("read-only");
    assert!(e.to_string().contains("read-only"), "{e}");
    let r = s.call("ACCT.insert", &[Value::Integer(1), Value::str("o"), Value::Integer(1)]);
    assert!(r.status_string.unwrap().contains("above the limit"));
    s.execute_sql("SELECT COUNT(*) FROM acct").expect("reads still work");
}

#[test]
fn large_and_slow_reads_fail_and_the_sites_keep_serving() {
    let config = Config {
        temp_table_bytes: 1024 * 1024,
        query_timeout: Some(Duration::from_millis(200)),
        ..Config::with_partitions(2)
    };
    let db = db(config);
    let mut s = db.session();
    s.execute_sql(
        "CREATE TABLE big (id BIGINT NOT NULL, pad VARCHAR(100));
         CREATE PROCEDURE fill AS INSERT INTO big SELECT id + ?, pad FROM big;",
    )
    .expect("schema");
    s.execute_sql("INSERT INTO big VALUES (1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')")
        .expect("seed");
    for i in 0..14 {
        ok(s.call("fill", &[Value::Integer(i)]));
    }
    // 16384 rows of ~160 bytes: a full read exceeds 1 MB of temporary results.
    let Err(e) = s.execute_sql("SELECT * FROM big") else {
        panic!("a full read of 16384 rows stayed under 1 MB");
    };
    assert!(
        e.to_string().contains("temporary results exceeded the limit of 1 MB"),
        "{e}"
    );
    // A read that runs too long times out (a 3-way self join, aggregated).
    let Err(e) = s.execute_sql("SELECT COUNT(*) FROM big a, big b WHERE a.id + b.id > 0 AND a.pad = b.pad") else {
        panic!("a 16384 x 16384 join finished within 200 ms and 1 MB");
    };
    assert!(
        e.to_string().contains("timed out") || e.to_string().contains("temporary"),
        "{e}"
    );
    // The sites still answer.
    ok(s.call("get_acct", &[Value::Integer(1)]));
    assert_eq!(s.execute_sql("SELECT COUNT(*) FROM big").expect("count").len(), 1);
}
