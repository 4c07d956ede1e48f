//! `voltrs check` on a real data folder, and snapshots through the real server: what the
//! check reports for a sound folder and for a damaged log, and a restart that starts from
//! a snapshot and replays only the log after it.

mod common;

use std::process::Command;

use common::{Server, psql, temp_dir};

fn check(dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["check", &dir.display().to_string()])
        .output()
        .expect("voltrs check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sql(server: &Server, script: &str) -> String {
    let (ok, out) = psql(server, &["-A", "-t"], None, script);
    assert!(ok, "{out}\nserver stderr:\n{}", server.stderr());
    out
}

#[test]
fn check_reports_a_sound_folder_and_names_damage() {
    let dir = temp_dir("check");
    {
        let mut server = Server::start_in(&dir, &["--sites", "2"]);
        sql(
            &server,
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(20));\n\
             INSERT INTO t VALUES (1, 'one');\nINSERT INTO t VALUES (2, 'two');\nINSERT INTO t VALUES (3, 'three');",
        );
        let (ok, report) = check(&dir);
        assert!(ok, "{report}");
        assert!(report.contains("in use: yes"), "{report}");
        server.kill9();
    }
    let (ok, report) = check(&dir);
    assert!(ok, "{report}");
    assert!(report.contains("partitions: 2"), "{report}");
    assert!(report.contains("4 records (LSN 1 to 4)"), "{report}");
    assert!(report.contains("4 SQL transactions"), "{report}");
    assert!(report.contains("ok: recovery can use this folder"), "{report}");

    // Damage in the middle of the log: check and start both name the file and offset.
    let segment = std::fs::read_dir(dir.join("log"))
        .expect("log folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "vlog"))
        .expect("a segment");
    let mut bytes = std::fs::read(&segment).expect("segment");
    bytes[60] ^= 0x10;
    std::fs::write(&segment, &bytes).expect("write");
    let (ok, report) = check(&dir);
    assert!(!ok, "{report}");
    assert!(report.contains("damage:") && report.contains("offset"), "{report}");
    let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(Server::start_args(&dir, &[]))
        .output()
        .expect("start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a damaged log was accepted: {stderr}");
    assert!(stderr.contains(&segment.display().to_string()), "{stderr}");
    assert!(stderr.contains("offset 32"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_restart_starts_from_the_snapshot_and_replays_the_log_after_it() {
    let dir = temp_dir("snapshot");
    {
        let mut server = Server::start_in(&dir, &["--sites", "2"]);
        sql(
            &server,
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v INTEGER);\n\
             PARTITION TABLE t ON COLUMN id;\n\
             CREATE VIEW v_by (v, n) AS SELECT v, COUNT(*) FROM t GROUP BY v;",
        );
        let inserts: String = (0..200)
            .map(|i| format!("INSERT INTO t VALUES ({i}, {});\n", i % 7))
            .collect();
        sql(&server, &inserts);
        let saved = sql(&server, "EXEC @SnapshotSave;");
        assert!(saved.contains("SUCCESS"), "{saved}");
        sql(&server, "DELETE FROM t WHERE id < 50;\nINSERT INTO t VALUES (1000, 1);");
        server.kill9();
    }
    let server = Server::start_in(&dir, &["--sites", "2"]);
    let stderr = server.stderr();
    assert!(stderr.contains("recovered 2 command-log records"), "{stderr}");
    assert_eq!(sql(&server, "SELECT COUNT(*) FROM t;").trim(), "151");
    assert_eq!(sql(&server, "SELECT SUM(n) FROM v_by;").trim(), "151");
    let scan = sql(&server, "EXEC @SnapshotScan;");
    assert!(scan.contains("MANUAL_") && scan.contains("TRUE"), "{scan}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
