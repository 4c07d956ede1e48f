//! Runs parsed scripts against the engine and checks the results.
//!
//! Per file: conditions and `halt` are resolved up front ([`plan`]), then a worker thread opens
//! a fresh [`voltrs_engine::Database`] with one session and runs the remaining records in order,
//! sending one result per record back to the calling thread. The calling thread prints failures
//! as they arrive and keeps a watchdog: if the engine does not answer within twice the statement
//! timeout plus 10 s, the file is abandoned (the hung record and every record after it count as
//! failed) and the run goes on with the next file. A panic inside the engine fails the record
//! and the file continues on the same session.
//!
//! Checking is engine-independent ([`check_statement`], [`check_query`] and [`run_record`] over
//! the [`Executor`] trait), so it is unit-tested without the engine.

use std::cell::RefCell;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use regex::Regex;
use voltrs_engine::{Config, Database, Outcome, ResultTable};

use crate::format::{format_row, hash_line, md5_hex, parse_hash_line, sort_and_flatten};
use crate::parser::{
    Condition, Control, ErrorExpect, QueryExpect, Record, RecordKind, ResultMode, Script, SortMode, StatementExpect,
};

/// The labels that name us in `skipif` / `onlyif` (compared case-insensitively).
pub const OUR_LABELS: [&str; 3] = ["voltrs", "voltdb", "postgresql"];

/// Failures printed per file unless `verbose`.
pub const MAX_PRINTED_FAILURES: usize = 20;

/// Whether `label` names us.
pub fn is_our_label(label: &str) -> bool {
    OUR_LABELS.iter().any(|l| l.eq_ignore_ascii_case(label))
}

/// Whether a record with these conditions applies to us: `skipif` one of ours skips it, `onlyif`
/// anything else skips it.
pub fn applies(conditions: &[Condition]) -> bool {
    conditions.iter().all(|c| match c {
        Condition::SkipIf(label) => !is_our_label(label),
        Condition::OnlyIf(label) => is_our_label(label),
    })
}

/// The records of a script that will run, after conditions and `halt`.
#[derive(Debug, Default)]
pub struct Plan {
    /// Records to run in order: statements, queries, malformed records, `hash-threshold`,
    /// `control`.
    pub items: Vec<Record>,
    /// Statements and queries skipped by their conditions, plus unknown records.
    pub skipped: usize,
    /// Unknown records that apply to us: (line, first line of the record).
    pub unknown: Vec<(usize, String)>,
    /// Line of the `halt` that stopped the script.
    pub halted_at: Option<usize>,
}

impl Plan {
    /// Number of statements and queries (and malformed records) that will run.
    pub fn test_count(&self) -> usize {
        self.items.iter().filter(|r| r.is_test()).count()
    }
}

/// Resolves conditions and `halt`.
pub fn plan(script: Script) -> Plan {
    let mut plan = Plan::default();
    for record in script.records {
        let applies = applies(&record.conditions);
        match &record.kind {
            RecordKind::Halt if applies => {
                plan.halted_at = Some(record.line);
                break;
            }
            RecordKind::Halt => {}
            RecordKind::Unknown(text) => {
                plan.skipped += 1;
                if applies {
                    plan.unknown.push((record.line, text.clone()));
                }
            }
            _ if !applies => {
                if record.is_test() {
                    plan.skipped += 1;
                }
            }
            _ => plan.items.push(record),
        }
    }
    plan
}

/// Something that runs SQL: the engine session, or a fake in tests.
pub trait Executor {
    fn execute(&mut self, sql: &str) -> Result<Vec<Outcome>, String>;
}

impl Executor for voltrs_engine::Session {
    fn execute(&mut self, sql: &str) -> Result<Vec<Outcome>, String> {
        self.execute_sql(sql).map_err(|e| e.to_string())
    }
}

/// Settings changed by records as the script runs.
#[derive(Clone, Copy, Debug)]
pub struct State {
    /// `hash-threshold`: results with more values are shown hashed (0: never). SQLite's default
    /// is 8. Comparison itself follows the expected section's form.
    pub hash_threshold: usize,
    /// `control sortmode`: the sort mode of queries that give none.
    pub sort_default: SortMode,
    /// `control resultmode`: how actual results are shown.
    pub result_mode: ResultMode,
}

impl Default for State {
    fn default() -> Self {
        State {
            hash_threshold: 8,
            sort_default: SortMode::NoSort,
            result_mode: ResultMode::ValueWise,
        }
    }
}

/// Why a record failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub line: usize,
    pub sql: String,
    pub reason: String,
    /// Expected lines (may be empty).
    pub expected: Vec<String>,
    /// Actual lines (may be empty).
    pub actual: Vec<String>,
}

/// A failed check, before the record's line and SQL are attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub reason: String,
    pub expected: Vec<String>,
    pub actual: Vec<String>,
}

impl Mismatch {
    fn new(reason: impl Into<String>) -> Mismatch {
        Mismatch {
            reason: reason.into(),
            expected: Vec::new(),
            actual: Vec::new(),
        }
    }
}

/// The result of running one planned record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemResult {
    /// A `hash-threshold` or `control` record: not counted.
    Setting,
    Passed,
    Failed(Failure),
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Rows(t) => format!("{} row(s) of {} column(s)", t.rows.len(), t.columns.len()),
        Outcome::Modified(n) => format!("{n} row(s) modified"),
        Outcome::Done(tag) => format!("done: {tag}"),
    }
}

fn describe_all(outcomes: &[Outcome]) -> Vec<String> {
    if outcomes.is_empty() {
        return vec!["(no outcome)".to_string()];
    }
    outcomes.iter().map(describe).collect()
}

/// Checks an error message against the expectation.
pub fn check_error(expect: &ErrorExpect, message: &str) -> Result<(), Mismatch> {
    match expect {
        ErrorExpect::Any => Ok(()),
        ErrorExpect::Regex(re) => match Regex::new(re) {
            Ok(regex) if regex.is_match(message) => Ok(()),
            Ok(_) => Err(Mismatch {
                reason: "error message does not match".into(),
                expected: vec![format!("error matching /{re}/")],
                actual: vec![format!("error: {message}")],
            }),
            Err(e) => Err(Mismatch::new(format!("invalid error regex /{re}/: {e}"))),
        },
        ErrorExpect::Exact(text) => {
            if message.trim() == text {
                Ok(())
            } else {
                Err(Mismatch {
                    reason: "error message differs".into(),
                    expected: text.lines().map(str::to_string).collect(),
                    actual: message.trim().lines().map(str::to_string).collect(),
                })
            }
        }
    }
}

/// Checks a statement's result.
pub fn check_statement(expect: &StatementExpect, result: &Result<Vec<Outcome>, String>) -> Result<(), Mismatch> {
    match (expect, result) {
        (StatementExpect::Ok, Ok(_)) => Ok(()),
        (StatementExpect::Ok | StatementExpect::Count(_), Err(msg)) => Err(Mismatch {
            reason: "statement failed".into(),
            expected: vec!["ok".into()],
            actual: vec![format!("error: {msg}")],
        }),
        (StatementExpect::Count(n), Ok(outcomes)) => match outcomes.last() {
            Some(Outcome::Modified(m)) if m == n => Ok(()),
            _ => Err(Mismatch {
                reason: "wrong modified-row count".into(),
                expected: vec![format!("{n} row(s) modified")],
                actual: describe_all(outcomes),
            }),
        },
        (StatementExpect::Error(_), Ok(outcomes)) => Err(Mismatch {
            reason: "statement succeeded but an error was expected".into(),
            expected: vec!["error".into()],
            actual: describe_all(outcomes),
        }),
        (StatementExpect::Error(e), Err(msg)) => check_error(e, msg),
    }
}

/// Formats, sorts and flattens a result table: (values, column count, row count).
pub fn result_values(table: &ResultTable, types: &str, sort: SortMode) -> (Vec<String>, usize, usize) {
    let rows: Vec<Vec<String>> = table.rows.iter().map(|r| format_row(r, types)).collect();
    let ncols = if table.columns.is_empty() {
        rows.first().map_or(0, Vec::len)
    } else {
        table.columns.len()
    };
    let nrows = rows.len();
    (sort_and_flatten(rows, sort), ncols, nrows)
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Compares expected lines with actual values (already sorted). Accepted layouts: a single
/// `K values hashing to H` line; one value per line; one row per line with values separated by
/// whitespace (compared with runs of whitespace normalised).
pub fn results_match(expected: &[String], values: &[String], ncols: usize) -> bool {
    if let [line] = expected
        && let Some((count, hash)) = parse_hash_line(line)
    {
        return count == values.len() && hash == md5_hex(values);
    }
    if expected.len() == values.len() {
        return expected.iter().zip(values).all(|(e, v)| e.trim_end() == v.trim_end());
    }
    if ncols > 0 && expected.len() * ncols == values.len() {
        return expected
            .iter()
            .zip(values.chunks(ncols))
            .all(|(e, row)| normalize_ws(e) == normalize_ws(&row.join(" ")));
    }
    false
}

/// How to show actual results in a failure report, in the layout of the expected section.
fn show_actual(expected: &[String], values: &[String], ncols: usize, state: &State) -> Vec<String> {
    let expected_hashed = matches!(expected, [line] if parse_hash_line(line).is_some());
    if expected_hashed || (state.hash_threshold > 0 && values.len() > state.hash_threshold) {
        return vec![hash_line(values)];
    }
    let rowwise = ncols > 1
        && (state.result_mode == ResultMode::RowWise
            || (expected.len() != values.len() && expected.len() * ncols == values.len()));
    if rowwise {
        values.chunks(ncols).map(|row| row.join(" ")).collect()
    } else {
        values.to_vec()
    }
}

/// Checks a query's result.
pub fn check_query(
    types: &str,
    sort: SortMode,
    expect: &QueryExpect,
    result: &Result<Vec<Outcome>, String>,
    state: &State,
) -> Result<(), Mismatch> {
    let (expected, outcomes) = match (expect, result) {
        (QueryExpect::Error(e), Err(msg)) => return check_error(e, msg),
        (QueryExpect::Error(_), Ok(outcomes)) => {
            return Err(Mismatch {
                reason: "query succeeded but an error was expected".into(),
                expected: vec!["error".into()],
                actual: describe_all(outcomes),
            });
        }
        (QueryExpect::Results(_), Err(msg)) => {
            return Err(Mismatch {
                reason: "query failed".into(),
                expected: Vec::new(),
                actual: vec![format!("error: {msg}")],
            });
        }
        (QueryExpect::Results(lines), Ok(outcomes)) => (lines, outcomes),
    };
    let Some(table) = outcomes.iter().rev().find_map(|o| match o {
        Outcome::Rows(t) => Some(t),
        _ => None,
    }) else {
        return Err(Mismatch {
            reason: "query returned no result set".into(),
            expected: expected.clone(),
            actual: describe_all(outcomes),
        });
    };
    let (values, ncols, _) = result_values(table, types, sort);
    if results_match(expected, &values, ncols) {
        return Ok(());
    }
    let mut reason = "wrong result".to_string();
    if !types.is_empty() && types.chars().count() != ncols {
        reason.push_str(&format!(
            " ({} type letter(s) for {ncols} column(s))",
            types.chars().count()
        ));
    }
    Err(Mismatch {
        reason,
        expected: expected.clone(),
        actual: show_actual(expected, &values, ncols, state),
    })
}

/// Runs one planned record. Updates `state` for `hash-threshold` and `control` records.
/// A record whose wall time exceeds `timeout` fails even when its result is right.
pub fn run_record(exec: &mut dyn Executor, state: &mut State, record: &Record, timeout: Duration) -> ItemResult {
    let fail = |m: Mismatch| {
        ItemResult::Failed(Failure {
            line: record.line,
            sql: record.sql().unwrap_or("").to_string(),
            reason: m.reason,
            expected: m.expected,
            actual: m.actual,
        })
    };
    let sql = match &record.kind {
        RecordKind::HashThreshold(n) => {
            state.hash_threshold = *n;
            return ItemResult::Setting;
        }
        RecordKind::Control(Control::ResultMode(m)) => {
            state.result_mode = *m;
            return ItemResult::Setting;
        }
        RecordKind::Control(Control::SortMode(m)) => {
            state.sort_default = *m;
            return ItemResult::Setting;
        }
        RecordKind::Halt | RecordKind::Unknown(_) => return ItemResult::Setting,
        RecordKind::Malformed(msg) => {
            return fail(Mismatch::new(format!("malformed record: {msg}")));
        }
        RecordKind::Statement { sql, .. } | RecordKind::Query { sql, .. } => sql,
    };
    let start = Instant::now();
    let result = exec.execute(sql);
    let elapsed = start.elapsed();
    if elapsed > timeout {
        return fail(Mismatch {
            reason: format!(
                "timed out: took {:.1}s (limit {:.1}s)",
                elapsed.as_secs_f64(),
                timeout.as_secs_f64()
            ),
            expected: Vec::new(),
            actual: match &result {
                Ok(o) => describe_all(o),
                Err(e) => vec![format!("error: {e}")],
            },
        });
    }
    let checked = match &record.kind {
        RecordKind::Statement { expect, .. } => check_statement(expect, &result),
        RecordKind::Query {
            types, sort, expect, ..
        } => check_query(types, sort.unwrap_or(state.sort_default), expect, &result, state),
        _ => Ok(()),
    };
    match checked {
        Ok(()) => ItemResult::Passed,
        Err(m) => fail(m),
    }
}

/// Command-line options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    pub partitions: usize,
    pub partition_first_column: bool,
    /// Bind queries and DML through the engine's plan cache (`--no-plan-cache` turns it off).
    pub plan_cache: bool,
    pub timeout: Duration,
    pub verbose: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            partitions: thread::available_parallelism().map_or(1, |n| n.get()),
            partition_first_column: false,
            plan_cache: true,
            timeout: Duration::from_secs(30),
            verbose: false,
        }
    }
}

/// Totals of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub elapsed: Duration,
}

impl FileSummary {
    /// `FILE: P passed, F failed, S skipped (T.Ts)`.
    pub fn line(&self, path: &str) -> String {
        format!(
            "{path}: {} passed, {} failed, {} skipped ({:.1}s)",
            self.passed,
            self.failed,
            self.skipped,
            self.elapsed.as_secs_f64()
        )
    }
}

const MAX_SHOWN_LINES: usize = 12;
const MAX_SHOWN_CHARS: usize = 200;

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

fn push_lines(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        out.push_str(&format!("    {title}: (nothing)\n"));
        return;
    }
    out.push_str(&format!("    {title}:\n"));
    for line in lines.iter().take(MAX_SHOWN_LINES) {
        out.push_str(&format!("      {}\n", truncate_chars(line, MAX_SHOWN_CHARS)));
    }
    if lines.len() > MAX_SHOWN_LINES {
        out.push_str(&format!("      ... ({} more line(s))\n", lines.len() - MAX_SHOWN_LINES));
    }
}

/// A failure as printed: `file:line: reason`, the SQL, expected and actual (truncated).
pub fn render_failure(path: &str, f: &Failure) -> String {
    let mut out = format!("{path}:{}: {}\n", f.line, f.reason);
    if !f.sql.is_empty() {
        let sql: Vec<String> = f.sql.lines().map(str::to_string).collect();
        push_lines(&mut out, "sql", &sql);
    }
    if !f.expected.is_empty() || !f.actual.is_empty() {
        push_lines(&mut out, "expected", &f.expected);
        push_lines(&mut out, "actual", &f.actual);
    }
    out
}

enum Event {
    Item(ItemResult),
    OpenFailed(String),
    Finished,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

const WORKER_NAME: &str = "slt-worker";

/// Installs a panic hook that keeps panics of the worker thread quiet (their message is
/// reported as the record's failure) and leaves other threads' panics to the default hook.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if thread::current().name() == Some(WORKER_NAME) {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
        } else {
            default(info);
        }
    }));
}

/// The message of the worker's last panic (recorded by the hook of [`install_panic_hook`]).
fn take_panic_message() -> String {
    LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| "panic".into())
}

fn worker(items: Vec<Record>, opts: Options, tx: mpsc::Sender<Event>) {
    let opened = catch_unwind(|| Database::open(Config::with_partitions(opts.partitions)));
    let db = match opened {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            let _ = tx.send(Event::OpenFailed(e.to_string()));
            return;
        }
        Err(_) => {
            let _ = tx.send(Event::OpenFailed(format!("panicked: {}", take_panic_message())));
            return;
        }
    };
    let mut session = db.session();
    session.set_partition_first_column(opts.partition_first_column);
    session.set_statement_timeout(Some(opts.timeout));
    session.set_plan_cache(opts.plan_cache);
    let mut state = State::default();
    for item in &items {
        let result = catch_unwind(AssertUnwindSafe(|| {
            run_record(&mut session, &mut state, item, opts.timeout)
        }))
        .unwrap_or_else(|_| {
            let msg = take_panic_message();
            ItemResult::Failed(Failure {
                line: item.line,
                sql: item.sql().unwrap_or("").to_string(),
                reason: format!("engine panicked: {msg}"),
                expected: Vec::new(),
                actual: Vec::new(),
            })
        });
        if tx.send(Event::Item(result)).is_err() {
            return;
        }
    }
    drop(session);
    drop(db);
    let _ = tx.send(Event::Finished);
}

/// Counts failures and prints the first ones (all when verbose).
struct Tally<'a> {
    path: &'a str,
    verbose: bool,
    summary: FileSummary,
    printed: usize,
    out: &'a mut dyn Write,
}

impl Tally<'_> {
    fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    fn fail(&mut self, f: &Failure) {
        self.summary.failed += 1;
        if self.verbose || self.printed < MAX_PRINTED_FAILURES {
            self.printed += 1;
            let text = render_failure(self.path, f);
            self.print(&text);
        }
    }

    /// Fails `count` records at once with one message.
    fn fail_many(&mut self, count: usize, line: Option<usize>, reason: &str) {
        self.summary.failed += count;
        let at = line.map(|l| format!(":{l}")).unwrap_or_default();
        let text = format!("{}{at}: {reason} ({count} record(s) counted as failed)\n", self.path);
        self.print(&text);
    }
}

/// Runs one file and prints its failures and its summary line to `out`.
pub fn run_file(path: &str, opts: &Options, out: &mut dyn Write) -> FileSummary {
    let start = Instant::now();
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            let summary = FileSummary {
                failed: 1,
                elapsed: start.elapsed(),
                ..FileSummary::default()
            };
            let _ = writeln!(out, "{path}: cannot read: {e}");
            let _ = writeln!(out, "{}", summary.line(path));
            return summary;
        }
    };
    let plan = plan(crate::parser::parse(&text));
    let mut tally = Tally {
        path,
        verbose: opts.verbose,
        summary: FileSummary::default(),
        printed: 0,
        out,
    };
    tally.summary.skipped = plan.skipped;
    for (i, (line, text)) in plan.unknown.iter().enumerate() {
        if opts.verbose || i < MAX_PRINTED_FAILURES {
            let msg = format!(
                "{path}:{line}: unknown record skipped: {}\n",
                truncate_chars(text, MAX_SHOWN_CHARS)
            );
            tally.print(&msg);
        }
    }
    if plan.unknown.len() > MAX_PRINTED_FAILURES && !opts.verbose {
        let msg = format!(
            "{path}: ... {} more unknown record(s)\n",
            plan.unknown.len() - MAX_PRINTED_FAILURES
        );
        tally.print(&msg);
    }

    let tests_at: Vec<bool> = plan.items.iter().map(Record::is_test).collect();
    let lines: Vec<usize> = plan.items.iter().map(|r| r.line).collect();
    let total = plan.items.len();
    let (tx, rx) = mpsc::channel();
    let worker_opts = opts.clone();
    let items = plan.items;
    let spawned = thread::Builder::new()
        .name(WORKER_NAME.to_string())
        .stack_size(64 << 20)
        .spawn(move || worker(items, worker_opts, tx));
    let watchdog = opts.timeout.saturating_mul(2).saturating_add(Duration::from_secs(10));
    let remaining_tests = |from: usize| tests_at[from..].iter().filter(|t| **t).count();
    let mut done = 0;
    match spawned {
        Err(e) => {
            let n = remaining_tests(0);
            tally.fail_many(n, None, &format!("cannot start worker thread: {e}"));
        }
        Ok(handle) => {
            let mut hung = false;
            while done < total {
                match rx.recv_timeout(watchdog) {
                    Ok(Event::Item(ItemResult::Passed)) => tally.summary.passed += 1,
                    Ok(Event::Item(ItemResult::Failed(f))) => tally.fail(&f),
                    Ok(Event::Item(ItemResult::Setting)) => {}
                    Ok(Event::OpenFailed(msg)) => {
                        let n = remaining_tests(done);
                        tally.fail_many(n, None, &format!("cannot open database: {msg}"));
                        break;
                    }
                    Ok(Event::Finished) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        let n = remaining_tests(done).max(1);
                        let reason = format!(
                            "engine did not answer within {:.0}s; abandoning the rest of the file",
                            watchdog.as_secs_f64()
                        );
                        tally.fail_many(n, lines.get(done).copied(), &reason);
                        hung = true;
                        break;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let n = remaining_tests(done);
                        tally.fail_many(n, lines.get(done).copied(), "worker thread died");
                        break;
                    }
                }
                done += 1;
            }
            if !hung {
                // Wait for the database to shut down before the next file opens one, but not forever.
                match rx.recv_timeout(watchdog) {
                    Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let _ = handle.join();
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        let msg = format!("{path}: engine shutdown did not finish; continuing\n");
                        tally.print(&msg);
                    }
                }
            }
        }
    }
    if tally.printed < tally.summary.failed && !opts.verbose {
        let more = tally.summary.failed - tally.printed;
        let msg = format!("{path}: ... {more} more failure(s) not shown (use --verbose)\n");
        tally.print(&msg);
    }
    if let Some(line) = plan.halted_at {
        let msg = format!("{path}:{line}: halt\n");
        tally.print(&msg);
    }
    tally.summary.elapsed = start.elapsed();
    let summary = tally.summary;
    let _ = writeln!(out, "{}", summary.line(path));
    summary
}

#[cfg(test)]
mod tests;
