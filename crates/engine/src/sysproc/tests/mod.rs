//! Tests of the system-procedure tables: a small schema run through the engine, then each
//! selector's columns (names, types, order) and rows checked against VoltDB's shapes.

mod catalog;
mod information;
mod keys;
mod statistics;

use std::sync::Arc;
use std::time::Duration;

use voltrs_sql::catalog::{Catalog, DEFAULT_DATABASE};
use voltrs_storage::text::render;
use voltrs_storage::{DataType, Value};

use super::{ClusterState, MemoryInfo, NodeInfo, ProcedureInfo};
use crate::{Config, Database, ResultTable};

/// A partitioned table with every column type, a replicated table, three views (partitioned,
/// partial, replicated) and plain, hash, unique and expression indexes.
pub(super) const SCHEMA: &str = "
CREATE TABLE votes (
  phone BIGINT NOT NULL,
  state VARCHAR(2) NOT NULL,
  contestant INTEGER DEFAULT 0 NOT NULL,
  note VARCHAR(10 BYTES) DEFAULT 'hi',
  created TIMESTAMP DEFAULT NOW,
  amount DECIMAL,
  blob VARBINARY(16),
  score FLOAT,
  tiny TINYINT,
  small SMALLINT,
  PRIMARY KEY (phone, contestant)
);
PARTITION TABLE votes ON COLUMN phone;
CREATE TABLE area (code SMALLINT NOT NULL PRIMARY KEY, state VARCHAR(2));
CREATE INDEX votes_hash_state ON votes (state);
CREATE UNIQUE INDEX votes_u ON votes (phone, note);
CREATE INDEX votes_expr ON votes (tiny + contestant);
CREATE VIEW v_by_phone (phone, n) AS SELECT phone, COUNT(*) FROM votes GROUP BY phone;
CREATE VIEW v_by_state (state, n) AS SELECT state, COUNT(*) FROM votes GROUP BY state;
CREATE VIEW v_area (state, n) AS SELECT state, COUNT(*) FROM area GROUP BY state;
";

/// The catalog after running `ddl` on a fresh database of `partitions` partitions.
pub(super) fn catalog_of(ddl: &str, partitions: usize) -> Arc<Catalog> {
    let db = Database::open(Config::with_partitions(partitions)).expect("test database opens");
    db.session().execute_sql(ddl).expect("test schema is valid");
    db.catalog()
}

pub(super) fn schema_catalog() -> Arc<Catalog> {
    catalog_of(SCHEMA, 4)
}

pub(super) const DB: &str = DEFAULT_DATABASE;

/// Column names and types of a table.
pub(super) fn shape(t: &ResultTable) -> Vec<(&str, DataType)> {
    t.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect()
}

/// The VARCHAR type of VoltDB's STRING result columns.
pub(super) const S: DataType = DataType::VARCHAR_MAX;

/// Asserts the column names and types, in order.
pub(super) fn assert_shape(t: &ResultTable, expected: &[(&str, DataType)]) {
    assert_eq!(shape(t), expected.to_vec());
    for row in &t.rows {
        assert_eq!(row.len(), expected.len(), "row width: {row:?}");
    }
}

/// One row as text, NULL as `NULL`, values joined by `|`.
pub(super) fn row_text(row: &[Value]) -> String {
    row.iter()
        .map(|v| render(v).unwrap_or_else(|| "NULL".into()))
        .collect::<Vec<_>>()
        .join("|")
}

/// The rows of the named columns as text.
pub(super) fn project(t: &ResultTable, names: &[&str]) -> Vec<String> {
    let idx: Vec<usize> = names
        .iter()
        .map(|n| {
            t.columns
                .iter()
                .position(|c| c.name == *n)
                .unwrap_or_else(|| panic!("no column {n}"))
        })
        .collect();
    t.rows
        .iter()
        .map(|r| row_text(&idx.iter().map(|&i| r[i].clone()).collect::<Vec<_>>()))
        .collect()
}

/// The single value of column `name` in the row whose column `key` reads `key_value`.
pub(super) fn lookup(t: &ResultTable, key: &str, key_value: &str, name: &str) -> Value {
    let k = t.columns.iter().position(|c| c.name == key).expect("key column");
    let n = t.columns.iter().position(|c| c.name == name).expect("value column");
    let hits: Vec<&Vec<Value>> = t
        .rows
        .iter()
        .filter(|r| render(&r[k]).as_deref() == Some(key_value))
        .collect();
    assert_eq!(hits.len(), 1, "{key} = {key_value}");
    hits[0][n].clone()
}

pub(super) fn node() -> NodeInfo {
    NodeInfo {
        host_id: 0,
        hostname: "db1".into(),
        ip_address: "10.0.0.5".into(),
        client_port: 21212,
        admin_port: 21211,
        http_port: 8080,
        pg_port: None,
        version: "14.1.0".into(),
        build: "voltrs-0.1.0".into(),
        start_time_ms: 1_700_000_000_123,
        uptime: Duration::from_millis(((2 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000 + 6),
        cluster_state: ClusterState::Running,
        sites: 4,
        partitions: 4,
        cpus: 8,
        data_dir: "/var/voltrs/".into(),
        command_log: "off".into(),
        memory: MemoryInfo {
            rss_bytes: 200 * 1024 * 1024,
            tuple_count: 42,
            tuple_data_bytes: 4096,
            tuple_allocated_bytes: 8192,
            string_bytes: 2048,
            index_bytes: 1024,
            physical_bytes: 16 * 1024 * 1024 * 1024,
        },
    }
}

/// A procedure with the given routing and parameters.
pub(super) fn proc(name: &str, sp: Option<(usize, DataType)>, params: &[(&str, DataType)]) -> ProcedureInfo {
    ProcedureInfo {
        name: name.into(),
        single_partition: sp.is_some(),
        partition_parameter: sp.map(|s| s.0),
        partition_parameter_type: sp.map(|s| s.1),
        read_only: false,
        params: params.iter().map(|&(n, t)| (n.to_string(), t)).collect(),
        default: false,
    }
}
