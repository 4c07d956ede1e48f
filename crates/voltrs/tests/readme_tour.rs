//! The README's SQL tour works exactly as written: its SQL, piped through `voltrs sql`
//! into a server started with `voltrs start`, prints exactly the output the README shows
//! (with any partition count).

mod common;

use std::process::Command;

use common::Server;

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
    let script = common::temp_dir("tour").with_extension("sql");
    std::fs::write(&script, sql).expect("write tour");
    for sites in ["1", "2", "8"] {
        let server = Server::start(&["--sites", sites]);
        // As the README says to run it, standard error (the failing statement's message)
        // merged into standard output.
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "\"{}\" sql --port {} --continue-on-error < \"{}\" 2>&1",
                env!("CARGO_BIN_EXE_voltrs"),
                server.client,
                script.display()
            ))
            .output()
            .expect("run voltrs sql");
        assert_eq!(out.status.code(), Some(0), "--continue-on-error exits 0");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "tour output with --sites {sites}"
        );
    }
    let _ = std::fs::remove_file(&script);
}
