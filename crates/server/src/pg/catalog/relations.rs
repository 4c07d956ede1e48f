//! The answers: psql's result tables synthesized from a voltrs [`Namespace`] (relations,
//! their flags, columns with PostgreSQL's type names, indexes, a view's query).

use pgwire::api::Type;
use voltrs_sql::catalog::{DefaultValue, Namespace, TableDef, UniqueKey, UniqueKind};
use voltrs_sql::expr::ExprKind;
use voltrs_storage::{DataType, IndexMethod, Value};

use super::{Attribute, FIRST_OID, Filter, OWNER, SCHEMA, Table};

/// What a relation is to psql.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Table,
    View,
}

impl Kind {
    pub(super) fn of(t: &TableDef) -> Kind {
        if t.is_view() { Kind::View } else { Kind::Table }
    }

    pub(super) fn relkind(self) -> char {
        match self {
            Kind::Table => 'r',
            Kind::View => 'v',
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::View => "view",
        }
    }
}

fn oid(t: &TableDef) -> u32 {
    FIRST_OID.saturating_add(t.id)
}

/// The table or view with this oid.
pub(super) fn relation(ns: &Namespace, wanted: u32) -> Option<&TableDef> {
    ns.tables.values().map(|t| &**t).find(|t| oid(t) == wanted)
}

/// The relations a filter admits, by name (names as psql shows them: lower case).
fn relations<'a>(ns: &'a Namespace, filter: &Filter) -> Vec<(String, &'a TableDef)> {
    let mut out: Vec<(String, &TableDef)> = ns
        .tables
        .values()
        .map(|t| (t.name.to_lowercase(), &**t))
        .filter(|(name, t)| filter.admits(Kind::of(t), name))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `\d`, `\dt`, `\dv`: one row per relation, a value per alias psql asked for.
pub(super) fn list(ns: &Namespace, filter: &Filter, aliases: &[String]) -> Table {
    let mut out = Table {
        columns: aliases.iter().map(|a| (a.clone(), Type::TEXT)).collect(),
        rows: Vec::new(),
    };
    for (name, t) in relations(ns, filter) {
        let row = aliases
            .iter()
            .map(|alias| match alias.as_str() {
                "Schema" => text(SCHEMA),
                "Name" => text(&name),
                "Type" => text(Kind::of(t).label()),
                "Owner" => text(OWNER),
                "Persistence" => text("permanent"),
                "Description" => text(&placement(t)),
                _ => Value::Null,
            })
            .collect();
        out.rows.push(row);
    }
    out
}

/// How a relation's rows are placed, for descriptions: `partitioned on id`, `replicated`.
fn placement(t: &TableDef) -> String {
    match t.partition_column.and_then(|i| t.columns.get(i)) {
        Some(c) => format!("partitioned on {}", c.name.to_lowercase()),
        None if t.is_partitioned() => "partitioned".into(),
        None => "replicated".into(),
    }
}

/// `\d NAME`, first step: oid, schema and name of every relation NAME matches.
pub(super) fn lookup(ns: &Namespace, filter: &Filter) -> Table {
    let mut out = Table::new(&[("oid", Type::OID), ("nspname", Type::NAME), ("relname", Type::NAME)]);
    for (name, t) in relations(ns, filter) {
        out.rows
            .push(vec![Value::Integer(i64::from(oid(t))), text(SCHEMA), text(&name)]);
    }
    out
}

/// `\d NAME`: the relation's kind and flags (no rows if the oid is gone: psql then says
/// `Did not find any relation with OID ...`).
pub(super) fn info(t: Option<&TableDef>) -> Table {
    let flag = |name| (name, Type::BOOL);
    let mut out = Table::new(&[
        ("relchecks", Type::INT2),
        ("relkind", Type::CHAR),
        flag("relhasindex"),
        flag("relhasrules"),
        flag("relhastriggers"),
        flag("relrowsecurity"),
        flag("relforcerowsecurity"),
        flag("relhasoids"),
        flag("relispartition"),
        ("?column?", Type::TEXT),
        ("reltablespace", Type::OID),
        ("reloftype", Type::TEXT),
        ("relpersistence", Type::CHAR),
        ("relreplident", Type::CHAR),
        ("amname", Type::NAME),
    ]);
    if let Some(t) = t {
        let kind = Kind::of(t);
        let has_index = kind == Kind::Table && !t.uniques.is_empty();
        let mut row = vec![
            Value::Integer(0),
            text(&kind.relkind().to_string()),
            Value::Boolean(has_index),
        ];
        row.extend((0..6).map(|_| Value::Boolean(false)));
        row.extend([text(""), Value::Integer(0), text(""), text("p"), text("d"), Value::Null]);
        out.rows.push(row);
    }
    out
}

/// `\d NAME`: one row per column, the attributes psql asked for in its order.
pub(super) fn columns(t: Option<&TableDef>, attributes: &[Attribute]) -> Table {
    let mut out = Table {
        columns: attributes
            .iter()
            .map(|a| {
                let (name, ty) = match a {
                    Attribute::Name => ("attname", Type::NAME),
                    Attribute::Type => ("format_type", Type::TEXT),
                    Attribute::Default => ("pg_get_expr", Type::TEXT),
                    Attribute::NotNull => ("attnotnull", Type::BOOL),
                    Attribute::Collation => ("attcollation", Type::NAME),
                    Attribute::Identity => ("attidentity", Type::CHAR),
                    Attribute::Generated => ("attgenerated", Type::CHAR),
                    Attribute::Storage => ("attstorage", Type::CHAR),
                    Attribute::Compression => ("attcompression", Type::CHAR),
                    Attribute::StatsTarget => ("attstattarget", Type::INT2),
                    Attribute::Description => ("col_description", Type::TEXT),
                    Attribute::Other => ("?column?", Type::TEXT),
                };
                (name.to_string(), ty)
            })
            .collect(),
        rows: Vec::new(),
    };
    let Some(t) = t else { return out };
    for (i, c) in t.columns.iter().enumerate() {
        let row = attributes
            .iter()
            .map(|a| match a {
                Attribute::Name => text(&c.name.to_lowercase()),
                Attribute::Type => text(&format_type(c.ty)),
                Attribute::Default => c.default.as_ref().map_or(Value::Null, |d| text(&default_expr(c.ty, d))),
                Attribute::NotNull => Value::Boolean(!c.nullable),
                Attribute::Identity | Attribute::Generated | Attribute::Compression => text(""),
                Attribute::Storage => text(storage(c.ty)),
                Attribute::Description if t.partition_column == Some(i) => text("partition column"),
                Attribute::Collation | Attribute::StatsTarget | Attribute::Description | Attribute::Other => {
                    Value::Null
                }
            })
            .collect();
        out.rows.push(row);
    }
    out
}

/// A type as PostgreSQL's `format_type()` names it. TINYINT is int2 on the wire, so
/// `smallint`; DECIMAL is VoltDB's fixed DECIMAL(38,12).
fn format_type(ty: DataType) -> String {
    match ty {
        DataType::TinyInt | DataType::SmallInt => "smallint".into(),
        DataType::Integer => "integer".into(),
        DataType::BigInt => "bigint".into(),
        DataType::Float => "double precision".into(),
        DataType::Decimal => "numeric(38,12)".into(),
        DataType::Varchar { len, .. } => format!("character varying({len})"),
        DataType::Varbinary { .. } => "bytea".into(),
        DataType::Timestamp => "timestamp without time zone".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Null => "unknown".into(),
    }
}

/// PostgreSQL's storage strategy of the type (what `\d+` shows): `x` (extended) for the
/// variable-length ones, `m` (main) for numeric, `p` (plain) for the rest.
fn storage(ty: DataType) -> &'static str {
    match ty {
        DataType::Varchar { .. } | DataType::Varbinary { .. } => "x",
        DataType::Decimal => "m",
        _ => "p",
    }
}

/// A column default as PostgreSQL's `pg_get_expr()` shows it: numbers bare, other values
/// quoted with a cast to the column's type, `DEFAULT NOW` as `CURRENT_TIMESTAMP`.
fn default_expr(ty: DataType, d: &DefaultValue) -> String {
    let v = match d {
        DefaultValue::Now => return "CURRENT_TIMESTAMP".into(),
        DefaultValue::Value(v) => v,
    };
    let shown = match v {
        Value::Varbinary(b) => Some(format!("\\x{}", voltrs_storage::text::hex_upper(b).to_lowercase())),
        other => voltrs_storage::text::render(other),
    };
    match shown {
        None => "NULL".into(),
        Some(s) if ty.is_numeric() => s,
        // PostgreSQL casts to the type without its length: `'x'::character varying`.
        Some(s) => format!(
            "'{}'::{}",
            s.replace('\'', "''"),
            format_type(ty).split('(').next().unwrap_or("")
        ),
    }
}

/// `\d NAME`: a table's indexes, primary key first, then by name, as psql's query gives
/// them (its footer shows `"name" PRIMARY KEY, btree (id)`).
pub(super) fn indexes(ns: &Namespace, t: Option<&TableDef>) -> Table {
    let flag = |name| (name, Type::BOOL);
    let mut out = Table::new(&[
        ("relname", Type::NAME),
        flag("indisprimary"),
        flag("indisunique"),
        flag("indisclustered"),
        flag("indisvalid"),
        ("pg_get_indexdef", Type::TEXT),
        ("pg_get_constraintdef", Type::TEXT),
        ("contype", Type::CHAR),
        flag("condeferrable"),
        flag("condeferred"),
        flag("indisreplident"),
        ("reltablespace", Type::OID),
        flag("conperiod"),
    ]);
    let Some(t) = t.filter(|t| !t.is_view()) else {
        return out;
    };
    let mut keys: Vec<&UniqueKey> = t.uniques.iter().collect();
    keys.sort_by_key(|k| (k.kind != UniqueKind::PrimaryKey, k.name.to_lowercase()));
    for key in keys {
        let name = key.name.to_lowercase();
        let table = t.name.to_lowercase();
        let key_text = match ns.indexes.get(&key.name) {
            Some(index) => index.text.join(", "),
            None => key_columns(t, key).join(", "),
        };
        let method = match key.storage_spec().method {
            IndexMethod::Hash => "hash",
            IndexMethod::Tree => "btree",
        };
        let unique = if key.kind.is_unique() { "UNIQUE " } else { "" };
        // The predicate of a partial index is kept bound, not as text: say it is partial.
        let partial = if key.predicate.is_some() { " (partial)" } else { "" };
        let definition =
            format!("CREATE {unique}INDEX {name} ON {SCHEMA}.{table} USING {method} ({key_text}){partial}");
        let (constraint, contype) = match (key.kind, key.index) {
            (UniqueKind::PrimaryKey, _) => (text(&format!("PRIMARY KEY ({key_text})")), text("p")),
            (UniqueKind::Unique | UniqueKind::AssumeUnique, false) => {
                (text(&format!("UNIQUE ({key_text})")), text("u"))
            }
            _ => (Value::Null, Value::Null),
        };
        out.rows.push(vec![
            text(&name),
            Value::Boolean(key.kind == UniqueKind::PrimaryKey),
            Value::Boolean(key.kind.is_unique()),
            Value::Boolean(false),
            Value::Boolean(true),
            text(&definition),
            constraint,
            contype,
            Value::Boolean(false),
            Value::Boolean(false),
            Value::Boolean(false),
            Value::Integer(0),
            Value::Boolean(false),
        ]);
    }
    out
}

/// The columns of a constraint key, in lower case.
fn key_columns(t: &TableDef, key: &UniqueKey) -> Vec<String> {
    key.exprs
        .iter()
        .map(|e| match e.kind {
            ExprKind::Column(i) => t.columns.get(i).map_or_else(|| "?".into(), |c| c.name.to_lowercase()),
            _ => "(expression)".into(),
        })
        .collect()
}

/// `\d+ VIEW`: the view's SELECT as written.
pub(super) fn view_definition(t: Option<&TableDef>) -> Table {
    let mut out = Table::new(&[("pg_get_viewdef", Type::TEXT)]);
    if let Some(view) = t.and_then(|t| t.view.as_ref()) {
        out.rows.push(vec![text(&format!(" {};", view.query.trim()))]);
    }
    out
}

fn text(s: &str) -> Value {
    Value::str(s)
}
