//! The database: the catalog, the partition sites, the MP coordinator and the initiator
//! that routes transactions to them.
//!
//! [`Database::open`] starts one site thread per partition and the coordinator thread; the
//! threads stop when the last `Database` handle is dropped. Planning happens on the
//! caller's thread against the current catalog (`Arc<Catalog>`, swapped by DDL);
//! execution happens on the sites.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, bounded, unbounded};
use voltrs_sql::catalog::Catalog;
use voltrs_sql::route::Route;
use voltrs_wire::Hashinator;

use voltrs_sql::procedures::ProcedureDef;

use crate::Error;
use crate::coordinator::{MpTask, run_coordinator};
use crate::plan_cache::{PlanCache, PlanCacheStats};
use crate::session::Session;
use crate::site::{Lane, Reply, run_site};
use crate::stats::{ProcedureMetrics, ProcedureStats, RowCounts};
use crate::sysproc::NodeInfo;
use crate::txn::{Aborted, Status, TxnResult};
use crate::work::{Limits, Work};

/// Stack of site and coordinator threads: deep (but bounded) expressions and query
/// nesting recurse in the executor. Only the pages used are ever committed.
const SITE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// How many tasks a site's inbox holds before submitters wait (backpressure).
const INBOX_CAPACITY: usize = 4096;

#[derive(Debug, Clone)]
pub struct Config {
    /// Number of partitions, one site thread each (default: the number of CPU cores).
    pub partitions: usize,
    /// Time limit of read-only transactions (VoltDB's default: 10 s); `None` for no limit.
    pub query_timeout: Option<Duration>,
    /// Largest result one statement may build, in bytes (VoltDB's default: 100 MB).
    pub temp_table_bytes: usize,
    /// Resident memory above which the database turns read-only (VoltDB's default: 80 % of
    /// physical memory); `None` turns the monitor off.
    pub memory_limit_bytes: Option<u64>,
    /// Limits of Lua procedures.
    pub lua: crate::lua::LuaLimits,
    /// The clock of transaction ids and timestamps (a fixed one makes runs repeatable).
    pub clock: crate::txn::Clock,
    /// The data folder and command log; `None` keeps everything in memory only.
    pub durability: Option<crate::durability::Durability>,
}

impl Config {
    /// The defaults with `partitions` partitions.
    pub fn with_partitions(partitions: usize) -> Config {
        Config {
            partitions,
            ..Config::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            partitions: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            query_timeout: Some(Duration::from_secs(10)),
            temp_table_bytes: 100 * 1024 * 1024,
            memory_limit_bytes: crate::memory::physical_bytes().map(|b| b / 10 * 8),
            lua: crate::lua::LuaLimits::default(),
            clock: crate::txn::Clock::System,
            durability: None,
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

/// State shared by the initiator (callers' threads), the sites and the coordinator.
pub(crate) struct Shared {
    catalog: RwLock<Arc<Catalog>>,
    pub hashinator: Hashinator,
    pub lanes: Vec<Lane>,
    mp: Sender<MpTask>,
    pub gate: crate::gate::ReleaseGate,
    pub plan_cache: Mutex<PlanCache>,
    pub row_counts: RowCounts,
    pub procedure_stats: ProcedureStats,
    pub limits: Limits,
    pub lua_limits: crate::lua::LuaLimits,
    pub clock: crate::txn::Clock,
    /// Round-robin position for work that any site can answer.
    anywhere: AtomicUsize,
    /// `@Pause`: the client port takes only reads.
    paused: AtomicBool,
    shutdown: AtomicBool,
    node: Mutex<NodeInfo>,
    /// Default procedures planned for one catalog version, by database and lower-case name.
    defaults: Mutex<(u64, HashMap<String, Arc<ProcedureDef>>)>,
    pub memory: Arc<crate::memory::MemoryGuard>,
    stop_monitor: Arc<AtomicBool>,
    /// The command log, once recovery is over (none without durability).
    pub log: std::sync::OnceLock<Arc<crate::durability::log::CommandLog>>,
    /// The unique id the next transaction takes (replay of a logged transaction).
    replayed_id: Mutex<Option<i64>>,
    log_writer: Mutex<Option<JoinHandle<()>>>,
    /// Every DDL batch applied, in order, with its database: a snapshot rebuilds the
    /// catalog from it.
    ddl_history: Mutex<Vec<(String, String)>>,
    /// The last LSN recovery replayed (what a snapshot includes when no log runs).
    recovered_lsn: std::sync::atomic::AtomicU64,
    /// The snapshot thread (durability only).
    pub snapshots: std::sync::OnceLock<Arc<crate::durability::snapshots::SnapshotService>>,
}

impl Shared {
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Starts serving with `log` (after recovery); its writer thread stops with the database.
    pub fn set_log(&self, log: Arc<crate::durability::log::CommandLog>, writer: JoinHandle<()>) {
        let _ = self.log.set(log);
        *self.log_writer.lock().unwrap_or_else(|e| e.into_inner()) = Some(writer);
    }

    pub fn set_recovered_lsn(&self, lsn: u64) {
        self.recovered_lsn.store(lsn, Ordering::Release);
    }

    /// The last LSN whose effects are in memory: the log's last appended record, or the
    /// last one recovery replayed when no log runs.
    pub fn last_lsn(&self) -> u64 {
        self.log
            .get()
            .map_or_else(|| self.recovered_lsn.load(Ordering::Acquire), |l| l.appended())
    }

    /// Records a DDL batch that committed (for snapshots).
    pub fn note_ddl(&self, database: &str, sql: &str) {
        self.ddl_history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((database.to_string(), sql.to_string()));
    }

    pub fn ddl_history(&self) -> Vec<(String, String)> {
        self.ddl_history.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The database is being dropped: background threads stop.
    pub fn stopping(&self) -> bool {
        self.stop_monitor.load(Ordering::Relaxed)
    }

    /// Replay: the next transaction takes `id` (its unique id in the log).
    pub fn set_replayed_id(&self, id: Option<i64>) {
        *self.replayed_id.lock().unwrap_or_else(|e| e.into_inner()) = id;
    }

    pub fn take_replayed_id(&self) -> Option<i64> {
        self.replayed_id.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Logs a committed write and returns the watermark its result waits for: the last LSN
    /// appended (0 without a log). The log releases it once synced (synchronous mode) or
    /// written to the operating system (asynchronous mode).
    pub fn log_committed(&self, work: &Work, txn: crate::txn::TxnId, partition: i32, result: &TxnResult) -> u64 {
        let Some(log) = self.log.get() else {
            return 0;
        };
        if result.is_ok()
            && !work.read_only()
            && let Some((database, command)) = work.logged()
        {
            log.append(txn.unique_id, txn.timestamp(), partition, database, &command);
        }
        log.appended()
    }

    /// Installs the next catalog version (the coordinator, at a DDL barrier).
    pub fn install_catalog(&self, next: Arc<Catalog>) {
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = next;
    }

    pub fn plan_cache(&self) -> MutexGuard<'_, PlanCache> {
        self.plan_cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn partition_count(&self) -> usize {
        self.lanes.len()
    }

    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, on: bool) {
        self.paused.store(on, Ordering::Relaxed);
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::Relaxed);
    }

    pub fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Why writes are refused now for memory, if they are.
    pub fn memory_refusal(&self) -> Option<String> {
        self.memory.refusal()
    }

    /// What this node reports in `@SystemInformation` and `@Statistics`.
    pub fn node_info(&self) -> NodeInfo {
        let mut n = self.node.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        n.uptime = Duration::from_millis(now.saturating_sub(n.start_time_ms).max(0) as u64);
        n
    }

    fn default_key(db: &str, name: &str) -> String {
        format!("{db}\0{}", name.to_lowercase())
    }

    /// A default procedure planned for catalog `version`, if cached.
    pub fn cached_default(&self, version: u64, db: &str, name: &str) -> Option<Arc<ProcedureDef>> {
        let d = self.defaults.lock().unwrap_or_else(|e| e.into_inner());
        if d.0 != version {
            return None;
        }
        d.1.get(&Self::default_key(db, name)).cloned()
    }

    pub fn cache_default(&self, version: u64, db: &str, name: &str, def: Arc<ProcedureDef>) {
        let mut d = self.defaults.lock().unwrap_or_else(|e| e.into_inner());
        if d.0 != version {
            d.0 = version;
            d.1.clear();
        }
        d.1.insert(Self::default_key(db, name), def);
    }

    /// Queues a transaction on the route's site or the coordinator; `reply` gets its result.
    pub fn submit(&self, route: Route, version: u64, work: Work, reply: Reply) {
        let unavailable = |reply: Reply| {
            reply(Err(Aborted::new(
                Status::ServerUnavailable,
                Error::Invalid("the database is shutting down".into()),
            )))
        };
        let p = match route {
            Route::Partition(p) => p,
            Route::Anywhere => self.anywhere.fetch_add(1, Ordering::Relaxed) % self.lanes.len(),
            Route::Multi => {
                let task = MpTask::Run { version, work, reply };
                if let Err(e) = self.mp.send(task)
                    && let MpTask::Run { reply, .. } = e.into_inner()
                {
                    unavailable(reply);
                }
                return;
            }
        };
        match self.lanes.get(p) {
            Some(lane) => {
                if let Err(reply) = lane.submit(version, work, reply, self.take_replayed_id()) {
                    unavailable(reply);
                }
            }
            None => unavailable(reply),
        }
    }

    /// Runs a transaction and waits for its result.
    pub fn run(&self, route: Route, version: u64, work: Work) -> TxnResult {
        let (tx, rx) = bounded(1);
        self.submit(
            route,
            version,
            work,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv().unwrap_or_else(|_| {
            Err(Aborted::new(
                Status::UnexpectedFailure,
                Error::Invalid("internal: the transaction's site stopped".into()),
            ))
        })
    }
}

/// Stops the threads when the last handle goes.
struct Threads {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.shared.stop_monitor.store(true, Ordering::Relaxed);
        let _ = self.shared.mp.send(MpTask::Stop);
        for lane in &self.shared.lanes {
            lane.stop();
        }
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        // The sites are done: the log writer writes (and syncs) what they appended.
        if let Some(log) = self.shared.log.get() {
            log.stop();
        }
        let writer = self.shared.log_writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = writer {
            let _ = w.join();
        }
    }
}

/// An embedded voltrs database. Cloning shares the same data.
#[derive(Clone)]
pub struct Database {
    pub(crate) shared: Arc<Shared>,
    _threads: Arc<Threads>,
    config: Config,
    /// What opening the data folder did (durability only).
    recovery: Option<Arc<crate::durability::Recovery>>,
    /// Held while any handle lives: the data folder's lock.
    _folder_lock: Option<Arc<Box<dyn Send + Sync>>>,
}

impl Database {
    pub fn open(config: Config) -> Result<Database, Error> {
        let n = config.partitions;
        if n == 0 || n > voltrs_wire::hashinator::MAX_PARTITIONS as usize {
            return Err(Error::Invalid(format!(
                "partition count {n} must be between 1 and {}",
                voltrs_wire::hashinator::MAX_PARTITIONS
            )));
        }
        let mut inboxes = Vec::with_capacity(n);
        let mut lanes = Vec::with_capacity(n);
        for p in 0..n {
            let (tx, rx) = bounded(INBOX_CAPACITY);
            lanes.push(Lane::new(p as u32, config.clock, tx));
            inboxes.push(rx);
        }
        let (mp_tx, mp_rx) = unbounded();
        let shared = Arc::new(Shared {
            catalog: RwLock::new(Arc::new(Catalog::new())),
            hashinator: Hashinator::new(n as u32),
            lanes,
            mp: mp_tx,
            // One queue per site, and one for the coordinator.
            gate: crate::gate::ReleaseGate::new(n + 1, u64::MAX),
            plan_cache: Mutex::new(PlanCache::default()),
            row_counts: RowCounts::new(n),
            procedure_stats: ProcedureStats::new(n),
            limits: Limits {
                query_timeout: config.query_timeout,
                temp_bytes: config.temp_table_bytes,
            },
            lua_limits: config.lua,
            clock: config.clock,
            anywhere: AtomicUsize::new(0),
            paused: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            node: Mutex::new(default_node_info(n)),
            defaults: Mutex::new((0, HashMap::new())),
            memory: Arc::new(crate::memory::MemoryGuard::default()),
            stop_monitor: Arc::new(AtomicBool::new(false)),
            log: std::sync::OnceLock::new(),
            replayed_id: Mutex::new(None),
            log_writer: Mutex::new(None),
            ddl_history: Mutex::new(Vec::new()),
            snapshots: std::sync::OnceLock::new(),
            recovered_lsn: std::sync::atomic::AtomicU64::new(0),
        });
        if let Some(limit) = config.memory_limit_bytes {
            crate::memory::start_monitor(
                shared.memory.clone(),
                limit,
                Duration::from_millis(500),
                shared.stop_monitor.clone(),
            );
        }
        let mut handles = Vec::with_capacity(n + 1);
        let mut returns = Vec::with_capacity(n);
        for (p, inbox) in inboxes.into_iter().enumerate() {
            let (back_tx, back_rx) = bounded(1);
            returns.push(back_tx);
            let s = shared.clone();
            let h = std::thread::Builder::new()
                .name(format!("voltrs-site-{p}"))
                .stack_size(SITE_STACK_BYTES)
                .spawn(move || run_site(p, s, inbox, back_rx))
                .map_err(|e| Error::Invalid(format!("cannot start site thread {p}: {e}")))?;
            handles.push(h);
        }
        let s = shared.clone();
        let h = std::thread::Builder::new()
            .name("voltrs-mp-coordinator".into())
            .stack_size(SITE_STACK_BYTES)
            .spawn(move || run_coordinator(s, mp_rx, returns))
            .map_err(|e| Error::Invalid(format!("cannot start the MP coordinator: {e}")))?;
        handles.push(h);
        let mut db = Database {
            _threads: Arc::new(Threads {
                shared: shared.clone(),
                handles,
            }),
            shared,
            config,
            recovery: None,
            _folder_lock: None,
        };
        if let Some(d) = db.config.durability.clone() {
            let (recovery, lock) = crate::durability::recover::open(&db, &d)?;
            db.recovery = Some(Arc::new(recovery));
            db._folder_lock = Some(Arc::new(lock));
        }
        Ok(db)
    }

    /// What opening the data folder did: the snapshot loaded, the log records replayed.
    pub fn recovery(&self) -> Option<&crate::durability::Recovery> {
        self.recovery.as_deref()
    }

    /// The command log's failure, if it failed (the database then takes no writes and every
    /// result fails; a server must stop).
    pub fn log_failure(&self) -> Option<String> {
        self.shared.log.get().and_then(|l| l.failure())
    }

    pub fn session(&self) -> Session {
        Session::new(self.clone())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current catalog version.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared.catalog()
    }

    /// Hits, misses and entries of the plan cache shared by this database's sessions.
    pub fn plan_cache_stats(&self) -> PlanCacheStats {
        self.shared.plan_cache().stats()
    }

    /// Each procedure's invocation counters and latency histogram, summed over partitions
    /// (restarted invocations count once), in name order. System procedures that run as
    /// transactions appear under their names (`@AdHoc`, `@Statistics`, ...).
    pub fn procedure_metrics(&self) -> Vec<ProcedureMetrics> {
        self.shared.procedure_stats.totals()
    }

    /// Transactions waiting in each partition's inbox, by partition.
    pub fn queue_depths(&self) -> Vec<usize> {
        self.shared.lanes.iter().map(Lane::depth).collect()
    }

    /// Row counts and arena bytes of every table (views included), summed over partitions
    /// (every copy of a replicated table counts). Runs as a read-only MP transaction.
    pub fn storage_stats(&self) -> Vec<TableStats> {
        let catalog = self.catalog();
        match self.shared.run(Route::Multi, catalog.version, Work::StorageStats) {
            Ok(c) => crate::work::decode_storage_stats(&catalog, &c),
            Err(_) => Vec::new(),
        }
    }
}

/// This node's description until a server sets its own ([`Database::set_node_info`]).
fn default_node_info(partitions: usize) -> NodeInfo {
    let hostname = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let start_time_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    NodeInfo {
        host_id: 0,
        hostname,
        ip_address: "127.0.0.1".into(),
        client_port: 21212,
        admin_port: 21211,
        http_port: 8080,
        pg_port: None,
        version: env!("CARGO_PKG_VERSION").into(),
        build: format!("voltrs {}", env!("CARGO_PKG_VERSION")),
        start_time_ms,
        uptime: Duration::ZERO,
        cluster_state: crate::sysproc::ClusterState::Running,
        sites: partitions,
        partitions,
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        data_dir: String::new(),
        command_log: "off".into(),
        memory: crate::sysproc::MemoryInfo {
            physical_bytes: crate::memory::physical_bytes().unwrap_or(0),
            ..Default::default()
        },
    }
}

impl Database {
    /// Sets what `@SystemInformation` reports about this node (ports, host, folder); the
    /// server calls it once it has bound its ports.
    pub fn set_node_info(&self, node: NodeInfo) {
        *self.shared.node.lock().unwrap_or_else(|e| e.into_inner()) = node;
    }

    /// One digest per partition of everything it stores (tables, views, indexes' rows),
    /// independent of row order: equal on two databases that ran the same invocations.
    pub fn content_hashes(&self) -> Result<Vec<u64>, Error> {
        let catalog = self.catalog();
        let c = self
            .shared
            .run(Route::Multi, catalog.version, Work::ContentHash)
            .map_err(|a| a.error)?;
        let Some(crate::Outcome::Rows(t)) = c.outcomes.first() else {
            return Ok(Vec::new());
        };
        Ok(t.rows
            .iter()
            .map(|r| match r.get(1) {
                Some(voltrs_storage::Value::Integer(h)) => *h as u64,
                _ => 0,
            })
            .collect())
    }

    /// Whether `@Shutdown` was called.
    pub fn shutdown_requested(&self) -> bool {
        self.shared.shutdown_requested()
    }

    /// Registers a Rust procedure in the default database (a schema change: it runs as a
    /// multi-partition barrier and its statements are planned now and after every DDL).
    pub fn register_procedure(&self, spec: crate::procedure::native::NativeSpec) -> Result<(), Error> {
        self.register_procedure_in(voltrs_sql::catalog::DEFAULT_DATABASE, spec)
    }

    /// Registers a Rust procedure in database `database`.
    pub fn register_procedure_in(
        &self,
        database: &str,
        spec: crate::procedure::native::NativeSpec,
    ) -> Result<(), Error> {
        let catalog = self.catalog();
        let work = Work::Ddl(crate::ddl::DdlWork {
            source: None,
            ops: vec![crate::ddl::DdlOp::Register(spec)],
            database: database.to_uppercase(),
            partition_first_column: false,
        });
        self.shared
            .run(Route::Multi, catalog.version, work)
            .map(|_| ())
            .map_err(|a| a.error)
    }
}
