//! A blocking VoltDB-protocol client over raw bytes, for sending what no real client would.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use voltrs_storage::Value;
use voltrs_wire::codec::{self, HashScheme, LoginRequest, Response};

/// How long a read waits before the test fails (nothing here should take that long).
pub const READ_LIMIT: Duration = Duration::from_secs(20);

pub struct Raw {
    pub stream: TcpStream,
    next_handle: i64,
}

/// A frame: the 4-byte length, then `body`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as i32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// A login frame (version 1, SHA-256 of "" for an anonymous user; security is off).
pub fn login_frame() -> Vec<u8> {
    let mut out = Vec::new();
    LoginRequest {
        scheme: HashScheme::Sha256,
        service: "database".into(),
        username: String::new(),
        digest: vec![0; 32],
    }
    .encode(&mut out);
    out
}

/// An invocation body (version 0) with a raw procedure name and raw parameter bytes
/// (count included).
pub fn invocation(name: &[u8], handle: i64, params: &[u8]) -> Vec<u8> {
    let mut b = vec![0];
    b.extend_from_slice(&(name.len() as i32).to_be_bytes());
    b.extend_from_slice(name);
    b.extend_from_slice(&handle.to_be_bytes());
    b.extend_from_slice(params);
    b
}

impl Raw {
    /// A TCP connection, not logged in.
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(READ_LIMIT)).expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        Raw { stream, next_handle: 1 }
    }

    /// A logged-in connection.
    pub fn login(port: u16) -> Raw {
        let mut c = Raw::connect(port);
        c.send(&login_frame());
        let body = c.frame().expect("a login answer");
        assert_eq!(&body[..2], &[0, 0], "login refused: {body:?}");
        c
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// The next frame's body; `None` if the server closed the connection.
    pub fn frame(&mut self) -> Option<Vec<u8>> {
        let mut len = [0u8; 4];
        if !self.read_exact(&mut len) {
            return None;
        }
        let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
        assert!(self.read_exact(&mut body), "the server closed mid-frame");
        Some(body)
    }

    /// Reads exactly `buf.len()` bytes; false at a close (end of stream or reset) before any.
    fn read_exact(&mut self, buf: &mut [u8]) -> bool {
        let mut got = 0;
        while got < buf.len() {
            match self.stream.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                Err(e) => panic!("read failed (nothing from the server for {READ_LIMIT:?}?): {e}"),
            }
        }
        assert!(got == 0 || got == buf.len(), "the server closed mid-frame");
        got == buf.len()
    }

    pub fn response(&mut self) -> Response {
        let body = self.frame().expect("a response, not a close");
        codec::decode_response(&body).expect("a well-formed response")
    }

    /// Calls a procedure and waits for its answer.
    pub fn call(&mut self, procedure: &str, params: &[Value]) -> Response {
        let handle = self.send_call(procedure, params);
        let r = self.response();
        assert_eq!(r.handle, handle);
        r
    }

    /// Sends a call without waiting; its handle.
    pub fn send_call(&mut self, procedure: &str, params: &[Value]) -> i64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        let mut out = Vec::new();
        codec::encode_invocation(&mut out, procedure, handle, None, params);
        self.send(&out);
        handle
    }

    /// SQL through `@AdHoc`, which must succeed; the first table's rows.
    pub fn sql(&mut self, sql: &str) -> Vec<Vec<Value>> {
        let r = self.call("@AdHoc", &[Value::str(sql)]);
        assert_eq!(r.status, codec::status::SUCCESS, "{sql}: {:?}", r.status_string);
        r.tables.into_iter().next().map(|t| t.rows).unwrap_or_default()
    }

    /// True if the server closes the connection (rather than sending anything).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        !self.read_exact(&mut b)
    }
}
