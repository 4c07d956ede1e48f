//! Rollback: every way a procedure can fail undoes everything its transaction did.
//!
//! Each failing procedure first runs the same writes (the *prefix*): an insert, an update
//! that moves rows between view groups and index keys, an update of an indexed column, and
//! a delete found through an index, on a table with a primary key, a unique and a
//! non-unique secondary index and a materialized view. Then it fails: a SQL error, a
//! constraint violation, a failed expectation, an explicit abort, a Lua runtime error, a
//! Lua limit, a mispartitioned insert, the temporary-table limit, a panic in Rust. Each
//! failure runs single-partition (on a site) and multi-partition (on the coordinator) where
//! both exist.
//!
//! For each: the content hashes equal those taken before the call; the status and message
//! name the cause; the view and the indexes agree with the rows; and running the prefix
//! alone afterwards succeeds (so the keys the failed call inserted were freed) and changes
//! the hashes (so the prefix did write something to undo).

use std::sync::Arc;

use voltrs_engine::{
    Config, Database, Expectation, LuaLimits, NativeProcedure, NativeSpec, Outcome, ProcedureContext, ProcedureError,
    ResultTable, Status,
};
use voltrs_storage::{DataType, Value};
use voltrs_wire::Hashinator;

const PARTITIONS: usize = 4;
const INSTRUCTIONS: u64 = 200_000;
const LUA_MEMORY: usize = 1 << 20;
const TEMP_BYTES: usize = 600;

/// The writes every failing procedure makes first, and their parameters after the new id.
const PREFIX: [&str; 4] = [
    "INSERT INTO item VALUES (?, ?, ?, ?)",
    "UPDATE item SET qty = qty + 1, grp = grp + 100 WHERE grp = ?",
    "UPDATE item SET name = ? WHERE grp = ?",
    "DELETE FROM item WHERE name = ?",
];

fn prefix_params(id: i64) -> Vec<Value> {
    vec![
        Value::Integer(id),
        Value::Integer(1),
        Value::str("new"),
        Value::Integer(7),
        Value::Integer(1),
        Value::str("renamed"),
        Value::Integer(2),
        Value::str("n3"),
    ]
}

/// The failing statements of the SQL procedures (each appended to the prefix), by name.
const SQL_FAILURES: [(&str, &str); 6] = [
    // Rows with qty % 8 = 4 divide by zero, others do not: the statement may fail midway.
    ("div", "UPDATE item SET qty = 100 / (qty % 8 - 4) WHERE grp = ?"),
    ("cast", "UPDATE item SET qty = CAST(name AS BIGINT) WHERE grp = ?"),
    ("dup", "INSERT INTO item VALUES (?, 9, 'dup', 0)"),
    ("null", "INSERT INTO item VALUES (?, 9, ?, 0)"),
    ("temp", "SELECT * FROM item"),
    ("mis", "INSERT INTO item VALUES (?, 9, 'mis', 0)"),
];

const LUA: &str = "
    local ins = voltdb.sql('INSERT INTO item VALUES (?, ?, ?, ?)')
    local bump = voltdb.sql('UPDATE item SET qty = qty + 1, grp = grp + 100 WHERE grp = ?')
    local ren = voltdb.sql('UPDATE item SET name = ? WHERE grp = ?')
    local del = voltdb.sql('DELETE FROM item WHERE name = ?')
    local get = voltdb.sql('SELECT id FROM item WHERE id = ?')
    function run(id, mode)
      voltdb.queue(ins, id, 1, 'new', 7)
      voltdb.queue(bump, 1)
      voltdb.queue(ren, 'renamed', 2)
      voltdb.queue(del, 'n3')
      voltdb.execute()
      if mode == 'expect' then
        voltdb.queue_expect(get, voltdb.EXPECT_EMPTY, id)
        voltdb.execute()
      elseif mode == 'abort' then voltdb.abort('rolled back on purpose')
      elseif mode == 'runtime' then local t = nil; return t.field
      elseif mode == 'loop' then while true do end
      elseif mode == 'memory' then local t = {}; for i = 1, 1e9 do t[i] = {i} end
      elseif mode == 'sql' then voltdb.queue(ins, id, 1, 'again', 0); voltdb.execute()
      elseif mode == 'fraction' then voltdb.queue(get, id + 0.5); voltdb.execute()
      end
      return 0
    end";

/// The Rust procedure: the prefix, then the failure its `mode` names.
struct Failing;

impl NativeProcedure for Failing {
    fn run(&self, cx: &mut ProcedureContext<'_>, p: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        let mut params = prefix_params(0);
        params[0] = p[0].clone();
        cx.queue(0, params[0..4].to_vec());
        cx.queue(1, params[4..5].to_vec());
        cx.queue(2, params[5..7].to_vec());
        cx.queue(3, params[7..8].to_vec());
        cx.execute()?;
        match &p[1] {
            Value::Varchar(m) if &**m == "expect" => {
                cx.queue_expect(4, Expectation::Empty, vec![p[0].clone()]);
                cx.execute()?;
            }
            Value::Varchar(m) if &**m == "abort" => return Err(ProcedureError::Abort("rolled back on purpose".into())),
            Value::Varchar(m) if &**m == "sql" => {
                cx.queue(
                    0,
                    vec![p[0].clone(), Value::Integer(1), Value::str("again"), Value::Integer(0)],
                );
                cx.execute()?;
            }
            Value::Varchar(m) if &**m == "panic" => panic!("a bug in a procedure"),
            other => panic!("unknown mode {other:?}"),
        }
        Ok(Vec::new())
    }
}

/// A database with 64 rows over the partitions and every procedure, SP (`_sp`, on the new
/// id) and MP (`_mp`).
fn fresh() -> Database {
    let config = Config {
        temp_table_bytes: TEMP_BYTES,
        lua: LuaLimits {
            instructions: INSTRUCTIONS,
            memory_bytes: LUA_MEMORY,
            ..LuaLimits::default()
        },
        ..Config::with_partitions(PARTITIONS)
    };
    let db = Database::open(config).expect("open");
    let mut s = db.session();
    s.execute_sql(
        "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, grp BIGINT NOT NULL, name VARCHAR(16) NOT NULL, qty BIGINT);
         PARTITION TABLE item ON COLUMN id;
         CREATE INDEX item_grp ON item (grp);
         CREATE UNIQUE INDEX item_name ON item (name, id);
         CREATE VIEW by_grp (grp, n, total) AS SELECT grp, COUNT(*), SUM(qty) FROM item GROUP BY grp;",
    )
    .expect("schema");
    for id in 0..64 {
        s.execute_sql(&format!(
            "INSERT INTO item VALUES ({id}, {}, 'n{}', {id})",
            id % 4,
            id % 8
        ))
        .expect("row");
    }
    let prefix = PREFIX.join(";\n");
    for (suffix, partition) in [("sp", " PARTITION ON TABLE item COLUMN id"), ("mp", "")] {
        s.execute_sql(&format!(
            "CREATE PROCEDURE prefix_{suffix}{partition} AS BEGIN {prefix}; END"
        ))
        .expect("prefix");
        for (name, stmt) in SQL_FAILURES {
            s.execute_sql(&format!(
                "CREATE PROCEDURE fail_{name}_{suffix}{partition} AS BEGIN {prefix}; {stmt}; END"
            ))
            .expect(name);
        }
        s.execute_sql(&format!(
            "CREATE PROCEDURE lua_{suffix} (id BIGINT, mode VARCHAR(16)){partition} LANGUAGE LUA AS $${LUA}$$"
        ))
        .expect("lua");
        let mut statements: Vec<String> = PREFIX.iter().map(|s| s.to_string()).collect();
        statements.push("SELECT id FROM item WHERE id = ?".into());
        db.register_procedure(NativeSpec {
            name: format!("rust_{suffix}"),
            params: vec![("ID".into(), DataType::BigInt), ("MODE".into(), DataType::VARCHAR_MAX)],
            statements,
            partition: (suffix == "sp").then(|| ("item".into(), "id".into(), 0)),
            procedure: Arc::new(Failing),
        })
        .expect("rust");
    }
    db
}

fn query(db: &Database, sql: &str) -> Vec<Vec<Value>> {
    match db.session().execute_sql(sql).expect(sql).pop() {
        Some(Outcome::Rows(t)) => t.rows,
        other => panic!("{sql}: {other:?}"),
    }
}

/// The view equals its GROUP BY, and lookups through each index agree with it.
fn consistent(db: &Database, case: &str) {
    let view = query(db, "SELECT grp, n, total FROM by_grp ORDER BY grp");
    let grouped = query(db, "SELECT grp, COUNT(*), SUM(qty) FROM item GROUP BY grp ORDER BY grp");
    assert_eq!(view, grouped, "{case}: view");
    for row in &view {
        let Value::Integer(grp) = row[0] else { panic!("{row:?}") };
        let by_index = query(db, &format!("SELECT COUNT(*), SUM(qty) FROM item WHERE grp = {grp}"));
        assert_eq!(by_index[0][..], row[1..], "{case}: index on grp");
    }
    let names = query(db, "SELECT name, COUNT(*) FROM item GROUP BY name ORDER BY name");
    for row in &names {
        let Value::Varchar(name) = &row[0] else {
            panic!("{row:?}")
        };
        let by_index = query(db, &format!("SELECT COUNT(*) FROM item WHERE name = '{name}'"));
        assert_eq!(by_index[0][0], row[1], "{case}: index on name");
    }
}

/// Calls `proc` on a fresh database, expects it to fail with `status` and a message
/// containing `needle`, and checks that nothing it did remains.
fn fails_cleanly(proc: &str, params: Vec<Value>, status: Status, needle: &str) {
    let db = fresh();
    let mut s = db.session();
    let id = match params[0] {
        Value::Integer(i) => i,
        _ => panic!("the first parameter is the new id"),
    };
    let before = db.content_hashes().expect("hashes");
    let r = s.call(proc, &params);
    assert_eq!(r.status, status, "{proc}: {r:?}");
    let message = r.status_string.clone().unwrap_or_default();
    assert!(message.contains(needle), "{proc}: {message:?} should name {needle:?}");
    assert_eq!(db.content_hashes().expect("hashes"), before, "{proc}: not rolled back");
    consistent(&db, proc);

    // The prefix alone now succeeds on the same site: every key the failed call took is free.
    let again = if proc.ends_with("_mp") {
        "prefix_mp"
    } else {
        "prefix_sp"
    };
    let r = s.call(again, &prefix_params(id));
    assert_eq!(r.status, Status::Success, "{proc}, then {again}: {r:?}");
    for (i, t) in r.tables.iter().enumerate() {
        assert!(
            matches!(t.rows[0][0], Value::Integer(n) if n > 0),
            "{proc}: prefix statement {i} changed nothing"
        );
    }
    assert_ne!(
        db.content_hashes().expect("hashes"),
        before,
        "{proc}: the prefix writes"
    );
    consistent(&db, proc);
}

/// An id not in the table whose partition holds `with`'s (or, `same = false`, not).
fn id_near(with: i64, same: bool) -> i64 {
    let h = Hashinator::new(PARTITIONS as u32);
    let p = h.partition_for_integer(with);
    (1000..)
        .find(|&i| i != with && (h.partition_for_integer(i) == p) == same)
        .expect("an id")
}

const NEW: i64 = 500;

fn with_prefix(extra: &[Value]) -> Vec<Value> {
    let mut p = prefix_params(NEW);
    p.extend_from_slice(extra);
    p
}

fn both(name: &str, extra: &[Value], status: Status, needle: &str) {
    for suffix in ["sp", "mp"] {
        fails_cleanly(&format!("fail_{name}_{suffix}"), with_prefix(extra), status, needle);
    }
}

#[test]
fn sql_errors_roll_back() {
    both("div", &[Value::Integer(0)], Status::GracefulFailure, "division by zero");
    both(
        "cast",
        &[Value::Integer(0)],
        Status::GracefulFailure,
        "invalid character value for cast",
    );
}

#[test]
fn constraint_violations_roll_back() {
    both(
        "dup",
        &[Value::Integer(NEW)],
        Status::GracefulFailure,
        "duplicate key (500) for PRIMARY KEY",
    );
    let other = id_near(NEW, true);
    both(
        "null",
        &[Value::Integer(other), Value::Null],
        Status::GracefulFailure,
        "column \"NAME\" of table \"ITEM\" is NOT NULL",
    );
}

#[test]
fn a_mispartitioned_insert_rolls_back() {
    let elsewhere = id_near(NEW, false);
    fails_cleanly(
        "fail_mis_sp",
        with_prefix(&[Value::Integer(elsewhere)]),
        Status::GracefulFailure,
        "Mispartitioned tuple",
    );
}

#[test]
fn the_temp_table_limit_rolls_back() {
    both(
        "temp",
        &[],
        Status::GracefulFailure,
        "temporary results exceeded the limit",
    );
    // A read-only procedure over the limit fails the same way, and the site goes on.
    let db = fresh();
    let mut s = db.session();
    s.execute_sql(
        "CREATE PROCEDURE everything AS SELECT * FROM item; CREATE PROCEDURE one AS SELECT * FROM item WHERE id = ?",
    )
    .expect("create");
    let r = s.call("everything", &[]);
    assert_eq!(r.status, Status::GracefulFailure, "{r:?}");
    assert!(
        r.status_string
            .unwrap_or_default()
            .contains("exceeded the limit of 600 bytes")
    );
    let r = s.call("one", &[Value::Integer(5)]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(r.tables[0].rows.len(), 1);
}

fn lua(mode: &str) -> Vec<Value> {
    vec![Value::Integer(NEW), Value::str(mode)]
}

#[test]
fn failed_expectations_roll_back() {
    for proc in ["lua_sp", "lua_mp"] {
        fails_cleanly(
            proc,
            lua("expect"),
            Status::UserAbort,
            "statement 5 (SELECT id FROM item WHERE id = ?), batch position 1: expected no rows, got 1 rows of 1 columns",
        );
    }
    for proc in ["rust_sp", "rust_mp"] {
        fails_cleanly(
            proc,
            lua("expect"),
            Status::UserAbort,
            "statement 4 (SELECT id FROM item WHERE id = ?): expected Empty but the statement returned 1 row",
        );
    }
}

#[test]
fn explicit_aborts_roll_back() {
    for proc in ["lua_sp", "lua_mp", "rust_sp", "rust_mp"] {
        fails_cleanly(proc, lua("abort"), Status::UserAbort, "rolled back on purpose");
    }
}

#[test]
fn sql_errors_inside_lua_and_rust_roll_back() {
    for proc in ["lua_sp", "lua_mp", "rust_sp", "rust_mp"] {
        fails_cleanly(
            proc,
            lua("sql"),
            Status::GracefulFailure,
            "duplicate key (500) for PRIMARY KEY",
        );
    }
    // A number with a fraction for an integer parameter is refused, not truncated.
    for proc in ["lua_sp", "lua_mp"] {
        fails_cleanly(
            proc,
            lua("fraction"),
            Status::GracefulFailure,
            "has a fractional part and cannot be converted to BIGINT",
        );
    }
}

#[test]
fn lua_runtime_errors_and_limits_roll_back() {
    for proc in ["lua_sp", "lua_mp"] {
        fails_cleanly(
            proc,
            lua("runtime"),
            Status::UnexpectedFailure,
            "attempt to index a nil value",
        );
        fails_cleanly(
            proc,
            lua("loop"),
            Status::UnexpectedFailure,
            &format!("instruction limit {INSTRUCTIONS} exceeded"),
        );
        fails_cleanly(
            proc,
            lua("memory"),
            Status::UnexpectedFailure,
            &format!("memory limit {LUA_MEMORY} bytes exceeded"),
        );
    }
}

#[test]
fn a_panicking_rust_procedure_rolls_back() {
    for proc in ["rust_sp", "rust_mp"] {
        fails_cleanly(
            proc,
            lua("panic"),
            Status::UnexpectedFailure,
            "panicked and was rolled back",
        );
    }
}
