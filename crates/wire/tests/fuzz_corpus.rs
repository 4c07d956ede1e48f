//! Replays the fuzz corpus (fuzz/corpus/<target>/) through the fuzz targets' own checks
//! (fuzz/checks.rs) on stable, so CI runs every committed seed and every input a fuzzing
//! run saved. Seeds named `ok-*` must decode, `bad-*` must be refused with an error; any
//! other file must only not panic.

#[path = "../../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

type Check = fn(&[u8]) -> Result<(), String>;

fn replay(target: &str, check: Check) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    let (mut ok, mut bad) = (0, 0);
    for path in &files {
        let data = std::fs::read(path).expect("read corpus file");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let result = std::panic::catch_unwind(|| check(&data)).unwrap_or_else(|_| panic!("{target}/{name} panicked"));
        if name.starts_with("ok-") {
            assert!(result.is_ok(), "{target}/{name} must decode: {result:?}");
            ok += 1;
        } else if name.starts_with("bad-") {
            assert!(result.is_err(), "{target}/{name} must be refused");
            bad += 1;
        }
    }
    assert!(ok >= 4 && bad >= 4, "{target}: too few seeds in {}", dir.display());
}

#[test]
fn invocation_corpus() {
    replay("invocation", |d| checks::invocation(d).map(|_| ()));
}

#[test]
fn login_corpus() {
    replay("login", checks::login);
}

#[test]
fn table_corpus() {
    replay("table", checks::table);
}
