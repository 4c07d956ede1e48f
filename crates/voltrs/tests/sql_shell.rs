//! `voltrs sql` end to end against `voltrs start`: statements over several lines, a
//! procedure with `BEGIN ... END`, the directives, the three output formats, `--query`,
//! `file`, and the exit status of a failing script.

mod common;

use common::{Server, sql};

const SCHEMA: &str = "\
-- accounts, one statement over several lines
CREATE TABLE acct (
  id      BIGINT      NOT NULL PRIMARY KEY,
  owner   VARCHAR(20),
  balance BIGINT      DEFAULT 0 NOT NULL
);
PARTITION TABLE acct ON COLUMN id;
CREATE PROCEDURE deposit PARTITION ON TABLE acct COLUMN id PARAMETER 1 AS BEGIN
  UPDATE acct SET balance = balance + ? WHERE id = ?;
  SELECT owner, balance FROM acct WHERE id = ?;
END;
exec acct.insert 7 'Ann, Jr.' 100
execute ACCT.insert 8, NULL, 5;
";

#[test]
fn a_script_runs_statements_procedures_and_directives() {
    let server = Server::start(&[]);
    let script = format!(
        "{SCHEMA}EXEC deposit 5, 7, 7\n\
         SELECT id, owner, balance\n  FROM acct ORDER BY id;\n\
         show tables\nshow procedures;\ndescribe acct\n\
         explain SELECT balance FROM acct WHERE id = 7;\nexplainproc deposit\n"
    );
    let run = sql(&server, &[], &script);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "", "no timing lines when not at a terminal");
    // `exec` prints every result table: the two inserts' counts, then deposit's two
    // statements (the UPDATE's count and the SELECT's row).
    let modified = "modified_tuples\n---------------\n1\n(1 row)\n";
    let start = format!(
        "CREATE TABLE\nPARTITION TABLE\nCREATE PROCEDURE\n{modified}{modified}{modified}\
         OWNER     BALANCE\n--------  -------\nAnn, Jr.  105\n(1 row)\n\
         ID  OWNER     BALANCE\n--  --------  -------\n7   Ann, Jr.  105\n8   NULL      5\n(2 rows)\n\
         TABLE_NAME  TABLE_TYPE  PARTITION_COLUMN\n----------  ----------  ----------------\n\
         ACCT        TABLE       ID\n(1 row)\n"
    );
    assert!(run.stdout.starts_with(&start), "{}", run.stdout);
    for expected in [
        "deposit         BIGINT, BIGINT, BIGINT           single partition (parameter 2)\n",
        "ACCT.insert     BIGINT, VARCHAR, BIGINT          single partition (parameter 1)\n",
        "COLUMN_NAME  TYPE         NULLABLE  DEFAULT  PARTITION_COLUMN\n\
         -----------  -----------  --------  -------  ----------------\n\
         ID           BIGINT       NO        NULL     YES\n\
         OWNER        VARCHAR(20)  YES       NULL     NO\n\
         BALANCE      BIGINT       NO        0        NO\n(3 rows)\n",
        // EXPLAIN goes to @Explain; EXPLAINPROC lists each statement with its plan.
        "EXECUTION_PLAN\n",
        "UNIQUE INDEX LOOKUP of ACCT",
        "SQL_STATEMENT",
        "UPDATE acct SET balance = balance + ? WHERE id = ?  UPDATE ACCT\n",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?} in\n{}", run.stdout);
    }
}

#[test]
fn the_three_output_formats_print_the_same_rows() {
    let server = Server::start(&[]);
    assert_eq!(sql(&server, &[], SCHEMA).code, Some(0));
    let query = "SELECT id, owner FROM acct ORDER BY id; SELECT 'say \"hi\"' AS q FROM acct WHERE id = 7;";
    let run = |format: &str| {
        let r = sql(&server, &["--output-format", format, "--query", query], "");
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        r.stdout
    };
    assert_eq!(
        run("fixed"),
        "ID  OWNER\n--  --------\n7   Ann, Jr.\n8   NULL\n(2 rows)\nQ\n--------\nsay \"hi\"\n(1 row)\n"
    );
    assert_eq!(run("csv"), "ID,OWNER\n7,\"Ann, Jr.\"\n8,\nQ\n\"say \"\"hi\"\"\"\n");
    assert_eq!(run("tab"), "ID\tOWNER\n7\tAnn, Jr.\n8\t\nQ\nsay \"hi\"\n");
    // Status lines are for people: the csv and tab formats print only tables.
    let r = sql(
        &server,
        &["--output-format", "csv"],
        "INSERT INTO acct VALUES (9, 'x', 1);\n",
    );
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), ""));
}

#[test]
fn a_script_stops_at_its_first_error_unless_told_to_continue() {
    let server = Server::start(&[]);
    let script = "SELECT 1 AS a;\nexec no_such_procedure 1\nSELECT 2 AS b;\n";
    let stop = sql(&server, &[], script);
    assert_eq!(stop.code, Some(1));
    assert_eq!(stop.stdout, "A\n-\n1\n(1 row)\n", "nothing after the error ran");
    assert_eq!(stop.stderr, "ERROR: Procedure no_such_procedure was not found\n");
    let go_on = sql(&server, &["--continue-on-error"], script);
    assert_eq!(go_on.code, Some(0));
    assert_eq!(go_on.stdout, "A\n-\n1\n(1 row)\nB\n-\n2\n(1 row)\n");
    assert_eq!(go_on.stderr, stop.stderr);
    // Directives the shell cannot parse are errors too, caught before anything is sent.
    let bad = sql(&server, &[], "show indexes\nSELECT 1;\n");
    assert_eq!((bad.code, bad.stdout.as_str()), (Some(1), ""));
    assert!(bad.stderr.contains("show tables or show procedures"), "{}", bad.stderr);
    let query = sql(&server, &["--query", "SELEC 1"], "");
    assert_eq!(query.code, Some(1));
    assert!(query.stderr.starts_with("ERROR: syntax error"), "{}", query.stderr);
}

#[test]
fn file_runs_a_script_and_exit_stops_the_shell() {
    let server = Server::start(&[]);
    let path = common::temp_dir("script").with_extension("sql");
    std::fs::write(&path, "CREATE TABLE f (x INTEGER);\nINSERT INTO f VALUES (1), (2);\n").expect("write script");
    let run = sql(
        &server,
        &[],
        &format!(
            "file {}\nSELECT COUNT(*) AS n FROM f;\nexit\nSELECT 1;\n",
            path.display()
        ),
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "CREATE TABLE\n(2 rows affected)\nN\n-\n2\n(1 row)\n");
    let missing = sql(&server, &[], "file /no/such/file.sql\n");
    assert_eq!(missing.code, Some(1));
    assert!(missing.stderr.contains("file /no/such/file.sql"), "{}", missing.stderr);
}

#[test]
fn a_server_that_is_not_there_is_a_clear_error() {
    let server = Server::start(&[]);
    let port = server.client.to_string();
    drop(server);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["sql", "--servers", "127.0.0.1", "--port", &port, "--query", "SELECT 1"])
        .output()
        .expect("run voltrs sql");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot connect to 127.0.0.1:{port}")), "{err}");
}
