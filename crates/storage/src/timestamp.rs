//! TIMESTAMP: i64 microseconds since the Unix epoch, no time zone.
//! FIRST DRAFT: a helper replaces this with the complete, tested implementation.

use chrono::{DateTime, NaiveDateTime};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("invalid TIMESTAMP '{0}': expected YYYY-MM-DD[ HH:MM:SS[.ffffff]]")]
    Invalid(String),
    #[error("TIMESTAMP out of range")]
    OutOfRange,
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD HH:MM:SS.f{1,6}`.
pub fn parse_timestamp(s: &str) -> Result<i64, TimestampError> {
    let t = s.trim();
    let dt = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&format!("{t} 00:00:00"), "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| TimestampError::Invalid(s.to_string()))?;
    Ok(dt.and_utc().timestamp_micros())
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format_timestamp(micros: i64) -> String {
    match DateTime::from_timestamp_micros(micros) {
        Some(dt) => dt.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        None => micros.to_string(),
    }
}
