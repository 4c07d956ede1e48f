//! End to end: start the real `voltrs` binary and drive its embedded shell through stdin.

use std::io::Write;
use std::process::{Command, Stdio};

fn run_shell(script: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["embedded", "--sites", "4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start voltrs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("wait for voltrs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn shell_runs_a_script_across_partitions() {
    let (ok, out, err) = run_shell(
        "CREATE TABLE votes (phone BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant INTEGER NOT NULL);\n\
         PARTITION TABLE votes ON COLUMN phone;\n\
         INSERT INTO votes VALUES (5551234567, 'MA', 1), (5551234568, 'MA', 2), (5551234569, 'NY', 1);\n\
         SELECT contestant, COUNT(*) AS n FROM votes GROUP BY contestant ORDER BY contestant;\n",
    );
    assert!(ok, "stderr: {err}");
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
fn shell_reports_errors_and_keeps_going() {
    let (ok, out, err) = run_shell(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);\n\
         INSERT INTO t VALUES (1);\n\
         INSERT INTO t VALUES (1);\n\
         SELEC 1;\n\
         SELECT COUNT(*) FROM t;\n",
    );
    assert!(!ok, "a failed statement makes the script exit non-zero");
    assert!(err.contains("PRIMARY KEY"), "{err}");
    assert!(err.contains("syntax error at line 1, column 1"), "{err}");
    assert!(
        out.trim_end().ends_with("(1 row)"),
        "the last statement still ran: {out}"
    );
}

#[test]
fn shell_keeps_a_multi_line_procedure_body_together_and_execs_it() {
    let (ok, out, err) = run_shell(
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
    assert!(ok, "stderr: {err}");
    assert!(out.contains("CREATE PROCEDURE"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "105"), "{out}");
}
