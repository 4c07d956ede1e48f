//! CREATE VIEW and DROP VIEW: materialized views (see [`crate::views`]).
//!
//! 1. The query is bound ([`Binder::bind_view`]), the view's partitioning is derived from its
//!    sources, and a [`TableDef`] is built: the GROUP BY columns, then the aggregates, with a
//!    unique key on the group columns.
//! 2. The view's rows are computed from the sources' current rows ([`maintain::fill`]) before
//!    anything changes; then the storage is added, the definition entered in the catalog, and
//!    the sources relinked to their views.

use std::sync::Arc;

use voltrs_storage::TableId;

use super::{DdlContext, ns_mut};
use crate::apply::rebuild_indexes;
use crate::binder::{Binder, BoundView, Stats};
use crate::catalog::{Catalog, ColumnDef, TableDef, UniqueKey, UniqueKind};
use crate::error::{Error, Result, invalid, name_err};
use crate::expr::{BinOp, Expr, ExprKind};
use crate::parser::CreateView;
use crate::plan::AggFunc;
use crate::views::{self, GROUP_KEY, ViewDef, ViewSource, maintain};

/// DDL binds without live row counts (the join order of a view's query is not used).
struct NoStats;

impl Stats for NoStats {
    fn row_count(&self, _: TableId) -> usize {
        0
    }
}

pub fn create_view(cat: &mut Catalog, db: &str, cv: &CreateView, ctx: &mut DdlContext) -> Result<String> {
    let ns = cat.database(db)?.clone();
    if let Some(t) = ns.tables.get(&cv.name) {
        if cv.if_not_exists && t.is_view() {
            return Ok("CREATE VIEW".into());
        }
        let kind = if t.is_view() { "view" } else { "table" };
        return invalid(format!("object name already exists: {kind} \"{}\"", cv.name));
    }
    let bound = Binder::new(cat, &ns, &NoStats).bind_view(&cv.name, &cv.query)?;
    for s in &bound.sources {
        if ns.tables.get(&s.name).is_none_or(|t| t.id != s.id) {
            return invalid(format!(
                "Materialized view \"{}\" must read tables of its own database (\"{}\" is not in \"{db}\")",
                cv.name, s.name
            ));
        }
    }
    if bound.columns.len() != bound.group_by.len() + bound.aggs.len() {
        return invalid(format!("internal: view \"{}\" columns do not match its query", cv.name));
    }
    check_colocated(&cv.name, &bound)?;
    let names: Vec<String> = if cv.columns.is_empty() {
        bound.columns.iter().map(|(n, _)| n.clone()).collect()
    } else if cv.columns.len() == bound.columns.len() {
        cv.columns.clone()
    } else {
        return invalid(format!(
            "view \"{}\" names {} columns but its query has {}",
            cv.name,
            cv.columns.len(),
            bound.columns.len()
        ));
    };
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return invalid(format!("column \"{n}\" appears twice in view \"{}\"", cv.name));
        }
    }
    let (partition_column, partial) = partitioning(&bound);
    let k = bound.group_by.len();
    let columns: Vec<ColumnDef> = names
        .iter()
        .zip(&bound.columns)
        .enumerate()
        .map(|(i, (name, (_, ty)))| ColumnDef {
            name: name.clone(),
            ty: *ty,
            nullable: if i < k {
                bound
                    .group_by
                    .get(i)
                    .and_then(|g| source_column(&bound, g))
                    .is_none_or(|c| c.nullable)
            } else {
                !bound
                    .aggs
                    .get(i - k)
                    .is_some_and(|a| matches!(a.func, AggFunc::CountStar | AggFunc::Count))
            },
            default: None,
        })
        .collect();
    let uniques = if k == 0 {
        Vec::new()
    } else {
        vec![UniqueKey {
            name: GROUP_KEY.to_string(),
            kind: UniqueKind::PrimaryKey,
            exprs: columns
                .iter()
                .take(k)
                .enumerate()
                .map(|(i, c)| Expr::column(i, c.ty))
                .collect(),
            predicate: None,
            index: false,
        }]
    };
    let def = ViewDef {
        sources: bound
            .sources
            .iter()
            .map(|s| ViewSource {
                id: s.id,
                name: s.name.clone(),
                width: s.columns.len(),
                uniques: s.uniques.clone(),
                not_null: s.columns.iter().map(|c| !c.nullable).collect(),
            })
            .collect(),
        filter: bound.filter,
        group_by: bound.group_by,
        aggs: bound.aggs,
        partial,
        query: cv.query.to_string(),
    };
    let view = TableDef {
        id: cat.next_table_id,
        name: cv.name.clone(),
        columns,
        partition_column,
        uniques,
        row_limit: None,
        row_limit_name: None,
        view: None,
        views: Vec::new(),
    };
    // Fill aside; only a complete fill is installed.
    let rows = maintain::fill(&view, &def, ctx.partitions)?;
    let mut tables = Vec::with_capacity(rows.len());
    for part_rows in rows {
        let mut t = view.new_storage();
        for r in part_rows {
            t.insert(&r)?;
        }
        rebuild_indexes(&view, &mut t)?;
        tables.push(t);
    }
    let view = TableDef {
        view: Some(Arc::new(def)),
        ..view
    };
    let id = view.id;
    cat.next_table_id += 1;
    ns_mut(cat, db)?.tables.insert(view.name.clone(), Arc::new(view));
    for (p, t) in ctx.partitions.iter_mut().zip(tables) {
        p.tables.insert(id, t);
    }
    views::relink(cat, db)?;
    Ok("CREATE VIEW".into())
}

/// The source column a GROUP BY expression is, if it is a plain column.
fn source_column<'b>(bound: &'b BoundView, e: &Expr) -> Option<&'b ColumnDef> {
    let ExprKind::Column(mut i) = e.kind else {
        return None;
    };
    for s in &bound.sources {
        if i < s.columns.len() {
            return s.columns.get(i);
        }
        i -= s.columns.len();
    }
    None
}

/// Offset of each source's columns in the joined source row.
fn offsets(bound: &BoundView) -> Vec<usize> {
    let mut at = 0;
    bound
        .sources
        .iter()
        .map(|s| {
            let o = at;
            at += s.columns.len();
            o
        })
        .collect()
}

/// The view's partition column (a GROUP BY column that is a partitioned source's partition
/// column), and whether it holds partial rows (a partitioned source but no such column).
fn partitioning(bound: &BoundView) -> (Option<usize>, bool) {
    let offs = offsets(bound);
    let pcs: Vec<usize> = bound
        .sources
        .iter()
        .zip(&offs)
        .filter_map(|(s, o)| s.partition_column.map(|c| o + c))
        .collect();
    if pcs.is_empty() {
        return (None, false);
    }
    let found = bound
        .group_by
        .iter()
        .position(|g| matches!(g.kind, ExprKind::Column(i) if pcs.contains(&i)));
    match found {
        Some(i) => (Some(i), false),
        None => (None, true),
    }
}

/// Partitioned sources must be joined on their partition columns, so that every joined row
/// is made of rows of one partition (a replicated source has a copy in every partition).
fn check_colocated(view: &str, bound: &BoundView) -> Result<()> {
    let offs = offsets(bound);
    let parted: Vec<usize> = (0..bound.sources.len())
        .filter(|&i| bound.sources[i].partition_column.is_some())
        .collect();
    if parted.len() < 2 {
        return Ok(());
    }
    let pc_of = |col: usize| -> Option<usize> {
        parted
            .iter()
            .copied()
            .find(|&i| bound.sources[i].partition_column.map(|c| offs[i] + c) == Some(col))
    };
    // Union-find over the partitioned sources, joined by `a.pc = b.pc` conjuncts.
    let mut group: Vec<usize> = (0..bound.sources.len()).collect();
    fn root(g: &mut [usize], mut i: usize) -> usize {
        while g[i] != i {
            i = g[i];
        }
        i
    }
    for c in &bound.filter {
        if let ExprKind::Binary {
            op: BinOp::Eq,
            left,
            right,
        } = &c.kind
            && let (ExprKind::Column(l), ExprKind::Column(r)) = (&left.kind, &right.kind)
            && let (Some(a), Some(b)) = (pc_of(*l), pc_of(*r))
        {
            let (ra, rb) = (root(&mut group, a), root(&mut group, b));
            group[ra] = rb;
        }
    }
    let first = root(&mut group, parted[0]);
    for &i in &parted[1..] {
        if root(&mut group, i) != first {
            return invalid(format!(
                "Materialized view \"{view}\" joins partitioned tables \"{}\" and \"{}\" that are not joined on their partition columns",
                bound.sources[parted[0]].name, bound.sources[i].name
            ));
        }
    }
    Ok(())
}

/// DROP VIEW [IF EXISTS] name.
pub fn drop_view(cat: &mut Catalog, db: &str, name: &str, if_exists: bool, ctx: &mut DdlContext) -> Result<String> {
    let ns = cat.database(db)?.clone();
    match ns.tables.get(name) {
        Some(t) if t.is_view() => {
            remove(cat, db, t, ctx)?;
            views::relink(cat, db)?;
            Ok("DROP VIEW".into())
        }
        Some(_) => invalid(format!("\"{name}\" is a table, not a view (use DROP TABLE)")),
        None if if_exists => Ok("DROP VIEW".into()),
        None => name_err(format!("object not found: view \"{name}\" does not exist")),
    }
}

/// Before DROP TABLE: refuses a view (DROP VIEW drops it), and a source of views unless
/// `cascade`, in which case its views go first.
pub fn before_drop_table(cat: &mut Catalog, db: &str, t: &TableDef, cascade: bool, ctx: &mut DdlContext) -> Result<()> {
    if t.is_view() {
        return invalid(format!(
            "\"{}\" is a materialized view, not a table (use DROP VIEW)",
            t.name
        ));
    }
    if t.views.is_empty() {
        return Ok(());
    }
    if !cascade {
        let names: Vec<String> = t.views.iter().map(|v| format!("\"{}\"", v.name)).collect();
        let (what, verb) = if names.len() == 1 {
            ("view", "depends")
        } else {
            ("views", "depend")
        };
        return Err(Error::Invalid(format!(
            "cannot drop table \"{}\": materialized {what} {} {verb} on it (drop the {what} first, or use DROP TABLE ... CASCADE)",
            t.name,
            names.join(", ")
        )));
    }
    for v in &t.views {
        remove(cat, db, v, ctx)?;
    }
    views::relink(cat, db)
}

/// Removes a view's definition, indexes and storage.
fn remove(cat: &mut Catalog, db: &str, v: &TableDef, ctx: &mut DdlContext) -> Result<()> {
    let m = ns_mut(cat, db)?;
    m.tables.remove(&v.name);
    m.indexes.retain(|_, i| i.table != v.name);
    for p in ctx.partitions.iter_mut() {
        p.tables.remove(&v.id);
    }
    Ok(())
}
