//! VoltDB's binary protocol on the client and admin ports.
//!
//! A connection logs in, then carries invocations and responses. The reader task decodes
//! each frame and starts its call; replies (from site threads, the blocking pool or the
//! reader itself) go through one channel to the writer task, which encodes them and writes
//! whatever has accumulated with one `write`. So many calls are in flight per connection
//! and are answered in any order, and `@Ping` is answered while other calls run.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use voltrs_engine::{Response, Session, Status};
use voltrs_storage::Value;
use voltrs_wire::codec::{
    self, Invocation, LoginFailure, LoginRequest, LoginResponse, Param, ResponseHead, VoltType, WireError,
};

use crate::ServerState;

/// A login message is small; anything bigger is not a login.
const MAX_LOGIN_BYTES: usize = 64 * 1024;
/// The reader's buffer.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// The writer flushes once this much has accumulated.
const WRITE_BATCH_BYTES: usize = 256 * 1024;

/// Calls one connection may have in flight; the connection stops reading at the limit
/// (so a client that never reads its answers cannot make the server queue without end).
const MAX_IN_FLIGHT: usize = 10_000;

/// Something for a connection's writer to send.
pub enum Outgoing {
    Reply {
        handle: i64,
        received: Instant,
        response: Response,
        /// Freed once the answer is written.
        permit: Option<OwnedSemaphorePermit>,
    },
}

/// A call being answered: where the answer goes and what it holds.
struct Pending {
    handle: i64,
    received: Instant,
    permit: OwnedSemaphorePermit,
    tx: Sender,
}

impl Pending {
    fn answer(self, response: Response) {
        let _ = self.tx.send(Outgoing::Reply {
            handle: self.handle,
            received: self.received,
            response,
            permit: Some(self.permit),
        });
    }

    fn fail(self, status: Status, message: String) {
        self.answer(Response::failure(status, message));
    }
}

type Sender = mpsc::UnboundedSender<Outgoing>;

/// Connections that asked for topology and procedure pushes (`@Subscribe`).
#[derive(Default)]
pub struct Subscribers(Mutex<Vec<Sender>>);

impl Subscribers {
    fn add(&self, tx: Sender) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
    }

    /// Sends a push to every live subscriber, forgetting closed connections.
    fn push(&self, make: impl Fn() -> Outgoing) {
        let mut subs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        subs.retain(|tx| tx.send(make()).is_ok());
    }
}

/// Accepts connections until the process ends.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>, admin: bool) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, state.clone(), admin));
            }
            Err(e) => {
                // Out of file descriptors and the like: wait, then go on accepting.
                eprintln!("voltrs: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Counts a connection while it is open.
struct Open(Arc<ServerState>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Why a connection stopped reading.
#[derive(Debug)]
enum ReadError {
    Io,
    Wire(WireError),
}

/// Reads one frame's body; `None` at a clean end of the stream before a frame.
async fn read_frame(rd: &mut BufReader<OwnedReadHalf>, max: usize) -> Result<Option<Vec<u8>>, ReadError> {
    let mut header = [0u8; 4];
    match rd.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(_) => return Err(ReadError::Io),
    }
    let len = codec::frame_length(header, max).map_err(ReadError::Wire)?;
    let mut body = vec![0u8; len];
    rd.read_exact(&mut body).await.map_err(|_| ReadError::Io)?;
    Ok(Some(body))
}

async fn refuse(wr: &mut OwnedWriteHalf, why: LoginFailure) {
    let mut out = Vec::new();
    codec::encode_login_failure(&mut out, why);
    let _ = wr.write_all(&out).await;
    let _ = wr.shutdown().await;
}

async fn connection(stream: TcpStream, state: Arc<ServerState>, admin: bool) {
    let _ = stream.set_nodelay(true);
    let open = state.connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let _open = Open(state.clone());
    let (rd, mut wr) = stream.into_split();
    // Buffered: a pipelining client's frames arrive many per read.
    let mut rd = BufReader::with_capacity(READ_BUFFER_BYTES, rd);
    let login = tokio::time::timeout(state.config.login_timeout, read_frame(&mut rd, MAX_LOGIN_BYTES)).await;
    let body = match login {
        Err(_) => return refuse(&mut wr, LoginFailure::Timeout).await,
        Ok(Ok(Some(body))) => body,
        Ok(Ok(None)) | Ok(Err(ReadError::Io)) => return,
        Ok(Err(ReadError::Wire(_))) => return refuse(&mut wr, LoginFailure::Format).await,
    };
    let request = match LoginRequest::decode(&body) {
        Ok(r) => r,
        // As VoltDB: a digest of the wrong length fails authentication, anything else
        // malformed is a format error.
        Err(WireError::BadDigest { .. }) => return refuse(&mut wr, LoginFailure::Authentication).await,
        Err(_) => return refuse(&mut wr, LoginFailure::Format).await,
    };
    if request.service != "database" {
        return refuse(&mut wr, LoginFailure::UnknownService).await;
    }
    if open > state.config.max_connections {
        return refuse(&mut wr, LoginFailure::TooManyConnections).await;
    }
    let Ok(login) = state
        .users
        .login_digest(&request.username, request.scheme, &request.digest)
    else {
        return refuse(&mut wr, LoginFailure::Authentication).await;
    };
    // The admin port is for administrators only (when security is on).
    if admin && login.as_ref().is_some_and(|p| !p.admin) {
        return refuse(&mut wr, LoginFailure::Authentication).await;
    }
    let mut out = Vec::new();
    LoginResponse {
        host_id: 0,
        connection_id: state.next_connection_id(),
        cluster_start_ms: state.started_ms,
        leader_ipv4: leader_ipv4(&state),
        build: crate::build_string(),
    }
    .encode(&mut out);
    if wr.write_all(&out).await.is_err() {
        return;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_loop(wr, rx));
    let mut conn = Connection {
        session: state.session(login, admin),
        database: Arc::new(Mutex::new(None)),
        state,
        tx,
    };
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let body = match read_frame(&mut rd, conn.state.config.max_message_bytes).await {
            Ok(Some(body)) => body,
            Ok(None) | Err(ReadError::Io) => break,
            Err(ReadError::Wire(e)) => {
                // The framing cannot be trusted any more: say why on standard error, close.
                eprintln!("voltrs: closing a client connection: {e}");
                break;
            }
        };
        if let Err(e) = conn.invoke(&body, permit) {
            eprintln!("voltrs: closing a client connection: {e}");
            break;
        }
    }
    // Calls still running answer into a closed channel; the writer ends with the last
    // sender.
    drop(conn);
    let _ = writer.await;
}

/// The leader address of the login response: the advertised IPv4 address.
fn leader_ipv4(state: &ServerState) -> u32 {
    crate::advertised_address(&state.config.host)
        .parse::<std::net::Ipv4Addr>()
        .map(u32::from)
        .unwrap_or(0x7f00_0001)
}

/// Encodes replies and writes them in batches.
async fn write_loop(mut wr: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let mut buf = Vec::with_capacity(64 * 1024);
    while let Some(first) = rx.recv().await {
        buf.clear();
        encode(&mut buf, first);
        while buf.len() < WRITE_BATCH_BYTES {
            match rx.try_recv() {
                Ok(m) => encode(&mut buf, m),
                Err(_) => break,
            }
        }
        if wr.write_all(&buf).await.is_err() {
            return;
        }
        if buf.capacity() > 4 * WRITE_BATCH_BYTES {
            buf = Vec::with_capacity(64 * 1024);
        }
    }
}

/// One response frame.
pub fn encode(out: &mut Vec<u8>, m: Outgoing) {
    let Outgoing::Reply {
        handle,
        received,
        response,
        permit: _permit,
    } = m;
    let head = ResponseHead {
        handle,
        status: response.status.code(),
        status_string: response.status_string.as_deref(),
        app_status: response.app_status.code,
        app_status_string: response.app_status.message.as_deref(),
        round_trip_ms: received.elapsed().as_millis().min(i32::MAX as u128) as i32,
    };
    // DDL and session statements leave column-less tables; a VoltTable has at least one
    // column, and VoltDB answers DDL with no tables.
    let tables = response.tables.iter().filter(|t| !t.columns.is_empty());
    let start = codec::begin_response(out, &head, tables.clone().count());
    let mut columns = Vec::new();
    for t in tables {
        columns.clear();
        columns.extend(t.columns.iter().map(|c| (c.name.as_str(), VoltType::of(c.ty))));
        codec::encode_table(out, &columns, t.rows.iter().map(Vec::as_slice));
    }
    codec::finish_frame(out, start);
}

/// A logged-in connection's reading side.
struct Connection {
    session: Session,
    /// The database a blocking call's `USE` switched to, for the next call.
    database: Arc<Mutex<Option<String>>>,
    state: Arc<ServerState>,
    tx: Sender,
}

impl Connection {
    /// Decodes and starts one call. An invocation too broken to have a handle is an
    /// error: the connection is closed, as VoltDB does.
    fn invoke(&mut self, body: &[u8], permit: OwnedSemaphorePermit) -> Result<(), WireError> {
        let received = Instant::now();
        let call = match codec::decode_invocation(body) {
            Ok(c) => c,
            Err(e) => {
                let handle = e.handle.ok_or(e.error.clone())?;
                self.pending(handle, received, permit)
                    .fail(Status::GracefulFailure, e.error.to_string());
                return Ok(());
            }
        };
        if let Some(db) = self.database.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.session.set_database(&db);
        }
        let pending = self.pending(call.handle, received, permit);
        // Stored and default procedures, the common case, are named without `@`.
        let Some(system) = call.procedure.strip_prefix('@') else {
            self.procedure(call, pending);
            return Ok(());
        };
        let is = |name: &str| system.eq_ignore_ascii_case(name);
        if is("Ping") {
            pending.answer(success());
        } else if is("Subscribe") {
            self.state.subscribers.add(self.tx.clone());
            pending.answer(success());
        } else if is("LoadSinglepartitionTable") || is("LoadMultipartitionTable") {
            self.load(call, pending);
        } else {
            self.system(call, pending);
        }
        Ok(())
    }

    fn pending(&self, handle: i64, received: Instant, permit: OwnedSemaphorePermit) -> Pending {
        Pending {
            handle,
            received,
            permit,
            tx: self.tx.clone(),
        }
    }

    fn procedure(&mut self, call: Invocation, pending: Pending) {
        let params = match scalar_params(call.params) {
            Ok(p) => p,
            Err(message) => return pending.fail(Status::GracefulFailure, message),
        };
        match call.partition_destination {
            None => self.session.call_async(&call.procedure, params, |r| pending.answer(r)),
            Some(p) if p >= 0 => self
                .session
                .call_on_partition_async(&call.procedure, p as usize, params, |r| pending.answer(r)),
            Some(p) => pending.fail(Status::GracefulFailure, format!("invalid partition {p}")),
        }
    }

    /// A system procedure: they may block (planning, MP transactions), so they run on the
    /// blocking pool with a copy of the session.
    fn system(&mut self, call: Invocation, pending: Pending) {
        let params = match scalar_params(call.params) {
            Ok(p) => p,
            Err(message) => return pending.fail(Status::GracefulFailure, message),
        };
        let mut session = self.session.fork();
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || {
            let before = session.database().to_string();
            let response = session.call(&call.procedure, &params);
            if session.database() != before {
                *database.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.database().to_string());
            }
            pending.answer(response);
        });
    }

    /// `@LoadSinglepartitionTable(key, table, upsert, rows)` and
    /// `@LoadMultipartitionTable(table, upsert, rows)`.
    fn load(&mut self, call: Invocation, pending: Pending) {
        let single = call.procedure.eq_ignore_ascii_case("@LoadSinglepartitionTable");
        let (key, table, upsert, rows) = match parse_load(single, call.params) {
            Ok(x) => x,
            Err(message) => return pending.fail(Status::GracefulFailure, message),
        };
        let mut session = self.session.fork();
        tokio::task::spawn_blocking(move || {
            pending.answer(session.load_table(&table, key.as_deref(), upsert, rows));
        });
    }
}

type LoadArgs = (Option<Vec<u8>>, String, bool, Vec<Vec<Value>>);

fn parse_load(single: bool, params: Vec<Param>) -> Result<LoadArgs, String> {
    let name = if single {
        "@LoadSinglepartitionTable"
    } else {
        "@LoadMultipartitionTable"
    };
    let expected = if single { 4 } else { 3 };
    if params.len() != expected {
        return Err(format!(
            "{name} takes {expected} parameters ({}table name, upsert flag, rows), not {}",
            if single { "partition key, " } else { "" },
            params.len()
        ));
    }
    let mut it = params.into_iter();
    let key = if single {
        match it.next() {
            Some(Param::Value(Value::Varbinary(b))) => Some(b.to_vec()),
            Some(Param::Value(Value::Varchar(s))) => Some(s.as_bytes().to_vec()),
            Some(Param::Value(Value::Integer(i))) => Some(i.to_le_bytes().to_vec()),
            _ => return Err(format!("{name}: parameter 1 must be the partition key (VARBINARY)")),
        }
    } else {
        None
    };
    let table = match it.next() {
        Some(Param::Value(Value::Varchar(s))) => s.to_string(),
        _ => return Err(format!("{name}: the table name must be a string")),
    };
    let upsert = match it.next() {
        Some(Param::Value(Value::Integer(i))) => i != 0,
        Some(Param::Value(Value::Boolean(b))) => b,
        _ => return Err(format!("{name}: the upsert flag must be a TINYINT")),
    };
    let rows = match it.next() {
        Some(Param::Table(t)) => t.rows,
        _ => return Err(format!("{name}: the rows must be a VOLTTABLE")),
    };
    Ok((key, table, upsert, rows))
}

/// The parameters as values; arrays and tables are refused with the parameter's number.
fn scalar_params(params: Vec<Param>) -> Result<Vec<Value>, String> {
    params
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            Param::Value(v) => Ok(v),
            Param::Array(_) => Err(format!("parameter {}: array parameters are not supported", i + 1)),
            Param::Table(_) => Err(format!(
                "parameter {}: VOLTTABLE parameters are accepted only by the bulk-load procedures",
                i + 1
            )),
        })
        .collect()
}

fn success() -> Response {
    Response {
        status: Status::Success,
        status_string: None,
        app_status: Default::default(),
        tables: Vec::new(),
    }
}

/// Pushes `@SystemCatalog PROCEDURES` (handle 2^63-3) to subscribers whenever the
/// procedures change. The topology of a single node never changes.
pub async fn push_procedure_changes(state: Arc<ServerState>) {
    let mut version = state.db.catalog().version;
    let mut last = procedures(&state).await;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = state.db.catalog().version;
        if now == version {
            continue;
        }
        version = now;
        let current = procedures(&state).await;
        if current != last {
            if let Some(table) = &current {
                state.subscribers.push(|| Outgoing::Reply {
                    handle: codec::PROCEDURES_PUSH_HANDLE,
                    received: Instant::now(),
                    permit: None,
                    response: Response {
                        tables: vec![table.clone()],
                        ..success()
                    },
                });
            }
            last = current;
        }
    }
}

async fn procedures(state: &Arc<ServerState>) -> Option<voltrs_engine::ResultTable> {
    let mut session = state.db.session();
    tokio::task::spawn_blocking(move || {
        let r = session.call("@SystemCatalog", &[Value::str("PROCEDURES")]);
        (r.status == Status::Success)
            .then(|| r.tables.into_iter().next())
            .flatten()
    })
    .await
    .ok()
    .flatten()
}
