//! The release gate: no response leaves before every command-log record it could have
//! observed is durable.
//!
//! Each transaction's response carries a watermark: the highest log position it could have
//! seen (its site's latest write, or the maximum over sites for a multi-partition one). The
//! gate releases it at once when that position is durable and otherwise holds it until the
//! log reports durability up to it. Without a command log every position counts as durable
//! (`durable = u64::MAX`), so responses pass straight through; the hot path is the same.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

type Release = Box<dyn FnOnce() + Send>;

pub(crate) struct ReleaseGate {
    durable: AtomicU64,
    held: Mutex<BTreeMap<u64, Vec<Release>>>,
}

impl ReleaseGate {
    /// A gate whose log is durable up to `durable`.
    pub fn new(durable: u64) -> ReleaseGate {
        ReleaseGate {
            durable: AtomicU64::new(durable),
            held: Mutex::new(BTreeMap::new()),
        }
    }

    /// Runs `release` once log position `watermark` is durable (now, if it already is).
    pub fn release(&self, watermark: u64, release: impl FnOnce() + Send + 'static) {
        if watermark <= self.durable.load(Ordering::Acquire) {
            release();
            return;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        // Re-check under the lock: `advance` may have run in between.
        if watermark <= self.durable.load(Ordering::Acquire) {
            drop(held);
            release();
            return;
        }
        held.entry(watermark).or_default().push(Box::new(release));
    }

    /// The log is durable up to `position`: releases every response waiting for it.
    #[allow(dead_code)] // called by the command log writer (durability issue)
    pub fn advance(&self, position: u64) {
        let ready = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            self.durable.fetch_max(position, Ordering::AcqRel);
            let later = held.split_off(&(position.saturating_add(1)));
            std::mem::replace(&mut *held, later)
        };
        for release in ready.into_values().flatten() {
            release();
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
            gate.release(w, move || s.lock().unwrap().push(w));
        }
        gate.release(0, {
            let s = seen.clone();
            move || s.lock().unwrap().push(0)
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
        gate.release(u64::MAX - 1, move || {
            s.store(1, Ordering::SeqCst);
        });
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
