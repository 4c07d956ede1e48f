//! `@SystemCatalog`: every selector's columns and rows over [`SCHEMA`].

use super::*;
use crate::sysproc::system_catalog;

fn run(selector: &str, procedures: &[ProcedureInfo]) -> ResultTable {
    system_catalog(selector, &schema_catalog(), DB, procedures).expect("selector answers")
}

#[test]
fn tables_lists_tables_and_views_with_partitioning_remarks() {
    let t = run("TABLES", &[]);
    assert_shape(
        &t,
        &[
            ("TABLE_CAT", S),
            ("TABLE_SCHEM", S),
            ("TABLE_NAME", S),
            ("TABLE_TYPE", S),
            ("REMARKS", S),
            ("TYPE_CAT", S),
            ("TYPE_SCHEM", S),
            ("TYPE_NAME", S),
            ("SELF_REFERENCING_COL_NAME", S),
            ("REF_GENERATION", S),
        ],
    );
    // By name; a view reports its (first) source's partition column and name, even when
    // the view itself holds partial rows (V_BY_STATE), as VoltDB does.
    assert_eq!(
        t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
        [
            "NULL|NULL|AREA|TABLE|NULL|NULL|NULL|NULL|NULL|NULL",
            r#"NULL|NULL|VOTES|TABLE|{"partitionColumn":"PHONE"}|NULL|NULL|NULL|NULL|NULL"#,
            "NULL|NULL|V_AREA|VIEW|NULL|NULL|NULL|NULL|NULL|NULL",
            r#"NULL|NULL|V_BY_PHONE|VIEW|{"partitionColumn":"PHONE","sourceTable":"VOTES"}|NULL|NULL|NULL|NULL|NULL"#,
            r#"NULL|NULL|V_BY_STATE|VIEW|{"partitionColumn":"PHONE","sourceTable":"VOTES"}|NULL|NULL|NULL|NULL|NULL"#,
        ]
    );
}

#[test]
fn columns_carry_jdbc_metadata_and_what_the_bulk_loader_reads() {
    let t = run("COLUMNS", &[]);
    let i = DataType::Integer;
    assert_shape(
        &t,
        &[
            ("TABLE_CAT", S),
            ("TABLE_SCHEM", S),
            ("TABLE_NAME", S),
            ("COLUMN_NAME", S),
            ("DATA_TYPE", i),
            ("TYPE_NAME", S),
            ("COLUMN_SIZE", i),
            ("BUFFER_LENGTH", i),
            ("DECIMAL_DIGITS", i),
            ("NUM_PREC_RADIX", i),
            ("NULLABLE", i),
            ("REMARKS", S),
            ("COLUMN_DEF", S),
            ("SQL_DATA_TYPE", i),
            ("SQL_DATETIME_SUB", i),
            ("CHAR_OCTET_LENGTH", i),
            ("ORDINAL_POSITION", i),
            ("IS_NULLABLE", S),
            ("SCOPE_CATALOG", S),
            ("SCOPE_SCHEMA", S),
            ("SCOPE_TABLE", S),
            ("SOURCE_DATA_TYPE", DataType::SmallInt),
            ("IS_AUTOINCREMENT", S),
        ],
    );
    // Within a table, rows come by column name; ORDINAL_POSITION is the declared position.
    let votes: Vec<String> = project(
        &t,
        &[
            "TABLE_NAME",
            "COLUMN_NAME",
            "DATA_TYPE",
            "TYPE_NAME",
            "COLUMN_SIZE",
            "DECIMAL_DIGITS",
            "NUM_PREC_RADIX",
            "NULLABLE",
            "REMARKS",
            "COLUMN_DEF",
            "CHAR_OCTET_LENGTH",
            "ORDINAL_POSITION",
            "IS_NULLABLE",
        ],
    )
    .into_iter()
    .filter(|r| r.starts_with("VOTES|"))
    .collect();
    assert_eq!(
        votes,
        [
            "VOTES|AMOUNT|3|DECIMAL|38|12|10|1|NULL|NULL|NULL|6|YES",
            "VOTES|BLOB|-3|VARBINARY|16|NULL|NULL|1|NULL|NULL|16|7|YES",
            "VOTES|CONTESTANT|4|INTEGER|31|NULL|2|0|NULL|0|NULL|3|NO",
            "VOTES|CREATED|93|TIMESTAMP|63|NULL|2|1|NULL|CURRENT_TIMESTAMP|NULL|5|YES",
            "VOTES|NOTE|12|VARCHAR|10|NULL|NULL|1|NULL|'hi'|10|4|YES",
            "VOTES|PHONE|-5|BIGINT|63|NULL|2|0|PARTITION_COLUMN|NULL|NULL|1|NO",
            "VOTES|SCORE|6|FLOAT|53|NULL|2|1|NULL|NULL|NULL|8|YES",
            "VOTES|SMALL|5|SMALLINT|15|NULL|2|1|NULL|NULL|NULL|10|YES",
            "VOTES|STATE|12|VARCHAR|2|NULL|NULL|0|NULL|NULL|2|2|NO",
            "VOTES|TINY|-6|TINYINT|7|NULL|2|1|NULL|NULL|NULL|9|YES",
        ]
    );
    // The unused JDBC columns are NULL and IS_AUTOINCREMENT is NO on every row.
    for name in [
        "TABLE_CAT",
        "BUFFER_LENGTH",
        "SQL_DATA_TYPE",
        "SCOPE_TABLE",
        "SOURCE_DATA_TYPE",
    ] {
        assert!(project(&t, &[name]).iter().all(|v| v == "NULL"), "{name}");
    }
    assert!(project(&t, &["IS_AUTOINCREMENT"]).iter().all(|v| v == "NO"));
    // A partitioned view marks its own partition column; a partial or replicated one none.
    let remarks = project(&t, &["TABLE_NAME", "COLUMN_NAME", "REMARKS"]);
    assert!(remarks.contains(&"V_BY_PHONE|PHONE|PARTITION_COLUMN".to_string()));
    assert!(remarks.contains(&"V_BY_STATE|STATE|NULL".to_string()));
    assert!(remarks.contains(&"V_AREA|STATE|NULL".to_string()));
    assert_eq!(t.rows.len(), 2 + 10 + 2 + 2 + 2);
}

#[test]
fn index_info_lists_every_key_column_with_its_position() {
    let t = run("INDEXINFO", &[]);
    assert_shape(
        &t,
        &[
            ("TABLE_CAT", S),
            ("TABLE_SCHEM", S),
            ("TABLE_NAME", S),
            ("NON_UNIQUE", DataType::TinyInt),
            ("INDEX_QUALIFIER", S),
            ("INDEX_NAME", S),
            ("TYPE", DataType::SmallInt),
            ("ORDINAL_POSITION", DataType::SmallInt),
            ("COLUMN_NAME", S),
            ("ASC_OR_DESC", S),
            ("CARDINALITY", DataType::Integer),
            ("PAGES", DataType::Integer),
            ("FILTER_CONDITION", S),
        ],
    );
    // Hash indexes (a user-given name containing HASH) are type 2 with no sort order; an
    // expression index lists the columns its expressions read; a view's group key is
    // VoltDB's MATVIEW_PK_INDEX.
    assert_eq!(
        project(
            &t,
            &[
                "TABLE_NAME",
                "NON_UNIQUE",
                "INDEX_NAME",
                "TYPE",
                "ORDINAL_POSITION",
                "COLUMN_NAME",
                "ASC_OR_DESC"
            ]
        ),
        [
            "AREA|0|VOLTDB_AUTOGEN_PK_AREA_CODE|3|1|CODE|A",
            "VOTES|0|VOLTDB_AUTOGEN_PK_VOTES_PHONE_CONTESTANT|3|1|PHONE|A",
            "VOTES|0|VOLTDB_AUTOGEN_PK_VOTES_PHONE_CONTESTANT|3|2|CONTESTANT|A",
            "VOTES|1|VOTES_EXPR|3|1|TINY|A",
            "VOTES|1|VOTES_EXPR|3|2|CONTESTANT|A",
            "VOTES|1|VOTES_HASH_STATE|2|1|STATE|NULL",
            "VOTES|0|VOTES_U|3|1|PHONE|A",
            "VOTES|0|VOTES_U|3|2|NOTE|A",
            "V_AREA|0|MATVIEW_PK_INDEX|3|1|STATE|A",
            "V_BY_PHONE|0|MATVIEW_PK_INDEX|3|1|PHONE|A",
            "V_BY_STATE|0|MATVIEW_PK_INDEX|3|1|STATE|A",
        ]
    );
}

#[test]
fn primary_keys_come_by_column_name_with_their_key_sequence() {
    let t = run("PRIMARYKEYS", &[]);
    assert_shape(
        &t,
        &[
            ("TABLE_CAT", S),
            ("TABLE_SCHEM", S),
            ("TABLE_NAME", S),
            ("COLUMN_NAME", S),
            ("KEY_SEQ", DataType::SmallInt),
            ("PK_NAME", S),
        ],
    );
    assert_eq!(
        project(&t, &["TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME"]),
        [
            "AREA|CODE|1|VOLTDB_AUTOGEN_PK_AREA_CODE",
            "VOTES|CONTESTANT|2|VOLTDB_AUTOGEN_PK_VOTES_PHONE_CONTESTANT",
            "VOTES|PHONE|1|VOLTDB_AUTOGEN_PK_VOTES_PHONE_CONTESTANT",
            "V_AREA|STATE|1|MATVIEW_PK_CONSTRAINT",
            "V_BY_PHONE|PHONE|1|MATVIEW_PK_CONSTRAINT",
            "V_BY_STATE|STATE|1|MATVIEW_PK_CONSTRAINT",
        ]
    );
}

fn voter_procedures() -> Vec<ProcedureInfo> {
    let mut results = proc("Results", None, &[]);
    results.read_only = true;
    let mut insert = proc(
        "VOTES.insert",
        Some((0, DataType::BigInt)),
        &[
            ("PHONE", DataType::BigInt),
            ("STATE", DataType::Varchar { len: 2, bytes: false }),
        ],
    );
    insert.default = true;
    vec![
        proc(
            "Vote",
            Some((1, DataType::BigInt)),
            &[
                ("PARAM0", DataType::Integer),
                ("PARAM1", DataType::BigInt),
                ("PARAM2", DataType::Decimal),
                ("PARAM3", DataType::VARBINARY_MAX),
            ],
        ),
        results,
        insert,
    ]
}

#[test]
fn procedures_carry_the_routing_json_clients_read() {
    let t = run("PROCEDURES", &voter_procedures());
    assert_shape(
        &t,
        &[
            ("PROCEDURE_CAT", S),
            ("PROCEDURE_SCHEM", S),
            ("PROCEDURE_NAME", S),
            ("RESERVED1", S),
            ("RESERVED2", S),
            ("RESERVED3", S),
            ("REMARKS", S),
            ("PROCEDURE_TYPE", DataType::SmallInt),
            ("SPECIFIC_NAME", S),
        ],
    );
    // User and default procedures together, sorted by name (byte order).
    assert_eq!(
        t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
        [
            r#"NULL|NULL|Results|NULL|NULL|NULL|{"compound":false,"readOnly":true,"singlePartition":false}|0|Results"#,
            r#"NULL|NULL|VOTES.insert|NULL|NULL|NULL|{"compound":false,"partitionParameter":0,"partitionParameterType":6,"readOnly":false,"singlePartition":true}|0|VOTES.insert"#,
            r#"NULL|NULL|Vote|NULL|NULL|NULL|{"compound":false,"partitionParameter":1,"partitionParameterType":6,"readOnly":false,"singlePartition":true}|0|Vote"#,
        ]
    );
}

#[test]
fn procedure_columns_describe_each_parameter() {
    let t = run("PROCEDURECOLUMNS", &voter_procedures());
    let (i, si) = (DataType::Integer, DataType::SmallInt);
    assert_shape(
        &t,
        &[
            ("PROCEDURE_CAT", S),
            ("PROCEDURE_SCHEM", S),
            ("PROCEDURE_NAME", S),
            ("COLUMN_NAME", S),
            ("COLUMN_TYPE", si),
            ("DATA_TYPE", i),
            ("TYPE_NAME", S),
            ("PRECISION", i),
            ("LENGTH", i),
            ("SCALE", si),
            ("RADIX", si),
            ("NULLABLE", si),
            ("REMARKS", S),
            ("COLUMN_DEF", S),
            ("SQL_DATA_TYPE", i),
            ("SQL_DATETIME_SUB", i),
            ("CHAR_OCTET_LENGTH", i),
            ("ORDINAL_POSITION", i),
            ("IS_NULLABLE", S),
            ("SPECIFIC_NAME", S),
        ],
    );
    assert_eq!(
        t.rows.iter().map(|r| row_text(r)).collect::<Vec<_>>(),
        [
            "NULL|NULL|VOTES.insert|PHONE|1|-5|BIGINT|63|8|NULL|2|2|PARTITION_PARAMETER|NULL|NULL|NULL|NULL|1||VOTES.insert",
            "NULL|NULL|VOTES.insert|STATE|1|12|VARCHAR|1048576|1048576|NULL|NULL|2|NULL|NULL|NULL|NULL|1048576|2||VOTES.insert",
            "NULL|NULL|Vote|PARAM0|1|4|INTEGER|31|4|NULL|2|2|NULL|NULL|NULL|NULL|NULL|1||Vote",
            "NULL|NULL|Vote|PARAM1|1|-5|BIGINT|63|8|NULL|2|2|PARTITION_PARAMETER|NULL|NULL|NULL|NULL|2||Vote",
            "NULL|NULL|Vote|PARAM2|1|3|DECIMAL|38|16|12|10|2|NULL|NULL|NULL|NULL|NULL|3||Vote",
            "NULL|NULL|Vote|PARAM3|1|-3|VARBINARY|1048576|1048576|NULL|NULL|2|NULL|NULL|NULL|NULL|1048576|4||Vote",
        ]
    );
}

#[test]
fn selectors_are_case_insensitive_and_bad_ones_list_the_valid_ones() {
    let c = schema_catalog();
    let upper = system_catalog("TABLES", &c, DB, &[]).expect("TABLES");
    assert_eq!(system_catalog(" tables ", &c, DB, &[]).expect("tables"), upper);
    assert_eq!(system_catalog("Tables", &c, DB, &[]).expect("Tables"), upper);

    let err = system_catalog("TABLEZ", &c, DB, &[]).expect_err("unknown selector");
    assert_eq!(err.kind(), "invalid");
    assert_eq!(
        err.to_string(),
        "invalid @SystemCatalog selector \"TABLEZ\": expected one of TABLES, COLUMNS, INDEXINFO, PRIMARYKEYS, \
         PROCEDURES, PROCEDURECOLUMNS"
    );
    let err = system_catalog("TABLES", &c, "NOPE", &[]).expect_err("unknown database");
    assert!(err.to_string().contains("\"NOPE\""), "{err}");
}

#[test]
fn an_empty_database_answers_every_selector_with_no_rows() {
    let c = catalog_of("", 1);
    for selector in crate::sysproc::catalog::SELECTORS {
        let t = system_catalog(selector, &c, DB, &[]).expect("selector answers");
        assert!(t.rows.is_empty(), "{selector}");
        assert!(!t.columns.is_empty(), "{selector}");
    }
}
