//! Access-path choice: which index a scan walks, which partition it is pinned to, when an
//! ORDER BY ... LIMIT walks an index in order, and when a join probes an index.
//!
//! The binder builds the logical plan (join order, predicates pushed into scans); these
//! functions rewrite its scans in place. Every choice keeps the scan's whole filter, so an
//! index only narrows which rows are read and a wrong guess can cost time, never rows.
//! Rules, in order of preference for a scan's filter conjuncts:
//! 1. a unique index whose every key expression is equal to a constant (one row);
//! 2. the index with the longest equality prefix, then an IN list or a range on the next
//!    key expression (hash indexes only with every key expression equal);
//! 3. otherwise the arena walk.
//!
//! "Constant" means free of the scan's own columns and of subqueries: literals, parameters,
//! enclosing queries' columns.

mod explain;
mod order;

pub use explain::explain;
pub(crate) use order::order_by_index;

use voltrs_storage::IndexMethod;

use crate::catalog::{TableDef, UniqueKey};
use crate::expr::{BinOp, Expr, ExprKind};
use crate::plan::{Access, IndexScan, Plan};

/// Whether two expressions are the same tree (both bound over the same row layout).
pub(crate) fn same(a: &Expr, b: &Expr) -> bool {
    a.same_tree(b)
}

fn constant(e: &Expr) -> bool {
    !e.uses_columns() && !e.has_subquery()
}

/// `key op constant` (either way round) as (op with the key on the left, constant).
fn compare_with<'e>(conjunct: &'e Expr, key: &Expr) -> Option<(BinOp, &'e Expr)> {
    let ExprKind::Binary { op, left, right } = &conjunct.kind else {
        return None;
    };
    if !op.is_comparison() {
        return None;
    }
    if same(left, key) && constant(right) {
        Some((*op, right))
    } else if same(right, key) && constant(left) {
        Some((op.flip(), left))
    } else {
        None
    }
}

/// `key IN (constants...)`.
fn in_list<'e>(conjunct: &'e Expr, key: &Expr) -> Option<&'e [Expr]> {
    match &conjunct.kind {
        ExprKind::InList {
            expr,
            list,
            negated: false,
        } if same(expr, key) && list.iter().all(constant) => Some(list),
        _ => None,
    }
}

/// Whether the filter's conjuncts imply a partial index's predicate (it appears among them,
/// whole or as all of its own conjuncts).
fn implied(predicate: &Expr, conjuncts: &[Expr]) -> bool {
    let mut parts = Vec::new();
    predicate.clone().into_conjuncts(&mut parts);
    parts.iter().all(|p| conjuncts.iter().any(|c| same(c, p)))
}

/// Whether every row that passes the filter `conjuncts` has a non-NULL value for the key
/// expression `e`, so that an index over it holds the row (storage does not enter a key
/// with a NULL in any component): a NOT NULL column, or an expression that a conjunct
/// compares, lists in IN or says IS NOT NULL (each is only TRUE for a non-NULL value).
fn never_null(e: &Expr, table: &TableDef, conjuncts: &[Expr]) -> bool {
    if let ExprKind::Column(c) = e.kind
        && table.columns.get(c).is_some_and(|col| !col.nullable)
    {
        return true;
    }
    conjuncts.iter().any(|c| match &c.kind {
        ExprKind::Binary { op, left, right } if op.is_comparison() => same(left, e) || same(right, e),
        ExprKind::InList {
            expr, negated: false, ..
        } => same(expr, e),
        ExprKind::IsNull { expr, negated: true } => same(expr, e),
        _ => false,
    })
}

/// Whether a value of type `a` is compared with keys of type `b` in the index's order.
fn comparable(a: voltrs_storage::DataType, b: voltrs_storage::DataType) -> bool {
    (a.is_numeric() && b.is_numeric()) || std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// The best walk of index `i` for these conjuncts and its score (higher is better).
fn match_index(i: usize, table: &TableDef, key: &UniqueKey, conjuncts: &[Expr]) -> Option<(IndexScan, u32)> {
    if key.predicate.as_ref().is_some_and(|p| !implied(p, conjuncts)) {
        return None;
    }
    // A row with a NULL anywhere in its key is not in the index: the key expressions must be
    // non-NULL in every row the filter accepts (those constrained below are).
    if !key.exprs.iter().all(|k| never_null(k, table, conjuncts)) {
        return None;
    }
    let hash = key.storage_spec().method == IndexMethod::Hash;
    let mut scan = IndexScan {
        index: i,
        eq: Vec::new(),
        any_of: Vec::new(),
        lo: None,
        hi: None,
        desc: false,
        limit: None,
    };
    for k in &key.exprs {
        let found = conjuncts.iter().find_map(|c| match compare_with(c, k) {
            Some((BinOp::Eq, v)) if comparable(v.ty, k.ty) => Some(v.clone()),
            _ => None,
        });
        match found {
            Some(v) => scan.eq.push(v),
            None => break,
        }
    }
    let full = scan.eq.len() == key.exprs.len();
    if full {
        let score = if key.kind.is_unique() {
            1000
        } else {
            100 + scan.eq.len() as u32 * 10
        };
        return Some((scan, score));
    }
    if hash {
        return None;
    }
    let next = &key.exprs[scan.eq.len()];
    let mut score = scan.eq.len() as u32 * 10;
    if let Some(list) = conjuncts.iter().find_map(|c| in_list(c, next))
        // A NULL in the list matches nothing (the walk skips it) and does not stop the index.
        && list.iter().all(|v| v.ty == voltrs_storage::DataType::Null || comparable(v.ty, next.ty))
    {
        scan.any_of = list.to_vec();
        score += 8;
    } else {
        for c in conjuncts {
            match compare_with(c, next) {
                Some((op @ (BinOp::Gt | BinOp::GtEq), v)) if scan.lo.is_none() && comparable(v.ty, next.ty) => {
                    scan.lo = Some((v.clone(), op == BinOp::GtEq));
                }
                Some((op @ (BinOp::Lt | BinOp::LtEq), v)) if scan.hi.is_none() && comparable(v.ty, next.ty) => {
                    scan.hi = Some((v.clone(), op == BinOp::LtEq));
                }
                _ => {}
            }
        }
        score += u32::from(scan.lo.is_some()) * 3 + u32::from(scan.hi.is_some()) * 3;
    }
    (score > 0).then_some((scan, score))
}

/// Chooses a scan's access path and pin from its filter; returns the estimated fraction
/// of the table it reads (1.0 for a full walk).
pub(crate) fn choose_access(plan: &mut Plan) -> f64 {
    let Plan::Scan {
        table,
        filter,
        access,
        pin,
    } = plan
    else {
        return 1.0;
    };
    let mut conjuncts = Vec::new();
    if let Some(f) = filter {
        f.clone().into_conjuncts(&mut conjuncts);
    }
    *pin = partition_pin(table, &conjuncts);
    let best = table
        .uniques
        .iter()
        .enumerate()
        .filter_map(|(i, k)| match_index(i, table, k, &conjuncts))
        .max_by_key(|(scan, score)| (*score, std::cmp::Reverse(scan.index)));
    match best {
        Some((scan, score)) => {
            let fraction = if score >= 1000 {
                0.0
            } else {
                1.0 / f64::from(score.max(2))
            };
            *access = Access::Index(Box::new(scan));
            fraction
        }
        None => 1.0,
    }
}

/// `partition column = constant` among the conjuncts of a partitioned table's scan.
fn partition_pin(table: &TableDef, conjuncts: &[Expr]) -> Option<Expr> {
    let pc = table.partition_column?;
    let col = Expr::column(pc, table.columns.get(pc)?.ty);
    conjuncts.iter().find_map(|c| match compare_with(c, &col) {
        Some((BinOp::Eq, v)) => Some(v.clone()),
        _ => None,
    })
}

/// For a join of a plan with a plain scan of `table` (filtered by `filter`) on `keys` (left
/// expression, right expression over the table's row): an index whose leading key
/// expressions are all equated, and whose other key expressions are never NULL in a row the
/// join can return, as (index, left expressions in key order).
pub(crate) fn index_for_join(
    table: &TableDef,
    filter: Option<&Expr>,
    keys: &[(Expr, Expr)],
) -> Option<(usize, Vec<Expr>)> {
    let mut conjuncts = Vec::new();
    if let Some(f) = filter {
        f.clone().into_conjuncts(&mut conjuncts);
    }
    let mut best: Option<(usize, Vec<Expr>, u32)> = None;
    for (i, key) in table.uniques.iter().enumerate() {
        if key.predicate.is_some() {
            continue;
        }
        let mut probe = Vec::new();
        for k in &key.exprs {
            match keys.iter().find(|(l, r)| same(r, k) && comparable(l.ty, k.ty)) {
                Some((l, _)) => probe.push(l.clone()),
                None => break,
            }
        }
        let full = probe.len() == key.exprs.len();
        if probe.is_empty()
            || (!full && key.storage_spec().method == IndexMethod::Hash)
            || !key.exprs[probe.len()..]
                .iter()
                .all(|k| never_null(k, table, &conjuncts))
        {
            continue;
        }
        let score = if full && key.kind.is_unique() {
            1000
        } else {
            probe.len() as u32
        };
        if best.as_ref().is_none_or(|b| score > b.2) {
            best = Some((i, probe, score));
        }
    }
    best.map(|(i, probe, _)| (i, probe))
}

#[cfg(test)]
mod tests {
    use voltrs_storage::{DataType, Value};

    use super::same;
    use crate::expr::{BinOp, Expr, ExprKind};

    fn add(l: Expr, r: Expr) -> Expr {
        Expr::new(
            ExprKind::Binary {
                op: BinOp::Add,
                left: Box::new(l),
                right: Box::new(r),
            },
            DataType::BigInt,
        )
    }

    #[test]
    fn same_compares_trees_and_literal_classes() {
        let col = |i| Expr::column(i, DataType::BigInt);
        let int = |i| Expr::literal(Value::Integer(i), DataType::BigInt);
        assert!(same(&add(col(0), int(1)), &add(col(0), int(1))));
        assert!(!same(&add(col(0), int(1)), &add(col(1), int(1))), "another column");
        assert!(
            !same(&add(col(0), int(1)), &add(int(1), col(0))),
            "operand order counts"
        );
        assert!(
            !same(&int(1), &Expr::literal(Value::Float(1.0), DataType::BigInt)),
            "a FLOAT 1 is not an INTEGER 1"
        );
        assert!(!same(&col(0), &Expr::column(0, DataType::Integer)), "types count");
    }
}
