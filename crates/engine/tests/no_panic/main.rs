//! No input may panic the engine or overflow its stack.
//!
//! Random and mutated SQL goes through the whole pipeline (parse, bind/plan, execute) of a
//! three-partition database holding a partitioned and a replicated table with NULLs and
//! extreme values. Every statement may succeed or fail; none may panic. After each one the
//! database must still answer `SELECT COUNT(*) FROM p`, and a statement that failed must
//! have left both tables exactly as they were (statement atomicity).
//!
//! * Strategy A: statements generated from a small SQL grammar (queries, DML, DDL, EXPLAIN,
//!   materialized views of VoltDB's shape) with random expressions, functions, aggregates,
//!   windows, subqueries and joins.
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
     -1.69e308, '1583-01-01 00:00:00', x'', -127)",
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
    let db = Database::open(Config::with_partitions(3)).expect("open database");
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

mod deep;
mod grammar;
mod mutate;
mod plans;
mod typed;

use deep::*;
use grammar::*;
use mutate::*;
use plans::*;
use typed::*;

#[test]
fn strategy_a_generated_sql_never_panics() {
    run_property("strategy_a_grammar", 500, || vec(statement(), 1..6).boxed());
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
        let reported: Vec<String> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{name}:")))
            .map(str::to_string)
            .collect();
        if out.status.success() && !reported.is_empty() {
            summary.extend(reported);
        } else if out.status.success() {
            // The child ran no case (a test-name filter that matched nothing): not a pass.
            failures.push(format!(
                "{name}: the child process did not run the case: {}",
                stderr.trim()
            ));
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
        caught.contains("deliberate") && caught.contains("no_panic/main.rs"),
        "{caught}"
    );
}
