//! `voltrs-client` against the real server: pipelining, every type with NULLs, failures
//! that leave the connection usable, routing with the server's published ring,
//! all-partition calls, logins, and reconnecting after the server restarts.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Server, adhoc, client as connect};
use voltrs_client::{Client, ClientConfig, ClientError, Response, Value, VoltType, status};
use voltrs_storage::Decimal;

/// The integers of a one-column result.
fn ints(r: &Response) -> Vec<i64> {
    r.tables[0]
        .rows
        .iter()
        .map(|row| match row[0] {
            Value::Integer(i) => i,
            ref other => panic!("not an integer: {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_pipelined_calls_on_one_connection_each_get_their_own_answer() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    adhoc(
        &c,
        "CREATE TABLE kv (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)",
    )
    .await;
    adhoc(&c, "PARTITION TABLE kv ON COLUMN id").await;
    let inserts: Vec<_> = (0..1000i64)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move {
                c.call("KV.insert", vec![Value::Integer(i), Value::str(&format!("v{i}"))])
                    .await
            })
        })
        .collect();
    for t in inserts {
        let r = t.await.expect("task").expect("insert");
        assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
        assert_eq!(ints(&r), [1]);
    }
    let selects: Vec<_> = (0..1000i64)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { (i, c.call("KV.select", vec![Value::Integer(i)]).await) })
        })
        .collect();
    for t in selects {
        let (i, r) = t.await.expect("task");
        let r = r.expect("select");
        assert_eq!(
            r.tables[0].rows,
            [vec![Value::Integer(i), Value::str(&format!("v{i}"))]],
            "the answer to call {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_and_null_round_trips() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    adhoc(
        &c,
        "CREATE TABLE every (id INTEGER NOT NULL PRIMARY KEY, ti TINYINT, si SMALLINT, i INTEGER, bi BIGINT, \
         f FLOAT, d DECIMAL, s VARCHAR(20), b VARBINARY(20), ts TIMESTAMP)",
    )
    .await;
    adhoc(&c, "PARTITION TABLE every ON COLUMN id").await;
    let decimal = Value::Decimal(Decimal::parse("-12345.678901234567").expect("decimal"));
    let full = vec![
        Value::Integer(1),
        Value::Integer(127),
        Value::Integer(-32767),
        Value::Integer(2_147_483_647),
        Value::Integer(-9_223_372_036_854_775_807),
        Value::Float(1.5e-7),
        decimal.clone(),
        Value::str("héllo, wörld"),
        Value::bytes(&[0, 1, 0xfe, 0xff]),
        Value::Timestamp(1_700_000_000_123_456),
    ];
    let mut nulls = vec![Value::Integer(2)];
    nulls.extend(std::iter::repeat_n(Value::Null, 9));
    for row in [&full, &nulls] {
        let r = c.call("EVERY.insert", row.clone()).await.expect("insert");
        assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
    }
    let r = adhoc(&c, "SELECT * FROM every ORDER BY id").await;
    let types: Vec<VoltType> = r.tables[0].columns.iter().map(|c| c.ty).collect();
    assert_eq!(
        types,
        [
            VoltType::Integer,
            VoltType::TinyInt,
            VoltType::SmallInt,
            VoltType::Integer,
            VoltType::BigInt,
            VoltType::Float,
            VoltType::Decimal,
            VoltType::String,
            VoltType::Varbinary,
            VoltType::Timestamp,
        ]
    );
    assert_eq!(r.tables[0].rows, [full.clone(), nulls]);
    // The same values as @AdHoc parameters, each sent as its own wire type.
    let r = c
        .call(
            "@AdHoc",
            vec![
                Value::str("SELECT id FROM every WHERE d = ? AND s = ? AND b = ? AND ts = ? AND f = ? AND bi = ?"),
                decimal,
                full[7].clone(),
                full[8].clone(),
                full[9].clone(),
                full[5].clone(),
                full[4].clone(),
            ],
        )
        .await
        .expect("call");
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
    assert_eq!(ints(&r), [1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_responses_and_the_connection_stays_usable() {
    let server = Server::start(&[]);
    let c = connect(&server).await;
    adhoc(&c, "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY)").await;
    let r = c.call("no_such_procedure", vec![]).await.expect("a response");
    assert_eq!(r.status, status::UNEXPECTED_FAILURE);
    assert!(
        r.status_string.as_deref().unwrap_or("").contains("no_such_procedure"),
        "{r:?}"
    );
    let r = c.call("@AdHoc", vec![Value::str("SELEC 1")]).await.expect("a response");
    assert_eq!(r.status, status::GRACEFUL_FAILURE);
    assert!(
        r.status_string.as_deref().unwrap_or("").contains("syntax error"),
        "{r:?}"
    );
    // Good and failing calls in flight together: each gets its own outcome.
    let calls: Vec<_> = (0..100i64)
        .map(|i| {
            let c = c.clone();
            // Even calls insert a new key; odd ones repeat key 0, a duplicate after the first.
            let key = if i % 2 == 0 { i + 1000 } else { 0 };
            tokio::spawn(async move { (i, c.call("T.insert", vec![Value::Integer(key)]).await) })
        })
        .collect();
    let mut duplicates = 0;
    for t in calls {
        let (i, r) = t.await.expect("task");
        let r = r.expect("a response");
        if i % 2 == 0 {
            assert_eq!(r.status, status::SUCCESS, "call {i}: {:?}", r.status_string);
        } else if r.status != status::SUCCESS {
            assert!(
                r.status_string.as_deref().unwrap_or("").contains("PRIMARY KEY"),
                "{r:?}"
            );
            duplicates += 1;
        }
    }
    assert_eq!(duplicates, 49, "all but the first insert of key 0 fail");
    let r = adhoc(&c, "SELECT COUNT(*) FROM t").await;
    assert_eq!(ints(&r), [51]);
}

/// Creates the routing schema on `c`: BYID partitioned on a BIGINT, BYNAME on a VARCHAR,
/// each with a single-partition procedure listing the rows above a bound on the partition
/// it runs on, and the given rows.
async fn routing_schema(c: &Client, ids: &[i64], names: &[String]) {
    for sql in [
        "CREATE TABLE byid (id BIGINT NOT NULL PRIMARY KEY)",
        "PARTITION TABLE byid ON COLUMN id",
        "CREATE PROCEDURE ids_above PARTITION ON TABLE byid COLUMN id AS SELECT id FROM byid WHERE id > ? ORDER BY id",
        "CREATE TABLE byname (name VARCHAR(40) NOT NULL PRIMARY KEY)",
        "PARTITION TABLE byname ON COLUMN name",
        "CREATE PROCEDURE names_after PARTITION ON TABLE byname COLUMN name AS \
         SELECT name FROM byname WHERE name > ? ORDER BY name",
    ] {
        adhoc(c, sql).await;
    }
    for id in ids {
        let r = c.call("BYID.insert", vec![Value::Integer(*id)]).await.expect("insert");
        assert_eq!(r.status, status::SUCCESS);
    }
    for name in names {
        let r = c.call("BYNAME.insert", vec![Value::str(name)]).await.expect("insert");
        assert_eq!(r.status, status::SUCCESS);
    }
    c.refresh_topology().await.expect("topology");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_partition_for_a_call_is_where_the_server_keeps_the_row() {
    let server = Server::start(&["--sites", "4"]);
    let c = connect(&server).await;
    let ids: Vec<i64> = (1000..1200).chain([i64::MAX, -5, 5_551_234_567]).collect();
    let names: Vec<String> = (0..100).map(|i| format!("name-{i}")).chain(["héllo".into()]).collect();
    routing_schema(&c, &ids, &names).await;
    let ring = c
        .topology()
        .hashinator()
        .cloned()
        .expect("the ring from @Statistics TOPO");
    assert_eq!(ring.partition_count(), 4);
    let mut seen_ids = BTreeSet::new();
    let mut seen_names = BTreeSet::new();
    for p in 0..4u32 {
        // The rows the server keeps on partition p...
        let here = c
            .call_on_partition("ids_above", p as i32, vec![Value::Integer(i64::MIN + 1)])
            .await
            .expect("call");
        assert_eq!(here.status, status::SUCCESS, "{:?}", here.status_string);
        // ...are exactly those the client would route there.
        for id in ints(&here) {
            assert_eq!(c.partition_for("ids_above", &[Value::Integer(id)]), Some(p), "id {id}");
            seen_ids.insert(id);
        }
        let here = c
            .call_on_partition("names_after", p as i32, vec![Value::str("")])
            .await
            .expect("call");
        for row in &here.tables[0].rows {
            assert_eq!(c.partition_for("names_after", &row[..1]), Some(p), "{row:?}");
            seen_names.insert(row[0].clone());
        }
    }
    assert_eq!(seen_ids, ids.iter().copied().collect());
    assert_eq!(seen_names.len(), names.len());
    // The server's own sample keys agree with the client's ring too.
    for (ty, kind) in [(VoltType::Integer, "INTEGER"), (VoltType::String, "STRING")] {
        let keys = c.call("@GetPartitionKeys", vec![Value::str(kind)]).await.expect("call");
        assert_eq!(keys.tables[0].rows.len(), 4);
        for row in &keys.tables[0].rows {
            let Value::Integer(p) = row[0] else { panic!("{row:?}") };
            assert_eq!(c.topology().partition_of(ty, &row[1]), Some(p as u32), "{kind} {row:?}");
        }
    }
    // Unknown, multi-partition and system procedures are not routed by partition.
    assert_eq!(c.partition_for("BYID.delete_nothing", &[Value::Integer(1)]), None);
    assert_eq!(c.partition_for("@AdHoc", &[Value::str("SELECT 1")]), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_partition_call_runs_once_on_every_partition() {
    let server = Server::start(&["--sites", "3"]);
    let c = connect(&server).await;
    let ids: Vec<i64> = (1000..1100).collect();
    routing_schema(&c, &ids, &[]).await;
    // Each leg gets its partition's key (a small integer) as the bound: every row is above it.
    let legs = c
        .call_all_partitions("ids_above", vec![])
        .await
        .expect("all partitions");
    assert_eq!(legs.iter().map(|l| l.partition).collect::<Vec<_>>(), [0, 1, 2]);
    let mut all = BTreeSet::new();
    for leg in &legs {
        let r = leg.result.as_ref().expect("leg");
        assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
        for id in ints(r) {
            assert_eq!(
                c.partition_for("ids_above", &[Value::Integer(id)]),
                Some(leg.partition as u32)
            );
            all.insert(id);
        }
    }
    assert_eq!(all, ids.into_iter().collect());
    // A multi-partition procedure cannot run on a chosen partition: every leg says so.
    adhoc(
        &c,
        "CREATE PROCEDURE count_all AS SELECT COUNT(*) FROM byid WHERE id > ?",
    )
    .await;
    let legs = c
        .call_all_partitions("count_all", vec![])
        .await
        .expect("all partitions");
    assert_eq!(legs.len(), 3);
    for leg in legs {
        let r = leg.result.expect("a response");
        assert_eq!(r.status, status::GRACEFUL_FAILURE);
        assert!(r.status_string.unwrap_or_default().contains("multi-partition"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_checked_when_security_is_on() {
    let server = Server::start_with_config(
        "[security]\nenabled = true\n[[security.users]]\nname = \"alice\"\npassword = \"s3cret\"\nroles = [\"administrator\"]\n",
        &[],
    );
    let login = |password: &str| ClientConfig {
        user: "alice".into(),
        password: password.into(),
        ..ClientConfig::new([format!("127.0.0.1:{}", server.client)])
    };
    let c = Client::connect(login("s3cret")).await.expect("the right password");
    let r = c.call("@Ping", vec![]).await.expect("ping");
    assert_eq!(r.status, status::SUCCESS);
    match Client::connect(login("wrong")).await {
        Err(ClientError::Login { reason, .. }) => assert!(reason.contains("authentication failed"), "{reason}"),
        Err(other) => panic!("expected a login error, got {other}"),
        Ok(_) => panic!("a wrong password logged in"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_reconnect_after_the_server_restarts_on_its_port() {
    let server = Server::start(&["--sites", "2"]);
    let port = server.client.to_string();
    let c = connect(&server).await;
    adhoc(&c, "CREATE TABLE before_restart (id INTEGER)").await;
    drop(server); // killed and waited for
    match c.call("@Ping", vec![]).await {
        Err(ClientError::ConnectionLost { .. } | ClientError::Connect { .. } | ClientError::NoConnection { .. }) => {}
        other => panic!("a call with the server down: {other:?}"),
    }
    // Back on the same port, with another partition count.
    let _again = tokio::task::spawn_blocking(move || Server::start(&["--client-port", &port, "--sites", "3"]))
        .await
        .expect("restart");
    let deadline = Instant::now() + Duration::from_secs(20);
    let r = loop {
        match c
            .call("@AdHoc", vec![Value::str("CREATE TABLE after_restart (id INTEGER)")])
            .await
        {
            Ok(r) => break r,
            Err(e) => {
                assert!(Instant::now() < deadline, "no reconnect: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    // The new server is empty: the table from before is gone, so the create succeeds.
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
    // The reconnect re-read the topology (the new ring), and the server's procedure
    // pushes reach the new connection (the new table's default procedure).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = c.topology();
        let partitions = t.hashinator().map(|h| h.partition_count());
        if partitions == Some(3) && t.procedure("AFTER_RESTART.insert").is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "topology not refreshed: {partitions:?} partitions"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
