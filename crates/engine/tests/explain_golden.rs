//! EXPLAIN golden files: each `tests/explain/*.sql` script runs through a fresh database
//! (4 partitions); the plan lines of its EXPLAIN statements, each under its statement, must
//! equal the matching `.out` file. `UPDATE_GOLDEN=1` rewrites the `.out` files instead.
//!
//! Statements are separated by a `;` at the end of a line; lines starting with `--` are
//! comments. Statements other than EXPLAIN (schema, data) must succeed and print nothing.

use std::path::{Path, PathBuf};

use voltrs_engine::{Config, Database, Outcome};
use voltrs_storage::text::render;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/explain")
}

fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        if line.trim_start().starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            out.push(current.trim().trim_end_matches(';').trim().to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

fn explain_output(path: &Path) -> String {
    let script = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let db = Database::open(Config::with_partitions(4)).expect("open");
    let mut s = db.session();
    let mut out = String::new();
    for stmt in statements(&script) {
        let result = s
            .execute_sql(&stmt)
            .unwrap_or_else(|e| panic!("{}: {stmt}: {e}", path.display()));
        if !stmt.to_uppercase().starts_with("EXPLAIN") {
            continue;
        }
        out.push_str(&format!("-- {}\n", stmt.replace('\n', " ")));
        for o in result {
            if let Outcome::Rows(t) = o {
                for row in &t.rows {
                    let line: Vec<String> = row.iter().map(|v| render(v).unwrap_or_default()).collect();
                    out.push_str(&line.join(" "));
                    out.push('\n');
                }
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn explain_goldens() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/explain")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no tests/explain/*.sql");
    let mut failures = Vec::new();
    for sql in scripts {
        let got = explain_output(&sql);
        let golden = sql.with_extension("out");
        if update {
            std::fs::write(&golden, &got).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{} differs from {} (UPDATE_GOLDEN=1 rewrites it):\n--- expected\n{want}\n--- got\n{got}",
                sql.display(),
                golden.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
