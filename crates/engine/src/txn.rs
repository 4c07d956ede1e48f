//! Transactions: their identity (sequence number and unique id), what they run, and how
//! they end.
//!
//! Two kinds of id, as VoltDB: a sequence number per partition (and one for the MP
//! coordinator) that orders execution and, later, the command log and replication; and a
//! unique id (milliseconds, a counter and the partition) that is the transaction's
//! timestamp and the seed of its random generator, monotonic even if the clock steps back.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Error, Outcome};

/// The MP coordinator's partition id in unique ids and topology (VoltDB's `MP_INIT_PID`).
pub const MP_PARTITION: u32 = 16383;

/// Identity and determinism inputs of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnId {
    /// Position in its partition's (or the MP coordinator's) order.
    pub seq: u64,
    /// Unique across the database; see [`UniqueIds`].
    pub unique_id: i64,
}

impl TxnId {
    /// The transaction's timestamp in microseconds since the epoch.
    pub fn timestamp(&self) -> i64 {
        let ms = (self.unique_id >> (COUNTER_BITS + PARTITION_BITS)) + EPOCH_MS;
        let counter = (self.unique_id >> PARTITION_BITS) & ((1 << COUNTER_BITS) - 1);
        ms * 1000 + counter
    }

    /// The seed of the transaction's random generator.
    pub fn seed(&self) -> u64 {
        self.unique_id as u64
    }
}

const COUNTER_BITS: u32 = 9;
/// Unique ids count milliseconds from 2008-01-01 UTC (VoltDB's epoch), so 41 bits last
/// until 2077.
const PARTITION_BITS: u32 = 14;

const EPOCH_MS: i64 = 1_199_145_600_000;

/// Unique ids for one partition: `(milliseconds since 2008 << 23) | (counter << 14) |
/// partition`.
/// The counter orders ids within a millisecond; when it runs out, or the clock steps back,
/// the generator moves its own millisecond forward instead of waiting for the clock.
#[derive(Debug)]
pub struct UniqueIds {
    partition: u32,
    last_ms: i64,
    counter: i64,
    clock: Clock,
}

/// Where unique ids take their milliseconds from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The wall clock (ids still never go backwards).
    #[default]
    System,
    /// A clock stopped at this many milliseconds since the Unix epoch: ids then depend only
    /// on each partition's order of transactions, so two databases that run the same
    /// invocations in the same order assign the same ids, timestamps and random seeds
    /// (determinism tests; replay will reuse logged ids instead).
    Fixed(i64),
}

impl UniqueIds {
    pub fn new(partition: u32, clock: Clock) -> UniqueIds {
        UniqueIds {
            partition: partition & ((1 << PARTITION_BITS) - 1),
            last_ms: 0,
            counter: 0,
            clock,
        }
    }

    /// Makes later ids larger than `id` (a replayed transaction's, from the command log),
    /// whatever the clock says.
    pub fn observe(&mut self, id: i64) {
        let ms = id >> (COUNTER_BITS + PARTITION_BITS);
        let counter = (id >> PARTITION_BITS) & ((1 << COUNTER_BITS) - 1);
        if (ms, counter) > (self.last_ms, self.counter) {
            self.last_ms = ms;
            self.counter = counter;
        }
    }

    pub fn next_id(&mut self) -> i64 {
        let now = match self.clock {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            Clock::Fixed(ms) => ms,
        };
        let now = (now - EPOCH_MS).max(0);
        if now > self.last_ms {
            self.last_ms = now;
            self.counter = 0;
        } else {
            self.counter += 1;
            if self.counter >= 1 << COUNTER_BITS {
                self.last_ms += 1;
                self.counter = 0;
            }
        }
        (self.last_ms << (COUNTER_BITS + PARTITION_BITS)) | (self.counter << PARTITION_BITS) | self.partition as i64
    }
}

/// VoltDB's response status codes (`ClientResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Success,
    /// The procedure aborted itself (or an expectation failed).
    UserAbort,
    /// A SQL, constraint or parameter error: the transaction rolled back, the server is fine.
    GracefulFailure,
    /// The procedure failed unexpectedly (a Lua runtime error, a limit).
    UnexpectedFailure,
    ServerUnavailable,
    /// Internal: the catalog changed between planning and execution; plan again.
    TxnRestart,
    OperationalFailure,
}

impl Status {
    /// The status byte on the wire.
    pub fn code(self) -> i8 {
        match self {
            Status::Success => 1,
            Status::UserAbort => -1,
            Status::GracefulFailure => -2,
            Status::UnexpectedFailure => -3,
            Status::ServerUnavailable => -5,
            Status::TxnRestart => -8,
            Status::OperationalFailure => -9,
        }
    }
}

/// The application status a procedure set (VoltDB's default code is -128).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatus {
    pub code: i8,
    pub message: Option<String>,
}

impl Default for AppStatus {
    fn default() -> Self {
        AppStatus {
            code: -128,
            message: None,
        }
    }
}

/// A committed transaction's results: one outcome per statement (or per returned table).
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    pub outcomes: Vec<Outcome>,
    pub app_status: AppStatus,
}

/// Why a transaction rolled back.
#[derive(Debug, Clone, PartialEq)]
pub struct Aborted {
    pub status: Status,
    pub error: Error,
    pub app_status: AppStatus,
}

impl Aborted {
    pub fn new(status: Status, error: Error) -> Aborted {
        Aborted {
            status,
            error,
            app_status: AppStatus::default(),
        }
    }

    /// A SQL, constraint or parameter error.
    pub fn graceful(error: Error) -> Aborted {
        Aborted::new(Status::GracefulFailure, error)
    }

    pub(crate) fn restart() -> Aborted {
        Aborted::new(
            Status::TxnRestart,
            Error::Invalid("the schema changed while the transaction was queued".into()),
        )
    }
}

pub type TxnResult = Result<Committed, Aborted>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_increase_and_carry_the_partition() {
        let mut g = UniqueIds::new(5, Clock::System);
        let mut last = 0;
        for _ in 0..5000 {
            let id = g.next_id();
            assert!(id > last);
            assert_eq!(id & ((1 << PARTITION_BITS) - 1), 5);
            last = id;
        }
    }

    #[test]
    fn a_fixed_clock_gives_the_same_ids() {
        let mut a = UniqueIds::new(3, Clock::Fixed(1_700_000_000_000));
        let mut b = UniqueIds::new(3, Clock::Fixed(1_700_000_000_000));
        for _ in 0..2000 {
            assert_eq!(a.next_id(), b.next_id());
        }
    }

    #[test]
    fn timestamps_follow_unique_ids() {
        let mut g = UniqueIds::new(1, Clock::System);
        let a = TxnId {
            seq: 1,
            unique_id: g.next_id(),
        };
        let b = TxnId {
            seq: 2,
            unique_id: g.next_id(),
        };
        assert!(b.timestamp() > a.timestamp());
        let now_us = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as i64;
        assert!((a.timestamp() - now_us).abs() < 5_000_000);
    }
}
