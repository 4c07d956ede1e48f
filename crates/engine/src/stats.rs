//! Figures the planner and `@Statistics` read while the sites own the data: row counts per
//! table and partition (refreshed by each site after every committed write) and
//! per-procedure invocation counters.

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

/// Invocation counters of one procedure on one partition.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcedureCounters {
    pub invocations: u64,
    pub aborts: u64,
    pub failures: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    pub total_ns: u64,
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
    /// the MP coordinator) that took `ns` and ended with `status`.
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
}
