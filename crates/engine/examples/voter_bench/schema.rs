//! Voter's schema (VoltDB `examples/voter/ddl.sql`), its initial rows, and the procedures
//! the benchmark calls: VoltDB's Vote written three ways (SQL-only, Lua, Rust), two
//! multi-partition procedures, and cut-down procedures that isolate one cost each.

use std::sync::Arc;

use voltrs_engine::{
    Database, Expectation, NativeProcedure, NativeSpec, ProcedureContext, ProcedureError, ResultColumn, ResultTable,
};
use voltrs_storage::{DataType, Value};

use crate::workload::{AREA_CODES, area_code};

/// Contestants voted for (VoltDB's default).
pub const CONTESTANTS: u64 = 6;

/// Votes a phone may cast (VoltDB's default `maxvotes`).
pub const MAX_VOTES: i64 = 2;

/// Rows in `votes` before a multi-partition variant runs (so `COUNT(*)` has rows to count).
pub const MP_PRELOADED_VOTES: i64 = 1000;

/// VoltDB voter's tables and views, plus two the benchmark adds: `votes_plain` (votes
/// without views, to price view maintenance) and `mp_writes` (replicated, written by the
/// multi-partition write).
const DDL: &str = "
CREATE TABLE contestants (contestant_number INTEGER NOT NULL, contestant_name VARCHAR(50) NOT NULL,
  CONSTRAINT PK_contestants PRIMARY KEY (contestant_number));
CREATE TABLE votes (phone_number BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant_number INTEGER NOT NULL);
PARTITION TABLE votes ON COLUMN phone_number;
CREATE TABLE area_code_state (area_code SMALLINT NOT NULL, state VARCHAR(2) NOT NULL,
  CONSTRAINT PK_area_code_state PRIMARY KEY (area_code));
CREATE VIEW v_votes_by_phone_number (phone_number, num_votes)
  AS SELECT phone_number, COUNT(*) FROM votes GROUP BY phone_number;
CREATE VIEW v_votes_by_contestant_number_state (contestant_number, state, num_votes)
  AS SELECT contestant_number, state, COUNT(*) FROM votes GROUP BY contestant_number, state;
CREATE TABLE votes_plain (phone_number BIGINT NOT NULL, state VARCHAR(2) NOT NULL, contestant_number INTEGER NOT NULL);
PARTITION TABLE votes_plain ON COLUMN phone_number;
CREATE TABLE mp_writes (id BIGINT NOT NULL, note INTEGER NOT NULL, PRIMARY KEY (id));
";

const NAMES: [&str; 6] = [
    "Edwina Burnam",
    "Tabatha Gehling",
    "Kelly Clauss",
    "Jessie Alloway",
    "Alana Bregman",
    "Jessie Eichman",
];

/// Creates the schema and loads the contestants and area codes (VoltDB's `Initialize`).
pub fn load(db: &Database) -> Result<(), String> {
    let mut s = db.session();
    s.execute_sql(DDL).map_err(|e| format!("schema: {e}"))?;
    let contestants: Vec<String> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| format!("({}, '{n}')", i + 1))
        .collect();
    s.execute_sql(&format!("INSERT INTO contestants VALUES {}", contestants.join(", ")))
        .map_err(|e| format!("contestants: {e}"))?;
    let areas: Vec<String> = (0..AREA_CODES)
        .map(|i| {
            let (code, state) = area_code(i);
            format!("({code}, '{state}')")
        })
        .collect();
    s.execute_sql(&format!("INSERT INTO area_code_state VALUES {}", areas.join(", ")))
        .map_err(|e| format!("area codes: {e}"))?;
    Ok(())
}

/// Inserts [`MP_PRELOADED_VOTES`] votes spread over the partitions.
pub fn preload_votes(db: &Database) -> Result<(), String> {
    let mut s = db.session();
    let insert = s
        .prepare("INSERT INTO votes VALUES (?, ?, ?)")
        .map_err(|e| format!("prepare: {e}"))?;
    for n in 0..MP_PRELOADED_VOTES {
        let row = [
            Value::Integer(2_010_000_000 + n * 7919),
            Value::str("MA"),
            Value::Integer(n % CONTESTANTS as i64 + 1),
        ];
        s.execute_prepared(&insert, &row).map_err(|e| format!("preload: {e}"))?;
    }
    Ok(())
}

const VOTE_SQL: &str = "CREATE PROCEDURE VoteSql PARTITION ON TABLE votes COLUMN phone_number PARAMETER 1 AS BEGIN
  SELECT contestant_number FROM contestants WHERE contestant_number = ?;
  SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?;
  SELECT state FROM area_code_state WHERE area_code = ?;
  INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?);
END";

const VOTE_LUA: &str = "CREATE PROCEDURE VoteLua (phone BIGINT, contestant INTEGER, max_votes BIGINT)
PARTITION ON TABLE votes COLUMN phone_number LANGUAGE LUA AS $$
local check_contestant = voltdb.sql('SELECT contestant_number FROM contestants WHERE contestant_number = ?')
local check_voter = voltdb.sql('SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?')
local check_state = voltdb.sql('SELECT state FROM area_code_state WHERE area_code = ?')
local insert_vote = voltdb.sql('INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)')
function run(phone, contestant, max_votes)
  voltdb.queue(check_contestant, contestant)
  voltdb.queue(check_voter, phone)
  voltdb.queue(check_state, phone // 10000000)
  local r = voltdb.execute()
  if r[1]:count() == 0 then return 1 end
  if r[2]:count() == 1 and r[2]:get(1, 1) >= max_votes then return 2 end
  local state = 'XX'
  if r[3]:count() == 1 then state = r[3]:get(1, 1) end
  voltdb.queue_expect(insert_vote, voltdb.EXPECT_SCALAR_MATCH(1), phone, state, contestant)
  voltdb.execute(true)
  return 0
end
$$";

const EMPTY_LUA: &str = "CREATE PROCEDURE EmptyLua (phone BIGINT, contestant INTEGER, max_votes BIGINT)
PARTITION ON TABLE votes COLUMN phone_number LANGUAGE LUA AS $$
function run(phone, contestant, max_votes)
  return 0
end
$$";

/// What a variant's procedure returns, so responses are counted right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Vote's 1×1 BIGINT: 0 accepted, 1 bad contestant, 2 over the vote limit.
    VoteCode,
    /// Statement results: success is all there is to count.
    Tables,
}

/// A benchmark variant: the procedure it calls and the parameters it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Sql,
    Lua,
    Native,
    MpRead,
    MpWrite,
    NativeEmpty,
    LuaEmpty,
    Read1,
    Read3,
    Insert,
    InsertNoView,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::Sql,
        Variant::Lua,
        Variant::Native,
        Variant::MpRead,
        Variant::MpWrite,
    ];

    /// The variants that isolate one cost each, and the full ones to compare with.
    pub const PROFILE: [Variant; 9] = [
        Variant::NativeEmpty,
        Variant::LuaEmpty,
        Variant::Read1,
        Variant::Read3,
        Variant::InsertNoView,
        Variant::Insert,
        Variant::Sql,
        Variant::Native,
        Variant::Lua,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Variant::Sql => "sql",
            Variant::Lua => "lua",
            Variant::Native => "native",
            Variant::MpRead => "mp-read",
            Variant::MpWrite => "mp-write",
            Variant::NativeEmpty => "native-empty",
            Variant::LuaEmpty => "lua-empty",
            Variant::Read1 => "sql-read1",
            Variant::Read3 => "sql-read3",
            Variant::Insert => "sql-insert",
            Variant::InsertNoView => "sql-insert-noview",
        }
    }

    pub fn parse(s: &str) -> Option<Vec<Variant>> {
        match s {
            "all" => return Some(Variant::ALL.to_vec()),
            "mp" => return Some(vec![Variant::MpRead, Variant::MpWrite]),
            "profile" => return Some(Variant::PROFILE.to_vec()),
            _ => {}
        }
        let all = [
            Variant::Sql,
            Variant::Lua,
            Variant::Native,
            Variant::MpRead,
            Variant::MpWrite,
            Variant::NativeEmpty,
            Variant::LuaEmpty,
            Variant::Read1,
            Variant::Read3,
            Variant::Insert,
            Variant::InsertNoView,
        ];
        all.into_iter().find(|v| v.label() == s).map(|v| vec![v])
    }

    pub fn multi_partition(self) -> bool {
        matches!(self, Variant::MpRead | Variant::MpWrite)
    }

    pub fn procedure(self) -> &'static str {
        match self {
            Variant::Sql => "VoteSql",
            Variant::Lua => "VoteLua",
            Variant::Native => "VoteNative",
            Variant::MpRead => "CountVotes",
            Variant::MpWrite => "MpWrite",
            Variant::NativeEmpty => "EmptyNative",
            Variant::LuaEmpty => "EmptyLua",
            Variant::Read1 => "Read1",
            Variant::Read3 => "Read3",
            Variant::Insert => "InsertVote",
            Variant::InsertNoView => "InsertPlain",
        }
    }

    pub fn answer(self) -> Answer {
        match self {
            Variant::Lua | Variant::Native => Answer::VoteCode,
            _ => Answer::Tables,
        }
    }

    /// Creates the variant's procedure.
    pub fn install(self, db: &Database) -> Result<(), String> {
        let mut s = db.session();
        let sql = |body: &str| {
            format!(
                "CREATE PROCEDURE {} PARTITION ON TABLE votes COLUMN phone_number {body}",
                self.procedure()
            )
        };
        let ddl = match self {
            Variant::Sql => VOTE_SQL.to_string(),
            Variant::Lua => VOTE_LUA.to_string(),
            Variant::LuaEmpty => EMPTY_LUA.to_string(),
            Variant::Read1 => sql("AS SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?"),
            Variant::Read3 => sql("PARAMETER 1 AS BEGIN
                   SELECT contestant_number FROM contestants WHERE contestant_number = ?;
                   SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?;
                   SELECT state FROM area_code_state WHERE area_code = ?;
                 END"),
            Variant::Insert => sql("AS INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)"),
            Variant::InsertNoView => "CREATE PROCEDURE InsertPlain PARTITION ON TABLE votes_plain COLUMN phone_number \
                 AS INSERT INTO votes_plain (phone_number, state, contestant_number) VALUES (?, ?, ?)"
                .to_string(),
            Variant::MpRead => "CREATE PROCEDURE CountVotes AS SELECT COUNT(*) FROM votes".to_string(),
            Variant::MpWrite => "CREATE PROCEDURE MpWrite AS INSERT INTO mp_writes VALUES (?, ?)".to_string(),
            Variant::Native => return register_native(db, self.procedure(), Arc::new(Vote), &VOTE_STATEMENTS),
            Variant::NativeEmpty => return register_native(db, self.procedure(), Arc::new(Empty), &[]),
        };
        s.execute_sql(&ddl).map_err(|e| format!("{}: {e}", self.procedure()))?;
        Ok(())
    }

    /// The call's parameters for this variant's procedure; `serial` numbers the caller's
    /// calls (unique keys for the multi-partition write).
    pub fn params(self, call: &crate::workload::Call, states: &[Value], serial: i64) -> Vec<Value> {
        let phone = Value::Integer(call.phone);
        let contestant = Value::Integer(call.contestant);
        let area = Value::Integer(call.phone / 10_000_000);
        let state = states.get(call.area).cloned().unwrap_or_else(|| Value::str("XX"));
        match self {
            Variant::Lua | Variant::Native | Variant::NativeEmpty | Variant::LuaEmpty => {
                vec![phone, contestant, Value::Integer(MAX_VOTES)]
            }
            Variant::Sql => vec![contestant.clone(), phone.clone(), area, phone, state, contestant],
            Variant::Read1 => vec![phone],
            Variant::Read3 => vec![contestant, phone, area],
            Variant::Insert | Variant::InsertNoView => vec![phone, state, contestant],
            Variant::MpRead => Vec::new(),
            Variant::MpWrite => vec![Value::Integer(serial), Value::Integer(call.contestant)],
        }
    }
}

const VOTE_STATEMENTS: [&str; 4] = [
    "SELECT contestant_number FROM contestants WHERE contestant_number = ?",
    "SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?",
    "SELECT state FROM area_code_state WHERE area_code = ?",
    "INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)",
];

fn register_native(
    db: &Database,
    name: &str,
    procedure: Arc<dyn NativeProcedure>,
    statements: &[&str],
) -> Result<(), String> {
    db.register_procedure(NativeSpec {
        name: name.into(),
        params: vec![
            ("PHONE".into(), DataType::BigInt),
            ("CONTESTANT".into(), DataType::Integer),
            ("MAX_VOTES".into(), DataType::BigInt),
        ],
        statements: statements.iter().map(|s| s.to_string()).collect(),
        partition: Some(("votes".into(), "phone_number".into(), 0)),
        procedure,
    })
    .map_err(|e| format!("{name}: {e}"))
}

/// A 1×1 BIGINT table, as VoltDB returns a procedure's `long`.
fn long(v: i64) -> Vec<ResultTable> {
    vec![ResultTable {
        columns: vec![ResultColumn {
            name: String::new(),
            ty: DataType::BigInt,
        }],
        rows: vec![vec![Value::Integer(v)]],
    }]
}

fn first(t: &ResultTable) -> Option<&Value> {
    t.rows.first().and_then(|r| r.first())
}

/// VoltDB's `voter.Vote` in Rust.
struct Vote;

impl NativeProcedure for Vote {
    fn run(&self, cx: &mut ProcedureContext<'_>, params: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        let (Some(Value::Integer(phone)), Some(contestant), Some(Value::Integer(max_votes))) =
            (params.first(), params.get(1), params.get(2))
        else {
            return Err(ProcedureError::Abort(
                "Vote takes (phone BIGINT, contestant INTEGER, max_votes BIGINT)".into(),
            ));
        };
        cx.queue(0, vec![contestant.clone()]);
        cx.queue(1, vec![Value::Integer(*phone)]);
        cx.queue(2, vec![Value::Integer(phone / 10_000_000)]);
        let r = cx.execute()?;
        if r[0].rows.is_empty() {
            return Ok(long(1));
        }
        if let Some(Value::Integer(n)) = first(&r[1])
            && n >= max_votes
        {
            return Ok(long(2));
        }
        let state = first(&r[2]).cloned().unwrap_or_else(|| Value::str("XX"));
        cx.queue_expect(
            3,
            Expectation::ScalarMatch(1),
            vec![Value::Integer(*phone), state, contestant.clone()],
        );
        cx.execute()?;
        Ok(long(0))
    }
}

/// A procedure that does nothing: the price of a call without SQL.
struct Empty;

impl NativeProcedure for Empty {
    fn run(&self, _cx: &mut ProcedureContext<'_>, _params: &[Value]) -> Result<Vec<ResultTable>, ProcedureError> {
        Ok(long(0))
    }
}
