//! Engine-dependent checks: run small scripts and a corpus file through the real engine.
//!
//! These fail while `voltrs-engine` is a stub (every statement returns "engine stub"); they are
//! meant to pass once the engine executes SQL. Run with `cargo test -p voltrs-slt --test engine`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use voltrs_slt::runner::{Options, run_file};

/// A file in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("voltrs-slt-engine-{}-{name}.slt", std::process::id()));
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

/// Statements, counts, every type letter, sort modes, hashing, NULL and '' formatting, errors.
const SCRIPT: &str = "hash-threshold 8

statement ok
CREATE TABLE t1(a INTEGER NOT NULL, b INTEGER, c VARCHAR(20), d FLOAT)

statement count 1
INSERT INTO t1 VALUES(1, 10, 'one', 1.5)

statement count 1
INSERT INTO t1 VALUES(2, NULL, '', -2.25)

statement count 1
INSERT INTO t1 VALUES(3, 30, 'three', NULL)

query IIT rowsort
SELECT a, b, c FROM t1
----
1
10
one
2
NULL
(empty)
3
30
three

query IT rowsort
SELECT a, c FROM t1 WHERE a >= 2
----
2 (empty)
3 three

query R nosort
SELECT d FROM t1 ORDER BY a
----
1.500
-2.250
NULL

query I nosort
SELECT COUNT(*) FROM t1
----
3

query I valuesort
SELECT a + b FROM t1
----
11
33
NULL

query IIT nosort
SELECT a, b, c FROM t1 ORDER BY a
----
9 values hashing to de37576313bdcceb5f9caa1e9479df7b

query I nosort
SELECT a FROM t1 WHERE a > 100
----

query I nosort
SELECT a FROM t1 WHERE a < 0

statement error
SELECT * FROM no_such_table

statement error (?i)no_such_table
SELECT zzz FROM no_such_table

query error
SELECT nope FROM t1

onlyif mysql # not us
statement ok
THIS IS NOT SQL

skipif voltdb # us
statement ok
THIS IS NOT SQL EITHER

statement count 1
DELETE FROM t1 WHERE a = 3

query I rowsort
SELECT a FROM t1
----
1
2

onlyif sqlite # not us: ignored
halt

statement ok
DROP TABLE t1

halt

statement ok
THIS IS NEVER RUN
";

fn options(partition_first_column: bool) -> Options {
    Options {
        partitions: 2,
        partition_first_column,
        timeout: Duration::from_secs(30),
        verbose: true,
        plan_cache: true,
    }
}

#[test]
fn small_script_passes() {
    let file = TempFile::new("small", SCRIPT);
    for pfc in [false, true] {
        let mut out = Vec::new();
        let summary = run_file(file.path(), &options(pfc), &mut out);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(summary.failed, 0, "partition_first_column={pfc}:\n{text}");
        assert_eq!(summary.passed, 18, "partition_first_column={pfc}:\n{text}");
        assert_eq!(summary.skipped, 2, "partition_first_column={pfc}:\n{text}");
    }
}

#[test]
fn wrong_expectations_fail() {
    let script = "statement ok
CREATE TABLE t(a INTEGER)

statement ok
INSERT INTO t VALUES(1)

query I nosort
SELECT a FROM t
----
2

statement ok
SELECT * FROM no_such_table

statement error
SELECT a FROM t

statement error constraint
SELECT * FROM no_such_table

statement count 5
INSERT INTO t VALUES(2)
";
    let file = TempFile::new("wrong", script);
    let mut out = Vec::new();
    let summary = run_file(file.path(), &options(false), &mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!((summary.passed, summary.failed), (2, 5), "{text}");
    assert!(text.contains(&format!("{}:7: wrong result", file.path())), "{text}");
}

#[test]
fn binary_exit_status() {
    let file = TempFile::new("exit", SCRIPT);
    let exe = env!("CARGO_BIN_EXE_voltrs-slt");
    let out = Command::new(exe)
        .args(["--partitions", "2", file.path()])
        .output()
        .expect("run voltrs-slt");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.ends_with("18 passed, 0 failed\n"), "{stdout}");
}

/// The SQLite corpus file `select1.test` (31 statements, 1000 queries): the first conformance
/// target. Skipped silently when the shared corpus is not present on this machine.
#[test]
fn corpus_select1() {
    let path = "/work/shared/slt/select1.test";
    if !std::path::Path::new(path).exists() {
        return;
    }
    let mut out = Vec::new();
    let mut opts = options(false);
    opts.verbose = false;
    let summary = run_file(path, &opts, &mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!((summary.passed, summary.failed), (1031, 0), "{text}");
}
