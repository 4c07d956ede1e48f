//! Query binding: SELECT blocks, set operations, VALUES, CTEs, ORDER BY and LIMIT.

use sqlparser::ast;
use voltrs_storage::{DataType, Value};

use super::aggregate::{AggContext, WindowContext};
use super::ast_walk::{contains_aggregate, contains_window};

use super::{Binder, CteDef, MAX_QUERY_DEPTH, Scope};
use crate::error::{Error, Result, invalid, name_err, unsupported};
use crate::expr::{Expr, ExprKind};
use crate::outcome::ResultColumn;
use crate::plan::{Plan, SetOpKind, SortKey};

/// Window results are numbered from this sentinel while binding, then renumbered once the
/// width of the window's input (group keys + aggregates) is known.
const WINDOW_SENTINEL: usize = 1 << 40;

impl Binder<'_> {
    /// Binds a query one level below the current one. Returns its plan, its columns and
    /// whether it references an enclosing query.
    pub(crate) fn query(&mut self, q: &ast::Query) -> Result<(Plan, Vec<ResultColumn>, bool)> {
        if self.query_depth >= MAX_QUERY_DEPTH {
            return invalid(format!(
                "queries nested too deeply (limit {MAX_QUERY_DEPTH} levels of subqueries, derived tables and WITH references)"
            ));
        }
        self.query_depth += 1;
        let r = self.query_inner(q);
        self.query_depth -= 1;
        r
    }

    fn query_inner(&mut self, q: &ast::Query) -> Result<(Plan, Vec<ResultColumn>, bool)> {
        let cte_mark = self.ctes.len();
        self.scopes.push(Scope::default());
        self.correlated.push(false);
        let level = self.scopes.len();
        let r = self.query_body(q);
        self.modes.truncate(level - 1);
        self.scopes.pop();
        let correlated = self.correlated.pop().unwrap_or(false);
        self.ctes.truncate(cte_mark);
        let (plan, cols) = r?;
        Ok((plan, cols, correlated))
    }

    /// Binds a query at the *current* level (derived tables and CTE references, which the
    /// executor runs inside this query's plan and so share its enclosing-row chain).
    pub(crate) fn query_same_level(&mut self, q: &ast::Query) -> Result<(Plan, Vec<ResultColumn>)> {
        self.enter()?;
        let r = self.query_same_level_inner(q);
        self.leave();
        r
    }

    fn query_same_level_inner(&mut self, q: &ast::Query) -> Result<(Plan, Vec<ResultColumn>)> {
        let scope = self.scopes.pop();
        let corr = self.correlated.pop();
        let mode = if self.modes.len() > self.scopes.len() {
            self.modes.pop()
        } else {
            None
        };
        let r = self.query(q);
        if let Some(m) = mode {
            self.modes.push(m);
        }
        if let Some(s) = scope {
            self.scopes.push(s);
        }
        let outer_ref = matches!(r, Ok((_, _, true)));
        if let Some(c) = corr {
            self.correlated.push(c || outer_ref);
        }
        r.map(|(p, c, _)| (p, c))
    }

    fn query_body(&mut self, q: &ast::Query) -> Result<(Plan, Vec<ResultColumn>)> {
        if let Some(with) = &q.with {
            if with.recursive {
                return unsupported("WITH RECURSIVE");
            }
            for cte in &with.cte_tables {
                self.ctes.push(CteDef {
                    name: cte.alias.name.value.to_ascii_uppercase(),
                    query: std::rc::Rc::new((*cte.query).clone()),
                    columns: cte
                        .alias
                        .columns
                        .iter()
                        .map(|c| c.name.value.to_ascii_uppercase())
                        .collect(),
                });
            }
        }
        if q.fetch.is_some() || !q.locks.is_empty() {
            return unsupported("FETCH / FOR UPDATE");
        }
        if q.for_clause.is_some() || q.settings.is_some() || q.format_clause.is_some() || !q.pipe_operators.is_empty() {
            return unsupported("FOR / SETTINGS / FORMAT / pipe clauses");
        }
        let order_by = match &q.order_by {
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(v) => v.as_slice(),
                ast::OrderByKind::All(_) => return unsupported("ORDER BY ALL"),
            },
            None => &[],
        };
        let (limit, offset) = self.limit_clause(q.limit_clause.as_ref())?;
        match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.select(s, order_by, limit, offset),
            body => {
                let (mut plan, cols) = self.set_expr(body)?;
                if !order_by.is_empty() {
                    let mut keys = Vec::new();
                    for o in order_by {
                        let i = output_position(&o.expr, &cols)?
                            .ok_or_else(|| Error::Invalid(format!("ORDER BY {} must name a result column", o.expr)))?;
                        keys.push(sort_key(Expr::column(i, cols[i].ty), &o.options));
                    }
                    plan = Plan::Sort {
                        input: Box::new(plan),
                        keys,
                    };
                }
                plan = with_limit(plan, limit, offset);
                Ok((plan, cols))
            }
        }
    }

    fn limit_clause(&mut self, lc: Option<&ast::LimitClause>) -> Result<(Option<Expr>, Option<Expr>)> {
        let (limit, offset) = match lc {
            None => (None, None),
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return unsupported("LIMIT BY");
                }
                (limit.as_ref(), offset.as_ref().map(|o| &o.value))
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
        };
        let l = limit.map(|e| self.constant(e, "LIMIT")).transpose()?;
        let o = offset.map(|e| self.constant(e, "OFFSET")).transpose()?;
        Ok((l, o))
    }

    /// A constant integer expression (LIMIT, OFFSET, TOP).
    fn constant(&mut self, e: &ast::Expr, what: &str) -> Result<Expr> {
        let saved = std::mem::take(&mut self.scopes);
        let r = {
            self.scopes.push(Scope::default());
            self.correlated.push(false);
            let r = self.expr(e);
            self.scopes.pop();
            self.correlated.pop();
            r
        };
        self.scopes = saved;
        let mut x = r?;
        self.infer_param(&mut x, DataType::BigInt);
        if !(x.ty.is_integer() || x.ty == DataType::Null) {
            return invalid(format!("{what} must be an integer, not {}", x.ty.name()));
        }
        Ok(x)
    }

    fn set_expr(&mut self, body: &ast::SetExpr) -> Result<(Plan, Vec<ResultColumn>)> {
        self.enter()?;
        let r = self.set_expr_inner(body);
        self.leave();
        r
    }

    fn set_expr_inner(&mut self, body: &ast::SetExpr) -> Result<(Plan, Vec<ResultColumn>)> {
        match body {
            ast::SetExpr::Select(s) => self.select(s, &[], None, None),
            ast::SetExpr::Query(q) => self.query_same_level(q),
            ast::SetExpr::Values(v) => self.values(v),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let (l, lcols) = self.set_expr(left)?;
                let (r, rcols) = self.set_expr(right)?;
                if lcols.len() != rcols.len() {
                    return invalid(format!(
                        "each side of {op} must have the same number of columns ({} and {})",
                        lcols.len(),
                        rcols.len()
                    ));
                }
                let mut types = Vec::with_capacity(lcols.len());
                for (a, b) in lcols.iter().zip(&rcols) {
                    let t = crate::cast::common_type(a.ty, b.ty).ok_or_else(|| {
                        Error::Type(format!(
                            "incompatible column types {} and {} in {op}",
                            a.ty.name(),
                            b.ty.name()
                        ))
                    })?;
                    types.push(t);
                }
                let l = cast_columns(l, &lcols, &types);
                let r = cast_columns(r, &rcols, &types);
                let kind = match op {
                    ast::SetOperator::Union => SetOpKind::Union,
                    ast::SetOperator::Intersect => SetOpKind::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
                };
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return unsupported(format!("{op} {other}")),
                };
                let cols = lcols
                    .iter()
                    .zip(types)
                    .map(|(c, ty)| ResultColumn {
                        name: c.name.clone(),
                        ty,
                    })
                    .collect();
                Ok((
                    Plan::SetOp {
                        op: kind,
                        all,
                        left: Box::new(l),
                        right: Box::new(r),
                    },
                    cols,
                ))
            }
            other => unsupported(format!("query form {other}")),
        }
    }

    pub(crate) fn values(&mut self, v: &ast::Values) -> Result<(Plan, Vec<ResultColumn>)> {
        let mut rows = Vec::with_capacity(v.rows.len());
        let mut types: Vec<DataType> = Vec::new();
        for row in &v.rows {
            let mut out = Vec::with_capacity(row.len());
            for e in row.iter() {
                out.push(self.expr(e)?);
            }
            if types.is_empty() {
                types = out.iter().map(|e| e.ty).collect();
            } else if out.len() != types.len() {
                return invalid("every VALUES row must have the same number of values");
            } else {
                for (t, e) in types.iter_mut().zip(&out) {
                    *t = crate::cast::common_type(*t, e.ty).ok_or_else(|| {
                        Error::Type(format!("incompatible types {} and {} in VALUES", t.name(), e.ty.name()))
                    })?;
                }
            }
            rows.push(out);
        }
        let cols = types
            .iter()
            .enumerate()
            .map(|(i, t)| ResultColumn {
                name: format!("C{}", i + 1),
                ty: *t,
            })
            .collect();
        Ok((Plan::Values { rows, types }, cols))
    }

    fn select(
        &mut self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
        mut limit: Option<Expr>,
        offset: Option<Expr>,
    ) -> Result<(Plan, Vec<ResultColumn>)> {
        if s.into.is_some() || !s.lateral_views.is_empty() || s.prewhere.is_some() || s.qualify.is_some() {
            return unsupported("this SELECT clause");
        }
        // Dialect clauses that sqlparser accepts but voltrs does not implement are refused,
        // never ignored.
        let unsupported_clause = [
            (!s.connect_by.is_empty(), "START WITH / CONNECT BY"),
            (!s.sort_by.is_empty(), "SORT BY"),
            (!s.cluster_by.is_empty(), "CLUSTER BY"),
            (!s.distribute_by.is_empty(), "DISTRIBUTE BY"),
            (!s.named_window.is_empty(), "WINDOW (named windows)"),
            (s.select_modifiers.is_some(), "SELECT modifiers"),
            (s.exclude.is_some(), "EXCLUDE"),
            (
                s.top.as_ref().is_some_and(|t| t.percent || t.with_ties),
                "TOP ... PERCENT / WITH TIES",
            ),
        ];
        if let Some((_, what)) = unsupported_clause.iter().find(|(present, _)| *present) {
            return unsupported(*what);
        }
        for item in &s.projection {
            if let ast::SelectItem::Wildcard(o) | ast::SelectItem::QualifiedWildcard(_, o) = item
                && (o.opt_ilike.is_some()
                    || o.opt_exclude.is_some()
                    || o.opt_except.is_some()
                    || o.opt_replace.is_some()
                    || o.opt_rename.is_some()
                    || o.opt_alias.is_some())
            {
                return unsupported("options after * (EXCEPT, EXCLUDE, REPLACE, RENAME, ILIKE)");
            }
        }
        if let Some(top) = &s.top {
            let n = match &top.quantity {
                Some(ast::TopQuantity::Constant(n)) => *n as i64,
                Some(ast::TopQuantity::Expr(e)) => match e {
                    ast::Expr::Value(v) => match &v.value {
                        ast::Value::Number(n, _) => {
                            n.parse().map_err(|_| Error::Invalid("TOP needs an integer".into()))?
                        }
                        _ => return invalid("TOP needs an integer"),
                    },
                    _ => return invalid("TOP needs an integer"),
                },
                None => return invalid("TOP needs a count"),
            };
            limit = Some(Expr::literal(Value::Integer(n), DataType::BigInt));
        }
        // FROM and WHERE.
        let (mut plan, scope) = self.bind_from_where(&s.from, s.selection.as_ref())?;
        let level = self.scopes.len();
        if let Some(slot) = self.scopes.last_mut() {
            *slot = scope;
        }

        let group_exprs: Vec<ast::Expr> = match &s.group_by {
            ast::GroupByExpr::Expressions(v, mods) if mods.is_empty() => v.clone(),
            ast::GroupByExpr::Expressions(..) => return unsupported("GROUP BY modifiers"),
            ast::GroupByExpr::All(_) => return unsupported("GROUP BY ALL"),
        };
        let items = &s.projection;
        let item_exprs: Vec<&ast::Expr> = items
            .iter()
            .filter_map(|i| match i {
                ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
                _ => None,
            })
            .collect();
        let aggregated = !group_exprs.is_empty()
            || s.having.is_some()
            || item_exprs.iter().any(|e| contains_aggregate(e))
            || order_by.iter().any(|o| contains_aggregate(&o.expr));
        let windowed = item_exprs.iter().any(|e| contains_window(e));

        if aggregated {
            let mut keys = Vec::with_capacity(group_exprs.len());
            for g in &group_exprs {
                let target = match positional(g, items)? {
                    Some(e) => e,
                    None => g.clone(),
                };
                if contains_aggregate(&target) {
                    return invalid("aggregate functions are not allowed in GROUP BY");
                }
                let key = match self.expr(&target) {
                    // GROUP BY may name a select-list alias that is not a column.
                    Err(Error::Name(msg)) => match alias_expr(g, items) {
                        Some(e) if !contains_aggregate(e) => self.expr(e)?,
                        _ => return Err(Error::Name(msg)),
                    },
                    other => other?,
                };
                keys.push(key);
            }
            self.set_mode(Some(AggContext::new(keys)), None);
        }
        if windowed {
            let (agg, _) = self.take_mode();
            self.set_mode(
                agg,
                Some(WindowContext {
                    base: WINDOW_SENTINEL,
                    funcs: Vec::new(),
                }),
            );
        }

        // HAVING, the select list and ORDER BY, in the current mode.
        let having = match &s.having {
            Some(h) => Some(self.expr(h)?),
            None => None,
        };
        let mut exprs: Vec<Expr> = Vec::new();
        let mut cols: Vec<ResultColumn> = Vec::new();
        for item in items {
            match item {
                ast::SelectItem::Wildcard(_) => self.star(None, &mut exprs, &mut cols)?,
                ast::SelectItem::QualifiedWildcard(kind, _) => {
                    let name = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            n.0.last()
                                .map(|p| p.to_string())
                                .unwrap_or_default()
                                .trim_matches('"')
                                .to_ascii_uppercase()
                        }
                        ast::SelectItemQualifiedWildcardKind::Expr(e) => e.to_string().to_ascii_uppercase(),
                    };
                    self.star(Some(&name), &mut exprs, &mut cols)?
                }
                ast::SelectItem::UnnamedExpr(e) => {
                    let x = self.expr(e)?;
                    let name = match e {
                        ast::Expr::Identifier(id) => id.value.to_ascii_uppercase(),
                        ast::Expr::CompoundIdentifier(ids) => {
                            ids.last().map(|i| i.value.to_ascii_uppercase()).unwrap_or_default()
                        }
                        _ => format!("C{}", cols.len() + 1),
                    };
                    cols.push(ResultColumn { name, ty: x.ty });
                    exprs.push(x);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let x = self.expr(expr)?;
                    cols.push(ResultColumn {
                        name: alias.value.to_ascii_uppercase(),
                        ty: x.ty,
                    });
                    exprs.push(x);
                }
                ast::SelectItem::ExprWithAliases { .. } => return unsupported("multiple aliases"),
            }
        }
        let visible = exprs.len();
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return unsupported("DISTINCT ON"),
        };
        let mut keys = Vec::with_capacity(order_by.len());
        for o in order_by {
            let idx = match output_position(&o.expr, &cols)? {
                Some(i) => i,
                None => {
                    let x = self.expr(&o.expr)?;
                    let text = format!("{x:?}");
                    match exprs[..visible].iter().position(|e| format!("{e:?}") == text) {
                        Some(i) => i,
                        None => {
                            if distinct {
                                return invalid(
                                    "for SELECT DISTINCT, ORDER BY expressions must appear in the select list",
                                );
                            }
                            exprs.push(x);
                            exprs.len() - 1
                        }
                    }
                }
            };
            let ty = exprs[idx].ty;
            keys.push(sort_key(Expr::column(idx, ty), &o.options));
        }

        // Assemble: aggregate, HAVING, window, project, distinct, sort, limit, trim.
        let (agg, window) = self.take_mode();
        let _ = level;
        if let Some(agg) = agg {
            plan = Plan::Aggregate {
                input: Box::new(plan),
                group_by: agg.keys,
                aggs: agg.aggs,
            };
            if let Some(h) = having {
                plan = Plan::Filter {
                    input: Box::new(plan),
                    predicate: h,
                };
            }
        } else if having.is_some() {
            return invalid("HAVING needs GROUP BY or aggregates");
        }
        if let Some(w) = window {
            let base = plan.width();
            for e in exprs.iter_mut() {
                e.remap_columns(&|i| {
                    if i >= WINDOW_SENTINEL {
                        base + (i - WINDOW_SENTINEL)
                    } else {
                        i
                    }
                });
            }
            plan = Plan::Window {
                input: Box::new(plan),
                funcs: w.funcs,
            };
        }
        plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
        if distinct {
            plan = Plan::Distinct { input: Box::new(plan) };
        }
        if !keys.is_empty() {
            plan = Plan::Sort {
                input: Box::new(plan),
                keys,
            };
        }
        plan = with_limit(plan, limit, offset);
        let width = plan.width();
        if width > visible {
            let exprs = cols.iter().enumerate().map(|(i, c)| Expr::column(i, c.ty)).collect();
            plan = Plan::Project {
                input: Box::new(plan),
                exprs,
            };
        }
        Ok((plan, cols))
    }

    fn star(&mut self, table: Option<&str>, exprs: &mut Vec<Expr>, cols: &mut Vec<ResultColumn>) -> Result<()> {
        let scope = self.current_scope().clone();
        let mut any = false;
        for (i, c) in scope.columns.iter().enumerate() {
            if table.is_some() && c.table.as_deref() != table {
                continue;
            }
            any = true;
            let e = self.expr(&ast::Expr::CompoundIdentifier(vec![
                ast::Ident::new(c.table.clone().unwrap_or_default()),
                ast::Ident::new(c.name.clone()),
            ]));
            let e = match e {
                Ok(e) => e,
                Err(_) => Expr::column(i, c.ty),
            };
            cols.push(ResultColumn {
                name: c.name.clone(),
                ty: c.ty,
            });
            exprs.push(e);
        }
        if !any {
            return match table {
                Some(t) => name_err(format!(
                    "object not found: table or alias \"{t}\" is not in the FROM clause"
                )),
                None => invalid("SELECT * needs a FROM clause"),
            };
        }
        Ok(())
    }
}

fn cast_columns(plan: Plan, cols: &[ResultColumn], types: &[DataType]) -> Plan {
    if cols.iter().zip(types).all(|(c, t)| c.ty == *t) {
        return plan;
    }
    let exprs = cols
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (c, t))| {
            let col = Expr::column(i, c.ty);
            if c.ty == *t {
                col
            } else {
                Expr::new(ExprKind::Cast(Box::new(col)), *t)
            }
        })
        .collect();
    Plan::Project {
        input: Box::new(plan),
        exprs,
    }
}

fn sort_key(expr: Expr, o: &ast::OrderByOptions) -> SortKey {
    let desc = o.sort == Some(ast::OrderBySort::Desc);
    SortKey {
        expr,
        desc,
        nulls_first: o.nulls_first.unwrap_or(!desc),
    }
}

/// `ORDER BY 2` or `ORDER BY name` naming a result column.
fn output_position(e: &ast::Expr, cols: &[ResultColumn]) -> Result<Option<usize>> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => {
                let i: usize = n
                    .parse()
                    .map_err(|_| Error::Invalid(format!("ORDER BY position {n} is not valid")))?;
                if i == 0 || i > cols.len() {
                    return invalid(format!("ORDER BY position {i} is not in the select list"));
                }
                Ok(Some(i - 1))
            }
            _ => Ok(None),
        },
        ast::Expr::Identifier(id) => {
            let name = id.value.to_ascii_uppercase();
            let hits: Vec<usize> = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| c.name == name)
                .map(|(i, _)| i)
                .collect();
            Ok(if hits.len() == 1 { Some(hits[0]) } else { None })
        }
        _ => Ok(None),
    }
}

/// `GROUP BY 1` → the first select item's expression.
fn positional(g: &ast::Expr, items: &[ast::SelectItem]) -> Result<Option<ast::Expr>> {
    if let ast::Expr::Value(v) = g
        && let ast::Value::Number(n, _) = &v.value
    {
        let i: usize = n
            .parse()
            .map_err(|_| Error::Invalid(format!("GROUP BY position {n} is not valid")))?;
        return match items.get(i.wrapping_sub(1)) {
            Some(ast::SelectItem::UnnamedExpr(e)) | Some(ast::SelectItem::ExprWithAlias { expr: e, .. }) => {
                Ok(Some(e.clone()))
            }
            _ => invalid(format!("GROUP BY position {i} is not in the select list")),
        };
    }
    Ok(None)
}

/// The expression of the select item aliased `g`, if `g` is a bare name.
fn alias_expr<'i>(g: &ast::Expr, items: &'i [ast::SelectItem]) -> Option<&'i ast::Expr> {
    let ast::Expr::Identifier(id) = g else { return None };
    items.iter().find_map(|i| match i {
        ast::SelectItem::ExprWithAlias { expr, alias } if alias.value.eq_ignore_ascii_case(&id.value) => Some(expr),
        _ => None,
    })
}

/// Puts a LIMIT / OFFSET node on top when either is given.
fn with_limit(plan: Plan, limit: Option<Expr>, offset: Option<Expr>) -> Plan {
    if limit.is_none() && offset.is_none() {
        return plan;
    }
    let mut plan = Plan::Limit {
        input: Box::new(plan),
        limit,
        offset,
    };
    crate::planner::order_by_index(&mut plan);
    plan
}
