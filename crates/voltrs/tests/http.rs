//! The HTTP port of the real server: VoltDB's JSON API (`/api/1.0/`, `/api/2.0/`), `/metrics`
//! and `/health`, through a small HTTP/1.1 client over `TcpStream`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Server;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// One HTTP answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request on a fresh connection and reads the whole answer.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the HTTP port");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the header");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = unchunk(&body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8(body).expect("UTF-8 body"),
    }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Percent-encodes a form or query component.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query string from name/value pairs.
fn query(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(n, v)| format!("{n}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn get(port: u16, path: &str) -> Answer {
    request(port, "GET", path, &[], b"")
}

fn post_form(port: u16, path: &str, fields: &[(&str, &str)]) -> Answer {
    request(
        port,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        query(fields).as_bytes(),
    )
}

/// Calls a procedure with GET on `/api/{version}/`; the HTTP status must be 200.
fn call(port: u16, version: &str, procedure: &str, params: Value) -> Value {
    let a = get(
        port,
        &format!(
            "/api/{version}/?{}",
            query(&[("Procedure", procedure), ("Parameters", &params.to_string())])
        ),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

/// Calls `@AdHoc` and insists that it succeeded.
fn adhoc(port: u16, sql: &str) -> Value {
    let r = call(port, "1.0", "@AdHoc", json!([sql]));
    assert_eq!(r["status"], 1, "{sql}: {r}");
    r
}

#[test]
fn sql_over_get_and_post_with_default_procedures() {
    let s = Server::start(&[]);
    adhoc(
        s.http,
        "CREATE TABLE T (ID INTEGER NOT NULL PRIMARY KEY, NAME VARCHAR(20));",
    );
    adhoc(s.http, "PARTITION TABLE T ON COLUMN ID;");

    // GET, with and without the trailing slash.
    let r = adhoc(s.http, "INSERT INTO T VALUES (1, 'one');");
    assert_eq!(r["results"][0]["data"], json!([[1]]));
    let a = get(
        s.http,
        &format!(
            "/api/1.0?{}",
            query(&[
                ("Procedure", "@AdHoc"),
                ("Parameters", r#"["INSERT INTO T VALUES (2, 'two')"]"#)
            ])
        ),
    );
    assert_eq!(a.json()["status"], 1, "{}", a.body);
    assert!(a.header("content-type").unwrap().starts_with("application/json"));

    // POST, form-encoded, on both versions.
    for (path, id) in [("/api/1.0/", 3), ("/api/2.0", 4)] {
        let sql = format!("INSERT INTO T VALUES ({id}, 'via post')");
        let a = post_form(
            s.http,
            path,
            &[("Procedure", "@AdHoc"), ("Parameters", &json!([sql]).to_string())],
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.json()["status"], 1, "{}", a.body);
    }

    // A default procedure with parameters, then a stored procedure.
    let r = call(s.http, "1.0", "T.insert", json!([5, "five"]));
    assert_eq!(r["status"], 1, "{r}");
    adhoc(s.http, "CREATE PROCEDURE NameOf AS SELECT NAME FROM T WHERE ID = ?;");
    let r = call(s.http, "2.0", "NameOf", json!([5]));
    assert_eq!(r["results"], json!({"0": [{"NAME": "five"}]}), "{r}");

    let r = call(s.http, "2.0", "@AdHoc", json!(["SELECT ID, NAME FROM T ORDER BY ID"]));
    assert_eq!(
        r["results"]["0"],
        json!([
            {"ID": 1, "NAME": "one"},
            {"ID": 2, "NAME": "two"},
            {"ID": 3, "NAME": "via post"},
            {"ID": 4, "NAME": "via post"},
            {"ID": 5, "NAME": "five"},
        ])
    );
    // A query string on a POST counts too.
    let a = request(
        s.http,
        "POST",
        &format!(
            "/api/1.0/?{}",
            query(&[("Procedure", "@AdHoc"), ("Parameters", r#"["SELECT COUNT(*) FROM T"]"#)])
        ),
        &[],
        b"",
    );
    assert_eq!(a.json()["results"][0]["data"], json!([[5]]), "{}", a.body);
}

#[test]
fn every_type_round_trips_in_both_shapes() {
    let s = Server::start(&[]);
    adhoc(
        s.http,
        "CREATE TABLE TYPES (ID INTEGER NOT NULL PRIMARY KEY, TI TINYINT, SI SMALLINT, I INTEGER, BI BIGINT, \
         F FLOAT, D DECIMAL, S VARCHAR(64), B VARBINARY(16), TS TIMESTAMP);",
    );
    adhoc(s.http, "PARTITION TABLE TYPES ON COLUMN ID;");
    let text = "héllo \"quoted\" 'single' ü€ \\ </script>\n";
    let rows = [
        json!([
            1,
            -127,
            -32767,
            -2147483647,
            -9223372036854775807i64,
            -1.5e300,
            "-99999999999999999999999999.999999999999",
            text,
            "00ff10",
            1_700_000_000_123_456i64
        ]),
        json!([
            2,
            127,
            32767,
            2147483647,
            9223372036854775807i64,
            1e20,
            "3.14",
            "",
            "",
            "2024-02-29 12:00:00.500000"
        ]),
        json!([3, null, null, null, null, null, null, null, null, null]),
        json!([4, 0, 0, 0, 0, 0.1, 0, "x", "ABCDEF", 0]),
    ];
    for row in &rows {
        let r = call(s.http, "1.0", "TYPES.insert", row.clone());
        assert_eq!(r["status"], 1, "{row}: {r}");
    }
    let select = json!(["SELECT * FROM TYPES ORDER BY ID"]);

    let v1 = get(
        s.http,
        &format!(
            "/api/1.0/?{}",
            query(&[("Procedure", "@AdHoc"), ("Parameters", &select.to_string())])
        ),
    );
    let r = v1.json();
    assert_eq!(
        (&r["status"], &r["appstatus"], &r["statusstring"], &r["appstatusstring"]),
        (&json!(1), &json!(-128), &Value::Null, &Value::Null)
    );
    let table = &r["results"][0];
    assert_eq!(table["status"], -128);
    let types: Vec<(String, i64)> = table["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["type"].as_i64().unwrap()))
        .collect();
    let want: Vec<(String, i64)> = [
        ("ID", 5),
        ("TI", 3),
        ("SI", 4),
        ("I", 5),
        ("BI", 6),
        ("F", 8),
        ("D", 22),
        ("S", 9),
        ("B", 25),
        ("TS", 11),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), *t))
    .collect();
    assert_eq!(types, want);
    let data = &table["data"];
    assert_eq!(
        data[0],
        json!([
            1,
            -127,
            -32767,
            -2147483647,
            -9223372036854775807i64,
            -1.5e300,
            "-99999999999999999999999999.999999999999",
            text,
            "00FF10",
            1_700_000_000_123_456i64
        ])
    );
    assert_eq!(
        data[1],
        json!([
            2,
            127,
            32767,
            2147483647,
            9223372036854775807i64,
            1e20,
            "3.140000000000",
            "",
            "",
            1_709_208_000_500_000i64
        ])
    );
    assert_eq!(
        data[2],
        json!([3, null, null, null, null, null, null, null, null, null])
    );
    assert_eq!(data[3], json!([4, 0, 0, 0, 0, 0.1, "0E-12", "x", "ABCDEF", 0]));
    // The exact text of numbers, as VoltDB's JSON writer prints them.
    for fragment in [
        r#"-1.5E300,"-99999999999999999999999999.999999999999""#,
        r#"1.0E20,"3.140000000000""#,
        r#"[4,0,0,0,0,0.1,"0E-12","x","ABCDEF",0]"#,
        r#"\"quoted\" 'single' ü€ \\ <\/script>\n""#,
    ] {
        assert!(v1.body.contains(fragment), "{fragment} not in {}", v1.body);
    }

    let r = call(s.http, "2.0", "@AdHoc", select);
    let rows2 = r["results"]["0"].as_array().unwrap();
    assert_eq!(rows2.len(), 4);
    assert_eq!(
        rows2[1],
        json!({"ID": 2, "TI": 127, "SI": 32767, "I": 2147483647, "BI": 9223372036854775807i64, "F": 1e20,
               "D": "3.140000000000", "S": "", "B": "", "TS": 1_709_208_000_500_000i64})
    );
    assert_eq!(
        rows2[2],
        json!({"ID": 3, "TI": null, "SI": null, "I": null, "BI": null, "F": null,
               "D": null, "S": null, "B": null, "TS": null})
    );
    assert_eq!(rows2[0]["S"], text);

    // Out of range for the column: a failed call, not a wrapped value.
    let r = call(s.http, "1.0", "TYPES.insert", json!([9, 128, 0, 0, 0, 0, 0, "", "", 0]));
    assert_ne!(r["status"], 1, "{r}");
}

#[test]
fn errors_are_answered_and_the_server_keeps_serving() {
    let mut s = Server::start(&[]);

    let r = call(s.http, "1.0", "@AdHoc", json!(["SELEC 1"]));
    assert_eq!(r["status"], -2, "{r}");
    assert!(!r["statusstring"].as_str().unwrap().is_empty());
    assert_eq!(r["results"], json!([]));
    let r = call(s.http, "2.0", "NoSuchProc", json!([1]));
    assert_ne!(r["status"], 1);
    assert!(r["statusstring"].as_str().unwrap().contains("NoSuchProc"), "{r}");
    assert_eq!(r["results"], json!({}));

    let a = get(s.http, "/api/1.0/");
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json(),
        json!({"status": -3, "appstatus": -128, "statusstring": "Procedure parameter is missing",
               "appstatusstring": null, "results": []})
    );
    let a = get(
        s.http,
        &format!("/api/2.0/?{}", query(&[("Procedure", "@AdHoc"), ("Parameters", "[1,")])),
    );
    assert_eq!(a.status, 400);
    assert!(
        a.json()["statusstring"]
            .as_str()
            .unwrap()
            .starts_with("failed to parse invocation parameters: Parameters is not valid JSON"),
        "{}",
        a.body
    );
    let a = get(
        s.http,
        &format!(
            "/api/1.0/?{}",
            query(&[("Procedure", "@Ping"), ("Parameters", "[[1]]")])
        ),
    );
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("parameter 1: array parameters are not supported"),
        "{}",
        a.body
    );
    let a = get(s.http, "/api/1.0/?Procedure=%40Ping&Querytimeout=soon");
    assert_eq!(a.status, 400);
    assert!(a.body.contains("invalid query timeout: soon"));
    let a = get(s.http, "/api/1.0/?Procedure=%40Ping&jsonp=alert(1)");
    assert_eq!(a.status, 400);
    assert!(a.body.contains("Invalid jsonp callback function name"));
    assert_eq!(get(s.http, "/api/1.0/elsewhere").status, 404);
    assert_eq!(request(s.http, "DELETE", "/api/1.0/", &[], b"").status, 405);
    let a = request(
        s.http,
        "POST",
        "/api/1.0/",
        &[("Content-Type", "application/json")],
        br#"{"Procedure":"@Ping"}"#,
    );
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("must be application/x-www-form-urlencoded"),
        "{}",
        a.body
    );

    // jsonp wraps the answer, success or not.
    let a = get(
        s.http,
        "/api/1.0/?Procedure=%40AdHoc&Parameters=%5B%22SELECT+1%22%5D&jsonp=cb_1",
    );
    assert_eq!(a.status, 200);
    assert!(a.header("content-type").unwrap().starts_with("application/javascript"));
    let inner = a
        .body
        .strip_prefix("cb_1( ")
        .and_then(|b| b.strip_suffix(" )"))
        .unwrap_or_else(|| panic!("not wrapped: {}", a.body));
    let inner: Value = serde_json::from_str(inner).unwrap();
    assert_eq!(inner["results"][0]["data"], json!([[1]]), "{inner}");
    let a = request(s.http, "GET", "/api/2.0/", &[("jsonp", "fn")], b"");
    assert_eq!(a.status, 400);
    assert!(a.body.starts_with("fn( {\"status\":-3"), "{}", a.body);

    // Still serving, on every port.
    assert!(s.alive());
    let r = call(s.http, "1.0", "@Ping", json!([]));
    assert_eq!(r["status"], 1);
    assert_eq!(get(s.http, "/health").body.trim(), "ok");
}

#[test]
fn metrics_show_procedures_tables_and_queues() {
    let s = Server::start(&[]);
    adhoc(
        s.http,
        "CREATE TABLE M (ID INTEGER NOT NULL PRIMARY KEY, V VARCHAR(10));",
    );
    adhoc(s.http, "PARTITION TABLE M ON COLUMN ID;");
    for id in 0..10 {
        let r = call(s.http, "1.0", "M.insert", json!([id, "v"]));
        assert_eq!(r["status"], 1, "{r}");
    }
    // A duplicate key: a failure.
    let r = call(s.http, "1.0", "M.insert", json!([0, "v"]));
    assert_ne!(r["status"], 1);

    let a = get(s.http, "/metrics");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = &a.body;
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .parse()
            .unwrap()
    };
    let insert = text
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("voltrs_procedure_invocations_total{procedure=\"")?;
            let name = rest.split('"').next()?;
            name.eq_ignore_ascii_case("M.insert").then(|| name.to_string())
        })
        .unwrap_or_else(|| panic!("no M.insert counter in\n{text}"));
    let label = format!("{{procedure=\"{insert}\"}}");
    assert_eq!(value(&format!("voltrs_procedure_invocations_total{label}")), 11.0);
    assert_eq!(value(&format!("voltrs_procedure_failures_total{label}")), 1.0);
    assert_eq!(value(&format!("voltrs_procedure_aborts_total{label}")), 0.0);
    assert!(text.contains("# TYPE voltrs_procedure_latency_seconds histogram"));
    assert_eq!(
        value(&format!(
            "voltrs_procedure_latency_seconds_bucket{{procedure=\"{insert}\",le=\"+Inf\"}}"
        )),
        11.0
    );
    assert_eq!(value(&format!("voltrs_procedure_latency_seconds_count{label}")), 11.0);
    assert!(value(&format!("voltrs_procedure_latency_seconds_sum{label}")) > 0.0);
    assert!(
        value(&format!(
            "voltrs_procedure_latency_seconds_bucket{{procedure=\"{insert}\",le=\"10\"}}"
        )) <= 11.0
    );
    assert!(value("voltrs_procedure_invocations_total{procedure=\"@AdHoc\"}") >= 2.0);
    let rows = text
        .lines()
        .find(|l| l.starts_with("voltrs_table_rows{") && l.contains("table=\"M\""))
        .unwrap_or_else(|| panic!("no rows of M in\n{text}"));
    assert!(rows.ends_with(" 10"), "{rows}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("voltrs_table_memory_bytes{") && l.contains("table=\"M\""))
    );
    assert_eq!(value("voltrs_partition_queue_depth{partition=\"0\"}"), 0.0);
    assert_eq!(value("voltrs_partition_queue_depth{partition=\"1\"}"), 0.0);
    assert_eq!(value("voltrs_partitions"), 2.0);
    assert!(value("process_resident_memory_bytes") > 1e6);

    let a = get(s.http, "/health");
    assert_eq!((a.status, a.body.trim()), (200, "ok"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn security_checks_every_request() {
    let s = Server::start_secure();
    let api = |fields: &[(&str, &str)]| get(s.http, &format!("/api/1.0/?{}", query(fields)));
    let sql = |text: &str| json!([text]).to_string();

    let a = api(&[("Procedure", "@AdHoc"), ("Parameters", &sql("SELECT 1"))]);
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["status"], -3);
    assert!(
        a.json()["statusstring"]
            .as_str()
            .unwrap()
            .starts_with("authentication required"),
        "{}",
        a.body
    );
    let a = api(&[("Procedure", "@Ping"), ("User", "admin"), ("Password", "wrong")]);
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["statusstring"], "authentication failed for user 'admin'");
    let a = api(&[("Procedure", "@Ping"), ("User", "nobody"), ("Password", "secret")]);
    assert_eq!(a.status, 401);

    let create = sql("CREATE TABLE S (ID INTEGER NOT NULL PRIMARY KEY);");
    let a = api(&[
        ("Procedure", "@AdHoc"),
        ("Parameters", &create),
        ("User", "admin"),
        ("Password", "secret"),
    ]);
    assert_eq!((a.status, &a.json()["status"]), (200, &json!(1)), "{}", a.body);
    let sha1 = hex(&Sha1::digest(b"secret"));
    let sha256 = hex(&Sha256::digest(b"secret"));
    for hashed in [&sha1, &sha256] {
        let insert = sql(&format!("INSERT INTO S VALUES ({})", hashed.len()));
        let a = api(&[
            ("Procedure", "@AdHoc"),
            ("Parameters", &insert),
            ("User", "admin"),
            ("Hashedpassword", hashed),
        ]);
        assert_eq!(a.json()["status"], 1, "{}", a.body);
    }
    let a = post_form(
        s.http,
        "/api/2.0/",
        &[
            ("Procedure", "S.insert"),
            ("Parameters", "[1]"),
            ("User", "admin"),
            ("Hashedpassword", &sha1),
        ],
    );
    assert_eq!(a.json()["status"], 1, "{}", a.body);
    let a = request(
        s.http,
        "GET",
        "/api/1.0/?Procedure=%40Ping",
        &[("Authorization", &format!("Hashed admin:{sha256}"))],
        b"",
    );
    assert_eq!(a.json()["status"], 1, "{}", a.body);

    // A reader may query but not write, and may not ask for an admin session.
    let reader = [("User", "reader"), ("Password", "r")];
    let count = sql("SELECT COUNT(*) FROM S");
    let a = api(&[&[("Procedure", "@AdHoc"), ("Parameters", &count)][..], &reader].concat());
    assert_eq!(a.json()["results"][0]["data"], json!([[3]]), "{}", a.body);
    let a = api(&[&[("Procedure", "S.insert"), ("Parameters", "[2]")][..], &reader].concat());
    assert_eq!(a.status, 200);
    let r = a.json();
    assert_ne!(r["status"], 1, "{r}");
    let why = r["statusstring"].as_str().unwrap().to_lowercase();
    assert!(
        why.contains("permission") || why.contains("not authorized") || why.contains("denied"),
        "{why}"
    );
    let a = api(&[&[("Procedure", "@Ping"), ("admin", "true")][..], &reader].concat());
    assert_eq!(a.status, 401);
    assert!(a.body.contains("may not use admin=true"), "{}", a.body);
    let a = api(&[
        ("Procedure", "@Ping"),
        ("admin", "true"),
        ("User", "admin"),
        ("Password", "secret"),
    ]);
    assert_eq!(a.json()["status"], 1, "{}", a.body);
}
