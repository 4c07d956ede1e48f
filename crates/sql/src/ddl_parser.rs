//! Hand parsers for VoltDB DDL that sqlparser does not accept, built on sqlparser's parser
//! primitives so every statement shares one tokenizer and one error shape.

use sqlparser::ast;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;
use voltrs_storage::DataType;
use voltrs_storage::types::{DEFAULT_VARCHAR_LEN, MAX_VALUE_BYTES, MAX_VARCHAR_CHARS};

use crate::catalog::UniqueKind;
use crate::error::{Error, Result};
use crate::parser::{DropKind, Statement, syntax};

#[derive(Debug, Clone)]
pub struct CreateTable {
    pub name: String,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnSpec>,
    pub constraints: Vec<ConstraintSpec>,
    pub row_limit: Option<u64>,
    /// The constraint name of the row limit, if it was given one.
    pub row_limit_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
    pub default: Option<ast::Expr>,
    /// Inline PRIMARY KEY / UNIQUE / ASSUMEUNIQUE, with an optional constraint name.
    pub keys: Vec<(Option<String>, UniqueKind)>,
}

#[derive(Debug, Clone)]
pub struct ConstraintSpec {
    pub name: Option<String>,
    pub kind: UniqueKind,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CreateIndex {
    pub name: String,
    pub table: String,
    pub unique: Option<UniqueKind>,
    pub if_not_exists: bool,
    pub exprs: Vec<ast::Expr>,
    pub predicate: Option<ast::Expr>,
}

#[derive(Debug, Clone)]
pub struct AlterTable {
    pub table: String,
    pub action: AlterAction,
}

#[derive(Debug, Clone)]
pub enum AlterAction {
    AddColumn {
        column: ColumnSpec,
        before: Option<String>,
    },
    AddConstraint(ConstraintSpec),
    AddRowLimit {
        name: Option<String>,
        rows: u64,
    },
    DropColumn {
        name: String,
        cascade: bool,
    },
    DropConstraint {
        name: String,
    },
    DropPrimaryKey,
    DropRowLimit,
    /// `ALTER COLUMN c type [...]`: a new definition of the column.
    AlterColumn {
        column: ColumnSpec,
        cascade: bool,
    },
    SetDefault {
        column: String,
        default: Option<ast::Expr>,
    },
    SetNullable {
        column: String,
        nullable: bool,
    },
}

/// Operators binding tighter than this (arithmetic, `||`) may appear in a DEFAULT value.
const DEFAULT_PRECEDENCE: u8 = 20;

/// Reads `CONSTRAINT name` when it names a `LIMIT PARTITION ROWS` clause (VoltDB allows it),
/// returning the name.
fn named_row_limit(p: &mut Parser) -> Result<Option<String>> {
    let is = |t: &Token, k: &str| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(k));
    if is(&p.peek_nth_token(0).token, "CONSTRAINT") && is(&p.peek_nth_token(2).token, "LIMIT") {
        p.next_token();
        return Ok(Some(name(p)?));
    }
    Ok(None)
}

/// Upper-cases an identifier the way VoltDB folds names.
pub fn fold(ident: &ast::Ident) -> String {
    ident.value.to_ascii_uppercase()
}

pub(crate) fn name(p: &mut Parser) -> Result<String> {
    p.parse_identifier().map(|i| fold(&i)).map_err(syntax)
}

/// A table (or index) named by DDL: always in the session's current database.
pub(crate) fn table_name(p: &mut Parser) -> Result<String> {
    let n = name(p)?;
    if p.peek_token_ref().token == Token::Period {
        let t = p.peek_token();
        return Err(Error::Unsupported(format!(
            "a database-qualified name in DDL (at line {}, column {}): USE the database first",
            t.span.start.line, t.span.start.column
        )));
    }
    Ok(n)
}

/// Consumes the next token if it is the given word (keyword or not), case-insensitively.
pub(crate) fn eat_word(p: &mut Parser, word: &str) -> bool {
    if let Token::Word(w) = &p.peek_token_ref().token
        && w.value.eq_ignore_ascii_case(word)
    {
        p.next_token();
        return true;
    }
    false
}

pub(crate) fn expect_word(p: &mut Parser, word: &str) -> Result<()> {
    if eat_word(p, word) {
        Ok(())
    } else {
        Err(unexpected(p, word))
    }
}

pub(crate) fn unexpected(p: &Parser, expected: &str) -> Error {
    let t = p.peek_token();
    let found = if t.token == Token::EOF {
        "end of statement".to_string()
    } else {
        format!("'{}'", t.token)
    };
    Error::Syntax {
        message: format!("expected {expected}, found {found}"),
        line: t.span.start.line,
        column: t.span.start.column,
    }
}

pub(crate) fn expect_token(p: &mut Parser, token: Token) -> Result<()> {
    if p.consume_token(&token) {
        Ok(())
    } else {
        Err(unexpected(p, &format!("'{token}'")))
    }
}

pub(crate) fn expect_end(p: &mut Parser) -> Result<()> {
    if p.peek_token_ref().token == Token::EOF {
        Ok(())
    } else {
        Err(unexpected(p, "end of statement"))
    }
}

fn uint(p: &mut Parser) -> Result<u64> {
    p.parse_literal_uint().map_err(syntax)
}

fn if_not_exists(p: &mut Parser) -> bool {
    p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS])
}

pub(crate) fn if_exists(p: &mut Parser) -> bool {
    p.parse_keywords(&[Keyword::IF, Keyword::EXISTS])
}

/// Parses a VoltDB column type, including `VARCHAR(n BYTES)` and the synonyms the corpus uses.
pub fn data_type(p: &mut Parser) -> Result<DataType> {
    let t = p.next_token();
    let Token::Word(w) = &t.token else {
        p.prev_token();
        return Err(unexpected(p, "a data type"));
    };
    let ty = match w.value.to_ascii_uppercase().as_str() {
        "TINYINT" => DataType::TinyInt,
        "SMALLINT" => DataType::SmallInt,
        "INTEGER" | "INT" => DataType::Integer,
        "BIGINT" => DataType::BigInt,
        "FLOAT" | "REAL" => {
            optional_precision(p)?;
            DataType::Float
        }
        "DOUBLE" => {
            eat_word(p, "PRECISION");
            DataType::Float
        }
        "DECIMAL" | "NUMERIC" | "DEC" => {
            optional_precision(p)?;
            DataType::Decimal
        }
        "VARCHAR" | "CHAR" | "CHARACTER" | "TEXT" | "STRING" => {
            if w.value.eq_ignore_ascii_case("CHARACTER") {
                eat_word(p, "VARYING");
            }
            let is_text = matches!(w.value.to_ascii_uppercase().as_str(), "TEXT" | "STRING");
            if p.consume_token(&Token::LParen) {
                let len = uint(p)?;
                let bytes = eat_word(p, "BYTES");
                if !bytes {
                    eat_word(p, "CHARACTERS");
                }
                expect_token(p, Token::RParen)?;
                let max = if bytes { MAX_VALUE_BYTES } else { MAX_VARCHAR_CHARS } as u64;
                if len == 0 || len > max {
                    return Err(Error::Invalid(format!(
                        "VARCHAR length {len} must be between 1 and {max}"
                    )));
                }
                DataType::Varchar { len: len as u32, bytes }
            } else if is_text {
                DataType::VARCHAR_MAX
            } else {
                DataType::Varchar {
                    len: DEFAULT_VARCHAR_LEN,
                    bytes: false,
                }
            }
        }
        "VARBINARY" | "BINARY" => {
            let len = if p.consume_token(&Token::LParen) {
                let len = uint(p)?;
                expect_token(p, Token::RParen)?;
                if len == 0 || len > MAX_VALUE_BYTES as u64 {
                    return Err(Error::Invalid(format!(
                        "VARBINARY length {len} must be between 1 and {MAX_VALUE_BYTES}"
                    )));
                }
                len as u32
            } else {
                1
            };
            DataType::Varbinary { len }
        }
        "TIMESTAMP" => DataType::Timestamp,
        other => {
            return Err(Error::Syntax {
                message: format!("unknown data type {other}"),
                line: t.span.start.line,
                column: t.span.start.column,
            });
        }
    };
    Ok(ty)
}

/// `(p)` or `(p, s)` after FLOAT / DECIMAL: accepted and ignored (DECIMAL is always 38,12).
fn optional_precision(p: &mut Parser) -> Result<()> {
    if p.consume_token(&Token::LParen) {
        uint(p)?;
        if p.consume_token(&Token::Comma) {
            uint(p)?;
        }
        expect_token(p, Token::RParen)?;
    }
    Ok(())
}

/// `name type [DEFAULT e] [NOT NULL | NULL] [[CONSTRAINT n] PRIMARY KEY | UNIQUE | ASSUMEUNIQUE]...`
pub fn column_spec(p: &mut Parser) -> Result<ColumnSpec> {
    let name = name(p)?;
    let ty = data_type(p)?;
    let mut col = ColumnSpec {
        name,
        ty,
        not_null: false,
        default: None,
        keys: Vec::new(),
    };
    loop {
        if p.parse_keyword(Keyword::DEFAULT) {
            // Bind tighter than NOT / IS so `DEFAULT 5 NOT NULL` keeps NOT NULL for the column.
            col.default = Some(p.parse_subexpr(DEFAULT_PRECEDENCE).map_err(syntax)?);
        } else if p.parse_keywords(&[Keyword::NOT, Keyword::NULL]) {
            col.not_null = true;
        } else if p.parse_keyword(Keyword::NULL) {
            col.not_null = false;
        } else if let Some((cname, kind)) = key_kind(p)? {
            if kind == UniqueKind::PrimaryKey {
                col.not_null = true;
            }
            col.keys.push((cname, kind));
        } else {
            break;
        }
    }
    Ok(col)
}

/// `[CONSTRAINT n] PRIMARY KEY | UNIQUE | ASSUMEUNIQUE`; `None` if none starts here.
fn key_kind(p: &mut Parser) -> Result<Option<(Option<String>, UniqueKind)>> {
    let cname = if p.parse_keyword(Keyword::CONSTRAINT) {
        Some(name(p)?)
    } else {
        None
    };
    let kind = if p.parse_keywords(&[Keyword::PRIMARY, Keyword::KEY]) {
        UniqueKind::PrimaryKey
    } else if p.parse_keyword(Keyword::UNIQUE) {
        UniqueKind::Unique
    } else if eat_word(p, "ASSUMEUNIQUE") {
        UniqueKind::AssumeUnique
    } else if cname.is_some() {
        return Err(unexpected(p, "PRIMARY KEY, UNIQUE or ASSUMEUNIQUE"));
    } else {
        return Ok(None);
    };
    Ok(Some((cname, kind)))
}

fn column_list(p: &mut Parser) -> Result<Vec<String>> {
    expect_token(p, Token::LParen)?;
    let cols = p.parse_comma_separated(|p| p.parse_identifier()).map_err(syntax)?;
    expect_token(p, Token::RParen)?;
    Ok(cols.iter().map(fold).collect())
}

/// `LIMIT PARTITION ROWS n` (after LIMIT has been seen).
fn row_limit(p: &mut Parser) -> Result<u64> {
    expect_word(p, "PARTITION")?;
    expect_word(p, "ROWS")?;
    uint(p)
}

pub fn create_table(mut p: Parser) -> Result<CreateTable> {
    let p = &mut p;
    expect_word(p, "CREATE")?;
    expect_word(p, "TABLE")?;
    let if_not_exists = if_not_exists(p);
    let table = table_name(p)?;
    expect_token(p, Token::LParen)?;
    let mut t = CreateTable {
        name: table,
        if_not_exists,
        columns: Vec::new(),
        constraints: Vec::new(),
        row_limit: None,
        row_limit_name: None,
    };
    loop {
        let limit_name = named_row_limit(p)?;
        if p.parse_keyword(Keyword::LIMIT) {
            if t.row_limit.is_some() {
                return Err(Error::Invalid(format!(
                    "table \"{}\" has more than one LIMIT PARTITION ROWS",
                    t.name
                )));
            }
            t.row_limit = Some(row_limit(p)?);
            t.row_limit_name = limit_name;
        } else if let Some((cname, kind)) = key_kind(p)? {
            t.constraints.push(ConstraintSpec {
                name: cname,
                kind,
                columns: column_list(p)?,
            });
        } else {
            t.columns.push(column_spec(p)?);
        }
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    expect_token(p, Token::RParen)?;
    expect_end(p)?;
    Ok(t)
}

pub fn create_index(mut p: Parser) -> Result<CreateIndex> {
    let p = &mut p;
    expect_word(p, "CREATE")?;
    let unique = if p.parse_keyword(Keyword::UNIQUE) {
        Some(UniqueKind::Unique)
    } else if eat_word(p, "ASSUMEUNIQUE") {
        Some(UniqueKind::AssumeUnique)
    } else {
        None
    };
    expect_word(p, "INDEX")?;
    let if_not_exists = if_not_exists(p);
    let index = name(p)?;
    expect_word(p, "ON")?;
    let table = table_name(p)?;
    expect_token(p, Token::LParen)?;
    let exprs = p
        .parse_comma_separated(|p| {
            let e = p.parse_expr()?;
            // ASC / DESC on index keys is accepted and ignored.
            let _ = p.parse_one_of_keywords(&[Keyword::ASC, Keyword::DESC]);
            Ok(e)
        })
        .map_err(syntax)?;
    expect_token(p, Token::RParen)?;
    let predicate = if p.parse_keyword(Keyword::WHERE) {
        Some(p.parse_expr().map_err(syntax)?)
    } else {
        None
    };
    expect_end(p)?;
    Ok(CreateIndex {
        name: index,
        table,
        unique,
        if_not_exists,
        exprs,
        predicate,
    })
}

pub fn database_statement(mut p: Parser) -> Result<Statement> {
    let p = &mut p;
    let stmt = if eat_word(p, "USE") {
        Statement::Use { name: name(p)? }
    } else if eat_word(p, "CREATE") {
        expect_word(p, "DATABASE")?;
        let if_not_exists = if_not_exists(p);
        Statement::CreateDatabase {
            name: name(p)?,
            if_not_exists,
        }
    } else {
        expect_word(p, "DROP")?;
        expect_word(p, "DATABASE")?;
        let if_exists = if_exists(p);
        Statement::DropDatabase {
            name: name(p)?,
            if_exists,
        }
    };
    expect_end(p)?;
    Ok(stmt)
}

/// `PARTITION TABLE t ON COLUMN c` (`PARTITION PROCEDURE` is [`crate::proc_parser`]'s).
pub fn partition(mut p: Parser) -> Result<Statement> {
    let p = &mut p;
    expect_word(p, "PARTITION")?;
    expect_word(p, "TABLE")?;
    let table = table_name(p)?;
    expect_word(p, "ON")?;
    expect_word(p, "COLUMN")?;
    let column = name(p)?;
    expect_end(p)?;
    Ok(Statement::PartitionTable { table, column })
}

/// `DROP TABLE | INDEX | VIEW [IF EXISTS] name [IF EXISTS] [CASCADE]`.
pub fn drop(mut p: Parser) -> Result<Statement> {
    let p = &mut p;
    expect_word(p, "DROP")?;
    let kind = if eat_word(p, "TABLE") {
        DropKind::Table
    } else if eat_word(p, "INDEX") {
        DropKind::Index
    } else {
        expect_word(p, "VIEW")?;
        DropKind::View
    };
    let mut exists_clause = if_exists(p);
    let object = table_name(p)?;
    // VoltDB also accepts IF EXISTS after the name.
    exists_clause |= if_exists(p);
    let cascade = p.parse_keyword(Keyword::CASCADE);
    expect_end(p)?;
    Ok(Statement::Drop {
        kind,
        name: object,
        if_exists: exists_clause,
        cascade,
    })
}

pub fn truncate(mut p: Parser) -> Result<Statement> {
    let p = &mut p;
    expect_word(p, "TRUNCATE")?;
    eat_word(p, "TABLE");
    let table = table_name(p)?;
    expect_end(p)?;
    Ok(Statement::Truncate { table })
}

pub fn alter_table(mut p: Parser) -> Result<AlterTable> {
    let p = &mut p;
    expect_word(p, "ALTER")?;
    expect_word(p, "TABLE")?;
    let table = table_name(p)?;
    let action = if eat_word(p, "ADD") {
        let limit_name = named_row_limit(p)?;
        if p.parse_keyword(Keyword::LIMIT) {
            AlterAction::AddRowLimit {
                name: limit_name,
                rows: row_limit(p)?,
            }
        } else if let Some((cname, kind)) = key_kind(p)? {
            AlterAction::AddConstraint(ConstraintSpec {
                name: cname,
                kind,
                columns: column_list(p)?,
            })
        } else {
            eat_word(p, "COLUMN");
            let column = column_spec(p)?;
            let before = if eat_word(p, "BEFORE") { Some(name(p)?) } else { None };
            AlterAction::AddColumn { column, before }
        }
    } else if eat_word(p, "DROP") {
        if p.parse_keywords(&[Keyword::PRIMARY, Keyword::KEY]) {
            AlterAction::DropPrimaryKey
        } else if p.parse_keyword(Keyword::CONSTRAINT) {
            AlterAction::DropConstraint { name: name(p)? }
        } else if p.parse_keyword(Keyword::LIMIT) {
            expect_word(p, "PARTITION")?;
            expect_word(p, "ROWS")?;
            AlterAction::DropRowLimit
        } else {
            eat_word(p, "COLUMN");
            let column = name(p)?;
            AlterAction::DropColumn {
                name: column,
                cascade: p.parse_keyword(Keyword::CASCADE),
            }
        }
    } else if eat_word(p, "ALTER") {
        eat_word(p, "COLUMN");
        let column = name(p)?;
        if eat_word(p, "SET") {
            if p.parse_keyword(Keyword::DEFAULT) {
                let e = p.parse_expr().map_err(syntax)?;
                let default = if matches!(&e, ast::Expr::Value(v) if v.value == ast::Value::Null) {
                    None
                } else {
                    Some(e)
                };
                AlterAction::SetDefault { column, default }
            } else if p.parse_keywords(&[Keyword::NOT, Keyword::NULL]) {
                AlterAction::SetNullable {
                    column,
                    nullable: false,
                }
            } else if p.parse_keyword(Keyword::NULL) {
                AlterAction::SetNullable { column, nullable: true }
            } else {
                return Err(unexpected(p, "DEFAULT, NOT NULL or NULL"));
            }
        } else if p.parse_keywords(&[Keyword::DROP, Keyword::DEFAULT]) {
            AlterAction::SetDefault { column, default: None }
        } else {
            p.prev_token();
            let column = column_spec(p)?;
            AlterAction::AlterColumn {
                column,
                cascade: p.parse_keyword(Keyword::CASCADE),
            }
        }
    } else {
        return Err(unexpected(p, "ADD, DROP or ALTER"));
    };
    expect_end(p)?;
    Ok(AlterTable { table, action })
}
