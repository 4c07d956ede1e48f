//! ORDER BY ... LIMIT through an ordered index: each partition walks the index in key order
//! and stops after LIMIT rows that pass the filter; the Sort above merges those few rows.

use super::{never_null, same};
use crate::expr::{Expr, ExprKind};
use crate::plan::{Access, IndexScan, Plan};
use voltrs_storage::IndexMethod;

/// Rewrites `Limit(Sort(Project*(Scan)))` so the scan walks an index in the sort order
/// with a per-partition limit, when an index's key (after the scan's equality prefix) is
/// the sort keys, all in one direction, over NOT NULL columns (an index holds no NULL
/// keys, so every row is in it). Leaves any other plan unchanged.
pub(crate) fn order_by_index(plan: &mut Plan) {
    let Plan::Limit {
        input,
        limit: Some(limit),
        offset: None,
    } = plan
    else {
        return;
    };
    let Plan::Sort { input: sorted, keys } = input.as_mut() else {
        return;
    };
    let Some(first) = keys.first() else { return };
    let desc = first.desc;
    if keys.iter().any(|k| k.desc != desc || k.expr.has_subquery()) {
        return;
    }
    let mut wanted: Vec<Expr> = keys.iter().map(|k| k.expr.clone()).collect();
    let mut node = sorted.as_mut();
    loop {
        match node {
            Plan::Project { input, exprs } => {
                for w in &mut wanted {
                    let ExprKind::Column(i) = w.kind else { return };
                    let Some(e) = exprs.get(i) else { return };
                    *w = e.clone();
                }
                node = input.as_mut();
            }
            Plan::Scan { .. } => break,
            _ => return,
        }
    }
    let Plan::Scan {
        table, access, filter, ..
    } = node
    else {
        return;
    };
    let mut conjuncts = Vec::new();
    if let Some(f) = filter {
        f.clone().into_conjuncts(&mut conjuncts);
    }
    let not_null =
        |e: &Expr| matches!(e.kind, ExprKind::Column(c) if table.columns.get(c).is_some_and(|col| !col.nullable));
    if !wanted.iter().all(not_null) {
        return;
    }
    let fits = |index: usize, from: usize| {
        table.uniques.get(index).is_some_and(|k| {
            k.predicate.is_none()
                && k.storage_spec().method == IndexMethod::Tree
                && k.exprs.len() >= from + wanted.len()
                && wanted.iter().zip(&k.exprs[from..]).all(|(w, e)| same(w, e))
                // Key expressions after the sort keys hold no NULL in a wanted row, or the
                // row would be missing from the index (see `never_null`).
                && k.exprs[from + wanted.len()..].iter().all(|e| never_null(e, table, &conjuncts))
        })
    };
    match access {
        Access::Index(ix) => {
            // Keep the chosen index if its walk already follows the sort keys.
            if ix.any_of.is_empty() && fits(ix.index, ix.eq.len()) {
                ix.desc = desc;
                ix.limit = Some(limit.clone());
            }
        }
        Access::Full => {
            if let Some(index) = (0..table.uniques.len()).find(|&i| fits(i, 0)) {
                *access = Access::Index(Box::new(IndexScan {
                    index,
                    eq: Vec::new(),
                    any_of: Vec::new(),
                    lo: None,
                    hi: None,
                    desc,
                    limit: Some(limit.clone()),
                }));
            }
        }
    }
}
