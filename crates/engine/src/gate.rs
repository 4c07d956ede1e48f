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
//!
//! Each releasing thread (a site, the coordinator) has its own queue, so sites do not
//! contend with each other for it. A thread's watermarks never decrease (each is the log's
//! appended position when it answered), so a queue is in watermark order and `advance`
//! takes from its front. A watermark that came out of order would only wait for the one
//! before it: never released early.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Called with `true` when the response may go out, `false` when the log failed.
type Release = Box<dyn FnOnce(bool) + Send>;

pub(crate) struct ReleaseGate {
    durable: AtomicU64,
    /// Responses held, per releasing thread, oldest first.
    lanes: Vec<Mutex<VecDeque<(u64, Release)>>>,
    failed: AtomicBool,
}

impl ReleaseGate {
    /// A gate for `lanes` releasing threads (numbered from 0) whose log is durable up to
    /// `durable`.
    pub fn new(lanes: usize, durable: u64) -> ReleaseGate {
        ReleaseGate {
            durable: AtomicU64::new(durable),
            lanes: (0..lanes.max(1)).map(|_| Mutex::new(VecDeque::new())).collect(),
            failed: AtomicBool::new(false),
        }
    }

    /// The log now decides: responses wait for `durable` to pass their watermark (set once,
    /// when the log starts and nothing is held).
    pub fn set_durable(&self, durable: u64) {
        self.durable.store(durable, Ordering::Release);
    }

    fn lane(&self, lane: usize) -> std::sync::MutexGuard<'_, VecDeque<(u64, Release)>> {
        // `lanes` is never empty; a lane number past the end shares the last queue.
        let queue = &self.lanes[lane.min(self.lanes.len() - 1)];
        queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The log failed: fails every held response and every later one.
    pub fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        for lane in 0..self.lanes.len() {
            let held = std::mem::take(&mut *self.lane(lane));
            for (_, release) in held {
                release(false);
            }
        }
    }

    /// Runs `release` once log position `watermark` is durable (now, if it already is).
    /// `lane` is the releasing thread's queue.
    pub fn release(&self, lane: usize, watermark: u64, release: impl FnOnce(bool) + Send + 'static) {
        if watermark <= self.durable.load(Ordering::Acquire) && !self.failed.load(Ordering::Acquire) {
            release(true);
            return;
        }
        let mut held = self.lane(lane);
        // Re-check under the lock: `advance` or `fail` may have run in between (they
        // publish before they take the queue's lock).
        if self.failed.load(Ordering::Acquire) {
            drop(held);
            release(false);
            return;
        }
        if watermark <= self.durable.load(Ordering::Acquire) {
            drop(held);
            release(true);
            return;
        }
        held.push_back((watermark, Box::new(release)));
    }

    /// The log is durable up to `position`: releases every response waiting for it.
    pub fn advance(&self, position: u64) {
        self.durable.fetch_max(position, Ordering::AcqRel);
        let durable = self.durable.load(Ordering::Acquire);
        let mut ready = Vec::new();
        for lane in 0..self.lanes.len() {
            {
                let mut held = self.lane(lane);
                while held.front().is_some_and(|(w, _)| *w <= durable) {
                    if let Some((_, release)) = held.pop_front() {
                        ready.push(release);
                    }
                }
            }
            for release in ready.drain(..) {
                release(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn holds_until_durable() {
        // Two releasing threads, each with rising watermarks.
        let gate = ReleaseGate::new(2, 0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for (lane, w) in [(0, 1u64), (1, 2), (0, 3), (1, 3), (0, 5)] {
            let s = seen.clone();
            gate.release(lane, w, move |_| s.lock().unwrap().push((lane, w)));
        }
        gate.release(1, 0, {
            let s = seen.clone();
            move |_| s.lock().unwrap().push((1, 0))
        });
        assert_eq!(*seen.lock().unwrap(), vec![(1, 0)]);
        gate.advance(2);
        assert_eq!(*seen.lock().unwrap(), vec![(1, 0), (0, 1), (1, 2)]);
        gate.advance(4);
        assert_eq!(*seen.lock().unwrap(), vec![(1, 0), (0, 1), (1, 2), (0, 3), (1, 3)]);
        gate.advance(10);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(1, 0), (0, 1), (1, 2), (0, 3), (1, 3), (0, 5)]
        );
    }

    #[test]
    fn a_watermark_out_of_order_waits_for_the_one_ahead_never_less() {
        let gate = ReleaseGate::new(1, 0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for w in [3u64, 1] {
            let s = seen.clone();
            gate.release(0, w, move |_| s.lock().unwrap().push(w));
        }
        gate.advance(2);
        assert!(seen.lock().unwrap().is_empty(), "1 waits behind 3");
        gate.advance(3);
        assert_eq!(*seen.lock().unwrap(), vec![3, 1]);
    }

    #[test]
    fn without_a_log_everything_passes() {
        let gate = ReleaseGate::new(1, u64::MAX);
        let seen = Arc::new(AtomicU64::new(0));
        let s = seen.clone();
        gate.release(0, u64::MAX - 1, move |_| {
            s.store(1, Ordering::SeqCst);
        });
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_log_fails_held_and_later_responses() {
        let gate = ReleaseGate::new(1, 0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        for w in [1u64, 2] {
            let s = seen.clone();
            gate.release(0, w, move |ok| s.lock().unwrap().push((w, ok)));
        }
        gate.fail();
        let s = seen.clone();
        gate.release(0, 0, move |ok| s.lock().unwrap().push((0, ok)));
        assert_eq!(*seen.lock().unwrap(), vec![(1, false), (2, false), (0, false)]);
    }
}
