//! System procedures: `@AdHoc`, `@Ping`, `@SystemInformation`, `@SystemCatalog`,
//! `@Statistics`, `@Explain`, `@ExplainProc`, `@GetPartitionKeys`, `@Pause`, `@Resume`,
//! `@Shutdown`. Result shapes come from [`crate::sysproc`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use voltrs_sql::catalog::Catalog;
use voltrs_sql::parser::parse_script;
use voltrs_sql::route::Route;
use voltrs_storage::{DataType, Value};

use super::Response;
use crate::session::Session;
use crate::sysproc::{self, ClusterState, NodeInfo, ProcedureInfo, ProcedureStatRow, StatsInputs, TableStatRow};
use crate::txn::{AppStatus, Status};
use crate::work::Work;
use crate::{Error, Outcome, ResultColumn, ResultTable};

pub(super) fn call(session: &mut Session, name: &str, params: &[Value]) -> Response {
    if let Some(p) = &session.permissions
        && let Err(e) = p.check_system(name)
    {
        return Response::failure(super::refusal_status(&e), e.to_string());
    }
    let r = match name.to_lowercase().as_str() {
        "adhoc" => return super::adhoc::call(session, params),
        "ping" => Ok(Vec::new()),
        "systeminformation" => text_arg(params, 0, "OVERVIEW")
            .and_then(|sel| sysproc::system_information(&sel, &node_info(session)))
            .map(|t| vec![t]),
        "systemcatalog" => text_arg(params, 0, "").and_then(|sel| {
            let catalog = session.db.shared.catalog();
            let procs = procedure_infos(session, &catalog);
            sysproc::system_catalog(&sel, &catalog, &session.database, &procs).map(|t| vec![t])
        }),
        "statistics" => text_arg(params, 0, "").and_then(|sel| statistics(session, &sel)),
        "explain" => text_arg(params, 0, "").and_then(|sql| explain(session, &sql)),
        "explainproc" => text_arg(params, 0, "").and_then(|p| explain_proc(session, &p)),
        "getpartitionkeys" => text_arg(params, 0, "INTEGER")
            .and_then(|ty| sysproc::partition_keys(&ty, &session.db.shared.hashinator))
            .map(|t| vec![t]),
        "pause" => {
            session.db.shared.set_paused(true);
            Ok(vec![status_table()])
        }
        "resume" => {
            session.db.shared.set_paused(false);
            Ok(vec![status_table()])
        }
        "snapshotsave" => super::snapshot::save(session, params),
        "snapshotscan" => super::snapshot::scan(session, params),
        "snapshotdelete" => super::snapshot::delete(session, params),
        "snapshotrestore" => super::snapshot::restore_call(session, params),
        "shutdown" => {
            session.db.shared.request_shutdown();
            Ok(Vec::new())
        }
        _ => Err(Error::Name(format!("Procedure @{name} was not found"))),
    };
    match r {
        Ok(tables) => Response {
            status: Status::Success,
            status_string: None,
            app_status: AppStatus::default(),
            tables,
        },
        Err(e) => Response::failure(super::refusal_status(&e), e.to_string()),
    }
}

/// Parameter `i` as text (`default` when absent and a default exists).
fn text_arg(params: &[Value], i: usize, default: &str) -> Result<String, Error> {
    match params.get(i) {
        Some(Value::Varchar(s)) => Ok(s.to_string()),
        Some(v) if !v.is_null() => Ok(voltrs_storage::text::render(v).unwrap_or_default()),
        _ if !default.is_empty() => Ok(default.to_string()),
        _ => Err(Error::Invalid(format!("parameter {} (a string) is missing", i + 1))),
    }
}

/// VoltDB's one-row `STATUS BIGINT` result of @Pause / @Resume.
fn status_table() -> ResultTable {
    ResultTable {
        columns: vec![ResultColumn {
            name: "STATUS".into(),
            ty: DataType::BigInt,
        }],
        rows: vec![vec![Value::Integer(0)]],
    }
}

/// Every stored and default procedure of the session's database, for @SystemCatalog.
fn procedure_infos(session: &Session, catalog: &Catalog) -> Vec<ProcedureInfo> {
    let Ok(ns) = catalog.database(&session.database) else {
        return Vec::new();
    };
    let mut defs: Vec<Arc<voltrs_sql::procedures::ProcedureDef>> = ns.procedures.values().cloned().collect();
    for t in ns.tables.values() {
        for name in crate::procedure::defaults::default_names(t) {
            if let Ok(def) = session.resolve(catalog, &name) {
                defs.push(def);
            }
        }
    }
    defs.iter()
        .map(|d| {
            let column_type = d.partition.as_ref().and_then(|p| {
                let t = ns.tables.get(&p.table)?;
                t.columns.iter().find(|c| c.name == p.column).map(|c| c.ty)
            });
            ProcedureInfo {
                name: d.name.clone(),
                single_partition: d.partition.is_some(),
                partition_parameter: d.partition.as_ref().map(|p| p.parameter),
                partition_parameter_type: column_type,
                read_only: d.read_only,
                params: d.params.clone(),
                default: matches!(d.body, voltrs_sql::procedures::ProcSource::Default),
            }
        })
        .collect()
}

/// What this node reports about itself.
fn node_info(session: &Session) -> NodeInfo {
    let shared = &session.db.shared;
    let mut node = shared.node_info();
    node.cluster_state = if shared.paused() {
        ClusterState::Paused
    } else {
        ClusterState::Running
    };
    node.memory.rss_bytes = crate::memory::resident_bytes().unwrap_or(0);
    node
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn statistics(session: &mut Session, selector: &str) -> Result<Vec<ResultTable>, Error> {
    if selector.eq_ignore_ascii_case("COMMANDLOG") {
        return Ok(vec![super::snapshot::command_log_stats(session)]);
    }
    let shared = session.db.shared.clone();
    let mut node = node_info(session);
    let procedures: Vec<ProcedureStatRow> = shared
        .procedure_stats
        .snapshot()
        .into_iter()
        .map(|(slot, name, c)| ProcedureStatRow {
            partition_id: if slot >= shared.partition_count() {
                sysproc::MP_PARTITION
            } else {
                slot as i32
            },
            procedure: name,
            invocations: c.invocations,
            timed_invocations: c.invocations,
            min_ns: c.min_ns,
            max_ns: c.max_ns,
            avg_ns: c.total_ns.checked_div(c.invocations).unwrap_or(0),
            aborts: c.aborts,
            failures: c.failures,
            ..ProcedureStatRow::default()
        })
        .collect();
    let needs_tables = matches!(selector.trim().to_uppercase().as_str(), "TABLE" | "MEMORY");
    let tables = if needs_tables {
        table_stats(session)?
    } else {
        Vec::new()
    };
    node.memory.tuple_count = tables.iter().map(|t| t.rows).sum();
    node.memory.tuple_data_bytes = tables.iter().map(|t| t.data_bytes).sum();
    node.memory.tuple_allocated_bytes = tables.iter().map(|t| t.allocated_bytes).sum();
    let inputs = StatsInputs {
        now_ms: now_ms(),
        node: &node,
        hashinator: &shared.hashinator,
        procedures: &procedures,
        tables: &tables,
    };
    sysproc::statistics(selector, &inputs)
}

/// Per-partition rows and bytes of every table, read in one MP transaction.
fn table_stats(session: &Session) -> Result<Vec<TableStatRow>, Error> {
    let catalog = session.db.shared.catalog();
    let r = session
        .run_work(Route::Multi, catalog.version, Work::StorageStats)
        .map_err(|a| a.error)?;
    let stored = crate::work::stored_tables(&r);
    let mut out = Vec::new();
    for (db, ns) in &catalog.databases {
        for def in ns.tables.values() {
            for row in stored.iter().filter(|s| s.table == def.id) {
                let table_type = if def.is_view() {
                    "MaterializedView"
                } else if def.is_partitioned() {
                    "PersistentTable"
                } else {
                    "ReplicatedTable"
                };
                out.push(TableStatRow {
                    partition_id: row.partition as i32,
                    database: db.clone(),
                    table: def.name.clone(),
                    table_type: table_type.into(),
                    rows: row.rows as u64,
                    allocated_bytes: row.arena_bytes as u64,
                    data_bytes: row.arena_bytes as u64,
                    string_bytes: 0,
                    row_limit: def.row_limit,
                });
            }
        }
    }
    Ok(out)
}

/// `@Explain(sql)`: one EXECUTION_PLAN table per statement.
fn explain(session: &mut Session, sql: &str) -> Result<Vec<ResultTable>, Error> {
    let mut out = Vec::new();
    for s in parse_script(sql)? {
        let text = format!("EXPLAIN {}", s.text);
        match session.execute_sql(&text)?.into_iter().next() {
            Some(Outcome::Rows(t)) => out.push(t),
            _ => return Err(Error::Invalid(format!("\"{}\" has no plan to explain", s.text))),
        }
    }
    Ok(out)
}

/// `@ExplainProc(name)`: one row per statement: SQL_STATEMENT, EXECUTION_PLAN.
fn explain_proc(session: &mut Session, name: &str) -> Result<Vec<ResultTable>, Error> {
    let catalog = session.db.shared.catalog();
    let def = session.resolve(&catalog, name)?;
    let mut rows = Vec::new();
    for s in &def.statements {
        let lines = match &s.plan.bound {
            voltrs_sql::binder::Bound::Query { plan, .. } => voltrs_sql::planner::explain(Some(plan), None),
            voltrs_sql::binder::Bound::Write(w) => voltrs_sql::planner::explain(None, Some(w)),
        };
        rows.push(vec![Value::str(&s.text), Value::str(&lines.join("\n"))]);
    }
    Ok(vec![ResultTable {
        columns: vec![
            ResultColumn {
                name: "SQL_STATEMENT".into(),
                ty: DataType::VARCHAR_MAX,
            },
            ResultColumn {
                name: "EXECUTION_PLAN".into(),
                ty: DataType::VARCHAR_MAX,
            },
        ],
        rows,
    }])
}
