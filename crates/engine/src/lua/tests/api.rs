//! The `voltdb` library: statements, batches, expectations, aborts, app status, return
//! shapes, result tables, declaration rules and chunk caching.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::*;
use crate::lua::declared_statements;

const VOTER: &str = r#"
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

/// The voter schema as a model: contestants 1..=6, votes per phone.
fn voter_host(votes: Rc<RefCell<HashMap<i64, i64>>>) -> FakeHost {
    FakeHost::new(move |q| {
        let int = |i: usize| match q.params.get(i) {
            Some(Value::Integer(v)) => *v,
            other => panic!("parameter {i} is {other:?}"),
        };
        Ok(match q.stmt {
            0 => {
                let rows = if (1..=6).contains(&int(0)) {
                    vec![vec![Value::Integer(int(0))]]
                } else {
                    vec![]
                };
                table(&[("CONTESTANT_NUMBER", DataType::Integer)], rows)
            }
            1 => {
                let rows = votes.borrow().get(&int(0)).map(|n| vec![vec![Value::Integer(*n)]]);
                table(&[("NUM_VOTES", DataType::BigInt)], rows.unwrap_or_default())
            }
            _ => {
                *votes.borrow_mut().entry(int(0)).or_insert(0) += 1;
                count(1)
            }
        })
    })
}

#[test]
fn voter_end_to_end() {
    let types = [DataType::BigInt, DataType::Integer, DataType::BigInt];
    let proc = procedure(VOTER, &types);
    let votes = Rc::new(RefCell::new(HashMap::new()));
    let mut site = site();
    let mut vote = |phone: i64, contestant: i64| {
        let mut host = voter_host(votes.clone());
        let params = [Value::Integer(phone), Value::Integer(contestant), Value::Integer(2)];
        let out = site.call(&proc, txn(1), &params, false, &mut host);
        (scalar(&ok(out)), host.batches)
    };

    let (result, batches) = vote(5_551_234, 3);
    assert_eq!(result, Value::Integer(0));
    let first = vec![
        Queued {
            stmt: 0,
            params: vec![Value::Integer(3)],
        },
        Queued {
            stmt: 1,
            params: vec![Value::Integer(5_551_234)],
        },
    ];
    let insert = vec![Queued {
        stmt: 2,
        params: vec![Value::Integer(5_551_234), Value::str("XX"), Value::Integer(3)],
    }];
    assert_eq!(batches, vec![(first, false), (insert, true)]);

    assert_eq!(vote(5_551_234, 9).0, Value::Integer(1), "unknown contestant");
    assert_eq!(vote(5_551_234, 3).0, Value::Integer(0), "second vote");
    let (result, batches) = vote(5_551_234, 3);
    assert_eq!(result, Value::Integer(2), "over the vote limit");
    assert_eq!(batches.len(), 1, "no insert after the limit");
    assert_eq!(votes.borrow().get(&5_551_234), Some(&2));

    // A long return value is a 1x1 BIGINT table with an empty column name, as in VoltDB.
    let out = ok(site.call(
        &proc,
        txn(1),
        &[Value::Integer(1), Value::Integer(1), Value::Integer(2)],
        false,
        &mut voter_host(votes.clone()),
    ));
    assert_eq!(out, vec![count(0)]);
}

#[test]
fn declared_statements_in_order() {
    let statements = declared_statements(VOTER).map_err(|e| e.to_string());
    assert_eq!(
        statements,
        Ok(vec![
            "SELECT contestant_number FROM contestants WHERE contestant_number = ?".to_string(),
            "SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?".to_string(),
            "INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)".to_string(),
        ])
    );
}

#[test]
fn declaration_errors_name_the_problem_and_line() {
    let err = |source: &str| match declared_statements(source) {
        Ok(s) => panic!("declared {s:?}"),
        Err(e) => {
            assert_eq!(e.kind(), "invalid");
            e.to_string()
        }
    };
    let missing = err("local x = voltdb.sql('SELECT 1')");
    assert!(missing.contains("does not define a global function run"), "{missing}");
    assert!(err("local function run() end").contains("not `local function run`"));
    assert!(err("run = 5").contains("the global run is a integer, not a function"));
    let syntax = err("function run()\n  return 1 +\nend");
    assert!(syntax.contains("procedure:3:"), "{syntax}");
    let queue = err("local s = voltdb.sql('SELECT 1')\nvoltdb.queue(s)\nfunction run() end");
    assert!(
        queue.contains("procedure:2: voltdb.queue may only be called inside run"),
        "{queue}"
    );
    assert!(err("voltdb.execute()\nfunction run() end").contains("voltdb.execute may only be called inside run"));
    assert!(
        err("voltdb.sql(42)\nfunction run() end").contains("voltdb.sql needs the statement's SQL text, got integer 42")
    );
    assert!(err("voltdb.sql('  ')\nfunction run() end").contains("the SQL text is empty"));
    assert!(err("error('bad chunk')\nfunction run() end").contains("procedure:1: bad chunk"));
}

#[test]
fn sql_inside_run_is_refused() {
    let msg = runtime(run("function run()\n  local s = voltdb.sql('SELECT 1')\nend"));
    assert_eq!(
        msg,
        "P:2: voltdb.sql may only be called while the procedure is declared (at the top level of the chunk), not inside run"
    );
}

#[test]
fn queue_passes_parameters_and_trailing_nils() {
    let source = r#"
        local s = voltdb.sql("UPDATE t SET a = ? WHERE b = ? AND c = ?")
        function run()
          voltdb.queue(s, 1, nil, nil)
          voltdb.queue(s)
          voltdb.queue(s, 2.5, "x", true)
          local r = voltdb.execute(false)
          assert(#r == 3 and r[1]:scalar() == 1)
          assert(#voltdb.execute() == 0, "an empty batch returns no tables")
        end"#;
    let mut host = FakeHost::counting();
    ok(site().call(&procedure(source, &[]), txn(1), &[], false, &mut host));
    let batch = vec![
        Queued {
            stmt: 0,
            params: vec![Value::Integer(1), Value::Null, Value::Null],
        },
        Queued {
            stmt: 0,
            params: vec![],
        },
        Queued {
            stmt: 0,
            params: vec![Value::Float(2.5), Value::str("x"), Value::Boolean(true)],
        },
    ];
    assert_eq!(
        host.batches,
        vec![(batch, false)],
        "the empty batch never reaches the host"
    );
}

#[test]
fn queue_rejects_bad_arguments() {
    let bad = |body: &str| {
        runtime(run(&format!(
            "local s = voltdb.sql('SELECT 1')\nfunction run()\n{body}\nend"
        )))
    };
    assert_eq!(
        bad("voltdb.queue('SELECT 1')"),
        "P:3: voltdb.queue: argument 1 must be a statement made by voltdb.sql, got string"
    );
    assert_eq!(
        bad("voltdb.queue(s, {})"),
        "P:3: voltdb.queue: parameter 1: a table cannot be a SQL parameter"
    );
    assert_eq!(
        bad("voltdb.queue_expect(s, 1)"),
        "P:3: voltdb.queue_expect: argument 2 must be an expectation (voltdb.EXPECT_...), got integer 1"
    );
    assert_eq!(
        bad("voltdb.EXPECT_SCALAR_MATCH('x')"),
        "P:3: voltdb.EXPECT_SCALAR_MATCH needs an integer, got string"
    );
    let unexecuted = bad("voltdb.queue(s)");
    assert!(
        unexecuted.contains("run returned with 1 queued statements that were never executed"),
        "{unexecuted}"
    );
}

/// Runs `SELECT x` with `expectation` against a host answering `answer`.
fn expect(expectation: &str, answer: ResultTable) -> Result<ProcOutput, LuaError> {
    let source = format!(
        "local s = voltdb.sql('SELECT x FROM t')\nfunction run()\n  voltdb.queue(s)\n  voltdb.queue_expect(s, voltdb.{expectation})\n  voltdb.execute()\nend"
    );
    let mut host = FakeHost::new(move |_| Ok(answer.clone()));
    site().call(&procedure(&source, &[]), txn(1), &[], false, &mut host)
}

#[test]
fn expectations() {
    let int = |n: i64| vec![Value::Integer(n)];
    let ints = |rows: Vec<i64>| table(&[("X", DataType::BigInt)], rows.into_iter().map(int).collect());
    let two_columns = table(
        &[("X", DataType::BigInt), ("Y", DataType::BigInt)],
        vec![vec![Value::Integer(1), Value::Integer(2)]],
    );
    let text = table(&[("X", DataType::VARCHAR_MAX)], vec![vec![Value::str("7")]]);
    let null = table(&[("X", DataType::BigInt)], vec![vec![Value::Null]]);
    let cases: Vec<(&str, ResultTable, Option<&str>)> = vec![
        ("EXPECT_ONE_ROW", ints(vec![1]), None),
        (
            "EXPECT_ONE_ROW",
            ints(vec![]),
            Some("expected exactly one row, got 0 rows of 1 columns"),
        ),
        (
            "EXPECT_ONE_ROW",
            ints(vec![1, 2]),
            Some("expected exactly one row, got 2 rows of 1 columns"),
        ),
        ("EXPECT_ZERO_OR_ONE_ROW", ints(vec![]), None),
        ("EXPECT_ZERO_OR_ONE_ROW", ints(vec![1]), None),
        (
            "EXPECT_ZERO_OR_ONE_ROW",
            ints(vec![1, 2]),
            Some("expected zero or one row, got 2 rows"),
        ),
        ("EXPECT_EMPTY", ints(vec![]), None),
        ("EXPECT_EMPTY", ints(vec![1]), Some("expected no rows, got 1 rows")),
        ("EXPECT_NON_EMPTY", ints(vec![3]), None),
        (
            "EXPECT_NON_EMPTY",
            ints(vec![]),
            Some("expected at least one row, got 0 rows"),
        ),
        ("EXPECT_SCALAR", text.clone(), None),
        (
            "EXPECT_SCALAR",
            two_columns.clone(),
            Some("expected one row of one column, got 1 rows of 2 columns"),
        ),
        ("EXPECT_SCALAR_LONG", ints(vec![5]), None),
        (
            "EXPECT_SCALAR_LONG",
            text.clone(),
            Some("expected one row of one non-NULL integer column, got the VARCHAR value 7"),
        ),
        ("EXPECT_SCALAR_LONG", null.clone(), Some("got the BIGINT value NULL")),
        ("EXPECT_SCALAR_MATCH(5)", ints(vec![5]), None),
        (
            "EXPECT_SCALAR_MATCH(5)",
            ints(vec![6]),
            Some("expected one row of one column with the value 5, got the BIGINT value 6"),
        ),
        (
            "EXPECT_SCALAR_MATCH(5)",
            ints(vec![5, 5]),
            Some("got 2 rows of 1 columns"),
        ),
    ];
    for (expectation, answer, wanted) in cases {
        match (expect(expectation, answer), wanted) {
            (Ok(_), None) => {}
            (
                Err(LuaError {
                    failure: LuaFailure::Expectation(m),
                    ..
                }),
                Some(wanted),
            ) => {
                assert!(
                    m.starts_with("P: statement 1 (SELECT x FROM t), batch position 2: "),
                    "{m}"
                );
                assert!(m.contains(wanted), "{expectation}: {m}");
            }
            (other, _) => panic!("{expectation}: {other:?}"),
        }
    }
}

#[test]
fn execute_cannot_yield_through_c_callbacks() {
    let source = "function run()\n  table.sort({2, 1}, function(a, b) voltdb.execute() return a < b end)\nend";
    assert_eq!(
        runtime(run(source)),
        "P:2: voltdb.execute cannot run inside a function called by a library function (table.sort, string.gsub, ...)"
    );
}

#[test]
fn abort_and_app_status() {
    let source = r#"
        function run()
          voltdb.set_app_status(1)
          local ok = pcall(voltdb.abort, "no such account")
          voltdb.set_app_status(2, "went on after abort")
        end"#;
    let err = site().call(&procedure(source, &[]), txn(1), &[], false, &mut FakeHost::counting());
    assert_eq!(
        err,
        Err(LuaError {
            failure: LuaFailure::UserAbort("no such account".into()),
            app_status: Some((1, None))
        })
    );

    let out = run("function run()\n voltdb.set_app_status(-128, 'done')\n return 3\nend");
    assert_eq!(out.map(|o| o.app_status), Ok(Some((-128, Some("done".into())))));
    assert_eq!(
        runtime(run("function run()\n voltdb.set_app_status(128)\nend")),
        "P:2: voltdb.set_app_status: code 128 is outside the TINYINT range -128..127"
    );
    assert_eq!(
        failure(run("function run() voltdb.abort() end")),
        LuaFailure::UserAbort("procedure aborted".into())
    );
}

#[test]
fn sql_errors_propagate_unchanged_and_pcall_cannot_catch_them() {
    let source = r#"
        local s = voltdb.sql("INSERT INTO t VALUES (?)")
        function run()
          voltdb.set_app_status(7)
          voltdb.queue(s, 1)
          local ok, e = pcall(voltdb.execute)
          voltdb.set_app_status(8)
          return 0
        end"#;
    let violation = Error::Constraint("PRIMARY KEY on table T violated".into());
    let answer = violation.clone();
    let mut host = FakeHost::new(move |_| Err(answer.clone()));
    let err = site().call(&procedure(source, &[]), txn(1), &[], false, &mut host);
    assert_eq!(
        err,
        Err(LuaError {
            failure: LuaFailure::Sql(violation),
            app_status: Some((7, None))
        })
    );
}

#[test]
fn return_shapes() {
    let t = "voltdb.table({{'A', 'BIGINT'}}, {{1}})";
    let a = table(&[("A", DataType::BigInt)], vec![vec![Value::Integer(1)]]);
    assert_eq!(ok(run("function run() end")), vec![]);
    assert_eq!(ok(run("function run() return nil end")), vec![]);
    assert_eq!(ok(run("function run() return 7 end")), vec![count(7)]);
    assert_eq!(ok(run("function run() return 7.0 end")), vec![count(7)]);
    assert_eq!(ok(run(&format!("function run() return {t} end"))), vec![a.clone()]);
    assert_eq!(
        ok(run(&format!("function run() return {{{t}, {t}}} end"))),
        vec![a.clone(), a]
    );
    assert_eq!(ok(run("function run() return {} end")), vec![]);
    let shape = "run must return nil, an integer, a result table or an array of result tables";
    for (ret, what) in [
        ("7.5", "P: run returned the non-integral number float 7.5; "),
        ("'x'", "P: run returned a string; "),
        ("true", "P: run returned a boolean; "),
        ("{1}", "P: element 1 of the array run returned is integer 1; "),
        (
            "voltdb.EXPECT_EMPTY",
            "P: run returned a userdata that is not a result table; ",
        ),
    ] {
        assert_eq!(
            runtime(run(&format!("function run() return {ret} end"))),
            format!("{what}{shape}")
        );
    }
}

#[test]
fn result_table_methods() {
    let source = r#"
        local s = voltdb.sql("SELECT id, name FROM t")
        function run()
          voltdb.queue(s)
          local t = voltdb.execute()[1]
          assert(t:count() == 2 and #t == 2)
          assert(t:get(1, 1) == 1 and t:get(1, "name") == "a" and t:get(1, "NAME") == "a" and t:get(2, 2) == nil)
          local r = t:row(1)
          assert(r.ID == 1 and r[1] == 1 and r.NAME == "a" and r[2] == "a" and r.name == nil)
          local cols = t:columns()
          assert(#cols == 2 and cols[1] == "Id" and cols[2] == "Name")
          local ids = {}
          for row in t:rows() do ids[#ids + 1] = row.ID end
          assert(#ids == 2 and ids[1] == 1 and ids[2] == 2)
          assert(not pcall(t.scalar, t))
          assert(tostring(t) == "result table (2 columns, 2 rows)")
          return t
        end"#;
    let answer = table(
        &[("Id", DataType::BigInt), ("Name", DataType::VARCHAR_MAX)],
        vec![
            vec![Value::Integer(1), Value::str("a")],
            vec![Value::Integer(2), Value::Null],
        ],
    );
    let reply = answer.clone();
    let mut host = FakeHost::new(move |_| Ok(reply.clone()));
    assert_eq!(
        ok(site().call(&procedure(source, &[]), txn(1), &[], false, &mut host)),
        vec![answer]
    );

    let t = "voltdb.table({{'A', 'BIGINT'}}, {{1}, {2}})";
    let bad = |expr: &str| runtime(run(&format!("function run()\n  local t = {t}\n  return {expr}\nend")));
    assert_eq!(bad("t:get(3, 1)"), "P:3: row 3 is out of range: the table has 2 rows");
    assert_eq!(bad("t:get(0, 1)"), "P:3: row 0 is out of range: the table has 2 rows");
    assert_eq!(
        bad("t:get(1, 2)"),
        "P:3: column 2 is out of range: the table has 1 columns"
    );
    assert_eq!(bad("t:get(1, 'B')"), "P:3: no column named \"B\" (columns: A)");
    assert_eq!(bad("t:get('x', 1)"), "P:3: row must be an integer, got string");
    assert_eq!(
        bad("t:scalar()"),
        "P:3: scalar() needs one row of one column, the table has 2 rows of 1 columns"
    );
    assert_eq!(
        ok(run(
            "function run() return voltdb.table({{'A', 'BIGINT'}}, {{9}}):scalar() end"
        )),
        vec![count(9)]
    );
}

#[test]
fn transaction_time_and_unique_id() {
    let out = ok(run(
        "function run() return voltdb.table({{'T', 'TIMESTAMP'}, {'U', 'BIGINT'}}, {{voltdb.transaction_time(), voltdb.unique_id()}}) end",
    ));
    let t = txn(7);
    assert_eq!(
        out[0].rows,
        vec![vec![Value::Timestamp(t.timestamp), Value::Integer(t.unique_id)]]
    );
    let at_declaration = declared_statements("local t = voltdb.transaction_time()\nfunction run() end");
    assert!(
        matches!(at_declaration, Err(e) if e.to_string().contains("voltdb.transaction_time may only be called inside run"))
    );
}

#[test]
fn chunks_are_cached_per_name_and_version() {
    let mut site = site();
    let mut host = FakeHost::counting();
    let mut proc = procedure("function run() return 1 end", &[]);
    let mut result =
        |proc: &LuaProcedure, site: &mut LuaSite| scalar(&ok(site.call(proc, txn(1), &[], false, &mut host)));
    assert_eq!(result(&proc, &mut site), Value::Integer(1));
    let first_chunk = site.chunks.get("P").map(|c| c.chunk);
    proc.source = Arc::from("function run() return 2 end");
    assert_eq!(
        result(&proc, &mut site),
        Value::Integer(1),
        "same version: the cached chunk runs"
    );
    assert_eq!(site.chunks.get("P").map(|c| c.chunk), first_chunk, "not recompiled");
    proc.version += 1;
    assert_eq!(result(&proc, &mut site), Value::Integer(2), "a new version recompiles");
    assert_eq!(site.chunks.len(), 1, "the new version replaced the old");
    let other = LuaProcedure {
        name: "Q".into(),
        ..procedure("function run() return 3 end", &[])
    };
    assert_eq!(result(&other, &mut site), Value::Integer(3));
    assert_eq!(result(&proc, &mut site), Value::Integer(2));
    assert_eq!(site.chunks.len(), 2);
}

#[test]
fn parameter_count_is_checked() {
    let proc = procedure("function run(a, b) return a end", &[DataType::BigInt, DataType::BigInt]);
    let err = site().call(&proc, txn(1), &[Value::Integer(1)], false, &mut FakeHost::counting());
    assert_eq!(failure(err), LuaFailure::Runtime("P takes 2 parameters, got 1".into()));
}

#[test]
fn a_result_kept_from_an_earlier_call_returns_as_it_came() {
    // The first call keeps the result in a chunk-level local; the second returns it, so it
    // is read back from its Lua table (column types included), not from the call's own results.
    let source = r#"
        local s = voltdb.sql("SELECT * FROM t")
        local kept
        function run()
          if kept == nil then
            voltdb.queue(s)
            kept = voltdb.execute()[1]
            return 0
          end
          return kept
        end"#;
    let answer = table(
        &[
            ("Id", DataType::SmallInt),
            ("name", DataType::Varchar { len: 12, bytes: true }),
            ("B", DataType::Varbinary { len: 3 }),
            ("D", DataType::Decimal),
            ("T", DataType::Timestamp),
        ],
        vec![
            vec![
                Value::Integer(1),
                Value::str("é"),
                Value::bytes(&[0, 1]),
                Value::Decimal(voltrs_storage::Decimal::from_i64(5)),
                Value::Timestamp(-3),
            ],
            vec![Value::Null, Value::Null, Value::Null, Value::Null, Value::Null],
        ],
    );
    let reply = answer.clone();
    let mut host = FakeHost::new(move |_| Ok(reply.clone()));
    let proc = procedure(source, &[]);
    let mut site = site();
    assert_eq!(ok(site.call(&proc, txn(1), &[], false, &mut host)), vec![count(0)]);
    assert_eq!(ok(site.call(&proc, txn(2), &[], false, &mut host)), vec![answer]);
}
