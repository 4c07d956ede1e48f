//! Value conversions both ways (NULL, DECIMAL, VARBINARY, TIMESTAMP included), tables built
//! with `voltdb.table`, and the determinism of `math.random`.

use voltrs_storage::Decimal;

use super::*;

fn decimal(text: &str) -> Value {
    match Decimal::parse(text) {
        Ok(d) => Value::Decimal(d),
        Err(e) => panic!("bad decimal {text}: {e}"),
    }
}

#[test]
fn invocation_parameters_to_lua_and_queue_parameters_back() {
    let source = r#"
        local s = voltdb.sql("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        function run(tiny, f, f_from_int, d, d_from_int, v, b, ts, n)
          assert(math.type(tiny) == "integer" and tiny == -5)
          assert(math.type(f) == "float" and f == 2.5)
          assert(math.type(f_from_int) == "float" and f_from_int == 3.0)
          assert(d == "1.500000000000", d)
          assert(d_from_int == "7.000000000000", d_from_int)
          assert(v == "héllo" and #v == 6)
          assert(b == "\0\255" and #b == 2)
          assert(math.type(ts) == "integer" and ts == 1700000000123456)
          assert(n == nil)
          voltdb.queue(s, tiny, f, f_from_int, d, d_from_int, v, b, ts, n)
          voltdb.execute()
        end"#;
    let types = [
        DataType::TinyInt,
        DataType::Float,
        DataType::Float,
        DataType::Decimal,
        DataType::Decimal,
        DataType::VARCHAR_MAX,
        DataType::VARBINARY_MAX,
        DataType::Timestamp,
        DataType::BigInt,
    ];
    let params = [
        Value::Integer(-5),
        Value::Float(2.5),
        Value::Integer(3),
        decimal("1.5"),
        Value::Integer(7),
        Value::str("héllo"),
        Value::bytes(&[0, 255]),
        Value::Timestamp(1_700_000_000_123_456),
        Value::Null,
    ];
    let mut host = FakeHost::counting();
    ok(site().call(&procedure(source, &types), txn(1), &params, false, &mut host));
    let queued = vec![
        Value::Integer(-5),
        Value::Float(2.5),
        Value::Float(3.0),
        Value::str("1.500000000000"),
        Value::str("7.000000000000"),
        Value::str("héllo"),
        Value::bytes(&[0, 255]),
        Value::Integer(1_700_000_000_123_456),
        Value::Null,
    ];
    assert_eq!(
        host.batches,
        vec![(
            vec![Queued {
                stmt: 0,
                params: queued
            }],
            false
        )]
    );
}

#[test]
fn result_values_to_lua_and_built_tables_back() {
    let columns = [
        ("I", DataType::Integer),
        ("F", DataType::Float),
        ("D", DataType::Decimal),
        ("V", DataType::VARCHAR_MAX),
        ("B", DataType::VARBINARY_MAX),
        ("T", DataType::Timestamp),
        ("N", DataType::SmallInt),
    ];
    let row = vec![
        Value::Integer(42),
        Value::Float(-0.25),
        decimal("-12.345"),
        Value::str("ünï"),
        Value::bytes(&[1, 0, 254]),
        Value::Timestamp(-1),
        Value::Null,
    ];
    let answer = table(&columns, vec![row.clone()]);
    // Lua reads every value and builds the same table again from them.
    let source = r#"
        local s = voltdb.sql("SELECT * FROM t")
        function run()
          voltdb.queue(s)
          local r = voltdb.execute()[1]:row(1)
          assert(math.type(r.I) == "integer" and math.type(r.F) == "float" and r.D == "-12.345000000000")
          assert(r.B == "\1\0\254" and r.T == -1 and r.N == nil)
          return voltdb.table(
            {{"I", "INTEGER"}, {"F", "FLOAT"}, {"D", "DECIMAL"}, {"V", "VARCHAR"}, {"B", "VARBINARY"}, {"T", "TIMESTAMP"}, {"N", "smallint"}},
            {{r.I, r.F, r.D, r.V, r.B, r.T, r.N}, {nil, 1, 2, "", "", 0}, {1, 2.5, 0.1, "x", "y", 3}})
        end"#;
    let reply = answer.clone();
    let mut host = FakeHost::new(move |_| Ok(reply.clone()));
    let out = ok(site().call(&procedure(source, &[]), txn(1), &[], false, &mut host));
    let mut expected = answer;
    expected.columns[3].ty = DataType::VARCHAR_MAX;
    expected.columns[4].ty = DataType::VARBINARY_MAX;
    expected.rows.push(vec![
        Value::Null,
        Value::Float(1.0),
        decimal("2"),
        Value::str(""),
        Value::bytes(&[]),
        Value::Timestamp(0),
        Value::Null,
    ]);
    expected.rows.push(vec![
        Value::Integer(1),
        Value::Float(2.5),
        decimal("0.1"),
        Value::str("x"),
        Value::bytes(b"y"),
        Value::Timestamp(3),
        Value::Null,
    ]);
    assert_eq!(out, vec![expected]);
}

#[test]
fn built_tables_reject_bad_values() {
    let bad = |columns: &str, rows: &str| {
        runtime(run(&format!(
            "function run()\n return voltdb.table({columns}, {rows})\nend"
        )))
    };
    assert_eq!(
        bad("{{'A', 'TINYINT'}}", "{{300}}"),
        "P:2: voltdb.table: row 1, column 1 (A): 300 is out of range for TINYINT (-127..127)"
    );
    assert_eq!(
        bad("{{'A', 'BIGINT'}}", "{{1.5}}"),
        "P:2: voltdb.table: row 1, column 1 (A): a BIGINT value cannot be float 1.5"
    );
    assert_eq!(
        bad("{{'A', 'VARCHAR'}}", "{{1}}"),
        "P:2: voltdb.table: row 1, column 1 (A): a VARCHAR value cannot be integer 1"
    );
    assert_eq!(
        bad("{{'A', 'BIGINT'}}", "{{1, 2}}"),
        "P:2: voltdb.table: row 1 has 2 values for 1 columns"
    );
    assert_eq!(
        bad("{{'A', 'BIGINT'}}", "{1}"),
        "P:2: voltdb.table: row 1 must be an array of values"
    );
    assert_eq!(
        bad("{{'A', 'TEXT'}}", "{}"),
        "P:2: voltdb.table: column 1: unknown type \"TEXT\" (use TINYINT, SMALLINT, INTEGER, BIGINT, FLOAT, DECIMAL, VARCHAR, VARBINARY or TIMESTAMP)"
    );
    assert_eq!(
        bad("{'A'}", "{}"),
        "P:2: voltdb.table: column 1 must be {name, type}, e.g. {\"N\", \"BIGINT\"}"
    );
    let decimal = bad("{{'A', 'DECIMAL'}}", "{{'1.2.3'}}");
    assert!(
        decimal.starts_with("P:2: voltdb.table: row 1, column 1 (A): bad DECIMAL string:"),
        "{decimal}"
    );
    assert_eq!(
        bad("{{'A', 'BIGINT'}}", "{{true}}"),
        "P:2: voltdb.table: row 1, column 1 (A): a BIGINT value cannot be boolean"
    );
}

const RANDOM: &str = r#"
    function run()
      local rows = {}
      for i = 1, 20 do
        local f, d, r, w = math.random(), math.random(6), math.random(-3, 3), math.random(0)
        assert(f >= 0 and f < 1 and d >= 1 and d <= 6 and r >= -3 and r <= 3)
        assert(math.type(f) == "float" and math.type(d) == "integer" and math.type(w) == "integer")
        rows[i] = {f, d, r, w}
      end
      assert(math.random(5, 5) == 5 and math.random(math.mininteger, math.maxinteger) ~= nil)
      return voltdb.table({{"F", "FLOAT"}, {"D", "BIGINT"}, {"R", "BIGINT"}, {"W", "BIGINT"}}, rows)
    end"#;

#[test]
fn random_is_seeded_per_transaction() {
    let proc = procedure(RANDOM, &[]);
    let draw = |site: &mut LuaSite, seed: u64| ok(site.call(&proc, txn(seed), &[], false, &mut FakeHost::counting()));
    let (mut a, mut b) = (site(), site());
    let first = draw(&mut a, 11);
    assert_eq!(first, draw(&mut b, 11), "two sites, same seed");
    assert_eq!(first, draw(&mut a, 11), "same site, same seed again");
    assert_ne!(first, draw(&mut a, 12), "another seed");
    let dice: Vec<&Value> = first[0].rows.iter().map(|r| &r[1]).collect();
    assert!(dice.iter().any(|d| **d != *dice[0]), "the dice vary: {dice:?}");
}

#[test]
fn random_arguments_follow_lua() {
    let msg = |call: &str| runtime(run(&format!("function run()\n return {call}\nend")));
    assert_eq!(
        msg("math.random(0, -1)"),
        "P:2: bad argument #2 to 'random' (interval is empty)"
    );
    assert_eq!(
        msg("math.random(-2)"),
        "P:2: bad argument #1 to 'random' (interval is empty)"
    );
    assert_eq!(
        msg("math.random(1.5)"),
        "P:2: bad argument #1 to 'random' (number has no integer representation)"
    );
    assert_eq!(
        msg("math.random('a')"),
        "P:2: bad argument #1 to 'random' (number expected, got string)"
    );
    assert_eq!(
        msg("math.random(1, 2, 3)"),
        "P:2: bad argument to 'random' (wrong number of arguments)"
    );
    assert_eq!(
        msg("math.randomseed(1)"),
        "P:2: attempt to call a nil value (field 'randomseed')"
    );
    assert_eq!(ok(run("function run() return math.random(3.0, 3) end")), vec![count(3)]);
}
