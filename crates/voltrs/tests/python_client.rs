//! The acceptance test with VoltDB's own Python client: tests/python/test_voltdb_client.py
//! run against two real servers (security off, and on with users), with the client that
//! scripts/setup-python-client installs into target/pyenv (this test runs the script, which
//! returns at once when the client is already there). Fails with the script's output.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

/// The script must finish well within this (it takes a few seconds).
const SCRIPT_LIMIT: Duration = Duration::from_secs(120);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs scripts/setup-python-client; the directory to put on PYTHONPATH.
fn install_client() -> PathBuf {
    let root = repo_root();
    let out = Command::new(root.join("scripts/setup-python-client"))
        .output()
        .expect("run scripts/setup-python-client");
    assert!(
        out.status.success(),
        "scripts/setup-python-client failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    root.join("target/pyenv")
}

#[test]
fn voltdb_python_client_works_unchanged() {
    let pythonpath = install_client();
    let open = Server::start(&[]);
    // The users test_voltdb_client.py logs in as (its SECURE_USERS).
    let secure = Server::start_secure();

    let mut child = Command::new(python())
        .arg(repo_root().join("tests/python/test_voltdb_client.py"))
        .arg(open.client.to_string())
        .arg(secure.client.to_string())
        .env("PYTHONPATH", &pythonpath)
        .env("TZ", "UTC")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3 (set PYTHON to choose the interpreter)");
    // Drain both pipes in the background so the script never blocks on a full one.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + SCRIPT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!(
        "--- stdout\n{}--- stderr\n{}--- server stderr (security off)\n{}--- server stderr (security on)\n{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
        open.stderr(),
        secure.stderr()
    );
    match status {
        None => panic!("the Python test ran over {SCRIPT_LIMIT:?}\n{output}"),
        Some(s) => assert!(s.success(), "the Python test failed ({s})\n{output}"),
    }
    for s in [&open, &secure] {
        assert!(!s.stderr().contains("panicked"), "{output}");
    }
    println!("{output}");
}
