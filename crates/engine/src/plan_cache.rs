//! The plan cache: bound plans of queries and DML, shared by every session of a database.
//!
//! Owns: the entries, their eviction and the hit / miss counters. Must not touch: deciding
//! which literals become parameters (`voltrs_sql::parameterize`) or binding (`voltrs_sql::
//! binder`); the session does both and hands the results here.
//!
//! 1. A [`Key`] is the session's current database, the statement's text with its literals
//!    replaced by `$k` markers, and the types of those parameters. A statement whose literals
//!    could not all become parameters is keyed by its literal text with no types.
//! 2. Entries belong to one catalog version: the first lookup or insert under a newer
//!    version drops them all, so a DDL statement invalidates every plan.
//! 3. At most [`CAPACITY`] entries are kept; inserting into a full cache evicts the least
//!    recently used entry (a linear scan, paid only on inserts into a full cache).
//! 4. A plan that joins was ordered by row-count estimates; it records the counts it saw
//!    ([`CachedPlan::guard`]) and is only reused while they are unchanged, so a cached join
//!    runs in the order a fresh binding would choose (and returns rows in the same order).

use std::collections::HashMap;
use std::sync::Arc;

use voltrs_storage::DataType;

/// Most plans kept per database.
pub const CAPACITY: usize = 1024;

/// Counters of the plan cache, for tests and statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCacheStats {
    /// Statements whose plan came from the cache.
    pub hits: u64,
    /// Cacheable statements that had to be bound.
    pub misses: u64,
    /// Entries now in the cache.
    pub entries: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub database: String,
    pub text: String,
    pub types: Vec<DataType>,
}

/// A bound statement ready to run with parameter values.
pub(crate) use voltrs_sql::binder::Prepared as CachedPlan;

#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Plan(Arc<CachedPlan>),
    /// This parameterized shape does not bind with parameters: key it by its literal text.
    Literal,
}

#[derive(Default)]
pub(crate) struct PlanCache {
    version: u64,
    entries: HashMap<Key, (Entry, u64)>,
    clock: u64,
    hits: u64,
    misses: u64,
}

impl PlanCache {
    /// Drops every entry if the catalog moved on.
    fn sync(&mut self, version: u64) {
        if version != self.version {
            self.entries.clear();
            self.version = version;
        }
    }

    pub fn get(&mut self, version: u64, key: &Key) -> Option<Entry> {
        self.sync(version);
        self.clock += 1;
        let now = self.clock;
        self.entries.get_mut(key).map(|(e, used)| {
            *used = now;
            e.clone()
        })
    }

    pub fn insert(&mut self, version: u64, key: Key, entry: Entry) {
        self.sync(version);
        if self.entries.len() >= CAPACITY
            && !self.entries.contains_key(&key)
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.clock += 1;
        self.entries.insert(key, (entry, self.clock));
    }

    pub fn hit(&mut self) {
        self.hits += 1;
    }

    pub fn miss(&mut self) {
        self.misses += 1;
    }

    pub fn stats(&self) -> PlanCacheStats {
        PlanCacheStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.entries.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Entry {
        Entry::Literal
    }

    fn key(i: usize) -> Key {
        Key {
            database: "VOLTRS".into(),
            text: format!("Q SELECT {i}"),
            types: Vec::new(),
        }
    }

    #[test]
    fn evicts_the_least_recently_used_and_clears_on_a_new_version() {
        let mut c = PlanCache::default();
        for i in 0..CAPACITY {
            c.insert(0, key(i), plan());
        }
        assert!(c.get(0, &key(0)).is_some(), "touch entry 0");
        c.insert(0, key(CAPACITY), plan());
        assert_eq!(c.stats().entries, CAPACITY);
        assert!(c.get(0, &key(0)).is_some(), "recently used entry kept");
        assert!(c.get(0, &key(1)).is_none(), "least recently used entry evicted");
        assert!(c.get(1, &key(0)).is_none(), "a new catalog version drops every entry");
        assert_eq!(c.stats().entries, 0);
    }
}
