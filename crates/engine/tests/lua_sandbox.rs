//! The Lua sandbox end to end: procedures made with `CREATE PROCEDURE ... LANGUAGE LUA` and
//! invoked with `session.call`, on real sites.
//!
//! Escapes (os, io, debug, package, require, load, bytecode, string.dump) fail clearly and
//! roll back what the call wrote before; limits (instructions, memory, the read-only
//! timeout) fail the call alone, and the same site then serves the next call.

use std::time::{Duration, Instant};

use voltrs_engine::{Config, Database, LuaLimits, Outcome, Response, Session, Status};
use voltrs_storage::Value;
use voltrs_wire::Hashinator;

const PARTITIONS: usize = 2;
const INSTRUCTIONS: u64 = 300_000;
const MEMORY: usize = 2 << 20;

fn open(lua: LuaLimits) -> (Database, Session) {
    let config = Config {
        lua,
        ..Config::with_partitions(PARTITIONS)
    };
    let db = Database::open(config).expect("open");
    let mut s = db.session();
    s.execute_sql(
        "CREATE TABLE t (k BIGINT NOT NULL PRIMARY KEY, v VARCHAR(32));
         PARTITION TABLE t ON COLUMN k;
         INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');
         CREATE PROCEDURE good (k BIGINT) PARTITION ON TABLE t COLUMN k LANGUAGE LUA AS $$
           local get = voltdb.sql('SELECT v FROM t WHERE k = ?')
           function run(k)
             voltdb.queue(get, k)
             return voltdb.execute(true)[1]
           end
         $$;",
    )
    .expect("schema");
    (db, s)
}

fn limited() -> (Database, Session) {
    open(LuaLimits {
        instructions: INSTRUCTIONS,
        memory_bytes: MEMORY,
        read_only_timeout: Some(Duration::from_secs(10)),
    })
}

/// Creates a single-partition procedure `name (k BIGINT)` that inserts row `k` and then
/// runs `body`.
fn create(s: &mut Session, name: &str, body: &str) {
    let sql = format!(
        "CREATE PROCEDURE {name} (k BIGINT) PARTITION ON TABLE t COLUMN k LANGUAGE LUA AS $$
           local ins = voltdb.sql('INSERT INTO t VALUES (?, ?)')
           function run(k)
             voltdb.queue(ins, k, 'written first')
             voltdb.execute()
             do {body} end
             return 0
           end
         $$"
    );
    s.execute_sql(&sql).unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// A key of the same partition as key 1 that the table does not hold.
fn new_key() -> i64 {
    let h = Hashinator::new(PARTITIONS as u32);
    (100..)
        .find(|&k| h.partition_for_integer(k) == h.partition_for_integer(1))
        .expect("a key")
}

/// Calls `name` with a new key of key 1's partition: it must fail with `status` and a
/// message containing `needle`, change nothing, and leave the site serving `good(1)`.
/// Calls `name`, failing (not hanging) if no answer comes: a procedure that escaped its
/// limits would keep its site busy forever, so the database is leaked, not dropped.
fn call_or_hang(db: &Database, s: &mut Session, name: &str, params: Vec<Value>) -> Response {
    let (tx, rx) = crossbeam_channel::bounded(1);
    s.call_async(name, params, move |r| {
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(r) => r,
        Err(_) => {
            std::mem::forget(db.clone());
            panic!("{name} escaped its limits: no answer after 30 s, its site is stuck");
        }
    }
}

fn fails_alone(db: &Database, s: &mut Session, name: &str, status: Status, needle: &str) -> Response {
    let before = db.content_hashes().expect("hashes");
    let r = call_or_hang(db, s, name, vec![Value::Integer(new_key())]);
    assert_eq!(r.status, status, "{name}: {r:?}");
    let m = r.status_string.clone().unwrap_or_default();
    assert!(m.contains(needle), "{name}: {m:?} should contain {needle:?}");
    assert_eq!(
        db.content_hashes().expect("hashes"),
        before,
        "{name}: the insert was not rolled back"
    );
    let ok = s.call("good", &[Value::Integer(1)]);
    assert_eq!(ok.status, Status::Success, "after {name}: {ok:?}");
    assert_eq!(ok.tables[0].rows, vec![vec![Value::str("one")]], "after {name}");
    r
}

#[test]
fn escapes_from_the_sandbox_fail_and_roll_back() {
    let (db, mut s) = limited();
    let cases = [
        ("use_os", "os.execute('true')", "global 'os'"),
        ("use_io", "io.open('/etc/passwd')", "global 'io'"),
        ("use_debug", "debug.sethook()", "global 'debug'"),
        ("use_package", "package.loadlib('x', 'y')", "global 'package'"),
        ("use_require", "require('os')", "global 'require'"),
        ("use_load", "load('return 1')()", "global 'load'"),
        ("use_loadstring", "loadstring('return 1')()", "global 'loadstring'"),
        ("use_dofile", "dofile('/etc/passwd')", "global 'dofile'"),
        ("use_dump", "string.dump(run)", "field 'dump'"),
        (
            "use_dump_method",
            "local s = 'x' local dump = s.dump dump(run)",
            "local 'dump'",
        ),
        ("use_coroutine", "coroutine.yield()", "global 'coroutine'"),
        ("use_collectgarbage", "collectgarbage()", "global 'collectgarbage'"),
        (
            "use_string_meta",
            "getmetatable('').__index.rep = nil",
            "attempt to index a boolean value",
        ),
    ];
    for (name, body, needle) in cases {
        create(&mut s, name, body);
        fails_alone(&db, &mut s, name, Status::UnexpectedFailure, needle);
    }
    // A global assigned inside run is refused, so no state passes between transactions.
    create(&mut s, "set_global", "counter = 1");
    fails_alone(
        &db,
        &mut s,
        "set_global",
        Status::UnexpectedFailure,
        "cannot assign global 'counter' inside run",
    );
}

#[test]
fn escapes_at_declaration_refuse_the_procedure() {
    let (db, mut s) = limited();
    for (name, top, needle) in [
        ("decl_os", "os.exit()", "global 'os'"),
        ("decl_require", "local x = require('io')", "global 'require'"),
        ("decl_loop", "while true do end", "instruction limit"),
        // Declarations run under this database's limits (a site would fail it at every call).
        (
            "decl_heavy",
            "local n = 0 for i = 1, 1000000 do n = n + i end",
            "instruction limit 300000 exceeded",
        ),
    ] {
        let sql =
            format!("CREATE PROCEDURE {name} (k BIGINT) LANGUAGE LUA AS $$ {top} function run(k) return k end $$");
        let e = s.execute_sql(&sql).expect_err(name).to_string();
        assert!(e.contains("invalid Lua procedure") && e.contains(needle), "{name}: {e}");
    }
    // Bytecode is refused: chunks load as text only.
    let e = s
        .execute_sql("CREATE PROCEDURE bytecode (k BIGINT) LANGUAGE LUA AS $$\u{1b}Lua\u{54}\u{0}junk$$")
        .expect_err("bytecode");
    assert!(e.to_string().contains("binary chunk"), "{e}");
    // None of them exists afterwards.
    for name in ["decl_os", "decl_require", "decl_loop", "decl_heavy", "bytecode"] {
        let r = s.call(name, &[Value::Integer(1)]);
        assert!(r.status_string.unwrap_or_default().contains("was not found"), "{name}");
    }
    assert_eq!(s.call("good", &[Value::Integer(2)]).status, Status::Success);
    drop(db);
}

#[test]
fn an_endless_loop_hits_the_instruction_limit_and_the_site_goes_on() {
    let (db, mut s) = limited();
    let needle = format!("instruction limit {INSTRUCTIONS} exceeded");
    create(&mut s, "spin", "while true do end");
    create(
        &mut s,
        "spin_pcall",
        "while true do pcall(function() while true do end end) end",
    );
    create(&mut s, "recurse", "local function f(n) return f(n + 1) end return f(1)");
    // Code that runs while the error of a limit unwinds: a message handler, __close methods
    // (run during unwinding), callbacks from C functions. Each once kept its site forever.
    create(
        &mut s,
        "spin_xpcall",
        "while true do xpcall(function() while true do end end, function() while true do end end) end",
    );
    let closing = "local x <close> = setmetatable({}, {__close = function() while true do end end})";
    create(&mut s, "spin_close", &format!("{closing} while true do end"));
    create(
        &mut s,
        "spin_close_pcall",
        &format!("pcall(function() {closing} while true do end end)"),
    );
    create(
        &mut s,
        "spin_sort",
        "table.sort({3, 2, 1, 5, 4}, function(a, b) while true do end end)",
    );
    create(
        &mut s,
        "spin_sort_close",
        &format!("{closing} table.sort({{3, 2, 1, 5, 4}}, function(a, b) while true do end end)"),
    );
    create(
        &mut s,
        "spin_gsub",
        "local _ = ('x'):rep(100):gsub('.', function() while true do end end)",
    );
    for name in [
        "spin",
        "spin_pcall",
        "recurse",
        "spin_xpcall",
        "spin_close",
        "spin_close_pcall",
        "spin_sort",
        "spin_sort_close",
        "spin_gsub",
        "spin",
    ] {
        fails_alone(&db, &mut s, name, Status::UnexpectedFailure, &needle);
    }
    // Work below the limit runs: the counter starts afresh with each call.
    create(
        &mut s,
        "count",
        "local n = 0 for i = 1, 10000 do n = n + i end if n ~= 50005000 then voltdb.abort('sum') end",
    );
    for _ in 0..3 {
        let r = s.call("count", &[Value::Integer(new_key())]);
        assert_eq!(r.status, Status::Success, "{r:?}");
        s.execute_sql(&format!("DELETE FROM t WHERE k = {}", new_key()))
            .expect("delete");
    }
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let (db, mut s) = limited();
    let needle = format!("memory limit {MEMORY} bytes exceeded");
    create(&mut s, "hoard", "local t = {} for i = 1, 1e9 do t[i] = {i} end");
    create(&mut s, "big_string", "local x = string.rep('x', 1e9)");
    create(&mut s, "doubling", "local x = 'x' while true do x = x .. x end");
    create(
        &mut s,
        "hoard_pcall",
        "local ok = pcall(string.rep, 'y', 1e9) voltdb.abort('pcall hid it')",
    );
    for name in ["hoard", "big_string", "doubling", "hoard_pcall"] {
        fails_alone(&db, &mut s, name, Status::UnexpectedFailure, &needle);
    }
    // Garbage does not count: 20 MB of short-lived strings fit a 2 MiB limit.
    create(
        &mut s,
        "churn",
        "local n = 0 for i = 1, 2000 do n = n + #string.rep('z', 10000) end",
    );
    assert_eq!(s.call("churn", &[Value::Integer(new_key())]).status, Status::Success);
}

#[test]
fn a_read_only_endless_loop_times_out_when_instructions_are_unlimited() {
    let (db, mut s) = open(LuaLimits {
        instructions: u64::MAX,
        memory_bytes: MEMORY,
        read_only_timeout: Some(Duration::from_millis(100)),
    });
    s.execute_sql(
        "CREATE PROCEDURE look (k BIGINT) PARTITION ON TABLE t COLUMN k LANGUAGE LUA AS $$
           local get = voltdb.sql('SELECT v FROM t WHERE k = ?')
           function run(k)
             voltdb.queue(get, k)
             voltdb.execute()
             while true do end
           end
         $$",
    )
    .expect("create");
    let started = Instant::now();
    let r = s.call("look", &[Value::Integer(1)]);
    assert_eq!(r.status, Status::UnexpectedFailure, "{r:?}");
    assert!(
        r.status_string
            .unwrap_or_default()
            .contains("read-only procedure timed out after 100 ms")
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let ok = s.call("good", &[Value::Integer(1)]);
    assert_eq!(ok.status, Status::Success, "{ok:?}");
    match s.execute_sql("SELECT COUNT(*) FROM t").expect("count").pop() {
        Some(Outcome::Rows(t)) => assert_eq!(t.rows, vec![vec![Value::Integer(3)]]),
        other => panic!("{other:?}"),
    }
    drop(db);
}

#[test]
fn math_random_of_a_one_value_interval_returns_it() {
    // It once looped forever on the site (or panicked in a debug build).
    let (_db, mut s) = limited();
    s.execute_sql(
        "CREATE PROCEDURE one_value (k BIGINT) PARTITION ON TABLE t COLUMN k LANGUAGE LUA AS $$
           function run(k)
             local a, b, c = math.random(1), math.random(k, k), math.random(-3, -3)
             if a ~= 1 or b ~= k or c ~= -3 then voltdb.abort(a .. ' ' .. b .. ' ' .. c) end
             return math.random(1, 6) + 100 * math.random(7, 7)
           end
         $$",
    )
    .expect("create");
    let r = s.call("one_value", &[Value::Integer(5)]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    let Value::Integer(n) = r.tables[0].rows[0][0] else {
        panic!("{r:?}")
    };
    assert!((701..=706).contains(&n), "{n}");
}
