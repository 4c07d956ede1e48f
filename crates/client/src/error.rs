use std::time::Duration;

use thiserror::Error;
use voltrs_wire::codec::WireError;

/// Why a call got no response. A response with a failure status (a constraint violation,
/// an unknown procedure, a user abort) is not an error here: it is an `Ok(Response)` whose
/// `status` says so. These are transport and usage failures only.
///
/// Every variant names the server (`host:port`) it concerns, and the type is `Clone` so
/// one lost connection can fail every call that was waiting on it.
#[derive(Debug, Clone, Error)]
pub enum ClientError {
    /// The TCP connection (or the login exchange) could not be completed.
    #[error("cannot connect to {server}: {reason}")]
    Connect { server: String, reason: String },
    /// The server answered the login with a failure code.
    #[error("login to {server} refused: {reason}")]
    Login { server: String, reason: String },
    /// The connection closed or broke while the call was in flight (or before it could be
    /// sent). The call may or may not have run on the server; it is never re-sent.
    #[error("connection to {server} lost: {reason}")]
    ConnectionLost { server: String, reason: String },
    /// No connection is open and the next reconnect attempt is not due yet.
    #[error("no connection to {server}: the last attempt failed, next attempt in {retry_in:?}")]
    NoConnection { server: String, retry_in: Duration },
    /// A response frame could not be decoded. The frame was whole, so the connection stays
    /// usable; only the call it answered fails.
    #[error("malformed response from {server}: {error}")]
    Protocol { server: String, error: WireError },
    /// The request itself cannot be made: no servers configured, a bad address, an
    /// unknown partition.
    #[error("{0}")]
    Invalid(String),
}

/// What VoltDB's login failure codes mean (`ClientAuthScheme` / `AuthenticationResult`).
pub(crate) fn login_failure_reason(code: i8) -> String {
    match code {
        -1 => "authentication failed (unknown user or wrong password)".into(),
        1 => "too many connections".into(),
        2 => "the server timed out waiting for the login".into(),
        3 => "the server could not read the login message".into(),
        5 => "unknown service".into(),
        other => format!("failure code {other}"),
    }
}
