//! The memory monitor: like VoltDB's resource monitor, it turns the database read-only while
//! the process's resident memory is above a limit (a share of physical memory, VoltDB's
//! default 80 %), and back when it drops below. Writes then fail with a clear error; reads
//! and the sites keep serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The resident set size of this process, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Physical memory of the machine, from `/proc/meminfo`.
pub fn physical_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The monitor's verdict, shared with every session.
#[derive(Default)]
pub(crate) struct MemoryGuard {
    over: AtomicBool,
    limit: AtomicU64,
    seen: AtomicU64,
}

impl MemoryGuard {
    /// The error for writes while memory is over the limit.
    pub fn refusal(&self) -> Option<String> {
        if !self.over.load(Ordering::Relaxed) {
            return None;
        }
        Some(format!(
            "the database is read-only: resident memory {} MB is above the limit of {} MB (writes resume below it)",
            self.seen.load(Ordering::Relaxed) / (1024 * 1024),
            self.limit.load(Ordering::Relaxed) / (1024 * 1024)
        ))
    }

    /// Compares one reading with the limit.
    pub fn check(&self, resident: u64, limit: u64) {
        self.seen.store(resident, Ordering::Relaxed);
        self.limit.store(limit, Ordering::Relaxed);
        self.over.store(resident > limit, Ordering::Relaxed);
    }
}

/// Starts a thread that reads resident memory every `every` (first after one interval) and
/// updates `guard`, until `stop` is set.
pub(crate) fn start_monitor(guard: Arc<MemoryGuard>, limit: u64, every: Duration, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("voltrs-memory-monitor".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(r) = resident_bytes() {
                    guard.check(r, limit);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let r = resident_bytes().expect("statm");
        assert!(r > 1024 * 1024);
        assert!(physical_bytes().expect("meminfo") > r);
    }

    #[test]
    fn over_the_limit_refuses_writes() {
        let g = MemoryGuard::default();
        g.check(200 << 20, 300 << 20);
        assert!(g.refusal().is_none());
        g.check(400 << 20, 300 << 20);
        assert!(g.refusal().expect("refused").contains("above the limit of 300 MB"));
        g.check(100 << 20, 300 << 20);
        assert!(g.refusal().is_none());
    }
}
