//! The multi-partition (MP) coordinator: one thread that runs MP transactions one at a
//! time.
//!
//! For each transaction it puts a barrier in every partition's order ([`Lane::barrier`]);
//! each site, on reaching it, lends its partition and waits. With every partition in hand,
//! the coordinator runs the transaction over all of them (queries run their per-partition
//! fragments one partition per call and merge), commits or rolls back, and hands each
//! partition back with the catalog version now in force. DDL runs here too: it is an MP
//! barrier that installs the next catalog version.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, bounded};
use voltrs_sql::apply::{Store, UndoLog};
use voltrs_storage::Partition;

use crate::Error;
use crate::database::Shared;
use crate::site::{Reply, Returned, SiteLocal, execute, record};
use crate::txn::{Aborted, MP_PARTITION, Status, TxnId, UniqueIds};
use crate::work::Work;

pub(crate) enum MpTask {
    Run { version: u64, work: Work, reply: Reply },
    Stop,
}

pub(crate) fn run_coordinator(shared: Arc<Shared>, inbox: Receiver<MpTask>, returns: Vec<Sender<Returned>>) {
    let n = returns.len();
    let mut ids = UniqueIds::new(MP_PARTITION, shared.clock);
    let mut seq = 0u64;
    let mut undo = UndoLog::new();
    let mut local = SiteLocal {
        lua: None,
        lua_limits: shared.lua_limits,
    };
    while let Ok(MpTask::Run { version, work, reply }) = inbox.recv() {
        seq += 1;
        let unique_id = match shared.take_replayed_id() {
            Some(id) => {
                ids.observe(id);
                id
            }
            None => ids.next_id(),
        };
        let txn = TxnId { seq, unique_id };
        let Some(mut parts) = gather(&shared, n) else {
            reply(Err(Aborted::new(
                Status::ServerUnavailable,
                Error::Invalid("the database is shutting down".into()),
            )));
            break;
        };
        let started = Instant::now();
        let result = if let Work::Ddl(ddl) = &work {
            let r = crate::ddl::apply(ddl, &shared, &mut parts, txn);
            if r.is_ok()
                && let Some((database, crate::durability::record::CommandRef::AdHoc { sql, .. })) = work.logged()
            {
                shared.note_ddl(database, sql);
            }
            r
        } else if let Work::Snapshot(capture) = &work {
            crate::durability::snapshots::capture(capture, &shared, &parts)
        } else if let Work::Install(rows) = &work {
            crate::durability::snapshots::install(rows, &shared, &mut parts)
        } else if version != shared.catalog().version {
            Err(Aborted::restart())
        } else {
            let store = Store::all(&mut parts, &mut undo);
            execute(&shared, &work, store, txn, started, &mut local)
        };
        record(&shared, work.label(), n, started, &result);
        let current = shared.catalog().version;
        for (p, partition) in parts.into_iter().enumerate() {
            if let Some(back) = returns.get(p) {
                let _ = back.send(Returned {
                    partition,
                    version: current,
                });
            }
        }
        let watermark = shared.log_committed(&work, txn, crate::durability::record::MULTI_PARTITION, &result);
        // The coordinator's queue follows the sites'.
        shared.gate.release(shared.lanes.len(), watermark, move |durable| {
            reply(crate::durability::gated(result, durable))
        });
    }
}

/// Puts a barrier in every partition's order and collects the lent partitions.
fn gather(shared: &Shared, n: usize) -> Option<Vec<Partition>> {
    let (lend, lent) = bounded(n);
    for lane in &shared.lanes {
        if !lane.barrier(lend.clone()) {
            return None;
        }
    }
    drop(lend);
    let mut parts: Vec<Partition> = (0..n).map(|_| Partition::default()).collect();
    for _ in 0..n {
        let (p, part) = lent.recv().ok()?;
        *parts.get_mut(p)? = part;
    }
    Some(parts)
}
