//! voltrs-slt: a runner for SQLite's sqllogictest format against the voltrs engine.
//!
//! - [`parser`]: the script format (records, conditions, `halt`, `hash-threshold`, `control`).
//! - [`format`]: value formatting by type letter, sorting, MD5 hashing of results.
//! - [`runner`]: conditions and `halt` resolution, result checking, and running a file on a
//!   fresh database with a watchdog.
//!
//! The binary (`src/main.rs`) only parses the command line and prints totals.

pub mod format;
pub mod parser;
pub mod runner;
