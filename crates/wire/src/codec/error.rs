use thiserror::Error;

/// Why bytes are not a valid message. Each names the field and the offset in the body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("invalid frame length {0} (must be positive)")]
    BadFrameLength(i64),
    #[error("message of {len} bytes is over the maximum message size of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("truncated message: {what} needs {needed} bytes at offset {offset}, {available} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("invalid length {len} for {what} at offset {offset}")]
    BadLength {
        what: &'static str,
        len: i64,
        offset: usize,
    },
    #[error("{what} at offset {offset} is not valid UTF-8")]
    InvalidUtf8 { what: &'static str, offset: usize },
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion { what: &'static str, version: i8 },
    #[error("unknown parameter type {code} at offset {offset}")]
    UnknownType { code: i8, offset: usize },
    /// A login's password digest does not have its hash scheme's length (VoltDB answers
    /// this with an authentication failure, not a format error).
    #[error("password digest is {len} bytes, expected {expected} for {scheme}")]
    BadDigest {
        len: usize,
        expected: usize,
        scheme: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}
