//! Where a bound statement can run: on one partition's site (single-partition, SP), on any
//! one site (it reads only replicated tables), or across all partitions (multi-partition, MP).
//!
//! A statement is single-partition when every scan of a partitioned table is pinned (its
//! filter holds `partition column = value`, see [`Plan::Scan`]) to a value that hashes to
//! one partition, a single-row INSERT's partition value picks it, and it writes no
//! replicated table. Anything else, including a pin that cannot be evaluated before the
//! statement runs (a correlated value), is multi-partition.

use voltrs_storage::Value;
use voltrs_wire::Hashinator;

use crate::binder::{Bound, BoundWrite};
use crate::catalog::TableDef;
use crate::exec::{Env, ExecContext, eval, place_value};
use crate::expr::{Expr, ExprKind};
use crate::functions::FuncContext;
use crate::plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Reads only replicated tables (or nothing): any one site's copy answers it.
    Anywhere,
    /// Touches only this partition's rows.
    Partition(usize),
    /// Needs every partition.
    Multi,
}

impl Route {
    /// The route of two statements run in one transaction.
    pub fn and(self, other: Route) -> Route {
        match (self, other) {
            (Route::Anywhere, r) | (r, Route::Anywhere) => r,
            (Route::Partition(a), Route::Partition(b)) if a == b => Route::Partition(a),
            _ => Route::Multi,
        }
    }
}

/// Plans nested deeper than this (subqueries, derived tables) are routed multi-partition
/// without looking further, so routing never recurses deeper than binding did.
const MAX_DEPTH: usize = 64;

/// The route of a bound statement run with `params`.
pub fn route(bound: &Bound, params: &[Value], hashinator: &Hashinator) -> Route {
    let r = Router {
        params,
        hashinator,
        depth: std::cell::Cell::new(0),
    };
    match bound {
        Bound::Query { plan, .. } => r.plan(plan),
        Bound::Write(w) => r.write(w),
    }
}

struct Router<'a> {
    params: &'a [Value],
    hashinator: &'a Hashinator,
    depth: std::cell::Cell<usize>,
}

impl Router<'_> {
    fn write(&self, w: &BoundWrite) -> Route {
        let (table, reads) = match w {
            BoundWrite::Insert {
                table, targets, source, ..
            } => {
                let here = match (table.partition_column, source) {
                    (Some(col), Plan::Values { rows, .. }) if rows.len() == 1 => {
                        match targets.iter().position(|&t| t == col).and_then(|i| rows[0].get(i)) {
                            Some(e) => self.placed(table, e),
                            None => Route::Multi,
                        }
                    }
                    _ => Route::Multi,
                };
                (table, here.and(self.plan(source)))
            }
            BoundWrite::Update { table, scan, sets } => {
                let moves = table
                    .partition_column
                    .is_some_and(|c| sets.iter().any(|(s, _)| *s == c));
                let sets_route = sets.iter().fold(Route::Anywhere, |r, (_, e)| r.and(self.expr(e)));
                let here = if moves { Route::Multi } else { self.plan(scan) };
                (table, here.and(sets_route))
            }
            BoundWrite::Delete { table, scan } => (table, self.plan(scan)),
        };
        if table.is_partitioned() && !table.is_view() {
            // A write to a partitioned table is pinned by its scan or its row; a scan of
            // it that is not pinned already made the route multi-partition.
            match reads {
                Route::Anywhere => Route::Multi,
                r => r,
            }
        } else {
            Route::Multi
        }
    }

    fn plan(&self, plan: &Plan) -> Route {
        if self.depth.get() >= MAX_DEPTH {
            return Route::Multi;
        }
        self.depth.set(self.depth.get() + 1);
        let r = self.plan_node(plan);
        self.depth.set(self.depth.get() - 1);
        r
    }

    fn plan_node(&self, plan: &Plan) -> Route {
        match plan {
            Plan::Scan { table, filter, pin, .. } => {
                let here = if table.is_partitioned() {
                    match pin {
                        Some(pin) => self.placed(table, pin),
                        None => Route::Multi,
                    }
                } else {
                    Route::Anywhere
                };
                here.and(self.opt(filter.as_ref()))
            }
            Plan::IndexJoin {
                left,
                table,
                keys,
                filter,
                on,
                ..
            } => {
                let here = if table.is_partitioned() {
                    Route::Multi
                } else {
                    Route::Anywhere
                };
                keys.iter()
                    .fold(here.and(self.plan(left)), |r, e| r.and(self.expr(e)))
                    .and(self.opt(filter.as_ref()))
                    .and(self.opt(on.as_ref()))
            }
            Plan::Values { rows, .. } => rows.iter().flatten().fold(Route::Anywhere, |r, e| r.and(self.expr(e))),
            Plan::Filter { input, predicate } => self.plan(input).and(self.expr(predicate)),
            Plan::Project { input, exprs } => exprs.iter().fold(self.plan(input), |r, e| r.and(self.expr(e))),
            Plan::Join {
                left, right, keys, on, ..
            } => keys
                .iter()
                .fold(self.plan(left).and(self.plan(right)), |r, (a, b)| {
                    r.and(self.expr(a)).and(self.expr(b))
                })
                .and(self.opt(on.as_ref())),
            Plan::Aggregate { input, group_by, aggs } => {
                let r = group_by.iter().fold(self.plan(input), |r, e| r.and(self.expr(e)));
                aggs.iter().fold(r, |r, a| r.and(self.opt(a.arg.as_ref())))
            }
            Plan::Window { input, funcs } => funcs.iter().fold(self.plan(input), |r, f| {
                let r = r.and(self.opt(f.arg.as_ref()));
                let r = f.partition_by.iter().fold(r, |r, e| r.and(self.expr(e)));
                f.order_by.iter().fold(r, |r, k| r.and(self.expr(&k.expr)))
            }),
            Plan::Sort { input, keys } => keys.iter().fold(self.plan(input), |r, k| r.and(self.expr(&k.expr))),
            Plan::Limit { input, limit, offset } => self
                .plan(input)
                .and(self.opt(limit.as_ref()))
                .and(self.opt(offset.as_ref())),
            Plan::Distinct { input } => self.plan(input),
            Plan::SetOp { left, right, .. } => self.plan(left).and(self.plan(right)),
        }
    }

    fn opt(&self, e: Option<&Expr>) -> Route {
        e.map_or(Route::Anywhere, |e| self.expr(e))
    }

    /// The route of the subqueries inside an expression.
    fn expr(&self, e: &Expr) -> Route {
        if self.depth.get() >= MAX_DEPTH {
            return Route::Multi;
        }
        if !e.has_subquery() {
            return Route::Anywhere;
        }
        let here = match &e.kind {
            ExprKind::InSubquery { subquery, .. }
            | ExprKind::Exists { subquery, .. }
            | ExprKind::ScalarSubquery(subquery)
            | ExprKind::Quantified { subquery, .. } => self.plan(&subquery.plan),
            _ => Route::Anywhere,
        };
        let mut r = here;
        self.depth.set(self.depth.get() + 1);
        e.for_each_child(&mut |c| r = r.and(self.expr(c)));
        self.depth.set(self.depth.get() - 1);
        r
    }

    /// The partition a row of `table` with partition value `value` (a constant or a
    /// parameter) lives in.
    fn placed(&self, table: &TableDef, value: &Expr) -> Route {
        let ctx = ExecContext::new(&[], self.hashinator, self.params, FuncContext { now: 0, seed: 0 }, None);
        let v = match eval(value, &Env { row: &[], parent: None }, &ctx) {
            Ok(v) => v,
            Err(_) => return Route::Multi,
        };
        match place_value(table, &v, self.hashinator) {
            Some(Some(p)) => Route::Partition(p),
            // No row can hold the value (NULL): the statement reads nothing.
            Some(None) => Route::Anywhere,
            None => Route::Multi,
        }
    }
}
