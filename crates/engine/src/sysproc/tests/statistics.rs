//! `@Statistics`: PROCEDURE, TABLE, MEMORY, PARTITIONCOUNT and TOPO shapes and rows.

use voltrs_wire::Hashinator;

use super::*;
use crate::sysproc::{MP_PARTITION, ProcedureStatRow, StatsInputs, TableStatRow, statistics};

const NOW: i64 = 1_700_000_999_000;

fn common(site: bool) -> Vec<(&'static str, DataType)> {
    let mut spec = vec![
        ("TIMESTAMP", DataType::BigInt),
        ("HOST_ID", DataType::Integer),
        ("HOSTNAME", S),
    ];
    if site {
        spec.push(("SITE_ID", DataType::Integer));
    }
    spec
}

fn one(selector: &str, inputs: &StatsInputs) -> ResultTable {
    let mut tables = statistics(selector, inputs).expect("selector answers");
    assert_eq!(tables.len(), 1, "{selector}");
    tables.remove(0)
}

fn stat(partition_id: i32, procedure: &str, invocations: u64) -> ProcedureStatRow {
    ProcedureStatRow {
        partition_id,
        procedure: procedure.into(),
        invocations,
        timed_invocations: invocations / 2,
        min_ns: 1_000,
        max_ns: 9_000,
        avg_ns: 4_000,
        aborts: 1,
        failures: 2,
        ..ProcedureStatRow::default()
    }
}

#[test]
fn procedure_rows_per_partition_skip_idle_ones() {
    let (n, ring) = (node(), Hashinator::new(4));
    let procs = [
        stat(2, "Vote", 10),
        stat(MP_PARTITION, "Results", 4),
        stat(0, "Vote", 6),
        stat(1, "Vote", 0),
    ];
    let inputs = StatsInputs {
        now_ms: NOW,
        node: &n,
        hashinator: &ring,
        procedures: &procs,
        tables: &[],
    };
    let t = one("PROCEDURE", &inputs);
    let (i, b, ti) = (DataType::Integer, DataType::BigInt, DataType::TinyInt);
    let mut expected = common(true);
    expected.extend([
        ("PARTITION_ID", i),
        ("PROCEDURE", S),
        ("INVOCATIONS", b),
        ("TIMED_INVOCATIONS", b),
        ("MIN_EXECUTION_TIME", b),
        ("MAX_EXECUTION_TIME", b),
        ("AVG_EXECUTION_TIME", b),
        ("MIN_RESULT_SIZE", i),
        ("MAX_RESULT_SIZE", i),
        ("AVG_RESULT_SIZE", i),
        ("MIN_PARAMETER_SET_SIZE", i),
        ("MAX_PARAMETER_SET_SIZE", i),
        ("AVG_PARAMETER_SET_SIZE", i),
        ("ABORTS", b),
        ("FAILURES", b),
        ("TRANSACTIONAL", ti),
        ("COMPOUND", ti),
    ]);
    assert_shape(&t, &expected);
    // The MP initiator's executions run on the site after the partitions' sites.
    assert_eq!(
        t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
        [
            "1700000999000|0|db1|4|16383|Results|4|2|1000|9000|4000|0|0|0|0|0|0|1|2|1|0",
            "1700000999000|0|db1|0|0|Vote|6|3|1000|9000|4000|0|0|0|0|0|0|1|2|1|0",
            "1700000999000|0|db1|2|2|Vote|10|5|1000|9000|4000|0|0|0|0|0|0|1|2|1|0",
        ]
    );
}

#[test]
fn table_rows_report_kib_and_the_row_limit() {
    let (n, ring) = (node(), Hashinator::new(2));
    let row = |partition_id, table: &str, rows, row_limit| TableStatRow {
        partition_id,
        database: DB.into(),
        table: table.into(),
        table_type: "PersistentTable".into(),
        rows,
        allocated_bytes: 10 * 1024 + 1023,
        data_bytes: 3 * 1024,
        string_bytes: 512,
        row_limit,
    };
    let tables = [
        row(1, "VOTES", 7, None),
        row(0, "VOTES", 5, Some(20)),
        row(0, "AREA", 3, Some(0)),
    ];
    let inputs = StatsInputs {
        now_ms: NOW,
        node: &n,
        hashinator: &ring,
        procedures: &[],
        tables: &tables,
    };
    let t = one("table", &inputs);
    let b = DataType::BigInt;
    let mut expected = common(true);
    expected.extend([
        ("PARTITION_ID", b),
        ("TABLE_NAME", S),
        ("TABLE_TYPE", S),
        ("TUPLE_COUNT", b),
        ("TUPLE_ALLOCATED_MEMORY", b),
        ("TUPLE_DATA_MEMORY", b),
        ("STRING_DATA_MEMORY", b),
        ("TUPLE_LIMIT", DataType::Integer),
        ("PERCENT_FULL", DataType::Integer),
        ("DR", S),
        ("EXPORT", S),
    ]);
    assert_shape(&t, &expected);
    assert_eq!(
        t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
        [
            "1700000999000|0|db1|0|0|AREA|PersistentTable|3|10|3|0|0|100|false|false",
            "1700000999000|0|db1|0|0|VOTES|PersistentTable|5|10|3|0|20|25|false|false",
            "1700000999000|0|db1|1|1|VOTES|PersistentTable|7|10|3|0|NULL|NULL|false|false",
        ]
    );
}

#[test]
fn memory_is_one_row_in_kib() {
    let (n, ring) = (node(), Hashinator::new(1));
    let inputs = StatsInputs {
        now_ms: NOW,
        node: &n,
        hashinator: &ring,
        procedures: &[],
        tables: &[],
    };
    let t = one("MEMORY", &inputs);
    let (i, b) = (DataType::Integer, DataType::BigInt);
    let mut expected = common(false);
    expected.extend([
        ("RSS", i),
        ("JAVAUSED", i),
        ("JAVAUNUSED", i),
        ("TUPLEDATA", b),
        ("TUPLEALLOCATED", b),
        ("INDEXMEMORY", b),
        ("STRINGMEMORY", b),
        ("TUPLECOUNT", b),
        ("POOLEDMEMORY", b),
        ("PHYSICALMEMORY", b),
        ("JAVAMAXHEAP", i),
    ]);
    assert_shape(&t, &expected);
    assert_eq!(
        t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
        ["1700000999000|0|db1|204800|0|0|4|8|1|2|42|0|16777216|0"]
    );
}

#[test]
fn partition_count_is_the_rings() {
    let n = node();
    for partitions in [1, 3, 8] {
        let ring = Hashinator::new(partitions);
        let inputs = StatsInputs {
            now_ms: NOW,
            node: &n,
            hashinator: &ring,
            procedures: &[],
            tables: &[],
        };
        let t = one("PartitionCount", &inputs);
        let mut expected = common(false);
        expected.push(("PARTITION_COUNT", DataType::Integer));
        assert_shape(&t, &expected);
        assert_eq!(
            t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
            [format!("{NOW}|0|db1|{partitions}")]
        );
    }
}

#[test]
fn topo_lists_partitions_and_the_mp_initiator_and_publishes_the_ring() {
    let mut n = node();
    n.host_id = 2;
    for partitions in [1u32, 2, 8] {
        n.sites = partitions as usize;
        let ring = Hashinator::new(partitions);
        let inputs = StatsInputs {
            now_ms: NOW,
            node: &n,
            hashinator: &ring,
            procedures: &[],
            tables: &[],
        };
        let tables = statistics("topo", &inputs).expect("TOPO");
        assert_eq!(tables.len(), 2);
        assert_shape(
            &tables[0],
            &[("Partition", DataType::Integer), ("Sites", S), ("Leader", S)],
        );
        let mut expected: Vec<String> = (0..partitions).map(|p| format!("{p}|2:{p}|2:{p}")).collect();
        expected.push(format!("16383|2:{partitions}|2:{partitions}"));
        assert_eq!(tables[0].rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(), expected);

        assert_shape(&tables[1], &[("HASHTYPE", S), ("HASHCONFIG", DataType::VARBINARY_MAX)]);
        assert_eq!(tables[1].rows.len(), 1);
        assert_eq!(render(&tables[1].rows[0][0]).as_deref(), Some("ELASTIC"));
        let Value::Varbinary(config) = &tables[1].rows[0][1] else {
            panic!("HASHCONFIG is VARBINARY: {:?}", tables[1].rows[0][1]);
        };
        let parsed = Hashinator::from_config_bytes(config).expect("HASHCONFIG parses");
        assert_eq!(parsed, ring);
        assert_eq!(parsed.ring(), ring.ring());
    }
}

#[test]
fn bad_selector_lists_the_supported_ones() {
    let (n, ring) = (node(), Hashinator::new(1));
    let inputs = StatsInputs {
        now_ms: NOW,
        node: &n,
        hashinator: &ring,
        procedures: &[],
        tables: &[],
    };
    let err = statistics("INDEX", &inputs).expect_err("INDEX is not answered");
    assert_eq!(
        err.to_string(),
        "invalid @Statistics selector \"INDEX\": expected one of PROCEDURE, TABLE, MEMORY, PARTITIONCOUNT, TOPO"
    );
}
