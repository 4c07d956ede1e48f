//! `voltrs start`: ports, flags, start-up errors and stopping.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Server;

#[test]
fn a_taken_port_is_a_start_up_error_naming_it() {
    let first = Server::start(&[]);
    let taken = first.client.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args([
            "start",
            "--client-port",
            &taken,
            "--admin-port",
            "0",
            "--http-port",
            "0",
        ])
        .args(["--dir", &common::temp_dir("taken").display().to_string()])
        .output()
        .expect("run voltrs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on the client port {taken}")),
        "{err}"
    );
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for signal in ["TERM", "INT"] {
        let mut s = Server::start(&[]);
        let pid = s.child.id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        let status = s.wait_exit(Duration::from_secs(10)).expect("server exits");
        assert!(status.success(), "exit status {status:?} after SIG{signal}");
        assert!(
            s.stderr().contains(&format!("stopping (SIG{signal})")),
            "{}",
            s.stderr()
        );
    }
}

#[test]
fn a_bad_config_file_is_an_error_naming_the_key() {
    let path = common::temp_dir("config").with_extension("toml");
    std::fs::write(&path, "[server]\nclient_prot = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["start", "--config", &path.display().to_string()])
        .output()
        .expect("run voltrs");
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("client_prot"), "{err}");
}
