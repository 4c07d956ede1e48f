//! The client against a scripted fake server (built from `voltrs-wire`'s codec), for what a
//! real server will not do on cue: answer out of order, send a malformed frame, refuse a
//! login, vanish with calls in flight, stay down for a while.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use voltrs_client::{Client, ClientConfig, ClientError, Value, VoltType, status};
use voltrs_wire::codec::{self, Invocation, LoginRequest, LoginResponse, Param, ResponseHead};

async fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 4];
    s.read_exact(&mut header).await.ok()?;
    let mut body = vec![0u8; codec::frame_length(header, 1 << 20).ok()?];
    s.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// Accepts one connection and answers its login with success; the login it got.
async fn accept(listener: &TcpListener) -> (TcpStream, LoginRequest) {
    let (mut s, _) = listener.accept().await.expect("accept");
    let login = LoginRequest::decode(&read_frame(&mut s).await.expect("login")).expect("a login");
    let mut out = Vec::new();
    LoginResponse {
        host_id: 0,
        connection_id: 1,
        cluster_start_ms: 0,
        leader_ipv4: 0x7f00_0001,
        build: "fake".into(),
    }
    .encode(&mut out);
    s.write_all(&out).await.expect("login answer");
    (s, login)
}

/// The next call that is not part of the client's own discovery traffic (which is
/// answered with a failure, so the client routes round-robin).
async fn next_call(s: &mut TcpStream) -> Option<Invocation> {
    loop {
        let call = codec::decode_invocation(&read_frame(s).await?).expect("an invocation");
        match call.procedure.as_str() {
            "@Subscribe" => {}
            "@Statistics" | "@SystemCatalog" => {
                answer(s, call.handle, status::GRACEFUL_FAILURE, "not here", None).await;
            }
            _ => return Some(call),
        }
    }
}

/// Sends a response, with a one-row `X BIGINT` table when `value` is given.
async fn answer(s: &mut TcpStream, handle: i64, status: i8, message: &str, value: Option<&Value>) {
    let mut out = Vec::new();
    let head = ResponseHead::failure(handle, status, message);
    let start = codec::begin_response(&mut out, &head, usize::from(value.is_some()));
    if let Some(v) = value {
        codec::encode_table(&mut out, &[("X", VoltType::BigInt)], [std::slice::from_ref(v)]);
    }
    codec::finish_frame(&mut out, start);
    s.write_all(&out).await.expect("answer");
}

fn first_param(call: &Invocation) -> Value {
    match call.params.first() {
        Some(Param::Value(v)) => v.clone(),
        other => panic!("unexpected parameters {other:?}"),
    }
}

async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    (listener, addr)
}

#[tokio::test]
async fn answers_in_any_order_reach_their_callers() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut s, login) = accept(&listener).await;
        assert_eq!(login.username, "bob");
        assert_eq!(login.digest.len(), 32, "a SHA-256 digest");
        let mut calls = Vec::new();
        for _ in 0..100 {
            calls.push(next_call(&mut s).await.expect("a call"));
        }
        // Every call is in flight at once; answer the last first.
        for call in calls.iter().rev() {
            answer(&mut s, call.handle, status::SUCCESS, "ok", Some(&first_param(call))).await;
        }
    });
    let config = ClientConfig {
        user: "bob".into(),
        password: "pw".into(),
        ..ClientConfig::new([addr])
    };
    let client = Client::connect(config).await.expect("connect");
    let calls: Vec<_> = (0..100i64)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { (i, c.call("Echo", vec![Value::Integer(i)]).await) })
        })
        .collect();
    for t in calls {
        let (i, r) = t.await.expect("task");
        assert_eq!(r.expect("answer").tables[0].rows, [vec![Value::Integer(i)]]);
    }
    server.await.expect("server");
}

#[tokio::test]
async fn a_malformed_answer_fails_only_its_call() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut s, _) = accept(&listener).await;
        let bad = next_call(&mut s).await.expect("a call");
        // A whole frame whose body stops right after the handle.
        let mut frame = vec![0, 0, 0, 9, 0];
        frame.extend_from_slice(&bad.handle.to_be_bytes());
        s.write_all(&frame).await.expect("write");
        let good = next_call(&mut s).await.expect("a call");
        answer(&mut s, good.handle, status::SUCCESS, "ok", Some(&Value::Integer(7))).await;
    });
    let client = Client::connect(ClientConfig::new([addr])).await.expect("connect");
    match client.call("Bad", vec![]).await {
        Err(ClientError::Protocol { .. }) => {}
        other => panic!("expected a protocol error, got {other:?}"),
    }
    let r = client.call("Good", vec![]).await.expect("the connection still works");
    assert_eq!(r.tables[0].rows, [vec![Value::Integer(7)]]);
    server.await.expect("server");
}

#[tokio::test]
async fn a_refused_login_says_why() {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        read_frame(&mut s).await.expect("login");
        let mut out = Vec::new();
        codec::encode_login_failure(&mut out, codec::LoginFailure::Authentication);
        s.write_all(&out).await.expect("refusal");
    });
    match Client::connect(ClientConfig::new([addr.clone()])).await {
        Err(ClientError::Login { server, reason }) => {
            assert_eq!(server, addr);
            assert!(reason.contains("authentication failed"), "{reason}");
        }
        Err(other) => panic!("expected a login error, got {other}"),
        Ok(_) => panic!("logged in"),
    }
}

#[tokio::test]
async fn a_lost_connection_fails_its_calls_then_reconnects_after_a_backoff() {
    let (listener, addr) = listen().await;
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        let (mut s, _) = accept(&listener).await;
        for _ in 0..3 {
            next_call(&mut s).await.expect("a call");
        }
        // Three calls in flight, then the server goes away (listener and all).
        drop(s);
        drop(listener);
        let _ = seen_tx.send(());
    });
    let config = ClientConfig {
        min_backoff: Duration::from_millis(300),
        ..ClientConfig::new([addr.clone()])
    };
    let client = Client::connect(config).await.expect("connect");
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.call("Hang", vec![]).await })
        })
        .collect();
    for t in calls {
        match t.await.expect("task") {
            Err(ClientError::ConnectionLost { server, .. }) => assert_eq!(server, addr),
            other => panic!("expected a lost connection, got {other:?}"),
        }
    }
    seen.recv().await.expect("the server went away");
    server.await.expect("server");
    // The server is down: the reconnect fails, and a call right after it does not dial
    // again but says when it will.
    match client.call("Ping", vec![]).await {
        Err(ClientError::Connect { .. }) => {}
        other => panic!("expected a connect error, got {other:?}"),
    }
    match client.call("Ping", vec![]).await {
        Err(ClientError::NoConnection { retry_in, .. }) => assert!(retry_in <= Duration::from_millis(300)),
        other => panic!("expected a backoff, got {other:?}"),
    }
    // Back on the same address: after the backoff, a call reconnects and is answered.
    let listener = TcpListener::bind(&addr).await.expect("bind again");
    let server = tokio::spawn(async move {
        let (mut s, _) = accept(&listener).await;
        let call = next_call(&mut s).await.expect("a call");
        answer(&mut s, call.handle, status::SUCCESS, "ok", Some(&Value::Integer(1))).await;
        // Keep the connection open until the client has read the answer.
        let _ = read_frame(&mut s).await;
    });
    tokio::time::sleep(Duration::from_millis(350)).await;
    let r = client.call("Ping", vec![]).await.expect("reconnected");
    assert_eq!(r.status, status::SUCCESS);
    drop(client);
    server.await.expect("server");
}

#[tokio::test]
async fn a_client_needs_a_server() {
    let config = ClientConfig {
        servers: vec![],
        ..ClientConfig::default()
    };
    assert!(matches!(Client::connect(config).await, Err(ClientError::Invalid(_))));
}

/// `call_with_callback`: answers in any order reach their callbacks, a callback may make
/// the next call, and a lost connection fails the callbacks still waiting.
#[tokio::test]
async fn callbacks_get_their_answers_and_the_loss() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut s, _) = accept(&listener).await;
        let mut calls = Vec::new();
        for _ in 0..10 {
            calls.push(next_call(&mut s).await.expect("a call"));
        }
        for call in calls.iter().rev() {
            answer(&mut s, call.handle, status::SUCCESS, "ok", Some(&first_param(call))).await;
        }
        // The call made from the callback of value 0, then two left hanging.
        let chained = next_call(&mut s).await.expect("the chained call");
        answer(
            &mut s,
            chained.handle,
            status::SUCCESS,
            "ok",
            Some(&first_param(&chained)),
        )
        .await;
        for _ in 0..2 {
            next_call(&mut s).await.expect("a hanging call");
        }
        drop(s);
    });
    let client = Client::connect(ClientConfig::new([addr])).await.expect("connect");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..10i64 {
        let (tx, chain) = (tx.clone(), client.clone());
        client.call_with_callback("Echo", vec![Value::Integer(i)], move |r| {
            let _ = tx.send((i, r.map(|r| r.tables[0].rows.clone())));
            if i == 0 {
                let tx = tx.clone();
                chain.call_with_callback("Echo", vec![Value::Integer(100)], move |r| {
                    let _ = tx.send((100, r.map(|r| r.tables[0].rows.clone())));
                });
            }
        });
    }
    let mut seen = Vec::new();
    for _ in 0..11 {
        let (i, rows) = rx.recv().await.expect("an answer");
        assert_eq!(rows.expect("answered"), [vec![Value::Integer(i)]]);
        seen.push(i);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..10).chain([100]).collect::<Vec<_>>());
    for _ in 0..2 {
        let tx = tx.clone();
        client.call_with_callback("Hang", vec![], move |r| {
            let _ = tx.send((-1, r.map(|_| Vec::new())));
        });
    }
    for _ in 0..2 {
        match rx.recv().await.expect("the loss") {
            (-1, Err(ClientError::ConnectionLost { .. })) => {}
            other => panic!("expected a lost connection, got {other:?}"),
        }
    }
    server.await.expect("server");
}
