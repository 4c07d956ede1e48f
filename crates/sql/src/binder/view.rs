//! Binding `CREATE VIEW v AS SELECT ...` into the parts a materialized view is maintained
//! from (see [`crate::views`]).
//!
//! 1. The query is first bound as an ordinary query, so names, types and the GROUP BY rules
//!    are checked exactly as for a SELECT, and the output types are the ones that SELECT
//!    would produce.
//! 2. Then VoltDB's view rules are checked on the syntax: one SELECT over plain tables joined
//!    with inner joins (no self-join), the GROUP BY expressions first in the select list and in
//!    GROUP BY order, then `COUNT(*)`, then only `COUNT`, `SUM`, `MIN` and `MAX` (no DISTINCT),
//!    no HAVING, ORDER BY, LIMIT, subqueries, parameters or clock reads.
//! 3. The ON and WHERE conditions, the GROUP BY expressions and the aggregate arguments are
//!    bound against the *joined source row*: the sources' columns concatenated in FROM order.

use std::sync::Arc;

use sqlparser::ast;
use voltrs_storage::DataType;

use super::aggregate::agg_call;
use super::ast_walk::{contains_aggregate, function_name};
use super::{Binder, Scope, ScopeColumn};
use crate::catalog::TableDef;
use crate::error::{Error, Result, invalid, unsupported};
use crate::expr::{Expr, ExprKind};
use crate::plan::{AggCall, AggFunc};

/// A view's query, bound against its joined source row.
#[derive(Debug, Clone)]
pub struct BoundView {
    /// Source tables in FROM order.
    pub sources: Vec<Arc<TableDef>>,
    /// ON and WHERE conditions, as conjuncts.
    pub filter: Vec<Expr>,
    pub group_by: Vec<Expr>,
    /// `COUNT(*)` first, then the other aggregates in select-list order.
    pub aggs: Vec<AggCall>,
    /// Output column names (aliases, column names, or `C<n>`) and types.
    pub columns: Vec<(String, DataType)>,
}

impl Binder<'_> {
    pub fn bind_view(&mut self, view: &str, q: &ast::Query) -> Result<BoundView> {
        let fail = |what: &str| -> Error { Error::Invalid(format!("Materialized view \"{view}\" {what}")) };
        if q.with.is_some() {
            return Err(fail("with a WITH clause is not supported."));
        }
        if q.order_by.is_some() {
            return Err(fail("with ORDER BY clause is not supported."));
        }
        if q.limit_clause.is_some() || q.fetch.is_some() {
            return Err(fail("with LIMIT or OFFSET clause is not supported."));
        }
        let ast::SetExpr::Select(s) = &*q.body else {
            return Err(fail("must be defined by a single SELECT."));
        };
        if s.having.is_some() {
            return Err(fail("with HAVING clause is not supported."));
        }
        if s.distinct.is_some() {
            return Err(fail("with SELECT DISTINCT is not supported."));
        }
        if s.top.is_some() {
            return Err(fail("with LIMIT or OFFSET clause is not supported."));
        }
        // 1. An ordinary bind checks names and types and gives the output columns.
        let (_, cols, _) = self.query(q)?;
        if !self.params.is_empty() {
            return Err(fail("contains parameters, which is not allowed."));
        }
        // 2. Sources: plain tables, inner joins.
        let mut sources: Vec<Arc<TableDef>> = Vec::new();
        let mut scope = Scope::default();
        let mut conditions: Vec<&ast::Expr> = Vec::new();
        for twj in &s.from {
            self.view_source(&twj.relation, &mut sources, &mut scope, &fail)?;
            for j in &twj.joins {
                let on = match &j.join_operator {
                    ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => c,
                    ast::JoinOperator::CrossJoin(c) => c,
                    _ => return invalid("Materialized view only supports INNER JOIN."),
                };
                match on {
                    ast::JoinConstraint::On(e) => conditions.push(e),
                    ast::JoinConstraint::None => {}
                    _ => {
                        return Err(fail(
                            "must join with ON conditions (USING and NATURAL are not supported).",
                        ));
                    }
                }
                self.view_source(&j.relation, &mut sources, &mut scope, &fail)?;
            }
        }
        if sources.is_empty() {
            return Err(fail("must read from a table."));
        }
        conditions.extend(s.selection.as_ref());
        let group_exprs: &[ast::Expr] = match &s.group_by {
            ast::GroupByExpr::Expressions(v, mods) if mods.is_empty() => v,
            _ => return Err(fail("has an unsupported GROUP BY.")),
        };
        // 3. Bind against the joined source row.
        self.scopes.push(scope);
        self.correlated.push(false);
        let r = self.view_parts(&fail, &s.projection, group_exprs, &conditions);
        self.scopes.pop();
        self.correlated.pop();
        let (filter, group_by, aggs) = r?;
        Ok(BoundView {
            sources,
            filter,
            group_by,
            aggs,
            columns: cols.into_iter().map(|c| (c.name, c.ty)).collect(),
        })
    }

    fn view_source(
        &mut self,
        tf: &ast::TableFactor,
        sources: &mut Vec<Arc<TableDef>>,
        scope: &mut Scope,
        fail: &dyn Fn(&str) -> Error,
    ) -> Result<()> {
        let ast::TableFactor::Table { name, alias, args, .. } = tf else {
            return Err(fail("with subquery sources is not supported."));
        };
        if args.is_some() {
            return Err(fail("cannot read from a table function."));
        }
        let table = self.table(name)?;
        if table.is_view() {
            return Err(fail(&format!(
                "cannot be defined on another view (\"{}\").",
                table.name
            )));
        }
        if sources.iter().any(|t| t.id == table.id) {
            return invalid(format!(
                "Table {} appeared in the table list more than once: materialized view does not support self-join.",
                table.name
            ));
        }
        let label = alias
            .as_ref()
            .map(|a| a.name.value.to_ascii_uppercase())
            .unwrap_or_else(|| table.name.clone());
        scope.columns.extend(table.columns.iter().map(|c| ScopeColumn {
            table: Some(label.clone()),
            name: c.name.clone(),
            ty: c.ty,
        }));
        sources.push(table);
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn view_parts(
        &mut self,
        fail: &dyn Fn(&str) -> Error,
        items: &[ast::SelectItem],
        group_exprs: &[ast::Expr],
        conditions: &[&ast::Expr],
    ) -> Result<(Vec<Expr>, Vec<Expr>, Vec<AggCall>)> {
        let mut conjuncts = Vec::new();
        for c in conditions {
            let e = self.expr(c)?;
            check_deterministic(&e, fail)?;
            e.into_conjuncts(&mut conjuncts);
        }
        let mut group_by = Vec::with_capacity(group_exprs.len());
        for g in group_exprs {
            let e = self.expr(g)?;
            check_deterministic(&e, fail)?;
            group_by.push(e);
        }
        let exprs: Vec<&ast::Expr> = items
            .iter()
            .map(|i| match i {
                ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => Ok(e),
                _ => Err(fail("must list its columns (no *).")),
            })
            .collect::<Result<_>>()?;
        for (i, g) in group_by.iter().enumerate() {
            let matches = match exprs.get(i) {
                Some(e) if !contains_aggregate(e) => format!("{:?}", self.expr(e)?) == format!("{g:?}"),
                _ => false,
            };
            if !matches {
                return Err(fail(&format!(
                    "must exactly match the GROUP BY clause at index {i} of SELECT list."
                )));
            }
        }
        let mut aggs = Vec::new();
        for (i, e) in exprs.iter().enumerate().skip(group_by.len()) {
            let call = self.view_aggregate(e, fail)?;
            let first = i == group_by.len();
            if first != (call.func == AggFunc::CountStar) {
                return Err(fail(if first {
                    "must have count(*) after the GROUP BY columns (if any) but before the aggregate functions (if any)."
                } else {
                    "must have non-group by columns aggregated by sum, count, min or max."
                }));
            }
            aggs.push(call);
        }
        if aggs.is_empty() {
            return Err(fail(
                "must have count(*) after the GROUP BY columns (if any) but before the aggregate functions (if any).",
            ));
        }
        Ok((conjuncts, group_by, aggs))
    }

    fn view_aggregate(&mut self, e: &ast::Expr, fail: &dyn Fn(&str) -> Error) -> Result<AggCall> {
        let not_agg = || fail("must have non-group by columns aggregated by sum, count, min or max.");
        let ast::Expr::Function(f) = e else {
            return Err(not_agg());
        };
        let name = function_name(f);
        if !matches!(name.as_str(), "COUNT" | "SUM" | "MIN" | "MAX") || f.over.is_some() || f.filter.is_some() {
            return Err(not_agg());
        }
        let ast::FunctionArguments::List(list) = &f.args else {
            return Err(not_agg());
        };
        if !list.clauses.is_empty() {
            return unsupported(format!("clauses inside {name}(...) in a materialized view"));
        }
        if matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)) {
            return Err(fail(&format!("cannot use {name}(DISTINCT ...).")));
        }
        let arg = match list.args.as_slice() {
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)] if name == "COUNT" => None,
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a))] if !contains_aggregate(a) => {
                let a = self.expr(a)?;
                check_deterministic(&a, fail)?;
                Some(a)
            }
            _ => return Err(not_agg()),
        };
        agg_call(&name, arg, false)
    }
}

/// View expressions must depend on the source rows alone: no subqueries, parameters or
/// clock reads (they are re-evaluated when rows change, long after the view was created).
fn check_deterministic(e: &Expr, fail: &dyn Fn(&str) -> Error) -> Result<()> {
    if e.has_subquery() {
        return Err(fail("with subquery sources is not supported."));
    }
    match &e.kind {
        ExprKind::Param(_) => return Err(fail("contains parameters, which is not allowed.")),
        ExprKind::Outer { .. } => return Err(fail("cannot reference an enclosing query.")),
        ExprKind::Func { func, .. } if *func == crate::functions::Func::Now => {
            return Err(fail(
                "cannot use NOW or CURRENT_TIMESTAMP: view expressions must be deterministic.",
            ));
        }
        _ => {}
    }
    let mut r = Ok(());
    e.for_each_child(&mut |c| {
        if r.is_ok() {
            r = check_deterministic(c, fail);
        }
    });
    r
}
