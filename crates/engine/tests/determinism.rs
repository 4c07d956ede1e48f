//! Determinism: two fresh databases that run the same invocations in the same order end
//! with the same contents, partition by partition (what replay and replicas rely on).
//!
//! A seeded random sequence mixes SQL procedures, default procedures, Lua procedures (one
//! shuffles its writes with `math.random`), a Rust multi-partition procedure, ad hoc DML
//! batches (single- and multi-partition, writing partitioned and replicated tables), and
//! invocations that fail: Lua's instruction limit, duplicate keys, aborts. It runs on one
//! thread against two databases with the same partition count; every response must match
//! and so must every partition's content hash.
//!
//! What the sequence may store: only values that are functions of the invocation sequence.
//! `math.random` is seeded from the transaction's unique id, and unique ids (like
//! `voltdb.transaction_time()` and SQL's NOW) come from the wall clock, so two fresh
//! databases draw different numbers: `math.random` here decides only the order of writes
//! whose result does not depend on it. Replay must therefore reuse the logged unique ids;
//! with a stopped clock (`Config::clock`) drawn values repeat too (the last test).

use std::sync::Arc;

use voltrs_engine::{
    Config, Database, LuaLimits, NativeProcedure, NativeSpec, ProcedureContext, ProcedureError, Response, ResultTable,
    Status,
};
use voltrs_storage::{DataType, Value};
use voltrs_wire::Hashinator;

const PARTITIONS: usize = 4;
const INVOCATIONS: usize = 1500;
const KEYS: u64 = 120;
const INSTRUCTIONS: u64 = 100_000;

/// SplitMix64: the sequence's generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

const SCHEMA: &str = "
    CREATE TABLE kv (k BIGINT NOT NULL PRIMARY KEY, v BIGINT NOT NULL, tag VARCHAR(8));
    PARTITION TABLE kv ON COLUMN k;
    CREATE INDEX kv_v ON kv (v);
    CREATE TABLE ref (code BIGINT NOT NULL PRIMARY KEY, label VARCHAR(16));
    CREATE VIEW kv_by_tag (tag, n, total) AS SELECT tag, COUNT(*), SUM(v) FROM kv GROUP BY tag;
    CREATE PROCEDURE put PARTITION ON TABLE kv COLUMN k AS UPSERT INTO kv VALUES (?, ?, ?);
    CREATE PROCEDURE bump PARTITION ON TABLE kv COLUMN k PARAMETER 1 AS BEGIN
        UPDATE kv SET v = v + ? WHERE k = ?;
        SELECT v FROM kv WHERE k = ?;
    END;
    CREATE PROCEDURE lua_touch (k BIGINT, iters BIGINT) PARTITION ON TABLE kv COLUMN k LANGUAGE LUA AS $$
        local get = voltdb.sql('SELECT v FROM kv WHERE k = ?')
        local ins = voltdb.sql('INSERT INTO kv VALUES (?, ?, ?)')
        local bump = voltdb.sql('UPDATE kv SET v = v + 1 WHERE k = ?')
        function run(k, iters)
          voltdb.queue(get, k)
          if voltdb.execute()[1]:count() == 0 then
            voltdb.queue(ins, k, iters % 1000, 'lua')
          else
            voltdb.queue(bump, k)
          end
          voltdb.execute()
          -- Busy work whose value depends on the seed: it reaches neither the data nor the
          -- result. Many iterations exceed the instruction limit.
          local acc = 0
          for i = 1, iters do
            local x = math.random(6)
            if x < 1 or x > 6 then voltdb.abort('math.random(6) returned ' .. x) end
            acc = acc + x
          end
          return iters
        end
    $$;
    CREATE PROCEDURE lua_spread (base BIGINT, n BIGINT) LANGUAGE LUA AS $$
        local put = voltdb.sql('UPSERT INTO kv VALUES (?, ?, ?)')
        local label = voltdb.sql('UPSERT INTO ref VALUES (?, ?)')
        function run(base, n)
          local keys = {}
          for i = 1, n do keys[i] = base + i end
          for i = n, 2, -1 do
            local j = math.random(i)
            keys[i], keys[j] = keys[j], keys[i]
          end
          for _, key in ipairs(keys) do voltdb.queue(put, key, key % 97, 'spread') end
          voltdb.queue(label, base % 10, 'spread ' .. n)
          voltdb.execute(true)
          return n
        end
    $$;
";

/// Moves value between two keys (multi-partition); aborts unless both exist.
struct Move;

impl NativeProcedure for Move {
    fn run(&self, cx: &mut ProcedureContext<'_>, p: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        cx.queue(0, vec![p[2].clone(), p[0].clone()]);
        cx.queue(1, vec![p[2].clone(), p[1].clone()]);
        let t = cx.execute()?;
        let changed = |i: usize| t[i].rows.first().and_then(|r| r.first()) == Some(&Value::Integer(1));
        if !(changed(0) && changed(1)) {
            return Err(ProcedureError::Abort(format!(
                "move {:?} -> {:?}: a key is missing",
                p[0], p[1]
            )));
        }
        Ok(t)
    }
}

fn open() -> Database {
    let config = Config {
        lua: LuaLimits {
            instructions: INSTRUCTIONS,
            ..LuaLimits::default()
        },
        ..Config::with_partitions(PARTITIONS)
    };
    let db = Database::open(config).expect("open");
    db.session().execute_sql(SCHEMA).expect("schema");
    let big = |n: &str| (n.to_string(), DataType::BigInt);
    db.register_procedure(NativeSpec {
        name: "move".into(),
        params: vec![big("SRC"), big("DST"), big("AMOUNT")],
        statements: vec![
            "UPDATE kv SET v = v - ? WHERE k = ?".into(),
            "UPDATE kv SET v = v + ? WHERE k = ?".into(),
        ],
        partition: None,
        procedure: Arc::new(Move),
    })
    .expect("register");
    db
}

/// The next invocation of the sequence: a procedure name and its parameters.
fn invocation(rng: &mut Rng) -> (&'static str, Vec<Value>) {
    let key = |rng: &mut Rng| Value::Integer(rng.below(KEYS));
    let int = |rng: &mut Rng, n: u64| Value::Integer(rng.below(n));
    let tag = |rng: &mut Rng| Value::str(["a", "b", "c"][rng.below(3) as usize]);
    match rng.below(14) {
        0 => ("put", vec![key(rng), int(rng, 1000), tag(rng)]),
        1 => {
            let k = key(rng);
            ("bump", vec![int(rng, 50), k.clone(), k])
        }
        2 | 3 => ("kv.insert", vec![key(rng), int(rng, 1000), tag(rng)]),
        4 => ("KV.delete", vec![key(rng)]),
        5 => ("kv.upsert", vec![key(rng), int(rng, 1000), Value::Null]),
        6 => ("lua_touch", vec![key(rng), int(rng, 50)]),
        7 => ("lua_touch", vec![key(rng), Value::Integer(1_000_000)]),
        8 => ("lua_spread", vec![int(rng, KEYS), Value::Integer(1 + rng.below(8))]),
        9 => ("move", vec![key(rng), key(rng), int(rng, 30)]),
        10 => (
            "@AdHoc",
            vec![
                Value::str("INSERT INTO kv VALUES (?, ?, 'adhoc'); UPDATE kv SET v = v + 1 WHERE tag = ?"),
                key(rng),
                int(rng, 1000),
                tag(rng),
            ],
        ),
        11 => (
            "@AdHoc",
            vec![Value::str("DELETE FROM kv WHERE v % 13 = ?"), int(rng, 13)],
        ),
        12 => ("ref.insert", vec![int(rng, 12), Value::str("ref")]),
        _ => (
            "@AdHoc",
            vec![
                Value::str("UPDATE ref SET label = ? WHERE code < ?; UPDATE kv SET tag = 'big' WHERE v > ? AND k = ?"),
                tag(rng),
                int(rng, 12),
                int(rng, 1000),
                key(rng),
            ],
        ),
    }
}

/// Runs the sequence of `seed` on a fresh database; its responses and the database.
fn replay(seed: u64) -> (Vec<Response>, Database) {
    let db = open();
    let mut s = db.session();
    let mut rng = Rng(seed);
    let responses = (0..INVOCATIONS)
        .map(|_| {
            let (name, params) = invocation(&mut rng);
            s.call(name, &params)
        })
        .collect();
    (responses, db)
}

#[test]
fn two_fresh_databases_running_the_same_sequence_agree() {
    let (first, a) = replay(0xD37E);
    let (second, b) = replay(0xD37E);
    for (i, (x, y)) in first.iter().zip(&second).enumerate() {
        assert_eq!(x, y, "response {i}");
    }
    // The sequence did fail in every intended way, and mostly succeeded.
    let count = |pred: &dyn Fn(&Response) -> bool| first.iter().filter(|r| pred(r)).count();
    let message = |r: &Response, needle: &str| r.status_string.as_deref().is_some_and(|m| m.contains(needle));
    let limits = count(&|r| r.status == Status::UnexpectedFailure && message(r, "instruction limit"));
    let duplicates = count(&|r| r.status == Status::GracefulFailure && message(r, "duplicate key"));
    let aborts = count(&|r| r.status == Status::UserAbort && message(r, "a key is missing"));
    let ok = count(&|r| r.status == Status::Success);
    assert!(
        limits > 0 && duplicates > 0 && aborts > 0,
        "limits {limits}, duplicates {duplicates}, aborts {aborts}"
    );
    assert_eq!(limits + duplicates + aborts + ok, INVOCATIONS, "no other failure");
    assert!(ok > INVOCATIONS / 2, "{ok} succeeded");

    let hashes = a.content_hashes().expect("hashes");
    assert_eq!(hashes.len(), PARTITIONS);
    assert_eq!(hashes, b.content_hashes().expect("hashes"));

    // One more write changes exactly its partition's hash.
    let mut s = b.session();
    let r = s.call(
        "put",
        &[Value::Integer(KEYS as i64 + 7), Value::Integer(1), Value::str("x")],
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
    let after = b.content_hashes().expect("hashes");
    let p = Hashinator::new(PARTITIONS as u32).partition_for_integer(KEYS as i64 + 7) as usize;
    for (i, (x, y)) in hashes.iter().zip(&after).enumerate() {
        assert_eq!(x == y, i != p, "partition {i} after a write to partition {p}");
    }
    // A write to a replicated table changes every partition's copy.
    let r = s.call("ref.insert", &[Value::Integer(99), Value::str("all")]);
    assert_eq!(r.status, Status::Success, "{r:?}");
    let everywhere = b.content_hashes().expect("hashes");
    assert!(
        after.iter().zip(&everywhere).all(|(x, y)| x != y),
        "{after:?} {everywhere:?}"
    );
}

#[test]
fn a_different_sequence_gives_different_hashes() {
    let (_, a) = replay(1);
    let (_, b) = replay(2);
    assert_ne!(a.content_hashes().expect("hashes"), b.content_hashes().expect("hashes"));
}

/// With a stopped clock (`Config::clock`), unique ids, transaction times and `math.random`
/// depend only on each partition's order of transactions, so even values drawn from them
/// replay identically; with the wall clock they do not.
#[test]
fn a_fixed_clock_makes_drawn_values_repeatable() {
    use voltrs_engine::txn::Clock;
    let run = |clock: Clock| {
        let db = Database::open(Config {
            clock,
            ..Config::with_partitions(PARTITIONS)
        })
        .expect("open");
        let mut s = db.session();
        s.execute_sql(
            "CREATE TABLE drawn (k BIGINT NOT NULL PRIMARY KEY, r FLOAT, t BIGINT, u BIGINT);
             PARTITION TABLE drawn ON COLUMN k;
             CREATE PROCEDURE draw (k BIGINT) PARTITION ON TABLE drawn COLUMN k LANGUAGE LUA AS $$
               local ins = voltdb.sql('INSERT INTO drawn VALUES (?, ?, ?, ?)')
               function run(k)
                 voltdb.queue(ins, k, math.random(), voltdb.transaction_time(), voltdb.unique_id())
                 voltdb.execute()
                 return 0
               end $$;",
        )
        .expect("schema");
        for k in 0..200 {
            let r = s.call("draw", &[Value::Integer(k)]);
            assert_eq!(r.status, Status::Success, "{r:?}");
        }
        db.content_hashes().expect("hashes")
    };
    let fixed = Clock::Fixed(1_767_225_600_000);
    assert_eq!(run(fixed), run(fixed));
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_ne!(
        run(Clock::System),
        run(Clock::System),
        "wall-clock ids differ between runs"
    );
}
