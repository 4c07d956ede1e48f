//! The kv example (examples/kv) against the real binary: `Get` and `Put` answer as its
//! tutorial shows; a short `voltrs bench kv` on a fresh server creates the schema, preloads
//! the keys, reports in JSON and checks itself; the values are really stored; a second run
//! keeps the keys, a run with another value size reloads them.

mod common;

use std::process::{Command, Output};

use common::{Server, adhoc, client as connect, sql};
use voltrs_client::{Value, status};

const DDL: &str = include_str!("../../../examples/kv/ddl.sql");

#[test]
fn get_and_put_answer_as_the_tutorial_shows() {
    let server = Server::start(&[]);
    let load = sql(&server, &[], DDL);
    assert_eq!(load.code, Some(0), "{}{}", load.stdout, load.stderr);
    assert_eq!(
        load.stdout,
        "CREATE TABLE\nPARTITION TABLE\nCREATE PROCEDURE\nCREATE PROCEDURE\n"
    );
    let csv = |exec: &str| {
        let out = sql(&server, &["--output-format", "csv"], exec);
        assert_eq!(out.code, Some(0), "{exec}: {}{}", out.stdout, out.stderr);
        out.stdout
    };
    // Put inserts, then replaces: one row changed each time.
    assert_eq!(csv("exec Put 'apple' x'6170706C65';"), "modified_tuples\n1\n");
    assert_eq!(csv("exec Put 'apple' x'415050';"), "modified_tuples\n1\n");
    assert_eq!(csv("exec Get 'apple';"), "KEY,VALUE\napple,415050\n");
    assert_eq!(csv("exec Get 'pear';"), "KEY,VALUE\n");
    assert_eq!(
        csv("SELECT key, OCTET_LENGTH(value) AS bytes FROM store;"),
        "KEY,BYTES\napple,3\n"
    );
}

/// Runs `voltrs bench kv` against `server` with `args` (and `--json`); its output and the
/// JSON line that ends its standard output.
fn bench_kv(server: &Server, args: &[&str]) -> (Output, serde_json::Value) {
    let port = server.client.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
        .args(["bench", "kv", "--servers", "127.0.0.1", "--port", &port, "--json"])
        .args(args)
        .output()
        .expect("run voltrs bench kv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let last = stdout.lines().last().expect("a JSON line");
    let report: serde_json::Value = serde_json::from_str(last).expect("JSON");
    (out, report)
}

fn count(report: &serde_json::Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a count: {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_kv_preloads_reads_and_writes_and_checks_itself() {
    let server = Server::start(&[]);
    let short = ["--duration", "1", "--warmup", "0", "--keys", "1000"];

    // A fresh server: the schema is created and the 1000 keys preloaded.
    let (out, report) = bench_kv(&server, &short);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("preloading 1000 keys"), "{stderr}");
    assert!(stderr.contains("measured"), "progress lines on stderr: {stderr}");
    assert!(stderr.contains("check            ok"), "{stderr}");
    assert!(report["tps"].as_f64().is_some_and(|t| t > 0.0), "{report}");
    let (gets, puts) = (count(&report, "gets"), count(&report, "puts"));
    assert!(gets > 0 && puts > 0, "{report}");
    assert_eq!(gets + puts, count(&report, "calls"), "{report}");
    assert!(gets > puts, "90 % gets by default: {report}");
    assert_eq!(count(&report, "get_misses"), 0, "{report}");
    assert_eq!(count(&report, "failed"), 0, "{report}");
    assert_eq!(count(&report, "rows"), 1000, "{report}");
    assert_eq!(report["consistent"].as_bool(), Some(true), "{report}");
    for key in ["avg", "p50", "p95", "p99", "p999", "max"] {
        assert!(report["latency_ms"][key].as_f64().is_some(), "{key}: {report}");
    }
    let p = |k: &str| report["latency_ms"][k].as_f64().unwrap_or(f64::NAN);
    assert!(p("p50") <= p("p99") && p("p99") <= p("max"), "{report}");

    // The data is there: 1000 rows, and Get answers with the key and a 100-byte value.
    let c = connect(&server).await;
    let rows = adhoc(
        &c,
        "SELECT COUNT(*), MIN(OCTET_LENGTH(value)), MAX(OCTET_LENGTH(value)) FROM store",
    )
    .await;
    assert_eq!(
        rows.tables[0].rows,
        [[Value::Integer(1000), Value::Integer(100), Value::Integer(100)]]
    );
    let key = "K0000000000000000000000000000999";
    let got = c.call("Get", vec![Value::str(key)]).await.expect("call Get");
    assert_eq!(got.status, status::SUCCESS, "{:?}", got.status_string);
    match got.tables[0].rows.as_slice() {
        [row] => match row.as_slice() {
            [Value::Varchar(k), Value::Varbinary(v)] => assert_eq!((&**k, v.len()), (key, 100)),
            other => panic!("{other:?}"),
        },
        other => panic!("one row expected: {other:?}"),
    }

    // Again, half puts: the keys are in place, nothing is preloaded.
    let (out, report) = bench_kv(&server, &[&short[..], &["--get-ratio", "0.5"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no preload"), "{stderr}");
    assert_eq!(report["consistent"].as_bool(), Some(true), "{report}");
    let (gets, puts) = (count(&report, "gets") as f64, count(&report, "puts") as f64);
    assert!((0.4..0.6).contains(&(gets / (gets + puts))), "{report}");

    // Another value size: every key is put again, and the run reads only the new size.
    let (out, report) = bench_kv(
        &server,
        &[&short[..], &["--value-size", "200", "--ratelimit", "500"]].concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("preloading 1000 keys"), "{stderr}");
    assert_eq!(report["consistent"].as_bool(), Some(true), "{report}");
    assert!(count(&report, "calls") <= 600, "--ratelimit 500 for 1 s: {report}");
    let rows = adhoc(&c, "SELECT COUNT(*), MIN(OCTET_LENGTH(value)) FROM store").await;
    assert_eq!(rows.tables[0].rows, [[Value::Integer(1000), Value::Integer(200)]]);
}

#[test]
fn bench_kv_refuses_flags_out_of_range() {
    for bad in [
        &["--get-ratio", "1.5"][..],
        &["--value-size", "0"],
        &["--keys", "1000", "--key-size", "3"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_voltrs"))
            .args(["bench", "kv", "--port", "1"])
            .args(bad)
            .output()
            .expect("run voltrs bench kv");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad:?}: {stderr}");
        assert!(stderr.contains(bad[bad.len() - 2]), "{bad:?} names the flag: {stderr}");
    }
}
