//! Parser for SQLite's sqllogictest format (plus the sqllogictest-rs extensions we accept).
//!
//! The script is split into records separated by blank lines. Lines whose first non-blank
//! character is `#` are comments and are dropped everywhere, as SQLite's C driver does (they
//! neither end a record nor appear in SQL or results). A trailing `\r` is removed from every
//! line, so CRLF files parse like LF files. Condition lines (`skipif X`, `onlyif X`) may carry a
//! trailing `# comment`, which is cut off.
//!
//! The parser never fails: a record it cannot make sense of becomes [`RecordKind::Malformed`]
//! (the runner counts it as failed) and a record of an unknown kind becomes
//! [`RecordKind::Unknown`] (reported and skipped).

use std::fmt;

/// How query results are sorted before comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortMode {
    /// Keep the engine's order.
    NoSort,
    /// Sort rows, comparing their formatted values column by column as strings.
    RowSort,
    /// Sort all formatted values individually.
    ValueSort,
}

impl SortMode {
    pub fn from_token(token: &str) -> Option<SortMode> {
        match token {
            "nosort" => Some(SortMode::NoSort),
            "rowsort" => Some(SortMode::RowSort),
            "valuesort" => Some(SortMode::ValueSort),
            _ => None,
        }
    }
}

impl fmt::Display for SortMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortMode::NoSort => "nosort",
            SortMode::RowSort => "rowsort",
            SortMode::ValueSort => "valuesort",
        })
    }
}

/// Layout of expected query results (`control resultmode`, from sqllogictest-rs). The runner
/// accepts both layouts whatever the mode; the mode only decides how actual results are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultMode {
    /// One value per line (SQLite).
    ValueWise,
    /// One row per line, values separated by whitespace.
    RowWise,
}

/// A `skipif` / `onlyif` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    SkipIf(String),
    OnlyIf(String),
}

/// What a `statement` record expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatementExpect {
    /// `statement ok`.
    Ok,
    /// `statement count N`: success, and the statement modified `N` rows.
    Count(u64),
    /// `statement error [regex]`, or a `----` block holding the exact expected message.
    Error(ErrorExpect),
}

/// The expected error of `statement error` / `query error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorExpect {
    /// Any error.
    Any,
    /// The message must contain a match of this regular expression (a search, not a full match).
    Regex(String),
    /// The message, trimmed, must equal this text (multi-line form after `----`).
    Exact(String),
}

/// What a `query` record expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryExpect {
    /// Result lines after `----` (empty when there is no `----` section: zero rows).
    Results(Vec<String>),
    Error(ErrorExpect),
}

/// A `control` record (sqllogictest-rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    ResultMode(ResultMode),
    SortMode(SortMode),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Statement {
        sql: String,
        expect: StatementExpect,
    },
    Query {
        sql: String,
        /// The type letters (`I`, `T`, `R`, ...), one per column; empty for `query error`.
        types: String,
        /// `None`: the current default (`control sortmode`, else `nosort`).
        sort: Option<SortMode>,
        label: Option<String>,
        expect: QueryExpect,
    },
    HashThreshold(usize),
    Halt,
    Control(Control),
    /// A record of a kind this runner does not know (skipped, reported). Holds the first line.
    Unknown(String),
    /// A known record kind with invalid syntax (counted as failed).
    Malformed(String),
}

/// One record with the conditions written directly above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based line of the record's first line (after its conditions).
    pub line: usize,
    pub conditions: Vec<Condition>,
    pub kind: RecordKind,
}

impl Record {
    /// A statement or query record: the kinds counted in pass/fail totals.
    pub fn is_test(&self) -> bool {
        matches!(
            self.kind,
            RecordKind::Statement { .. } | RecordKind::Query { .. } | RecordKind::Malformed(_)
        )
    }

    /// The record's SQL, if it has any.
    pub fn sql(&self) -> Option<&str> {
        match &self.kind {
            RecordKind::Statement { sql, .. } | RecordKind::Query { sql, .. } => Some(sql),
            _ => None,
        }
    }
}

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    pub records: Vec<Record>,
}

impl Script {
    /// Number of `statement` records (whatever their conditions).
    pub fn statement_count(&self) -> usize {
        self.records
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Statement { .. }))
            .count()
    }

    /// Number of `query` records (whatever their conditions).
    pub fn query_count(&self) -> usize {
        self.records
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Query { .. }))
            .count()
    }
}

/// A non-comment line with its 1-based number; `None` text marks a blank line.
struct Line<'a> {
    number: usize,
    text: Option<&'a str>,
}

/// Splits the script into lines: strips `\r`, drops comment lines, marks blank lines.
fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        let text = if line.trim().is_empty() { None } else { Some(line) };
        out.push(Line { number: i + 1, text });
    }
    out
}

/// Cuts a trailing `# comment` off a condition line.
fn strip_comment(line: &str) -> &str {
    match line.find('#') {
        Some(at) => &line[..at],
        None => line,
    }
}

/// Parses a whole script.
pub fn parse(text: &str) -> Script {
    let lines = lines(text);
    let mut records = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // Gather one block of consecutive non-blank lines.
        if lines[i].text.is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && lines[i].text.is_some() {
            i += 1;
        }
        let block: Vec<(usize, &str)> = lines[start..i]
            .iter()
            .filter_map(|l| l.text.map(|t| (l.number, t)))
            .collect();
        if let Some(record) = parse_block(&block) {
            records.push(record);
        }
    }
    Script { records }
}

/// Parses one blank-line-delimited block. `None` for a block of conditions only.
fn parse_block(block: &[(usize, &str)]) -> Option<Record> {
    let mut conditions = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let line = strip_comment(block[at].1);
        let mut tokens = line.split_whitespace();
        let cond = match tokens.next() {
            Some("skipif") => Condition::SkipIf(tokens.next().unwrap_or("").to_string()),
            Some("onlyif") => Condition::OnlyIf(tokens.next().unwrap_or("").to_string()),
            _ => break,
        };
        conditions.push(cond);
        at += 1;
    }
    let (line, header) = *block.get(at)?;
    let body = &block[at + 1..];
    let kind = parse_record(header, body);
    Some(Record { line, conditions, kind })
}

/// Splits the body at the first `----` line: (SQL lines, result lines if `----` was present).
fn split_body<'a>(body: &[(usize, &'a str)]) -> (Vec<&'a str>, Option<Vec<&'a str>>) {
    match body.iter().position(|(_, l)| l.trim_end() == "----") {
        Some(sep) => (
            body[..sep].iter().map(|(_, l)| *l).collect(),
            Some(body[sep + 1..].iter().map(|(_, l)| *l).collect()),
        ),
        None => (body.iter().map(|(_, l)| *l).collect(), None),
    }
}

/// The text after the first `n` whitespace-separated tokens of `line`, trimmed.
fn rest_after_tokens(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.trim_end()
}

/// The expected error: a regex on the header line, else an exact `----` block, else any error.
fn error_expect(regex: &str, results: Option<Vec<&str>>) -> ErrorExpect {
    if !regex.is_empty() {
        return ErrorExpect::Regex(regex.to_string());
    }
    match results {
        Some(lines) if !lines.is_empty() => ErrorExpect::Exact(lines.join("\n").trim().to_string()),
        _ => ErrorExpect::Any,
    }
}

fn parse_record(header: &str, body: &[(usize, &str)]) -> RecordKind {
    let tokens: Vec<&str> = header.split_whitespace().collect();
    let Some(&first) = tokens.first() else {
        return RecordKind::Malformed("empty record".into());
    };
    match first {
        "statement" => parse_statement(header, &tokens, body),
        "query" => parse_query(header, &tokens, body),
        "hash-threshold" => match tokens.get(1).and_then(|t| t.parse::<usize>().ok()) {
            Some(n) => RecordKind::HashThreshold(n),
            None => RecordKind::Malformed(format!("bad hash-threshold: {header}")),
        },
        "halt" => RecordKind::Halt,
        "control" => match (tokens.get(1).copied(), tokens.get(2).copied()) {
            (Some("resultmode"), Some("valuewise")) => RecordKind::Control(Control::ResultMode(ResultMode::ValueWise)),
            (Some("resultmode"), Some("rowwise")) => RecordKind::Control(Control::ResultMode(ResultMode::RowWise)),
            (Some("sortmode"), Some(mode)) => match SortMode::from_token(mode) {
                Some(m) => RecordKind::Control(Control::SortMode(m)),
                None => RecordKind::Unknown(header.to_string()),
            },
            _ => RecordKind::Unknown(header.to_string()),
        },
        _ => RecordKind::Unknown(header.to_string()),
    }
}

fn parse_statement(header: &str, tokens: &[&str], body: &[(usize, &str)]) -> RecordKind {
    let (sql_lines, results) = split_body(body);
    let sql = sql_lines.join("\n");
    if sql.trim().is_empty() {
        return RecordKind::Malformed(format!("statement without SQL: {header}"));
    }
    let expect = match tokens.get(1).copied() {
        Some("ok") => StatementExpect::Ok,
        Some("count") => match tokens.get(2).and_then(|t| t.parse::<u64>().ok()) {
            Some(n) => StatementExpect::Count(n),
            None => return RecordKind::Malformed(format!("bad statement count: {header}")),
        },
        Some("error") => StatementExpect::Error(error_expect(rest_after_tokens(header, 2), results.clone())),
        _ => {
            return RecordKind::Malformed(format!("statement must be ok, count or error: {header}"));
        }
    };
    if matches!(expect, StatementExpect::Ok | StatementExpect::Count(_)) && results.is_some_and(|r| !r.is_empty()) {
        return RecordKind::Malformed(format!("statement with a result section: {header}"));
    }
    RecordKind::Statement { sql, expect }
}

fn parse_query(header: &str, tokens: &[&str], body: &[(usize, &str)]) -> RecordKind {
    let (sql_lines, results) = split_body(body);
    let sql = sql_lines.join("\n");
    if sql.trim().is_empty() {
        return RecordKind::Malformed(format!("query without SQL: {header}"));
    }
    let Some(&types) = tokens.get(1) else {
        return RecordKind::Malformed(format!("query without type string: {header}"));
    };
    if types == "error" {
        let expect = QueryExpect::Error(error_expect(rest_after_tokens(header, 2), results));
        return RecordKind::Query {
            sql,
            types: String::new(),
            sort: None,
            label: None,
            expect,
        };
    }
    if !types.chars().all(|c| c.is_ascii_alphabetic()) {
        return RecordKind::Malformed(format!("bad query type string: {header}"));
    }
    let mut rest = tokens[2..].iter();
    let mut sort = None;
    let mut label = None;
    if let Some(&tok) = rest.next() {
        match SortMode::from_token(tok) {
            Some(mode) => {
                sort = Some(mode);
                label = rest.next().map(|s| s.to_string());
            }
            None => label = Some(tok.to_string()),
        }
    }
    let lines = results.unwrap_or_default().into_iter().map(str::to_string).collect();
    RecordKind::Query {
        sql,
        types: types.to_string(),
        sort,
        label,
        expect: QueryExpect::Results(lines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<RecordKind> {
        parse(text).records.into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn statements() {
        let s = parse(
            "statement ok\nCREATE TABLE t(a INTEGER)\n\nstatement error\nbad\n\n\
             statement error no such table: \\w+\nSELECT * FROM x\n\nstatement count 3\nDELETE FROM t\n",
        );
        assert_eq!(s.records.len(), 4);
        assert_eq!(s.records[0].line, 1);
        assert_eq!(s.records[1].line, 4);
        assert_eq!(
            s.records[0].kind,
            RecordKind::Statement {
                sql: "CREATE TABLE t(a INTEGER)".into(),
                expect: StatementExpect::Ok
            }
        );
        assert_eq!(
            s.records[1].kind,
            RecordKind::Statement {
                sql: "bad".into(),
                expect: StatementExpect::Error(ErrorExpect::Any)
            }
        );
        assert_eq!(
            s.records[2].kind,
            RecordKind::Statement {
                sql: "SELECT * FROM x".into(),
                expect: StatementExpect::Error(ErrorExpect::Regex("no such table: \\w+".into()))
            }
        );
        assert_eq!(
            s.records[3].kind,
            RecordKind::Statement {
                sql: "DELETE FROM t".into(),
                expect: StatementExpect::Count(3)
            }
        );
        assert_eq!(s.statement_count(), 4);
        assert_eq!(s.query_count(), 0);
    }

    #[test]
    fn multiline_error_block() {
        let k = kinds("statement error\nINSERT x\n----\nline one\nline two\n");
        assert_eq!(
            k[0],
            RecordKind::Statement {
                sql: "INSERT x".into(),
                expect: StatementExpect::Error(ErrorExpect::Exact("line one\nline two".into()))
            }
        );
    }

    #[test]
    fn queries_and_crlf() {
        let text = "hash-threshold 8\r\n\r\nquery II rowsort label-1\r\nSELECT a,\r\n  b FROM t\r\n----\r\n1\r\n2\r\n\r\n\
                    query T\r\nSELECT ''\r\n\r\nquery I valuesort\r\nSELECT 1\r\n----\r\n30 values hashing to abc\r\n";
        let k = kinds(text);
        assert_eq!(k[0], RecordKind::HashThreshold(8));
        assert_eq!(
            k[1],
            RecordKind::Query {
                sql: "SELECT a,\n  b FROM t".into(),
                types: "II".into(),
                sort: Some(SortMode::RowSort),
                label: Some("label-1".into()),
                expect: QueryExpect::Results(vec!["1".into(), "2".into()]),
            }
        );
        assert_eq!(
            k[2],
            RecordKind::Query {
                sql: "SELECT ''".into(),
                types: "T".into(),
                sort: None,
                label: None,
                expect: QueryExpect::Results(vec![]),
            }
        );
        match &k[3] {
            RecordKind::Query { sort, expect, .. } => {
                assert_eq!(*sort, Some(SortMode::ValueSort));
                assert_eq!(*expect, QueryExpect::Results(vec!["30 values hashing to abc".into()]));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn query_error_and_label_without_sort() {
        let k = kinds("query error divide by zero\nSELECT 1/0\n\nquery I my-label\nSELECT 1\n----\n1\n");
        assert_eq!(
            k[0],
            RecordKind::Query {
                sql: "SELECT 1/0".into(),
                types: String::new(),
                sort: None,
                label: None,
                expect: QueryExpect::Error(ErrorExpect::Regex("divide by zero".into())),
            }
        );
        match &k[1] {
            RecordKind::Query { sort, label, .. } => {
                assert_eq!(*sort, None);
                assert_eq!(label.as_deref(), Some("my-label"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn conditions_with_trailing_comments() {
        let s = parse(
            "skipif postgresql # PostgreSQL requires AS\nonlyif mysql # aggregate syntax: \nquery I rowsort\nSELECT 1\n----\n1\n\n\
             onlyif voltrs\nhalt\n",
        );
        assert_eq!(s.records.len(), 2);
        assert_eq!(
            s.records[0].conditions,
            vec![
                Condition::SkipIf("postgresql".into()),
                Condition::OnlyIf("mysql".into())
            ]
        );
        assert_eq!(s.records[0].line, 3);
        assert_eq!(s.records[1].conditions, vec![Condition::OnlyIf("voltrs".into())]);
        assert_eq!(s.records[1].kind, RecordKind::Halt);
    }

    #[test]
    fn comments_are_dropped_everywhere() {
        let s =
            parse("# header\n\nstatement ok\n# inside\nSELECT 1\n  # indented\n\nquery I\nSELECT 2\n----\n# c\n2\n");
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].sql(), Some("SELECT 1"));
        match &s.records[1].kind {
            RecordKind::Query { expect, .. } => {
                assert_eq!(*expect, QueryExpect::Results(vec!["2".into()]))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn control_unknown_malformed() {
        let k = kinds(
            "control resultmode rowwise\n\ncontrol sortmode rowsort\n\ncontrol substitution on\n\n\
             sleep 1s\n\nstatement maybe\nSELECT 1\n\nquery I\n\nhash-threshold x\n\nstatement ok\nSELECT 1\n----\n1\n",
        );
        assert_eq!(k[0], RecordKind::Control(Control::ResultMode(ResultMode::RowWise)));
        assert_eq!(k[1], RecordKind::Control(Control::SortMode(SortMode::RowSort)));
        assert_eq!(k[2], RecordKind::Unknown("control substitution on".into()));
        assert_eq!(k[3], RecordKind::Unknown("sleep 1s".into()));
        assert!(matches!(k[4], RecordKind::Malformed(_)));
        assert!(matches!(k[5], RecordKind::Malformed(_)));
        assert!(matches!(k[6], RecordKind::Malformed(_)));
        assert!(matches!(k[7], RecordKind::Malformed(_)));
    }

    #[test]
    fn dangling_conditions_are_ignored() {
        let s = parse("statement ok\nSELECT 1\n\nskipif mysql\n\n");
        assert_eq!(s.records.len(), 1);
    }

    #[test]
    fn whitespace_only_lines_separate_records() {
        let s = parse("statement ok\nSELECT 1\n   \t\nstatement ok\nSELECT 2\n");
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[1].line, 4);
    }
}
