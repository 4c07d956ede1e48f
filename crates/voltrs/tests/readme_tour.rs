//! The README's SQL tour works exactly as written: its SQL, piped through the real binary,
//! prints exactly the output the README shows (with any partition count).

use std::process::Command;

fn between<'a>(text: &'a str, start: &str, from: usize) -> (&'a str, usize) {
    let open = text[from..]
        .find(start)
        .map(|i| from + i + start.len())
        .expect("README block start");
    let close = text[open..].find("```").map(|i| open + i).expect("README block end");
    (&text[open..close], close + 3)
}

#[test]
fn readme_tour_output_matches() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    let tour_at = readme.find("## A short SQL tour").expect("tour section");
    let (sql, after) = between(&readme, "```sql\n", tour_at);
    let (expected, _) = between(&readme, "```text\n", after);
    let dir = std::env::temp_dir().join(format!("voltrs-tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("tour.sql");
    std::fs::write(&script, sql).expect("write tour");
    for sites in ["1", "2", "8"] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "\"{}\" start --sites {sites} < \"{}\" 2>&1",
                env!("CARGO_BIN_EXE_voltrs"),
                script.display()
            ))
            .output()
            .expect("run voltrs");
        assert_eq!(out.status.code(), Some(1), "one tour statement fails on purpose");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "tour output with --sites {sites}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
