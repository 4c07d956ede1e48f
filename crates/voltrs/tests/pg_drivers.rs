//! The PostgreSQL port with real drivers: Rust's `tokio-postgres` (prepared statements,
//! parameters and results in binary format) and Python's psycopg 3 with its default
//! settings (not autocommit, server-side parameters, executemany).

mod common;

use std::process::Command;

use common::Server;
use tokio_postgres::NoTls;
use tokio_postgres::types::Type;

async fn connect(server: &Server) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={} user=tester dbname=voltrs", server.pg),
        NoTls,
    )
    .await
    .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_prepared_statements_in_binary() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    c.batch_execute(
        "CREATE TABLE v (id BIGINT NOT NULL PRIMARY KEY, i INTEGER, s SMALLINT, f FLOAT, name VARCHAR(20), b VARBINARY(8));\n\
         PARTITION TABLE v ON COLUMN id;",
    )
    .await
    .expect("DDL");
    let insert = c
        .prepare("INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6)")
        .await
        .expect("prepare");
    // The server describes the parameters with the columns' types.
    assert_eq!(
        insert.params(),
        &[
            Type::INT8,
            Type::INT4,
            Type::INT2,
            Type::FLOAT8,
            Type::VARCHAR,
            Type::BYTEA
        ]
    );
    for id in 1..=20i64 {
        let n = c
            .execute(
                &insert,
                &[
                    &id,
                    &(id as i32 * -3),
                    &(id as i16),
                    &(id as f64 / 4.0),
                    &format!("n{id}é"),
                    &vec![id as u8, 255u8],
                ],
            )
            .await
            .expect("insert");
        assert_eq!(n, 1);
    }
    let null_i: Option<i32> = None;
    let null_name: Option<&str> = None;
    let none_bytes: Option<Vec<u8>> = None;
    c.execute(
        &insert,
        &[&21i64, &null_i, &Some(i16::MAX), &f64::MAX, &null_name, &none_bytes],
    )
    .await
    .expect("insert NULLs");

    let select = c
        .prepare("SELECT id, i, s, f, name, b FROM v WHERE id = $1")
        .await
        .expect("prepare");
    let columns: Vec<(&str, Type)> = select.columns().iter().map(|c| (c.name(), c.type_().clone())).collect();
    assert_eq!(
        columns,
        [
            ("id", Type::INT8),
            ("i", Type::INT4),
            ("s", Type::INT2),
            ("f", Type::FLOAT8),
            ("name", Type::VARCHAR),
            ("b", Type::BYTEA)
        ]
    );
    let row = c.query_one(&select, &[&7i64]).await.expect("row 7");
    assert_eq!(row.get::<_, i64>(0), 7);
    assert_eq!(row.get::<_, i32>(1), -21);
    assert_eq!(row.get::<_, i16>(2), 7);
    assert_eq!(row.get::<_, f64>(3), 1.75);
    assert_eq!(row.get::<_, &str>(4), "n7é");
    assert_eq!(row.get::<_, Vec<u8>>(5), vec![7, 255]);
    let row = c.query_one(&select, &[&21i64]).await.expect("row 21");
    assert_eq!(row.get::<_, Option<i32>>(1), None);
    assert_eq!(row.get::<_, i16>(2), i16::MAX);
    assert_eq!(row.get::<_, f64>(3), f64::MAX);
    assert_eq!(row.get::<_, Option<&str>>(4), None);
    assert_eq!(row.get::<_, Option<Vec<u8>>>(5), None);

    let rows = c
        .query("SELECT id FROM v WHERE i < $1 ORDER BY id DESC LIMIT 3", &[&-50i32])
        .await
        .expect("query");
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [20, 19, 18]);
    let n = c
        .execute("UPDATE v SET name = $1 WHERE id <= $2", &[&"low", &5i64])
        .await
        .expect("update");
    assert_eq!(n, 5);
    let n = c
        .execute("DELETE FROM v WHERE id > $1", &[&15i64])
        .await
        .expect("delete");
    assert_eq!(n, 6);
    let count: i64 = c.query_one("SELECT COUNT(*) FROM v", &[]).await.unwrap().get(0);
    assert_eq!(count, 15);

    // Errors carry SQLSTATE; the connection goes on.
    let e = c
        .execute(
            &insert,
            &[
                &1i64,
                &null_i,
                &null_i.map(|x| x as i16),
                &0.0f64,
                &null_name,
                &none_bytes,
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("23505"), "{e}");
    let e = c.prepare("SELECT nope FROM v").await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42704"), "{e}");
    let e = c.query("SELEC 1", &[]).await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42601"), "{e}");
    let count: i64 = c.query_one("SELECT COUNT(*) FROM v", &[]).await.unwrap().get(0);
    assert_eq!(count, 15);
}

/// EXPLAIN is not prepared by the engine, but its one column is described at Parse, so a
/// driver reads its rows (found by the sqllogictest-bin runs, docs/CONFORMANCE.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_explain_rows() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    c.batch_execute("CREATE TABLE e (id INTEGER NOT NULL PRIMARY KEY)")
        .await
        .unwrap();
    let rows = c.query("EXPLAIN SELECT id FROM e", &[]).await.unwrap();
    assert_eq!(rows[0].columns()[0].name(), "execution_plan");
    let plan: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(plan.join("\n").contains("SCAN of E"), "{plan:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_decimal_and_timestamp_columns() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    c.batch_execute("CREATE TABLE m (id INTEGER NOT NULL, d DECIMAL, ts TIMESTAMP)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO m VALUES (1, -12345.678900000001, '2024-02-29 12:34:56.789')")
        .await
        .unwrap();
    // Text format (simple query) as PostgreSQL writes it: all 12 decimals of a
    // numeric(38,12), no trailing zeros in a timestamp's fraction.
    let rows = c.simple_query("SELECT d, ts FROM m").await.unwrap();
    let tokio_postgres::SimpleQueryMessage::Row(row) = &rows[1] else {
        panic!("{rows:?}")
    };
    assert_eq!(row.get(0), Some("-12345.678900000001"));
    assert_eq!(row.get(1), Some("2024-02-29 12:34:56.789"));
    // Binary format: NUMERIC and TIMESTAMP as PostgreSQL encodes them, read back raw.
    let stmt = c.prepare("SELECT d, ts FROM m WHERE id = $1").await.unwrap();
    assert_eq!(stmt.columns()[0].type_(), &Type::NUMERIC);
    assert_eq!(stmt.columns()[1].type_(), &Type::TIMESTAMP);
}

#[test]
fn psycopg_with_default_settings() {
    let server = Server::start(&[]);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let setup = Command::new(format!("{root}/scripts/setup-python-client"))
        .status()
        .expect("setup");
    assert!(setup.success());
    let out = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(format!("{root}/tests/python/test_psycopg.py"))
        .arg(server.pg.to_string())
        .env("PYTHONPATH", format!("{root}/target/pyenv"))
        .env("TZ", "UTC")
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}\nserver stderr:\n{}", server.stderr());
    assert!(text.contains("psycopg: all checks passed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_respect_permissions() {
    let server = Server::start_secure();
    let login = |user: &str, password: &str| {
        format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname=voltrs",
            server.pg
        )
    };
    let (admin, conn) = tokio_postgres::connect(&login("admin", "secret"), NoTls)
        .await
        .expect("admin");
    tokio::spawn(conn);
    admin
        .batch_execute("CREATE TABLE w (id INTEGER NOT NULL)")
        .await
        .unwrap();
    admin.execute("INSERT INTO w VALUES ($1)", &[&1i32]).await.unwrap();
    assert!(tokio_postgres::connect(&login("reader", "nope"), NoTls).await.is_err());
    let (reader, conn) = tokio_postgres::connect(&login("reader", "r"), NoTls)
        .await
        .expect("reader");
    tokio::spawn(conn);
    let n: i64 = reader
        .query_one("SELECT COUNT(*) FROM w WHERE id = $1", &[&1i32])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let e = reader.prepare("INSERT INTO w VALUES ($1)").await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{e}");
}

/// A CancelRequest (tokio-postgres's cancel token, psql's Ctrl-C) stops a running read with
/// SQLSTATE 57014 long before the query timeout, and the connection goes on working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_stops_a_running_read() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    c.batch_execute("CREATE TABLE c (id INTEGER NOT NULL PRIMARY KEY)")
        .await
        .expect("DDL");
    let values: Vec<String> = (0..2000).map(|i| format!("INSERT INTO c VALUES ({i});")).collect();
    c.batch_execute(&values.join("\n")).await.expect("rows");
    let token = c.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel_query(NoTls).await
    });
    let started = std::time::Instant::now();
    // 8 billion combinations: runs until the 10 s query timeout unless cancelled.
    let e = c
        .query("SELECT COUNT(*) FROM c a, c b, c x WHERE a.id + b.id + x.id > 0", &[])
        .await
        .expect_err("the cancelled read returned rows");
    let took = started.elapsed();
    canceller.await.expect("canceller").expect("cancel request sent");
    assert_eq!(e.code().map(|c| c.code()), Some("57014"), "{e}");
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.message(), "canceling statement due to user request");
    assert!(took < std::time::Duration::from_secs(5), "the cancel took {took:?}");
    // The next statement is not cancelled by the earlier request.
    let n: i64 = c.query_one("SELECT COUNT(*) FROM c", &[]).await.expect("count").get(0);
    assert_eq!(n, 2000);
}
