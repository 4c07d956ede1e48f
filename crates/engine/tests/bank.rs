//! The bank: the transaction engine's acceptance test for atomicity and isolation under
//! concurrency.
//!
//! Accounts are partitioned on `id`. Caller threads run, concurrently and at random:
//! single-partition deposits (a SQL procedure), single-partition withdrawals that abort on
//! insufficient funds (one in Lua, one in Rust: both write first, then check and abort, so
//! the abort must undo a write), and multi-partition transfers between accounts of
//! different partitions (one in Rust, one in Lua: each inserts its audit row, debits,
//! credits, then aborts if the source went negative). Each caller records what committed.
//!
//! At the end, with every caller's log merged: every account's balance is its initial
//! balance plus the committed operations on it (so the total is initial + deposits −
//! withdrawals, transfers conserving it); the audit table holds exactly the committed
//! transfers; no balance is negative; and the per-owner view equals its GROUP BY query.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use voltrs_engine::{
    Config, Database, NativeProcedure, NativeSpec, Outcome, ProcedureContext, ProcedureError, ResultTable, Status,
};
use voltrs_storage::{DataType, Value};
use voltrs_wire::Hashinator;

const ACCOUNTS: i64 = 40;
const INITIAL: i64 = 100;
const OWNERS: i64 = 7;
const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 500;

/// SplitMix64: a small seeded generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SCHEMA: &str = "
    CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, owner VARCHAR(8) NOT NULL, balance BIGINT NOT NULL);
    PARTITION TABLE acct ON COLUMN id;
    CREATE INDEX acct_owner ON acct (owner);
    CREATE TABLE audit (xfer BIGINT NOT NULL PRIMARY KEY, src BIGINT NOT NULL, dst BIGINT NOT NULL, amount BIGINT NOT NULL);
    CREATE VIEW by_owner (owner, n, total) AS SELECT owner, COUNT(*), SUM(balance) FROM acct GROUP BY owner;
    CREATE PROCEDURE deposit PARTITION ON TABLE acct COLUMN id PARAMETER 1 AS
        UPDATE acct SET balance = balance + ? WHERE id = ?;
    CREATE PROCEDURE withdraw_lua (id BIGINT, amount BIGINT) PARTITION ON TABLE acct COLUMN id LANGUAGE LUA AS $$
        local debit = voltdb.sql('UPDATE acct SET balance = balance - ? WHERE id = ?')
        local get = voltdb.sql('SELECT balance FROM acct WHERE id = ?')
        function run(id, amount)
          voltdb.queue_expect(debit, voltdb.EXPECT_SCALAR_MATCH(1), amount, id)
          voltdb.queue(get, id)
          local b = voltdb.execute(true)[2]:scalar()
          if b < 0 then voltdb.abort('insufficient funds in account ' .. id) end
          return b
        end
    $$;
    CREATE PROCEDURE transfer_lua (xfer BIGINT, src BIGINT, dst BIGINT, amount BIGINT) LANGUAGE LUA AS $$
        local audit = voltdb.sql('INSERT INTO audit VALUES (?, ?, ?, ?)')
        local debit = voltdb.sql('UPDATE acct SET balance = balance - ? WHERE id = ?')
        local credit = voltdb.sql('UPDATE acct SET balance = balance + ? WHERE id = ?')
        local get = voltdb.sql('SELECT balance FROM acct WHERE id = ?')
        function run(xfer, src, dst, amount)
          voltdb.queue(audit, xfer, src, dst, amount)
          voltdb.queue_expect(debit, voltdb.EXPECT_SCALAR_MATCH(1), amount, src)
          voltdb.queue_expect(credit, voltdb.EXPECT_SCALAR_MATCH(1), amount, dst)
          voltdb.queue(get, src)
          local b = voltdb.execute(true)[4]:scalar()
          if b < 0 then voltdb.abort('insufficient funds in account ' .. src) end
          return b
        end
    $$;
";

fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn scalar(tables: &[ResultTable], i: usize) -> Result<i64, ProcedureError> {
    match tables.get(i).and_then(|t| t.rows.first()).and_then(|r| r.first()) {
        Some(Value::Integer(b)) => Ok(*b),
        _ => Err(ProcedureError::Abort("no such account".into())),
    }
}

/// Withdrawal in Rust: debit, read back, abort if overdrawn.
struct Withdraw;

impl NativeProcedure for Withdraw {
    fn run(&self, cx: &mut ProcedureContext<'_>, p: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        cx.queue(0, vec![p[1].clone(), p[0].clone()]);
        cx.queue(1, vec![p[0].clone()]);
        let t = cx.execute()?;
        if scalar(&t, 0)? != 1 {
            return Err(ProcedureError::Abort("no such account".into()));
        }
        if scalar(&t, 1)? < 0 {
            return Err(ProcedureError::Abort(format!(
                "insufficient funds in account {}",
                int(&p[0])
            )));
        }
        Ok(vec![t[1].clone()])
    }
}

/// Transfer in Rust (multi-partition): audit row, debit, credit, then the check.
struct Transfer;

impl NativeProcedure for Transfer {
    fn run(&self, cx: &mut ProcedureContext<'_>, p: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        let (xfer, src, dst, amount) = (&p[0], &p[1], &p[2], &p[3]);
        cx.queue(0, vec![xfer.clone(), src.clone(), dst.clone(), amount.clone()]);
        cx.queue(1, vec![amount.clone(), src.clone()]);
        cx.queue(2, vec![amount.clone(), dst.clone()]);
        let t = cx.execute()?;
        if scalar(&t, 1)? != 1 || scalar(&t, 2)? != 1 {
            return Err(ProcedureError::Abort("no such account".into()));
        }
        cx.queue(3, vec![src.clone()]);
        let b = cx.execute()?;
        if scalar(&b, 0)? < 0 {
            return Err(ProcedureError::Abort(format!(
                "insufficient funds in account {}",
                int(src)
            )));
        }
        Ok(b)
    }
}

fn open(partitions: usize) -> Database {
    let db = Database::open(Config::with_partitions(partitions)).expect("open");
    db.session().execute_sql(SCHEMA).expect("schema");
    let big = |n: &str| (n.to_string(), DataType::BigInt);
    db.register_procedure(NativeSpec {
        name: "withdraw_rs".into(),
        params: vec![big("ID"), big("AMOUNT")],
        statements: vec![
            "UPDATE acct SET balance = balance - ? WHERE id = ?".into(),
            "SELECT balance FROM acct WHERE id = ?".into(),
        ],
        partition: Some(("acct".into(), "id".into(), 0)),
        procedure: Arc::new(Withdraw),
    })
    .expect("register withdraw_rs");
    db.register_procedure(NativeSpec {
        name: "transfer_rs".into(),
        params: vec![big("XFER"), big("SRC"), big("DST"), big("AMOUNT")],
        statements: vec![
            "INSERT INTO audit VALUES (?, ?, ?, ?)".into(),
            "UPDATE acct SET balance = balance - ? WHERE id = ?".into(),
            "UPDATE acct SET balance = balance + ? WHERE id = ?".into(),
            "SELECT balance FROM acct WHERE id = ?".into(),
        ],
        partition: None,
        procedure: Arc::new(Transfer),
    })
    .expect("register transfer_rs");
    let mut s = db.session();
    for id in 0..ACCOUNTS {
        let r = s.call(
            "acct.insert",
            &[
                Value::Integer(id),
                Value::str(&format!("o{}", id % OWNERS)),
                Value::Integer(INITIAL),
            ],
        );
        assert_eq!(r.status, Status::Success, "{r:?}");
    }
    db
}

/// What one caller saw commit (and how many calls aborted).
#[derive(Default)]
struct Log {
    deposits: Vec<(i64, i64)>,
    withdrawals: Vec<(i64, i64)>,
    transfers: BTreeMap<i64, (i64, i64, i64)>,
    aborted_transfers: BTreeSet<i64>,
    aborted_withdrawals: usize,
}

/// One caller: `OPS_PER_THREAD` random operations through its own session.
fn caller(db: Database, thread: usize, partitions: usize) -> Log {
    let hashinator = Hashinator::new(partitions as u32);
    let mut rng = Rng(0xB4A1 + thread as u64);
    let mut s = db.session();
    let mut log = Log::default();
    let account = |rng: &mut Rng| rng.below(ACCOUNTS as u64) as i64;
    for op in 0..OPS_PER_THREAD {
        let amount = 1 + rng.below(120) as i64;
        match rng.below(10) {
            0..=3 => {
                let id = account(&mut rng);
                let r = s.call("DEPOSIT", &[Value::Integer(amount), Value::Integer(id)]);
                assert_eq!(r.status, Status::Success, "deposit: {r:?}");
                assert_eq!(int(&r.tables[0].rows[0][0]), 1, "one account updated");
                log.deposits.push((id, amount));
            }
            4..=6 => {
                let id = account(&mut rng);
                let name = if rng.below(2) == 0 {
                    "withdraw_lua"
                } else {
                    "Withdraw_RS"
                };
                let r = s.call(name, &[Value::Integer(id), Value::Integer(amount)]);
                match r.status {
                    Status::Success => {
                        assert!(
                            int(&r.tables[0].rows[0][0]) >= 0,
                            "{name} committed an overdraft: {r:?}"
                        );
                        log.withdrawals.push((id, amount));
                    }
                    Status::UserAbort => {
                        let m = r.status_string.unwrap_or_default();
                        assert!(
                            m.contains(&format!("insufficient funds in account {id}")),
                            "{name}: {m}"
                        );
                        log.aborted_withdrawals += 1;
                    }
                    _ => panic!("{name}: {r:?}"),
                }
            }
            _ => {
                let src = account(&mut rng);
                let mut dst = account(&mut rng);
                // Accounts of different partitions (of different ids with one partition).
                while dst == src
                    || (partitions > 1
                        && hashinator.partition_for_integer(dst) == hashinator.partition_for_integer(src))
                {
                    dst = account(&mut rng);
                }
                let xfer = (thread * 1_000_000 + op) as i64;
                let name = if rng.below(2) == 0 {
                    "transfer_rs"
                } else {
                    "TRANSFER_LUA"
                };
                let params = [xfer, src, dst, amount].map(Value::Integer);
                let r = s.call(name, &params);
                match r.status {
                    Status::Success => {
                        assert!(
                            int(&r.tables[0].rows[0][0]) >= 0,
                            "{name} committed an overdraft: {r:?}"
                        );
                        log.transfers.insert(xfer, (src, dst, amount));
                    }
                    Status::UserAbort => {
                        let m = r.status_string.unwrap_or_default();
                        assert!(
                            m.contains(&format!("insufficient funds in account {src}")),
                            "{name}: {m}"
                        );
                        log.aborted_transfers.insert(xfer);
                    }
                    _ => panic!("{name}: {r:?}"),
                }
            }
        }
    }
    log
}

fn query(db: &Database, sql: &str) -> Vec<Vec<Value>> {
    match db.session().execute_sql(sql).expect(sql).pop() {
        Some(Outcome::Rows(t)) => t.rows,
        other => panic!("{sql}: {other:?}"),
    }
}

fn run_bank(partitions: usize) {
    let db = open(partitions);
    let logs: Vec<Log> = (0..THREADS)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || caller(db, t, partitions))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("caller thread"))
        .collect();

    // The expected balance of every account, from the committed operations alone.
    let mut expected: BTreeMap<i64, i64> = (0..ACCOUNTS).map(|id| (id, INITIAL)).collect();
    let mut committed_transfers = BTreeMap::new();
    let mut aborted_transfers = BTreeSet::new();
    let (mut deposited, mut withdrawn, mut aborted_withdrawals) = (0, 0, 0);
    for log in &logs {
        for &(id, amount) in &log.deposits {
            *expected.get_mut(&id).expect("account") += amount;
            deposited += amount;
        }
        for &(id, amount) in &log.withdrawals {
            *expected.get_mut(&id).expect("account") -= amount;
            withdrawn += amount;
        }
        for (&xfer, &(src, dst, amount)) in &log.transfers {
            *expected.get_mut(&src).expect("account") -= amount;
            *expected.get_mut(&dst).expect("account") += amount;
            committed_transfers.insert(xfer, (src, dst, amount));
        }
        aborted_transfers.extend(log.aborted_transfers.iter().copied());
        aborted_withdrawals += log.aborted_withdrawals;
    }
    // The mix exercised both outcomes of both kinds of checked operation.
    assert!(
        aborted_withdrawals > 0 && !aborted_transfers.is_empty(),
        "some operations aborted"
    );
    assert!(
        withdrawn > 0 && !committed_transfers.is_empty(),
        "some operations committed"
    );

    let total = int(&query(&db, "SELECT SUM(balance) FROM acct")[0][0]);
    assert_eq!(
        total,
        ACCOUNTS * INITIAL + deposited - withdrawn,
        "money was created or destroyed"
    );
    let balances: BTreeMap<i64, i64> = query(&db, "SELECT id, balance FROM acct")
        .iter()
        .map(|r| (int(&r[0]), int(&r[1])))
        .collect();
    assert_eq!(balances, expected, "each balance is its committed history");
    assert_eq!(int(&query(&db, "SELECT COUNT(*) FROM acct WHERE balance < 0")[0][0]), 0);

    // The audit table holds exactly the committed transfers, as they were made.
    let audit: BTreeMap<i64, (i64, i64, i64)> = query(&db, "SELECT xfer, src, dst, amount FROM audit")
        .iter()
        .map(|r| (int(&r[0]), (int(&r[1]), int(&r[2]), int(&r[3]))))
        .collect();
    assert_eq!(audit, committed_transfers);
    assert!(aborted_transfers.iter().all(|x| !audit.contains_key(x)));

    // The view equals what it summarizes, and the owner index agrees with a scan.
    let view = query(&db, "SELECT owner, n, total FROM by_owner ORDER BY owner");
    let grouped = query(
        &db,
        "SELECT owner, COUNT(*), SUM(balance) FROM acct GROUP BY owner ORDER BY owner",
    );
    assert_eq!(view, grouped);
    assert_eq!(view.len(), OWNERS as usize);
    for o in 0..OWNERS {
        let by_index = query(&db, &format!("SELECT SUM(balance) FROM acct WHERE owner = 'o{o}'"));
        let want: i64 = expected
            .iter()
            .filter(|(id, _)| *id % OWNERS == o)
            .map(|(_, b)| b)
            .sum();
        assert_eq!(int(&by_index[0][0]), want, "owner o{o}");
    }
}

#[test]
fn bank_on_four_partitions_keeps_its_books() {
    run_bank(4);
}

#[test]
fn bank_on_one_partition_keeps_its_books() {
    run_bank(1);
}
