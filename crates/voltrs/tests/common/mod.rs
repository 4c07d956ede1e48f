//! Starts the real `voltrs` server for end-to-end tests: free ports (port 0), a temporary
//! data folder, killed and cleaned up on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub client: u16,
    pub admin: u16,
    pub http: u16,
    pub pg: u16,
    pub dir: PathBuf,
    /// Standard error, collected in the background.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    /// Whether dropping the server removes `dir` (not for [`Server::start_in`]).
    owns_dir: bool,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, unique temporary folder path (not created).
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("voltrs-test-{tag}-{}-{n}", std::process::id()))
}

impl Server {
    /// `voltrs start` on free ports with 2 sites and extra arguments. A port flag in
    /// `extra` (`--client-port 21300`) replaces that port's default of 0, so a test can
    /// restart a server on the port it had.
    pub fn start(extra: &[&str]) -> Server {
        Server::launch(temp_dir("server"), true, extra)
    }

    /// Like [`Server::start`], on the data folder `dir`, which outlives the server (the
    /// caller removes it): crash tests restart servers on one folder.
    pub fn start_in(dir: &std::path::Path, extra: &[&str]) -> Server {
        Server::launch(dir.to_path_buf(), false, extra)
    }

    /// The `voltrs start` arguments for `dir` and `extra` (free ports and 2 sites unless
    /// `extra` says otherwise).
    pub fn start_args(dir: &std::path::Path, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec!["start".into(), "--dir".into(), dir.display().to_string()];
        for flag in ["--client-port", "--admin-port", "--http-port", "--pg-port"] {
            if !extra.contains(&flag) {
                args.extend([flag.into(), "0".into()]);
            }
        }
        if !extra.contains(&"--sites") {
            args.extend(["--sites".into(), "2".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn launch(dir: PathBuf, owns_dir: bool, extra: &[&str]) -> Server {
        let args = Server::start_args(&dir, extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_voltrs"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start voltrs");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            line.clear();
            let n = out.read_line(&mut line).expect("read voltrs stdout");
            assert!(n > 0, "voltrs exited before listening: {}", stderr.lock().unwrap());
            if line.starts_with("voltrs listening") {
                break;
            }
            assert!(Instant::now() < deadline, "voltrs did not start");
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = out.read_to_string(&mut sink);
        });
        let port = |key: &str| -> u16 {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{key}=")))
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
        };
        Server {
            client: port("client"),
            admin: port("admin"),
            http: port("http"),
            pg: port("pg"),
            child,
            dir,
            stderr,
            owns_dir,
        }
    }

    /// What the server wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `limit` for the process to exit; its exit status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kills the process with SIGKILL (no shutdown, no flush: a crash) and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What a `voltrs sql` run printed.
pub struct Shell {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `voltrs sql` against `server` with `args`, feeding `stdin` (not a terminal, so
/// it runs as a script).
pub fn sql(server: &Server, args: &[&str], stdin: &str) -> Shell {
    use std::io::Write;
    let port = server.client.to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["sql", "--servers", "127.0.0.1", "--port", &port])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start voltrs sql");
    let mut input = child.stdin.take().expect("stdin");
    let script = stdin.to_string();
    // Written from a thread so a large script cannot block against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(script.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for voltrs sql");
    let _ = writer.join();
    Shell {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The users of tests that turn security on: `admin` / `secret` (administrator), `reader` /
/// `r` (role `readers`: sqlread only), `app` / `päss wörd` (user). tests/python/
/// test_voltdb_client.py logs in as admin and app.
pub const SECURE_USERS: &str = r#"
[security]
enabled = true

[[security.users]]
name = "admin"
password = "secret"
roles = ["administrator"]

[[security.users]]
name = "reader"
password = "r"
roles = ["readers"]

[[security.users]]
name = "app"
password = "päss wörd"
roles = ["user"]

[[security.roles]]
name = "readers"
permissions = ["sqlread"]
"#;

impl Server {
    /// `voltrs start` with a configuration file holding `toml` (written to a temporary
    /// file, removed once the server has read it) and extra arguments.
    pub fn start_with_config(toml: &str, extra: &[&str]) -> Server {
        let path = temp_dir("config").with_extension("toml");
        std::fs::write(&path, toml).expect("write config");
        let config = path.display().to_string();
        let mut args = vec!["--config", config.as_str()];
        args.extend_from_slice(extra);
        let server = Server::start(&args);
        let _ = std::fs::remove_file(&path);
        server
    }

    /// A server with security on and [`SECURE_USERS`].
    pub fn start_secure() -> Server {
        Server::start_with_config(SECURE_USERS, &[])
    }
}

/// Runs `script` through the real psql against `server`'s PostgreSQL port (no psqlrc,
/// errors do not stop it; `password` in PGPASSWORD): stdout then stderr, and whether
/// psql exited 0.
pub fn psql(server: &Server, args: &[&str], password: Option<&str>, script: &str) -> (bool, String) {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-h", "127.0.0.1", "-p", &server.pg.to_string()])
        .args(args)
        .env_remove("PGPASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let mut child = cmd.spawn().expect("run psql (scripts/setup-psql installs it)");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A Rust client connected to the server's client port.
pub async fn client(server: &Server) -> voltrs_client::Client {
    voltrs_client::Client::connect(voltrs_client::ClientConfig::new([format!(
        "127.0.0.1:{}",
        server.client
    )]))
    .await
    .expect("connect")
}

/// Runs `@AdHoc(sql)` and asserts it succeeded.
pub async fn adhoc(c: &voltrs_client::Client, sql: &str) -> voltrs_client::Response {
    let r = c
        .call("@AdHoc", vec![voltrs_client::Value::str(sql)])
        .await
        .expect("call @AdHoc");
    assert_eq!(r.status, voltrs_client::status::SUCCESS, "{sql}: {:?}", r.status_string);
    r
}
