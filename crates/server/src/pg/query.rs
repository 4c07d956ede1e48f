//! The simple query protocol: each statement of a query string runs as its own
//! transaction. Session statements drivers send (BEGIN, COMMIT, ROLLBACK, SET, SHOW, ...)
//! are answered here: VoltDB has no interactive transactions, so BEGIN and COMMIT are
//! accepted and do nothing (with a notice saying so), and ROLLBACK after a write in the
//! block is an error naming the statements that already committed.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt, stream};
use pgwire::api::portal::Format;
use pgwire::api::query::SimpleQueryHandler;
use pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::NoticeResponse;
use voltrs_engine::{Error, Outcome, ResultTable};

use super::values::{PgValue, pg_type};
use super::{PgConnection, catalog};

/// What `server_version` reports: PostgreSQL 15 for clients, then voltrs.
pub const SERVER_VERSION: &str = concat!("15.0 (voltrs ", env!("CARGO_PKG_VERSION"), ")");

/// The statements of the open BEGIN block that wrote.
#[derive(Default)]
pub struct Block {
    open: bool,
    writes: Vec<String>,
}

impl Block {
    /// Records a statement that wrote, if a block is open.
    pub fn note(&mut self, text: &str) {
        if self.open {
            self.writes.push(text.trim().to_string());
        }
    }
}

pub struct SimpleQuery(pub Arc<PgConnection>);

#[async_trait]
impl SimpleQueryHandler for SimpleQuery {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.0.cancel.reset();
        let mut out = Vec::new();
        for text in split_statements(query) {
            let (response, notice) = self.run(text).await;
            if let Some(n) = notice {
                client
                    .send(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
                        ErrorInfo::new("NOTICE".into(), "00000".into(), n),
                    )))
                    .await?;
            }
            let failed = matches!(response, Response::Error(_));
            out.push(response);
            if failed {
                break;
            }
        }
        Ok(out)
    }
}

impl SimpleQuery {
    /// Runs one statement: its response, and a notice to send before it.
    pub async fn run(&self, text: &str) -> (Response, Option<String>) {
        let conn = &self.0;
        let words: Vec<String> = text
            .split_whitespace()
            .take(2)
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let first = words.first().map(String::as_str).unwrap_or("");
        let mut block = conn.block.lock().unwrap_or_else(|e| e.into_inner());
        match first {
            "BEGIN" | "START" => {
                block.open = true;
                block.writes.clear();
                return (
                    Response::TransactionStart(Tag::new("BEGIN")),
                    Some(
                        "voltrs runs each statement as its own transaction: BEGIN is accepted and does nothing".into(),
                    ),
                );
            }
            "COMMIT" | "END" => {
                *block = Block::default();
                return (Response::TransactionEnd(Tag::new("COMMIT")), None);
            }
            "ROLLBACK" | "ABORT" => {
                let writes = std::mem::take(&mut *block).writes;
                if writes.is_empty() {
                    return (Response::TransactionEnd(Tag::new("ROLLBACK")), None);
                }
                let message = format!(
                    "ROLLBACK cannot undo statements that already committed (each statement is its own transaction): {}",
                    writes.join("; ")
                );
                return (error(ErrorInfo::new("ERROR".into(), "25000".into(), message)), None);
            }
            "SET" | "RESET" | "DISCARD" | "DEALLOCATE" | "LISTEN" | "UNLISTEN" => {
                return (Response::Execution(Tag::new(first)), None);
            }
            "SHOW" => return (show(words.get(1).map(String::as_str).unwrap_or("")), None),
            _ => {}
        }
        drop(block);
        // psql's backslash commands query pg_catalog, which voltrs answers from its catalog.
        let database = conn.session().database().to_string();
        if let Some(response) = catalog::answer(text, &conn.state.db.catalog(), &database) {
            return (response, None);
        }
        let session = conn.session.clone();
        let sql = text.to_string();
        let ran = tokio::task::spawn_blocking(move || {
            let mut s = session.lock().unwrap_or_else(|e| e.into_inner());
            s.execute_sql(&sql)
        })
        .await;
        let outcomes = match ran {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return (error(error_info(&e)), None),
            Err(e) => {
                return (
                    error(ErrorInfo::new(
                        "ERROR".into(),
                        "XX000".into(),
                        format!("internal error: {e}"),
                    )),
                    None,
                );
            }
        };
        let Some(outcome) = outcomes.into_iter().last() else {
            return (Response::EmptyQuery, None);
        };
        conn.note_write(first, &outcome, text);
        (respond(first, outcome, &Format::UnifiedText), None)
    }
}

fn error(info: ErrorInfo) -> Response {
    Response::Error(Box::new(info))
}

/// An engine error with the SQLSTATE of its kind.
pub fn error_info(e: &Error) -> ErrorInfo {
    let message = e.to_string();
    let code = match e {
        Error::Syntax { .. } => "42601",
        Error::Name(_) => "42704",
        Error::Type(_) => "42804",
        Error::Range(_) => "22003",
        Error::Constraint(m) if m.contains("NOT NULL") => "23502",
        Error::Constraint(m) if m.contains("duplicate") => "23505",
        Error::Constraint(_) => "23000",
        Error::Invalid(_) => "42000",
        Error::Unsupported(_) => "0A000",
        Error::Timeout(_) | Error::Cancelled => "57014",
        Error::Permission(_) => "42501",
    };
    ErrorInfo::new("ERROR".into(), code.into(), message)
}

/// The response to a statement's outcome, with PostgreSQL's command tags.
pub fn respond(first: &str, outcome: Outcome, format: &Format) -> Response {
    match outcome {
        Outcome::Rows(t) => rows_in(&t, format),
        Outcome::Modified(n) => {
            let n = n as usize;
            match first {
                "INSERT" | "UPSERT" => Response::Execution(Tag::new("INSERT").with_oid(0).with_rows(n)),
                "UPDATE" | "DELETE" => Response::Execution(Tag::new(first).with_rows(n)),
                _ => Response::Execution(Tag::new("INSERT").with_oid(0).with_rows(n)),
            }
        }
        Outcome::Done(tag) => Response::Execution(Tag::new(&tag)),
    }
}

/// The description of result columns, names folded to lower case.
pub fn fields(columns: &[voltrs_engine::ResultColumn], format: &Format) -> Vec<FieldInfo> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| FieldInfo::new(c.name.to_lowercase(), None, None, pg_type(c.ty), format.format_for(i)))
        .collect()
}

/// A result table in text format.
pub fn rows(t: &ResultTable) -> Response {
    rows_in(t, &Format::UnifiedText)
}

/// A result table, each column in the format the client asked for.
pub fn rows_in(t: &ResultTable, format: &Format) -> Response {
    query_response(Arc::new(fields(&t.columns, format)), &t.rows)
}

/// Rows encoded as `fields` describe them. A value that cannot be encoded ends the rows
/// with its error (the partial row is dropped).
pub fn query_response(fields: Arc<Vec<FieldInfo>>, rows: &[Vec<voltrs_storage::Value>]) -> Response {
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match row.iter().try_for_each(|v| encoder.encode_field(&PgValue(v))) {
            Ok(()) => out.push(Ok(encoder.take_row())),
            Err(e) => {
                out.push(Err(e));
                break;
            }
        }
    }
    Response::Query(QueryResponse::new(fields, stream::iter(out)))
}

/// `SHOW name` for the settings clients ask about.
fn show(name: &str) -> Response {
    let name = name.trim_end_matches(';').to_ascii_lowercase();
    let value = match name.as_str() {
        "server_version" => SERVER_VERSION,
        "server_encoding" | "client_encoding" => "UTF8",
        "datestyle" => "ISO, MDY",
        "timezone" => "UTC",
        "transaction_isolation" | "default_transaction_isolation" => "serializable",
        "standard_conforming_strings" | "integer_datetimes" => "on",
        "search_path" => "public",
        "max_identifier_length" => "63",
        _ => {
            return error(ErrorInfo::new(
                "ERROR".into(),
                "42704".into(),
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        }
    };
    let table = ResultTable {
        columns: vec![voltrs_engine::ResultColumn {
            name: name.clone(),
            ty: voltrs_storage::DataType::VARCHAR_MAX,
        }],
        rows: vec![vec![voltrs_storage::Value::str(value)]],
    };
    rows(&table)
}

/// Splits a query string into statements at `;`, outside quotes, comments, `$$` bodies
/// and `BEGIN ... END` procedure bodies (where a `CASE ... END` does not close the body,
/// as in the engine's own splitter, `voltrs_sql`'s `BlockTracker`).
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut depth = 0usize; // BEGIN ... END nesting inside CREATE PROCEDURE
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let q = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'$' if bytes.get(i + 1) == Some(&b'$') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'$' && bytes[i + 1] == b'$') {
                    i += 1;
                }
                i += 1;
            }
            b';' if depth == 0 => {
                let piece = &sql[start..i];
                if !piece.trim().is_empty() {
                    out.push(piece);
                }
                start = i + 1;
            }
            c if c.is_ascii_alphabetic() && (i == 0 || !is_word(bytes[i - 1])) => {
                let end = (i..bytes.len()).find(|&j| !is_word(bytes[j])).unwrap_or(bytes.len());
                let word = &sql[i..end];
                let statement_so_far = sql[start..i].trim_start().to_ascii_uppercase();
                if word.eq_ignore_ascii_case("BEGIN") && statement_so_far.starts_with("CREATE") {
                    depth += 1;
                } else if word.eq_ignore_ascii_case("CASE") && depth > 0 {
                    // CASE ... END inside the block: its END does not close the block.
                    depth += 1;
                } else if word.eq_ignore_ascii_case("END") && depth > 0 {
                    depth -= 1;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let rest = &sql[start.min(sql.len())..];
    if !rest.trim().is_empty() {
        out.push(rest);
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_outside_quotes_comments_and_bodies() {
        assert_eq!(
            split_statements("SELECT 1; SELECT 'a;b';"),
            vec!["SELECT 1", " SELECT 'a;b'"]
        );
        assert_eq!(
            split_statements("BEGIN; INSERT INTO t VALUES (1); COMMIT"),
            vec!["BEGIN", " INSERT INTO t VALUES (1)", " COMMIT"]
        );
        let proc = "CREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 2; END; SELECT 3";
        assert_eq!(
            split_statements(proc),
            vec!["CREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 2; END", " SELECT 3"]
        );
        let case = "CREATE PROCEDURE c AS BEGIN SELECT CASE WHEN a < 0 THEN 'n' ELSE 'p' END FROM t; \
                    SELECT CASE a WHEN 1 THEN CASE WHEN b THEN 1 END END FROM t; END; SELECT 6";
        assert_eq!(split_statements(case).len(), 2, "{:?}", split_statements(case));
        assert_eq!(split_statements("SELECT CASE WHEN a THEN 1 END; SELECT 7").len(), 2);
        let lua = "CREATE PROCEDURE q LANGUAGE LUA AS $$ function run() end; $$; SELECT 4";
        assert_eq!(split_statements(lua).len(), 2);
        assert_eq!(
            split_statements("-- a; comment\nSELECT 5 /* ; */"),
            vec!["-- a; comment\nSELECT 5 /* ; */"]
        );
        assert!(split_statements(" ; ;").is_empty());
    }
}
