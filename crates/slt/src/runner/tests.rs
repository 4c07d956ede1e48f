use super::*;
use crate::parser::parse;
use voltrs_engine::ResultColumn;
use voltrs_storage::{DataType, Value};

fn table(cols: usize, rows: Vec<Vec<Value>>) -> ResultTable {
    ResultTable {
        columns: (0..cols)
            .map(|i| ResultColumn {
                name: format!("C{i}"),
                ty: DataType::BigInt,
            })
            .collect(),
        rows,
    }
}

fn ints(rows: &[&[i64]]) -> Vec<Vec<Value>> {
    rows.iter()
        .map(|r| r.iter().map(|v| Value::Integer(*v)).collect())
        .collect()
}

fn lines(s: &[&str]) -> Vec<String> {
    s.iter().map(|l| l.to_string()).collect()
}

#[test]
fn labels_and_conditions() {
    assert!(is_our_label("VoltDB"));
    assert!(is_our_label("postgresql"));
    assert!(!is_our_label("mysql"));
    assert!(applies(&[]));
    assert!(applies(&[Condition::SkipIf("mysql".into())]));
    assert!(!applies(&[Condition::SkipIf("postgresql".into())]));
    assert!(!applies(&[Condition::OnlyIf("mysql".into())]));
    assert!(applies(&[Condition::OnlyIf("voltrs".into())]));
    assert!(!applies(&[
        Condition::OnlyIf("voltrs".into()),
        Condition::SkipIf("voltdb".into())
    ]));
}

#[test]
fn plan_applies_conditions_and_halt() {
    let script = parse(
        "statement ok\nA\n\nonlyif mysql # only there\nstatement ok\nB\n\nskipif postgresql # strict\nquery I\nC\n\n\
         onlyif mssql\nhalt\n\nsleep 1\n\nskipif voltrs\nsleep 2\n\nstatement ok\nD\n\nhalt\n\nstatement ok\nE\n",
    );
    let plan = plan(script);
    let sqls: Vec<&str> = plan.items.iter().filter_map(Record::sql).collect();
    assert_eq!(sqls, vec!["A", "D"]);
    assert_eq!(plan.skipped, 4); // B, C, and the two unknown records
    assert_eq!(plan.unknown, vec![(15, "sleep 1".to_string())]);
    assert_eq!(plan.halted_at, Some(23));
    assert_eq!(plan.test_count(), 2);
}

#[test]
fn applying_conditional_halt_stops() {
    let plan = plan(parse(
        "statement ok\nA\n\nonlyif voltdb # us\nhalt\n\nstatement ok\nB\n",
    ));
    assert_eq!(plan.items.len(), 1);
    assert_eq!(plan.halted_at, Some(5));
}

#[test]
fn statement_checks() {
    let ok: Result<Vec<Outcome>, String> = Ok(vec![Outcome::Modified(3)]);
    let err: Result<Vec<Outcome>, String> = Err("no such table: FOO".into());
    assert!(check_statement(&StatementExpect::Ok, &ok).is_ok());
    assert!(check_statement(&StatementExpect::Ok, &err).is_err());
    assert!(check_statement(&StatementExpect::Count(3), &ok).is_ok());
    assert!(check_statement(&StatementExpect::Count(2), &ok).is_err());
    assert!(check_statement(&StatementExpect::Error(ErrorExpect::Any), &err).is_ok());
    assert!(check_statement(&StatementExpect::Error(ErrorExpect::Any), &ok).is_err());
    let re = |s: &str| StatementExpect::Error(ErrorExpect::Regex(s.into()));
    assert!(check_statement(&re("such table"), &err).is_ok());
    assert!(check_statement(&re("^no such table: [A-Z]+$"), &err).is_ok());
    assert!(check_statement(&re("constraint"), &err).is_err());
    let bad = check_statement(&re("("), &err).unwrap_err();
    assert!(bad.reason.contains("invalid error regex"));
    let exact = StatementExpect::Error(ErrorExpect::Exact("no such table: FOO".into()));
    assert!(check_statement(&exact, &err).is_ok());
}

#[test]
fn compare_layouts() {
    let values = lines(&["1", "2", "3", "4"]);
    assert!(results_match(&lines(&["1", "2", "3", "4"]), &values, 2));
    assert!(results_match(&lines(&["1 2", "3\t 4"]), &values, 2));
    assert!(!results_match(&lines(&["1 2", "3 5"]), &values, 2));
    assert!(!results_match(&lines(&["1", "2", "3"]), &values, 2));
    assert!(results_match(&[], &[], 3));
    assert!(!results_match(&[], &values, 2));
    let h = hash_line(&values);
    assert!(results_match(&[h], &values, 2));
    let wrong_count = format!("5 values hashing to {}", md5_hex(&values));
    assert!(!results_match(&[wrong_count], &values, 2));
}

#[test]
fn query_checks_sort_and_hash() {
    let st = State::default();
    let t = table(2, ints(&[&[3, 30], &[1, 10], &[2, 20]]));
    let ok = Ok(vec![Outcome::Rows(t)]);
    let expect = QueryExpect::Results(lines(&["1", "10", "2", "20", "3", "30"]));
    assert!(check_query("II", SortMode::RowSort, &expect, &ok, &st).is_ok());
    let m = check_query("II", SortMode::NoSort, &expect, &ok, &st).unwrap_err();
    assert_eq!(m.actual, lines(&["3", "30", "1", "10", "2", "20"]));
    let vs = QueryExpect::Results(lines(&["1", "10", "2", "20", "3", "30"]));
    assert!(check_query("II", SortMode::ValueSort, &vs, &ok, &st).is_ok());
    let vs2 = QueryExpect::Results(lines(&["1", "10", "2", "20", "3", "30"]));
    // valuesort orders strings: "1" < "10" < "2" < "20" < "3" < "30".
    assert!(check_query("II", SortMode::ValueSort, &vs2, &ok, &st).is_ok());
    let rowwise = QueryExpect::Results(lines(&["1 10", "2 20", "3 30"]));
    assert!(check_query("II", SortMode::RowSort, &rowwise, &ok, &st).is_ok());

    // More than the threshold: shown hashed; expected hashed compares count and md5.
    let big = table(1, ints(&[&[5], &[4], &[3], &[2], &[1], &[0], &[9], &[8], &[7]]));
    let sorted = lines(&["0", "1", "2", "3", "4", "5", "7", "8", "9"]);
    let big_ok = Ok(vec![Outcome::Rows(big)]);
    let hashed = QueryExpect::Results(vec![hash_line(&sorted)]);
    assert!(check_query("I", SortMode::RowSort, &hashed, &big_ok, &st).is_ok());
    let m = check_query("I", SortMode::NoSort, &hashed, &big_ok, &st).unwrap_err();
    assert_eq!(m.actual.len(), 1);
    assert!(m.actual[0].starts_with("9 values hashing to "));
}

#[test]
fn query_failures() {
    let st = State::default();
    let expect = QueryExpect::Results(lines(&["1"]));
    let err: Result<Vec<Outcome>, String> = Err("boom".into());
    assert_eq!(
        check_query("I", SortMode::NoSort, &expect, &err, &st)
            .unwrap_err()
            .reason,
        "query failed"
    );
    let no_rows = Ok(vec![Outcome::Modified(1)]);
    assert!(check_query("I", SortMode::NoSort, &expect, &no_rows, &st).is_err());
    let qe = QueryExpect::Error(ErrorExpect::Regex("bo+m".into()));
    assert!(check_query("", SortMode::NoSort, &qe, &err, &st).is_ok());
    let one = Ok(vec![Outcome::Rows(table(1, ints(&[&[1]])))]);
    assert!(check_query("", SortMode::NoSort, &qe, &one, &st).is_err());
    // Empty result: expected section absent or empty.
    let none = Ok(vec![Outcome::Rows(table(1, vec![]))]);
    assert!(check_query("I", SortMode::NoSort, &QueryExpect::Results(vec![]), &none, &st).is_ok());
    // The last result set of a multi-statement script counts.
    let multi = Ok(vec![
        Outcome::Done("CREATE TABLE".into()),
        Outcome::Rows(table(1, ints(&[&[1]]))),
    ]);
    assert!(check_query("I", SortMode::NoSort, &expect, &multi, &st).is_ok());
}

/// A fake engine: answers by SQL text, optionally sleeping.
struct Fake {
    delay: Duration,
}

impl Executor for Fake {
    fn execute(&mut self, sql: &str) -> Result<Vec<Outcome>, String> {
        thread::sleep(self.delay);
        match sql {
            "SELECT 1" => Ok(vec![Outcome::Rows(table(1, ints(&[&[1]])))]),
            "BAD" => Err("syntax error at line 1, column 1: BAD".into()),
            _ => Ok(vec![Outcome::Done("OK".into())]),
        }
    }
}

#[test]
fn run_records_with_fake_engine() {
    let script = parse(
        "hash-threshold 0\n\ncontrol sortmode rowsort\n\nstatement ok\nCREATE\n\nstatement error syntax error\nBAD\n\n\
         query I\nSELECT 1\n----\n1\n\nquery I\nSELECT 1\n----\n2\n\nstatement ok\n",
    );
    let mut fake = Fake { delay: Duration::ZERO };
    let mut state = State::default();
    let results: Vec<ItemResult> = script
        .records
        .iter()
        .map(|r| run_record(&mut fake, &mut state, r, Duration::from_secs(5)))
        .collect();
    assert_eq!(results[0], ItemResult::Setting);
    assert_eq!(state.hash_threshold, 0);
    assert_eq!(state.sort_default, SortMode::RowSort);
    assert_eq!(results[1], ItemResult::Setting);
    assert_eq!(results[2], ItemResult::Passed);
    assert_eq!(results[3], ItemResult::Passed);
    assert_eq!(results[4], ItemResult::Passed);
    match &results[5] {
        ItemResult::Failed(f) => {
            assert_eq!(f.line, 16);
            assert_eq!(f.expected, lines(&["2"]));
            assert_eq!(f.actual, lines(&["1"]));
            let text = render_failure("x.test", f);
            assert!(text.starts_with("x.test:16: wrong result\n"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(&results[6], ItemResult::Failed(f) if f.reason.contains("malformed")));
}

#[test]
fn slow_record_fails() {
    let script = parse("query I\nSELECT 1\n----\n1\n");
    let mut fake = Fake {
        delay: Duration::from_millis(30),
    };
    let mut state = State::default();
    let r = run_record(&mut fake, &mut state, &script.records[0], Duration::from_millis(1));
    assert!(matches!(r, ItemResult::Failed(f) if f.reason.starts_with("timed out")));
}

#[test]
fn summary_line_and_truncation() {
    let s = FileSummary {
        passed: 3,
        failed: 1,
        skipped: 2,
        elapsed: Duration::from_millis(1250),
    };
    assert_eq!(s.line("a.test"), "a.test: 3 passed, 1 failed, 2 skipped (1.2s)");
    assert_eq!(truncate_chars("abcdef", 3), "abc...");
    assert_eq!(truncate_chars("abc", 3), "abc");
}

#[test]
fn unreadable_file_counts_as_failed() {
    let mut out = Vec::new();
    let s = run_file("/nonexistent/definitely/missing.test", &Options::default(), &mut out);
    assert_eq!(s.failed, 1);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("cannot read"));
    assert!(text.ends_with("0 passed, 1 failed, 0 skipped (0.0s)\n"));
}
