//! `voltrs bench` runs every workload against a real server and prints one line per
//! in-flight count (short runs: this checks that it works, not how fast).

mod common;

use std::process::Command;

use common::Server;

#[test]
fn bench_prints_a_line_per_in_flight_count_for_every_workload() {
    let server = Server::start(&[]);
    let port = server.client.to_string();
    for workload in ["ping", "select", "adhoc-select", "insert"] {
        let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
            .args(["bench", workload, "--servers", "127.0.0.1", "--port", &port])
            .args(["--in-flight", "1,8", "--seconds", "0.2", "--rows", "100"])
            .output()
            .expect("run voltrs bench");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{stdout}");
        assert!(lines[0].starts_with(&format!("voltrs bench {workload} against 127.0.0.1:{port}")));
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["in_flight", "calls", "calls/s", "p50_us", "p99_us", "max_us"]
        );
        for (line, in_flight) in lines[2..].iter().zip([1, 8]) {
            let figures: Vec<u64> = line.split_whitespace().map(|f| f.parse().expect("a number")).collect();
            assert_eq!(figures[0], in_flight, "{line}");
            assert!(figures[1] > 0, "some calls completed: {line}");
            assert!(
                figures[3] <= figures[4] && figures[4] <= figures[5],
                "p50 <= p99 <= max: {line}"
            );
        }
    }
}
