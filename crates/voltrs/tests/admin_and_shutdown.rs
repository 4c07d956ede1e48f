//! The admin port, `@Pause` / `@Resume` and `@Shutdown` against the real server.

mod common;

use std::time::Duration;

use common::Server;
use voltrs_client::{Client, ClientConfig, ClientError, Value, status};

/// `app`'s password in [`common::SECURE_USERS`].
const APP_PASSWORD: &str = "päss wörd";

async fn connect(port: u16, user: &str, password: &str) -> Result<Client, ClientError> {
    Client::connect(ClientConfig {
        user: user.into(),
        password: password.into(),
        ..ClientConfig::new([format!("127.0.0.1:{port}")])
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_port_takes_administrators_and_writes_while_paused() {
    let server = Server::start_secure();

    // A user without the admin permission may use the client port, not the admin port.
    let app = connect(server.client, "app", APP_PASSWORD)
        .await
        .expect("app on the client port");
    assert!(connect(server.admin, "app", APP_PASSWORD).await.is_err());
    let admin = connect(server.admin, "admin", "secret")
        .await
        .expect("admin on the admin port");

    let ddl = app
        .call("@AdHoc", vec![Value::str("CREATE TABLE t (id INTEGER NOT NULL)")])
        .await
        .unwrap();
    assert_eq!(ddl.status, status::UNEXPECTED_FAILURE, "{:?}", ddl.status_string);
    assert!(
        ddl.status_string
            .unwrap()
            .contains("User app does not have permission to change the schema")
    );
    let r = admin
        .call("@AdHoc", vec![Value::str("CREATE TABLE t (id INTEGER NOT NULL)")])
        .await
        .unwrap();
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);

    // Only an administrator may pause; then writes work on the admin port only.
    let r = app.call("@Pause", vec![]).await.unwrap();
    assert_eq!(r.status, status::UNEXPECTED_FAILURE);
    assert_eq!(admin.call("@Pause", vec![]).await.unwrap().status, status::SUCCESS);
    let r = app.call("T.insert", vec![Value::Integer(1)]).await.unwrap();
    assert_eq!(r.status, status::SERVER_UNAVAILABLE, "{:?}", r.status_string);
    let r = admin.call("T.insert", vec![Value::Integer(2)]).await.unwrap();
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
    // Reads go on everywhere.
    let r = app
        .call("@AdHoc", vec![Value::str("SELECT COUNT(*) FROM t")])
        .await
        .unwrap();
    assert_eq!(r.tables[0].rows, vec![vec![Value::Integer(1)]]);
    assert_eq!(admin.call("@Resume", vec![]).await.unwrap().status, status::SUCCESS);
    let r = app.call("T.insert", vec![Value::Integer(3)]).await.unwrap();
    assert_eq!(r.status, status::SUCCESS, "{:?}", r.status_string);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_server_cleanly() {
    let mut server = Server::start(&[]);
    let c = connect(server.client, "", "").await.expect("connect");
    // The answer may or may not arrive before the process exits.
    let _ = tokio::time::timeout(Duration::from_secs(5), c.call("@Shutdown", vec![])).await;
    let exit = server.wait_exit(Duration::from_secs(10)).expect("the server exits");
    assert!(exit.success(), "{exit:?}");
    assert!(server.stderr().contains("stopping (@Shutdown)"), "{}", server.stderr());
}
