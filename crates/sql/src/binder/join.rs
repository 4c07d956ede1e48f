//! The join planner: FROM items plus WHERE conjuncts to a join tree.
//!
//! Single-relation predicates are pushed into that relation's scan; equalities between the
//! joined set and a new relation become hash-join keys; relations join greedily, smallest
//! estimate first, preferring one connected by an equality (never a cross product that a
//! later filter cuts down, unless no equality connects the rest). Polynomial in the number
//! of relations and predicates. The result's columns are in FROM order (the scope layout).

use crate::expr::{BinOp, Expr, ExprKind};
use crate::plan::{JoinKind, Plan};

/// One FROM item (a table, a derived table, or an outer-join tree kept in syntax order).
pub(crate) struct Relation {
    pub plan: Plan,
    pub width: usize,
    /// Rows expected after the relation's own filters.
    pub estimate: f64,
    /// Rows in the relation before filtering.
    pub rows: f64,
}

/// Builds the join tree. `conjuncts` are bound against the whole scope (all relations'
/// columns in order); the output rows have that layout.
pub(crate) fn plan_joins(relations: Vec<Relation>, conjuncts: Vec<Expr>) -> Plan {
    let n = relations.len();
    let mut offsets = Vec::with_capacity(n);
    let mut total = 0;
    for r in &relations {
        offsets.push(total);
        total += r.width;
    }
    let rels_of = |e: &Expr| inputs_read(e, &offsets);

    let mut rels: Vec<Option<Relation>> = relations.into_iter().map(Some).collect();
    let mut post: Vec<Expr> = Vec::new();
    let mut multi: Vec<(Expr, Vec<usize>)> = Vec::new();
    for c in conjuncts {
        if c.has_correlated_subquery() {
            post.push(c);
            continue;
        }
        let rs = rels_of(&c);
        match rs.as_slice() {
            [] => post.push(c),
            [r] => {
                let off = offsets[*r];
                let mut local = c;
                local.remap_columns(&|i| i - off);
                if let Some(rel) = rels[*r].as_mut() {
                    push_filter(rel, local);
                }
            }
            _ => multi.push((c, rs)),
        }
    }

    for rel in rels.iter_mut().flatten() {
        let fraction = choose_access_within(&mut rel.plan);
        if matches!(rel.plan, Plan::Scan { .. }) {
            rel.estimate = rel.estimate.min((rel.rows * fraction).max(1.0));
        }
    }

    // Greedy order: start from the smallest relation.
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let first = (0..n)
        .min_by(|&a, &b| est(&rels, a).total_cmp(&est(&rels, b)).then(a.cmp(&b)))
        .unwrap_or(0);
    let Some(start) = rels[first].take() else {
        return Plan::Values {
            rows: vec![vec![]],
            types: vec![],
        };
    };
    order.push(first);
    let mut plan = start.plan;
    let mut estimate = start.estimate;
    while order.len() < n {
        // Prefer a relation connected by an equality to the joined set.
        let mut best: Option<(usize, bool)> = None;
        for r in 0..n {
            if rels[r].is_none() {
                continue;
            }
            let connected = multi.iter().any(|(e, rs)| {
                rs.contains(&r)
                    && rs.iter().all(|x| *x == r || order.contains(x))
                    && equi_split(e, &rels_of, r).is_some()
            });
            best = match best {
                None => Some((r, connected)),
                Some((b, bc)) => {
                    let better = (connected && !bc) || (connected == bc && est(&rels, r) < est(&rels, b));
                    if better { Some((r, connected)) } else { Some((b, bc)) }
                }
            };
        }
        let Some((next, _)) = best else { break };
        let Some(rel) = rels[next].take() else { break };
        // Layout of the joined set: relations in `order`, each contiguous.
        let left_pos = layout(&order, &offsets, rel_widths(&offsets, total));
        let mut keys = Vec::new();
        let mut on = Vec::new();
        let mut remaining = Vec::new();
        for (e, rs) in multi.drain(..) {
            if !rs.iter().all(|x| *x == next || order.contains(x)) {
                remaining.push((e, rs));
                continue;
            }
            if let Some((l, r)) = equi_split(&e, &rels_of, next) {
                let mut l = l.clone();
                l.remap_columns(&|i| left_pos[i]);
                let off = offsets[next];
                let mut r = r.clone();
                r.remap_columns(&|i| i - off);
                keys.push((l, r));
            } else {
                on.push(e);
            }
        }
        multi = remaining;
        order.push(next);
        let joined_pos = layout(&order, &offsets, rel_widths(&offsets, total));
        let on = Expr::conjunction(
            on.into_iter()
                .map(|mut e| {
                    e.remap_columns(&|i| joined_pos[i]);
                    e
                })
                .collect(),
        );
        let estimate_before = estimate;
        estimate = if keys.is_empty() {
            estimate * rel.estimate
        } else {
            estimate.max(rel.estimate)
        };
        plan = join_with(plan, estimate_before, rel, keys, on);
    }
    let _ = estimate;
    // Restore FROM order.
    let pos = layout(&order, &offsets, rel_widths(&offsets, total));
    if pos.iter().enumerate().any(|(i, p)| i != *p) {
        let types = plan.output_types();
        let exprs = pos
            .iter()
            .map(|&p| Expr::column(p, types.get(p).copied().unwrap_or(voltrs_storage::DataType::Null)))
            .collect();
        plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
    }
    post.extend(multi.into_iter().map(|(e, _)| e));
    match Expr::conjunction(post) {
        Some(predicate) => Plan::Filter {
            input: Box::new(plan),
            predicate,
        },
        None => plan,
    }
}

/// Joins the plan so far with the next relation: an index nested-loop join when the
/// relation is a table scan with an index on the join keys and the left side is expected
/// to be much smaller than the table (each left row costs one index probe), otherwise a hash
/// join (or a nested loop without keys).
fn join_with(left: Plan, left_rows: f64, rel: Relation, keys: Vec<(Expr, Expr)>, on: Option<Expr>) -> Plan {
    if let Plan::Scan {
        table,
        filter,
        access: _,
        pin: _,
    } = &rel.plan
        && !keys.is_empty()
        && left_rows * 4.0 < rel.rows
        && !keys.iter().any(|(l, r)| l.has_subquery() || r.has_subquery())
        && let Some((index, probe)) = crate::planner::index_for_join(table, filter.as_ref(), &keys)
    {
        let on = right_keys_as_condition(on, &keys, left.width());
        return Plan::IndexJoin {
            left: Box::new(left),
            table: table.clone(),
            index,
            keys: probe,
            filter: filter.clone(),
            on,
            kind: JoinKind::Inner,
        };
    }
    Plan::Join {
        left: Box::new(left),
        right: Box::new(rel.plan),
        kind: JoinKind::Inner,
        keys,
        on,
    }
}

/// The join keys as a condition on the joined row (left columns, then the right table's),
/// added to `on`: an index probe may match more than the keys (a key prefix, numbers of
/// other classes), so every key is checked again on the joined row.
fn right_keys_as_condition(on: Option<Expr>, keys: &[(Expr, Expr)], left_width: usize) -> Option<Expr> {
    let mut parts: Vec<Expr> = on.into_iter().collect();
    for (l, r) in keys {
        let mut r = r.clone();
        r.remap_columns(&|i| i + left_width);
        parts.push(Expr::new(
            ExprKind::Binary {
                op: BinOp::Eq,
                left: Box::new(l.clone()),
                right: Box::new(r),
            },
            voltrs_storage::DataType::Boolean,
        ));
    }
    Expr::conjunction(parts)
}

/// The inputs (by position) whose columns `e` reads, ascending, when input `i`'s columns
/// start at `offsets[i]` of the combined row.
pub(crate) fn inputs_read(e: &Expr, offsets: &[usize]) -> Vec<usize> {
    let mut cols = Vec::new();
    e.columns_used(&mut cols);
    let mut inputs: Vec<usize> = cols
        .into_iter()
        .map(|c| offsets.iter().rposition(|&o| o <= c).unwrap_or(0))
        .collect();
    inputs.sort_unstable();
    inputs.dedup();
    inputs
}

fn est(rels: &[Option<Relation>], r: usize) -> f64 {
    rels[r].as_ref().map(|x| x.estimate).unwrap_or(f64::MAX)
}

fn rel_widths(offsets: &[usize], total: usize) -> Vec<usize> {
    (0..offsets.len())
        .map(|i| offsets.get(i + 1).copied().unwrap_or(total) - offsets[i])
        .collect()
}

/// For each scope column, its position in a row laid out as the relations of `order`.
fn layout(order: &[usize], offsets: &[usize], widths: Vec<usize>) -> Vec<usize> {
    let total: usize = widths.iter().sum();
    let mut pos = vec![usize::MAX; total];
    let mut at = 0;
    for &r in order {
        for k in 0..widths[r] {
            pos[offsets[r] + k] = at;
            at += 1;
        }
    }
    // Columns of relations not yet joined are never referenced; keep them harmless.
    for p in pos.iter_mut() {
        if *p == usize::MAX {
            *p = 0;
        }
    }
    pos
}

/// If `e` is `a = b` with one side over the joined set only and the other over `new` only,
/// returns (joined side, new side).
fn equi_split<'e>(e: &'e Expr, rels_of: &dyn Fn(&Expr) -> Vec<usize>, new: usize) -> Option<(&'e Expr, &'e Expr)> {
    let ExprKind::Binary {
        op: BinOp::Eq,
        left,
        right,
    } = &e.kind
    else {
        return None;
    };
    if left.has_subquery() || right.has_subquery() {
        return None;
    }
    let lr = rels_of(left);
    let rr = rels_of(right);
    if lr.is_empty() || rr.is_empty() {
        return None;
    }
    if rr == [new] && !lr.contains(&new) {
        Some((left, right))
    } else if lr == [new] && !rr.contains(&new) {
        Some((right, left))
    } else {
        None
    }
}

fn push_filter(rel: &mut Relation, pred: Expr) {
    rel.estimate = (rel.estimate * 0.25).max(1.0);
    push_into(&mut rel.plan, pred);
}

/// Puts a predicate over `plan`'s output as deep as it can go: into a scan's filter, or
/// through an outer join into its preserved side (a LEFT join's left input, a RIGHT join's
/// right one, either side of an inner join), whose rows reach the output unchanged, so
/// filtering them first gives the same rows. Anything else gets a Filter on top.
fn push_into(plan: &mut Plan, pred: Expr) {
    match plan {
        Plan::Scan { filter, .. } => {
            *filter = Some(match filter.take() {
                Some(f) => Expr::and(f, pred),
                None => pred,
            });
        }
        Plan::Join { left, right, kind, .. } if !pred.has_subquery() => {
            let left_width = left.width();
            let mut cols = Vec::new();
            pred.columns_used(&mut cols);
            let on_left = !cols.is_empty() && cols.iter().all(|&c| c < left_width);
            let on_right = !cols.is_empty() && cols.iter().all(|&c| c >= left_width);
            if on_left && matches!(kind, JoinKind::Left | JoinKind::Inner) {
                push_into(left, pred);
            } else if on_right && matches!(kind, JoinKind::Right | JoinKind::Inner) {
                let mut pred = pred;
                pred.remap_columns(&|c| c - left_width);
                push_into(right, pred);
            } else {
                wrap_filter(plan, pred);
            }
        }
        other => wrap_filter(other, pred),
    }
}

fn wrap_filter(plan: &mut Plan, predicate: Expr) {
    let input = std::mem::replace(
        plan,
        Plan::Values {
            rows: vec![],
            types: vec![],
        },
    );
    *plan = Plan::Filter {
        input: Box::new(input),
        predicate,
    };
}

/// Chooses access paths for the table scans inside an outer-join tree (a FROM item the join
/// planner keeps whole); returns the estimated fraction read when `plan` is itself a scan.
fn choose_access_within(plan: &mut Plan) -> f64 {
    match plan {
        Plan::Scan { .. } => crate::planner::choose_access(plan),
        Plan::Join { left, right, .. } => {
            choose_access_within(left);
            choose_access_within(right);
            1.0
        }
        Plan::Filter { input, .. } => {
            choose_access_within(input);
            1.0
        }
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use voltrs_storage::{Partition, TableId};
    use voltrs_wire::Hashinator;

    use crate::binder::{Binder, Bound, Stats};
    use crate::catalog::{Catalog, DEFAULT_DATABASE};
    use crate::ddl::{DdlContext, create_table};
    use crate::functions::FuncContext;
    use crate::parser::{Statement, parse_script};
    use crate::plan::Plan;

    struct Sizes;
    impl Stats for Sizes {
        fn row_count(&self, table: TableId) -> usize {
            // Table ids are 1, 2, 3...: make later tables bigger.
            table as usize * 100
        }
    }

    fn plan(tables: &[&str], sql: &str) -> Plan {
        let mut cat = Catalog::new();
        let mut parts = vec![Partition::default()];
        let h = Hashinator::new(1);
        for t in tables {
            let Statement::CreateTable(ct) = parse_script(t).expect("ddl").remove(0).statement else {
                panic!()
            };
            let mut ctx = DdlContext {
                partitions: &mut parts,
                hashinator: &h,
                func: FuncContext { now: 0, seed: 0 },
                partition_first_column: false,
            };
            create_table(&mut cat, DEFAULT_DATABASE, &ct, &mut ctx).expect("create");
        }
        let Statement::Query(q) = parse_script(sql).expect("query").remove(0).statement else {
            panic!()
        };
        let ns = cat.database(DEFAULT_DATABASE).expect("db").clone();
        match Binder::new(&cat, &ns, &Sizes).bind_query(&q).expect("bind") {
            Bound::Query { plan, .. } => plan,
            Bound::Write(_) => panic!("not a query"),
        }
    }

    /// Walks the plan collecting (join key count, has on) per join and filtered scans.
    fn shape(p: &Plan, joins: &mut Vec<(usize, bool)>, filtered: &mut Vec<String>) {
        match p {
            Plan::Join {
                left, right, keys, on, ..
            } => {
                joins.push((keys.len(), on.is_some()));
                shape(left, joins, filtered);
                shape(right, joins, filtered);
            }
            Plan::Scan {
                table, filter: Some(_), ..
            } => filtered.push(table.name.clone()),
            Plan::Filter { input, .. } | Plan::Project { input, .. } => shape(input, joins, filtered),
            _ => {}
        }
    }

    #[test]
    fn equalities_become_hash_keys_and_filters_go_to_scans() {
        let p = plan(
            &[
                "CREATE TABLE a (x INTEGER, k INTEGER)",
                "CREATE TABLE b (y INTEGER, z INTEGER)",
                "CREATE TABLE c (w INTEGER)",
            ],
            "SELECT * FROM c, b, a WHERE a.x = b.y AND b.z = c.w AND a.k = 5 AND a.x + c.w > 1",
        );
        let (mut joins, mut filtered) = (Vec::new(), Vec::new());
        shape(&p, &mut joins, &mut filtered);
        assert_eq!(filtered, vec!["A".to_string()], "a.k = 5 is pushed into a's scan");
        assert_eq!(joins.len(), 2);
        assert!(
            joins.iter().all(|(keys, _)| *keys == 1),
            "both joins are hash joins: {joins:?}"
        );
        assert_eq!(
            joins.iter().filter(|(_, on)| *on).count(),
            1,
            "the non-equi conjunct is checked at one join"
        );
    }

    #[test]
    fn no_cross_product_when_an_equality_connects() {
        // Smallest first (a), then the table connected to it (c), though b is smaller than c.
        let p = plan(
            &[
                "CREATE TABLE a (x INTEGER)",
                "CREATE TABLE b (y INTEGER)",
                "CREATE TABLE c (w INTEGER, v INTEGER)",
            ],
            "SELECT * FROM a, b, c WHERE a.x = c.w AND c.v = b.y",
        );
        let (mut joins, mut filtered) = (Vec::new(), Vec::new());
        shape(&p, &mut joins, &mut filtered);
        assert_eq!(joins, vec![(1, false), (1, false)]);
    }
}
