//! voltrs server: the network frontends over the engine (tokio lives here and only here).
//!
//! `run(config)` binds the client and admin ports (VoltDB's binary protocol, [`volt`]) and
//! the HTTP port (VoltDB's JSON API, `/metrics`, `/health`, [`http`]), opens the database,
//! prints `voltrs listening client=PORT admin=PORT http=PORT` and serves until SIGINT,
//! SIGTERM or `@Shutdown`.
//!
//! Each connection has its own engine [`Session`](voltrs_engine::Session). Calls of stored
//! procedures go to the sites with `call_async`, whose reply is handed back to the
//! connection's writer; system procedures that block (`@AdHoc`, `@Statistics`, ...) run on
//! tokio's blocking pool, so a connection keeps reading (and answering `@Ping`) meanwhile.

pub mod auth;
pub mod config;
pub mod http;
pub mod pg;
pub mod volt;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::net::TcpListener;
use voltrs_engine::{ClusterState, Database, MemoryInfo, NodeInfo};

pub use auth::Users;
pub use config::ServerConfig;

/// The ports actually bound (after port 0 picked free ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub client: u16,
    pub admin: u16,
    pub http: u16,
    pub pg: u16,
}

/// What every frontend shares.
pub struct ServerState {
    pub db: Database,
    pub config: ServerConfig,
    pub users: Users,
    pub ports: Ports,
    /// Milliseconds since the Unix epoch when the server started (the cluster instance id).
    pub started_ms: i64,
    /// Open VoltDB-protocol connections.
    pub connections: AtomicUsize,
    next_connection_id: AtomicI64,
    /// Connections that called `@Subscribe`.
    pub subscribers: volt::Subscribers,
}

impl ServerState {
    pub fn next_connection_id(&self) -> i64 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A session for one connection, limited to what its user may do.
    pub fn session(&self, login: auth::Login, admin_port: bool) -> voltrs_engine::Session {
        let mut s = self.db.session();
        s.set_admin(admin_port || login.as_ref().is_some_and(|p| p.admin));
        s.set_permissions(login);
        s
    }
}

/// Binds one port, or a start-up error naming it.
async fn bind(host: &str, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on the {what} port {port} of {host}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The engine settings a server configuration implies.
fn engine_config(config: &ServerConfig) -> voltrs_engine::Config {
    let mut c = voltrs_engine::Config::default();
    if let Some(n) = config.sites {
        c.partitions = n;
    }
    c.query_timeout = config.query_timeout;
    let mut durability = voltrs_engine::durability::Durability::on_disk(&config.dir, config.log.clone());
    durability.snapshots = config.snapshots.clone();
    c.durability = Some(durability);
    c.memory_limit_bytes = config.memory_limit_percent.and_then(|p| {
        let total = voltrs_engine::physical_memory_bytes()?;
        Some(total / 100 * u64::from(p))
    });
    c
}

/// Starts everything and serves until asked to stop.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    config.check()?;
    let users = Users::from_config(&config.security)?;
    let client = bind(&config.host, config.client_port, "client").await?;
    let admin = bind(&config.host, config.admin_port, "admin").await?;
    let http = bind(&config.host, config.http_port, "HTTP").await?;
    let pg = bind(&config.host, config.pg_port, "PostgreSQL").await?;
    let ports = Ports {
        client: client.local_addr()?.port(),
        admin: admin.local_addr()?.port(),
        http: http.local_addr()?.port(),
        pg: pg.local_addr()?.port(),
    };
    // After the ports: a start that fails on a taken port leaves no folder behind.
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("cannot create the data folder {}", config.dir.display()))?;
    let mut engine = engine_config(&config);
    if config.sites.is_none()
        && let Some(n) = stored_partitions(&config.dir)
    {
        // The folder's partition count wins over the core count (replay depends on it).
        engine.partitions = n;
    }
    let db = Database::open(engine)?;
    if let Some(r) = db.recovery() {
        eprintln!(
            "voltrs: recovered {} command-log records in {:.3} s",
            r.replayed,
            r.elapsed.as_secs_f64()
        );
    }
    let started_ms = now_ms();
    db.set_node_info(node_info(&config, ports, started_ms, db.config().partitions));
    let state = Arc::new(ServerState {
        db,
        config,
        users,
        ports,
        started_ms,
        connections: AtomicUsize::new(0),
        next_connection_id: AtomicI64::new(1),
        subscribers: volt::Subscribers::default(),
    });
    tokio::spawn(volt::serve(client, state.clone(), false));
    tokio::spawn(volt::serve(admin, state.clone(), true));
    tokio::spawn(http::serve(http, state.clone()));
    tokio::spawn(pg::serve(pg, state.clone()));
    tokio::spawn(volt::push_procedure_changes(state.clone()));
    // Signal handlers go in before the line that tells the world the server is up.
    let stop = stop_signals()?;
    println!(
        "voltrs listening client={} admin={} http={} pg={}",
        ports.client, ports.admin, ports.http, ports.pg
    );
    eprintln!(
        "voltrs: {} partitions, data folder {}, command log {}",
        state.db.config().partitions,
        state.config.dir.display(),
        match state.config.log.mode {
            voltrs_engine::durability::LogMode::Sync => "sync (a write is acknowledged once on disk)".to_string(),
            voltrs_engine::durability::LogMode::Async => format!(
                "async (a killed server loses nothing acknowledged; an OS crash up to about {} ms of it)",
                state.config.log.flush_interval.as_millis()
            ),
            voltrs_engine::durability::LogMode::Off => "off (nothing survives a restart)".to_string(),
        }
    );
    let why = wait_for_stop(&state, stop).await;
    if let Some(failure) = state.db.log_failure() {
        // Every unacknowledged write has failed; this memory may hold what the log lost,
        // so the server stops rather than serve it (a restart recovers from the disk).
        anyhow::bail!("the command log failed, stopping: {failure}");
    }
    eprintln!("voltrs: stopping ({why})");
    Ok(())
}

/// The partition count a data folder was created with, if it was.
fn stored_partitions(dir: &std::path::Path) -> Option<usize> {
    std::fs::read_to_string(dir.join("partitions"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// SIGINT and SIGTERM, listened to from now on.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

fn stop_signals() -> anyhow::Result<StopSignals> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(StopSignals {
        interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
    })
}

/// Resolves on SIGINT, SIGTERM or `@Shutdown`, saying which.
async fn wait_for_stop(state: &ServerState, mut signals: StopSignals) -> &'static str {
    let shutdown = async {
        loop {
            if state.db.shutdown_requested() || state.db.log_failure().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        _ = signals.interrupt.recv() => "SIGINT",
        _ = signals.terminate.recv() => "SIGTERM",
        _ = shutdown => "@Shutdown",
    }
}

/// What `@SystemInformation` reports about this node.
fn node_info(config: &ServerConfig, ports: Ports, started_ms: i64, partitions: usize) -> NodeInfo {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let hostname = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    NodeInfo {
        host_id: 0,
        hostname,
        ip_address: advertised_address(&config.host),
        client_port: ports.client,
        admin_port: ports.admin,
        http_port: ports.http,
        pg_port: Some(ports.pg),
        version: env!("CARGO_PKG_VERSION").into(),
        build: build_string(),
        start_time_ms: started_ms,
        uptime: Duration::ZERO,
        cluster_state: ClusterState::Running,
        sites: partitions,
        partitions,
        cpus,
        data_dir: config.dir.display().to_string(),
        command_log: config.log.mode.name().into(),
        memory: MemoryInfo::default(),
    }
}

/// The address clients should dial: the bound host, or loopback for a wildcard bind.
fn advertised_address(host: &str) -> String {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_unspecified() => "127.0.0.1".into(),
        Ok(ip) => ip.to_string(),
        Err(_) => (host, 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .map(|a: SocketAddr| a.ip().to_string())
            .unwrap_or_else(|| "127.0.0.1".into()),
    }
}

/// The build string of the login response and `@SystemInformation`.
pub fn build_string() -> String {
    format!("voltrs-{}", env!("CARGO_PKG_VERSION"))
}
