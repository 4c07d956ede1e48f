//! Sites: one OS thread per partition, owning that partition's storage outright (no lock
//! around table data). A site runs the transactions of its inbox one at a time, to
//! completion, in the order its serialization point ([`Lane`]) queued them.
//!
//! Two lanes: single-partition work arrives in the inbox; when a multi-partition
//! transaction reaches its barrier in the inbox, the site lends its partition to the MP
//! coordinator and serves only that transaction (it waits on its MP lane) until the
//! coordinator has committed or rolled back and hands the partition back. A full inbox can
//! therefore never block the coordinator's work.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use voltrs_sql::apply::{Store, UndoLog};
use voltrs_storage::Partition;

use crate::Error;
use crate::database::Shared;
use crate::txn::{Aborted, Status, TxnId, TxnResult, UniqueIds};
use crate::work::{self, TxnEnv, Work};

/// Where a transaction's result goes (a channel to a waiting caller, a network frontend).
pub(crate) type Reply = Box<dyn FnOnce(TxnResult) + Send>;

/// A unit of work in a site's inbox.
pub(crate) enum SiteTask {
    /// A single-partition transaction planned against catalog `version`.
    Sp {
        txn: TxnId,
        version: u64,
        work: Work,
        reply: Reply,
    },
    /// A multi-partition transaction's place in this partition's order: lend the partition.
    Barrier {
        lend: Sender<(usize, Partition)>,
    },
    Stop,
}

/// The partition's storage coming back from the MP coordinator, with the catalog version
/// now in force.
pub(crate) struct Returned {
    pub partition: Partition,
    pub version: u64,
}

/// A partition's serialization point: assigns sequence numbers and unique ids and enqueues,
/// so execution order (and, later, log order) is one order.
pub(crate) struct Lane {
    state: Mutex<LaneState>,
}

struct LaneState {
    seq: u64,
    ids: UniqueIds,
    inbox: Sender<SiteTask>,
}

impl Lane {
    pub fn new(partition: u32, clock: crate::txn::Clock, inbox: Sender<SiteTask>) -> Lane {
        Lane {
            state: Mutex::new(LaneState {
                seq: 0,
                ids: UniqueIds::new(partition, clock),
                inbox,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LaneState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a single-partition transaction; false if the site has stopped.
    /// `replayed` is the unique id a transaction replayed from the command log had.
    pub fn submit(&self, version: u64, work: Work, reply: Reply, replayed: Option<i64>) -> Result<(), Reply> {
        let mut l = self.lock();
        l.seq += 1;
        let unique_id = match replayed {
            Some(id) => {
                l.ids.observe(id);
                id
            }
            None => l.ids.next_id(),
        };
        let txn = TxnId { seq: l.seq, unique_id };
        let task = SiteTask::Sp {
            txn,
            version,
            work,
            reply,
        };
        l.inbox.send(task).map_err(|e| match e.into_inner() {
            SiteTask::Sp { reply, .. } => reply,
            _ => Box::new(|_| {}) as Reply,
        })
    }

    /// Queues a multi-partition transaction's barrier; false if the site has stopped.
    pub fn barrier(&self, lend: Sender<(usize, Partition)>) -> bool {
        let mut l = self.lock();
        l.seq += 1;
        l.inbox.send(SiteTask::Barrier { lend }).is_ok()
    }

    pub fn stop(&self) {
        let _ = self.lock().inbox.send(SiteTask::Stop);
    }

    /// Tasks waiting in the inbox (`/metrics` queue depth).
    pub fn depth(&self) -> usize {
        self.lock().inbox.len()
    }
}

/// What a site keeps besides its partition: its Lua state, created on first use.
pub(crate) struct SiteLocal {
    pub lua: Option<crate::lua::LuaSite>,
    pub lua_limits: crate::lua::LuaLimits,
}

/// The site thread's loop.
pub(crate) fn run_site(p: usize, shared: Arc<Shared>, inbox: Receiver<SiteTask>, mp_lane: Receiver<Returned>) {
    let mut partition = Partition::default();
    let mut version = shared.catalog().version;
    let mut undo = UndoLog::new();
    let mut local = SiteLocal {
        lua: None,
        lua_limits: shared.lua_limits,
    };
    while let Ok(task) = inbox.recv() {
        match task {
            SiteTask::Stop => break,
            SiteTask::Barrier { lend } => {
                if lend.send((p, std::mem::take(&mut partition))).is_err() {
                    break;
                }
                match mp_lane.recv() {
                    Ok(back) => {
                        partition = back.partition;
                        version = back.version;
                    }
                    Err(_) => break,
                }
            }
            SiteTask::Sp {
                txn,
                version: planned,
                work,
                reply,
            } => {
                let started = Instant::now();
                let result = if planned != version {
                    Err(Aborted::restart())
                } else {
                    execute(
                        &shared,
                        &work,
                        Store::single(&mut partition, p, &mut undo),
                        txn,
                        started,
                        &mut local,
                    )
                };
                record(&shared, work.label(), p, started, &result);
                let watermark = shared.log_committed(&work, txn, p as i32, &result);
                shared.gate.release(p, watermark, move |durable| {
                    reply(crate::durability::gated(result, durable))
                });
            }
        }
    }
}

/// Runs a transaction's work on a store and ends it: commits, publishing the row counts
/// of the tables it changed, or rolls back every change.
pub(crate) fn execute(
    shared: &Shared,
    work: &Work,
    mut store: Store,
    txn: TxnId,
    started: Instant,
    local: &mut SiteLocal,
) -> TxnResult {
    let env = TxnEnv {
        hashinator: &shared.hashinator,
        txn,
        limits: shared.limits,
        read_only: work.read_only(),
        started,
        cancel: work.cancel(),
    };
    let result = guarded(work, &mut store, &env, local);
    if result.is_ok() && !env.read_only {
        refresh_counts(shared, &store);
    }
    work::finish(result, &mut store)
}

/// Counts a finished invocation in the procedure statistics (restarts are not counted:
/// the invocation runs again).
pub(crate) fn record(shared: &Shared, name: &str, slot: usize, started: Instant, result: &TxnResult) {
    let status = result.as_ref().map_or_else(|a| a.status, |_| Status::Success);
    if status != Status::TxnRestart {
        shared
            .procedure_stats
            .record(name, slot, started.elapsed().as_nanos() as u64, status);
    }
}

/// Runs work, turning a panic (a bug) into a failed transaction rather than a dead site.
pub(crate) fn guarded(work: &Work, store: &mut Store, env: &TxnEnv, local: &mut SiteLocal) -> TxnResult {
    match catch_unwind(AssertUnwindSafe(|| work::run(work, store, env, local))) {
        Ok(r) => r,
        Err(_) => Err(Aborted::new(
            Status::UnexpectedFailure,
            Error::Invalid("internal error: the transaction panicked and was rolled back".into()),
        )),
    }
}

/// Publishes the row counts of the tables a committed transaction touched.
pub(crate) fn refresh_counts(shared: &Shared, store: &Store) {
    let touched: Vec<_> = store.undo.touched().collect();
    if !touched.is_empty() {
        shared
            .row_counts
            .set(&work::touched_counts(store.partitions, store.first, &touched));
    }
}
