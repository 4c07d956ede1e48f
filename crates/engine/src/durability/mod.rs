//! Durability: the command log (every committed write's invocation, appended before its
//! result is released), snapshots, and recovery from them. The formats are specified in
//! docs/STORAGE-FORMAT.md.

pub mod io;
pub mod snapshot;
