//! Indexes that narrow the recomputation of one group of a single-table view (after a MIN /
//! MAX lost its extreme row, or a SUM reached zero), instead of scanning the partition.
//!
//! An index fits when it has no partial predicate and its leading key expressions are the
//! view's GROUP BY expressions (structurally, in any order). Rows with a NULL key are not in
//! an index, so callers use these only for groups without a NULL in their key.
//!
//! Invariants the callers rely on:
//! - [`group_rows`] may miss rows (a NULL in a key component past the group ones, or, in an
//!   UPDATE of several rows, rows whose index entries are out while they wait their turn);
//!   it never returns a row outside the group. The caller compares the count it finds with
//!   the group's `COUNT(*)` and scans when they differ.
//! - [`extreme`] reads the first (MIN) or last (MAX) entry of the group's range in an index
//!   keyed (group.., argument) that passes the view's filter. Rows missing from the index
//!   are NULL arguments (ignored by MIN / MAX) or rows of the statement still to be updated:
//!   their old images leave before the statement ends, and each leaving compares with the
//!   kept extreme, so the view ends right.

use voltrs_storage::{IndexMethod, Row, RowId, Table, Value};

use super::ViewDef;
use super::join::passes;
use crate::catalog::{TableDef, UniqueKey};
use crate::error::Result;
use crate::exec::{Env, ExecContext, eval};
use crate::expr::Expr;
use crate::plan::{AggCall, AggFunc};
use crate::planner::same;

/// For each of the first `group_by.len()` key expressions of `u`, the GROUP BY position it
/// is; `None` unless they are the GROUP BY expressions in some order.
fn group_prefix(u: &UniqueKey, group_by: &[Expr]) -> Option<Vec<usize>> {
    let k = group_by.len();
    if u.predicate.is_some() || u.exprs.len() < k {
        return None;
    }
    let mut used = vec![false; k];
    let mut perm = Vec::with_capacity(k);
    for e in u.exprs.get(..k)? {
        let g = (0..k).find(|&g| !used[g] && same(e, &group_by[g]))?;
        used[g] = true;
        perm.push(g);
    }
    Some(perm)
}

/// The group key in the order of the index's key.
fn prefix_key(perm: &[usize], key: &[Value]) -> Option<Vec<Value>> {
    perm.iter().map(|&g| key.get(g).cloned()).collect()
}

/// The source rows of group `key` (no NULL in it), except slot `exclude`, found through an
/// index whose key starts with the GROUP BY expressions; `None` without such an index.
/// The rows are not filtered by the view's WHERE. See the module note: rows may be missing.
pub(super) fn group_rows(
    table: &Table,
    source: &TableDef,
    def: &ViewDef,
    key: &[Value],
    exclude: RowId,
) -> Option<Vec<Row>> {
    let k = def.group_by.len();
    if k == 0 || key.len() != k || key.iter().any(Value::is_null) {
        return None;
    }
    // The fitting index with the fewest extra key components (fewest rows left out).
    let (ix, perm) = source
        .uniques
        .iter()
        .enumerate()
        .filter(|(_, u)| u.storage_spec().method == IndexMethod::Tree || u.exprs.len() == k)
        .filter_map(|(i, u)| Some((i, u.exprs.len(), group_prefix(u, &def.group_by)?)))
        .min_by_key(|(_, len, _)| *len)
        .map(|(i, _, perm)| (i, perm))?;
    let index = table.indexes.get(ix)?;
    let prefix = prefix_key(&perm, key)?;
    let mut ids = Vec::new();
    index.prefix(&prefix, &mut ids);
    Some(
        ids.into_iter()
            .filter(|&id| id != exclude)
            .filter_map(|id| table.get(id))
            .collect(),
    )
}

/// The new value of MIN / MAX aggregate `a` for group `key` (no NULL in it), without slot
/// `exclude`: the first or last entry of the group's range, that passes the view's filter,
/// of an ordered index keyed exactly (GROUP BY expressions in any order, the argument).
/// `None` without such an index.
pub(super) fn extreme(
    table: &Table,
    source: &TableDef,
    def: &ViewDef,
    a: &AggCall,
    key: &[Value],
    exclude: RowId,
    ctx: &ExecContext,
) -> Option<Result<Value>> {
    let k = def.group_by.len();
    let arg = a.arg.as_ref()?;
    let desc = match a.func {
        AggFunc::Min => false,
        AggFunc::Max => true,
        _ => return None,
    };
    if key.len() != k || key.iter().any(Value::is_null) {
        return None;
    }
    let (ix, perm) = source.uniques.iter().enumerate().find_map(|(i, u)| {
        let fits = u.storage_spec().method == IndexMethod::Tree
            && u.exprs.len() == k + 1
            && u.exprs.get(k).is_some_and(|e| same(e, arg));
        if !fits {
            return None;
        }
        Some((i, group_prefix(u, &def.group_by)?))
    })?;
    let index = table.indexes.get(ix)?;
    let prefix = prefix_key(&perm, key)?;
    let all: Vec<usize> = (0..def.filter.len()).collect();
    let mut out: Result<Value> = Ok(Value::Null);
    index.scan(
        &prefix,
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
        desc,
        &mut |id| {
            if id == exclude {
                return true;
            }
            let Some(row) = table.get(id) else {
                return true;
            };
            let found = passes(&row, &all, &def.filter, ctx).and_then(|ok| {
                ok.then(|| {
                    eval(
                        arg,
                        &Env {
                            row: &row,
                            parent: None,
                        },
                        ctx,
                    )
                })
                .transpose()
            });
            match found {
                Ok(None) => true,
                Ok(Some(v)) => {
                    out = Ok(v);
                    false
                }
                Err(e) => {
                    out = Err(e);
                    false
                }
            }
        },
    );
    Some(out)
}
