//! No input may panic the engine or overflow its stack.
//!
//! Random and mutated SQL goes through the whole pipeline (parse, bind/plan, execute) of a
//! three-partition database holding a partitioned and a replicated table with NULLs and
//! extreme values. Every statement may succeed or fail; none may panic. After each one the
//! database must still answer `SELECT COUNT(*) FROM p`, and a statement that failed must
//! have left both tables exactly as they were (statement atomicity).
//!
//! * Strategy A: statements generated from a small SQL grammar (queries, DML, DDL) with
//!   random expressions, functions, aggregates, windows, subqueries and joins.
//! * Strategy B: ~40 valid seed statements mutated at token and character level.
//! * Strategy C: deeply nested and very long expressions (1 000 / 10 000 levels, 100 000
//!   terms) must give an error or a result on a 2 MiB stack, never a stack overflow.
//!
//! Everything runs with a fixed proptest seed, so failures reproduce (a failing case is shrunk
//! and reported with its SQL, the panic message and location). Each case runs on a thread with
//! a 2 MiB stack (the default test-thread size). A stack overflow aborts the whole process, so
//! each Strategy C case runs in a child process (this binary, filtered to that one case) and
//! an abort there fails the test naming the case.
//!
//! Knobs: `NO_PANIC_VERBOSE=1` prints every statement and its outcome; `NO_PANIC_CASES=<n>` and
//! `NO_PANIC_SEED=<u64>` run longer or different (still reproducible) explorations;
//! `NO_PANIC_DEEP_CASE=<name>` runs one Strategy C case in-process.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, RngSeed, TestCaseError, TestRng, TestRunner};
use voltrs_engine::{Config, Database, Outcome, Session};

const STACK: usize = 2 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------------
// Database set-up
// ---------------------------------------------------------------------------------------

const SETUP: &[&str] = &[
    "CREATE TABLE p (id INTEGER NOT NULL PRIMARY KEY, s VARCHAR(8), d DECIMAL, f FLOAT, \
     t TIMESTAMP, b VARBINARY(4), ti TINYINT)",
    "PARTITION TABLE p ON COLUMN id",
    "CREATE INDEX p_s ON p (s)",
    "CREATE TABLE r (x BIGINT NOT NULL, name VARCHAR(16), amt DECIMAL, ts TIMESTAMP, \
     fl FLOAT, PRIMARY KEY (x))",
    "CREATE INDEX r_name ON r (name, x)",
    "INSERT INTO p VALUES (1, 'a', 1.5, 1.0, '2020-01-01 00:00:00', x'01', 1)",
    "INSERT INTO p VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL)",
    "INSERT INTO p VALUES (-2147483647, 'zzzzzzzz', 99999999999999999999999999.999999999999, \
     1.7976931348623157e308, '9999-12-31 23:59:59.999999', x'ffffffff', 127)",
    "INSERT INTO p VALUES (2147483647, '', -99999999999999999999999999.999999999999, \
     -1.7976931348623155e308, '1583-01-01 00:00:00', x'', -127)",
    "INSERT INTO p VALUES (0, 'é😀', 0, 4.9e-324, '1970-01-01 00:00:00', x'00', 0)",
    "INSERT INTO p VALUES (3, 'it''s', 0.000000000001, -0.0, '1969-12-31 23:59:59.999999', \
     x'7f80', -1)",
    "INSERT INTO r VALUES (1, 'one', 1.0, '2000-01-01 00:00:00', 1.0)",
    "INSERT INTO r VALUES (9223372036854775807, NULL, NULL, NULL, NULL)",
    "INSERT INTO r VALUES (-9223372036854775807, 'min', -1, '1900-01-01 00:00:00', -1e300)",
    "INSERT INTO r VALUES (2, 'two', 2.5, NULL, 0)",
    "INSERT INTO r VALUES (3, 'ünïcödé 😀', 0.000000000001, '2038-01-19 03:14:08', 5e-324)",
];

fn fresh_session() -> Session {
    let db = Database::open(Config { partitions: 3 }).expect("open database");
    let mut session = db.session();
    session.set_statement_timeout(Some(TIMEOUT));
    for sql in SETUP {
        if let Err(e) = session.execute_sql(sql) {
            panic!("set-up statement failed: {sql}: {e}");
        }
    }
    session
}

// ---------------------------------------------------------------------------------------
// Panic capture: a panic inside the engine becomes a test failure naming the SQL, the
// panic message and its location (the default hook would only print it).
// ---------------------------------------------------------------------------------------

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let message = info.payload_as_str().unwrap_or("<non-string panic payload>");
                let location = info
                    .location()
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "<unknown>".into());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("panicked at {location}: {message}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err(message with location)`.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_panic_hook();
    CAPTURING.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(false));
    result.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

/// Runs `f` on a fresh thread with a 2 MiB stack, named `name` (a stack overflow aborts
/// the process with "thread '<name>' has overflowed its stack").
fn on_small_stack<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn test thread");
    match handle.join() {
        Ok(v) => v,
        Err(e) => panic::resume_unwind(e),
    }
}

// ---------------------------------------------------------------------------------------
// Running one statement with its checks
// ---------------------------------------------------------------------------------------

/// A rendering of both tables' full contents (or the error reading them).
fn snapshot(session: &mut Session, sql: &str) -> Result<String, TestCaseError> {
    let mut out = String::new();
    for q in ["SELECT * FROM p ORDER BY id", "SELECT * FROM r ORDER BY x"] {
        match guarded(|| session.execute_sql(q)) {
            Ok(r) => out.push_str(&format!("{r:?}\n")),
            Err(panic) => {
                return Err(TestCaseError::fail(format!(
                    "panic reading {q:?} after {sql:?}: {panic}"
                )));
            }
        }
    }
    Ok(out)
}

fn count_p(session: &mut Session) -> Result<Result<String, String>, String> {
    guarded(|| match session.execute_sql("SELECT COUNT(*) FROM p") {
        Ok(outcomes) => match outcomes.last() {
            Some(Outcome::Rows(t)) if t.rows.len() == 1 && t.rows[0].len() == 1 => Ok(format!("{:?}", t.rows[0][0])),
            other => Err(format!("unexpected COUNT(*) outcome {other:?}")),
        },
        Err(e) => Err(e.to_string()),
    })
}

/// NO_PANIC_VERBOSE=1 prints every statement with its outcome.
fn verbose() -> bool {
    std::env::var_os("NO_PANIC_VERBOSE").is_some()
}

fn may_remove_p(sql: &str) -> bool {
    let up = sql.to_ascii_uppercase();
    ["DROP", "ALTER", "CREATE", "USE", "PARTITION"]
        .iter()
        .any(|w| up.contains(w))
}

/// Per-case state of the checks.
struct Checker {
    session: Session,
    /// `p` may be gone (a successful DROP TABLE p, USE of another database, ...).
    p_gone: bool,
    statements: usize,
    errors: usize,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            session: fresh_session(),
            p_gone: false,
            statements: 0,
            errors: 0,
        }
    }

    /// Executes `sql`: fails the case on a panic, on a failed statement that changed data,
    /// or on a database that stops answering `SELECT COUNT(*) FROM p`.
    fn run(&mut self, sql: &str) -> Result<(), TestCaseError> {
        self.statements += 1;
        let before = snapshot(&mut self.session, sql)?;
        let count_before = count_p(&mut self.session).map_err(TestCaseError::fail)?;
        let result = guarded(|| self.session.execute_sql(sql))
            .map_err(|panic| TestCaseError::fail(format!("PANIC on SQL {sql:?}\n  {panic}")))?;
        let failed = result.is_err();
        if verbose() {
            let shown = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("error: {e}"),
            };
            let sql_shown: String = sql.chars().take(300).collect();
            eprintln!("{sql_shown}\n    => {}", shown.chars().take(200).collect::<String>());
        }
        if failed {
            self.errors += 1;
            // A script stops at its first failing statement, keeping the earlier ones: only
            // single statements are checked for atomicity.
            if !sql.contains(';') {
                let count_after = count_p(&mut self.session).map_err(TestCaseError::fail)?;
                if count_after != count_before {
                    return Err(TestCaseError::fail(format!(
                        "failed statement {sql:?} changed COUNT(*) of p: {count_before:?} -> {count_after:?} \
                         (error: {:?})",
                        result.err()
                    )));
                }
                let after = snapshot(&mut self.session, sql)?;
                if after != before {
                    return Err(TestCaseError::fail(format!(
                        "failed statement {sql:?} changed data (error: {:?})\nbefore:\n{before}after:\n{after}",
                        result.err()
                    )));
                }
            }
        }
        match count_p(&mut self.session) {
            Err(panic) => Err(TestCaseError::fail(format!(
                "PANIC on SELECT COUNT(*) FROM p after {sql:?}: {panic}"
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) if self.p_gone => Ok(()),
            Ok(Err(_)) if !failed && may_remove_p(sql) => {
                self.p_gone = true;
                Ok(())
            }
            Ok(Err(e)) => Err(TestCaseError::fail(format!(
                "database stopped answering SELECT COUNT(*) FROM p after {sql:?} (statement {}): {e}",
                if failed { "failed" } else { "succeeded" }
            ))),
        }
    }
}

/// A deterministic runner: fixed seed, no failure persistence. For longer exploratory runs,
/// `NO_PANIC_CASES=<n>` overrides the case count and `NO_PANIC_SEED=<u64>` picks another
/// (still reproducible) seed.
fn runner(cases: u32) -> TestRunner {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let config = ProptestConfig {
        cases: env("NO_PANIC_CASES").map_or(cases, |n| n as u32),
        failure_persistence: None,
        max_shrink_iters: 4096,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(env("NO_PANIC_SEED").unwrap_or(0)),
        ..ProptestConfig::default()
    };
    match env("NO_PANIC_SEED") {
        Some(_) => TestRunner::new(config),
        None => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    }
}

/// Runs `cases` cases of `strategy` (each a list of statements on a fresh database).
fn run_property(name: &'static str, cases: u32, strategy: fn() -> BoxedStrategy<Vec<String>>) {
    on_small_stack(name, move || {
        let strategy = strategy();
        let totals = RefCell::new((0usize, 0usize));
        let mut runner = runner(cases);
        let result = runner.run(&strategy, |statements| {
            let mut checker = Checker::new();
            for sql in &statements {
                checker.run(sql)?;
            }
            let mut t = totals.borrow_mut();
            t.0 += checker.statements;
            t.1 += checker.errors;
            Ok(())
        });
        if let Err(e) = result {
            panic!("{name}: {e}");
        }
        let (statements, errors) = *totals.borrow();
        eprintln!("{name}: {cases} cases, {statements} statements run ({errors} returned an error)");
    });
}

// ---------------------------------------------------------------------------------------
// Strategy A: a small SQL grammar
// ---------------------------------------------------------------------------------------

fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    select(items).prop_map(str::to_string).boxed()
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "127",
    "128",
    "-128",
    "255",
    "32767",
    "-32768",
    "2147483647",
    "-2147483647",
    "-2147483648",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "-99999999999999999999999999999999999999",
    "999999999999999999999999999999999999999999999",
    "99999999999999999999999999.999999999999",
    "12345678901234567890123456789.1234567890123456789",
    "0.000000000001",
    "0.0000000000001",
    "1e308",
    "1.7976931348623157e308",
    "1e309",
    "-1e309",
    "4.9e-324",
    "1e-400",
    "0.0",
    "-0.0",
    "1.5",
    "-2.5",
    "0.5",
    "1e0",
    "00012",
    ".5",
    "5.",
    "1e",
    "0x10",
];

const MISC_LITERALS: &[&str] = &[
    "NULL",
    "TRUE",
    "FALSE",
    "x'00ff'",
    "X''",
    "x'0'",
    "X'zz'",
    "x'0102030405'",
    "TIMESTAMP '2020-01-01 00:00:00'",
    "TIMESTAMP 'nope'",
    "'2020-01-01'",
    "'1970-01-01 00:00:00.000000'",
    "'9999-12-31 23:59:59.999999'",
    "'0001-01-01 00:00:00'",
    "'2020-02-30 00:00:00'",
    "?",
    "CURRENT_TIMESTAMP",
    "NOW",
    "NOW()",
    "DATE '2020-01-01'",
    "INTERVAL '1' DAY",
];

fn string_literal() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9 %_'é😀\\\\]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        2 => "\\PC{0,10}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        1 => (0usize..400).prop_map(|n| format!("'{}'", "x".repeat(n))),
        1 => pick(&["'", "'unterminated", "'a''", "''''", "N'abc'", "E'\\n'", "'%'", "'_'", "'\\'", "'\u{0}'"]),
    ]
    .boxed()
}

fn literal() -> BoxedStrategy<String> {
    prop_oneof![
        4 => pick(NUMBERS),
        2 => any::<i64>().prop_map(|v| v.to_string()),
        1 => any::<i16>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| format!("{v:e}")),
        1 => (any::<u64>(), any::<u64>(), 0usize..40)
            .prop_map(|(a, b, scale)| {
                let digits = format!("{a}{b}");
                let cut = scale.min(digits.len());
                format!("{}.{}", &digits[..digits.len() - cut], &digits[digits.len() - cut..])
            }),
        3 => string_literal(),
        3 => pick(MISC_LITERALS),
    ]
    .boxed()
}

const COLUMNS: &[&str] = &[
    "id", "s", "d", "f", "t", "b", "ti", "p.id", "p.s", "p.d", "p.t", "r.x", "x", "name", "amt", "ts", "fl", "a.id",
    "q.x", "nope", "p.nope", "zz.id", "\"id\"", "\"ID\"", "ID", "sq.c1", "c",
];

fn column() -> BoxedStrategy<String> {
    pick(COLUMNS)
}

const BINARY_OPS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "AND",
    "OR",
    "LIKE",
    "NOT LIKE",
    "IS DISTINCT FROM",
    "&",
    "|",
    "^",
    "<<",
    ">>",
];

const UNARY_OPS: &[&str] = &["-", "+", "NOT", "- -", "NOT NOT", "~"];

const FUNCTIONS: &[&str] = &[
    "ABS",
    "CEILING",
    "FLOOR",
    "ROUND",
    "MOD",
    "POWER",
    "SQRT",
    "EXP",
    "LN",
    "LOG",
    "LOG10",
    "COALESCE",
    "DECODE",
    "SUBSTRING",
    "CHAR_LENGTH",
    "OCTET_LENGTH",
    "LOWER",
    "UPPER",
    "TRIM",
    "LTRIM",
    "RTRIM",
    "LEFT",
    "RIGHT",
    "REPLACE",
    "CONCAT",
    "POSITION",
    "REPEAT",
    "SPACE",
    "LPAD",
    "HEX",
    "BIN",
    "FORMAT_TIMESTAMP",
    "TO_TIMESTAMP",
    "SINCE_EPOCH",
    "NOW",
    "CURRENT_TIMESTAMP",
    "NULLIF",
    "ISNULL",
    "SIGN",
    "PI",
    "SIN",
    "COS",
    "TAN",
    "DEGREES",
    "BITAND",
    "BITOR",
    "BIT_SHIFT_LEFT",
    "FROM_UNIXTIME",
    "CAST",
    "NO_SUCH_FUNCTION",
];

const UNIT_FUNCTIONS: &[&str] = &[
    "DATEADD",
    "DATEDIFF",
    "TRUNCATE",
    "SINCE_EPOCH",
    "TO_TIMESTAMP",
    "EXTRACT",
    "DATE_ADD",
];

const UNITS: &[&str] = &[
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MILLIS",
    "MICROSECOND",
    "MICROS",
    "DAY_OF_WEEK",
    "DAY_OF_MONTH",
    "DAY_OF_YEAR",
    "WEEK_OF_YEAR",
    "WEEKDAY",
    "BOGUS",
    "1",
];

const TYPES: &[&str] = &[
    "INTEGER",
    "INT",
    "TINYINT",
    "SMALLINT",
    "BIGINT",
    "FLOAT",
    "REAL",
    "DOUBLE",
    "DECIMAL",
    "DECIMAL(10,2)",
    "DECIMAL(38,12)",
    "NUMERIC(50,60)",
    "VARCHAR",
    "VARCHAR(0)",
    "VARCHAR(1)",
    "VARCHAR(8)",
    "VARCHAR(3 BYTES)",
    "VARCHAR(1048577)",
    "VARCHAR(99999999999999999999)",
    "VARCHAR(-1)",
    "VARBINARY",
    "VARBINARY(1)",
    "VARBINARY(4)",
    "TIMESTAMP",
    "BOOLEAN",
    "CHAR(3)",
    "TEXT",
    "GEOGRAPHY",
    "GEOGRAPHY_POINT",
    "NOPE",
];

const AGGREGATES: &[&str] = &[
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "APPROX_COUNT_DISTINCT",
    "COUNT(DISTINCT",
];

const WINDOW_FUNCTIONS: &[&str] = &[
    "RANK()",
    "DENSE_RANK()",
    "ROW_NUMBER()",
    "COUNT(*)",
    "NTILE(2)",
    "LAG(id)",
    "FIRST_VALUE(id)",
];

const TABLES: &[&str] = &["p", "r", "p AS a", "r q", "nope", "p p2"];

fn wrap(paren: bool, s: String) -> String {
    if paren { format!("({s})") } else { s }
}

/// Arguments at the edges: extreme numbers, multi-byte strings, odd time zones, NULL, columns.
const EDGE_ARGS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "-2147483648",
    "2147483647",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "-1e308",
    "0.5",
    "-0.5",
    "1e-300",
    "99999999999999999999999999.999999999999",
    "NULL",
    "''",
    "' '",
    "'é'",
    "'😀😀'",
    "'aé😀b'",
    "'\u{301}'",
    "'%'",
    "'+99:99'",
    "'Z'",
    "'UTC'",
    "'-14:00'",
    "'2020-01-01 00:00:00'",
    "x'ff'",
    "id",
    "s",
    "d",
    "f",
    "t",
    "b",
    "ti",
    "NOW",
    "TRUE",
    "TIMESTAMP '1583-01-01 00:00:00'",
    "TIMESTAMP '9999-12-31 23:59:59.999999'",
    "YEAR",
    "MICROS",
    "DAY",
];

/// A function called with edge arguments (random arity).
fn edge_call() -> BoxedStrategy<String> {
    (
        prop_oneof![3 => pick(FUNCTIONS), 2 => pick(UNIT_FUNCTIONS), 1 => pick(AGGREGATES)],
        vec(pick(EDGE_ARGS), 0..5),
    )
        .prop_map(|(f, args)| {
            let open = if f.ends_with('(') { "" } else { "(" };
            format!("{f}{open}{})", args.join(", "))
        })
        .boxed()
}

fn expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![3 => literal(), 3 => column()];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let e = || inner.clone();
        let operators = prop_oneof![
            4 => (e(), pick(BINARY_OPS), e(), any::<bool>())
                .prop_map(|(a, op, b, paren)| wrap(paren, format!("{a} {op} {b}"))),
            2 => (pick(UNARY_OPS), e()).prop_map(|(op, a)| format!("{op} {a}")),
            1 => (e(), any::<bool>()).prop_map(|(a, not)| format!("{a} IS {}NULL", if not { "NOT " } else { "" })),
            1 => (e(), e(), e(), any::<bool>())
                .prop_map(|(a, b, c, not)| format!("{a} {}BETWEEN {b} AND {c}", if not { "NOT " } else { "" })),
            1 => (e(), vec(e(), 0..4), any::<bool>()).prop_map(|(a, list, not)| {
                format!("{a} {}IN ({})", if not { "NOT " } else { "" }, list.join(", "))
            }),
            1 => (e(), e(), e()).prop_map(|(a, b, c)| format!("{a} LIKE {b} ESCAPE {c}")),
            1 => e().prop_map(|a| format!("({a})")),
        ];
        let functions = prop_oneof![
            5 => (pick(FUNCTIONS), vec(e(), 0..5)).prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            3 => edge_call(),
            2 => (pick(UNIT_FUNCTIONS), pick(UNITS), vec(e(), 0..3)).prop_map(|(f, unit, args)| {
                let mut all = vec![unit];
                all.extend(args);
                format!("{f}({})", all.join(", "))
            }),
            2 => (e(), pick(TYPES)).prop_map(|(a, ty)| format!("CAST({a} AS {ty})")),
            1 => (pick(UNITS), e()).prop_map(|(u, a)| format!("EXTRACT({u} FROM {a})")),
            1 => (e(), e()).prop_map(|(a, b)| format!("POSITION({a} IN {b})")),
            1 => (e(), e(), proptest::option::of(e()))
                .prop_map(|(a, b, c)| match c {
                    Some(c) => format!("SUBSTRING({a} FROM {b} FOR {c})"),
                    None => format!("SUBSTRING({a} FROM {b})"),
                }),
            1 => (pick(&["LEADING", "TRAILING", "BOTH", ""]), e(), e())
                .prop_map(|(w, a, b)| format!("TRIM({w} {a} FROM {b})")),
            1 => (e(), e(), e(), proptest::option::of(e())).prop_map(|(a, b, c, d)| match d {
                Some(d) => format!("CASE WHEN {a} THEN {b} WHEN {c} THEN {d} END"),
                None => format!("CASE {a} WHEN {b} THEN {c} ELSE NULL END"),
            }),
        ];
        let aggregates = prop_oneof![
            3 => (pick(AGGREGATES), e()).prop_map(|(f, a)| {
                if f.ends_with('(') { format!("{f} {a})") } else { format!("{f}({a})") }
            }),
            1 => Just("COUNT(*)".to_string()),
            2 => (pick(WINDOW_FUNCTIONS), proptest::option::of(e()), proptest::option::of(e()), any::<bool>())
                .prop_map(|(f, part, order, desc)| {
                    let mut over = String::new();
                    if let Some(p) = part {
                        over.push_str(&format!("PARTITION BY {p} "));
                    }
                    if let Some(o) = order {
                        over.push_str(&format!("ORDER BY {o}{}", if desc { " DESC" } else { "" }));
                    }
                    format!("{f} OVER ({over})")
                }),
            1 => (pick(&["SUM", "MIN", "MAX", "AVG"]), e(), e()).prop_map(|(f, a, o)| format!("{f}({a}) OVER (ORDER BY {o})")),
        ];
        let subqueries = prop_oneof![
            2 => (e(), pick(TABLES), e(), pick(LIMITS))
                .prop_map(|(a, t, w, l)| format!("(SELECT {a} FROM {t} WHERE {w} LIMIT {l})")),
            1 => (pick(TABLES), e()).prop_map(|(t, w)| format!("EXISTS (SELECT * FROM {t} WHERE {w})")),
            1 => (e(), pick(&["id", "x", "s", "name", "*", "id, s"]), pick(TABLES), e())
                .prop_map(|(a, c, t, w)| format!("{a} IN (SELECT {c} FROM {t} WHERE {w})")),
            1 => (e(), pick(&["=", "<", ">="]), pick(&["ANY", "ALL", "SOME"]), pick(TABLES))
                .prop_map(|(a, op, q, t)| format!("{a} {op} {q} (SELECT id FROM {t})")),
            1 => (e(), pick(TABLES)).prop_map(|(a, t)| format!("(SELECT COUNT(*) FROM {t} WHERE {a} = {a})")),
        ];
        prop_oneof![4 => operators, 4 => functions, 1 => aggregates, 1 => subqueries].boxed()
    })
    .boxed()
}

const LIMITS: &[&str] = &[
    "-1",
    "0",
    "1",
    "2",
    "3",
    "100",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "NULL",
    "1.5",
    "'a'",
    "?",
    "ALL",
    "-0",
    "1 + 1",
    "id",
];

const FROMS: &[&str] = &[
    "p",
    "r",
    "p AS a",
    "p, r",
    "p a JOIN r q ON a.id = q.x",
    "p LEFT JOIN r ON {e}",
    "p RIGHT JOIN r ON {e}",
    "p FULL JOIN r ON {e}",
    "p FULL OUTER JOIN p p2 ON {e}",
    "p INNER JOIN p q ON {e}",
    "p CROSS JOIN r",
    "p JOIN r ON {e} JOIN p p3 ON {e}",
    "p JOIN r USING (id)",
    "p NATURAL JOIN r",
    "(SELECT * FROM p) AS sq",
    "(SELECT id, COUNT(*) AS c FROM p GROUP BY id) sq",
    "(SELECT {e} AS c1 FROM r) AS sq",
    "(SELECT * FROM p WHERE {e}) sq JOIN r ON {e}",
    "nope",
    "p, p p2, r",
    "p, p",
    "p LEFT JOIN r ON p.id = r.x LEFT JOIN p p2 ON {e}",
];

fn select_stmt() -> BoxedStrategy<String> {
    let item = prop_oneof![
        1 => Just("*".to_string()),
        1 => pick(&["p.*", "r.*", "nope.*", "COUNT(*)", "id, s", "DISTINCT id"]),
        6 => (expr(), proptest::option::of(pick(&["a1", "c", "id", "\"weird name\"", "x"])))
            .prop_map(|(e, alias)| match alias {
                Some(a) => format!("{e} AS {a}"),
                None => e,
            }),
    ];
    let order =
        (expr(), pick(&["", " ASC", " DESC", " NULLS FIRST", " DESC NULLS LAST"])).prop_map(|(e, d)| format!("{e}{d}"));
    let core = (
        any::<bool>(),
        vec(item, 1..4),
        proptest::option::of((pick(FROMS), expr())),
        proptest::option::of(expr()),
        proptest::option::of(vec(
            prop_oneof![3 => expr(), 1 => pick(&["1", "2", "0", "-1", "id", "s"])],
            1..3,
        )),
        proptest::option::of(expr()),
        proptest::option::of(vec(
            prop_oneof![3 => order, 1 => pick(&["1", "2", "0", "-1", "99"])],
            1..3,
        )),
        proptest::option::of(prop_oneof![3 => pick(LIMITS), 1 => expr()]),
        proptest::option::of(pick(LIMITS)),
    )
        .prop_map(|(distinct, items, from, filter, group, having, order, limit, offset)| {
            let mut sql = format!("SELECT {}{}", if distinct { "DISTINCT " } else { "" }, items.join(", "));
            if let Some((f, e)) = from {
                sql.push_str(&format!(" FROM {}", f.replace("{e}", &e)));
            }
            if let Some(w) = filter {
                sql.push_str(&format!(" WHERE {w}"));
            }
            if let Some(g) = group {
                sql.push_str(&format!(" GROUP BY {}", g.join(", ")));
            }
            if let Some(h) = having {
                sql.push_str(&format!(" HAVING {h}"));
            }
            if let Some(o) = order {
                sql.push_str(&format!(" ORDER BY {}", o.join(", ")));
            }
            if let Some(l) = limit {
                sql.push_str(&format!(" LIMIT {l}"));
            }
            if let Some(o) = offset {
                sql.push_str(&format!(" OFFSET {o}"));
            }
            sql
        });
    (
        core.clone(),
        proptest::option::of((
            pick(&[
                "UNION",
                "UNION ALL",
                "INTERSECT",
                "INTERSECT ALL",
                "EXCEPT",
                "EXCEPT ALL",
            ]),
            core,
            proptest::option::of(pick(LIMITS)),
        )),
    )
        .prop_map(|(a, rest)| match rest {
            Some((op, b, None)) => format!("{a} {op} {b}"),
            Some((op, b, Some(l))) => format!("({a}) {op} ({b}) ORDER BY 1 LIMIT {l}"),
            None => a,
        })
        .boxed()
}

const P_COLUMNS: &[&str] = &["id", "s", "d", "f", "t", "b", "ti", "nope", "x", "name"];
const DML_TABLES: &[&str] = &["p", "p", "p", "r", "r", "nope", "t1"];

fn insert_stmt() -> BoxedStrategy<String> {
    let values = (
        pick(&["INSERT", "INSERT", "UPSERT"]),
        pick(DML_TABLES),
        proptest::option::of(vec(pick(P_COLUMNS), 0..8)),
        vec(vec(expr(), 0..8), 1..3),
    )
        .prop_map(|(verb, table, cols, rows)| {
            let cols = cols.map(|c| format!(" ({})", c.join(", "))).unwrap_or_default();
            let rows: Vec<String> = rows.iter().map(|r| format!("({})", r.join(", "))).collect();
            format!("{verb} INTO {table}{cols} VALUES {}", rows.join(", "))
        });
    // Mostly well-typed rows with random ids, so inserts often succeed.
    let typed = (
        pick(&["INSERT", "UPSERT"]),
        any::<i32>(),
        prop_oneof![string_literal(), Just("NULL".to_string())],
        prop_oneof![pick(NUMBERS), Just("NULL".to_string())],
        prop_oneof![pick(NUMBERS), Just("NULL".to_string())],
        prop_oneof![pick(MISC_LITERALS), Just("NULL".to_string())],
        prop_oneof![
            pick(&["x'00'", "x'ffffffff'", "x'0102030405'", "NULL", "''"]),
            Just("NULL".to_string())
        ],
        prop_oneof![pick(NUMBERS), Just("NULL".to_string())],
    )
        .prop_map(|(verb, id, s, d, f, t, b, ti)| {
            format!("{verb} INTO p VALUES ({id}, {s}, {d}, {f}, {t}, {b}, {ti})")
        });
    let from_select = (
        pick(&["INSERT", "UPSERT"]),
        pick(&["p", "r", "p (id, s)", "r (x)"]),
        select_stmt(),
    )
        .prop_map(|(verb, t, q)| format!("{verb} INTO {t} {q}"));
    let shifted = (pick(&["INSERT", "UPSERT"]), pick(NUMBERS), expr())
        .prop_map(|(verb, n, e)| format!("{verb} INTO p (id, s, d) SELECT id + {n}, s, {e} FROM p"));
    prop_oneof![3 => values, 3 => typed, 1 => from_select, 1 => shifted].boxed()
}

fn update_stmt() -> BoxedStrategy<String> {
    (
        pick(DML_TABLES),
        vec((pick(P_COLUMNS), expr()), 1..4),
        proptest::option::of(expr()),
    )
        .prop_map(|(table, sets, filter)| {
            let sets: Vec<String> = sets.iter().map(|(c, e)| format!("{c} = {e}")).collect();
            let filter = filter.map(|w| format!(" WHERE {w}")).unwrap_or_default();
            format!("UPDATE {table} SET {}{filter}", sets.join(", "))
        })
        .boxed()
}

fn delete_stmt() -> BoxedStrategy<String> {
    (
        pick(DML_TABLES),
        proptest::option::of(expr()),
        proptest::option::of((pick(&["id", "s", "x", "d DESC", "1"]), pick(LIMITS))),
    )
        .prop_map(|(table, filter, order)| {
            let mut sql = format!("DELETE FROM {table}");
            if let Some(w) = filter {
                sql.push_str(&format!(" WHERE {w}"));
            }
            if let Some((o, l)) = order {
                sql.push_str(&format!(" ORDER BY {o} LIMIT {l}"));
            }
            sql
        })
        .boxed()
}

fn ddl_stmt() -> BoxedStrategy<String> {
    let col_def = (
        pick(&["c1", "c2", "c3", "id", "s", "x"]),
        pick(TYPES),
        pick(&[
            "",
            " NOT NULL",
            " NULL",
            " PRIMARY KEY",
            " UNIQUE",
            " ASSUMEUNIQUE",
            " DEFAULT 1",
            " DEFAULT 'z'",
        ]),
        proptest::option::of(literal()),
    )
        .prop_map(|(n, ty, extra, default)| match default {
            Some(d) => format!("{n} {ty} DEFAULT {d}{extra}"),
            None => format!("{n} {ty}{extra}"),
        });
    let create_table = (
        pick(&["t1", "t2", "p", "r", "t1"]),
        any::<bool>(),
        vec(col_def.clone(), 0..5),
        pick(&[
            "",
            ", PRIMARY KEY (c1)",
            ", UNIQUE (c1, c2)",
            ", LIMIT PARTITION ROWS 2",
            ", PRIMARY KEY (nope)",
        ]),
    )
        .prop_map(|(t, ine, cols, extra)| {
            format!(
                "CREATE TABLE {}{t} ({}{extra})",
                if ine { "IF NOT EXISTS " } else { "" },
                cols.join(", ")
            )
        });
    let partition = (
        pick(&["t1", "t2", "p", "r", "nope"]),
        pick(&["c1", "c2", "id", "x", "nope"]),
    )
        .prop_map(|(t, c)| format!("PARTITION TABLE {t} ON COLUMN {c}"));
    let index = (
        pick(&["", "UNIQUE ", "ASSUMEUNIQUE "]),
        pick(&["ix1", "ix2", "p_s", "r_name"]),
        pick(&["p", "r", "t1", "nope"]),
        vec(prop_oneof![3 => pick(P_COLUMNS), 1 => expr()], 1..3),
        proptest::option::of(expr()),
    )
        .prop_map(|(u, name, t, cols, filter)| {
            let filter = filter.map(|w| format!(" WHERE {w}")).unwrap_or_default();
            format!("CREATE {u}INDEX {name} ON {t} ({}){filter}", cols.join(", "))
        });
    let alter = (
        pick(&["p", "p", "r", "t1", "nope"]),
        prop_oneof![
            3 => col_def.clone().prop_map(|c| format!("ADD COLUMN {c}")),
            1 => (col_def.clone(), pick(P_COLUMNS)).prop_map(|(c, b)| format!("ADD {c} BEFORE {b}")),
            2 => pick(P_COLUMNS).prop_map(|c| format!("DROP COLUMN {c}")),
            1 => pick(P_COLUMNS).prop_map(|c| format!("DROP COLUMN {c} CASCADE")),
            3 => (pick(P_COLUMNS), pick(TYPES), pick(&["", " NOT NULL", " NULL", " DEFAULT 0"]))
                .prop_map(|(c, ty, x)| format!("ALTER COLUMN {c} {ty}{x}")),
            1 => (pick(P_COLUMNS), literal()).prop_map(|(c, d)| format!("ALTER COLUMN {c} SET DEFAULT {d}")),
            1 => (pick(P_COLUMNS), pick(&["SET NOT NULL", "SET NULL", "DROP DEFAULT"]))
                .prop_map(|(c, x)| format!("ALTER COLUMN {c} {x}")),
            1 => pick(&[
                "ADD PRIMARY KEY (id)",
                "ADD PRIMARY KEY (s)",
                "DROP PRIMARY KEY",
                "ADD CONSTRAINT u1 UNIQUE (s)",
                "ADD CONSTRAINT u2 ASSUMEUNIQUE (d)",
                "DROP CONSTRAINT u1",
                "ADD LIMIT PARTITION ROWS 1",
                "ADD LIMIT PARTITION ROWS 0",
                "DROP LIMIT PARTITION ROWS",
                "FROBNICATE",
            ]),
        ],
    )
        .prop_map(|(t, action)| format!("ALTER TABLE {t} {action}"));
    let drop = pick(&[
        "DROP TABLE t1",
        "DROP TABLE t2 IF EXISTS",
        "DROP TABLE IF EXISTS t1",
        "DROP TABLE r",
        "DROP TABLE r CASCADE",
        "DROP TABLE nope",
        "DROP INDEX ix1",
        "DROP INDEX p_s",
        "DROP INDEX r_name IF EXISTS",
        "DROP VIEW v1",
        "DROP TABLE p",
        "TRUNCATE TABLE p",
        "TRUNCATE TABLE r",
        "TRUNCATE TABLE nope",
        "CREATE DATABASE d1",
        "DROP DATABASE d1",
        "DROP DATABASE IF EXISTS d1",
        "USE nope",
    ]);
    let view = (select_stmt(), pick(&["v1", "p"])).prop_map(|(q, n)| format!("CREATE VIEW {n} AS {q}"));
    prop_oneof![3 => create_table, 2 => partition, 3 => index, 6 => alter, 1 => drop, 1 => view].boxed()
}

// A typed grammar over p's columns: expressions of each type (numeric, string, timestamp,
// boolean) built from each other, so that many statements bind and actually execute.

#[derive(Debug, Clone)]
struct Typed {
    num: String,
    text: String,
    ts: String,
    cond: String,
}

const NUM_LEAVES: &[&str] = &[
    "id",
    "ti",
    "d",
    "f",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "127",
    "-128",
    "2147483647",
    "-2147483647",
    "9223372036854775807",
    "-9223372036854775807",
    "1.5",
    "-0.25",
    "1e10",
    "1e308",
    "0.000000000001",
    "99999999999999999999999999.999999999999",
    "NULL",
];
const TEXT_LEAVES: &[&str] = &[
    "s",
    "'a'",
    "''",
    "'it''s'",
    "'é😀'",
    "'ABCDEFGHIJ'",
    "'%'",
    "'a_c'",
    "' pad '",
    "NULL",
];
const TS_LEAVES: &[&str] = &[
    "t",
    "NOW",
    "CURRENT_TIMESTAMP",
    "TIMESTAMP '2020-01-01 00:00:00'",
    "CAST('1583-01-01 00:00:00' AS TIMESTAMP)",
    "TIMESTAMP '9999-12-31 23:59:59.999999'",
    "TIMESTAMP '1970-01-01 00:00:00'",
    "NULL",
];
const COND_LEAVES: &[&str] = &[
    "TRUE",
    "FALSE",
    "id > 0",
    "s IS NULL",
    "d < 0",
    "t > '2000-01-01 00:00:00'",
    "ti = 1",
    "NULL",
];
const SMALL_UNITS: &[&str] = &[
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MICROSECOND",
];

fn combine_num(i: u8, a: &Typed, b: &Typed, n: i64, unit: &str) -> String {
    let (x, y) = (&a.num, &b.num);
    match i % 24 {
        0 => format!("({x} + {y})"),
        1 => format!("({x} - {y})"),
        2 => format!("({x} * {y})"),
        3 => format!("({x} / {y})"),
        4 => format!("-({x})"),
        5 => format!("ABS({x})"),
        6 => format!("ROUND({x}, {})", n % 14),
        7 => format!("MOD(CAST({x} AS BIGINT), {n})"),
        8 => format!("CEILING({x})"),
        9 => format!("FLOOR({x})"),
        10 => format!("POWER({x}, {})", n % 5),
        11 => format!("SQRT(ABS({x}))"),
        12 => format!("CHAR_LENGTH({})", a.text),
        13 => format!("EXTRACT({unit} FROM {})", a.ts),
        14 => format!("SINCE_EPOCH({unit}, {})", a.ts),
        15 => format!("DATEDIFF({unit}, {}, {})", a.ts, b.ts),
        16 => format!("COALESCE({x}, {y})"),
        17 => format!("CASE WHEN {} THEN {x} ELSE {y} END", a.cond),
        18 => format!("POSITION({} IN {})", a.text, b.text),
        19 => format!("(SELECT COUNT(*) FROM r WHERE r.x > {x})"),
        20 => format!(
            "CAST({x} AS {})",
            ["INTEGER", "TINYINT", "BIGINT", "FLOAT", "DECIMAL"][(n as usize) % 5]
        ),
        21 => format!("EXP({x})"),
        22 => format!("LN({x})"),
        _ => format!("DECODE({x}, 1, {y}, 2, {x}, {y})"),
    }
}

fn combine_text(i: u8, a: &Typed, b: &Typed, n: i64) -> String {
    let (x, y) = (&a.text, &b.text);
    match i % 14 {
        0 => format!("({x} || {y})"),
        1 => format!("LOWER({x})"),
        2 => format!("UPPER({x})"),
        3 => format!("TRIM({x})"),
        4 => format!("SUBSTRING({x}, {}, {})", n % 5, n % 7),
        5 => format!("LEFT({x}, {})", n % 6),
        6 => format!("RIGHT({x}, {})", n % 6),
        7 => format!("REPLACE({x}, {y}, 'zz')"),
        8 => format!("CONCAT({x}, {y}, {x})"),
        9 => format!("CAST({} AS VARCHAR(60))", a.num),
        10 => format!("FORMAT_TIMESTAMP({}, '+01:00')", a.ts),
        11 => format!("COALESCE({x}, {y})"),
        12 => format!("CASE WHEN {} THEN {x} ELSE {y} END", a.cond),
        _ => format!("TRIM(LEADING {y} FROM {x})"),
    }
}

fn combine_ts(i: u8, a: &Typed, b: &Typed, n: i64, unit: &str) -> String {
    match i % 6 {
        0 => format!("DATEADD({unit}, {n}, {})", a.ts),
        1 => format!("TRUNCATE({unit}, {})", a.ts),
        2 => format!("TO_TIMESTAMP({unit}, CAST({} AS BIGINT))", a.num),
        3 => format!("COALESCE({}, {})", a.ts, b.ts),
        4 => format!("CAST({} AS TIMESTAMP)", a.text),
        _ => format!("DATEADD({unit}, CAST({} AS INTEGER), {})", a.num, b.ts),
    }
}

fn combine_cond(i: u8, a: &Typed, b: &Typed, op: &str) -> String {
    match i % 14 {
        0 => format!("{} {op} {}", a.num, b.num),
        1 => format!("{} {op} {}", a.text, b.text),
        2 => format!("{} {op} {}", a.ts, b.ts),
        3 => format!("({} AND {})", a.cond, b.cond),
        4 => format!("({} OR {})", a.cond, b.cond),
        5 => format!("NOT ({})", a.cond),
        6 => format!("{} IS NULL", a.num),
        7 => format!("{} LIKE {}", a.text, b.text),
        8 => format!("{} BETWEEN {} AND {}", a.num, b.num, a.num),
        9 => format!("{} IN ({}, {}, 1)", a.num, b.num, a.num),
        10 => format!("EXISTS (SELECT 1 FROM r WHERE r.x = {})", a.num),
        11 => format!("{} IN (SELECT x FROM r WHERE {} {op} r.x)", a.num, b.num),
        12 => format!("{} IS NOT NULL", a.text),
        _ => format!("{} {op} ALL (SELECT x FROM r)", a.num),
    }
}

fn typed() -> BoxedStrategy<Typed> {
    let leaf = (pick(NUM_LEAVES), pick(TEXT_LEAVES), pick(TS_LEAVES), pick(COND_LEAVES))
        .prop_map(|(num, text, ts, cond)| Typed { num, text, ts, cond });
    leaf.prop_recursive(3, 16, 2, |inner| {
        (
            inner.clone(),
            inner,
            any::<[u8; 4]>(),
            -3i64..40,
            select(SMALL_UNITS),
            select(&["=", "<>", "<", "<=", ">", ">="][..]),
        )
            .prop_map(|(a, b, [i, j, k, l], n, unit, op)| Typed {
                num: combine_num(i, &a, &b, n, unit),
                text: combine_text(j, &a, &b, n),
                ts: combine_ts(k, &a, &b, n, unit),
                cond: combine_cond(l, &a, &b, op),
            })
    })
    .boxed()
}

fn typed_statement() -> BoxedStrategy<String> {
    (
        typed(),
        any::<u8>(),
        -2i64..5,
        pick(&["ASC", "DESC"]),
        pick(&["SUM", "MIN", "MAX", "AVG", "COUNT"]),
    )
        .prop_map(|(e, kind, n, dir, agg)| {
            let Typed { num, text, ts, cond } = e;
            match kind % 14 {
                0 | 1 => format!("SELECT id, {num}, {text}, {ts} FROM p WHERE {cond} ORDER BY id {dir}"),
                2 => format!("SELECT DISTINCT {text} FROM p WHERE {cond} ORDER BY 1 LIMIT {n}"),
                3 => format!(
                    "SELECT {text}, {agg}({num}), COUNT(*) FROM p WHERE {cond} GROUP BY {text} \
                     HAVING COUNT(*) > {n} ORDER BY 1 {dir}"
                ),
                4 => format!("SELECT {agg}({num}), MIN({ts}), MAX({text}) FROM p WHERE {cond}"),
                5 => format!(
                    "SELECT id, RANK() OVER (PARTITION BY ti ORDER BY {num} {dir}), \
                     {agg}(f) OVER (PARTITION BY {text}) FROM p"
                ),
                6 => format!(
                    "SELECT p.id, r.x, {num} FROM p LEFT JOIN r ON p.id = r.x AND {cond} ORDER BY 1, 2 \
                     LIMIT {n} OFFSET 1"
                ),
                7 => format!("SELECT * FROM (SELECT id, {num} AS v FROM p WHERE {cond}) AS sq ORDER BY id"),
                8 => format!(
                    "INSERT INTO p (id, s, d, f, t, ti) SELECT id + {}, {text}, {num}, {num}, {ts}, ti \
                     FROM p WHERE {cond}",
                    n * 1000 + 17
                ),
                9 => format!("UPSERT INTO p (id, s, d) SELECT id, {text}, {num} FROM p WHERE {cond}"),
                10 => format!("UPDATE p SET s = {text}, d = {num}, t = {ts} WHERE {cond}"),
                11 => format!("UPDATE p SET f = {num}, ti = {n} WHERE {cond}"),
                12 => format!("DELETE FROM p WHERE {cond}"),
                _ => format!("SELECT id FROM p WHERE {cond} UNION SELECT x FROM r WHERE {num} > 0 ORDER BY 1"),
            }
        })
        .boxed()
}

fn statement() -> BoxedStrategy<String> {
    prop_oneof![
        8 => typed_statement(),
        3 => (edge_call(), edge_call(), pick(&["p", "r", "p WHERE id BETWEEN 0 AND 3"]))
            .prop_map(|(a, b, from)| format!("SELECT {a}, {b} FROM {from}")),
        4 => select_stmt(),
        2 => insert_stmt(),
        1 => update_stmt(),
        1 => delete_stmt(),
        2 => ddl_stmt(),
    ]
    .boxed()
}

#[test]
fn strategy_a_generated_sql_never_panics() {
    run_property("strategy_a_grammar", 500, || vec(statement(), 1..6).boxed());
}

// ---------------------------------------------------------------------------------------
// Strategy B: mutated seed statements
// ---------------------------------------------------------------------------------------

const SEEDS: &[&str] = &[
    "SELECT * FROM p",
    "SELECT id, s, d, f, t, b, ti FROM p WHERE id = 1",
    "SELECT COUNT(*), SUM(ti), AVG(f), MIN(t), MAX(s), MIN(d) FROM p",
    "SELECT s, COUNT(*) FROM p GROUP BY s HAVING COUNT(*) > 0 ORDER BY s LIMIT 10 OFFSET 1",
    "SELECT p.id, r.name FROM p JOIN r ON p.id = r.x WHERE r.amt > 0 ORDER BY p.id",
    "SELECT p.id, r.x FROM p LEFT JOIN r ON p.id = r.x ORDER BY 1, 2",
    "SELECT * FROM p WHERE id IN (SELECT x FROM r WHERE x < 10)",
    "SELECT * FROM p WHERE EXISTS (SELECT 1 FROM r WHERE r.x = p.id)",
    "SELECT id, (SELECT MAX(x) FROM r) FROM p WHERE s LIKE 'a%' ESCAPE '!'",
    "SELECT CASE WHEN d > 1 THEN 'big' WHEN d IS NULL THEN 'none' ELSE 'small' END FROM p",
    "SELECT ABS(ti), CEILING(d), FLOOR(f), ROUND(d, 2), MOD(id, 3), POWER(f, 2) FROM p WHERE id BETWEEN 0 AND 3",
    "SELECT SQRT(ABS(f)), EXP(1), LN(2), COALESCE(s, 'x'), DECODE(id, 1, 'one', 'other') FROM p",
    "SELECT SUBSTRING(s, 2, 3), CHAR_LENGTH(s), LOWER(s), UPPER(s), TRIM(s) FROM p",
    "SELECT LEFT(s, 2), RIGHT(s, 2), REPLACE(s, 'a', 'bb'), CONCAT(s, 'x', s), POSITION('a' IN s) FROM p",
    "SELECT EXTRACT(YEAR FROM t), DATEADD(DAY, 1, t), DATEDIFF(SECOND, t, NOW) FROM p WHERE id BETWEEN 0 AND 3",
    "SELECT TRUNCATE(MONTH, t), FORMAT_TIMESTAMP(t, '+01:00'), SINCE_EPOCH(MILLIS, t) FROM p",
    "SELECT TO_TIMESTAMP(SECOND, 86400), CAST(d AS VARCHAR(60)), CAST('12' AS INTEGER), CAST(ti AS DECIMAL) FROM p",
    "SELECT id, RANK() OVER (PARTITION BY s ORDER BY id DESC) FROM p",
    "SELECT id, ROW_NUMBER() OVER (ORDER BY d), COUNT(*) OVER (PARTITION BY ti) FROM p",
    "SELECT DISTINCT s FROM p UNION SELECT name FROM r ORDER BY 1",
    "SELECT id FROM p INTERSECT SELECT x FROM r",
    "SELECT id FROM p EXCEPT ALL SELECT x FROM r",
    "SELECT * FROM (SELECT id, s FROM p WHERE id > 0) AS sq WHERE sq.id < 100",
    "SELECT a.id, b.id FROM p a, p b WHERE a.id = b.id + 1",
    "SELECT s || s, -id, NOT (id > 1), id / 2, d * d, f / 2.0 FROM p WHERE id BETWEEN 0 AND 3",
    "SELECT * FROM p WHERE t BETWEEN '2000-01-01' AND NOW AND b = x'01'",
    "SELECT * FROM r WHERE name IS NOT NULL AND (x > 1 OR amt < 0) ORDER BY x DESC LIMIT 2",
    "SELECT MAX(id) FROM p WHERE id > 0 AND s <> ''",
    "INSERT INTO p VALUES (10, 'ten', 10.5, 1.5e10, '2010-10-10 10:10:10', x'0a', 10)",
    "INSERT INTO p (id, s) VALUES (11, 'x'), (12, NULL), (13, 'é')",
    "INSERT INTO r SELECT id + 100, s, d, t, f FROM p",
    "UPSERT INTO p (id, s, d) VALUES (1, 'up', 99.99)",
    "UPDATE p SET s = 'upd', d = d + 1 WHERE id > 0",
    "UPDATE p SET ti = ti + 100 WHERE id = 1",
    "UPDATE r SET amt = amt * 1000000000000000000000 WHERE x = 1",
    "DELETE FROM p WHERE s IS NULL",
    "DELETE FROM r WHERE x IN (SELECT id FROM p)",
    "DELETE FROM p WHERE id = 2 OR d < 0",
    "CREATE TABLE t1 (a INTEGER NOT NULL, b VARCHAR(10) DEFAULT 'x', PRIMARY KEY (a))",
    "ALTER TABLE p ADD COLUMN extra VARCHAR(4) DEFAULT 'abcd'",
    "CREATE INDEX ix1 ON p (s, ABS(id)) WHERE id > 0",
    "TRUNCATE TABLE r",
];

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "(",
    ")",
    ",",
    ".",
    "*",
    "+",
    "-",
    "/",
    "||",
    "=",
    "<",
    ">=",
    "<>",
    "IN",
    "EXISTS",
    "BETWEEN",
    "LIKE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "GROUP BY",
    "HAVING",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "UNION",
    "ALL",
    "DISTINCT",
    "JOIN",
    "ON",
    "LEFT",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "CAST",
    "AS",
    "OVER",
    "PARTITION BY",
    "COUNT(*)",
    "?",
    "'x'",
    "''",
    "0",
    "-1",
    "9223372036854775808",
    "-9223372036854775808",
    "1e400",
    "99999999999999999999999999999999999999.9",
    "X'00'",
    "TIMESTAMP",
    "p",
    "r",
    "id",
    "s",
    "DECIMAL",
    "VARCHAR(1)",
    "TINYINT",
    "DEFAULT",
    "PRIMARY KEY",
    "ABS(",
    "DATEADD(",
    "\"",
    "'",
    "--",
    "/*",
    "$1",
    ":x",
    "@x",
    "[",
    "]",
];

const UNICODE: &[&str] = &[
    "é",
    "😀",
    "\u{0}",
    "\u{200b}",
    "\u{feff}",
    "\u{202e}",
    "𝔘",
    "ß",
    "İ",
    "ﬃ",
    "\u{301}",
    "中文",
    "\t",
    "\n",
    "\r",
    "\u{7f}",
    "\u{10ffff}",
    "\u{fffd}",
];

/// Replacements for words: names of this schema, unknown names, functions and keywords.
const WORD_SWAPS: &[&str] = &[
    "id",
    "s",
    "d",
    "f",
    "t",
    "b",
    "ti",
    "x",
    "name",
    "amt",
    "ts",
    "fl",
    "p",
    "r",
    "nope",
    "NULL",
    "ABS",
    "MOD",
    "SUBSTRING",
    "DATEADD",
    "COUNT",
    "SUM",
    "MIN",
    "DISTINCT",
    "ALL",
    "NOT",
    "AND",
    "OR",
    "DAY",
    "MICROS",
    "DESC",
    "TIMESTAMP",
    "VARBINARY",
    "DECIMAL",
];

/// Replacements for literals: extreme numbers, odd strings and NULL.
const LITERAL_SWAPS: &[&str] = &[
    "0",
    "-1",
    "127",
    "-128",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1e308",
    "1e309",
    "-0.0",
    "4.9e-324",
    "99999999999999999999999999999999999999",
    "0.0000000000001",
    "12345678901234567890123456789.1234567890123",
    "NULL",
    "''",
    "'x'",
    "'ééééééééé'",
    "'2020-13-45 99:99:99'",
    "'9999-12-31 23:59:59.999999'",
    "x'ff'",
    "TRUE",
    "?",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteToken(Index),
    DuplicateToken(Index),
    SwapTokens(Index, Index),
    InsertKeyword(Index, &'static str),
    ReplaceToken(Index, &'static str),
    ReplaceWord(Index, &'static str),
    ReplaceLiteral(Index, &'static str),
    Truncate(Index),
    InsertUnicode(Index, String),
    DeleteChar(Index),
    DuplicateChar(Index),
    ReplaceChar(Index, char),
}

fn mutation() -> BoxedStrategy<Mutation> {
    let unicode = prop_oneof![select(UNICODE).prop_map(str::to_string), "\\PC{1,3}".boxed()];
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::DeleteToken),
        2 => any::<Index>().prop_map(Mutation::DuplicateToken),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        3 => (any::<Index>(), select(KEYWORDS)).prop_map(|(i, k)| Mutation::InsertKeyword(i, k)),
        2 => (any::<Index>(), select(KEYWORDS)).prop_map(|(i, k)| Mutation::ReplaceToken(i, k)),
        5 => (any::<Index>(), select(WORD_SWAPS)).prop_map(|(i, w)| Mutation::ReplaceWord(i, w)),
        5 => (any::<Index>(), select(LITERAL_SWAPS)).prop_map(|(i, l)| Mutation::ReplaceLiteral(i, l)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), unicode).prop_map(|(i, u)| Mutation::InsertUnicode(i, u)),
        1 => any::<Index>().prop_map(Mutation::DeleteChar),
        1 => any::<Index>().prop_map(Mutation::DuplicateChar),
        1 => (any::<Index>(), any::<char>()).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
    ]
    .boxed()
}

/// Splits SQL into words, quoted strings, single punctuation characters and whitespace.
fn tokens(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else if c.is_alphanumeric() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// Positions of the tokens that satisfy `keep`.
fn positions(toks: &[String], keep: impl Fn(&str) -> bool) -> Vec<usize> {
    toks.iter()
        .enumerate()
        .filter(|(_, t)| keep(t))
        .map(|(i, _)| i)
        .collect()
}

fn apply_mutation(sql: &str, m: &Mutation) -> String {
    let mut toks = tokens(sql);
    let mut chars: Vec<char> = sql.chars().collect();
    // Token operations pick among the non-blank tokens.
    let solid = positions(&toks, |t| !t.trim().is_empty());
    let words = positions(&toks, |t| t.starts_with(|c: char| c.is_alphabetic() || c == '_'));
    let literals = positions(&toks, |t| t.starts_with(|c: char| c.is_ascii_digit() || c == '\''));
    match m {
        Mutation::DeleteToken(i) if !solid.is_empty() => {
            toks.remove(solid[i.index(solid.len())]);
        }
        Mutation::DuplicateToken(i) if !solid.is_empty() => {
            let at = solid[i.index(solid.len())];
            let t = toks[at].clone();
            toks.insert(at, format!("{t} "));
        }
        Mutation::SwapTokens(a, b) if !solid.is_empty() => {
            toks.swap(solid[a.index(solid.len())], solid[b.index(solid.len())]);
        }
        Mutation::InsertKeyword(i, k) => {
            let at = i.index(toks.len() + 1);
            toks.insert(at, format!(" {k} "));
        }
        Mutation::ReplaceToken(i, k) if !solid.is_empty() => {
            toks[solid[i.index(solid.len())]] = k.to_string();
        }
        // Keeps the statement's leading keyword, so the statement kind survives.
        Mutation::ReplaceWord(i, w) if words.len() > 1 => {
            toks[words[1 + i.index(words.len() - 1)]] = w.to_string();
        }
        Mutation::ReplaceLiteral(i, l) if !literals.is_empty() => {
            toks[literals[i.index(literals.len())]] = l.to_string();
        }
        Mutation::Truncate(i) => {
            chars.truncate(i.index(chars.len() + 1));
            return chars.into_iter().collect();
        }
        Mutation::InsertUnicode(i, u) => {
            let at = i.index(chars.len() + 1);
            chars.splice(at..at, u.chars());
            return chars.into_iter().collect();
        }
        Mutation::DeleteChar(i) if !chars.is_empty() => {
            chars.remove(i.index(chars.len()));
            return chars.into_iter().collect();
        }
        Mutation::DuplicateChar(i) if !chars.is_empty() => {
            let at = i.index(chars.len());
            chars.insert(at, chars[at]);
            return chars.into_iter().collect();
        }
        Mutation::ReplaceChar(i, c) if !chars.is_empty() => {
            let at = i.index(chars.len());
            chars[at] = *c;
            return chars.into_iter().collect();
        }
        _ => {}
    }
    toks.concat()
}

fn mutated_statement() -> BoxedStrategy<String> {
    (select(SEEDS), vec(mutation(), 1..4))
        .prop_map(|(seed, mutations)| {
            mutations
                .iter()
                .fold(seed.to_string(), |sql, m| apply_mutation(&sql, m))
        })
        .boxed()
}

#[test]
fn strategy_b_mutated_sql_never_panics() {
    run_property("strategy_b_mutations", 600, || vec(mutated_statement(), 1..4).boxed());
}

#[test]
fn seeds_are_valid() {
    // The seeds must be good SQL, or the mutations mostly test the parser's error path.
    on_small_stack("seeds", || {
        let mut failures = Vec::new();
        for seed in SEEDS {
            let mut session = fresh_session();
            if let Err(e) = guarded(|| session.execute_sql(seed)).expect("seed panicked") {
                failures.push(format!("{seed}: {e}"));
            }
        }
        eprintln!(
            "{} of {} seeds fail on their own:\n{}",
            failures.len(),
            SEEDS.len(),
            failures.join("\n")
        );
        assert!(
            failures.len() * 4 <= SEEDS.len(),
            "too many invalid seeds:\n{}",
            failures.join("\n")
        );
    });
}

// ---------------------------------------------------------------------------------------
// Strategy C: deep nesting and very long expressions on a 2 MiB stack
// ---------------------------------------------------------------------------------------

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> String {
    let mut s = String::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

fn chain(terms: usize, term: &str, op: &str) -> String {
    let mut s = String::with_capacity(terms * (term.len() + op.len()));
    for i in 0..terms {
        if i > 0 {
            s.push_str(op);
        }
        s.push_str(term);
    }
    s
}

fn deep_cases() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for depth in [1_000usize, 10_000] {
        cases.push((
            format!("parens_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "(", "1", ")")),
        ));
        cases.push((
            format!("not_{depth}"),
            format!("SELECT * FROM p WHERE {}", chain(depth, "NOT", " ") + " TRUE"),
        ));
        cases.push((
            format!("neg_parens_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "-(", "1", ")")),
        ));
        cases.push((
            format!("neg_chain_{depth}"),
            format!("SELECT {}1 FROM p", "- ".repeat(depth)),
        ));
        cases.push((
            format!("abs_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "ABS(", "id", ")")),
        ));
        cases.push((
            format!("cast_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "CAST(", "id", " AS BIGINT)")),
        ));
        cases.push((
            format!("case_{depth}"),
            format!(
                "SELECT {} FROM p",
                nested(depth, "CASE WHEN id > 0 THEN ", "1", " ELSE 0 END")
            ),
        ));
        cases.push((
            format!("right_nested_plus_{depth}"),
            format!("SELECT {} FROM p", nested(depth, "1 + (", "1", ")")),
        ));
        cases.push((
            format!("where_parens_{depth}"),
            format!("DELETE FROM p WHERE {}", nested(depth, "(", "id < 0", ")")),
        ));
        cases.push((
            format!("insert_parens_{depth}"),
            format!("INSERT INTO p (id) VALUES ({})", nested(depth, "(", "99", ")")),
        ));
        cases.push((
            format!("update_neg_{depth}"),
            format!("UPDATE p SET d = {} WHERE id = 1", nested(depth, "-(", "d", ")")),
        ));
    }
    for depth in [200usize, 1_000, 10_000] {
        cases.push((
            format!("from_subquery_{depth}"),
            format!("SELECT * FROM {} AS t", nested(depth, "(SELECT * FROM ", "p", ") AS t")),
        ));
        cases.push((
            format!("in_subquery_{depth}"),
            format!(
                "SELECT * FROM p WHERE id IN {}",
                nested(depth, "(SELECT id FROM p WHERE id IN ", "(1)", ")")
            ),
        ));
        cases.push((
            format!("exists_subquery_{depth}"),
            format!(
                "SELECT * FROM p WHERE {}",
                nested(depth, "EXISTS (SELECT 1 FROM r WHERE ", "TRUE", ")")
            ),
        ));
        cases.push((
            format!("scalar_subquery_{depth}"),
            format!("SELECT {}", nested(depth, "(SELECT ", "1", ")")),
        ));
    }
    for terms in [1_000usize, 10_000, 100_000] {
        cases.push((format!("plus_{terms}"), format!("SELECT {}", chain(terms, "1", "+"))));
        cases.push((
            format!("plus_from_p_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "1", "+")),
        ));
        cases.push((
            format!("concat_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "s", "||")),
        ));
        cases.push((
            format!("or_{terms}"),
            format!("SELECT * FROM p WHERE {}", chain(terms, "id = 1", " OR ")),
        ));
        cases.push((
            format!("and_{terms}"),
            format!("DELETE FROM p WHERE {}", chain(terms, "id > 5", " AND ")),
        ));
        cases.push((
            format!("in_list_{terms}"),
            format!("SELECT * FROM p WHERE id IN ({})", chain(terms, "1", ",")),
        ));
        cases.push((
            format!("select_list_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "id", ",")),
        ));
        cases.push((
            format!("union_all_{terms}"),
            chain(terms, "SELECT id FROM p", " UNION ALL "),
        ));
        cases.push((
            format!("values_rows_{terms}"),
            format!("INSERT INTO r (x) VALUES {}", chain(terms, "(7)", ",")),
        ));
        cases.push((format!("script_{terms}"), chain(terms, "SELECT 1", ";")));
        cases.push((
            format!("comparison_chain_{terms}"),
            format!("SELECT {} FROM p", chain(terms, "1", " = ")),
        ));
    }
    // Left-deep chains of the less common operators and postfix forms.
    for terms in [10_000usize, 100_000] {
        for (kind, term, op) in [
            ("bitor", "1", " | "),
            ("bitand", "1", " & "),
            ("caret", "1", " ^ "),
            ("shift", "1", " << "),
            ("like", "s", " LIKE "),
            ("distinct_from", "id", " IS DISTINCT FROM "),
            ("div", "1", " DIV "),
            ("xor", "TRUE", " XOR "),
            ("regexp", "s", " REGEXP "),
            ("similar_to", "s", " SIMILAR TO "),
            ("arrow", "s", " -> "),
            ("long_arrow", "s", " ->> "),
            ("tilde", "s", " ~ "),
            ("not_tilde", "s", " !~ "),
            ("spaceship", "1", " <=> "),
            ("contains", "b", " @> "),
            ("hash_arrow", "s", " #> "),
            ("overlaps", "t", " OVERLAPS "),
        ] {
            cases.push((
                format!("{kind}_{terms}"),
                format!("SELECT {} FROM p", chain(terms, term, op)),
            ));
        }
        cases.push((
            format!("is_null_{terms}"),
            format!("SELECT id{} FROM p", " IS NULL".repeat(terms)),
        ));
        cases.push((
            format!("double_colon_{terms}"),
            format!("SELECT id{} FROM p", "::BIGINT".repeat(terms)),
        ));
        cases.push((
            format!("collate_{terms}"),
            format!("SELECT s{} FROM p", " COLLATE c".repeat(terms)),
        ));
        cases.push((
            format!("at_time_zone_{terms}"),
            format!("SELECT t{} FROM p", " AT TIME ZONE 'UTC'".repeat(terms)),
        ));
        cases.push((
            format!("subscript_{terms}"),
            format!("SELECT s{} FROM p", "[1]".repeat(terms)),
        ));
        cases.push((
            format!("field_access_{terms}"),
            format!("SELECT (s){} FROM p", ".a".repeat(terms)),
        ));
    }
    // Long FROM clauses and WITH chains.
    for n in [1_000usize, 10_000] {
        let joins: String = (0..n).map(|i| format!(" JOIN p j{i} ON j{i}.id = p.id")).collect();
        cases.push((format!("join_chain_{n}"), format!("SELECT COUNT(*) FROM p{joins}")));
        let tables: Vec<String> = (0..n).map(|i| format!("p c{i}")).collect();
        cases.push((
            format!("comma_join_{n}"),
            format!("SELECT COUNT(*) FROM {} WHERE c0.id = 1", tables.join(", ")),
        ));
        let ctes: Vec<String> = (1..n).map(|i| format!("w{i} AS (SELECT id FROM w{})", i - 1)).collect();
        cases.push((
            format!("with_chain_{n}"),
            format!(
                "WITH w0 AS (SELECT id FROM p), {} SELECT * FROM w{}",
                ctes.join(", "),
                n - 1
            ),
        ));
        cases.push((
            format!("from_parens_{n}"),
            format!("SELECT * FROM {}", nested(n, "(", "p", ")")),
        ));
    }
    // Parenthesised groups, each a long chain, nested: the tree is as deep as all groups together.
    for (groups, per_group) in [(5usize, 19_000usize), (20, 5_000)] {
        let mut e = "1".to_string();
        for _ in 0..groups {
            e = format!("({e}{})", "+1".repeat(per_group));
        }
        cases.push((
            format!("grouped_plus_{groups}x{per_group}"),
            format!("SELECT {e} FROM p"),
        ));
    }
    cases.push((
        "long_string_1m".into(),
        format!("SELECT '{}' FROM p", "x".repeat(1 << 20)),
    ));
    cases.push((
        "long_identifier_100k".into(),
        format!("SELECT {} FROM p", "a".repeat(100_000)),
    ));
    cases.push((
        "long_number_100k".into(),
        format!("SELECT {} FROM p", "9".repeat(100_000)),
    ));
    cases.push(("unclosed_parens_100k".into(), format!("SELECT {}", "(".repeat(100_000))));
    cases.push((
        "nested_comment_10k".into(),
        format!("SELECT 1 {}", nested(10_000, "/* ", "x", " */")),
    ));
    cases
}

/// Runs one deep case in this process, on a 2 MiB thread: `Ok(description)` or
/// `Err(failure)`. A stack overflow aborts the process.
fn run_deep_case(name: &str, sql: String) -> Result<String, String> {
    let (result, elapsed) = on_small_stack(&format!("deep:{name}"), move || {
        let mut checker = Checker::new();
        let start = std::time::Instant::now();
        let result = checker.run(&sql).map(|()| checker.errors == 0);
        (result, start.elapsed())
    });
    match result {
        Ok(ok) => Ok(format!(
            "{name}: {} in {elapsed:?}",
            if ok { "result" } else { "error" }
        )),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

const DEEP_CASE_VAR: &str = "NO_PANIC_DEEP_CASE";

/// Each deep case runs in a child process (this test binary re-run on this one test with
/// `NO_PANIC_DEEP_CASE=<name>`), so a stack overflow, which aborts the process, is reported
/// as a failure of that case and the remaining cases still run.
/// `NO_PANIC_DEEP_CASE=<name> cargo test --release -p voltrs-engine --test no_panic strategy_c`
/// reproduces one case in-process.
#[test]
fn strategy_c_deep_nesting_never_overflows() {
    let cases = deep_cases();
    if let Ok(only) = std::env::var(DEEP_CASE_VAR) {
        let (name, sql) = cases
            .into_iter()
            .find(|(n, _)| *n == only)
            .expect("unknown deep case name");
        match run_deep_case(&name, sql) {
            Ok(line) => eprintln!("{line}"),
            Err(failure) => panic!("{failure}"),
        }
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for (name, sql) in &cases {
        let out = std::process::Command::new(&exe)
            .args([
                "strategy_c_deep_nesting_never_overflows",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DEEP_CASE_VAR, name)
            .output()
            .expect("run child test process");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            summary.extend(
                stderr
                    .lines()
                    .filter(|l| l.starts_with(&format!("{name}:")))
                    .map(str::to_string),
            );
        } else {
            let shown: String = sql.chars().take(120).collect();
            let reason: Vec<&str> = stderr
                .lines()
                .filter(|l| l.contains("overflowed its stack") || l.contains("PANIC") || l.contains("panicked"))
                .collect();
            failures.push(format!(
                "{name} ({} bytes, starts {shown:?}): {} [{}]",
                sql.len(),
                out.status,
                if reason.is_empty() {
                    stderr.trim().to_string()
                } else {
                    reason.join(" | ")
                }
            ));
        }
    }
    eprintln!("strategy_c_deep_nesting: {} cases\n{}", cases.len(), summary.join("\n"));
    assert!(
        failures.is_empty(),
        "{} deep cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn harness_reports_panics() {
    let caught = guarded(|| -> () { panic!("deliberate") }).expect_err("the panic is caught");
    assert!(
        caught.contains("deliberate") && caught.contains("no_panic.rs"),
        "{caught}"
    );
}
