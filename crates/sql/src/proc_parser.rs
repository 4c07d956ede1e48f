//! Procedure statements: `CREATE PROCEDURE`, `DROP PROCEDURE`, the legacy `PARTITION
//! PROCEDURE`, and the calls `EXEC` / `EXECUTE` / `CALL`.
//!
//! 1. [`crate::parser::parse_script`] keeps `CREATE PROCEDURE ... AS BEGIN s1; s2; END` in one
//!    piece although its body holds `;` ([`BlockTracker`]): the block opens at a `BEGIN` right
//!    after the statement's first `AS` and closes at the first `END` no `CASE` claims.
//!    Dollar-quoted (`$$ ... $$`) and `'...'` strings are single tokens, so their `;` never split.
//! 2. [`create_procedure`] reads the header (name, declared parameters, `PARTITION ON`,
//!    `ALLOW`, in either order) with sqlparser's parser primitives, then the body. Each SQL
//!    statement of the body is cut from the tokens and parsed like a standalone statement
//!    ([`crate::parser::parse_one`]): it keeps its source text and its `?` markers are numbered
//!    from 1 per statement. A Lua body is the text of one string token.
//! 3. [`exec`] reads a call: a procedure name (`.` and `@` allowed: `votes.insert`,
//!    `@SystemCatalog`) and literal arguments ([`call`]).
//!
//! Nothing here reads the catalog: whether tables, columns, roles or procedures exist, and
//! whether argument counts and types fit, is checked when the statement runs.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Span, Token, TokenWithSpan};
use voltrs_storage::DataType;

mod call;

pub use call::ExecArg;
pub(crate) use call::exec;

use crate::ddl_parser::{self, eat_word, expect_end, expect_token, expect_word, fold, unexpected};
use crate::error::{Error, Result};
use crate::parser::{self, MAX_PARAMS, Parsed, Statement, is_blank, syntax};

/// `CREATE PROCEDURE name [(param TYPE, ...)] [PARTITION ON ...] [ALLOW ...] AS ...`.
#[derive(Debug, Clone)]
pub struct CreateProcedure {
    /// As written, quotes removed; procedures are matched case-insensitively when called.
    pub name: String,
    /// Declared parameters `(name TYPE, ...)`, names as written (Lua code refers to them).
    /// `None` when the statement declares none: a SQL body then takes its `?` markers.
    pub params: Option<Vec<(String, DataType)>>,
    pub partition: Option<ProcPartition>,
    /// Roles allowed to call the procedure, upper-cased; empty when there is no ALLOW.
    pub allow: Vec<String>,
    pub body: ProcBody,
}

/// `ON TABLE t COLUMN c [PARAMETER n]`: a single-partition procedure's routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcPartition {
    /// Upper-cased, like every table name.
    pub table: String,
    /// Upper-cased, like every column name.
    pub column: String,
    /// 0-based index of the parameter holding the partitioning value; `None` when not given
    /// (VoltDB then uses parameter 0).
    pub parameter: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum ProcBody {
    /// `AS stmt` (one) or `AS BEGIN stmt; ...; END` (several), in order. Each statement has
    /// its source text, its parsed form and its own `?` count (markers numbered from 1).
    Sql(Vec<Parsed>),
    /// `LANGUAGE LUA AS $$ ... $$` (or a `'...'` string): the Lua source.
    Lua(String),
}

impl CreateProcedure {
    /// The deepest operator chain among the body's statements (see [`Parsed::operator_depth`]).
    pub fn operator_depth(&self) -> usize {
        match &self.body {
            ProcBody::Sql(stmts) => stmts.iter().map(|s| s.operator_depth).max().unwrap_or(0),
            ProcBody::Lua(_) => 0,
        }
    }
}

/// Whether `t` is the unquoted word `k` (any case).
fn is_word(t: &Token, k: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

fn peek_is(p: &Parser, n: usize, k: &str) -> bool {
    is_word(&p.peek_nth_token_ref(n).token, k)
}

/// One step through an `AS BEGIN ... END` block: `CASE` opens a nested `END`; returns true at
/// the `END` that closes the block.
fn closes_block(cases: &mut usize, t: &Token) -> bool {
    if is_word(t, "CASE") {
        *cases += 1;
    } else if is_word(t, "END") {
        if *cases == 0 {
            return true;
        }
        *cases -= 1;
    }
    false
}

/// Follows a statement's tokens for the script splitter: is a `;` here inside the
/// `BEGIN ... END` block of a `CREATE PROCEDURE`?
#[derive(Debug, Default)]
pub(crate) struct BlockTracker {
    state: Track,
}

#[derive(Debug, Default)]
enum Track {
    #[default]
    Start,
    Create,
    /// `CREATE PROCEDURE` seen, its first `AS` not yet.
    Header,
    AfterAs,
    Block {
        cases: usize,
    },
    /// Not (or no longer) inside a block.
    Done,
}

impl BlockTracker {
    /// Feeds the statement's next non-blank token.
    pub(crate) fn feed(&mut self, t: &Token) {
        self.state = match std::mem::take(&mut self.state) {
            Track::Start if is_word(t, "CREATE") => Track::Create,
            Track::Create if is_word(t, "PROCEDURE") => Track::Header,
            Track::Header if is_word(t, "AS") => Track::AfterAs,
            Track::Header => Track::Header,
            Track::AfterAs if is_word(t, "BEGIN") => Track::Block { cases: 0 },
            Track::Block { mut cases } => {
                if closes_block(&mut cases, t) {
                    Track::Done
                } else {
                    Track::Block { cases }
                }
            }
            _ => Track::Done,
        }
    }

    pub(crate) fn inside(&self) -> bool {
        matches!(self.state, Track::Block { .. })
    }
}

/// Statements this module parses from raw tokens, before `?` markers are numbered.
pub(crate) fn is_raw_statement(words: &[String]) -> bool {
    match words {
        [first, second, ..] if first == "CREATE" => second == "PROCEDURE",
        [first, ..] => matches!(first.as_str(), "EXEC" | "EXECUTE" | "CALL"),
        [] => false,
    }
}

/// The tokens without any EOF, then one EOF at the end (the parser needs it).
fn with_eof(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    tokens.retain(|t| t.token != Token::EOF);
    let end = tokens
        .last()
        .map(|t| t.span.end)
        .unwrap_or(sqlparser::tokenizer::Location::new(1, 1));
    tokens.push(TokenWithSpan::new(Token::EOF, Span::new(end, end)));
    tokens
}

fn error_at(t: &TokenWithSpan, message: String) -> Error {
    Error::Syntax {
        message,
        line: t.span.start.line,
        column: t.span.start.column,
    }
}

/// How a token reads in an error message.
fn describe(t: &Token) -> String {
    match t {
        Token::EOF => "end of statement".into(),
        other => format!("'{other}'"),
    }
}

pub const FROM_CLASS_UNSUPPORTED: &str = "CREATE PROCEDURE ... FROM CLASS needs compiled Java classes, which voltrs \
     does not run; write the procedure in SQL (AS ..., AS BEGIN ... END) or Lua (LANGUAGE LUA AS $$ ... $$); \
     see docs/PROCEDURES.md";

/// Parses `CREATE PROCEDURE ...` from the statement's tokens (markers not yet numbered).
pub(crate) fn create_procedure(tokens: Vec<TokenWithSpan>) -> Result<CreateProcedure> {
    let tokens = with_eof(tokens);
    let mut parser = parser::parser(tokens.clone());
    let p = &mut parser;
    expect_word(p, "CREATE")?;
    expect_word(p, "PROCEDURE")?;
    let name_at = p.peek_token();
    // VoltDB's class procedures take their name from the class: `CREATE PROCEDURE PARTITION ON
    // ... FROM CLASS c`. Recognize that shape so it gets the FROM CLASS error below.
    let nameless = (peek_is(p, 0, "PARTITION") && peek_is(p, 1, "ON"))
        || (peek_is(p, 0, "FROM") && peek_is(p, 1, "CLASS"))
        || peek_is(p, 0, "DIRECTED")
        || (peek_is(p, 0, "ALLOW")
            && matches!(p.peek_nth_token_ref(1).token, Token::Word(_))
            && !["AS", "LANGUAGE", "PARTITION", "FROM"].iter().any(|k| peek_is(p, 1, k)));
    let name = if nameless { None } else { Some(proc_name(p, false)?) };
    let params = if p.peek_token_ref().token == Token::LParen {
        Some(declared_params(p)?)
    } else {
        None
    };
    let mut partition = None;
    let mut allow = None;
    loop {
        let at = p.peek_token();
        if eat_word(p, "PARTITION") {
            if partition.is_some() {
                return Err(error_at(&at, "PARTITION ON is given twice".into()));
            }
            expect_word(p, "ON")?;
            partition = Some(partition_target(p)?);
            if peek_is(p, 0, "AND") && peek_is(p, 1, "ON") {
                return Err(Error::Unsupported(
                    "two-partition procedures (PARTITION ON TABLE ... AND ON TABLE ...)".into(),
                ));
            }
        } else if eat_word(p, "ALLOW") {
            if allow.is_some() {
                return Err(error_at(&at, "ALLOW is given twice".into()));
            }
            let roles = p.parse_comma_separated(|p| p.parse_identifier()).map_err(syntax)?;
            allow = Some(roles.iter().map(fold).collect::<Vec<_>>());
        } else if is_word(&at.token, "DIRECTED") {
            return Err(Error::Unsupported(
                "DIRECTED procedures (they run a Java class on every partition)".into(),
            ));
        } else {
            break;
        }
    }
    if peek_is(p, 0, "FROM") && peek_is(p, 1, "CLASS") {
        return Err(Error::Unsupported(FROM_CLASS_UNSUPPORTED.into()));
    }
    let Some(name) = name else {
        return Err(error_at(
            &name_at,
            "expected a procedure name after CREATE PROCEDURE".into(),
        ));
    };
    let body = if eat_word(p, "LANGUAGE") {
        lua_body(p, &name, params.is_some())?
    } else if eat_word(p, "AS") {
        ProcBody::Sql(sql_body(&tokens, p.index(), &name)?)
    } else {
        return Err(unexpected(p, "AS, LANGUAGE LUA AS or FROM CLASS"));
    };
    if let (Some(part), Some(declared)) = (&partition, &params) {
        let index = part.parameter.unwrap_or(0);
        if index >= declared.len() {
            let n = declared.len();
            return Err(Error::Invalid(format!(
                "procedure {name} is partitioned on PARAMETER {index} but declares {n} parameter{}; \
                 PARAMETER counts from 0",
                if n == 1 { "" } else { "s" }
            )));
        }
    }
    Ok(CreateProcedure {
        name,
        params,
        partition,
        allow: allow.unwrap_or_default(),
        body,
    })
}

/// A procedure name as written. `dotted` admits `a.b` (default procedures, class names).
fn proc_name(p: &mut Parser, dotted: bool) -> Result<String> {
    let t = p.next_token();
    let Token::Word(w) = &t.token else {
        return Err(error_at(
            &t,
            format!("expected a procedure name, found {}", describe(&t.token)),
        ));
    };
    if !dotted && w.quote_style.is_none() && w.value.eq_ignore_ascii_case("AS") {
        return Err(error_at(&t, "expected a procedure name, found 'AS'".into()));
    }
    if !dotted && w.value.starts_with('@') {
        return Err(error_at(
            &t,
            format!(
                "cannot create procedure {}: names starting with @ belong to system procedures",
                w.value
            ),
        ));
    }
    let mut name = w.value.clone();
    while p.peek_token_ref().token == Token::Period {
        let dot = p.next_token();
        if !dotted {
            return Err(error_at(
                &dot,
                format!(
                    "procedure name {name}.{}: names with '.' belong to the default procedures (TABLE.insert, ...)",
                    p.peek_token().token
                ),
            ));
        }
        let part = p.next_token();
        match &part.token {
            Token::Word(w) => {
                name.push('.');
                name.push_str(&w.value);
            }
            other => {
                return Err(error_at(
                    &part,
                    format!("expected a name after '{name}.', found {}", describe(other)),
                ));
            }
        }
    }
    Ok(name)
}

/// `( name TYPE, ... )`: at least the parentheses; `()` declares no parameters.
fn declared_params(p: &mut Parser) -> Result<Vec<(String, DataType)>> {
    expect_token(p, Token::LParen)?;
    let mut params: Vec<(String, DataType)> = Vec::new();
    if p.consume_token(&Token::RParen) {
        return Ok(params);
    }
    loop {
        let at = p.peek_token();
        let ident = p.parse_identifier().map_err(syntax)?;
        if params.iter().any(|(n, _)| n.eq_ignore_ascii_case(&ident.value)) {
            return Err(error_at(&at, format!("parameter {} is declared twice", ident.value)));
        }
        if params.len() == MAX_PARAMS {
            return Err(error_at(
                &at,
                format!("a procedure takes at most {MAX_PARAMS} parameters"),
            ));
        }
        let sized = matches!(p.peek_nth_token(1).token, Token::LParen);
        let ty = match ddl_parser::data_type(p)? {
            // A parameter's VARCHAR / VARBINARY without a size takes any length (a column's
            // defaults to VARCHAR(1), which would refuse most values).
            DataType::Varchar { bytes, .. } if !sized => DataType::Varchar {
                len: voltrs_storage::types::MAX_VARCHAR_CHARS,
                bytes,
            },
            DataType::Varbinary { .. } if !sized => DataType::Varbinary {
                len: voltrs_storage::types::MAX_VALUE_BYTES,
            },
            ty => ty,
        };
        params.push((ident.value, ty));
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    expect_token(p, Token::RParen)?;
    Ok(params)
}

/// `TABLE t COLUMN c [PARAMETER n]` (after `ON`).
fn partition_target(p: &mut Parser) -> Result<ProcPartition> {
    expect_word(p, "TABLE")?;
    let table = ddl_parser::table_name(p)?;
    expect_word(p, "COLUMN")?;
    let column = ddl_parser::name(p)?;
    let parameter = if eat_word(p, "PARAMETER") {
        Some(parameter_index(p)?)
    } else {
        None
    };
    Ok(ProcPartition {
        table,
        column,
        parameter,
    })
}

fn parameter_index(p: &mut Parser) -> Result<usize> {
    let t = p.next_token();
    let (found, index) = match &t.token {
        Token::Number(n, false) => (n.clone(), n.parse::<usize>().ok()),
        Token::Minus | Token::Plus => (format!("{}{}", t.token, p.peek_token().token), None),
        other => (describe(other), None),
    };
    match index {
        Some(i) if i < MAX_PARAMS => Ok(i),
        _ => Err(error_at(
            &t,
            format!(
                "PARAMETER takes the 0-based index of the partitioning parameter (an integer from 0 to {}), found {found}",
                MAX_PARAMS - 1
            ),
        )),
    }
}

/// `LUA AS $$ source $$` (after `LANGUAGE`).
fn lua_body(p: &mut Parser, name: &str, declared: bool) -> Result<ProcBody> {
    let lang = p.peek_token();
    if !eat_word(p, "LUA") {
        return Err(error_at(
            &lang,
            format!(
                "unknown procedure language {}: voltrs procedures are SQL (AS ...) or Lua (LANGUAGE LUA AS $$ ... $$)",
                describe(&lang.token)
            ),
        ));
    }
    if !declared {
        return Err(error_at(
            &lang,
            format!(
                "a Lua procedure declares its parameters: CREATE PROCEDURE {name} (name TYPE, ...) LANGUAGE LUA AS $$ ... $$ (write () for none)"
            ),
        ));
    }
    expect_word(p, "AS")?;
    let t = p.next_token();
    let source = match &t.token {
        Token::DollarQuotedString(s) => s.value.clone(),
        Token::SingleQuotedString(s) => s.clone(),
        other => {
            return Err(error_at(
                &t,
                format!(
                    "expected the Lua source as $$ ... $$ or '...', found {}",
                    describe(other)
                ),
            ));
        }
    };
    expect_end(p)?;
    Ok(ProcBody::Lua(source))
}

/// The statements after `AS` (tokens from `start` on): `BEGIN s1; s2; ... END` or one statement.
fn sql_body(tokens: &[TokenWithSpan], start: usize, name: &str) -> Result<Vec<Parsed>> {
    let rest = tokens.get(start..).unwrap_or_default();
    let Some(first) = rest.iter().position(|t| !is_blank(&t.token)) else {
        return Err(Error::Syntax {
            message: "expected a statement after AS".into(),
            line: 0,
            column: 0,
        });
    };
    if rest[first].token == Token::EOF {
        return Err(error_at(
            &rest[first],
            "expected a statement after AS, found end of statement".into(),
        ));
    }
    if !is_word(&rest[first].token, "BEGIN") {
        let stmt: Vec<TokenWithSpan> = rest.iter().filter(|t| t.token != Token::EOF).cloned().collect();
        return Ok(vec![body_statement(name, 1, stmt)?]);
    }
    let begin = &rest[first];
    // Find the block's END before parsing anything, so a missing END is the error reported.
    let mut pieces: Vec<Vec<TokenWithSpan>> = vec![Vec::new()];
    let mut cases = 0;
    let mut end = None;
    for (i, t) in rest.iter().enumerate().skip(first + 1) {
        if closes_block(&mut cases, &t.token) {
            end = Some(i);
            break;
        }
        match (&t.token, pieces.last_mut()) {
            (Token::SemiColon, _) => pieces.push(Vec::new()),
            (_, Some(piece)) => piece.push(t.clone()),
            (_, None) => {}
        }
    }
    let Some(end) = end else {
        return Err(error_at(
            begin,
            format!("procedure {name}: AS BEGIN has no matching END"),
        ));
    };
    let mut statements = Vec::new();
    // Empty pieces are stray `;`; the last statement may omit its `;` before END.
    for piece in pieces.into_iter().filter(|p| p.iter().any(|t| !is_blank(&t.token))) {
        statements.push(body_statement(name, statements.len() + 1, piece)?);
    }
    if let Some(extra) = rest[end + 1..]
        .iter()
        .find(|t| !is_blank(&t.token) && t.token != Token::EOF)
    {
        return Err(error_at(
            extra,
            format!("expected end of statement after END, found {}", describe(&extra.token)),
        ));
    }
    if statements.is_empty() {
        return Err(error_at(
            begin,
            format!("procedure {name}: AS BEGIN ... END holds no statement"),
        ));
    }
    Ok(statements)
}

/// One statement of a SQL body, parsed like a standalone statement.
fn body_statement(name: &str, index: usize, tokens: Vec<TokenWithSpan>) -> Result<Parsed> {
    let words = parser::leading_words(&tokens, 2);
    let first = words.first().map(String::as_str).unwrap_or("");
    let (line, column) = tokens
        .iter()
        .find(|t| !is_blank(&t.token))
        .map_or((0, 0), |t| (t.span.start.line, t.span.start.column));
    let refuse = |what: String| Error::Syntax {
        message: format!(
            "procedure {name}: statement {index} is {what}; a procedure holds only SELECT, INSERT, UPSERT, \
             UPDATE, DELETE and TRUNCATE TABLE statements"
        ),
        line,
        column,
    };
    let allowed = matches!(
        first,
        "SELECT" | "WITH" | "VALUES" | "(" | "INSERT" | "UPSERT" | "UPDATE" | "DELETE" | "TRUNCATE"
    );
    if !allowed {
        return Err(refuse(words.join(" ")));
    }
    let text = parser::source_text(&tokens);
    let (statement, params, operator_depth) = parser::parse_one(tokens)?;
    match statement {
        Statement::Query(_)
        | Statement::Insert { .. }
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Truncate { .. } => Ok(Parsed {
            statement,
            text,
            params,
            operator_depth,
        }),
        _ => Err(refuse(words.join(" "))),
    }
}

/// `DROP PROCEDURE [IF EXISTS] name [IF EXISTS]`.
pub(crate) fn drop_procedure(mut p: Parser) -> Result<Statement> {
    let p = &mut p;
    expect_word(p, "DROP")?;
    expect_word(p, "PROCEDURE")?;
    let mut if_exists = ddl_parser::if_exists(p);
    let name = proc_name(p, true)?;
    if_exists |= ddl_parser::if_exists(p);
    expect_end(p)?;
    Ok(Statement::DropProcedure { name, if_exists })
}

/// `PARTITION PROCEDURE name ON TABLE t COLUMN c [PARAMETER n]`.
pub(crate) fn partition_procedure(mut p: Parser) -> Result<Statement> {
    let p = &mut p;
    expect_word(p, "PARTITION")?;
    expect_word(p, "PROCEDURE")?;
    let name = proc_name(p, true)?;
    expect_word(p, "ON")?;
    let partition = partition_target(p)?;
    expect_end(p)?;
    Ok(Statement::PartitionProcedure { name, partition })
}
