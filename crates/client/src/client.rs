//! [`Client`]: the connections to every configured server, routing and reconnects.
//!
//! 1. [`Client::connect`] opens one connection per server in [`ClientConfig::servers`]
//!    (at least one must succeed), subscribes each to topology and procedure pushes, and
//!    reads the topology ([`Client::refresh_topology`]).
//! 2. [`Client::call`] asks the topology which host leads the partition the call runs on
//!    and picks that host's connection; unknown procedures, `@AdHoc` and system procedures
//!    go round-robin. A dead preferred connection falls back to any live one.
//! 3. When no connection is live, the call reconnects its server first. A failed attempt
//!    sets a backoff (doubling from [`ClientConfig::min_backoff`] to
//!    [`ClientConfig::max_backoff`]); calls made before it elapses fail at once with
//!    [`ClientError::NoConnection`] instead of piling up on a server that is down.
//! 4. A reconnect re-reads the topology in the background (the server may have restarted
//!    with other procedures).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use voltrs_storage::Value;
use voltrs_wire::codec::{self, Response, status};

use crate::connection::{Connection, PushHandler, Reply, Unsent};
use crate::error::ClientError;
use crate::topology::Topology;

/// VoltDB's client port, used when a server address has none.
pub const DEFAULT_PORT: u16 = 21212;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host:port` or `host` (port [`DEFAULT_PORT`]) of each server.
    pub servers: Vec<String>,
    /// The user name; empty when the server does not check logins.
    pub user: String,
    /// The password (sent as its SHA-256 digest).
    pub password: String,
    /// Limit on dialing a server and logging in.
    pub connect_timeout: Duration,
    /// Wait after the first failed reconnect attempt; it doubles with each failure.
    pub min_backoff: Duration,
    /// The longest wait between reconnect attempts.
    pub max_backoff: Duration,
    /// Largest response frame accepted, in bytes.
    pub max_message_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            servers: vec![format!("localhost:{DEFAULT_PORT}")],
            user: String::new(),
            password: String::new(),
            connect_timeout: Duration::from_secs(5),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_message_bytes: codec::DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

impl ClientConfig {
    /// The defaults, with these servers.
    pub fn new<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> ClientConfig {
        ClientConfig {
            servers: servers.into_iter().map(Into::into).collect(),
            ..ClientConfig::default()
        }
    }
}

/// One leg of [`Client::call_all_partitions`].
#[derive(Debug)]
pub struct PartitionResponse {
    pub partition: i32,
    pub result: Result<Response, ClientError>,
}

/// A connection pool to one database, shared by cloning (an `Arc` inside): every clone
/// uses the same connections, and many calls may be in flight on each.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    slots: Vec<Slot>,
    next_handle: AtomicI64,
    next_slot: AtomicUsize,
    topology: Arc<RwLock<Topology>>,
}

/// One configured server and its current connection.
struct Slot {
    server: String,
    state: Mutex<SlotState>,
    /// Held while dialing, so concurrent calls make one attempt, not one each.
    connecting: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct SlotState {
    conn: Option<Arc<Connection>>,
    /// The host id from the last login (stays known while reconnecting).
    host_id: Option<i32>,
    /// The wait after the last failed attempt (zero after a success).
    backoff: Duration,
    retry_at: Option<Instant>,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self) -> Option<Arc<Connection>> {
        self.state().conn.clone().filter(|c| !c.is_lost())
    }

    /// How long until the next reconnect attempt is allowed, if it is not yet.
    fn wait(&self) -> Option<Duration> {
        let at = self.state().retry_at?;
        at.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }
}

impl Client {
    /// Connects to every configured server; fails only if none can be reached. Topology
    /// discovery failures are tolerated (calls then go round-robin).
    pub async fn connect(config: ClientConfig) -> Result<Client, ClientError> {
        if config.servers.is_empty() {
            return Err(ClientError::Invalid("no servers to connect to".into()));
        }
        let slots = config
            .servers
            .iter()
            .map(|s| Slot {
                server: with_port(s, DEFAULT_PORT),
                state: Mutex::new(SlotState::default()),
                connecting: tokio::sync::Mutex::new(()),
            })
            .collect();
        let client = Client {
            inner: Arc::new(Inner {
                config,
                slots,
                next_handle: AtomicI64::new(1),
                next_slot: AtomicUsize::new(0),
                topology: Arc::new(RwLock::new(Topology::default())),
            }),
        };
        let mut first_error = None;
        for i in 0..client.inner.slots.len() {
            if let Err(e) = client.open_slot(i, false).await {
                first_error.get_or_insert(e);
            }
        }
        if client.inner.slots.iter().all(|s| s.live().is_none()) {
            return Err(first_error.unwrap_or_else(|| ClientError::Invalid("no server answered".into())));
        }
        // A server that does not answer discovery is still usable (round-robin).
        let limit = client.inner.config.connect_timeout;
        let _ = tokio::time::timeout(limit, client.refresh_topology()).await;
        Ok(client)
    }

    /// Calls a procedure (stored, default or system) and waits for its response. A
    /// failure status from the server is still `Ok`: check `response.status`.
    pub async fn call(&self, procedure: &str, params: Vec<Value>) -> Result<Response, ClientError> {
        let host = self.read_topology(|t| t.host_for(procedure, &params));
        self.invoke(procedure, None, &params, host).await
    }

    /// Calls a procedure and hands its answer to `callback` rather than returning a future,
    /// as VoltDB's asynchronous clients do: cheaper per call than [`Client::call`] when
    /// many are in flight (no task is woken for each answer). The callback runs on the
    /// connection's reader task, so it must not block; it may make further calls. A
    /// failure to send (no live connection and no reconnect) reaches the callback too.
    /// Must be called within a Tokio runtime: with no live connection, the reconnect runs
    /// as a task.
    pub fn call_with_callback(
        &self,
        procedure: &str,
        params: Vec<Value>,
        callback: impl FnOnce(Result<Response, ClientError>) + Send + 'static,
    ) {
        let host = self.read_topology(|t| t.host_for(procedure, &params));
        let handle = self.inner.next_handle.fetch_add(1, Ordering::Relaxed);
        let mut frame = Vec::with_capacity(64);
        codec::encode_invocation(&mut frame, procedure, handle, None, &params);
        let mut reply = Reply::Callback(Box::new(callback));
        let first = self.first_choice(host);
        if let Some(conn) = self.inner.slots[first].live() {
            match conn.send_to(handle, frame, reply) {
                Ok(()) => return,
                Err((unsent, back)) => (frame, reply) = (unsent.frame, back),
            }
        }
        // No live connection took it: reconnect (or fall back) in a task, then send once.
        let client = self.clone();
        tokio::spawn(async move {
            match client.connection_from(first).await {
                Ok(conn) => {
                    if let Err((unsent, reply)) = conn.send_to(handle, frame, reply) {
                        reply.deliver(Err(unsent.error));
                    }
                }
                Err(e) => reply.deliver(Err(e)),
            }
        });
    }

    /// Calls a single-partition procedure on `partition`, whatever its partitioning
    /// parameter hashes to (one leg of an all-partition call).
    pub async fn call_on_partition(
        &self,
        procedure: &str,
        partition: i32,
        params: Vec<Value>,
    ) -> Result<Response, ClientError> {
        let host = self.read_topology(|t| t.leader_host(partition));
        self.invoke(procedure, Some(partition), &params, host).await
    }

    /// Runs a single-partition procedure once on every partition, as VoltDB's clients do:
    /// `@GetPartitionKeys("INTEGER")` gives one key per partition, and each leg gets its
    /// key as an extra first parameter before `params`. The legs run concurrently; the
    /// answers come sorted by partition, each with its own result.
    pub async fn call_all_partitions(
        &self,
        procedure: &str,
        params: Vec<Value>,
    ) -> Result<Vec<PartitionResponse>, ClientError> {
        let keys = self.call("@GetPartitionKeys", vec![Value::str("INTEGER")]).await?;
        if keys.status != status::SUCCESS {
            return Err(ClientError::Invalid(format!(
                "@GetPartitionKeys failed: {}",
                keys.status_string.unwrap_or_default()
            )));
        }
        let mut legs = Vec::new();
        for row in keys.tables.first().map_or(&[][..], |t| &t.rows[..]) {
            let (Some(Value::Integer(partition)), Some(key)) = (row.first(), row.get(1)) else {
                return Err(ClientError::Invalid(format!(
                    "@GetPartitionKeys returned a bad row: {row:?}"
                )));
            };
            let partition = i32::try_from(*partition)
                .map_err(|_| ClientError::Invalid(format!("@GetPartitionKeys returned partition {partition}")))?;
            let mut leg = Vec::with_capacity(params.len() + 1);
            leg.push(key.clone());
            leg.extend(params.iter().cloned());
            let client = self.clone();
            let procedure = procedure.to_string();
            let task = tokio::spawn(async move { client.call_on_partition(&procedure, partition, leg).await });
            legs.push((partition, task));
        }
        let mut out = Vec::with_capacity(legs.len());
        for (partition, task) in legs {
            let result = task.await.unwrap_or_else(|e| {
                Err(ClientError::Invalid(format!(
                    "the call on partition {partition} failed: {e}"
                )))
            });
            out.push(PartitionResponse { partition, result });
        }
        out.sort_by_key(|r| r.partition);
        Ok(out)
    }

    /// The partition a call of single-partition `procedure` with `params` runs on,
    /// computed with the ring the server published; `None` for multi-partition, unknown
    /// or system procedures, or before the topology is known.
    pub fn partition_for(&self, procedure: &str, params: &[Value]) -> Option<u32> {
        self.read_topology(|t| t.partition_for(procedure, params))
    }

    /// A copy of what the client knows about partitions and procedures.
    pub fn topology(&self) -> Topology {
        self.read_topology(Topology::clone)
    }

    fn read_topology<R>(&self, f: impl FnOnce(&Topology) -> R) -> R {
        f(&self.inner.topology.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads `@Statistics TOPO` and `@SystemCatalog PROCEDURES` again (also done after
    /// every reconnect, and kept current by the server's pushes).
    pub async fn refresh_topology(&self) -> Result<(), ClientError> {
        let topo = self
            .call("@Statistics", vec![Value::str("TOPO"), Value::Integer(0)])
            .await?;
        let procedures = self.call("@SystemCatalog", vec![Value::str("PROCEDURES")]).await?;
        let discovery = |what: &str, r: &Response| -> Result<(), ClientError> {
            if r.status == status::SUCCESS {
                return Ok(());
            }
            Err(ClientError::Invalid(format!(
                "topology discovery: {what} failed: {}",
                r.status_string.as_deref().unwrap_or("no message")
            )))
        };
        discovery("@Statistics TOPO", &topo)?;
        discovery("@SystemCatalog PROCEDURES", &procedures)?;
        let mut next = Topology::default();
        next.set_topo(&topo.tables)
            .and_then(|()| match procedures.tables.first() {
                Some(t) => next.set_procedures(t),
                None => Err("@SystemCatalog PROCEDURES returned no table".into()),
            })
            .map_err(|e| ClientError::Invalid(format!("topology discovery: {e}")))?;
        *self.inner.topology.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(())
    }

    /// Sends one invocation to the connection chosen for `host` and waits for its answer.
    async fn invoke(
        &self,
        procedure: &str,
        destination: Option<i32>,
        params: &[Value],
        host: Option<i32>,
    ) -> Result<Response, ClientError> {
        let handle = self.inner.next_handle.fetch_add(1, Ordering::Relaxed);
        let mut frame = Vec::with_capacity(64);
        codec::encode_invocation(&mut frame, procedure, handle, destination, params);
        // A connection that died between being picked and taking the frame never sent it:
        // one more try then reconnects.
        let mut attempts = 2;
        loop {
            let conn = self.connection_for(host).await?;
            match conn.send(handle, frame) {
                Ok(answer) => {
                    return answer.await.unwrap_or_else(|_| {
                        Err(ClientError::ConnectionLost {
                            server: conn.server.clone(),
                            reason: "the connection closed without answering".into(),
                        })
                    });
                }
                Err(Unsent { error, frame: back }) => {
                    attempts -= 1;
                    if attempts == 0 {
                        return Err(error);
                    }
                    frame = back;
                }
            }
        }
    }

    /// The live connection to use: `host`'s if known and live, else the next live one in
    /// round-robin order; with none live, a reconnect of the first choice.
    async fn connection_for(&self, host: Option<i32>) -> Result<Arc<Connection>, ClientError> {
        self.connection_from(self.first_choice(host)).await
    }

    /// The slot a call led by `host` tries first: that host's, else the next in round-robin
    /// order.
    fn first_choice(&self, host: Option<i32>) -> usize {
        let slots = &self.inner.slots;
        let preferred = host.and_then(|h| slots.iter().position(|s| s.state().host_id == Some(h)));
        preferred.unwrap_or_else(|| self.inner.next_slot.fetch_add(1, Ordering::Relaxed) % slots.len())
    }

    /// [`Client::connection_for`] from slot `first`.
    async fn connection_from(&self, first: usize) -> Result<Arc<Connection>, ClientError> {
        let slots = &self.inner.slots;
        if let Some(c) = slots[first].live() {
            return Ok(c);
        }
        let other = (1..slots.len()).find_map(|k| slots[(first + k) % slots.len()].live());
        match other {
            Some(c) => {
                // Use a live server now; bring the first choice back in the background.
                if slots[first].wait().is_none() && slots[first].connecting.try_lock().is_ok() {
                    let client = self.clone();
                    tokio::spawn(async move { client.open_slot(first, true).await });
                }
                Ok(c)
            }
            None => self.open_slot(first, true).await,
        }
    }

    /// (Re)connects slot `i` unless it is live or backing off. After a reconnect
    /// (`refresh`), the topology is read again in the background.
    ///
    /// Boxed because it is recursive through a spawned task (the refresh makes calls,
    /// which may reconnect): a named future type breaks the cycle of `Send` checks.
    fn open_slot(&self, i: usize, refresh: bool) -> BoxFuture<'_, Result<Arc<Connection>, ClientError>> {
        Box::pin(async move {
            let slot = &self.inner.slots[i];
            let _dialing = slot.connecting.lock().await;
            if let Some(c) = slot.live() {
                return Ok(c);
            }
            if let Some(retry_in) = slot.wait() {
                return Err(ClientError::NoConnection {
                    server: slot.server.clone(),
                    retry_in,
                });
            }
            let config = &self.inner.config;
            let opened = Connection::open(
                &slot.server,
                &config.user,
                &config.password,
                config.connect_timeout,
                config.max_message_bytes,
                push_handler(&self.inner.topology),
            )
            .await;
            let conn = match opened {
                Ok(conn) => Arc::new(conn),
                Err(e) => {
                    let mut state = slot.state();
                    state.conn = None;
                    state.backoff = (state.backoff * 2).clamp(config.min_backoff, config.max_backoff);
                    state.retry_at = Some(Instant::now() + state.backoff);
                    return Err(e);
                }
            };
            *slot.state() = SlotState {
                conn: Some(conn.clone()),
                host_id: Some(conn.host_id),
                ..SlotState::default()
            };
            let mut frame = Vec::new();
            let handle = self.inner.next_handle.fetch_add(1, Ordering::Relaxed);
            codec::encode_invocation(&mut frame, "@Subscribe", handle, None, &[Value::str("TOPOLOGY")]);
            conn.send_unanswered(frame);
            if refresh {
                let client = self.clone();
                tokio::spawn(async move { client.refresh_topology().await });
            }
            Ok(conn)
        })
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Applies the server's topology and procedure pushes; keepalive answers are dropped.
fn push_handler(topology: &Arc<RwLock<Topology>>) -> PushHandler {
    let topology = topology.clone();
    Arc::new(move |r: Response| {
        if r.status != status::SUCCESS {
            return;
        }
        let mut t = topology.write().unwrap_or_else(|e| e.into_inner());
        // A push that cannot be read leaves the old topology in place.
        let _ = match r.handle {
            codec::TOPOLOGY_PUSH_HANDLE => t.set_topo(&r.tables),
            codec::PROCEDURES_PUSH_HANDLE => r.tables.first().map_or(Ok(()), |p| t.set_procedures(p)),
            _ => Ok(()),
        };
    })
}

/// `host` → `host:port`; an address with a port (or a bracketed IPv6 one) is kept.
pub fn with_port(server: &str, port: u16) -> String {
    let server = server.trim();
    let has_port = server
        .rsplit_once(':')
        .is_some_and(|(host, port)| port.parse::<u16>().is_ok() && (!host.contains(':') || host.ends_with(']')));
    if has_port {
        server.to_string()
    } else {
        format!("{server}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::with_port;

    #[test]
    fn a_server_without_a_port_gets_the_default_port() {
        assert_eq!(with_port("db1", 21212), "db1:21212");
        assert_eq!(with_port(" db1:3000 ", 21212), "db1:3000");
        assert_eq!(with_port("[::1]:3000", 21212), "[::1]:3000");
        assert_eq!(with_port("[::1]", 4000), "[::1]:4000");
    }
}
