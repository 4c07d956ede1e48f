//! Errors of the SQL layer: each names what is wrong (token and position, table, column,
//! constraint) and says whether it is deterministic (the same input always fails the same way).

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// The text is not valid SQL. `line` and `column` are 1-based.
    #[error("syntax error at line {line}, column {column}: {message}")]
    Syntax { message: String, line: u64, column: u64 },
    /// An unknown or ambiguous name (table, column, database, index, procedure, function).
    #[error("{0}")]
    Name(String),
    /// A value or expression of the wrong type, or a conversion that cannot be done.
    #[error("{0}")]
    Type(String),
    /// A value out of its type's range, an arithmetic overflow, a too-long string.
    #[error("{0}")]
    Range(String),
    /// A constraint would be broken (NOT NULL, UNIQUE, PRIMARY KEY, row limit).
    #[error("{0}")]
    Constraint(String),
    /// A statement that is valid SQL but breaks a VoltDB rule (partitioning, DDL rules).
    #[error("{0}")]
    Invalid(String),
    /// Valid SQL that voltrs does not support (yet).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The statement ran longer than its time limit.
    #[error("statement timed out after {0} ms")]
    Timeout(u64),
    /// The client cancelled the statement (PostgreSQL's cancel request) before it wrote.
    #[error("canceling statement due to user request")]
    Cancelled,
    /// The session's user may not do this.
    #[error("{0}")]
    Permission(String),
}

impl Error {
    /// Whether re-running the same statement on the same state fails the same way.
    /// Only a timeout and a cancel depend on the machine.
    pub fn is_deterministic(&self) -> bool {
        !matches!(self, Error::Timeout(_) | Error::Cancelled)
    }

    /// A short class name (used in tests and to map to SQLSTATE codes later).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Syntax { .. } => "syntax",
            Error::Name(_) => "name",
            Error::Type(_) => "type",
            Error::Range(_) => "range",
            Error::Constraint(_) => "constraint",
            Error::Invalid(_) => "invalid",
            Error::Unsupported(_) => "unsupported",
            Error::Timeout(_) => "timeout",
            Error::Cancelled => "cancelled",
            Error::Permission(_) => "permission",
        }
    }
}

pub fn name_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Name(msg.into()))
}
pub fn type_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Type(msg.into()))
}
pub fn range_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Range(msg.into()))
}
pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Invalid(msg.into()))
}
pub fn unsupported<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Unsupported(msg.into()))
}

impl From<voltrs_storage::row::EncodeError> for Error {
    fn from(e: voltrs_storage::row::EncodeError) -> Self {
        Error::Invalid(format!("internal: {e}"))
    }
}

impl From<voltrs_storage::decimal::DecimalError> for Error {
    fn from(e: voltrs_storage::decimal::DecimalError) -> Self {
        match e {
            voltrs_storage::decimal::DecimalError::Invalid(_) => Error::Type(e.to_string()),
            _ => Error::Range(e.to_string()),
        }
    }
}

impl From<voltrs_storage::timestamp::TimestampError> for Error {
    fn from(e: voltrs_storage::timestamp::TimestampError) -> Self {
        match e {
            voltrs_storage::timestamp::TimestampError::Invalid(_) => Error::Type(e.to_string()),
            _ => Error::Range(e.to_string()),
        }
    }
}
