//! The extended query protocol (Parse / Bind / Describe / Execute), what PostgreSQL
//! drivers use for queries with parameters. Queries and DML are prepared by the engine at
//! Parse, which gives their parameter types and result columns for Describe; Execute binds
//! the parameters (text or binary) and runs the statement as its own transaction. Other
//! statements (DDL, BEGIN, SET, EXEC, ...) take no parameters and run as in the simple
//! protocol.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::NoticeResponse;
use voltrs_engine::{PreparedStatement, ResultColumn};
use voltrs_storage::{DataType, Value};

use super::PgConnection;
use super::query::{SimpleQuery, error_info, fields, respond};
use super::values::{decode_param, pg_type};

/// A parsed statement of the extended protocol.
#[derive(Clone, Debug)]
pub enum PgStatement {
    /// A query or DML, prepared by the engine.
    Prepared {
        text: String,
        first: String,
        stmt: Arc<PreparedStatement>,
    },
    /// Anything else: no parameters, run as in the simple protocol.
    Plain { text: String },
}

/// The statement's first keyword, upper-cased.
fn first_word(text: &str) -> String {
    text.split_whitespace().next().unwrap_or("").to_ascii_uppercase()
}

fn user_error(info: ErrorInfo) -> PgWireError {
    PgWireError::UserError(Box::new(info))
}

pub struct Parser(Arc<PgConnection>);

#[async_trait]
impl QueryParser for Parser {
    type Statement = PgStatement;

    async fn parse_sql<C>(&self, _client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<PgStatement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let text = sql.trim().trim_end_matches(';').trim_end().to_string();
        let first = first_word(&text);
        if !matches!(
            first.as_str(),
            "SELECT" | "INSERT" | "UPSERT" | "UPDATE" | "DELETE" | "WITH"
        ) {
            return Ok(Some(PgStatement::Plain { text }));
        }
        let stmt = self
            .0
            .session()
            .prepare(&text)
            .map_err(|e| user_error(error_info(&e)))?;
        Ok(Some(PgStatement::Prepared {
            text,
            first,
            stmt: Arc::new(stmt),
        }))
    }

    fn get_parameter_types(&self, stmt: &PgStatement) -> PgWireResult<Vec<Type>> {
        Ok(match stmt {
            PgStatement::Prepared { stmt, .. } => stmt.param_types().iter().map(|t| pg_type(*t)).collect(),
            PgStatement::Plain { .. } => Vec::new(),
        })
    }

    fn get_result_schema(&self, stmt: &PgStatement, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        let format = format.unwrap_or(&Format::UnifiedText);
        Ok(match stmt {
            PgStatement::Prepared { stmt, .. } => fields(stmt.columns(), format),
            PgStatement::Plain { text } if first_word(text) == "SHOW" => {
                let name = text.split_whitespace().nth(1).unwrap_or("").to_ascii_lowercase();
                fields(
                    &[ResultColumn {
                        name,
                        ty: DataType::VARCHAR_MAX,
                    }],
                    format,
                )
            }
            // EXPLAIN answers one VARCHAR column (the engine's `EXECUTION_PLAN`).
            PgStatement::Plain { text } if first_word(text) == "EXPLAIN" => fields(
                &[ResultColumn {
                    name: "EXECUTION_PLAN".into(),
                    ty: DataType::VARCHAR_MAX,
                }],
                format,
            ),
            // EXEC / CALL answer rows whose columns only running the procedure tells, so
            // they are described as returning none (docs/POSTGRES.md, "Not yet").
            PgStatement::Plain { .. } => Vec::new(),
        })
    }
}

pub struct Extended {
    conn: Arc<PgConnection>,
    parser: Arc<Parser>,
}

impl Extended {
    pub fn new(conn: Arc<PgConnection>) -> Extended {
        Extended {
            parser: Arc::new(Parser(conn.clone())),
            conn,
        }
    }
}

/// The portal's parameters as values, each decoded as the client's type for it or, when
/// the client left it open, as the type voltrs described.
fn bind(portal: &Portal<PgStatement>, server: &[DataType]) -> PgWireResult<Vec<Value>> {
    let client_types = &portal.statement.parameter_types;
    portal
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let Some(bytes) = p else {
                return Ok(Value::Null);
            };
            let ty = client_types
                .get(i)
                .cloned()
                .flatten()
                .filter(|t| *t != Type::UNKNOWN || server.get(i).is_none())
                .or_else(|| server.get(i).map(|t| pg_type(*t)))
                .unwrap_or(Type::UNKNOWN);
            decode_param(&ty, bytes, portal.parameter_format.is_binary(i)).map_err(|m| {
                user_error(ErrorInfo::new(
                    "ERROR".into(),
                    "22P02".into(),
                    format!("parameter ${}: {m}", i + 1),
                ))
            })
        })
        .collect()
}

#[async_trait]
impl ExtendedQueryHandler for Extended {
    type Statement = PgStatement;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<PgStatement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.conn.cancel.reset();
        match &portal.statement.statement {
            PgStatement::Plain { text } => {
                let (response, notice) = SimpleQuery(self.conn.clone()).run(text).await;
                if let Some(n) = notice {
                    client
                        .send(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
                            ErrorInfo::new("NOTICE".into(), "00000".into(), n),
                        )))
                        .await?;
                }
                match response {
                    Response::Error(e) => Err(PgWireError::UserError(e)),
                    r => Ok(r),
                }
            }
            PgStatement::Prepared { text, first, stmt } => {
                let values = bind(portal, stmt.param_types())?;
                // The engine answers on a site thread; no blocking thread waits for it.
                let (tx, rx) = tokio::sync::oneshot::channel();
                self.conn.session().execute_prepared_async(stmt, &values, move |r| {
                    let _ = tx.send(r);
                });
                let outcome = match rx.await {
                    Ok(Ok(o)) => o,
                    Ok(Err(e)) => return Err(user_error(error_info(&e))),
                    Err(_) => {
                        return Err(user_error(ErrorInfo::new(
                            "ERROR".into(),
                            "57P01".into(),
                            "the database is shutting down".into(),
                        )));
                    }
                };
                self.conn.note_write(first, &outcome, text);
                Ok(respond(first, outcome, &portal.result_column_format))
            }
        }
    }
}
