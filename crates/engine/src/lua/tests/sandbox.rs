//! Sandbox escapes and limits. Every bad call must fail alone: the same site then runs a good
//! call correctly.

use std::time::{Duration, Instant};

use super::*;
use crate::lua::declared_statements;

const GOOD: &str = "local s = voltdb.sql('SELECT 1')\nfunction run()\n voltdb.queue(s)\n return voltdb.execute()[1]:scalar() + 41\nend";

fn small_limits() -> LuaLimits {
    LuaLimits {
        instructions: 2_000_000,
        memory_bytes: 8 << 20,
        read_only_timeout: Some(Duration::from_secs(10)),
    }
}

/// Runs `body` as `run`'s body on a site with small limits, then a good call on that site.
fn fails_alone(body: &str) -> LuaFailure {
    let mut site = LuaSite::new(small_limits()).unwrap_or_else(|e| panic!("{e}"));
    let source = format!("function run()\n{body}\nend");
    let failed = failure(call(&mut site, &source));
    assert_eq!(ok(call(&mut site, GOOD)), vec![count(42)], "after: {failed:?}");
    failed
}

fn fails_alone_with(body: &str) -> String {
    match fails_alone(body) {
        LuaFailure::Runtime(m) => m,
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

fn instruction_limit() -> LuaFailure {
    LuaFailure::Limit("instruction limit 2000000 exceeded".into())
}

fn memory_limit() -> LuaFailure {
    LuaFailure::Limit(format!("memory limit {} bytes exceeded", 8 << 20))
}

#[test]
fn endless_loops_hit_the_instruction_limit() {
    assert_eq!(fails_alone("while true do end"), instruction_limit());
    assert_eq!(
        fails_alone("local function f() return f() end\nreturn f()"),
        instruction_limit(),
        "tail calls"
    );
    // A pcall cannot swallow the limit, however the loop is nested.
    assert_eq!(
        fails_alone("while true do pcall(function() while true do end end) end"),
        instruction_limit()
    );
    assert_eq!(
        fails_alone("while true do xpcall(function() while true do end end, function() while true do end end) end"),
        instruction_limit()
    );
    assert_eq!(
        fails_alone("local ok, e = pcall(function() while true do end end)\nreturn 1"),
        instruction_limit()
    );
}

#[test]
fn allocation_hits_the_memory_limit() {
    assert_eq!(
        fails_alone("local t = {}\nfor i = 1, 1e9 do t[i] = {i} end"),
        memory_limit()
    );
    assert_eq!(fails_alone("return string.rep('x', 1e9)"), memory_limit());
    assert_eq!(fails_alone("return ('x'):rep(1e9)"), memory_limit());
    // Lua refuses strings over 2 GiB before allocating.
    assert_eq!(
        fails_alone("return string.rep('x', 1e10)"),
        LuaFailure::Runtime("P:2: resulting string too large".into())
    );
    assert_eq!(
        fails_alone("local s = 'x'\nwhile true do s = s .. s end"),
        memory_limit()
    );
    assert_eq!(
        fails_alone("local ok = pcall(string.rep, 'x', 1e9)\nreturn 1"),
        memory_limit(),
        "pcall cannot hide it"
    );
    // Allocations made by the Rust primitives (here: row tables) count too.
    let rows =
        "local t = voltdb.table({{'A', 'BIGINT'}}, {{1}})\nlocal keep = {}\nfor i = 1, 1e9 do keep[i] = t:row(1) end";
    assert_eq!(fails_alone(rows), memory_limit());
    assert_eq!(
        fails_alone(&format!("pcall(function()\n{rows}\nend)\nreturn 1")),
        memory_limit()
    );
}

#[test]
fn garbage_does_not_count_against_the_memory_limit() {
    // 100 MB of short-lived strings in a call with an 8 MiB limit: live data stays small.
    let body = "local n = 0\nfor i = 1, 10000 do local s = string.rep('y', 10000) n = n + #s end\nreturn n";
    let mut site = LuaSite::new(LuaLimits {
        instructions: 100_000_000,
        ..small_limits()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok(call(&mut site, &format!("function run()\n{body}\nend"))),
        vec![count(100_000_000)]
    );
}

#[test]
fn deep_recursion_fails_the_call() {
    let recursion = "local function f(n) return 1 + f(n + 1) end\nreturn f(1)";
    // Lua's stack grows until the memory limit, or until Lua's own limit of a million slots.
    assert_eq!(fails_alone(recursion), memory_limit());
    let mut site = site();
    let msg = runtime(call(&mut site, &format!("function run()\n{recursion}\nend")));
    assert_eq!(msg, "P:2: stack overflow");
    assert_eq!(ok(call(&mut site, GOOD)), vec![count(42)]);
    let c_stack = fails_alone_with("local function f(s) return (s:gsub('.', f)) end\nreturn f('ab')");
    assert!(c_stack.contains("stack overflow"), "{c_stack}");
}

#[test]
fn non_string_errors_are_reported_by_type() {
    assert_eq!(
        fails_alone_with("error({})"),
        "P:2: error raised with a table as the error object; raise a string"
    );
    assert_eq!(
        fails_alone_with("error()"),
        "P:2: error raised with nil as the error object"
    );
    assert_eq!(
        fails_alone_with("error(42)"),
        "P:2: error raised with a integer as the error object; raise a string"
    );
    // A __tostring on the error object never runs.
    let looping = "error(setmetatable({}, {__tostring = function() while true do end end}))";
    assert_eq!(
        fails_alone_with(looping),
        "P:2: error raised with a table as the error object; raise a string"
    );
    assert_eq!(fails_alone_with("error('plain', 0)"), "plain");
    assert_eq!(
        fails_alone_with("local t = nil\nreturn t.x"),
        "P:3: attempt to index a nil value (local 't')"
    );
}

#[test]
fn dangerous_libraries_are_gone() {
    for (body, wanted) in [
        ("return os.time()", "P:2: attempt to index a nil value (global 'os')"),
        (
            "return io.open('/etc/passwd')",
            "P:2: attempt to index a nil value (global 'io')",
        ),
        (
            "return debug.getinfo(1)",
            "P:2: attempt to index a nil value (global 'debug')",
        ),
        (
            "return package.loaded",
            "P:2: attempt to index a nil value (global 'package')",
        ),
        (
            "return coroutine.create(print)",
            "P:2: attempt to index a nil value (global 'coroutine')",
        ),
        (
            "return require('os')",
            "P:2: attempt to call a nil value (global 'require')",
        ),
        (
            "return load('return 1')()",
            "P:2: attempt to call a nil value (global 'load')",
        ),
        (
            "return dofile('/etc/passwd')",
            "P:2: attempt to call a nil value (global 'dofile')",
        ),
        (
            "return loadfile('/etc/passwd')",
            "P:2: attempt to call a nil value (global 'loadfile')",
        ),
        (
            "return collectgarbage('count')",
            "P:2: attempt to call a nil value (global 'collectgarbage')",
        ),
        ("print('x')", "P:2: attempt to call a nil value (global 'print')"),
        (
            "return load(string.dump(run))",
            "P:2: attempt to call a nil value (field 'dump')",
        ),
        (
            "return ('x').dump(run)",
            "P:2: attempt to call a nil value (field 'dump')",
        ),
    ] {
        assert_eq!(fails_alone_with(body), wanted, "{body}");
    }
}

#[test]
fn bytecode_is_refused() {
    let err = declared_statements("\x1bLua\x54\x00 anything");
    assert!(
        matches!(&err, Err(e) if e.to_string().contains("attempt to load a binary chunk (mode is 't')")),
        "{err:?}"
    );
}

#[test]
fn metatable_tricks_are_refused() {
    assert_eq!(
        fails_alone_with("setmetatable(_G, {__index = function() return 1 end})"),
        "P:2: cannot change a protected metatable"
    );
    assert_eq!(
        fails_alone_with("return getmetatable('').__index"),
        "P:2: attempt to index a boolean value"
    );
    assert_eq!(
        fails_alone_with("setmetatable({}, {__gc = function() end})"),
        "P:2: setmetatable: __gc is not allowed in procedures (finalizers run at non-deterministic times)"
    );
    assert_eq!(
        fails_alone_with("setmetatable({}, {__mode = 'k'})"),
        "P:2: setmetatable: __mode is not allowed in procedures (weak tables depend on garbage collection timing)"
    );
    assert_eq!(
        fails_alone_with("x = 1"),
        "P:2: cannot assign global 'x' inside run; make it local"
    );
    assert_eq!(
        fails_alone_with("_G.y = 1"),
        "P:2: cannot assign global 'y' inside run; make it local"
    );
    let hidden = "local t = voltdb.table({{'A', 'BIGINT'}})\nassert(type(getmetatable(t)) ~= 'table')\n\
                  assert(type(getmetatable(voltdb.EXPECT_EMPTY)) ~= 'table' and getmetatable(_G) == false)";
    ok(run(&format!("function run()\n{hidden}\nend")));
}

#[test]
fn procedures_do_not_share_globals() {
    let mut site = site();
    let polluter = LuaProcedure {
        name: "Polluter".into(),
        ..procedure(
            "shared = 'leak'\nstring.upper = nil\nvoltdb.queue = nil\nmath.pi = 3\nfunction run() return 1 end",
            &[],
        )
    };
    ok(site.call(&polluter, txn(1), &[], false, &mut FakeHost::counting()));
    let victim = r#"
        local s = voltdb.sql("SELECT 1")
        function run()
          assert(shared == nil and _G.shared == nil)
          assert(string.upper("a") == "A" and ("b"):upper() == "B")
          assert(math.pi > 3.14)
          voltdb.queue(s)
          return #voltdb.execute()
        end"#;
    assert_eq!(ok(call(&mut site, victim)), vec![count(1)]);
}

#[test]
fn read_only_calls_time_out_and_writes_do_not() {
    let limits = LuaLimits {
        instructions: 20_000_000,
        memory_bytes: 8 << 20,
        read_only_timeout: Some(Duration::from_millis(20)),
    };
    let mut site = LuaSite::new(limits).unwrap_or_else(|e| panic!("{e}"));
    let endless = procedure("function run() while true do end end", &[]);
    let started = Instant::now();
    let read = site.call(&endless, txn(1), &[], true, &mut FakeHost::counting());
    assert_eq!(
        failure(read),
        LuaFailure::Limit("read-only procedure timed out after 20 ms".into())
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let write = site.call(&endless, txn(1), &[], false, &mut FakeHost::counting());
    assert_eq!(
        failure(write),
        LuaFailure::Limit("instruction limit 20000000 exceeded".into())
    );
    assert_eq!(ok(call(&mut site, GOOD)), vec![count(42)]);
}

#[test]
fn declaration_runs_under_the_limits() {
    let mut site = LuaSite::new(small_limits()).unwrap_or_else(|e| panic!("{e}"));
    let endless = failure(call(&mut site, "while true do end\nfunction run() end"));
    assert_eq!(endless, instruction_limit());
    let hungry = failure(call(&mut site, "local s = string.rep('x', 1e9)\nfunction run() end"));
    assert_eq!(hungry, memory_limit());
    assert_eq!(ok(call(&mut site, GOOD)), vec![count(42)]);
}

#[test]
fn the_instruction_count_starts_afresh_in_a_reused_coroutine() {
    // A call under HOOK_INTERVAL (1000) instructions hands its coroutine to the next call.
    // The limit hook counts down per coroutine, so unless each call restarts the count, a
    // call of ~1400 instructions after one of ~950 would see two ticks (2000 > 1000) and
    // fail, where alone it sees one.
    let mut site = LuaSite::new(LuaLimits {
        instructions: 1000,
        ..small_limits()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let loop_of = |n: u32| format!("function run()\n local x = 0\n for i = 1, {n} do x = x + i end\n return x\nend");
    let (short, long) = (loop_of(470), loop_of(700));
    let long_alone = ok(call(&mut site, &long));
    assert_eq!(long_alone, vec![count(245_350)]);
    for _ in 0..3 {
        assert_eq!(ok(call(&mut site, &short)), vec![count(110_685)]);
        assert_eq!(ok(call(&mut site, &long)), long_alone, "after a short call");
    }
}
