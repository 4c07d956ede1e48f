//! `/metrics`: the Prometheus text exposition format (version 0.0.4), rendered by hand.
//!
//! | Metric | Type | Labels |
//! |--------|------|--------|
//! | `voltrs_procedure_invocations_total` | counter | `procedure` |
//! | `voltrs_procedure_aborts_total` | counter | `procedure` |
//! | `voltrs_procedure_failures_total` | counter | `procedure` |
//! | `voltrs_procedure_latency_seconds` | histogram (`_bucket`, `_sum`, `_count`) | `procedure`, `le` |
//! | `voltrs_table_rows` | gauge | `database`, `table` |
//! | `voltrs_table_memory_bytes` | gauge | `database`, `table` |
//! | `voltrs_partition_queue_depth` | gauge | `partition` |
//! | `voltrs_partitions` | gauge | |
//! | `voltrs_client_connections` | gauge | |
//! | `process_resident_memory_bytes` | gauge | |
//! | `process_start_time_seconds` | gauge | |
//!
//! A scrape reads the procedure counters and queue depths without stopping anything; the
//! table figures come from one read-only multi-partition transaction (counted as an
//! `@Statistics` invocation), so a scrape waits for the transactions queued before it.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use voltrs_engine::{LATENCY_BUCKETS_NS, ProcedureMetrics, TableStats};

use crate::ServerState;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family with one sample per item: its name, its help text and the item's value.
type Family<T, N> = (&'static str, &'static str, fn(&T) -> N);

/// Everything one scrape reports.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub procedures: Vec<ProcedureMetrics>,
    pub tables: Vec<TableStats>,
    pub queue_depths: Vec<usize>,
    pub resident_bytes: Option<u64>,
    pub start_time_ms: i64,
    pub connections: usize,
}

impl Snapshot {
    /// Reads the figures (blocking: the table figures are a transaction).
    pub fn take(state: &ServerState) -> Snapshot {
        Snapshot {
            procedures: state.db.procedure_metrics(),
            tables: state.db.storage_stats(),
            queue_depths: state.db.queue_depths(),
            resident_bytes: voltrs_engine::resident_memory_bytes(),
            start_time_ms: state.started_ms,
            connections: state.connections.load(Ordering::Relaxed),
        }
    }
}

/// Answers `GET /metrics`.
pub async fn handle(State(state): State<Arc<ServerState>>) -> Response {
    match tokio::task::spawn_blocking(move || render(&Snapshot::take(&state))).await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "reading the metrics failed\n").into_response(),
    }
}

/// The exposition text of a snapshot.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::with_capacity(4096 + s.procedures.len() * 2048);
    let counters: [Family<ProcedureMetrics, u64>; 3] = [
        (
            "voltrs_procedure_invocations_total",
            "Completed invocations of each procedure, over all partitions.",
            |p| p.invocations,
        ),
        (
            "voltrs_procedure_aborts_total",
            "Invocations that the procedure aborted (user aborts).",
            |p| p.aborts,
        ),
        (
            "voltrs_procedure_failures_total",
            "Invocations that failed (SQL, constraint or unexpected errors).",
            |p| p.failures,
        ),
    ];
    for (name, help, get) in counters {
        family(&mut out, name, "counter", help);
        for p in &s.procedures {
            let _ = writeln!(out, "{name}{{procedure=\"{}\"}} {}", label(&p.procedure), get(p));
        }
    }

    let name = "voltrs_procedure_latency_seconds";
    family(
        &mut out,
        name,
        "histogram",
        "Execution time of each procedure on its site or the multi-partition coordinator (queueing excluded).",
    );
    for p in &s.procedures {
        let procedure = label(&p.procedure);
        let mut cumulative = 0;
        for (bound, n) in LATENCY_BUCKETS_NS.iter().zip(&p.latency) {
            cumulative += n;
            let le = *bound as f64 / 1e9;
            let _ = writeln!(
                out,
                "{name}_bucket{{procedure=\"{procedure}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{procedure=\"{procedure}\",le=\"+Inf\"}} {}",
            p.invocations
        );
        let _ = writeln!(
            out,
            "{name}_sum{{procedure=\"{procedure}\"}} {}",
            p.total_ns as f64 / 1e9
        );
        let _ = writeln!(out, "{name}_count{{procedure=\"{procedure}\"}} {}", p.invocations);
    }

    let tables: [Family<TableStats, usize>; 2] = [
        (
            "voltrs_table_rows",
            "Rows of each table and view (each copy of a replicated table counts).",
            |t| t.rows,
        ),
        (
            "voltrs_table_memory_bytes",
            "Bytes of each table's row storage (records and out-of-line values; indexes excluded).",
            |t| t.arena_bytes,
        ),
    ];
    for (name, help, get) in tables {
        family(&mut out, name, "gauge", help);
        for t in &s.tables {
            let _ = writeln!(
                out,
                "{name}{{database=\"{}\",table=\"{}\"}} {}",
                label(&t.database),
                label(&t.table),
                get(t)
            );
        }
    }

    let name = "voltrs_partition_queue_depth";
    family(
        &mut out,
        name,
        "gauge",
        "Transactions waiting in each partition's queue.",
    );
    for (p, depth) in s.queue_depths.iter().enumerate() {
        let _ = writeln!(out, "{name}{{partition=\"{p}\"}} {depth}");
    }
    gauge(
        &mut out,
        "voltrs_partitions",
        "Partitions (site threads).",
        s.queue_depths.len(),
    );
    gauge(
        &mut out,
        "voltrs_client_connections",
        "Open connections on the client and admin ports.",
        s.connections,
    );
    if let Some(bytes) = s.resident_bytes {
        gauge(
            &mut out,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            bytes,
        );
    }
    gauge(
        &mut out,
        "process_start_time_seconds",
        "Start time of the process since the Unix epoch in seconds.",
        s.start_time_ms as f64 / 1e3,
    );
    out
}

/// The `# HELP` and `# TYPE` lines of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A gauge family with one unlabelled sample.
fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltrs_engine::LATENCY_BUCKET_COUNT;

    fn snapshot() -> Snapshot {
        let mut latency = [0; LATENCY_BUCKET_COUNT];
        latency[0] = 2; // <= 10 µs
        latency[6] = 1; // <= 1 ms
        latency[LATENCY_BUCKET_COUNT - 1] = 1; // > 10 s
        Snapshot {
            procedures: vec![ProcedureMetrics {
                procedure: "T.insert".into(),
                invocations: 4,
                aborts: 1,
                failures: 2,
                total_ns: 12_001_500_000,
                latency,
            }],
            tables: vec![TableStats {
                database: "VOLTDB".into(),
                table: "T\"1".into(),
                rows: 3,
                arena_bytes: 4096,
            }],
            queue_depths: vec![0, 5],
            resident_bytes: Some(1 << 20),
            start_time_ms: 1_700_000_000_500,
            connections: 2,
        }
    }

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let text = render(&snapshot());
        for line in [
            "# TYPE voltrs_procedure_invocations_total counter",
            "voltrs_procedure_invocations_total{procedure=\"T.insert\"} 4",
            "voltrs_procedure_aborts_total{procedure=\"T.insert\"} 1",
            "voltrs_procedure_failures_total{procedure=\"T.insert\"} 2",
            "# TYPE voltrs_procedure_latency_seconds histogram",
            "voltrs_procedure_latency_seconds_bucket{procedure=\"T.insert\",le=\"0.00001\"} 2",
            "voltrs_procedure_latency_seconds_bucket{procedure=\"T.insert\",le=\"0.0005\"} 2",
            "voltrs_procedure_latency_seconds_bucket{procedure=\"T.insert\",le=\"0.001\"} 3",
            "voltrs_procedure_latency_seconds_bucket{procedure=\"T.insert\",le=\"10\"} 3",
            "voltrs_procedure_latency_seconds_bucket{procedure=\"T.insert\",le=\"+Inf\"} 4",
            "voltrs_procedure_latency_seconds_sum{procedure=\"T.insert\"} 12.0015",
            "voltrs_procedure_latency_seconds_count{procedure=\"T.insert\"} 4",
            "voltrs_table_rows{database=\"VOLTDB\",table=\"T\\\"1\"} 3",
            "voltrs_table_memory_bytes{database=\"VOLTDB\",table=\"T\\\"1\"} 4096",
            "voltrs_partition_queue_depth{partition=\"0\"} 0",
            "voltrs_partition_queue_depth{partition=\"1\"} 5",
            "voltrs_partitions 2",
            "voltrs_client_connections 2",
            "process_resident_memory_bytes 1048576",
            "process_start_time_seconds 1700000000.5",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn every_sample_follows_its_type_line_and_buckets_are_cumulative() {
        let text = render(&snapshot());
        let mut declared = Vec::new();
        let mut last_bucket = 0u64;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.push(rest.split(' ').next().unwrap().to_string());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().unwrap();
            let family = declared.last().unwrap();
            assert!(name.starts_with(family.as_str()), "{name} under {family}");
            if name.ends_with("_bucket") {
                let n: u64 = value.parse().unwrap();
                assert!(n >= last_bucket, "{line}");
                last_bucket = n;
            }
        }
        assert_eq!(
            text.lines().filter(|l| l.contains("_bucket{")).count(),
            LATENCY_BUCKET_COUNT
        );
    }

    #[test]
    fn empty_database_still_declares_its_families() {
        let text = render(&Snapshot::default());
        assert!(text.contains("# TYPE voltrs_procedure_latency_seconds histogram"));
        assert!(text.contains("voltrs_partitions 0"));
        assert!(!text.contains("process_resident_memory_bytes"));
    }
}
