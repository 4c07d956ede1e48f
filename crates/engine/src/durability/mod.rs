//! Durability: the command log (every committed write's invocation, appended before its
//! result is released), snapshots, and recovery from them. The formats are specified in
//! docs/STORAGE-FORMAT.md.

pub mod check;
pub mod io;
pub mod log;
pub mod record;
pub mod recover;
pub mod scan;
pub mod snapshot;
pub mod snapshots;

pub use log::{LogMode, LogSettings};
pub use recover::{Durability, Recovery};
pub use snapshots::SnapshotSettings;

use crate::Error;
use crate::txn::{Aborted, Status, TxnResult};

/// A transaction's result as released by the gate: unchanged when its log records are
/// durable, failed when the command log failed first.
pub(crate) fn gated(result: TxnResult, durable: bool) -> TxnResult {
    if durable {
        return result;
    }
    Err(Aborted::new(
        Status::UnexpectedFailure,
        Error::Invalid(
            "the command log could not be written, so this transaction's outcome is unknown to the log: the server stops"
                .into(),
        ),
    ))
}
