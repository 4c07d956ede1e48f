//! The PostgreSQL port end to end with the real `psql`: simple queries, command tags,
//! result types as psql prints them, BEGIN / COMMIT / ROLLBACK, SET / SHOW, errors with
//! their SQLSTATE, the startup message's database, and passwords when security is on.

mod common;

use common::{Server, psql};

#[test]
fn psql_runs_statements_with_postgresql_tags_and_types() {
    let server = Server::start(&[]);
    let (ok, out) = psql(
        &server,
        &["-U", "someone"],
        None,
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20), d DECIMAL, ts TIMESTAMP, b VARBINARY(4), s SMALLINT);\n\
         PARTITION TABLE t ON COLUMN id;\n\
         INSERT INTO t VALUES (1, 'héllo', 1.5, '2024-01-02 03:04:05', x'00ff', 7), (2, NULL, NULL, NULL, NULL, NULL);\n\
         UPDATE t SET name = 'x' WHERE id = 2;\n\
         DELETE FROM t WHERE id = 3;\n\
         SELECT * FROM t ORDER BY id;\n\
         SHOW server_version;\n\
         SET extra_float_digits = 3;\n",
    );
    assert!(ok, "{out}");
    // Lines with leading spaces: no `\` continuations, they would eat the spaces.
    let expected = [
        "CREATE TABLE",
        "PARTITION TABLE",
        "INSERT 0 2",
        "UPDATE 1",
        "DELETE 0",
        " id | name  |       d        |         ts          |   b    | s ",
        "----+-------+----------------+---------------------+--------+---",
        "  1 | héllo | 1.500000000000 | 2024-01-02 03:04:05 | \\x00ff | 7",
        "  2 | x     |                |                     |        |  ",
        "(2 rows)",
        "",
    ]
    .join("\n");
    assert!(out.starts_with(&expected), "{out}");
    assert!(out.contains(" 15.0 (voltrs "), "{out}");
    assert!(out.trim_end().ends_with("SET"), "{out}");
}

#[test]
fn begin_commit_and_rollback_say_what_they_do() {
    let server = Server::start(&[]);
    let (_, out) = psql(
        &server,
        &[],
        None,
        "CREATE TABLE k (id INTEGER NOT NULL);\n\
         BEGIN;\nSELECT COUNT(*) FROM k;\nROLLBACK;\n\
         BEGIN;\nINSERT INTO k VALUES (1);\nCOMMIT;\n\
         BEGIN;\nINSERT INTO k VALUES (2);\nROLLBACK;\n\
         SELECT COUNT(*) AS n FROM k;\n",
    );
    assert!(
        out.contains("NOTICE:  voltrs runs each statement as its own transaction: BEGIN is accepted and does nothing"),
        "{out}"
    );
    // A rollback after a read only is fine; after a write it is an error naming it.
    assert_eq!(out.matches("ROLLBACK\n").count(), 1, "{out}");
    assert!(out.contains("COMMIT\n"), "{out}");
    assert!(
        out.contains(
            "ERROR:  ROLLBACK cannot undo statements that already committed (each statement is its own transaction): INSERT INTO k VALUES (2)"
        ),
        "{out}"
    );
    // Both inserts stayed.
    assert!(out.contains(" n \n---\n 2\n(1 row)"), "{out}");
}

#[test]
fn errors_carry_sqlstate_and_the_session_goes_on() {
    let server = Server::start(&[]);
    let (ok, out) = psql(
        &server,
        &["-v", "VERBOSITY=verbose"],
        None,
        "\\set VERBOSITY verbose\n\
         SELEC 1;\n\
         SELECT * FROM nowhere;\n\
         CREATE TABLE u (id INTEGER NOT NULL PRIMARY KEY);\n\
         INSERT INTO u VALUES (1);\n\
         INSERT INTO u VALUES (1);\n\
         SHOW no_such_setting;\n\
         SELECT COUNT(*) AS n FROM u;\n",
    );
    assert!(ok, "psql exits 0 without ON_ERROR_STOP: {out}");
    assert!(out.contains("ERROR:  42601: syntax error"), "{out}");
    assert!(out.contains("ERROR:  42704:"), "{out}");
    assert!(out.contains("ERROR:  23505:"), "{out}");
    assert!(
        out.contains("unrecognized configuration parameter \"no_such_setting\""),
        "{out}"
    );
    assert!(out.contains(" n \n---\n 1\n(1 row)"), "{out}");
}

#[test]
fn the_startup_database_selects_the_namespace() {
    let server = Server::start(&[]);
    let (ok, out) = psql(
        &server,
        &[],
        None,
        "CREATE DATABASE shop;\nUSE shop;\nCREATE TABLE items (id INTEGER NOT NULL);\nINSERT INTO items VALUES (42);\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = psql(&server, &["-d", "shop"], None, "SELECT id FROM items;\n");
    assert!(ok && out.contains(" 42\n(1 row)"), "{out}");
    let (ok, out) = psql(&server, &["-d", "nosuch"], None, "SELECT 1;\n");
    assert!(!ok && out.contains("database \"nosuch\" does not exist"), "{out}");
}

#[test]
fn passwords_and_permissions_apply_with_security_on() {
    let server = Server::start_secure();
    let (ok, out) = psql(&server, &["-U", "admin", "-w"], Some("wrong"), "SELECT 1;\n");
    assert!(
        !ok && out.to_lowercase().contains("password authentication failed"),
        "{out}"
    );
    let (ok, out) = psql(
        &server,
        &["-U", "admin"],
        Some("secret"),
        "CREATE TABLE p (id INTEGER NOT NULL);\nINSERT INTO p VALUES (1);\n",
    );
    assert!(ok && out.contains("INSERT 0 1"), "{out}");
    let (_, out) = psql(
        &server,
        &["-U", "reader"],
        Some("r"),
        "\\set VERBOSITY verbose\nSELECT COUNT(*) AS n FROM p;\nINSERT INTO p VALUES (2);\n",
    );
    assert!(out.contains(" n \n---\n 1\n(1 row)"), "{out}");
    assert!(
        out.contains("ERROR:  42501: User reader does not have permission to run SQL that writes"),
        "{out}"
    );
}
