//! Lua procedure call cost (criterion): calls through `LuaSite::call` against a host that
//! answers without any SQL, so the figures are the runtime's own overhead per transaction.
//!
//! Each call starts with a full garbage collection (the memory-limit baseline), whose cost
//! grows with the site's live heap: compare the trivial call on a site holding one procedure
//! with the same call on a site holding 50 more.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use voltrs_engine::lua::{LuaHost, LuaLimits, LuaProcedure, LuaSite, Queued, TxnInfo};
use voltrs_engine::{Error, ResultColumn, ResultTable};
use voltrs_storage::{DataType, Value};

/// Answers every statement with a one-row, one-column BIGINT table holding 1.
struct OneRowHost;

impl LuaHost for OneRowHost {
    fn execute(&mut self, batch: Vec<Queued>, _: bool) -> Result<Vec<ResultTable>, Error> {
        let one = ResultTable {
            columns: vec![ResultColumn {
                name: "N".into(),
                ty: DataType::BigInt,
            }],
            rows: vec![vec![Value::Integer(1)]],
        };
        Ok(batch.iter().map(|_| one.clone()).collect())
    }
}

fn procedure(name: &str, source: &str, param_types: Vec<DataType>) -> LuaProcedure {
    LuaProcedure {
        name: name.into(),
        version: 1,
        source: Arc::from(source),
        param_types,
    }
}

const VOTE: &str = r#"
local check_contestant = voltdb.sql("SELECT contestant_number FROM contestants WHERE contestant_number = ?")
local check_votes = voltdb.sql("SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?")
local insert_vote = voltdb.sql("INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)")
function run(phone, contestant, max_votes)
  voltdb.queue(check_contestant, contestant)
  voltdb.queue(check_votes, phone)
  local r = voltdb.execute()
  if r[1]:count() == 0 then return 1 end
  if r[2]:count() == 1 and r[2]:get(1, 1) >= max_votes then return 2 end
  voltdb.queue_expect(insert_vote, voltdb.EXPECT_ONE_ROW, phone, "XX", contestant)
  voltdb.execute(true)
  return 0
end
"#;

fn calls(c: &mut Criterion) {
    let mut site = LuaSite::new(LuaLimits::default()).expect("site");
    let trivial = procedure("Trivial", "function run(a) return a end", vec![DataType::BigInt]);
    let vote = procedure(
        "Vote",
        VOTE,
        vec![DataType::BigInt, DataType::Integer, DataType::BigInt],
    );
    let mut n = 0i64;
    let mut txn = || {
        n += 1;
        TxnInfo {
            unique_id: n,
            timestamp: n,
            seed: n as u64,
        }
    };
    c.bench_function("lua: trivial procedure call, 1 procedure loaded", |b| {
        b.iter(|| {
            site.call(&trivial, txn(), &[Value::Integer(7)], false, &mut OneRowHost)
                .expect("call")
        })
    });
    c.bench_function("lua: voter procedure call (2 batches, 3 statements), fake host", |b| {
        let params = [Value::Integer(5_551_234), Value::Integer(3), Value::Integer(2)];
        b.iter(|| black_box(site.call(&vote, txn(), &params, false, &mut OneRowHost).expect("call")))
    });
    for p in 0..50 {
        let source = format!(
            "local s = voltdb.sql('SELECT {p}')\nlocal data = {{}}\nfor i = 1, 100 do data[i] = {{i, tostring(i)}} end\n\
             function run() return #data end"
        );
        let other = procedure(&format!("P{p}"), &source, vec![]);
        site.call(&other, txn(), &[], false, &mut OneRowHost).expect("load");
    }
    c.bench_function(
        "lua: trivial procedure call, 52 procedures loaded (~600 KB heap)",
        |b| {
            b.iter(|| {
                site.call(&trivial, txn(), &[Value::Integer(7)], false, &mut OneRowHost)
                    .expect("call")
            })
        },
    );
}

criterion_group!(benches, calls);
criterion_main!(benches);
