//! The PostgreSQL wire protocol (pgwire): psql and PostgreSQL drivers reach voltrs here.
//!
//! Every accepted socket gets its own [`PgConnection`]: the handlers pgwire calls for that
//! connection, and the connection's engine session (its current database, its user's
//! permissions). Statements run on tokio's blocking pool, one at a time per connection,
//! each as its own transaction (VoltDB has no interactive transactions; see
//! [`query`] for BEGIN / COMMIT / ROLLBACK). psql's backslash commands (`\d`, `\dt`, ...)
//! query pg_catalog, which voltrs does not have: [`catalog`] answers them from the voltrs
//! catalog.
//!
//! A CancelRequest arrives on a connection of its own naming the pid and secret key the
//! target connection got at startup; [`Cancels`] finds that connection's
//! [`CancelFlag`]. The engine then stops the statement if it has not started or only
//! reads; a write that has started commits (its result is still sent).

mod catalog;
mod extended;
mod query;
mod values;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::cleartext::CleartextPasswordAuth;
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::{
    AuthDriver, AuthOutcome, AuthSource, LoginInfo, Password, ServerParameterProvider, StartupHandler,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::{ClientInfo, PgWireServerHandlers, PidSecretKeyGenerator, RandomPidSecretKeyGenerator};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::net::TcpListener;
use voltrs_engine::{CancelFlag, Permissions, Session};

use crate::ServerState;

use voltrs_sql::catalog::DEFAULT_DATABASE;

/// Accepts PostgreSQL connections until the process ends.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>) {
    let pids = Arc::new(RandomPidSecretKeyGenerator::default());
    let cancels = Arc::new(Cancels::default());
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                let conn = PgConnection::new(state.clone(), pids.clone(), cancels.clone());
                let handlers = Arc::new(PgHandlers(Arc::new(conn)));
                tokio::spawn(async move {
                    if let Err(e) = pgwire::tokio::process_socket(socket, None, handlers).await {
                        eprintln!("voltrs: PostgreSQL connection ended: {e}");
                    }
                });
            }
            Err(e) => {
                eprintln!("voltrs: accept failed on the PostgreSQL port: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// The cancel flags of open connections by backend pid, with the secret key each got.
#[derive(Default)]
struct Cancels(Mutex<HashMap<i32, (SecretKey, CancelFlag)>>);

impl Cancels {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (SecretKey, CancelFlag)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cancels the connection's statement if the key matches; a wrong key or an unknown
    /// pid is ignored, as PostgreSQL does (the requester learns nothing).
    fn cancel(&self, request: &CancelRequest) {
        if let Some((key, flag)) = self.lock().get(&request.pid)
            && key.eq_value(&request.secret_key)
        {
            flag.cancel();
        }
    }
}

#[async_trait]
impl CancelHandler for PgConnection {
    async fn on_cancel_request(&self, request: CancelRequest) {
        self.cancels.cancel(&request);
    }
}

/// One PostgreSQL connection: its session and the handlers pgwire calls.
struct PgConnection {
    state: Arc<ServerState>,
    session: Arc<Mutex<Session>>,
    /// Statements of the current BEGIN block that wrote (for ROLLBACK's error).
    block: Mutex<query::Block>,
    pids: Arc<RandomPidSecretKeyGenerator>,
    cancels: Arc<Cancels>,
    /// This connection's pid in `cancels`, once startup gave it one.
    pid: Mutex<Option<i32>>,
    /// The session's cancel flag: set by a CancelRequest, reset as each query starts.
    cancel: CancelFlag,
    driver: AuthDriver<Parameters, Arc<Permissions>>,
    cleartext: CleartextPasswordAuth<PgAuth>,
}

impl PgConnection {
    fn new(state: Arc<ServerState>, pids: Arc<RandomPidSecretKeyGenerator>, cancels: Arc<Cancels>) -> PgConnection {
        let mut session = state.session(None, false);
        let cancel = session.cancel_flag();
        PgConnection {
            session: Arc::new(Mutex::new(session)),
            block: Mutex::new(query::Block::default()),
            pids,
            cancels,
            pid: Mutex::new(None),
            cancel,
            driver: AuthDriver::new(Parameters),
            cleartext: CleartextPasswordAuth::new(Arc::new(PgAuth(state.clone()))),
            state,
        }
    }

    /// Remembers a statement of an open BEGIN block that wrote (for ROLLBACK's error).
    fn note_write(&self, first_word: &str, outcome: &voltrs_engine::Outcome, text: &str) {
        let wrote = !matches!(outcome, voltrs_engine::Outcome::Rows(_)) && !matches!(first_word, "USE" | "EXPLAIN");
        let mut block = self.block.lock().unwrap_or_else(|e| e.into_inner());
        if wrote {
            block.note(text);
        }
    }

    /// Makes this connection cancellable by `pid` and `key` (sent to the client at startup).
    fn register_cancel(&self, pid: i32, key: SecretKey) {
        self.cancels.lock().insert(pid, (key, self.cancel.clone()));
        *self.pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Picks the startup message's database. psql names the user's own database when
    /// none is given; a database that does not exist and is the user's name means the
    /// default one.
    fn choose_database(&self, client: &dyn ClientInfo) -> PgWireResult<()> {
        let user = client.metadata().get("user").cloned().unwrap_or_default();
        let given = client.metadata().get("database").cloned().unwrap_or_default();
        // Catalog names are VoltDB identifiers: upper case.
        let wanted = given.to_uppercase();
        let catalog = self.state.db.catalog();
        let name = if wanted.is_empty() || (given == user && catalog.database(&wanted).is_err()) {
            DEFAULT_DATABASE.to_string()
        } else {
            wanted
        };
        if catalog.database(&name).is_err() {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "3D000".into(),
                format!("database \"{given}\" does not exist"),
            ))));
        }
        self.session().set_database(&name);
        Ok(())
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        if let Some(pid) = *self.pid.lock().unwrap_or_else(|e| e.into_inner()) {
            self.cancels.lock().remove(&pid);
        }
    }
}

/// The handlers of one connection, as pgwire asks for them.
struct PgHandlers(Arc<PgConnection>);

impl PgWireServerHandlers for PgHandlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        Arc::new(query::SimpleQuery(self.0.clone()))
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        Arc::new(extended::Extended::new(self.0.clone()))
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(Startup(self.0.clone()))
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.0.clone()
    }
}

/// What the server tells a client about itself at startup.
struct Parameters;

impl ServerParameterProvider for Parameters {
    fn server_parameters<C: ClientInfo>(&self, _client: &C) -> Option<HashMap<String, String>> {
        let mut p = HashMap::new();
        p.insert("server_version".into(), query::SERVER_VERSION.into());
        p.insert("server_encoding".into(), "UTF8".into());
        p.insert("client_encoding".into(), "UTF8".into());
        p.insert("DateStyle".into(), "ISO, MDY".into());
        p.insert("TimeZone".into(), "UTC".into());
        p.insert("integer_datetimes".into(), "on".into());
        p.insert("standard_conforming_strings".into(), "on".into());
        p.insert("application_name".into(), String::new());
        Some(p)
    }
}

/// Checks PostgreSQL logins against the configured users (security on).
struct PgAuth(Arc<ServerState>);

impl Debug for PgAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgAuth")
    }
}

#[async_trait]
impl AuthSource<Arc<Permissions>> for PgAuth {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_string(),
        ))
    }

    async fn verify_password(&self, login: &LoginInfo, presented: &[u8]) -> PgWireResult<Option<Arc<Permissions>>> {
        let user = login.user().unwrap_or_default();
        let password = std::str::from_utf8(presented).map_err(|_| PgWireError::InvalidPassword(user.into()))?;
        match self.0.users.login_password(user, password) {
            Ok(permissions) => Ok(permissions),
            Err(_) => Err(PgWireError::InvalidPassword(user.into())),
        }
    }
}

struct Startup(Arc<PgConnection>);

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = &self.0;
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                pgwire::api::auth::protocol_negotiation(client, startup).await?;
                pgwire::api::auth::save_startup_parameters_to_metadata(client, startup);
                let (pid, key) = conn.pids.generate(client);
                conn.register_cancel(pid, key.clone());
                client.set_pid_and_secret_key(pid, key);
                conn.choose_database(client)?;
                if conn.state.users.enabled() {
                    let mechanism = conn.cleartext.create();
                    if let AuthOutcome::Authenticated {
                        identity,
                        final_message,
                    } = conn.driver.begin_authentication(client, mechanism).await?
                    {
                        conn.session().set_permissions(identity);
                        conn.driver.complete_authentication(client, final_message).await?;
                    }
                } else {
                    pgwire::api::auth::finish_authentication(client, &Parameters).await?;
                }
                Ok(())
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                if let AuthOutcome::Authenticated {
                    identity,
                    final_message,
                } = conn.driver.advance_authentication(client, message).await?
                {
                    conn.session().set_permissions(identity);
                    conn.driver.complete_authentication(client, final_message).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
