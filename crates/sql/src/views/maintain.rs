//! Incremental view maintenance, called by [`Writer`] when a row enters or leaves a table
//! that has views, and the initial fill of a new view.
//!
//! Invariant: after each call, the view's rows in partition `p` are the aggregate of the
//! joined source rows of partition `p` as the sources stand (for a changed row, between its
//! leaving and its entering, as if it were absent).
//!
//! 1. The changed row is joined with the other sources' rows of the same partition and
//!    filtered ([`super::join`]: a nested loop that probes an index of the next source on
//!    the join columns where one fits, and scans it otherwise).
//! 2. The joined rows are folded into one delta per group.
//! 3. Each delta is applied to the group's view row, found through the view's unique key on
//!    the group columns (a key with a NULL in it is not in that map, so such groups are found
//!    by scanning the view partition): entering adds; leaving subtracts, deletes the row when
//!    `COUNT(*)` reaches zero (a view without GROUP BY keeps its one row, with COUNTs 0 and
//!    the other aggregates NULL, as VoltDB does), and recomputes the group from the sources
//!    when MIN / MAX lose their extreme value or a SUM drops to zero (it may have to become
//!    NULL): through an index of a single source where one fits ([`super::group_index`]),
//!    else by scanning the partition. Every change goes through the `Writer`, so a failing
//!    statement undoes it.

use std::collections::HashMap;
use std::sync::Arc;

use voltrs_storage::{Partition, Row, RowId, Value};

use super::join::{JoinInput, joined, passes};
use super::{GROUP_KEY, ViewDef, group_index};
use crate::apply::{Writer, check_row, check_value};
use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::exec::{Env, ExecContext, eval};
use crate::expr::BinOp;
use crate::plan::{AggCall, AggFunc};

/// A row of `table` entered partition `p` (insert, or the new image of an update).
pub fn row_entered(w: &mut Writer, table: &Arc<TableDef>, p: usize, id: RowId) -> Result<()> {
    let Some(row) = w.row(table, p, id) else {
        return Ok(());
    };
    for view in &table.views {
        maintain(w, view, table, p, &row, None)?;
    }
    Ok(())
}

/// A row of `table` left partition `p` (deleted; `id` is its former slot).
pub fn row_left(w: &mut Writer, table: &Arc<TableDef>, p: usize, id: RowId, old: &Row) -> Result<()> {
    for view in &table.views {
        maintain(w, view, table, p, old, Some(id))?;
    }
    Ok(())
}

/// A row of `table` in partition `p` was replaced in place: the old image leaves (the row's
/// slot, which now holds the new image, is skipped if the group is recomputed), then the
/// new image enters.
pub fn row_changed(w: &mut Writer, table: &Arc<TableDef>, p: usize, id: RowId, old: &Row) -> Result<()> {
    row_left(w, table, p, id, old)?;
    row_entered(w, table, p, id)
}

/// Every row of `table` in partition `p` left: an inner join with an empty side is empty.
pub fn truncated(w: &mut Writer, table: &Arc<TableDef>, p: usize) -> Result<()> {
    for view in &table.views {
        let Some(def) = &view.view else { continue };
        w.truncate(view, p)?;
        if def.group_by.is_empty() {
            w.insert(view, p, check_row(view, zero_tail(def))?)?;
        }
    }
    Ok(())
}

/// The rows of a new view, per partition, computed from the sources' current rows.
pub fn fill(view: &TableDef, def: &ViewDef, partitions: &[Partition]) -> Result<Vec<Vec<Row>>> {
    let mut out = Vec::with_capacity(partitions.len());
    for p in 0..partitions.len() {
        let all = JoinInput {
            fixed: None,
            exclude: None,
            writing: None,
        };
        let groups = with_ctx(|ctx| fold(def, &joined(partitions.get(p), def, p, &all, ctx)?, None, ctx))?;
        let mut rows = Vec::with_capacity(groups.list.len().max(1));
        if groups.list.is_empty() && def.group_by.is_empty() {
            rows.push(check_row(view, zero_tail(def))?);
        }
        for (key, tail) in groups.list {
            rows.push(check_row(view, key.into_iter().chain(tail).collect())?);
        }
        out.push(rows);
    }
    Ok(out)
}

/// Applies one source row's entering (`leaving: None`) or leaving (`Some(slot)`) to a view.
fn maintain(
    w: &mut Writer,
    view: &Arc<TableDef>,
    source: &TableDef,
    p: usize,
    row: &[Value],
    leaving: Option<RowId>,
) -> Result<()> {
    let Some(def) = &view.view else {
        return Ok(());
    };
    let Some(si) = def.sources.iter().position(|s| s.id == source.id) else {
        return Ok(());
    };
    let deltas = with_ctx(|ctx| {
        if def.sources.len() == 1 {
            // A single-table view: the row is the joined row; no join, no grouping map.
            if !def.filter.is_empty() {
                let all: Vec<usize> = (0..def.filter.len()).collect();
                if !passes(row, &all, &def.filter, ctx)? {
                    return Ok(Groups { list: Vec::new() });
                }
            }
            return fold_one(def, row, ctx).map(|g| Groups { list: vec![g] });
        }
        let input = JoinInput {
            fixed: Some((si, row)),
            exclude: None,
            writing: Some(source.id),
        };
        let rows = joined(w.partition(p), def, p, &input, ctx)?;
        fold(def, &rows, None, ctx)
    })?;
    for (key, delta) in deltas.list {
        let found = find_group(w, view, p, &key)?;
        match (leaving, found) {
            (None, None) => {
                let new = check_row(view, key.into_iter().chain(delta).collect())?;
                w.insert(view, p, new)?;
            }
            (None, Some(id)) => {
                // The group's row gains the delta: only its aggregate columns change.
                let found = w.update_row(view, p, id, |old| {
                    let mut new = old.to_vec();
                    let start = def.count_column();
                    let tail = new.get_mut(start..).unwrap_or_default();
                    for ((a, t), d) in def.aggs.iter().zip(tail.iter_mut()).zip(&delta) {
                        *t = merge(a, t, d)?;
                    }
                    for (t, c) in tail.iter_mut().zip(view.columns.get(start..).unwrap_or_default()) {
                        *t = check_value(view, c, t)?;
                    }
                    Ok(new.into_boxed_slice())
                })?;
                if !found {
                    return Err(vanished(view, id));
                }
            }
            (Some(_), None) => {
                return Err(Error::Invalid(format!(
                    "internal: materialized view \"{}\" has no row for a group a source row leaves",
                    view.name
                )));
            }
            (Some(slot), Some(id)) => {
                let tail = current_tail(w, view, def, p, id)?;
                // The first aggregate is COUNT(*) (CREATE VIEW requires it).
                let count = match (def.aggs.first(), tail.first(), delta.first()) {
                    (Some(a), Some(t), Some(d)) => subtract(a, t, d)?.unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                if matches!(count, Value::Integer(n) if n <= 0) {
                    if def.group_by.is_empty() {
                        let zero = check_row(view, zero_tail(def))?;
                        w.update_many(view, p, vec![(id, zero)])?;
                    } else {
                        w.delete(view, p, id)?;
                    }
                    continue;
                }
                let mut new_tail = Vec::with_capacity(tail.len());
                let mut redo = Vec::new();
                for (j, ((a, t), d)) in def.aggs.iter().zip(&tail).zip(&delta).enumerate() {
                    match subtract(a, t, d)? {
                        Some(v) => new_tail.push(v),
                        None => {
                            redo.push(j);
                            new_tail.push(Value::Null);
                        }
                    }
                }
                if !redo.is_empty() {
                    let group = Group {
                        source,
                        si,
                        p,
                        key: &key,
                        slot,
                        count: &count,
                    };
                    new_tail = recompute(w, def, &group, new_tail, &redo)?;
                }
                let new = check_row(view, key.into_iter().chain(new_tail).collect())?;
                w.update_many(view, p, vec![(id, new)])?;
            }
        }
    }
    Ok(())
}

/// A group whose aggregates must be recomputed: a row of source `si` left from `slot`.
struct Group<'a> {
    source: &'a TableDef,
    si: usize,
    p: usize,
    key: &'a [Value],
    slot: RowId,
    /// The group's `COUNT(*)` without the leaving row.
    count: &'a Value,
}

/// The group's aggregate columns from the sources, `tail` holding the ones subtraction
/// kept and `redo` the positions it could not. An extreme value left, or a SUM reached zero
/// (it may have to become NULL). For a single-table view, in order of preference: each
/// MIN / MAX read from the end of an index range (group columns, argument); the group's
/// rows through an index on the group columns (used only if it finds `COUNT(*)` rows); a
/// scan of the partition.
fn recompute(w: &Writer, def: &ViewDef, g: &Group, mut tail: Vec<Value>, redo: &[usize]) -> Result<Vec<Value>> {
    let table = w.partition(g.p).and_then(|part| part.table(g.source.id));
    if def.sources.len() == 1
        && let Some(t) = table
    {
        let by_index = with_ctx(|ctx| -> Result<Option<Vec<Value>>> {
            let mut extremes = Vec::with_capacity(redo.len());
            for &j in redo {
                let Some(a) = def.aggs.get(j) else { break };
                match group_index::extreme(t, g.source, def, a, g.key, g.slot, ctx) {
                    Some(v) => extremes.push((j, v?)),
                    None => break,
                }
            }
            if extremes.len() == redo.len() {
                for (j, v) in extremes {
                    if let Some(t) = tail.get_mut(j) {
                        *t = v;
                    }
                }
                return Ok(Some(tail.clone()));
            }
            let Some(rows) = group_index::group_rows(t, g.source, def, g.key, g.slot) else {
                return Ok(None);
            };
            let all: Vec<usize> = (0..def.filter.len()).collect();
            let mut kept = Vec::with_capacity(rows.len());
            for r in rows {
                if passes(&r, &all, &def.filter, ctx)? {
                    kept.push(r.into_vec());
                }
            }
            let found = fold(def, &kept, Some(g.key), ctx)?
                .list
                .into_iter()
                .next()
                .map(|(_, t)| t);
            // Rows may be missing from the index (see group_index): then scan.
            Ok(found.filter(|t| t.first() == Some(g.count)))
        })?;
        if let Some(t) = by_index {
            return Ok(t);
        }
    }
    let input = JoinInput {
        fixed: None,
        exclude: Some((g.si, g.slot)),
        writing: Some(g.source.id),
    };
    let groups = with_ctx(|ctx| {
        let rows = joined(w.partition(g.p), def, g.p, &input, ctx)?;
        fold(def, &rows, Some(g.key), ctx)
    })?;
    Ok(groups
        .list
        .into_iter()
        .next()
        .map(|(_, t)| t)
        .unwrap_or_else(|| zero_tail(def)))
}

/// The aggregate columns of a view row.
fn current_tail(w: &Writer, view: &TableDef, def: &ViewDef, p: usize, id: RowId) -> Result<Vec<Value>> {
    match w.row(view, p, id) {
        Some(r) => Ok(r.get(def.count_column()..).map(|t| t.to_vec()).unwrap_or_default()),
        None => Err(vanished(view, id)),
    }
}

fn vanished(view: &TableDef, id: RowId) -> Error {
    Error::Invalid(format!(
        "internal: row {id} of materialized view \"{}\" vanished",
        view.name
    ))
}

/// The view row holding group `key` in partition `p`.
fn find_group(w: &Writer, view: &TableDef, p: usize, key: &[Value]) -> Result<Option<RowId>> {
    let by_key = view.uniques.iter().position(|u| u.name == GROUP_KEY);
    if let Some(u) = by_key
        && !key.is_empty()
        && key.iter().all(|v| !v.is_null())
    {
        return w.find(view, p, u, key);
    }
    // No GROUP BY (at most one row), or a NULL in the key (not entered in unique maps).
    let Some(t) = w.partition(p).and_then(|part| part.table(view.id)) else {
        return Err(Error::Invalid(format!(
            "internal: materialized view \"{}\" missing in partition {p}",
            view.name
        )));
    };
    Ok(t.scan()
        .find(|(_, r)| r.get(..key.len()) == Some(key))
        .map(|(id, _)| id))
}

/// Evaluation context for view expressions, which read only the row (checked at CREATE VIEW:
/// no tables, parameters or clock).
fn with_ctx<R>(f: impl FnOnce(&ExecContext) -> R) -> R {
    f(&ExecContext::row_only())
}

/// Groups in first-seen order: the group key and the aggregate columns.
struct Groups {
    list: Vec<(Vec<Value>, Vec<Value>)>,
}

/// Aggregates joined rows per group (only group `only`, when given).
fn fold(def: &ViewDef, rows: &[Vec<Value>], only: Option<&[Value]>, ctx: &ExecContext) -> Result<Groups> {
    let mut index: HashMap<Vec<Value>, usize> = HashMap::new();
    let mut list: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    for row in rows {
        let env = Env { row, parent: None };
        let key = def
            .group_by
            .iter()
            .map(|e| eval(e, &env, ctx))
            .collect::<Result<Vec<Value>>>()?;
        if only.is_some_and(|k| k != key.as_slice()) {
            continue;
        }
        let gi = match index.get(&key) {
            Some(&gi) => gi,
            None => {
                index.insert(key.clone(), list.len());
                list.push((key, zero_tail(def)));
                list.len() - 1
            }
        };
        let Some((_, tail)) = list.get_mut(gi) else {
            return Err(Error::Invalid("internal: view group index out of range".into()));
        };
        add_row(def, tail, &env, ctx)?;
    }
    Ok(Groups { list })
}

/// One row's group key and aggregate columns (the fold of a single row).
fn fold_one(def: &ViewDef, row: &[Value], ctx: &ExecContext) -> Result<(Vec<Value>, Vec<Value>)> {
    let env = Env { row, parent: None };
    let key = def
        .group_by
        .iter()
        .map(|e| eval(e, &env, ctx))
        .collect::<Result<Vec<Value>>>()?;
    let mut tail = zero_tail(def);
    add_row(def, &mut tail, &env, ctx)?;
    Ok((key, tail))
}

/// Adds one row to a group's aggregate columns.
fn add_row(def: &ViewDef, tail: &mut [Value], env: &Env, ctx: &ExecContext) -> Result<()> {
    for (a, t) in def.aggs.iter().zip(tail.iter_mut()) {
        let one = match (&a.arg, a.func) {
            (None, _) => Value::Integer(1),
            (Some(e), AggFunc::Count) => Value::Integer(i64::from(!eval(e, env, ctx)?.is_null())),
            (Some(e), AggFunc::Sum) => crate::cast::cast(&eval(e, env, ctx)?, a.ty)?,
            (Some(e), _) => eval(e, env, ctx)?,
        };
        *t = merge(a, t, &one)?;
    }
    Ok(())
}

/// The aggregate columns of an empty group: COUNTs 0, the others NULL.
fn zero_tail(def: &ViewDef) -> Vec<Value> {
    let zero = |a: &AggCall| match a.func {
        AggFunc::CountStar | AggFunc::Count => Value::Integer(0),
        _ => Value::Null,
    };
    def.aggs.iter().map(zero).collect()
}

/// Combines two states of one aggregate (NULL is "no value yet" for SUM, MIN and MAX).
fn merge(a: &AggCall, x: &Value, y: &Value) -> Result<Value> {
    Ok(match a.func {
        _ if y.is_null() => x.clone(),
        _ if x.is_null() => y.clone(),
        AggFunc::CountStar | AggFunc::Count | AggFunc::Sum | AggFunc::Avg => {
            crate::arith::arith(BinOp::Add, x, y, a.ty)?
        }
        AggFunc::Min => {
            if y < x {
                y.clone()
            } else {
                x.clone()
            }
        }
        AggFunc::Max => {
            if y > x {
                y.clone()
            } else {
                x.clone()
            }
        }
    })
}

/// Takes a leaving delta `d` out of the state `x`; `None` when the group must be recomputed
/// (an extreme value left, or a SUM reached zero and may have no non-NULL value left).
fn subtract(a: &AggCall, x: &Value, d: &Value) -> Result<Option<Value>> {
    if d.is_null() {
        return Ok(Some(x.clone()));
    }
    if x.is_null() {
        return Ok(None);
    }
    Ok(match a.func {
        AggFunc::CountStar | AggFunc::Count => Some(crate::arith::arith(BinOp::Sub, x, d, a.ty)?),
        AggFunc::Sum | AggFunc::Avg => {
            let r = crate::arith::arith(BinOp::Sub, x, d, a.ty)?;
            (r != Value::Integer(0)).then_some(r)
        }
        AggFunc::Min => (d > x).then(|| x.clone()),
        AggFunc::Max => (d < x).then(|| x.clone()),
    })
}
