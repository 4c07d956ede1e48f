//! The VoltDB client wire protocol as pure encode/decode over byte slices
//! (../shared/reference/voltdb-wire-protocol.md): framing, login, invocations with their
//! parameter sets, responses and VoltTables.
//!
//! Every decoder takes the body of one frame (the bytes after the 4-byte length) and
//! either returns a value or a [`WireError`] naming what is wrong and where; none panics
//! or allocates more than the input can justify. Encoders append to a `Vec<u8>` and
//! write the frame length themselves.

mod error;
mod invocation;
mod login;
mod reader;
mod response;
mod table;
mod types;

pub use error::WireError;
pub use invocation::{Invocation, InvocationError, Param, decode_invocation, encode_invocation, encode_typed_param};
pub use login::{HashScheme, LoginFailure, LoginRequest, LoginResponse, decode_login_response, encode_login_failure};
pub use reader::Reader;
pub use response::{Response, ResponseHead, begin_response, decode_response, encode_response};
pub use table::{Column, Table, decode_table, decode_value, encode_table, encode_value};
pub use types::{VoltType, status};

/// The largest frame body the server accepts by default (50 MiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 50 << 20;

/// Handles VoltDB reserves: the keepalive ping and the two topology pushes.
pub const PING_HANDLE: i64 = i64::MAX;
pub const TOPOLOGY_PUSH_HANDLE: i64 = i64::MAX - 1;
pub const PROCEDURES_PUSH_HANDLE: i64 = i64::MAX - 2;

/// The body length announced by a frame's 4-byte header, checked against `max`.
pub fn frame_length(header: [u8; 4], max: usize) -> Result<usize, WireError> {
    let len = i32::from_be_bytes(header);
    if len <= 0 {
        return Err(WireError::BadFrameLength(i64::from(len)));
    }
    let len = len as usize;
    if len > max {
        return Err(WireError::TooLarge { len, max });
    }
    Ok(len)
}

/// Starts a frame in `out`: a length placeholder that [`finish_frame`] fills in.
pub fn start_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    start
}

/// Writes the length of the frame started at `start` (everything after its 4 bytes).
pub fn finish_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: Option<&str>) {
    put_bytes(out, s.map(str::as_bytes));
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

#[cfg(test)]
mod tests;
