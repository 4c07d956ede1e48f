//! Engine-free integration test: writes a small `.slt` file to a temporary directory, parses it,
//! resolves conditions and `halt`, and runs it against a fake executor (no engine needed). It
//! also runs the `voltrs-slt` binary on the file and checks the record counts it reports, which
//! do not depend on whether the engine passes or fails the records.

use std::path::PathBuf;
use std::process::Command;

use voltrs_engine::{Outcome, ResultColumn, ResultTable};
use voltrs_slt::parser::{Condition, ErrorExpect, RecordKind, SortMode, StatementExpect, parse};
use voltrs_slt::runner::{Executor, ItemResult, State, plan, run_record};
use voltrs_storage::{DataType, Value};

const SCRIPT: &str = "# A small script exercising the parser.\r
hash-threshold 4\r
\r
statement ok\r
CREATE TABLE t(a INTEGER, b VARCHAR(10))\r
\r
statement error no such table: \\w+\r
SELECT * FROM missing\r
\r
skipif postgresql # PostgreSQL requires AS when renaming output columns\r
query I nosort\r
SELECT 999\r
----\r
999\r
\r
onlyif mysql # aggregate syntax: \r
statement ok\r
SELECT mysql_only()\r
\r
onlyif voltdb # ours\r
query IT rowsort\r
SELECT a, b\r
  FROM t\r
----\r
1\r
x\r
2\r
(empty)\r
\r
query I valuesort\r
SELECT a FROM t3\r
----\r
5 values hashing to a7b1ac3a2b072f71a8e0d463bf4eb822\r
\r
query T valuesort\r
SELECT b FROM t2\r
----\r
a\r
b\r
c\r
\r
onlyif mssql # not us: this halt is ignored\r
halt\r
\r
query R nosort\r
SELECT 1.5\r
----\r
1.500\r
\r
skipif voltrs # also ignored\r
halt\r
\r
statement count 1\r
INSERT INTO t VALUES(3, 'z')\r
\r
halt\r
\r
statement ok\r
NEVER RUN\r
";

/// A file in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("voltrs-slt-{}-{name}.slt", std::process::id()));
        std::fs::write(&path, text).expect("write temporary file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temporary path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn rows(cols: usize, rows: Vec<Vec<Value>>) -> Result<Vec<Outcome>, String> {
    let columns = (0..cols)
        .map(|i| ResultColumn {
            name: format!("C{i}"),
            ty: DataType::BigInt,
        })
        .collect();
    Ok(vec![Outcome::Rows(ResultTable { columns, rows })])
}

/// Answers the script's SQL with canned results, in an order that needs sorting.
struct Fake;

impl Executor for Fake {
    fn execute(&mut self, sql: &str) -> Result<Vec<Outcome>, String> {
        match sql {
            "CREATE TABLE t(a INTEGER, b VARCHAR(10))" => Ok(vec![Outcome::Done("CREATE TABLE".into())]),
            "SELECT * FROM missing" => Err("no such table: MISSING".into()),
            "SELECT a, b\n  FROM t" => rows(
                2,
                vec![
                    vec![Value::Integer(2), Value::str("")],
                    vec![Value::Integer(1), Value::str("x")],
                ],
            ),
            "SELECT a FROM t3" => rows(1, [5, 3, 1, 4, 2].iter().map(|v| vec![Value::Integer(*v)]).collect()),
            "SELECT b FROM t2" => rows(1, ["c", "a", "b"].iter().map(|v| vec![Value::str(v)]).collect()),
            "SELECT 1.5" => rows(1, vec![vec![Value::Float(1.5)]]),
            "INSERT INTO t VALUES(3, 'z')" => Ok(vec![Outcome::Modified(1)]),
            other => Err(format!("unexpected SQL: {other}")),
        }
    }
}

#[test]
fn parses_and_plans_the_file() {
    let file = TempFile::new("parse", SCRIPT);
    let text = std::fs::read_to_string(file.path()).expect("read back");
    let script = parse(&text);
    assert_eq!(script.statement_count(), 5);
    assert_eq!(script.query_count(), 5);

    let skipped = &script.records[3];
    assert_eq!(skipped.line, 11);
    assert_eq!(skipped.conditions, vec![Condition::SkipIf("postgresql".into())]);
    assert_eq!(script.records[4].conditions, vec![Condition::OnlyIf("mysql".into())]);
    assert_eq!(
        script.records[2].kind,
        RecordKind::Statement {
            sql: "SELECT * FROM missing".into(),
            expect: StatementExpect::Error(ErrorExpect::Regex("no such table: \\w+".into())),
        }
    );
    match &script.records[5].kind {
        RecordKind::Query { sql, types, sort, .. } => {
            assert_eq!(sql, "SELECT a, b\n  FROM t");
            assert_eq!(types, "IT");
            assert_eq!(*sort, Some(SortMode::RowSort));
        }
        other => panic!("unexpected record {other:?}"),
    }

    let plan = plan(script);
    assert_eq!(plan.skipped, 2);
    assert_eq!(plan.test_count(), 7);
    assert_eq!(plan.halted_at, Some(56));
    assert!(plan.unknown.is_empty());
    let sqls: Vec<&str> = plan.items.iter().filter_map(|r| r.sql()).collect();
    assert!(!sqls.contains(&"NEVER RUN"));
    assert!(!sqls.contains(&"SELECT 999"));
}

#[test]
fn runs_the_file_against_a_fake_engine() {
    let file = TempFile::new("fake", SCRIPT);
    let text = std::fs::read_to_string(file.path()).expect("read back");
    let plan = plan(parse(&text));
    let mut state = State::default();
    let mut fake = Fake;
    let mut passed = 0;
    for record in &plan.items {
        match run_record(&mut fake, &mut state, record, std::time::Duration::from_secs(10)) {
            ItemResult::Passed => passed += 1,
            ItemResult::Setting => {}
            ItemResult::Failed(f) => panic!("line {} failed: {f:?}", f.line),
        }
    }
    assert_eq!(passed, 7);
    assert_eq!(state.hash_threshold, 4);
}

#[test]
fn binary_reports_record_counts() {
    let file = TempFile::new("binary", SCRIPT);
    let exe = env!("CARGO_BIN_EXE_voltrs-slt");

    let out = Command::new(exe)
        .args(["--parse-only", file.path()])
        .output()
        .expect("run voltrs-slt");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("5 statements, 5 queries; 7 to run, 2 skipped, 0 unknown, halt at line 56"),
        "{stdout}"
    );

    // Pass/fail depends on the engine; the counts do not.
    let out = Command::new(exe)
        .args(["--timeout", "20", file.path()])
        .output()
        .expect("run voltrs-slt");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with(file.path()) && l.ends_with("s)"))
        .unwrap_or_else(|| panic!("no summary line in {stdout}"));
    let numbers: Vec<usize> = summary[file.path().len()..]
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect();
    assert_eq!(numbers[0] + numbers[1], 7, "{summary}");
    assert_eq!(numbers[2], 2, "{summary}");
    let last = stdout.lines().last().unwrap_or("");
    assert_eq!(last, format!("{} passed, {} failed", numbers[0], numbers[1]));
    assert_eq!(out.status.success(), numbers[1] == 0);
}

#[test]
fn binary_rejects_missing_files_and_bad_options() {
    let exe = env!("CARGO_BIN_EXE_voltrs-slt");
    let out = Command::new(exe)
        .arg("/nonexistent/voltrs-slt/missing.test")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("cannot read"), "{stdout}");
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");

    let out = Command::new(exe).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(exe)
        .args(["--timeout", "abc", "x.test"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
