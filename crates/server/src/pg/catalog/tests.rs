//! The recognition of psql 15's catalog queries (texts as `psql -E` shows them) and the
//! answers synthesized from a namespace.

use std::collections::BTreeMap;
use std::sync::Arc;

use voltrs_sql::catalog::{ColumnDef, DefaultValue, Namespace, TableDef};
use voltrs_storage::{DataType, Value};

use super::{Attribute, Query, first_oid, literal, names_pg_catalog};

/// What psql 15 sends for `\d orders` (first step) and `\d+ orders` (columns), from
/// `psql -E`.
const LOOKUP: &str = "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     \
    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n\
    WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' COLLATE pg_catalog.default\n  \
    AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;";
const COLUMNS: &str = "SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod),\n  \
    (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n   FROM pg_catalog.pg_attrdef d\n   \
    WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n  a.attnotnull,\n  \
    (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n   \
    WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,\n  \
    a.attidentity,\n  a.attgenerated,\n  a.attstorage,\n  a.attcompression AS attcompression,\n  \
    CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS attstattarget,\n  \
    pg_catalog.col_description(a.attrelid, a.attnum)\nFROM pg_catalog.pg_attribute a\n\
    WHERE a.attrelid = '16385' AND a.attnum > 0 AND NOT a.attisdropped\nORDER BY a.attnum;";

fn namespace() -> Namespace {
    let column = |name: &str, ty, nullable, default| ColumnDef {
        name: name.into(),
        ty,
        nullable,
        default,
    };
    let orders = TableDef {
        id: 1,
        name: "ORDERS".into(),
        columns: vec![
            column("ID", DataType::Integer, false, None),
            column(
                "NOTE",
                DataType::Varchar { len: 12, bytes: false },
                true,
                Some(DefaultValue::Value(Value::str("it's"))),
            ),
        ],
        partition_column: Some(0),
        uniques: Vec::new(),
        row_limit: None,
        row_limit_name: None,
        view: None,
        views: Vec::new(),
    };
    Namespace {
        name: "VOLTRS".into(),
        tables: BTreeMap::from([("ORDERS".to_string(), Arc::new(orders))]),
        ..Namespace::default()
    }
}

#[test]
fn only_pg_catalog_outside_literals_is_a_catalog_query() {
    assert!(names_pg_catalog(LOOKUP));
    assert!(names_pg_catalog("select * from PG_CATALOG.pg_tables"));
    assert!(!names_pg_catalog("INSERT INTO t VALUES ('it''s pg_catalog.x')"));
    assert!(!names_pg_catalog("SELECT 1"));
}

#[test]
fn literals_and_oids_are_read_as_psql_writes_them() {
    assert_eq!(literal("'^(a''b)$' COLLATE x").as_deref(), Some("^(a'b)$"));
    assert_eq!(literal("'unterminated"), None);
    assert_eq!(first_oid(COLUMNS), Some(16385));
    assert_eq!(first_oid("WHERE pol.polroles = '{0}' AND x = '16390'"), Some(16390));
    assert_eq!(first_oid(LOOKUP), None);
}

#[test]
fn psql_queries_are_answered_from_the_namespace() {
    let ns = namespace();
    let lookup = Query::recognize(LOOKUP).and_then(|q| q.answer(&ns)).unwrap();
    assert_eq!(
        lookup.rows,
        vec![vec![Value::Integer(16385), Value::str("public"), Value::str("orders")]]
    );
    let Ok(Query::Columns(16385, attributes)) = Query::recognize(COLUMNS) else {
        panic!("not recognized as the columns query");
    };
    assert_eq!(attributes.len(), 11);
    assert_eq!(attributes[8], Attribute::Compression);
    let columns = Query::Columns(16385, attributes).answer(&ns).unwrap();
    assert_eq!(
        columns.rows[1],
        vec![
            Value::str("note"),
            Value::str("character varying(12)"),
            Value::str("'it''s'::character varying"),
            Value::Boolean(false),
            Value::Null,
            Value::str(""),
            Value::str(""),
            Value::str("x"),
            Value::str(""),
            Value::Null,
            Value::Null,
        ]
    );
    assert_eq!(columns.rows[0][10], Value::str("partition column"));
    // Another oid has no columns; another relation name no rows.
    assert!(Query::Columns(1, Vec::new()).answer(&ns).unwrap().rows.is_empty());
    let other = LOOKUP.replace("orders", "ord");
    assert!(
        Query::recognize(&other)
            .and_then(|q| q.answer(&ns))
            .unwrap()
            .rows
            .is_empty()
    );
}

#[test]
fn other_catalog_queries_are_refused() {
    for q in [
        "SELECT * FROM pg_catalog.pg_tables",
        "SELECT n.nspname AS \"Name\" FROM pg_catalog.pg_namespace n ORDER BY 1;",
        "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '(' ",
    ] {
        let e = Query::recognize(q).and_then(|q| q.answer(&namespace())).unwrap_err();
        assert!(e.contains("pg_catalog") || e.contains("regular expression"), "{e}");
    }
}
