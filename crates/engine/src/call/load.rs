//! `@LoadSinglepartitionTable` / `@LoadMultipartitionTable`: a batch of rows inserted (or
//! upserted) in one transaction, VoltDB's bulk-load procedures.

use voltrs_sql::parser::parse_script;
use voltrs_sql::route::Route;
use voltrs_storage::{DataType, Value};

use super::{MAX_RESTARTS, Response};
use crate::session::Session;
use crate::txn::{AppStatus, Status};
use crate::work::{Planned, Work};
use crate::{Error, Outcome, ResultColumn, ResultTable};

impl Session {
    /// Inserts (or with `upsert`, upserts) `rows` into `table` in one transaction. With a
    /// partition key (the hashinator's bytes of a partitioning value) the transaction runs
    /// on that key's partition and every row must belong there; without one it runs on
    /// every partition. Answers one `modified_tuples` row, the number of rows written.
    pub fn load_table(
        &mut self,
        table: &str,
        partition_key: Option<&[u8]>,
        upsert: bool,
        rows: Vec<Vec<Value>>,
    ) -> Response {
        match self.load(table, partition_key, upsert, &rows) {
            Ok(r) => r,
            Err(e) => Response::failure(super::refusal_status(&e), e.to_string()),
        }
    }

    fn load(
        &mut self,
        table: &str,
        partition_key: Option<&[u8]>,
        upsert: bool,
        rows: &[Vec<Value>],
    ) -> Result<Response, Error> {
        let mut last = None;
        for _ in 0..MAX_RESTARTS {
            let catalog = self.db.shared.catalog();
            let def = catalog.database(&self.database)?.table(table)?.clone();
            if def.is_view() {
                return Err(Error::Invalid(format!(
                    "{} is a view: rows cannot be loaded into it",
                    def.name
                )));
            }
            let verb = if upsert { "UPSERT" } else { "INSERT" };
            let markers = vec!["?"; def.columns.len()].join(", ");
            let sql = format!("{verb} INTO {} VALUES ({markers})", def.name);
            let parsed = parse_script(&sql)?;
            let Some(stmt) = parsed.first() else {
                return Err(Error::Invalid(format!("internal: cannot plan {sql}")));
            };
            self.check_statement(&stmt.statement)?;
            let mut list = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                if row.len() != def.columns.len() {
                    return Err(Error::Invalid(format!(
                        "row {} has {} values but table {} has {} columns",
                        i + 1,
                        row.len(),
                        def.name,
                        def.columns.len()
                    )));
                }
                let (plan, values) = self
                    .prepare_statement(&catalog, &stmt.statement, stmt.params, true, row)
                    .map_err(|e| Error::Invalid(format!("row {}: {e}", i + 1)))?;
                list.push(Planned { plan, values });
            }
            let route = match partition_key {
                Some(key) if def.is_partitioned() => {
                    Route::Partition(self.db.shared.hashinator.partition_for_bytes(key) as usize)
                }
                _ => Route::Multi,
            };
            let work = Work::Statements {
                list,
                timeout: None,
                cancel: None,
                source: Some(std::sync::Arc::new(crate::work::Logged {
                    database: self.database.clone(),
                    command: crate::durability::record::Command::Load {
                        table: def.name.clone(),
                        upsert,
                        rows: rows.to_vec(),
                    },
                })),
            };
            if let Some(refused) = self.refuse_write(false) {
                return Ok(refused);
            }
            match self.run_work(route, catalog.version, work) {
                Err(a) if a.status == Status::TxnRestart => last = Some(a.error),
                Err(a) => return Ok(Response::failure(a.status, a.error.to_string())),
                Ok(c) => {
                    let written: u64 = c
                        .outcomes
                        .iter()
                        .map(|o| if let Outcome::Modified(n) = o { *n } else { 0 })
                        .sum();
                    return Ok(Response {
                        status: Status::Success,
                        status_string: None,
                        app_status: AppStatus::default(),
                        tables: vec![ResultTable {
                            columns: vec![ResultColumn {
                                name: "modified_tuples".into(),
                                ty: DataType::BigInt,
                            }],
                            rows: vec![vec![Value::Integer(written as i64)]],
                        }],
                    });
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Invalid("the load was restarted too often".into())))
    }
}
