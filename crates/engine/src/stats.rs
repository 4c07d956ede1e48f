//! Figures the planner, `@Statistics` and `/metrics` read while the sites own the data: row
//! counts per table and partition (refreshed by each site after every committed write) and
//! per-procedure invocation counters with a latency histogram.

use std::sync::Mutex;

use rustc_hash::FxHashMap;
use voltrs_sql::binder::Stats;
use voltrs_sql::catalog::Catalog;
use voltrs_storage::TableId;

/// Rows per table, one map per partition.
pub(crate) struct RowCounts {
    partitions: Vec<Mutex<FxHashMap<TableId, usize>>>,
}

impl RowCounts {
    pub fn new(partitions: usize) -> RowCounts {
        RowCounts {
            partitions: (0..partitions).map(|_| Mutex::new(FxHashMap::default())).collect(),
        }
    }

    /// Records the row counts `(table, partition, rows)` a transaction left.
    pub fn set(&self, counts: &[(TableId, usize, usize)]) {
        for &(t, p, n) in counts {
            if let Some(m) = self.partitions.get(p) {
                m.lock().unwrap_or_else(|e| e.into_inner()).insert(t, n);
            }
        }
    }

    /// Forgets a partition's counts and records new ones (after DDL rebuilt storage).
    pub fn reset(&self, p: usize, counts: impl Iterator<Item = (TableId, usize)>) {
        if let Some(m) = self.partitions.get(p) {
            let mut m = m.lock().unwrap_or_else(|e| e.into_inner());
            m.clear();
            m.extend(counts);
        }
    }

    fn get(&self, p: usize, table: TableId) -> usize {
        self.partitions
            .get(p)
            .and_then(|m| m.lock().unwrap_or_else(|e| e.into_inner()).get(&table).copied())
            .unwrap_or(0)
    }

    /// Rows of a table: one copy of a replicated table, the sum over partitions otherwise.
    pub fn rows(&self, catalog: &Catalog, table: TableId) -> usize {
        let replicated = catalog.all_tables().any(|t| t.id == table && !t.is_partitioned());
        if replicated {
            self.get(0, table)
        } else {
            (0..self.partitions.len()).map(|p| self.get(p, table)).sum()
        }
    }
}

/// The planner's view of the row counts: rounded up to a power of two, so a plan (its join
/// order, and with it the order of unordered rows) changes only when a table doubles or
/// halves, and a cached join plan stays valid while its tables keep their rounded counts.
pub(crate) struct PlannerStats<'a> {
    pub counts: &'a RowCounts,
    pub catalog: &'a Catalog,
}

impl Stats for PlannerStats<'_> {
    fn row_count(&self, table: TableId) -> usize {
        self.counts.rows(self.catalog, table).next_power_of_two()
    }
}

/// Upper bounds (inclusive, in nanoseconds) of the latency histogram's buckets: 1-2-5 steps
/// from 10 µs to 10 s. A last, unbounded bucket counts everything slower.
pub const LATENCY_BUCKETS_NS: [u64; 19] = [
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Buckets of the latency histogram: one per bound, then the unbounded one.
pub const LATENCY_BUCKET_COUNT: usize = LATENCY_BUCKETS_NS.len() + 1;

/// The bucket an invocation that took `ns` falls in (a binary search: no allocation).
fn latency_bucket(ns: u64) -> usize {
    LATENCY_BUCKETS_NS.partition_point(|&bound| bound < ns)
}

/// Invocation counters of one procedure on one partition.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcedureCounters {
    pub invocations: u64,
    pub aborts: u64,
    pub failures: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    pub total_ns: u64,
    /// Invocations per latency bucket (not cumulative; see [`LATENCY_BUCKETS_NS`]).
    pub latency: [u64; LATENCY_BUCKET_COUNT],
}

/// One procedure's counters summed over every partition and the MP coordinator
/// ([`Database::procedure_metrics`](crate::Database::procedure_metrics)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureMetrics {
    pub procedure: String,
    pub invocations: u64,
    pub aborts: u64,
    pub failures: u64,
    /// Time spent executing, summed over invocations (queueing excluded).
    pub total_ns: u64,
    /// Invocations per latency bucket (not cumulative): `latency[i]` counts those that took
    /// at most `LATENCY_BUCKETS_NS[i]` and more than the bound before; the last entry counts
    /// those slower than 10 s.
    pub latency: [u64; LATENCY_BUCKET_COUNT],
}

/// Per-procedure counters, one map per partition plus one for the MP coordinator (the
/// last slot), so sites never contend on them.
pub(crate) struct ProcedureStats {
    slots: Vec<Mutex<FxHashMap<String, ProcedureCounters>>>,
}

impl ProcedureStats {
    pub fn new(partitions: usize) -> ProcedureStats {
        ProcedureStats {
            slots: (0..=partitions).map(|_| Mutex::new(FxHashMap::default())).collect(),
        }
    }

    /// Counts one invocation of `name` on `slot` (a partition, or the partition count for
    /// the MP coordinator) that took `ns` and ended with `status`. Allocates only the first
    /// time a procedure runs on a slot.
    pub fn record(&self, name: &str, slot: usize, ns: u64, status: crate::txn::Status) {
        let Some(m) = self.slots.get(slot) else {
            return;
        };
        let mut map = m.lock().unwrap_or_else(|e| e.into_inner());
        let c = match map.get_mut(name) {
            Some(c) => c,
            None => map.entry(name.to_string()).or_default(),
        };
        if c.invocations == 0 || ns < c.min_ns {
            c.min_ns = ns;
        }
        c.invocations += 1;
        c.max_ns = c.max_ns.max(ns);
        c.total_ns += ns;
        c.latency[latency_bucket(ns)] += 1;
        match status {
            crate::txn::Status::Success => {}
            crate::txn::Status::UserAbort => c.aborts += 1,
            _ => c.failures += 1,
        }
    }

    /// Every (slot, procedure, counters), in slot then name order.
    pub fn snapshot(&self) -> Vec<(usize, String, ProcedureCounters)> {
        let mut out = Vec::new();
        for (slot, m) in self.slots.iter().enumerate() {
            let map = m.lock().unwrap_or_else(|e| e.into_inner());
            let mut rows: Vec<_> = map.iter().map(|(k, v)| (slot, k.clone(), *v)).collect();
            rows.sort_by(|a, b| a.1.cmp(&b.1));
            out.extend(rows);
        }
        out
    }

    /// Each procedure's counters summed over the slots, in name order.
    pub fn totals(&self) -> Vec<ProcedureMetrics> {
        let mut by_name: std::collections::BTreeMap<String, ProcedureMetrics> = Default::default();
        for (_, name, c) in self.snapshot() {
            let m = by_name.entry(name).or_insert_with_key(|name| ProcedureMetrics {
                procedure: name.clone(),
                invocations: 0,
                aborts: 0,
                failures: 0,
                total_ns: 0,
                latency: [0; LATENCY_BUCKET_COUNT],
            });
            m.invocations += c.invocations;
            m.aborts += c.aborts;
            m.failures += c.failures;
            m.total_ns += c.total_ns;
            for (sum, n) in m.latency.iter_mut().zip(c.latency) {
                *sum += n;
            }
        }
        by_name.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::Status;

    #[test]
    fn latency_buckets_include_their_upper_bound() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(10_000), 0);
        assert_eq!(latency_bucket(10_001), 1);
        assert_eq!(latency_bucket(1_000_000), 6);
        assert_eq!(latency_bucket(10_000_000_000), 18);
        assert_eq!(latency_bucket(10_000_000_001), 19);
        assert_eq!(latency_bucket(u64::MAX), LATENCY_BUCKET_COUNT - 1);
    }

    #[test]
    fn totals_sum_partitions_and_the_coordinator() {
        let stats = ProcedureStats::new(2);
        stats.record("P", 0, 5_000, Status::Success);
        stats.record("P", 1, 150_000, Status::UserAbort);
        stats.record("P", 2, 3_000_000_000, Status::GracefulFailure);
        stats.record("Q", 1, 1, Status::Success);
        let t = stats.totals();
        assert_eq!(t.len(), 2);
        let p = &t[0];
        assert_eq!(p.procedure, "P");
        assert_eq!((p.invocations, p.aborts, p.failures), (3, 1, 1));
        assert_eq!(p.total_ns, 3_000_155_000);
        assert_eq!(p.latency[0], 1);
        assert_eq!(p.latency[4], 1);
        assert_eq!(p.latency[17], 1);
        assert_eq!(p.latency.iter().sum::<u64>(), 3);
        assert_eq!(t[1].procedure, "Q");
        assert_eq!(t[1].latency[0], 1);
    }
}
