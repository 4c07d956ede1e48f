//! One logged-in connection to one server, carrying many calls at once.
//!
//! 1. [`Connection::open`] dials the server, sends the login (SHA-256 of the password) and
//!    reads the answer, then splits the socket between two tasks.
//! 2. A call registers its handle in the [`Pending`] map with where its answer goes (a
//!    oneshot sender a task awaits, or a callback) and hands
//!    its encoded frame to the **writer** task, which writes every frame queued by then
//!    with one `write_all` (so concurrent calls share system calls).
//! 3. The **reader** task owns the read half: it decodes each response frame and completes
//!    the oneshot of its handle (or runs its callback, on the reader task itself), in
//!    whatever order the server answers. Frames on the
//!    reserved handles (ping, topology and procedure pushes) go to the push callback.
//! 4. When the socket closes or breaks, the reader marks the map lost: every waiting call
//!    fails with [`ClientError::ConnectionLost`], and later registrations are refused, so
//!    the client knows to reconnect. Nothing is ever re-sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use voltrs_wire::codec::{self, HashScheme, LoginRequest, Response};

use crate::error::{ClientError, login_failure_reason};

/// A login answer is small; anything bigger is not one.
const MAX_LOGIN_ANSWER_BYTES: usize = 64 * 1024;
/// Frames the writer takes off its queue and writes at once.
const WRITE_BATCH_FRAMES: usize = 512;
/// A write buffer that grew past this (a huge call) is not kept for the next batch.
const KEPT_BUFFER_BYTES: usize = 1 << 20;

/// Receives the frames that answer no call: pushes and keepalive replies.
pub(crate) type PushHandler = Arc<dyn Fn(Response) + Send + Sync>;

/// A callback that takes a call's answer (see [`crate::Client::call_with_callback`]).
pub(crate) type Callback = Box<dyn FnOnce(Result<Response, ClientError>) + Send>;

/// Where a call's answer goes.
pub(crate) enum Reply {
    /// To a task awaiting the receiver.
    Wait(oneshot::Sender<Result<Response, ClientError>>),
    /// To a callback, run on the connection's reader task.
    Callback(Callback),
}

impl Reply {
    pub(crate) fn deliver(self, result: Result<Response, ClientError>) {
        match self {
            Reply::Wait(tx) => {
                let _ = tx.send(result);
            }
            Reply::Callback(f) => f(result),
        }
    }
}

/// Calls waiting for their response, by handle; `lost` once the connection is gone.
#[derive(Default)]
struct Pending {
    calls: HashMap<i64, Reply>,
    lost: Option<String>,
}

/// A call the connection could not take (it was never sent), with its frame back.
pub(crate) struct Unsent {
    pub error: ClientError,
    pub frame: Vec<u8>,
}

pub(crate) struct Connection {
    pub server: String,
    /// The host id the server gave in its login answer (matches `@Statistics TOPO` leaders).
    pub host_id: i32,
    frames: mpsc::UnboundedSender<Vec<u8>>,
    pending: Arc<Mutex<Pending>>,
    reader: JoinHandle<()>,
}

impl Connection {
    /// Dials `server`, logs in and starts the reader and writer tasks. The whole exchange
    /// must finish within `timeout`.
    pub async fn open(
        server: &str,
        user: &str,
        password: &str,
        timeout: Duration,
        max_message_bytes: usize,
        on_push: PushHandler,
    ) -> Result<Connection, ClientError> {
        let connect_error = |reason: String| ClientError::Connect {
            server: server.to_string(),
            reason,
        };
        let (stream, host_id) = tokio::time::timeout(timeout, login(server, user, password))
            .await
            .map_err(|_| connect_error(format!("no login answer within {timeout:?}")))??;
        let (rd, wr) = stream.into_split();
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (frames, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(wr, queue, pending.clone(), server.to_string()));
        let reader = tokio::spawn(read_loop(
            rd,
            pending.clone(),
            server.to_string(),
            max_message_bytes,
            on_push,
        ));
        Ok(Connection {
            server: server.to_string(),
            host_id,
            frames,
            pending,
            reader,
        })
    }

    /// Whether the connection has closed or broken.
    pub fn is_lost(&self) -> bool {
        lock(&self.pending).lost.is_some()
    }

    /// Sends one encoded invocation frame whose handle is `handle`; the receiver yields
    /// its response (or why none will come).
    pub fn send(
        &self,
        handle: i64,
        frame: Vec<u8>,
    ) -> Result<oneshot::Receiver<Result<Response, ClientError>>, Unsent> {
        let (tx, rx) = oneshot::channel();
        self.send_to(handle, frame, Reply::Wait(tx))
            .map_err(|(unsent, _)| unsent)?;
        Ok(rx)
    }

    /// Sends one encoded invocation frame whose answer goes to `reply`. If it cannot be
    /// sent, `reply` comes back unused with the frame.
    pub fn send_to(&self, handle: i64, frame: Vec<u8>, reply: Reply) -> Result<(), (Unsent, Reply)> {
        {
            let mut pending = lock(&self.pending);
            if let Some(reason) = &pending.lost {
                let error = self.lost(reason);
                return Err((Unsent { error, frame }, reply));
            }
            pending.calls.insert(handle, reply);
        }
        if let Err(mpsc::error::SendError(frame)) = self.frames.send(frame) {
            let reply = lock(&self.pending).calls.remove(&handle);
            let error = self.lost("the connection's writer has stopped");
            return match reply {
                Some(reply) => Err((Unsent { error, frame }, reply)),
                // The reader failed it meanwhile (the connection was lost): it is answered.
                None => Ok(()),
            };
        }
        Ok(())
    }

    /// Sends a frame nobody waits for (a subscription, a keepalive ping).
    pub fn send_unanswered(&self, frame: Vec<u8>) {
        let _ = self.frames.send(frame);
    }

    fn lost(&self, reason: &str) -> ClientError {
        ClientError::ConnectionLost {
            server: self.server.clone(),
            reason: reason.to_string(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The writer ends when its queue closes (and shuts the socket down); the reader
        // would wait for the server to close, so stop it now and fail what is left.
        self.reader.abort();
        fail_all(&self.pending, &self.server, "the connection was closed by the client");
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    pending.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the connection lost and fails every waiting call.
fn fail_all(pending: &Mutex<Pending>, server: &str, reason: &str) {
    let calls = {
        let mut p = lock(pending);
        p.lost.get_or_insert_with(|| reason.to_string());
        std::mem::take(&mut p.calls)
    };
    for (_, reply) in calls {
        reply.deliver(Err(ClientError::ConnectionLost {
            server: server.to_string(),
            reason: reason.to_string(),
        }));
    }
}

/// Connects and logs in; the stream and the server's host id.
async fn login(server: &str, user: &str, password: &str) -> Result<(TcpStream, i32), ClientError> {
    let connect_error = |reason: String| ClientError::Connect {
        server: server.to_string(),
        reason,
    };
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| connect_error(e.to_string()))?;
    // Calls are small and latency matters more than packet count: the writer batches.
    let _ = stream.set_nodelay(true);
    let mut out = Vec::new();
    LoginRequest {
        scheme: HashScheme::Sha256,
        service: "database".into(),
        username: user.to_string(),
        digest: Sha256::digest(password.as_bytes()).to_vec(),
    }
    .encode(&mut out);
    stream
        .write_all(&out)
        .await
        .map_err(|e| connect_error(format!("sending the login: {e}")))?;
    let body = read_frame(&mut stream, MAX_LOGIN_ANSWER_BYTES)
        .await
        .map_err(|e| connect_error(format!("reading the login answer: {e}")))?;
    match codec::decode_login_response(&body) {
        Ok(Ok(answer)) => Ok((stream, answer.host_id)),
        Ok(Err(code)) => Err(ClientError::Login {
            server: server.to_string(),
            reason: login_failure_reason(code),
        }),
        Err(e) => Err(connect_error(format!("malformed login answer: {e}"))),
    }
}

/// Reads one frame's body (after its 4-byte length).
async fn read_frame<R: AsyncReadExt + Unpin>(rd: &mut R, max: usize) -> Result<Vec<u8>, String> {
    let mut header = [0u8; 4];
    rd.read_exact(&mut header).await.map_err(|e| describe_io(&e))?;
    let len = codec::frame_length(header, max).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; len];
    rd.read_exact(&mut body).await.map_err(|e| describe_io(&e))?;
    Ok(body)
}

fn describe_io(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the server closed the connection".into()
    } else {
        e.to_string()
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut queue: mpsc::UnboundedReceiver<Vec<u8>>,
    pending: Arc<Mutex<Pending>>,
    server: String,
) {
    let mut frames = Vec::with_capacity(WRITE_BATCH_FRAMES);
    let mut buf = Vec::with_capacity(64 * 1024);
    while queue.recv_many(&mut frames, WRITE_BATCH_FRAMES).await > 0 {
        buf.clear();
        for frame in frames.drain(..) {
            buf.extend_from_slice(&frame);
        }
        if let Err(e) = wr.write_all(&buf).await {
            // The reader sees the broken socket too; say why in case it is slower.
            fail_all(&pending, &server, &format!("writing to the server failed: {e}"));
            return;
        }
        if buf.capacity() > KEPT_BUFFER_BYTES {
            buf = Vec::with_capacity(64 * 1024);
        }
    }
    let _ = wr.shutdown().await;
}

async fn read_loop(rd: OwnedReadHalf, pending: Arc<Mutex<Pending>>, server: String, max: usize, on_push: PushHandler) {
    let mut rd = BufReader::with_capacity(64 * 1024, rd);
    let reason = loop {
        match read_frame(&mut rd, max).await {
            Ok(body) => deliver(&pending, &server, &body, &on_push),
            Err(reason) => break reason,
        }
    };
    fail_all(&pending, &server, &reason);
}

/// Hands one response frame to the call waiting for it.
fn deliver(pending: &Mutex<Pending>, server: &str, body: &[u8], on_push: &PushHandler) {
    let (handle, result) = match codec::decode_response(body) {
        Ok(r) => (r.handle, Ok(r)),
        Err(error) => {
            // The handle sits right after the version byte; without it nobody can be told.
            let Some(handle) = body.get(1..9).and_then(|b| b.try_into().ok()).map(i64::from_be_bytes) else {
                return;
            };
            let server = server.to_string();
            (handle, Err(ClientError::Protocol { server, error }))
        }
    };
    if handle >= codec::PROCEDURES_PUSH_HANDLE {
        if let Ok(r) = result {
            on_push(r);
        }
        return;
    }
    // A handle nobody waits for (a call whose future was dropped) is dropped too. The
    // lock is released before a callback runs: it may make the next call.
    let reply = lock(pending).calls.remove(&handle);
    if let Some(reply) = reply {
        reply.deliver(result);
    }
}
