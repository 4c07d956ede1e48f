//! `@SystemCatalog(selector)`: JDBC `DatabaseMetaData`-shaped tables of one database's
//! schema, as VoltDB returns them.
//!
//! Source of every shape: VoltDB `src/frontend/org/voltdb/JdbcDatabaseMetaDataGenerator.java`
//! (the `*_SCHEMA` column lists and the `get*()` row builders), 2022 revision. Row order is
//! VoltDB's: its catalog maps are sorted by upper-case name (`CatalogMap` is a `TreeMap`), so
//! tables come by name and, within a table, columns by column name (ORDINAL_POSITION still
//! gives the declared position). `PROCEDURES` and `PROCEDURECOLUMNS` live in
//! [`super::procedures`].
//!
//! One deliberate difference: VoltDB numbers an index's columns (INDEXINFO
//! `ORDINAL_POSITION`, PRIMARYKEYS `KEY_SEQ`) by the column's *alphabetical* rank within the
//! key (`ColumnRef.getRelativeIndex()` over a name-sorted map), which misnumbers keys like
//! `(B, A)`. Here they are the true 1-based key positions, as JDBC defines them; row order is
//! unchanged (INDEXINFO by table, index name, position; PRIMARYKEYS by table, column name).

use voltrs_sql::catalog::{Catalog, DefaultValue, Namespace, TableDef, UniqueKey, UniqueKind};
use voltrs_sql::expr::ExprKind;
use voltrs_sql::views::GROUP_KEY;
use voltrs_storage::{DataType, IndexMethod, Value};

use super::procedures;
use super::{
    ProcedureInfo, STRING, columns, decimal_digits, int, jdbc_type, jdbc_type_name, json_string, match_selector,
    opt_int, precision_radix, text,
};
use crate::{Error, ResultTable};

/// The selectors voltrs answers (VoltDB also has TYPEINFO, CLASSES, FUNCTIONS, ROLES, USERS,
/// TASKS, TOPICS).
pub const SELECTORS: &[&str] = &[
    "TABLES",
    "COLUMNS",
    "INDEXINFO",
    "PRIMARYKEYS",
    "PROCEDURES",
    "PROCEDURECOLUMNS",
];

/// VoltDB's index name for a view's group key (its constraint is [`GROUP_KEY`]).
const VIEW_GROUP_INDEX: &str = "MATVIEW_PK_INDEX";

/// Answers `@SystemCatalog(selector)` for the tables of `database` and the given procedures
/// (user and default ones; VoltDB lists both, sorted by name).
pub fn system_catalog(
    selector: &str,
    catalog: &Catalog,
    database: &str,
    procedures: &[ProcedureInfo],
) -> Result<ResultTable, Error> {
    let selector = match_selector("@SystemCatalog", selector, SELECTORS)?;
    let ns = catalog.database(database)?;
    Ok(match selector {
        "TABLES" => tables(ns),
        "COLUMNS" => table_columns(ns),
        "INDEXINFO" => index_info(ns),
        "PRIMARYKEYS" => primary_keys(ns),
        "PROCEDURES" => procedures::procedures(procedures),
        _ => procedures::procedure_columns(procedures),
    })
}

/// `TABLES` (`TABLE_SCHEMA`): one row per table and view. REMARKS is JSON with sorted keys
/// (VoltDB's `JSONObject` keeps a `TreeMap`): `{"partitionColumn":"C"}` for a partitioned
/// table; for a view, the partition column and name of its first source (VoltDB's
/// "materializer") when that source is partitioned; NULL otherwise.
fn tables(ns: &Namespace) -> ResultTable {
    let mut out = ResultTable {
        columns: columns(&[
            ("TABLE_CAT", STRING),
            ("TABLE_SCHEM", STRING),
            ("TABLE_NAME", STRING),
            ("TABLE_TYPE", STRING),
            ("REMARKS", STRING),
            ("TYPE_CAT", STRING),
            ("TYPE_SCHEM", STRING),
            ("TYPE_NAME", STRING),
            ("SELF_REFERENCING_COL_NAME", STRING),
            ("REF_GENERATION", STRING),
        ]),
        rows: Vec::new(),
    };
    for t in ns.tables.values() {
        let kind = if t.is_view() { "VIEW" } else { "TABLE" };
        let remarks = table_remarks(ns, t).map_or(Value::Null, |r| text(&r));
        let mut row = vec![Value::Null, Value::Null, text(&t.name), text(kind), remarks];
        row.resize(out.columns.len(), Value::Null);
        out.rows.push(row);
    }
    out
}

fn table_remarks(ns: &Namespace, t: &TableDef) -> Option<String> {
    match &t.view {
        Some(view) => {
            let source = ns.tables.get(&view.sources.first()?.name)?;
            let column = &source.columns.get(source.partition_column?)?.name;
            Some(format!(
                "{{\"partitionColumn\":{},\"sourceTable\":{}}}",
                json_string(column),
                json_string(&source.name)
            ))
        }
        None => {
            let column = &t.columns.get(t.partition_column?)?.name;
            Some(format!("{{\"partitionColumn\":{}}}", json_string(column)))
        }
    }
}

/// `COLUMNS` (`COLUMN_SCHEMA`): one row per column of every table and view, with the names
/// `VoltBulkLoader` reads (TABLE_NAME, COLUMN_NAME, TYPE_NAME, ORDINAL_POSITION from 1,
/// REMARKS `PARTITION_COLUMN` on the partition column).
fn table_columns(ns: &Namespace) -> ResultTable {
    let mut out = ResultTable {
        columns: columns(&[
            ("TABLE_CAT", STRING),
            ("TABLE_SCHEM", STRING),
            ("TABLE_NAME", STRING),
            ("COLUMN_NAME", STRING),
            ("DATA_TYPE", DataType::Integer),
            ("TYPE_NAME", STRING),
            ("COLUMN_SIZE", DataType::Integer),
            ("BUFFER_LENGTH", DataType::Integer),
            ("DECIMAL_DIGITS", DataType::Integer),
            ("NUM_PREC_RADIX", DataType::Integer),
            ("NULLABLE", DataType::Integer),
            ("REMARKS", STRING),
            ("COLUMN_DEF", STRING),
            ("SQL_DATA_TYPE", DataType::Integer),
            ("SQL_DATETIME_SUB", DataType::Integer),
            ("CHAR_OCTET_LENGTH", DataType::Integer),
            ("ORDINAL_POSITION", DataType::Integer),
            ("IS_NULLABLE", STRING),
            ("SCOPE_CATALOG", STRING),
            ("SCOPE_SCHEMA", STRING),
            ("SCOPE_TABLE", STRING),
            ("SOURCE_DATA_TYPE", DataType::SmallInt),
            ("IS_AUTOINCREMENT", STRING),
        ]),
        rows: Vec::new(),
    };
    for t in ns.tables.values() {
        let mut order: Vec<usize> = (0..t.columns.len()).collect();
        order.sort_by(|&a, &b| t.columns[a].name.cmp(&t.columns[b].name));
        for i in order {
            let c = &t.columns[i];
            let var_len = match c.ty {
                DataType::Varchar { len, .. } | DataType::Varbinary { len } => Some(i64::from(len)),
                _ => None,
            };
            let (size, radix) = precision_radix(c.ty, var_len.unwrap_or(0));
            let remarks = if t.partition_column == Some(i) {
                text("PARTITION_COLUMN")
            } else {
                Value::Null
            };
            let position = i64::try_from(i + 1).unwrap_or(i64::MAX);
            out.rows.push(vec![
                Value::Null,
                Value::Null,
                text(&t.name),
                text(&c.name),
                int(jdbc_type(c.ty)),
                text(jdbc_type_name(c.ty)),
                opt_int(size),
                Value::Null,
                opt_int(decimal_digits(c.ty)),
                opt_int(radix),
                // java.sql.DatabaseMetaData.columnNullable / columnNoNulls
                int(i64::from(c.nullable)),
                remarks,
                default_text(c.ty, c.default.as_ref()),
                Value::Null,
                Value::Null,
                opt_int(var_len),
                int(position),
                text(if c.nullable { "YES" } else { "NO" }),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                text("NO"),
            ]);
        }
    }
    out
}

/// COLUMN_DEF: the default as text, strings in single quotes (VoltDB `getDefaultValue`);
/// `DEFAULT NOW` reads `CURRENT_TIMESTAMP`.
fn default_text(ty: DataType, default: Option<&DefaultValue>) -> Value {
    match default {
        None => Value::Null,
        Some(DefaultValue::Now) => text("CURRENT_TIMESTAMP"),
        Some(DefaultValue::Value(v)) => match voltrs_storage::text::render(v) {
            None => Value::Null,
            Some(s) if ty.is_string() => text(&format!("'{s}'")),
            Some(s) => text(&s),
        },
    }
}

/// The table columns a key reads: its columns for a plain key; for an expression key, every
/// column its expressions read, first use first (what VoltDB lists for expression indexes).
fn key_columns<'a>(t: &'a TableDef, key: &UniqueKey) -> Vec<&'a str> {
    let mut used = Vec::new();
    for e in &key.exprs {
        match e.kind {
            ExprKind::Column(i) if !used.contains(&i) => used.push(i),
            ExprKind::Column(_) => {}
            _ => e.columns_used(&mut used),
        }
    }
    used.iter()
        .filter_map(|&i| t.columns.get(i).map(|c| c.name.as_str()))
        .collect()
}

/// The index name VoltDB reports for a key: a view's group key is `MATVIEW_PK_INDEX`.
fn index_name<'a>(t: &TableDef, key: &'a UniqueKey) -> &'a str {
    if t.is_view() && key.name == GROUP_KEY {
        VIEW_GROUP_INDEX
    } else {
        &key.name
    }
}

/// `INDEXINFO` (`INDEXINFO_SCHEMA`): one row per column of every index (constraint indexes
/// included). TYPE is `tableIndexHashed` (2) for hash indexes and `tableIndexOther` (3)
/// otherwise; ASC_OR_DESC is `A` for tree indexes, NULL for hash ones.
fn index_info(ns: &Namespace) -> ResultTable {
    let mut out = ResultTable {
        columns: columns(&[
            ("TABLE_CAT", STRING),
            ("TABLE_SCHEM", STRING),
            ("TABLE_NAME", STRING),
            ("NON_UNIQUE", DataType::TinyInt),
            ("INDEX_QUALIFIER", STRING),
            ("INDEX_NAME", STRING),
            ("TYPE", DataType::SmallInt),
            ("ORDINAL_POSITION", DataType::SmallInt),
            ("COLUMN_NAME", STRING),
            ("ASC_OR_DESC", STRING),
            ("CARDINALITY", DataType::Integer),
            ("PAGES", DataType::Integer),
            ("FILTER_CONDITION", STRING),
        ]),
        rows: Vec::new(),
    };
    for t in ns.tables.values() {
        let mut keys: Vec<&UniqueKey> = t.uniques.iter().collect();
        keys.sort_by(|a, b| index_name(t, a).cmp(index_name(t, b)));
        for key in keys {
            let hash = key.storage_spec().method == IndexMethod::Hash;
            for (position, column) in (1i64..).zip(key_columns(t, key)) {
                out.rows.push(vec![
                    Value::Null,
                    Value::Null,
                    text(&t.name),
                    int(i64::from(!key.kind.is_unique())),
                    Value::Null,
                    text(index_name(t, key)),
                    int(if hash { 2 } else { 3 }),
                    int(position),
                    text(column),
                    if hash { Value::Null } else { text("A") },
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
    }
    out
}

/// `PRIMARYKEYS` (`PRIMARYKEYS_SCHEMA`): one row per primary-key column (a view's group key
/// counts, as `MATVIEW_PK_CONSTRAINT`), by table then column name; `VoltBulkLoader` reads
/// TABLE_NAME to decide whether a table can be upserted.
fn primary_keys(ns: &Namespace) -> ResultTable {
    let mut out = ResultTable {
        columns: columns(&[
            ("TABLE_CAT", STRING),
            ("TABLE_SCHEM", STRING),
            ("TABLE_NAME", STRING),
            ("COLUMN_NAME", STRING),
            ("KEY_SEQ", DataType::SmallInt),
            ("PK_NAME", STRING),
        ]),
        rows: Vec::new(),
    };
    for t in ns.tables.values() {
        let Some(pk) = t.uniques.iter().find(|u| u.kind == UniqueKind::PrimaryKey) else {
            continue;
        };
        let mut cols: Vec<(i64, &str)> = (1i64..).zip(key_columns(t, pk)).collect();
        cols.sort_by(|a, b| a.1.cmp(b.1));
        for (seq, column) in cols {
            out.rows.push(vec![
                Value::Null,
                Value::Null,
                text(&t.name),
                text(column),
                int(seq),
                text(&pk.name),
            ]);
        }
    }
    out
}
