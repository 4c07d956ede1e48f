//! psql's backslash commands without a pg_catalog: `\d`, `\dt`, `\dv`, `\d NAME` and their
//! `+` forms.
//!
//! psql implements its backslash commands with queries against PostgreSQL's system
//! catalogs (`pg_class`, `pg_attribute`, `format_type()`, regular expressions on `relname`,
//! ...). voltrs has no pg_catalog: this module recognizes the queries psql 15 sends for
//! those commands (`psql -E` echoes them) and answers them from the voltrs catalog of the
//! session's current database. It reads the [`Namespace`] only; it never runs SQL.
//!
//! 1. [`answer`] takes every simple-protocol statement; one that does not name
//!    `pg_catalog.` is not its business (`None`).
//! 2. [`Query::recognize`] tells which of psql's queries it is from the catalog table it
//!    reads and the columns it selects (whitespace-insensitive; no SQL parsing).
//! 3. The answer is synthesized from the namespace. Every table and view is a relation of
//!    schema `public` whose oid is 16384 (PostgreSQL's first user oid) plus its table id,
//!    named in lower case as PostgreSQL folds unquoted names. Tables are relkind `r`;
//!    VoltDB views (materialized, but declared with CREATE VIEW) are relkind `v`.
//! 4. The footer queries of `\d NAME` that have nothing to show in voltrs (check and
//!    foreign-key constraints, policies, extended statistics, publications, inheritance)
//!    are answered with no rows.
//! 5. Any other query naming `pg_catalog.` is an error (SQLSTATE 0A000) saying what is
//!    supported, rather than the engine's confusing `database "PG_CATALOG" does not exist`.

use std::sync::Arc;

use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo, Response};
use pgwire::error::ErrorInfo;
use regex::Regex;
use voltrs_sql::catalog::{Catalog, Namespace};
use voltrs_storage::Value;

use relations::{Kind, columns, indexes, info, list, lookup, relation, view_definition};

mod relations;
#[cfg(test)]
mod tests;

/// The oid of the first relation: PostgreSQL's `FirstNormalObjectId`.
const FIRST_OID: u32 = 16384;

/// The one schema voltrs shows: each database is its own namespace.
const SCHEMA: &str = "public";

/// Who owns every relation (voltrs tables have no owner).
const OWNER: &str = "voltrs";

/// The error for pg_catalog queries this module does not know.
const UNSUPPORTED: &str = "voltrs does not have pg_catalog (PostgreSQL's system catalogs); \
     it answers only the catalog queries of psql's \\d, \\dt, \\dv and \\d NAME (and their + forms)";

/// Answers a psql catalog query from the catalog of `database`: `None` for a statement that
/// does not name `pg_catalog.` (the engine runs it), an error response for one that is not
/// recognized.
pub fn answer(sql: &str, catalog: &Catalog, database: &str) -> Option<Response> {
    if !names_pg_catalog(sql) {
        return None;
    }
    let empty = Namespace::default();
    let ns = catalog.databases.get(database).map_or(&empty, |ns| &**ns);
    Some(match Query::recognize(sql).and_then(|q| q.answer(ns)) {
        Ok(table) => table.response(),
        Err(message) => Response::Error(Box::new(ErrorInfo::new("ERROR".into(), "0A000".into(), message))),
    })
}

/// Whether `sql` names `pg_catalog.` outside string literals (an INSERT of the text
/// "pg_catalog." is the engine's). Splitting at every quote leaves the text outside
/// literals at even positions, `''` inside a literal included.
fn names_pg_catalog(sql: &str) -> bool {
    sql.split('\'')
        .step_by(2)
        .any(|outside| outside.to_ascii_lowercase().contains("pg_catalog."))
}

/// A synthesized result: column names exactly as psql shows them, and rows.
#[derive(Debug, PartialEq)]
struct Table {
    columns: Vec<(String, Type)>,
    rows: Vec<Vec<Value>>,
}

impl Table {
    fn new(columns: &[(&str, Type)]) -> Table {
        Table {
            columns: columns.iter().map(|(n, t)| (n.to_string(), t.clone())).collect(),
            rows: Vec::new(),
        }
    }

    fn response(&self) -> Response {
        let fields: Vec<FieldInfo> = self
            .columns
            .iter()
            .map(|(name, ty)| FieldInfo::new(name.clone(), None, None, ty.clone(), FieldFormat::Text))
            .collect();
        super::query::query_response(Arc::new(fields), &self.rows)
    }
}

/// The psql queries answered.
#[derive(Debug)]
enum Query {
    /// `\d`, `\dt`, `\dv` (and `+`): relations of some kinds, maybe filtered by name.
    List {
        filter: Filter,
        /// The result's column aliases, in order (`Schema`, `Name`, `Type`, `Owner`, ...).
        aliases: Vec<String>,
    },
    /// `\d NAME`, first step: the oid, schema and name of each relation matching NAME.
    Lookup(Filter),
    /// `\d NAME`: relkind and flags of the relation with this oid.
    Info(u32),
    /// `\d NAME`: its columns; which attributes psql asked for, in order.
    Columns(u32, Vec<Attribute>),
    /// `\d NAME`: the indexes of a table.
    Indexes(u32),
    /// `\d+ VIEW`: the view's query.
    ViewDefinition(u32),
    /// A `\d NAME` footer voltrs has nothing for: no rows of these columns.
    Nothing(&'static [&'static str]),
}

/// A column of psql's `pg_attribute` query.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Attribute {
    Name,
    Type,
    Default,
    NotNull,
    Collation,
    Identity,
    Generated,
    Storage,
    Compression,
    StatsTarget,
    Description,
    /// A column of index or foreign-table descriptions (never asked of voltrs's relkinds).
    Other,
}

/// What psql selects from `pg_attribute` (markers found in its select list) and what each
/// is. Found by position, so the order of psql's columns is kept whatever it asks.
const ATTRIBUTES: &[(&str, Attribute)] = &[
    ("a.attname", Attribute::Name),
    ("pg_catalog.format_type(a.atttypid, a.atttypmod)", Attribute::Type),
    ("pg_catalog.pg_get_expr(d.adbin", Attribute::Default),
    ("a.attnotnull", Attribute::NotNull),
    ("as attcollation", Attribute::Collation),
    ("a.attidentity", Attribute::Identity),
    ("a.attgenerated", Attribute::Generated),
    ("a.attstorage", Attribute::Storage),
    ("attcompression", Attribute::Compression),
    ("attstattarget", Attribute::StatsTarget),
    ("pg_catalog.col_description(", Attribute::Description),
    ("as is_key", Attribute::Other),
    ("as indexdef", Attribute::Other),
    ("as attfdwoptions", Attribute::Other),
];

/// The `\d NAME` footers answered with no rows: a marker of psql's query and its columns.
const NOTHING: &[(&str, &[&str])] = &[
    (
        "from pg_catalog.pg_constraint",
        &["sametable", "conname", "condef", "ontable"],
    ),
    (
        "from pg_catalog.pg_policy pol",
        &[
            "polname",
            "polpermissive",
            "array_to_string",
            "pg_get_expr",
            "pg_get_expr",
            "cmd",
        ],
    ),
    (
        "from pg_catalog.pg_statistic_ext",
        &[
            "oid",
            "stxrelid",
            "nsp",
            "stxname",
            "columns",
            "ndist_enabled",
            "deps_enabled",
            "mcv_enabled",
            "stxstattarget",
        ],
    ),
    ("from pg_catalog.pg_publication", &["pubname", "?column?", "?column?"]),
    (
        "i.inhparent = '",
        &["oid", "relkind", "inhdetachpending", "pg_get_expr"],
    ),
    ("i.inhrelid = '", &["oid"]),
    ("from pg_catalog.pg_rewrite r", &["rulename", "btrim", "ev_enabled"]),
    (
        "from pg_catalog.pg_trigger t",
        &["tgname", "pg_get_triggerdef", "tgenabled", "tgisinternal", "parent"],
    ),
];

impl Query {
    /// Which of psql's catalog queries `sql` is.
    fn recognize(sql: &str) -> Result<Query, String> {
        // Markers are matched on one space per run of whitespace, case-insensitively; the
        // quoted aliases and string literals are read from `q` as written.
        let q = squeeze(sql);
        let lower = q.to_ascii_lowercase();
        let from_class = lower.contains("from pg_catalog.pg_class c");
        if lower.contains("pg_catalog.pg_get_viewdef(") {
            return Ok(Query::ViewDefinition(first_oid(&q).unwrap_or(0)));
        }
        if lower.contains("from pg_catalog.pg_attribute a") && lower.contains("pg_catalog.format_type(a.atttypid") {
            let select = &lower[..lower.rfind("from pg_catalog.pg_attribute a").unwrap_or(lower.len())];
            let mut found: Vec<(usize, Attribute)> = ATTRIBUTES
                .iter()
                .filter_map(|(marker, a)| select.find(marker).map(|at| (at, *a)))
                .collect();
            found.sort_by_key(|(at, _)| *at);
            let oid = first_oid(&q).ok_or(UNSUPPORTED)?;
            return Ok(Query::Columns(oid, found.into_iter().map(|(_, a)| a).collect()));
        }
        if from_class && lower.contains("c.relchecks, c.relkind") {
            return Ok(Query::Info(first_oid(&q).ok_or(UNSUPPORTED)?));
        }
        if from_class && q.contains(" as \"Name\"") && lower.contains("c.relkind in (") {
            let filter = Filter::from_query(&q)?;
            // `\di`: voltrs shows indexes under their table (`\d NAME`), not as relations.
            if filter.kinds.as_ref().is_some_and(|k| k.contains(&'i')) {
                return Err(UNSUPPORTED.into());
            }
            let select = &q[..lower.find("from pg_catalog.pg_class c").unwrap_or(q.len())];
            return Ok(Query::List {
                filter,
                aliases: aliases(select),
            });
        }
        if from_class && lower.contains("pg_catalog.pg_index i") && lower.contains("c2.relname") {
            return Ok(Query::Indexes(first_oid(&q).ok_or(UNSUPPORTED)?));
        }
        if from_class && lower.starts_with("select c.oid, n.nspname, c.relname ") {
            return Ok(Query::Lookup(Filter::from_query(&q)?));
        }
        if first_oid(&q).is_some()
            && let Some((_, columns)) = NOTHING.iter().find(|(marker, _)| lower.contains(marker))
        {
            return Ok(Query::Nothing(columns));
        }
        Err(UNSUPPORTED.into())
    }

    fn answer(self, ns: &Namespace) -> Result<Table, String> {
        Ok(match self {
            Query::List { filter, aliases } => list(ns, &filter, &aliases),
            Query::Lookup(filter) => lookup(ns, &filter),
            Query::Info(oid) => info(relation(ns, oid)),
            Query::Columns(oid, attributes) => columns(relation(ns, oid), &attributes),
            Query::Indexes(oid) => indexes(ns, relation(ns, oid)),
            Query::ViewDefinition(oid) => view_definition(relation(ns, oid)),
            Query::Nothing(columns) => Table {
                columns: columns.iter().map(|c| (c.to_string(), Type::TEXT)).collect(),
                rows: Vec::new(),
            },
        })
    }
}

/// Which relations a query asks for: its `c.relkind IN (...)` and its regular expressions
/// on the relation and schema names (psql's patterns, already translated).
#[derive(Debug)]
struct Filter {
    kinds: Option<Vec<char>>,
    name: Option<Regex>,
    schema: Option<Regex>,
}

impl Filter {
    fn from_query(q: &str) -> Result<Filter, String> {
        let lower = q.to_ascii_lowercase();
        let kinds = lower.find("c.relkind in (").map(|at| {
            let rest = &q[at + "c.relkind in (".len()..];
            let list = &rest[..rest.find(')').unwrap_or(rest.len())];
            list.split(',')
                .filter_map(|k| k.trim().trim_matches('\'').chars().next())
                .collect()
        });
        Ok(Filter {
            kinds,
            name: pattern(q, "c.relname OPERATOR(pg_catalog.~) ")?,
            schema: pattern(q, "n.nspname OPERATOR(pg_catalog.~) ")?,
        })
    }

    fn admits(&self, kind: Kind, name: &str) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind.relkind()))
            && self.name.as_ref().is_none_or(|r| r.is_match(name))
            && self.schema.as_ref().is_none_or(|r| r.is_match(SCHEMA))
    }
}

/// The regular expression after `marker` (a SQL string literal), if the query has one.
fn pattern(q: &str, marker: &str) -> Result<Option<Regex>, String> {
    let Some(at) = q.find(marker) else {
        return Ok(None);
    };
    let Some(text) = literal(&q[at + marker.len()..]) else {
        return Err(UNSUPPORTED.into());
    };
    Regex::new(&text)
        .map(Some)
        .map_err(|e| format!("invalid regular expression {text}: {e}"))
}

/// The SQL string literal at the start of `s` (`'a''b'` is `a'b`).
fn literal(s: &str) -> Option<String> {
    let mut chars = s.strip_prefix('\'')?.chars().peekable();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return Some(out);
            }
        }
        out.push(c);
    }
    None
}

/// The first quoted number of the query: the oid psql asks about (`WHERE c.oid = '16385'`).
fn first_oid(q: &str) -> Option<u32> {
    q.split('\'')
        .skip(1)
        .step_by(2)
        .find(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
}

/// The quoted aliases of a select list (`n.nspname as "Schema"` gives `Schema`).
fn aliases(select: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = select;
    while let Some(at) = rest.to_ascii_lowercase().find(" as \"") {
        rest = &rest[at + 5..];
        let Some(end) = rest.find('"') else { break };
        out.push(rest[..end].to_string());
        rest = &rest[end + 1..];
    }
    out
}

/// `sql` with every run of whitespace made one space, trimmed.
fn squeeze(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
