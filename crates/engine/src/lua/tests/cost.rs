//! What a call costs, and how much of it is the full collection that sets the memory
//! baseline. Prints its figures (`cargo test -p voltrs-engine --lib lua::tests::cost --
//! --nocapture`); the release-build figures come from `benches/lua.rs`.

use std::time::Instant;

use super::*;

#[test]
fn call_and_full_gc_cost() {
    let mut site = site();
    let mut host = FakeHost::counting();
    let proc = procedure("function run(a) return a end", &[DataType::BigInt]);
    let n: u32 = 2_000;
    let started = Instant::now();
    for i in 0..n {
        let out = site.call(&proc, txn(u64::from(i)), &[Value::Integer(i.into())], false, &mut host);
        assert_eq!(scalar(&ok(out)), Value::Integer(i.into()));
    }
    let per_call = started.elapsed() / n;

    let heap = site.lua.used_memory();
    let started = Instant::now();
    for _ in 0..n {
        if let Err(e) = site.lua.gc_collect() {
            panic!("gc: {e}");
        }
    }
    let per_gc = started.elapsed() / n;

    // A site holding 50 more compiled procedures: the collection walks every live object.
    for p in 0..50 {
        let source = format!(
            "local s = voltdb.sql('SELECT {p}')\nlocal data = {{}}\nfor i = 1, 100 do data[i] = {{i, tostring(i)}} end\n\
             function run() return #data end"
        );
        let other = LuaProcedure {
            name: format!("P{p}"),
            ..procedure(&source, &[])
        };
        assert_eq!(
            scalar(&ok(site.call(&other, txn(1), &[], false, &mut host))),
            Value::Integer(100)
        );
    }
    let big_heap = site.lua.used_memory();
    let started = Instant::now();
    for _ in 0..n {
        if let Err(e) = site.lua.gc_collect() {
            panic!("gc: {e}");
        }
    }
    let per_big_gc = started.elapsed() / n;
    eprintln!(
        "lua call ({} build): {} ns; full GC: {} ns with a {heap}-byte heap, {} ns with a {big_heap}-byte heap",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        per_call.as_nanos(),
        per_gc.as_nanos(),
        per_big_gc.as_nanos()
    );
    assert!(big_heap > heap);
}
