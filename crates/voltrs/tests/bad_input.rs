//! Broken, hostile and slow clients against the real server. Each case gets a clear error
//! answer or a clean close, and afterwards the server still serves a well-behaved client
//! and has not panicked ([`assert_healthy`]).

mod common;
#[path = "bad_input/raw.rs"]
mod raw;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use common::Server;
use raw::{Raw, frame, invocation, login_frame};
use voltrs_storage::Value;
use voltrs_wire::codec::{self, Table, VoltType, status};

/// A server with `config` (TOML, may be empty) and table `T (ID INTEGER, V VARCHAR)`.
fn start(config: &str) -> Server {
    let s = Server::start_with_config(config, &[]);
    Raw::login(s.client)
        .sql("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(5000)); PARTITION TABLE t ON COLUMN id;");
    s
}

static NEXT_ID: AtomicI64 = AtomicI64::new(1_000_000);

/// Inserts and reads back a row through a fresh connection; the server is alive and has
/// not panicked.
fn assert_healthy(s: &mut Server) {
    assert!(s.alive(), "the server exited:\n{}", s.stderr());
    let mut c = Raw::login(s.client);
    assert_eq!(c.call("@Ping", &[]).status, status::SUCCESS);
    works(&mut c);
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}

/// One insert and its select on `c`, both successful.
fn works(c: &mut Raw) {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let r = c.call("T.insert", &[Value::Integer(id), Value::str("ok")]);
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
    let r = c.call("T.select", &[Value::Integer(id)]);
    assert_eq!(r.tables[0].rows, vec![vec![Value::Integer(id), Value::str("ok")]]);
}

/// `bytes` on a fresh connection get the two-byte login failure `code`, then a close.
fn login_refused(port: u16, bytes: &[u8], code: i8, case: &str) {
    let mut c = Raw::connect(port);
    c.send(bytes);
    assert_eq!(c.frame(), Some(vec![0, code as u8]), "{case}");
    assert!(c.is_closed(), "{case}");
}

/// The answer to a call that could not be decoded: GRACEFUL_FAILURE with `message`.
fn assert_refused(r: &codec::Response, handle: i64, message: &str) {
    assert_eq!((r.handle, r.status), (handle, status::GRACEFUL_FAILURE), "{r:?}");
    let got = r.status_string.as_deref().unwrap_or_default();
    assert!(got.contains(message), "{got:?} does not contain {message:?}");
}

#[test]
fn truncated_frames_are_dropped_cleanly() {
    let mut s = start("");
    // A login cut inside its length, and inside its body.
    Raw::connect(s.client).send(&[0, 0]);
    Raw::connect(s.client).send(&login_frame()[..20]);
    // A call cut inside its length, and (after a whole call, which is answered) inside
    // its body.
    Raw::login(s.client).send(&[0, 0, 0]);
    let mut c = Raw::login(s.client);
    let handle = c.send_call("@Ping", &[]);
    let cut = frame(&invocation(
        b"T.insert",
        2,
        &[0, 2, 5, 0, 0, 0, 1, 9, 0, 0, 0, 2, b'o', b'k'],
    ));
    c.send(&cut[..cut.len() - 3]);
    assert_eq!(c.response().handle, handle);
    drop(c);
    assert_healthy(&mut s);
    let r = Raw::login(s.client).call("T.select", &[Value::Integer(1)]);
    assert!(r.tables[0].rows.is_empty(), "the cut call must not run");
}

#[test]
fn malformed_logins_are_refused_and_closed() {
    let mut s = start("");
    let service = |name: &str| {
        let mut b = (name.len() as i32).to_be_bytes().to_vec();
        b.extend_from_slice(name.as_bytes());
        b
    };
    let login = |head: &[u8], user: &[u8], digest: usize| {
        let mut b = head.to_vec();
        b.extend(service("database"));
        b.extend_from_slice(user);
        b.extend(vec![0; digest]);
        frame(&b)
    };
    let format = 3; // WIRE_PROTOCOL_FORMAT_ERROR
    let cases: Vec<(&str, Vec<u8>, i8)> = vec![
        ("login version 7", frame(&[7, 1]), format),
        ("hash scheme 9", login(&[1, 9], &[0, 0, 0, 0], 32), format),
        ("NULL service", frame(&[1, 1, 0xff, 0xff, 0xff, 0xff]), format),
        ("negative string length", frame(&[1, 1, 0xff, 0xff, 0xff, 0xf0]), format),
        ("string past the end", frame(&[1, 1, 0, 0, 0, 50, b'd']), format),
        (
            "user name not UTF-8",
            login(&[1, 1], &[0, 0, 0, 2, 0xff, 0xfe], 32),
            format,
        ),
        ("empty frame", vec![0, 0, 0, 0], format),
        ("negative length", vec![0xff, 0xff, 0xff, 0xff], format),
        ("a login over 64 KiB", vec![0, 2, 0, 0], format),
        ("an HTTP request", b"GET ".to_vec(), format),
        (
            "unknown service",
            frame(&[[1u8, 1].as_slice(), &service("export"), &[0; 4], &[0; 32]].concat()),
            5,
        ),
        // As VoltDB: a digest of the wrong length is an authentication failure.
        ("SHA-256 with a 20-byte digest", login(&[1, 1], &[0, 0, 0, 0], 20), -1),
        ("SHA-1 with a 32-byte digest", login(&[0], &[0, 0, 0, 0], 32), -1),
    ];
    for (case, bytes, code) in cases {
        login_refused(s.client, &bytes, code, case);
    }
    assert_healthy(&mut s);
}

#[test]
fn wrong_invocation_versions_close_or_are_answered() {
    let mut s = start("");
    // Version 5: the layout after the version byte is unknown, so is the handle: the
    // connection is closed, as VoltDB does, with the reason on standard error.
    let mut bad = Raw::login(s.client);
    bad.send(&frame(&[&[5u8][..], &invocation(b"@Ping", 3, &[0, 0])[1..]].concat()));
    assert!(bad.is_closed(), "version 5");
    let mut c = Raw::login(s.client);
    // Version 2 skips an unknown extension (type 9, 4 bytes) and runs the call ...
    let mut v2 = vec![2];
    v2.extend_from_slice(&invocation(b"@Ping", 4, &[])[1..]);
    v2.extend_from_slice(&[1, 9, 3, 0, 0, 0, 0, 0, 0]);
    c.send(&frame(&v2));
    let r = c.response();
    assert_eq!((r.handle, r.status), (4, status::SUCCESS));
    // ... and refuses batch calls (extension 4) on their handle.
    let mut batch = vec![2];
    batch.extend_from_slice(&invocation(b"@Ping", 5, &[])[1..]);
    batch.extend_from_slice(&[1, 4, 0, 0, 0]);
    c.send(&frame(&batch));
    assert_refused(&c.response(), 5, "BATCH_CALL");
    // Version 1 with a batch timeout.
    let mut v1 = vec![1, 1, 0, 0, 0x27, 0x10];
    v1.extend_from_slice(&invocation(b"@Ping", 6, &[0, 0])[1..]);
    c.send(&frame(&v1));
    let r = c.response();
    assert_eq!((r.handle, r.status), (6, status::SUCCESS));
    works(&mut c);
    assert_healthy(&mut s);
}

#[test]
fn lengths_over_the_maximum_or_not_positive_close_the_connection() {
    let mut s = start("[limits]\nmax_message_bytes = 4096\n");
    // Just under the limit is served.
    let mut c = Raw::login(s.client);
    let r = c.call("T.insert", &[Value::Integer(1), Value::str(&"x".repeat(4000))]);
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
    for (header, why) in [
        (
            4097i32,
            "message of 4097 bytes is over the maximum message size of 4096 bytes",
        ),
        (i32::MAX, "over the maximum message size"),
        (0, "invalid frame length 0"),
        (-1, "invalid frame length -1"),
        (i32::MIN, "invalid frame length -2147483648"),
    ] {
        let mut c = Raw::login(s.client);
        c.send(&header.to_be_bytes());
        assert!(c.is_closed(), "length {header}");
        // Standard error reaches us through a pipe and a thread: give it a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !s.stderr().contains(why) {
            assert!(Instant::now() < deadline, "{why}: {}", s.stderr());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert_healthy(&mut s);
}

#[test]
fn invalid_utf8_is_answered_with_an_error() {
    let mut s = start("");
    let mut c = Raw::login(s.client);
    c.send(&frame(&invocation(&[b'T', 0xff, 0xfe], 7, &[0, 0])));
    assert_refused(&c.response(), 7, "procedure name at offset 5 is not valid UTF-8");
    // In a string parameter: a stray byte, a cut "é", an overlong NUL, a surrogate.
    for (handle, bad) in [
        (8, &[0xffu8][..]),
        (9, &[0xc3]),
        (10, &[0xc0, 0x80]),
        (11, &[0xed, 0xa0, 0x80]),
    ] {
        let mut params = vec![0, 2, 5, 0, 0, 0, 99, 9];
        params.extend_from_slice(&(bad.len() as i32).to_be_bytes());
        params.extend_from_slice(bad);
        c.send(&frame(&invocation(b"T.insert", handle, &params)));
        assert_refused(&c.response(), handle, "STRING at offset 33 is not valid UTF-8");
    }
    assert!(c.call("T.select", &[Value::Integer(99)]).tables[0].rows.is_empty());
    works(&mut c);
    assert_healthy(&mut s);
}

#[test]
fn unknown_and_unsupported_parameters_are_answered_with_an_error() {
    let mut s = start("");
    let mut c = Raw::login(s.client);
    let mut table = Vec::new();
    Table {
        columns: vec![codec::Column {
            name: "A".into(),
            ty: VoltType::Integer,
        }],
        rows: vec![vec![Value::Integer(1)]],
    }
    .encode(&mut table);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0, 1, 42], "unknown parameter type 42"),
        (vec![0, 1, 20, 0, 0, 0, 0, 0, 0, 0, 0], "unknown parameter type 20"), // MONEY
        (vec![0, 1, 27, 0, 0, 0, 0], "GEOGRAPHY values are not supported"),
        (vec![0, 1, 0x9d, 99], "unknown parameter type 99"),
        (vec![0, 1, 0x9d, 21, 0, 0], "arrays of VOLTTABLE are not supported"),
        (vec![0, 1, 0x9d, 5], "truncated"), // the Python client's empty list
        (
            vec![0, 2, 5, 0, 0, 0, 1, 0x9d, 5, 0, 1, 0, 0, 0, 2],
            "array parameters are not supported",
        ),
        (
            [&[0u8, 1, 21][..], &table].concat(),
            "VOLTTABLE parameters are accepted only by the bulk-load",
        ),
        (vec![0xff, 0xff], "invalid length -1 for parameter count"),
        (vec![3, 0xe8], "invalid length 1000 for parameter count"),
        (vec![0, 1, 5, 0, 0, 0, 1, 0xab], "1 bytes after the last parameter"),
        (vec![0, 1, 6, 0, 0], "BIGINT needs 8 bytes"),
    ];
    for (handle, (params, message)) in (20..).zip(&cases) {
        c.send(&frame(&invocation(b"T.select", handle, params)));
        assert_refused(&c.response(), handle, message);
    }
    works(&mut c);
    assert_healthy(&mut s);
}

#[test]
fn a_client_gone_mid_call_does_not_disturb_the_server() {
    // The slow statement ends at the query timeout at the latest.
    let mut s = start("[limits]\nquery_timeout_ms = 2000\n");
    let mut c = Raw::login(s.client);
    c.sql("CREATE TABLE r (id INTEGER NOT NULL);");
    let handles: Vec<i64> = (0..500)
        .flat_map(|i| [("T.insert", i), ("R.insert", i)])
        .map(|(p, i)| {
            let params = if p == "R.insert" {
                vec![Value::Integer(i)]
            } else {
                vec![Value::Integer(i), Value::str("x")]
            };
            c.send_call(p, &params)
        })
        .collect();
    for _ in &handles {
        assert_eq!(c.response().status, status::SUCCESS);
    }
    // A multi-partition read of 500 x 500 x 500 rows (seconds, or the timeout), then the
    // client is gone while it runs.
    let mut gone = Raw::login(s.client);
    let started = Instant::now();
    gone.send_call(
        "@AdHoc",
        &[Value::str(
            "SELECT COUNT(*) FROM t, r a, r b WHERE t.id + a.id + b.id < 0",
        )],
    );
    std::thread::sleep(Duration::from_millis(200));
    drop(gone);
    // The others go on: a single-partition call now, a multi-partition one after it.
    works(&mut c);
    assert_eq!(c.sql("SELECT COUNT(*) FROM r"), vec![vec![Value::Integer(500)]]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_healthy(&mut s);
}

/// Raises this process's open-file limit (the server inherits it) to at least `want`.
fn raise_open_file_limit(want: u64) {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut l), 0);
        if l.rlim_cur < want {
            assert!(
                l.rlim_max >= want,
                "the hard open-file limit {} is under {want}",
                l.rlim_max
            );
            l.rlim_cur = want;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &l), 0);
        }
    }
}

#[test]
fn a_thousand_idle_connections_do_not_stop_a_working_client() {
    // 1000 sockets here and 1000 in the server: over the common default of 1024.
    raise_open_file_limit(4096);
    let mut s = start("");
    let mut idle: Vec<Raw> = (0..1000)
        .map(|_| {
            let mut c = Raw::connect(s.client);
            c.send(&login_frame());
            c
        })
        .collect();
    for c in &mut idle {
        assert_eq!(&c.frame().expect("login answer")[..2], &[0, 0]);
    }
    let mut c = Raw::login(s.client);
    let started = Instant::now();
    for _ in 0..200 {
        let t = Instant::now();
        works(&mut c);
        assert!(t.elapsed() < Duration::from_secs(2), "a call took {:?}", t.elapsed());
    }
    println!(
        "200 inserts and selects beside 1000 idle connections: {:?}",
        started.elapsed()
    );
    // Every idle connection is still served.
    let handles: Vec<i64> = idle.iter_mut().map(|c| c.send_call("@Ping", &[])).collect();
    for (c, h) in idle.iter_mut().zip(handles) {
        let r = c.response();
        assert_eq!((r.handle, r.status), (h, status::SUCCESS));
    }
    drop(idle);
    assert_healthy(&mut s);
}

#[test]
fn a_client_sending_one_byte_at_a_time_does_not_hold_up_others() {
    let mut s = start("");
    let mut slow = Raw::login(s.client);
    let mut ping = Vec::new();
    codec::encode_invocation(&mut ping, "@Ping", 42, None, &[]);
    let mut fast = Raw::login(s.client);
    // A byte every 100 ms (24 bytes: 2.4 s), with calls on another connection between.
    for b in &ping {
        std::thread::sleep(Duration::from_millis(100));
        slow.send(&[*b]);
        let t = Instant::now();
        works(&mut fast);
        assert!(t.elapsed() < Duration::from_secs(1), "a call took {:?}", t.elapsed());
    }
    let r = slow.response();
    assert_eq!((r.handle, r.status), (42, status::SUCCESS));
    assert_healthy(&mut s);
}

#[test]
fn a_slow_or_missing_login_is_closed_by_the_login_timeout() {
    let mut s = start("[limits]\nlogin_timeout_ms = 500\n");
    let started = Instant::now();
    let mut silent = Raw::connect(s.client);
    let mut slow = Raw::connect(s.client);
    // Bytes arriving do not extend the time allowed for the whole login.
    for b in &login_frame()[..3] {
        slow.send(&[*b]);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Others log in and work meanwhile.
    works(&mut Raw::login(s.client));
    for c in [&mut slow, &mut silent] {
        assert_eq!(c.frame(), Some(vec![0, 2]), "WIRE_PROTOCOL_TIMEOUT_ERROR");
        assert!(c.is_closed());
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_healthy(&mut s);
}
