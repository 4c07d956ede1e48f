//! The database: catalog, partitions and hashinator behind one lock.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use voltrs_sql::catalog::Catalog;
use voltrs_storage::{Partition, TableId};
use voltrs_wire::Hashinator;

use crate::Error;
use crate::plan_cache::{PlanCache, PlanCacheStats};
use crate::session::Session;

#[derive(Debug, Clone)]
pub struct Config {
    /// Number of partitions (default: the number of CPU cores).
    pub partitions: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            partitions: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        }
    }
}

/// One table's storage figures (see [`Database::storage_stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    pub database: String,
    pub table: String,
    /// Rows stored, over all partitions (each copy of a replicated table's rows counts).
    pub rows: usize,
    /// Bytes of the row arenas: records, out-of-line slots, bookkeeping; not indexes.
    pub arena_bytes: usize,
}

pub(crate) struct State {
    pub catalog: Arc<Catalog>,
    pub partitions: Vec<Partition>,
    pub hashinator: Hashinator,
    pub plan_cache: PlanCache,
    last_unique: i64,
}

impl State {
    /// A unique, strictly increasing id that is also the transaction timestamp in
    /// microseconds (monotonic even if the wall clock steps back).
    pub fn next_unique(&mut self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        self.last_unique = now.max(self.last_unique + 1);
        self.last_unique
    }
}

/// The planner sees row counts rounded up to a power of two, so a plan (its join order, and
/// with it the order of unordered rows) changes only when a table doubles or halves, and a
/// cached join plan stays valid while the tables it read keep their rounded counts.
impl voltrs_sql::binder::Stats for State {
    fn row_count(&self, table: TableId) -> usize {
        self.exact_row_count(table).next_power_of_two()
    }
}

impl State {
    /// The rows of a table (one copy of a replicated one).
    fn exact_row_count(&self, table: TableId) -> usize {
        let replicated = self.catalog.all_tables().any(|t| t.id == table && !t.is_partitioned());
        if replicated {
            self.partitions
                .first()
                .and_then(|p| p.table(table))
                .map_or(0, |t| t.len())
        } else {
            self.partitions
                .iter()
                .filter_map(|p| p.table(table))
                .map(|t| t.len())
                .sum()
        }
    }
}

/// An embedded voltrs database. Cloning shares the same data.
#[derive(Clone)]
pub struct Database {
    state: Arc<Mutex<State>>,
    config: Config,
}

impl Database {
    pub fn open(config: Config) -> Result<Database, Error> {
        if config.partitions == 0 || config.partitions > voltrs_wire::hashinator::MAX_PARTITIONS as usize {
            return Err(Error::Invalid(format!(
                "partition count {} must be between 1 and {}",
                config.partitions,
                voltrs_wire::hashinator::MAX_PARTITIONS
            )));
        }
        let state = State {
            catalog: Arc::new(Catalog::new()),
            partitions: (0..config.partitions).map(|_| Partition::default()).collect(),
            hashinator: Hashinator::new(config.partitions as u32),
            plan_cache: PlanCache::default(),
            last_unique: 0,
        };
        Ok(Database {
            state: Arc::new(Mutex::new(state)),
            config,
        })
    }

    pub fn session(&self) -> Session {
        Session::new(self.clone())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Hits, misses and entries of the plan cache shared by this database's sessions.
    pub fn plan_cache_stats(&self) -> PlanCacheStats {
        self.lock().plan_cache.stats()
    }

    /// Row counts and arena bytes of every table (views included), summed over partitions
    /// (every copy of a replicated table counts).
    pub fn storage_stats(&self) -> Vec<TableStats> {
        let state = self.lock();
        let mut out = Vec::new();
        for (db, ns) in &state.catalog.databases {
            for t in ns.tables.values() {
                let stored = state.partitions.iter().filter_map(|p| p.table(t.id));
                let (rows, arena_bytes) = stored.fold((0, 0), |(r, b), s| (r + s.len(), b + s.arena_bytes()));
                out.push(TableStats {
                    database: db.clone(),
                    table: t.name.clone(),
                    rows,
                    arena_bytes,
                });
            }
        }
        out
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would poison it; the data is still consistent
        // at statement boundaries, so keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
