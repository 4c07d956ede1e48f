//! Loading an example's `ddl.sql` (embedded in the binary) into a running server: what the
//! example workloads do before their first call.
//!
//! 1. [`create_missing`] reads the tables and procedures the server has
//!    (`@SystemCatalog` `TABLES`, `PROCEDURES`).
//! 2. Each statement of the script that creates or partitions one of them is skipped; the
//!    others run through `@AdHoc`, in order.
//! 3. If anything was created, the client refreshes its topology so that the new
//!    procedures' calls are routed to their partitions.

use anyhow::{Context, bail};
use voltrs_client::{Client, Response, Value, status};

use crate::sql_shell::input::{Command, after_first_word, commands, first_word};

/// Calls a procedure; a failure status is an error naming it.
pub async fn call(client: &Client, procedure: &str, params: Vec<Value>) -> anyhow::Result<Response> {
    let r = client.call(procedure, params).await?;
    if r.status != status::SUCCESS {
        bail!("{procedure}: {}", r.status_string.unwrap_or_default());
    }
    Ok(r)
}

/// Creates what is missing of `examples/<example>/ddl.sql`, whose text is `ddl`.
pub async fn create_missing(client: &Client, example: &str, ddl: &str) -> anyhow::Result<()> {
    let mut existing = catalog_names(client, "TABLES").await?;
    existing.extend(catalog_names(client, "PROCEDURES").await?);
    let mut created = false;
    for command in commands(ddl) {
        let Ok(Command::Sql(statement)) = command else {
            bail!("examples/{example}/ddl.sql holds something that is not SQL: {command:?}");
        };
        if created_object(&statement).is_some_and(|name| existing.contains(&name)) {
            continue;
        }
        call(client, "@AdHoc", vec![Value::str(&statement)])
            .await
            .with_context(|| format!("creating the {example} schema: {}", first_line(&statement)))?;
        created = true;
    }
    if created {
        client.refresh_topology().await?;
    }
    Ok(())
}

/// The upper-cased names in column 3 (TABLE_NAME, PROCEDURE_NAME) of a `@SystemCatalog`
/// selector.
async fn catalog_names(client: &Client, selector: &str) -> anyhow::Result<Vec<String>> {
    let r = call(client, "@SystemCatalog", vec![Value::str(selector)]).await?;
    Ok(r.tables
        .first()
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|row| match row.get(2) {
                    Some(Value::Varchar(s)) => Some(s.to_uppercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The upper-cased name of what a statement creates or partitions (`CREATE TABLE x`,
/// `CREATE VIEW x`, `CREATE PROCEDURE x`, `PARTITION TABLE x`).
pub fn created_object(statement: &str) -> Option<String> {
    let verb = first_word(statement).to_uppercase();
    let mut words = after_first_word(statement).split(|c: char| c.is_whitespace() || c == '(' || c == ';');
    let kind = words.next()?.to_uppercase();
    let name = words.find(|w| !w.is_empty())?.to_uppercase();
    match (verb.as_str(), kind.as_str()) {
        ("CREATE", "TABLE" | "VIEW" | "PROCEDURE") | ("PARTITION", "TABLE") => Some(name),
        _ => None,
    }
}

/// The first line of a statement that is not a comment (for error messages).
fn first_line(statement: &str) -> &str {
    statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("")
}

/// The names an example's statements create, in order (`None` for one that creates
/// nothing); panics on a command that is not SQL. For the examples' unit tests.
#[cfg(test)]
pub fn created_objects(ddl: &str) -> Vec<Option<String>> {
    commands(ddl)
        .into_iter()
        .map(|c| match c {
            Ok(Command::Sql(s)) => created_object(&s),
            other => panic!("not SQL: {other:?}"),
        })
        .collect()
}
