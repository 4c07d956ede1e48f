//! The SQL front: splits a script into statements and parses each one.
//!
//! 1. The whole script is tokenized once with sqlparser's tokenizer (GenericDialect), which
//!    knows quoting and comments, and split on top-level `;`.
//! 2. Statements sqlparser cannot parse the VoltDB way (`CREATE TABLE` with VoltDB column
//!    extras, `PARTITION TABLE`, `CREATE [ASSUMEUNIQUE] INDEX`, `ALTER TABLE`, `DROP`,
//!    `TRUNCATE`, `CREATE/DROP DATABASE`, `USE`) are parsed here with sqlparser's parser
//!    primitives ([`crate::ddl_parser`]); `UPSERT` becomes an INSERT with a flag. Procedure
//!    statements and calls (`CREATE/DROP/PARTITION PROCEDURE`, `EXEC`, `CALL`) are
//!    [`crate::proc_parser`]'s, which also keeps a `CREATE PROCEDURE ... AS BEGIN ... END`
//!    whole in step 1.
//! 3. Everything else (queries and DML) goes to sqlparser's `parse_statement`.
//!
//! Errors carry the 1-based line and column of the offending token within the script.

use sqlparser::ast;
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::ddl_parser::{self, AlterTable, CreateIndex, CreateTable};
use crate::error::{Error, Result};
use crate::proc_parser::{self, BlockTracker, CreateProcedure, ExecArg, ProcPartition};

/// Most parameters (`?` / `$n` markers) one statement takes.
pub const MAX_PARAMS: usize = 1024;

/// Deepest expression nesting accepted (hostile SQL gets an error, not a stack overflow).
pub const MAX_DEPTH: usize = 200;

/// A parsed statement, still unbound (names not resolved).
#[derive(Debug, Clone)]
pub enum Statement {
    Query(Box<ast::Query>),
    Insert {
        insert: Box<ast::Insert>,
        upsert: bool,
    },
    Update(Box<ast::Statement>),
    Delete(Box<ast::Statement>),
    CreateTable(CreateTable),
    PartitionTable {
        table: String,
        column: String,
    },
    CreateIndex(CreateIndex),
    CreateView(CreateView),
    Drop {
        kind: DropKind,
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    Truncate {
        table: String,
    },
    AlterTable(AlterTable),
    CreateDatabase {
        name: String,
        if_not_exists: bool,
    },
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    Use {
        name: String,
    },
    /// `EXPLAIN stmt`: the plan of a query or DML statement, not its result.
    Explain(Box<Statement>),
    /// `CREATE PROCEDURE name ... AS ...` / `LANGUAGE LUA AS $$ ... $$`.
    CreateProcedure(CreateProcedure),
    /// `DROP PROCEDURE [IF EXISTS] name`: the name as written.
    DropProcedure {
        name: String,
        if_exists: bool,
    },
    /// Legacy `PARTITION PROCEDURE name ON TABLE t COLUMN c [PARAMETER n]`.
    PartitionProcedure {
        name: String,
        partition: ProcPartition,
    },
    /// `EXEC name arg, ...` / `EXECUTE name arg, ...` / `CALL name(arg, ...)`: the name as
    /// written (`votes.insert`, `@SystemCatalog`), literal arguments only.
    Exec {
        name: String,
        args: Vec<ExecArg>,
    },
}

/// `CREATE VIEW name [(col, ...)] AS query`: a materialized view.
#[derive(Debug, Clone)]
pub struct CreateView {
    pub name: String,
    pub columns: Vec<String>,
    pub query: Box<ast::Query>,
    pub if_not_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    Table,
    Index,
    View,
}

/// One statement of a script with its source text.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub statement: Statement,
    pub text: String,
    /// How many parameter values the statement takes: the number of `?` markers (numbered
    /// `$1`, `$2`, ... in text order before parsing) or the highest `$n`.
    pub params: usize,
    /// An over-estimate of the statement's deepest operator chain (keywords count too; see
    /// [`MAX_OPERATOR_CHAIN`]). The plan cache leaves deep statements alone: cloning, walking
    /// and printing their syntax trees recurse.
    pub operator_depth: usize,
}

/// Parses a `;`-separated script.
pub fn parse_script(sql: &str) -> Result<Vec<Parsed>> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Syntax {
            message: e.message.clone(),
            line: e.location.line,
            column: e.location.column,
        })?;
    let mut out = Vec::new();
    for stmt_tokens in split_statements(tokens) {
        let text = source_text(&stmt_tokens);
        let (statement, params, operator_depth) = parse_one(stmt_tokens)?;
        out.push(Parsed {
            statement,
            text,
            params,
            operator_depth,
        });
    }
    Ok(out)
}

pub(crate) fn is_blank(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

/// Splits tokens on top-level semicolons (not those of a procedure's `BEGIN ... END`),
/// dropping empty statements.
/// Whether `text` ends with a complete statement: its last token is a `;` that ends a
/// statement (not one inside a procedure's `BEGIN ... END` block) and no string or
/// `$$ ... $$` body is left open. Shells use it to know when to run what was typed.
pub fn ends_statement(text: &str) -> bool {
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, text).tokenize_with_location() else {
        return false;
    };
    let mut block = BlockTracker::default();
    let mut ended = false;
    for t in tokens {
        if is_blank(&t.token) || t.token == Token::EOF {
            continue;
        }
        block.feed(&t.token);
        ended = t.token == Token::SemiColon && !block.inside();
        if ended {
            block = BlockTracker::default();
        }
    }
    ended
}

fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut out = Vec::new();
    let mut cur: Vec<TokenWithSpan> = Vec::new();
    let mut block = BlockTracker::default();
    for t in tokens {
        if !is_blank(&t.token) {
            block.feed(&t.token);
        }
        match t.token {
            Token::SemiColon if !block.inside() => {
                if cur.iter().any(|t| !is_blank(&t.token)) {
                    out.push(std::mem::take(&mut cur));
                } else {
                    cur.clear();
                }
                block = BlockTracker::default();
            }
            Token::EOF => {}
            _ => cur.push(t),
        }
    }
    if cur.iter().any(|t| !is_blank(&t.token)) {
        out.push(cur);
    }
    out
}

/// The statement's text, rebuilt from its tokens (comments and spacing included).
pub(crate) fn source_text(tokens: &[TokenWithSpan]) -> String {
    tokens
        .iter()
        .map(|t| t.token.to_string())
        .collect::<String>()
        .trim()
        .to_string()
}

/// The upper-case leading words of a statement (up to `n`).
pub(crate) fn leading_words(tokens: &[TokenWithSpan], n: usize) -> Vec<String> {
    tokens
        .iter()
        .filter(|t| !is_blank(&t.token))
        .take(n)
        .map(|t| match &t.token {
            Token::Word(w) => w.value.to_ascii_uppercase(),
            other => other.to_string(),
        })
        .collect()
}

pub(crate) fn parser(tokens: Vec<TokenWithSpan>) -> Parser<'static> {
    static DIALECT: GenericDialect = GenericDialect {};
    Parser::new(&DIALECT)
        .with_recursion_limit(MAX_DEPTH)
        .with_tokens_with_locations(tokens)
}

/// The ESCAPE marker that turns `x LIKE p ESCAPE '\u{1}'` back into `x STARTS WITH p`.
pub const STARTS_WITH_MARKER: &str = "\u{1}";

/// Rewrites VoltDB's `x STARTS WITH <literal or ?>` (which sqlparser does not know) into a
/// LIKE carrying [`STARTS_WITH_MARKER`] as its escape; the binder turns it back.
fn rewrite_starts_with(tokens: &mut Vec<TokenWithSpan>) {
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.value.eq_ignore_ascii_case(w));
    let mut i = 0;
    while i < tokens.len() {
        if word(&tokens[i].token, "STARTS") {
            let next = |from: usize| (from..tokens.len()).find(|&k| !is_blank(&tokens[k].token));
            if let Some(w) = next(i + 1).filter(|&w| word(&tokens[w].token, "WITH"))
                && let Some(v) = next(w + 1)
                && matches!(tokens[v].token, Token::SingleQuotedString(_) | Token::Placeholder(_))
            {
                let span = tokens[v].span;
                tokens[i].token = Token::make_keyword("LIKE");
                tokens.insert(
                    v + 1,
                    TokenWithSpan::new(Token::SingleQuotedString(STARTS_WITH_MARKER.into()), span),
                );
                tokens.insert(v + 1, TokenWithSpan::new(Token::make_keyword("ESCAPE"), span));
                tokens.insert(
                    v + 1,
                    TokenWithSpan::new(Token::Whitespace(sqlparser::tokenizer::Whitespace::Space), span),
                );
                tokens.insert(
                    v + 1,
                    TokenWithSpan::new(Token::Whitespace(sqlparser::tokenizer::Whitespace::Space), span),
                );
                tokens.remove(w);
            }
        }
        i += 1;
    }
}

/// Deepest chain of operators accepted in one statement. sqlparser builds a left-deep tree for
/// a chain of operators and drops it recursively, so a chain of ~60 000 overflows a 2 MiB
/// thread stack; this guard, run on tokens before parsing, keeps hostile input far below that.
pub const MAX_OPERATOR_CHAIN: usize = 10_000;

/// Estimates the depth of the operator tree sqlparser would build: operators add one to the
/// current list item, a comma starts a new item (list items are siblings), and a closed
/// parenthesis group adds its deepest item to the item it belongs to.
/// Returns the deepest chain found.
fn check_operator_chains(tokens: &[TokenWithSpan]) -> Result<usize> {
    let mut deepest = 0;
    // Per open group: (deepest finished item, current item).
    let mut groups: Vec<(usize, usize)> = vec![(0, 0)];
    for t in tokens {
        let is_operator = match &t.token {
            Token::LParen => {
                groups.push((0, 0));
                false
            }
            Token::RParen => {
                if groups.len() > 1
                    && let Some((max, cur)) = groups.pop()
                    && let Some(parent) = groups.last_mut()
                {
                    parent.1 += max.max(cur);
                    deepest = deepest.max(parent.1);
                }
                false
            }
            Token::Comma => {
                if let Some(g) = groups.last_mut() {
                    g.0 = g.0.max(g.1);
                    g.1 = 0;
                }
                false
            }
            // Operands and punctuation never deepen the tree; every other token (operators,
            // keywords) is counted, which over-estimates but cannot miss an operator.
            Token::Word(w) => w.keyword != Keyword::NoKeyword,
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_)
            | Token::Whitespace(_)
            | Token::Period
            | Token::SemiColon
            | Token::EOF => false,
            _ => true,
        };
        if is_operator && let Some(g) = groups.last_mut() {
            g.1 += 1;
            deepest = deepest.max(g.1);
            if g.1 > MAX_OPERATOR_CHAIN {
                return Err(Error::Syntax {
                    message: format!("expression too long: a chain of more than {MAX_OPERATOR_CHAIN} operators"),
                    line: t.span.start.line,
                    column: t.span.start.column,
                });
            }
        }
    }
    Ok(deepest)
}

/// Numbers `?` markers `$1`, `$2`, ... in text order (the binder visits clauses in its own
/// order, so positional markers must be fixed before parsing) and returns how many parameters
/// the statement takes. Mixing `?` with `$n` in one statement is refused.
fn number_parameters(tokens: &mut [TokenWithSpan]) -> Result<usize> {
    let mut questions = 0usize;
    let mut highest = 0usize;
    let mut numbered: Option<sqlparser::tokenizer::Location> = None;
    for t in tokens.iter_mut() {
        if let Token::Placeholder(p) = &mut t.token {
            if p == "?" {
                questions += 1;
                *p = format!("${questions}");
            } else if let Some(n) = p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                if n > MAX_PARAMS {
                    return Err(Error::Syntax {
                        message: format!("parameter marker {p} is out of range (at most ${MAX_PARAMS})"),
                        line: t.span.start.line,
                        column: t.span.start.column,
                    });
                }
                highest = highest.max(n);
                numbered.get_or_insert(t.span.start);
            }
        }
    }
    if questions > MAX_PARAMS {
        return Err(Error::Syntax {
            message: format!("a statement takes at most {MAX_PARAMS} parameters"),
            line: 1,
            column: 1,
        });
    }
    match numbered {
        Some(at) if questions > 0 => Err(Error::Syntax {
            message: "a statement cannot mix ? and $n parameter markers".into(),
            line: at.line,
            column: at.column,
        }),
        _ => Ok(questions.max(highest)),
    }
}

pub(crate) fn parse_one(mut tokens: Vec<TokenWithSpan>) -> Result<(Statement, usize, usize)> {
    // A procedure's body statements number their markers each; a call takes none.
    if proc_parser::is_raw_statement(&leading_words(&tokens, 2)) {
        let stmt = parse_tokens(tokens)?;
        let depth = match &stmt {
            Statement::CreateProcedure(p) => p.operator_depth(),
            _ => 0,
        };
        return Ok((stmt, 0, depth));
    }
    let depth = check_operator_chains(&tokens)?;
    let params = number_parameters(&mut tokens)?;
    parse_tokens(tokens).map(|s| (s, params, depth))
}

fn parse_tokens(mut tokens: Vec<TokenWithSpan>) -> Result<Statement> {
    let words = leading_words(&tokens, 3);
    if proc_parser::is_raw_statement(&words) {
        return if words.first().is_some_and(|w| w == "CREATE") {
            proc_parser::create_procedure(tokens).map(Statement::CreateProcedure)
        } else {
            proc_parser::exec(tokens)
        };
    }
    rewrite_starts_with(&mut tokens);
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let end = tokens
        .last()
        .map(|t| t.span.end)
        .unwrap_or(sqlparser::tokenizer::Location::new(1, 1));
    tokens.push(TokenWithSpan::new(
        Token::EOF,
        sqlparser::tokenizer::Span::new(end, end),
    ));
    match (w(0), w(1)) {
        ("EXPLAIN", "ANALYZE") | ("EXPLAIN", "ANALYSE") | ("EXPLAIN", "VERBOSE") => Err(Error::Syntax {
            message: format!("EXPLAIN {} is not supported: use EXPLAIN <statement>", w(1)),
            line: 1,
            column: 1,
        }),
        ("EXPLAIN", _) => {
            let at = tokens.iter().position(|t| !is_blank(&t.token)).unwrap_or(0);
            let mut rest = tokens.split_off(at + 1);
            rest.pop(); // the EOF pushed above; parse_tokens adds its own
            match parse_tokens(rest)? {
                s @ (Statement::Query(_) | Statement::Insert { .. } | Statement::Update(_) | Statement::Delete(_)) => {
                    Ok(Statement::Explain(Box::new(s)))
                }
                _ => Err(Error::Syntax {
                    message: "EXPLAIN takes a SELECT, INSERT, UPSERT, UPDATE or DELETE statement".into(),
                    line: 1,
                    column: 1,
                }),
            }
        }
        ("CREATE", "TABLE") => ddl_parser::create_table(parser(tokens)).map(Statement::CreateTable),
        ("CREATE", "INDEX") | ("CREATE", "UNIQUE") | ("CREATE", "ASSUMEUNIQUE")
            if w(1) == "INDEX" || w(2) == "INDEX" =>
        {
            ddl_parser::create_index(parser(tokens)).map(Statement::CreateIndex)
        }
        ("CREATE", "DATABASE") | ("DROP", "DATABASE") | ("USE", _) => ddl_parser::database_statement(parser(tokens)),
        ("DROP", "PROCEDURE") => proc_parser::drop_procedure(parser(tokens)),
        ("PARTITION", "PROCEDURE") => proc_parser::partition_procedure(parser(tokens)),
        ("PARTITION", _) => ddl_parser::partition(parser(tokens)),
        ("DROP", "TABLE") | ("DROP", "INDEX") | ("DROP", "VIEW") => ddl_parser::drop(parser(tokens)),
        ("TRUNCATE", _) => ddl_parser::truncate(parser(tokens)),
        ("ALTER", "TABLE") => ddl_parser::alter_table(parser(tokens)).map(Statement::AlterTable),
        ("UPSERT", _) => {
            if let Some(first) = tokens.iter_mut().find(|t| !is_blank(&t.token)) {
                first.token = Token::make_keyword("INSERT");
            }
            match generic(tokens)? {
                ast::Statement::Insert(insert) => Ok(Statement::Insert {
                    insert: Box::new(insert),
                    upsert: true,
                }),
                _ => Err(Error::Syntax {
                    message: "expected UPSERT INTO".into(),
                    line: 1,
                    column: 1,
                }),
            }
        }
        _ => match generic(tokens)? {
            ast::Statement::Query(q) => Ok(Statement::Query(q)),
            ast::Statement::Insert(insert) => Ok(Statement::Insert {
                insert: Box::new(insert),
                upsert: false,
            }),
            s @ ast::Statement::Update { .. } => Ok(Statement::Update(Box::new(s))),
            s @ ast::Statement::Delete(_) => Ok(Statement::Delete(Box::new(s))),
            ast::Statement::CreateView(cv) => create_view(cv),
            other => {
                let text = other.to_string();
                let head: String = text.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                Err(Error::Unsupported(format!("statement {head} ...")))
            }
        },
    }
}

fn create_view(cv: ast::CreateView) -> Result<Statement> {
    let unsupported = cv.or_alter
        || cv.or_replace
        || cv.secure
        || cv.temporary
        || cv.copy_grants
        || cv.with_no_schema_binding
        || cv.to.is_some()
        || cv.params.is_some()
        || cv.comment.is_some()
        || !cv.cluster_by.is_empty()
        || !matches!(cv.options, ast::CreateTableOptions::None)
        || cv.columns.iter().any(|c| c.data_type.is_some() || c.options.is_some());
    if unsupported {
        return Err(Error::Unsupported(
            "this form of CREATE VIEW (voltrs has CREATE VIEW name [(columns)] AS SELECT ...)".into(),
        ));
    }
    let name = match cv.name.0.as_slice() {
        [part] => part.to_string().trim_matches('"').to_ascii_uppercase(),
        _ => {
            return Err(Error::Unsupported(format!(
                "view name {} (name a view in the current database)",
                cv.name
            )));
        }
    };
    Ok(Statement::CreateView(CreateView {
        name,
        columns: cv.columns.iter().map(|c| c.name.value.to_ascii_uppercase()).collect(),
        query: cv.query,
        if_not_exists: cv.if_not_exists,
    }))
}

fn generic(tokens: Vec<TokenWithSpan>) -> Result<ast::Statement> {
    let mut p = parser(tokens);
    let stmt = p.parse_statement().map_err(syntax)?;
    let next = p.peek_token();
    if next.token != Token::EOF {
        return Err(Error::Syntax {
            message: format!("unexpected '{}' after the end of the statement", next.token),
            line: next.span.start.line,
            column: next.span.start.column,
        });
    }
    Ok(stmt)
}

/// Turns a sqlparser error into ours, lifting "at Line: l, Column: c" into fields.
pub(crate) fn syntax(e: ParserError) -> Error {
    let msg = match e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        ParserError::RecursionLimitExceeded => {
            return Error::Syntax {
                message: format!("expression nested too deeply (limit {MAX_DEPTH})"),
                line: 1,
                column: 1,
            };
        }
    };
    if let Some(pos) = msg.rfind(" at Line: ") {
        let (message, loc) = msg.split_at(pos);
        let nums: Vec<u64> = loc
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        if let [line, column] = nums[..] {
            return Error::Syntax {
                message: message.to_string(),
                line,
                column,
            };
        }
    }
    Error::Syntax {
        message: msg,
        line: 0,
        column: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::UniqueKind;

    fn one(sql: &str) -> Statement {
        let mut v = parse_script(sql).expect("parses");
        assert_eq!(v.len(), 1, "{sql}");
        v.remove(0).statement
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let v = parse_script("SELECT 'a;b'; ; -- c;\nSELECT 2;").expect("parses");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].text, "SELECT 'a;b'");
    }

    #[test]
    fn voltdb_create_table_extras() {
        let Statement::CreateTable(t) = one(
            "CREATE TABLE IF NOT EXISTS t (a INTEGER NOT NULL ASSUMEUNIQUE, b VARCHAR(3 BYTES) DEFAULT 'x' NOT NULL, \
             CONSTRAINT pk PRIMARY KEY (a), LIMIT PARTITION ROWS 10)",
        ) else {
            panic!("not a CREATE TABLE")
        };
        assert!(t.if_not_exists);
        assert_eq!(t.columns[0].keys, vec![(None, UniqueKind::AssumeUnique)]);
        assert_eq!(
            t.columns[1].ty,
            voltrs_storage::DataType::Varchar { len: 3, bytes: true }
        );
        assert!(t.columns[1].not_null, "DEFAULT binds tighter than NOT NULL");
        assert_eq!(t.constraints[0].name.as_deref(), Some("PK"));
        assert_eq!(t.row_limit, Some(10));
    }

    #[test]
    fn voltdb_statements() {
        assert!(
            matches!(one("PARTITION TABLE t ON COLUMN c"), Statement::PartitionTable { table, column } if table == "T" && column == "C")
        );
        assert!(matches!(
            one("UPSERT INTO t VALUES (1)"),
            Statement::Insert { upsert: true, .. }
        ));
        assert!(matches!(one("use Db1"), Statement::Use { name } if name == "DB1"));
        assert!(matches!(
            one("DROP TABLE t IF EXISTS CASCADE"),
            Statement::Drop {
                if_exists: true,
                cascade: true,
                ..
            }
        ));
        let Statement::CreateIndex(i) = one("CREATE ASSUMEUNIQUE INDEX i ON t (a + 1, b) WHERE b > 0") else {
            panic!("not CREATE INDEX")
        };
        assert_eq!(
            (i.unique, i.exprs.len(), i.predicate.is_some()),
            (Some(UniqueKind::AssumeUnique), 2, true)
        );
    }

    #[test]
    fn syntax_errors_carry_positions() {
        let err = parse_script("SELECT 1;\nSELEC 2").expect_err("bad");
        assert!(matches!(err, Error::Syntax { line: 2, column: 1, .. }), "{err:?}");
        let err = parse_script("CREATE TABLE t (a VARCHAR(0))").expect_err("bad length");
        assert!(err.to_string().contains("VARCHAR length 0"), "{err}");
    }

    #[test]
    fn starts_with_becomes_a_marked_like() {
        let Statement::Query(q) = one("SELECT * FROM t WHERE s STARTS WITH 'ab'") else {
            panic!("not a query")
        };
        assert!(q.to_string().contains("LIKE 'ab' ESCAPE"), "{q}");
    }

    #[test]
    fn operator_chains_are_bounded_before_parsing() {
        let long = format!("SELECT {}", vec!["1"; MAX_OPERATOR_CHAIN + 2].join("+"));
        let err = parse_script(&long).expect_err("too long");
        assert!(err.to_string().contains("expression too long"), "{err}");
        // List items are siblings, not a chain: a long IN list is fine.
        let list = format!("SELECT 1 WHERE 1 IN ({})", vec!["-1"; 3 * MAX_OPERATOR_CHAIN].join(","));
        assert!(parse_script(&list).is_ok());
    }
}
