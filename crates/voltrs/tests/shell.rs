//! End to end: `voltrs start`, then scripts through `voltrs sql` on standard input (and
//! one through `voltrs embedded`, the in-process shell kept for tools without a server).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Server, sql};

#[test]
fn shell_runs_a_script_across_partitions() {
    let server = Server::start(&["--sites", "4"]);
    let run = sql(
        &server,
        &[],
        "CREATE TABLE votes (phone BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL);\n\
         PARTITION TABLE votes ON COLUMN phone;\n\
         INSERT INTO votes VALUES (5551234567, 'MA', 1), (5551234568, 'MA', 2), (5551234569, 'NY', 1);\n\
         SELECT contestant, COUNT(*) AS n FROM votes GROUP BY contestant ORDER BY contestant;\n",
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.stdout;
    assert!(out.contains("PARTITION TABLE"), "{out}");
    assert!(out.contains("(3 rows affected)"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("CONTESTANT"))
        .expect("result header");
    assert_eq!(lines[header + 2].split_whitespace().collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(lines[header + 3].split_whitespace().collect::<Vec<_>>(), ["2", "1"]);
}

#[test]
fn shell_reports_errors_and_keeps_going_when_asked() {
    let server = Server::start(&[]);
    let run = sql(
        &server,
        &["--continue-on-error"],
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);\n\
         INSERT INTO t VALUES (1);\n\
         INSERT INTO t VALUES (1);\n\
         SELEC 1;\n\
         SELECT COUNT(*) FROM t;\n",
    );
    assert_eq!(run.code, Some(0), "--continue-on-error exits 0");
    assert!(run.stderr.contains("PRIMARY KEY"), "{}", run.stderr);
    assert!(
        run.stderr.contains("syntax error at line 1, column 1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.trim_end().ends_with("(1 row)"),
        "the last statement still ran: {}",
        run.stdout
    );
}

#[test]
fn shell_keeps_a_multi_line_procedure_body_together_and_execs_it() {
    let server = Server::start(&[]);
    let run = sql(
        &server,
        &[],
        "CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL);\n\
         PARTITION TABLE acct ON COLUMN id;\n\
         CREATE PROCEDURE deposit PARTITION ON TABLE acct COLUMN id PARAMETER 1 AS BEGIN\n\
           UPDATE acct SET balance = balance + ? WHERE id = ?;\n\
           SELECT balance FROM acct WHERE id = ?;\n\
         END;\n\
         EXEC acct.insert 7, 100;\n\
         EXEC deposit 5, 7, 7;\n\
         SELECT balance FROM acct;\n",
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stdout.contains("CREATE PROCEDURE"), "{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.trim() == "105"), "{}", run.stdout);
}

#[test]
fn the_embedded_shell_still_runs_a_script_in_process() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["embedded", "--sites", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start voltrs embedded");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1), (2);\nSELECT COUNT(*) AS n FROM t;\n")
        .expect("write script");
    let out = child.wait_with_output().expect("wait for voltrs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CREATE TABLE\n(2 rows affected)\nN\n-\n2\n(1 row)\n"
    );
}
