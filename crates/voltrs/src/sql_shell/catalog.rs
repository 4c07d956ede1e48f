//! `show tables`, `show procedures` and `describe`: short tables built from the
//! JDBC-shaped `@SystemCatalog` results (columns are found by name, so extra columns or
//! another order from the server do not matter).

use voltrs_client::{Column, Table, Value, VoltType};

/// `show tables`, from `TABLES`: name, kind and partition column (empty when replicated).
pub fn tables(catalog: &Table) -> Result<Table, String> {
    let name = column(catalog, "TABLE_NAME")?;
    let kind = column(catalog, "TABLE_TYPE")?;
    let remarks = column(catalog, "REMARKS")?;
    let rows = catalog
        .rows
        .iter()
        .map(|r| {
            let partition = json_field(&r[remarks], "partitionColumn");
            vec![r[name].clone(), r[kind].clone(), partition]
        })
        .collect();
    Ok(table(&["TABLE_NAME", "TABLE_TYPE", "PARTITION_COLUMN"], rows))
}

/// `show procedures`, from `PROCEDURES` and `PROCEDURECOLUMNS`: name, parameter types in
/// order, and how the procedure is routed.
pub fn procedures(procedures: &Table, params: &Table) -> Result<Table, String> {
    let name = column(procedures, "PROCEDURE_NAME")?;
    let remarks = column(procedures, "REMARKS")?;
    let param_proc = column(params, "PROCEDURE_NAME")?;
    let param_type = column(params, "TYPE_NAME")?;
    let param_pos = column(params, "ORDINAL_POSITION")?;
    let rows = procedures
        .rows
        .iter()
        .map(|r| {
            let mut types: Vec<(i64, String)> = params
                .rows
                .iter()
                .filter(|p| p[param_proc] == r[name])
                .map(|p| (int(&p[param_pos]).unwrap_or(0), text(&p[param_type])))
                .collect();
            types.sort();
            let types: Vec<String> = types.into_iter().map(|(_, t)| t).collect();
            vec![
                r[name].clone(),
                Value::str(&types.join(", ")),
                Value::str(&routing(&r[remarks])),
            ]
        })
        .collect();
    Ok(table(&["PROCEDURE_NAME", "PARAMETERS", "PARTITIONING"], rows))
}

/// `describe t`, from `COLUMNS`: the table's columns in declared order with their types,
/// nullability, defaults and which one partitions the table.
pub fn describe(catalog: &Table, wanted: &str) -> Result<Table, String> {
    let table_name = column(catalog, "TABLE_NAME")?;
    let name = column(catalog, "COLUMN_NAME")?;
    let type_name = column(catalog, "TYPE_NAME")?;
    let size = column(catalog, "COLUMN_SIZE")?;
    let nullable = column(catalog, "IS_NULLABLE")?;
    let default = column(catalog, "COLUMN_DEF")?;
    let remarks = column(catalog, "REMARKS")?;
    let position = column(catalog, "ORDINAL_POSITION")?;
    let mut mine: Vec<&Vec<Value>> = catalog
        .rows
        .iter()
        .filter(|r| text(&r[table_name]).eq_ignore_ascii_case(wanted))
        .collect();
    if mine.is_empty() {
        return Err(format!("table \"{}\" does not exist", wanted.to_uppercase()));
    }
    mine.sort_by_key(|r| int(&r[position]));
    let rows = mine
        .into_iter()
        .map(|r| {
            let ty = text(&r[type_name]);
            let ty = match int(&r[size]) {
                Some(n) if ty == "VARCHAR" || ty == "VARBINARY" => format!("{ty}({n})"),
                _ => ty,
            };
            let partition = text(&r[remarks]) == "PARTITION_COLUMN";
            vec![
                r[name].clone(),
                Value::str(&ty),
                r[nullable].clone(),
                r[default].clone(),
                Value::str(if partition { "YES" } else { "NO" }),
            ]
        })
        .collect();
    Ok(table(
        &["COLUMN_NAME", "TYPE", "NULLABLE", "DEFAULT", "PARTITION_COLUMN"],
        rows,
    ))
}

/// How a procedure's REMARKS JSON says it is routed.
fn routing(remarks: &Value) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text(remarks)) else {
        return String::new();
    };
    match json.get("singlePartition").and_then(serde_json::Value::as_bool) {
        Some(true) => match json.get("partitionParameter").and_then(serde_json::Value::as_i64) {
            Some(p) if p >= 0 => format!("single partition (parameter {})", p + 1),
            _ => "single partition".into(),
        },
        Some(false) => "multi partition".into(),
        None => String::new(),
    }
}

/// A string field of a JSON REMARKS value, or NULL.
fn json_field(remarks: &Value, key: &str) -> Value {
    serde_json::from_str::<serde_json::Value>(&text(remarks))
        .ok()
        .and_then(|j| j.get(key).and_then(|v| v.as_str()).map(Value::str))
        .unwrap_or(Value::Null)
}

fn column(t: &Table, name: &str) -> Result<usize, String> {
    t.columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("the server's catalog has no column {name}"))
}

fn text(v: &Value) -> String {
    voltrs_storage::text::render(v).unwrap_or_default()
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}

fn table(names: &[&str], rows: Vec<Vec<Value>>) -> Table {
    Table {
        columns: names
            .iter()
            .map(|n| Column {
                name: n.to_string(),
                ty: VoltType::String,
            })
            .collect(),
        rows,
    }
}
