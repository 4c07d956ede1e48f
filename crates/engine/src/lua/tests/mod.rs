//! Tests of the Lua procedure runtime, against a fake [`LuaHost`] that records every batch
//! and answers each statement from a closure.
//!
//! `api.rs`: the `voltdb` library and the voter procedure end to end; `values.rs`: value
//! conversions and `math.random`; `sandbox.rs`: escapes and limits; `cost.rs`: timings.

mod api;
mod cost;
mod sandbox;
mod values;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use voltrs_sql::error::Error;
use voltrs_sql::outcome::{ResultColumn, ResultTable};
use voltrs_storage::{DataType, Value};

use super::{LuaError, LuaFailure, LuaHost, LuaLimits, LuaProcedure, LuaSite, ProcOutput, Queued, TxnInfo};

type Responder = Box<dyn FnMut(&Queued) -> Result<ResultTable, Error>>;

/// Records batches; answers each statement with `respond`.
struct FakeHost {
    batches: Vec<(Vec<Queued>, bool)>,
    respond: Responder,
}

impl FakeHost {
    fn new(respond: impl FnMut(&Queued) -> Result<ResultTable, Error> + 'static) -> FakeHost {
        FakeHost {
            batches: Vec::new(),
            respond: Box::new(respond),
        }
    }

    /// Answers every statement with one modified row (a 1×1 BIGINT table holding 1).
    fn counting() -> FakeHost {
        FakeHost::new(|_| Ok(count(1)))
    }
}

impl LuaHost for FakeHost {
    fn execute(&mut self, batch: Vec<Queued>, final_batch: bool) -> Result<Vec<ResultTable>, Error> {
        let tables = batch.iter().map(|q| (self.respond)(q)).collect();
        self.batches.push((batch, final_batch));
        tables
    }
}

fn table(columns: &[(&str, DataType)], rows: Vec<Vec<Value>>) -> ResultTable {
    ResultTable {
        columns: columns
            .iter()
            .map(|(name, ty)| ResultColumn {
                name: name.to_string(),
                ty: *ty,
            })
            .collect(),
        rows,
    }
}

/// A DML result: the modified-row count as a 1×1 BIGINT table, as VoltDB returns it.
fn count(n: i64) -> ResultTable {
    table(&[("", DataType::BigInt)], vec![vec![Value::Integer(n)]])
}

fn txn(seed: u64) -> TxnInfo {
    TxnInfo {
        unique_id: 1_000_000 + seed as i64,
        timestamp: 1_700_000_000_000_000,
        seed,
    }
}

/// A procedure named `P` whose version is a hash of its source, so a changed source
/// recompiles.
fn procedure(source: &str, param_types: &[DataType]) -> LuaProcedure {
    let mut h = DefaultHasher::new();
    source.hash(&mut h);
    LuaProcedure {
        name: "P".into(),
        version: h.finish(),
        source: Arc::from(source),
        param_types: param_types.to_vec(),
    }
}

fn site() -> LuaSite {
    match LuaSite::new(LuaLimits::default()) {
        Ok(site) => site,
        Err(e) => panic!("cannot start Lua: {e}"),
    }
}

/// Calls a parameterless `source` on `site` against a counting host.
fn call(site: &mut LuaSite, source: &str) -> Result<ProcOutput, LuaError> {
    site.call(&procedure(source, &[]), txn(7), &[], false, &mut FakeHost::counting())
}

/// Calls a parameterless `source` on a fresh site.
fn run(source: &str) -> Result<ProcOutput, LuaError> {
    call(&mut site(), source)
}

/// The tables of a call that must succeed.
fn ok(result: Result<ProcOutput, LuaError>) -> Vec<ResultTable> {
    match result {
        Ok(out) => out.tables,
        Err(e) => panic!("call failed: {e:?}"),
    }
}

/// The failure of a call that must fail.
fn failure(result: Result<ProcOutput, LuaError>) -> LuaFailure {
    match result {
        Ok(out) => panic!("call succeeded: {out:?}"),
        Err(e) => e.failure,
    }
}

/// The message of a call that must fail with a Lua runtime error.
fn runtime(result: Result<ProcOutput, LuaError>) -> String {
    match failure(result) {
        LuaFailure::Runtime(m) => m,
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

/// The single value of a one-row, one-column result.
fn scalar(tables: &[ResultTable]) -> Value {
    match tables {
        [t] if t.rows.len() == 1 && t.rows[0].len() == 1 => t.rows[0][0].clone(),
        other => panic!("expected one 1x1 table, got {other:?}"),
    }
}
