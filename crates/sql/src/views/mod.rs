//! Materialized views: `CREATE VIEW v AS SELECT g.., COUNT(*), SUM/COUNT/MIN/MAX(..) FROM t
//! [JOIN ..] [WHERE ..] [GROUP BY g..]`, stored as a table and kept current by every write to
//! its sources, in the same statement.
//!
//! Owns: the view definition ([`ViewDef`]), the links from a source table to its views
//! ([`relink`]), incremental maintenance ([`maintain`]), the initial fill, and the read-time
//! merge of partial rows ([`merged_scan`]). Must not touch: storage internals (every change
//! to a view goes through [`crate::apply::Writer`], so a failing statement rolls the view back
//! with its sources).
//!
//! 1. `CREATE VIEW` ([`crate::ddl::create_view`]) binds the query
//!    ([`crate::binder::Binder::bind_view`]) into a [`ViewDef`] over the *joined source row*
//!    (the sources' columns concatenated in FROM order), makes a [`TableDef`] whose columns
//!    are the GROUP BY values then the aggregates (`COUNT(*)` first) with a unique key on the
//!    group columns, fills it from the sources' current rows, and [`relink`]s every source's
//!    [`TableDef::views`] to the views' current definitions.
//! 2. Every write goes through the `Writer`, which calls this module when a row enters or
//!    leaves a table that has views ([`maintain::row_entered`], [`maintain::row_left`],
//!    [`maintain::row_changed`], [`maintain::truncated`]). Maintenance is local to the
//!    partition the row is in: the view's rows in partition `p` aggregate the joined source
//!    rows of partition `p` (a replicated source contributes its copy in `p`).
//! 3. Partitioning: a view of replicated tables is replicated; a view with a partitioned
//!    source is partitioned on the GROUP BY column that is a source's partition column. Without
//!    one, each partition holds one *partial* row per group (`ViewDef::partial`), and reads go
//!    through [`merged_scan`], which re-aggregates the partial rows into one row per group.

mod group_index;
mod join;
pub mod maintain;

use std::collections::BTreeMap;
use std::sync::Arc;

use voltrs_storage::{DataType, TableId};

use crate::catalog::{Catalog, TableDef, UniqueKey};
use crate::error::{Result, invalid, name_err};
use crate::expr::Expr;
use crate::plan::{AggCall, AggFunc, Plan};

pub use maintain::{row_changed, row_entered, row_left, truncated};

/// Name of the unique key on a view's group columns (VoltDB's name for the same key).
pub const GROUP_KEY: &str = "MATVIEW_PK_CONSTRAINT";

/// How a view's rows derive from its sources.
#[derive(Debug, Clone)]
pub struct ViewDef {
    /// Source tables in FROM order; their columns concatenated form the joined source row.
    pub sources: Vec<ViewSource>,
    /// The ON and WHERE conditions over the joined source row, as conjuncts.
    pub filter: Vec<Expr>,
    /// GROUP BY expressions over the joined source row: the view's first columns.
    pub group_by: Vec<Expr>,
    /// One per remaining view column: `COUNT(*)` first, then COUNT / SUM / MIN / MAX.
    pub aggs: Vec<AggCall>,
    /// The source is partitioned but the GROUP BY lacks its partition column: each partition
    /// holds partial rows, which reads merge.
    pub partial: bool,
    /// The SELECT as written.
    pub query: String,
}

#[derive(Debug, Clone)]
pub struct ViewSource {
    pub id: TableId,
    pub name: String,
    /// Column count of the source.
    pub width: usize,
    /// The source's indexes as they stand (positions match its storage indexes), kept
    /// current by [`relink`]; maintenance probes them.
    pub uniques: Vec<UniqueKey>,
    /// Per column of the source, whether it is NOT NULL.
    pub not_null: Vec<bool>,
}

impl ViewDef {
    /// Position of the view's `COUNT(*)` column.
    pub fn count_column(&self) -> usize {
        self.group_by.len()
    }
}

/// Refuses a write statement on a view.
pub fn check_writable(t: &TableDef, verb: &str) -> Result<()> {
    if t.is_view() {
        return invalid(format!(
            "{verb} is not allowed on materialized view \"{}\": its rows are maintained from its source tables",
            t.name
        ));
    }
    Ok(())
}

/// Refuses a change to a view's definition, or to a source's shape while views depend on it.
pub fn check_alterable(t: &TableDef, what: &str) -> Result<()> {
    if t.is_view() {
        return invalid(format!("{what} is not allowed on materialized view \"{}\"", t.name));
    }
    if let Some(v) = t.views.first() {
        return invalid(format!(
            "{what} is not allowed on table \"{}\": materialized view \"{}\" depends on it (drop the view first)",
            t.name, v.name
        ));
    }
    Ok(())
}

/// Points every table's [`TableDef::views`] at the current definitions of the views over it.
/// Called after any DDL that adds, drops or redefines a view.
pub fn relink(cat: &mut Catalog, db: &str) -> Result<()> {
    let Some(ns) = cat.databases.get_mut(db) else {
        return name_err(format!("database \"{db}\" does not exist"));
    };
    let ns = Arc::make_mut(ns);
    // Views keep a copy of their sources' index definitions: refresh stale ones first.
    let sources: std::collections::BTreeSet<TableId> = ns
        .tables
        .values()
        .filter_map(|t| t.view.as_ref())
        .flat_map(|v| v.sources.iter().map(|s| s.id))
        .collect();
    let indexes: BTreeMap<TableId, String> = ns
        .tables
        .values()
        .filter(|t| sources.contains(&t.id))
        .map(|t| (t.id, format!("{:?}", t.uniques)))
        .collect();
    let current: BTreeMap<TableId, Vec<UniqueKey>> = ns
        .tables
        .values()
        .filter(|t| indexes.contains_key(&t.id))
        .map(|t| (t.id, t.uniques.clone()))
        .collect();
    for t in ns.tables.values_mut() {
        let stale = t.view.as_ref().is_some_and(|v| {
            v.sources
                .iter()
                .any(|s| indexes.get(&s.id).is_some_and(|now| *now != format!("{:?}", s.uniques)))
        });
        if stale && let Some(v) = Arc::make_mut(t).view.as_mut() {
            for s in &mut Arc::make_mut(v).sources {
                if let Some(u) = current.get(&s.id) {
                    s.uniques = u.clone();
                }
            }
        }
    }
    let mut deps: BTreeMap<TableId, Vec<Arc<TableDef>>> = BTreeMap::new();
    for t in ns.tables.values() {
        if let Some(v) = &t.view {
            for s in &v.sources {
                deps.entry(s.id).or_default().push(t.clone());
            }
        }
    }
    for t in ns.tables.values_mut() {
        let want = deps.remove(&t.id).unwrap_or_default();
        let same = want.len() == t.views.len() && want.iter().zip(&t.views).all(|(a, b)| Arc::ptr_eq(a, b));
        if !same {
            Arc::make_mut(t).views = want;
        }
    }
    Ok(())
}

/// How queries read a table: a plain scan, or for a view of partial rows, the partial rows
/// re-aggregated into one row per group (COUNT and SUM add, MIN and MAX compare), so every
/// reader sees merged rows in the view's own column layout.
pub fn merged_scan(table: Arc<TableDef>) -> Plan {
    let Some(def) = table.view.as_ref().filter(|v| v.partial).cloned() else {
        return Plan::Scan {
            table,
            filter: None,
            access: Default::default(),
            pin: None,
        };
    };
    let k = def.group_by.len();
    let col = |i: usize| Expr::column(i, table.columns.get(i).map(|c| c.ty).unwrap_or(DataType::Null));
    let group_by = (0..k).map(col).collect();
    let aggs = def
        .aggs
        .iter()
        .enumerate()
        .map(|(j, a)| {
            let func = match a.func {
                AggFunc::CountStar | AggFunc::Count | AggFunc::Sum | AggFunc::Avg => AggFunc::Sum,
                f => f,
            };
            AggCall {
                func,
                arg: Some(col(k + j)),
                distinct: false,
                ty: a.ty,
            }
        })
        .collect();
    Plan::Aggregate {
        input: Box::new(Plan::Scan {
            table,
            filter: None,
            access: Default::default(),
            pin: None,
        }),
        group_by,
        aggs,
    }
}
