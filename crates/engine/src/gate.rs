//! The release gate: no response leaves before every command-log record it could have
//! observed is durable.
//!
//! Each transaction's response carries a watermark: the highest log position it could have
//! seen (its site's latest write, or the maximum over sites for a multi-partition one). The
//! gate releases it at once when that position is durable and otherwise holds it until the
//! log reports durability up to it. Without a command log every position counts as durable
//! (`durable = u64::MAX`), so responses pass straight through; the hot path is the same.
//!
//! When the log fails (a write or sync error), every held response and every later one is
//! released as failed: no client hears that a write committed when it may not be on disk.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Called with `true` when the response may go out, `false` when the log failed.
type Release = Box<dyn FnOnce(bool) + Send>;

pub(crate) struct ReleaseGate {
    durable: AtomicU64,
    held: Mutex<BTreeMap<u64, Vec<Release>>>,
    failed: std::sync::atomic::AtomicBool,
}

impl ReleaseGate {
    /// A gate whose log is durable up to `durable`.
    pub fn new(durable: u64) -> ReleaseGate {
        ReleaseGate {
            durable: AtomicU64::new(durable),
            held: Mutex::new(BTreeMap::new()),
            failed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The log now decides: responses wait for `durable` to pass their watermark (set once,
    /// when the log starts and nothing is held).
    pub fn set_durable(&self, durable: u64) {
        self.durable.store(durable, Ordering::Release);
    }

    /// The log failed: fails every held response and every later one.
    pub fn fail(&self) {
        let held = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            self.failed.store(true, Ordering::Release);
            std::mem::take(&mut *held)
        };
        for release in held.into_values().flatten() {
            release(false);
        }
    }

    /// Runs `release` once log position `watermark` is durable (now, if it already is).
    pub fn release(&self, watermark: u64, release: impl FnOnce(bool) + Send + 'static) {
        if watermark <= self.durable.load(Ordering::Acquire) && !self.failed.load(Ordering::Acquire) {
            release(true);
            return;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if self.failed.load(Ordering::Acquire) {
            drop(held);
            release(false);
            return;
        }
        // Re-check under the lock: `advance` may have run in between.
        if watermark <= self.durable.load(Ordering::Acquire) {
            drop(held);
            release(true);
            return;
        }
        held.entry(watermark).or_default().push(Box::new(release));
    }

    /// The log is durable up to `position`: releases every response waiting for it.
    pub fn advance(&self, position: u64) {
        let ready = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            self.durable.fetch_max(position, Ordering::AcqRel);
            let later = held.split_off(&(position.saturating_add(1)));
            std::mem::replace(&mut *held, later)
        };
        for release in ready.into_values().flatten() {
            release(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn holds_until_durable() {
        let gate = ReleaseGate::new(0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for w in [3u64, 1, 2, 5] {
            let s = seen.clone();
            gate.release(w, move |_| s.lock().unwrap().push(w));
        }
        gate.release(0, {
            let s = seen.clone();
            move |_| s.lock().unwrap().push(0)
        });
        assert_eq!(*seen.lock().unwrap(), vec![0]);
        gate.advance(2);
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2]);
        gate.advance(4);
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2, 3]);
        gate.advance(10);
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2, 3, 5]);
    }

    #[test]
    fn without_a_log_everything_passes() {
        let gate = ReleaseGate::new(u64::MAX);
        let seen = Arc::new(AtomicU64::new(0));
        let s = seen.clone();
        gate.release(u64::MAX - 1, move |_| {
            s.store(1, Ordering::SeqCst);
        });
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_log_fails_held_and_later_responses() {
        let gate = ReleaseGate::new(0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for w in [1u64, 2] {
            let s = seen.clone();
            gate.release(w, move |ok| s.lock().unwrap().push((w, ok)));
        }
        gate.fail();
        let s = seen.clone();
        gate.release(0, move |ok| s.lock().unwrap().push((0, ok)));
        assert_eq!(*seen.lock().unwrap(), vec![(1, false), (2, false), (0, false)]);
    }
}
