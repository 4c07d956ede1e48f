//! `@Statistics(selector, delta)`: PROCEDURE, TABLE, MEMORY, PARTITIONCOUNT and TOPO.
//!
//! Sources (VoltDB, 2022): the common leading columns `TIMESTAMP BIGINT, HOST_ID INTEGER,
//! HOSTNAME STRING` from `StatsSource.StatsCommon`, `SITE_ID INTEGER` from
//! `SiteStatsSource`; each selector's remaining columns from the regression suite's expected
//! schemas (`tests/frontend/org/voltdb/regressionsuites/statistics/*`:
//! `testProcedureStatistics` with TRANSACTIONAL and COMPOUND, `testTableStatistics`,
//! `testMemoryStatistics`, `testPartitionCount`, `testTopoStatistics`), cross-checked with
//! `ProcedureStatsCollector.java`, `MemoryStats.java` and the engine's
//! `src/ee/storage/TableStats.cpp`. Memory figures are KiB, as VoltDB reports them.
//!
//! The delta flag is the engine's business (it decides which counters to pass in).

use voltrs_storage::{DataType, Value};
use voltrs_wire::Hashinator;

use super::{
    MP_PARTITION, NodeInfo, ProcedureStatRow, STRING, TableStatRow, columns, count, int, kib, match_selector, site_id,
    text,
};
use crate::{Error, ResultTable};

/// The selectors voltrs answers.
pub const SELECTORS: &[&str] = &["PROCEDURE", "TABLE", "MEMORY", "PARTITIONCOUNT", "TOPO"];

/// What `@Statistics` reports on: this node, its ring and its counters at `now_ms`.
#[derive(Debug, Clone, Copy)]
pub struct StatsInputs<'a> {
    /// Milliseconds since the Unix epoch (every row's TIMESTAMP).
    pub now_ms: i64,
    pub node: &'a NodeInfo,
    /// The ring the node routes with; TOPO publishes it, and its partition count is the one
    /// TOPO and PARTITIONCOUNT report, so clients hash with what the server routes with.
    pub hashinator: &'a Hashinator,
    pub procedures: &'a [ProcedureStatRow],
    pub tables: &'a [TableStatRow],
}

/// Answers `@Statistics(selector)`: one table, or two for TOPO.
pub fn statistics(selector: &str, inputs: &StatsInputs) -> Result<Vec<ResultTable>, Error> {
    Ok(match match_selector("@Statistics", selector, SELECTORS)? {
        "PROCEDURE" => vec![procedure(inputs)],
        "TABLE" => vec![table(inputs)],
        "MEMORY" => vec![memory(inputs)],
        "PARTITIONCOUNT" => vec![partition_count(inputs)],
        _ => topo(inputs).to_vec(),
    })
}

/// `TIMESTAMP, HOST_ID, HOSTNAME` (+ `SITE_ID`) column specs.
fn common(site: bool) -> Vec<(&'static str, DataType)> {
    let mut spec = vec![
        ("TIMESTAMP", DataType::BigInt),
        ("HOST_ID", DataType::Integer),
        ("HOSTNAME", STRING),
    ];
    if site {
        spec.push(("SITE_ID", DataType::Integer));
    }
    spec
}

/// The leading values matching [`common`].
fn common_values(inputs: &StatsInputs, site: Option<i32>) -> Vec<Value> {
    let mut row = vec![
        int(inputs.now_ms),
        int(inputs.node.host_id),
        text(&inputs.node.hostname),
    ];
    if let Some(site) = site {
        row.push(int(site));
    }
    row
}

fn table_of(mut spec: Vec<(&'static str, DataType)>, rest: &[(&'static str, DataType)]) -> ResultTable {
    spec.extend_from_slice(rest);
    ResultTable {
        columns: columns(&spec),
        rows: Vec::new(),
    }
}

/// `PROCEDURE`: one row per procedure and partition that ran it at least once (VoltDB's
/// collector skips idle ones), by procedure name then partition.
fn procedure(inputs: &StatsInputs) -> ResultTable {
    let mut out = table_of(
        common(true),
        &[
            ("PARTITION_ID", DataType::Integer),
            ("PROCEDURE", STRING),
            ("INVOCATIONS", DataType::BigInt),
            ("TIMED_INVOCATIONS", DataType::BigInt),
            ("MIN_EXECUTION_TIME", DataType::BigInt),
            ("MAX_EXECUTION_TIME", DataType::BigInt),
            ("AVG_EXECUTION_TIME", DataType::BigInt),
            ("MIN_RESULT_SIZE", DataType::Integer),
            ("MAX_RESULT_SIZE", DataType::Integer),
            ("AVG_RESULT_SIZE", DataType::Integer),
            ("MIN_PARAMETER_SET_SIZE", DataType::Integer),
            ("MAX_PARAMETER_SET_SIZE", DataType::Integer),
            ("AVG_PARAMETER_SET_SIZE", DataType::Integer),
            ("ABORTS", DataType::BigInt),
            ("FAILURES", DataType::BigInt),
            ("TRANSACTIONAL", DataType::TinyInt),
            ("COMPOUND", DataType::TinyInt),
        ],
    );
    let mut rows: Vec<&ProcedureStatRow> = inputs.procedures.iter().filter(|r| r.invocations > 0).collect();
    rows.sort_by(|a, b| a.procedure.cmp(&b.procedure).then(a.partition_id.cmp(&b.partition_id)));
    for r in rows {
        let mut row = common_values(inputs, Some(site_id(inputs.node, r.partition_id)));
        row.extend([
            int(r.partition_id),
            text(&r.procedure),
            count(r.invocations),
            count(r.timed_invocations),
            count(r.min_ns),
            count(r.max_ns),
            count(r.avg_ns),
            int(r.min_result_bytes),
            int(r.max_result_bytes),
            int(r.avg_result_bytes),
            int(r.min_param_bytes),
            int(r.max_param_bytes),
            int(r.avg_param_bytes),
            count(r.aborts),
            count(r.failures),
            int(i64::from(r.transactional)),
            int(i64::from(r.compound)),
        ]);
        out.rows.push(row);
    }
    out
}

/// `TABLE`: one row per table (views included) and partition, by partition then table.
/// PARTITION_ID is BIGINT here (the engine's stats schema). TUPLE_LIMIT and PERCENT_FULL
/// are NULL without a `LIMIT PARTITION ROWS` (VoltDB 10+ always leaves them NULL; earlier
/// versions filled them from the limit, as here). DR and EXPORT are `false`.
fn table(inputs: &StatsInputs) -> ResultTable {
    let mut out = table_of(
        common(true),
        &[
            ("PARTITION_ID", DataType::BigInt),
            ("TABLE_NAME", STRING),
            ("TABLE_TYPE", STRING),
            ("TUPLE_COUNT", DataType::BigInt),
            ("TUPLE_ALLOCATED_MEMORY", DataType::BigInt),
            ("TUPLE_DATA_MEMORY", DataType::BigInt),
            ("STRING_DATA_MEMORY", DataType::BigInt),
            ("TUPLE_LIMIT", DataType::Integer),
            ("PERCENT_FULL", DataType::Integer),
            ("DR", STRING),
            ("EXPORT", STRING),
        ],
    );
    let mut rows: Vec<&TableStatRow> = inputs.tables.iter().collect();
    rows.sort_by(|a, b| (a.partition_id, &a.database, &a.table).cmp(&(b.partition_id, &b.database, &b.table)));
    for r in rows {
        // TUPLE_LIMIT is an INTEGER; a limit beyond it reads as the largest INTEGER.
        let limit = r.row_limit.map(|l| l.min(i32::MAX as u64));
        // An empty limit is full.
        let percent = limit.map(|l| r.rows.saturating_mul(100).checked_div(l).unwrap_or(100));
        let mut row = common_values(inputs, Some(site_id(inputs.node, r.partition_id)));
        row.extend([
            int(r.partition_id),
            text(&r.table),
            text(&r.table_type),
            count(r.rows),
            kib(r.allocated_bytes),
            kib(r.data_bytes),
            kib(r.string_bytes),
            limit.map_or(Value::Null, count),
            percent.map_or(Value::Null, count),
            text("false"),
            text("false"),
        ]);
        out.rows.push(row);
    }
    out
}

/// `MEMORY`: one row for the node. The JAVA* columns are 0 (no JVM); POOLEDMEMORY is 0.
fn memory(inputs: &StatsInputs) -> ResultTable {
    let mut out = table_of(
        common(false),
        &[
            ("RSS", DataType::Integer),
            ("JAVAUSED", DataType::Integer),
            ("JAVAUNUSED", DataType::Integer),
            ("TUPLEDATA", DataType::BigInt),
            ("TUPLEALLOCATED", DataType::BigInt),
            ("INDEXMEMORY", DataType::BigInt),
            ("STRINGMEMORY", DataType::BigInt),
            ("TUPLECOUNT", DataType::BigInt),
            ("POOLEDMEMORY", DataType::BigInt),
            ("PHYSICALMEMORY", DataType::BigInt),
            ("JAVAMAXHEAP", DataType::Integer),
        ],
    );
    let m = &inputs.node.memory;
    let rss_kib = i64::try_from(m.rss_bytes / 1024)
        .unwrap_or(i64::MAX)
        .min(i64::from(i32::MAX));
    let mut row = common_values(inputs, None);
    row.extend([
        int(rss_kib),
        int(0),
        int(0),
        kib(m.tuple_data_bytes),
        kib(m.tuple_allocated_bytes),
        kib(m.index_bytes),
        kib(m.string_bytes),
        count(m.tuple_count),
        int(0),
        kib(m.physical_bytes),
        int(0),
    ]);
    out.rows.push(row);
    out
}

/// `PARTITIONCOUNT`: one row, the number of partitions on the ring.
fn partition_count(inputs: &StatsInputs) -> ResultTable {
    let mut out = table_of(common(false), &[("PARTITION_COUNT", DataType::Integer)]);
    let mut row = common_values(inputs, None);
    row.push(int(inputs.hashinator.partition_count()));
    out.rows.push(row);
    out
}

/// `TOPO`: (1) `Partition INTEGER, Sites STRING, Leader STRING`, one row per partition and
/// one for the multi-partition initiator ([`MP_PARTITION`]), sites written `host:site`;
/// (2) `HASHTYPE STRING, HASHCONFIG VARBINARY`: `ELASTIC` and the raw ring
/// ([`Hashinator::config_bytes`]). With the ring clients route single-partition calls to
/// the partition's leader host.
fn topo(inputs: &StatsInputs) -> [ResultTable; 2] {
    let host = inputs.node.host_id;
    let partitions = i32::try_from(inputs.hashinator.partition_count()).unwrap_or(i32::MAX);
    let mut sites = ResultTable {
        columns: columns(&[("Partition", DataType::Integer), ("Sites", STRING), ("Leader", STRING)]),
        rows: Vec::new(),
    };
    for partition in (0..partitions).chain([MP_PARTITION]) {
        let leader = format!("{host}:{}", site_id(inputs.node, partition));
        sites.rows.push(vec![int(partition), text(&leader), text(&leader)]);
    }
    let ring = ResultTable {
        columns: columns(&[("HASHTYPE", STRING), ("HASHCONFIG", DataType::VARBINARY_MAX)]),
        rows: vec![vec![text("ELASTIC"), Value::bytes(&inputs.hashinator.config_bytes())]],
    };
    [sites, ring]
}
