//! The voter example (examples/voter) against the real binary: its procedures answer as
//! VoltDB's do, and `voltrs bench voter` runs against a fresh server and checks itself.

mod common;

use std::process::Command;

use common::{Server, sql};

const DDL: &str = include_str!("../../../examples/voter/ddl.sql");

/// The single value of an `exec` whose output is one 1×1 table (`-`, the value, `(1 row)`).
fn exec_value(server: &Server, exec: &str) -> String {
    let out = sql(server, &["--output-format", "csv"], exec);
    assert_eq!(out.code, Some(0), "{exec}: {}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{exec}: {}", out.stdout);
    lines[1].to_string()
}

#[test]
fn vote_returns_voltdbs_codes() {
    let server = Server::start(&[]);
    let load = sql(&server, &[], DDL);
    assert_eq!(load.code, Some(0), "{}{}", load.stdout, load.stderr);

    // Initialize loads 6 contestants and the area codes once; again, it changes nothing.
    let names = "'Edwina Burnam,Tabatha Gehling,Kelly Clauss,Jessie Alloway,Alana Bregman,Jessie Eichman'";
    assert_eq!(exec_value(&server, &format!("exec Initialize 6, {names};")), "6");
    assert_eq!(exec_value(&server, &format!("exec Initialize 3, {names};")), "6");
    let count = sql(
        &server,
        &["--output-format", "csv"],
        "SELECT COUNT(*) FROM area_code_state;",
    );
    assert_eq!(count.stdout.lines().nth(1), Some("305"), "{}", count.stdout);

    // 505 is New Mexico; 100 is no area code.
    for (vote, code) in [
        ("exec Vote 5055550101, 1, 2;", "0"),
        ("exec Vote 5055550101, 2, 2;", "0"),
        ("exec Vote 5055550101, 3, 2;", "2"),   // a third vote with a limit of 2
        ("exec Vote 5055550101, 3, 3;", "0"),   // allowed with a limit of 3
        ("exec Vote 6175550106, 999, 2;", "1"), // no contestant 999
        ("exec Vote 1005550106, 2, 2;", "0"),   // unknown area code: state XX
    ] {
        assert_eq!(exec_value(&server, vote), code, "{vote}");
    }
    let votes = sql(
        &server,
        &["--output-format", "csv"],
        "SELECT phone_number, state, contestant_number FROM votes ORDER BY phone_number, contestant_number;",
    );
    assert_eq!(
        votes.stdout,
        "PHONE_NUMBER,STATE,CONTESTANT_NUMBER\n1005550106,XX,2\n5055550101,NM,1\n5055550101,NM,2\n5055550101,NM,3\n",
    );

    let results = sql(&server, &["--output-format", "csv"], "exec Results;");
    assert_eq!(
        results.stdout,
        "CONTESTANT_NAME,CONTESTANT_NUMBER,TOTAL_VOTES\n\
         Tabatha Gehling,2,2\nEdwina Burnam,1,1\nKelly Clauss,3,1\n",
    );
    let heatmap = sql(&server, &["--output-format", "csv"], "exec GetStateHeatmap;");
    assert_eq!(
        heatmap.stdout,
        "STATE,CONTESTANT_NUMBER,NUM_VOTES\nNM,1,1\nNM,2,1\nNM,3,1\nXX,2,1\n\
         CONTESTANT_NUMBER,NUM_VOTES\n1,1\n2,2\n3,1\n",
    );
}

#[test]
fn bench_voter_runs_against_a_fresh_server_and_checks_itself() {
    let server = Server::start(&[]);
    let port = server.client.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["bench", "voter", "--servers", "127.0.0.1", "--port", &port])
        .args(["--duration", "2", "--warmup", "0", "--json"])
        .output()
        .expect("run voltrs bench voter");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("measured"), "progress lines on stderr: {stderr}");
    let last = stdout.lines().last().expect("a JSON line");
    let report: serde_json::Value = serde_json::from_str(last).expect("JSON");
    assert!(report["tps"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["accepted"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["failed"].as_u64(), Some(0), "{report}");
    assert_eq!(report["consistent"].as_bool(), Some(true), "{report}");
    for key in ["avg", "p50", "p95", "p99", "p999", "max"] {
        assert!(report["latency_ms"][key].as_f64().is_some(), "{key}: {report}");
    }
    let p = |k: &str| report["latency_ms"][k].as_f64().unwrap();
    assert!(p("p50") <= p("p99") && p("p99") <= p("max"), "{report}");

    // A second run finds the schema and the contestants in place.
    let again = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["bench", "voter", "--servers", "127.0.0.1", "--port", &port])
        .args(["--duration", "1", "--warmup", "0.5", "--ratelimit", "500"])
        .output()
        .expect("run voltrs bench voter again");
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(text.contains("consistency      ok"), "{text}");
}
