//! FROM clauses: tables, derived tables, CTE references and join trees, with the WHERE
//! conjuncts handed to the join planner.

use sqlparser::ast;
use voltrs_storage::DataType;

use super::ast_walk::contains_aggregate;
use super::join::{Relation, plan_joins};
use super::{Binder, MAX_FROM_ITEMS, Scope, ScopeColumn};
use crate::error::{Error, Result, invalid, unsupported};
use crate::expr::{Expr, ExprKind};
use crate::plan::{JoinKind, Plan};

impl Binder<'_> {
    /// Binds FROM and WHERE into a plan whose rows have the returned scope's layout.
    pub(super) fn bind_from_where(
        &mut self,
        from: &[ast::TableWithJoins],
        selection: Option<&ast::Expr>,
    ) -> Result<(Plan, Scope)> {
        let saved_aliases = std::mem::take(&mut self.from_aliases);
        let mut relations = Vec::new();
        let mut scope = Scope::default();
        let mut pending_on: Vec<ast::Expr> = Vec::new();
        for twj in from {
            let outer = twj.joins.iter().any(|j| !is_inner(&j.join_operator));
            if outer {
                let (rel, cols) = self.join_tree(twj)?;
                scope.columns.extend(cols);
                relations.push(rel);
            } else {
                let (rel, cols) = self.table_factor(&twj.relation)?;
                scope.columns.extend(cols);
                relations.push(rel);
                for j in &twj.joins {
                    let (rel, cols) = self.table_factor(&j.relation)?;
                    let using = match constraint(&j.join_operator) {
                        Some(c @ (ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural)) => {
                            Some(using_condition(&scope.columns, &cols, c)?)
                        }
                        _ => None,
                    };
                    scope.columns.extend(cols);
                    relations.push(rel);
                    if let Some(u) = using {
                        pending_on.push(u);
                        continue;
                    }
                    match constraint(&j.join_operator) {
                        Some(ast::JoinConstraint::On(e)) => pending_on.push(e.clone()),
                        Some(ast::JoinConstraint::None)
                            if !matches!(j.join_operator, ast::JoinOperator::CrossJoin(_)) =>
                        {
                            return invalid("JOIN needs an ON condition (use CROSS JOIN for a cross product)");
                        }
                        Some(ast::JoinConstraint::None) | None => {}
                        Some(_) => return unsupported("JOIN ... USING / NATURAL"),
                    }
                }
            }
        }
        if relations.len() > MAX_FROM_ITEMS {
            return invalid(format!(
                "too many tables in FROM: {} (limit {MAX_FROM_ITEMS})",
                relations.len()
            ));
        }
        check_unique_aliases(&std::mem::replace(&mut self.from_aliases, saved_aliases))?;
        if let Some(slot) = self.scopes.last_mut() {
            *slot = scope.clone();
        }
        let mut conjuncts = Vec::new();
        for e in pending_on.iter().chain(selection) {
            if contains_aggregate(e) {
                return invalid("aggregate functions are not allowed in WHERE or ON");
            }
            let x = self.expr(e)?;
            if !matches!(x.ty, DataType::Boolean | DataType::Null) {
                return Err(Error::Type(format!(
                    "WHERE / ON needs a boolean expression, not {}",
                    x.ty.name()
                )));
            }
            x.into_conjuncts(&mut conjuncts);
        }
        if relations.is_empty() {
            let plan = Plan::Values {
                rows: vec![vec![]],
                types: vec![],
            };
            let plan = match Expr::conjunction(conjuncts) {
                Some(p) => Plan::Filter {
                    input: Box::new(plan),
                    predicate: p,
                },
                None => plan,
            };
            return Ok((plan, scope));
        }
        Ok((plan_joins(relations, conjuncts), scope))
    }

    /// An outer-join chain, built in syntax order.
    fn join_tree(&mut self, twj: &ast::TableWithJoins) -> Result<(Relation, Vec<ScopeColumn>)> {
        let (first, mut cols) = self.table_factor(&twj.relation)?;
        let mut plan = first.plan;
        let mut estimate = first.estimate;
        for j in &twj.joins {
            let (rel, rcols) = self.table_factor(&j.relation)?;
            let left_width = cols.len();
            let using = match constraint(&j.join_operator) {
                Some(c @ (ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural)) => {
                    Some(using_condition(&cols, &rcols, c)?)
                }
                _ => None,
            };
            cols.extend(rcols);
            let kind = match &j.join_operator {
                ast::JoinOperator::Left(_) | ast::JoinOperator::LeftOuter(_) => JoinKind::Left,
                ast::JoinOperator::Right(_) | ast::JoinOperator::RightOuter(_) => JoinKind::Right,
                ast::JoinOperator::FullOuter(_) => JoinKind::Full,
                op if is_inner(op) => JoinKind::Inner,
                _ => return unsupported("this kind of JOIN"),
            };
            let on_ast = match (&using, constraint(&j.join_operator)) {
                (Some(u), _) => Some(ast::JoinConstraint::On(u.clone())),
                (None, c) => c.cloned(),
            };
            let on = match on_ast.as_ref() {
                Some(ast::JoinConstraint::On(e)) => {
                    // Bind ON against the columns joined so far.
                    let saved = self.scopes.last().cloned();
                    if let Some(slot) = self.scopes.last_mut() {
                        *slot = Scope { columns: cols.clone() };
                    }
                    let r = self.expr(e);
                    if let (Some(slot), Some(s)) = (self.scopes.last_mut(), saved) {
                        *slot = s;
                    }
                    Some(r?)
                }
                Some(ast::JoinConstraint::None) | None => None,
                Some(_) => return unsupported("JOIN ... USING / NATURAL"),
            };
            let (keys, on) = split_keys(on, left_width);
            estimate += rel.estimate;
            plan = Plan::Join {
                left: Box::new(plan),
                right: Box::new(rel.plan),
                kind,
                keys,
                on,
            };
        }
        Ok((
            Relation {
                plan,
                width: cols.len(),
                estimate,
                rows: estimate,
            },
            cols,
        ))
    }

    fn table_factor(&mut self, tf: &ast::TableFactor) -> Result<(Relation, Vec<ScopeColumn>)> {
        match tf {
            ast::TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_directives,
                inheritance,
            } => {
                if args.is_some() {
                    return unsupported("table functions");
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || *with_ordinality
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_directives.is_empty()
                    || inheritance.is_some()
                {
                    return unsupported(format!(
                        "table modifiers on {name} (hints, PARTITION, TABLESAMPLE, versions)"
                    ));
                }
                let tname = name
                    .0
                    .last()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_ascii_uppercase();
                let alias_name = alias
                    .as_ref()
                    .map(|a| a.name.value.to_ascii_uppercase())
                    .unwrap_or_else(|| tname.clone());
                self.from_aliases.push(alias_name.clone());
                if let Some(cte) = self
                    .ctes
                    .iter()
                    .rev()
                    .find(|c| c.name == tname && name.0.len() == 1)
                    .cloned()
                {
                    let (plan, cols) = self.query_same_level(&cte.query)?;
                    let names: Vec<String> = if cte.columns.is_empty() {
                        cols.iter().map(|c| c.name.clone()).collect()
                    } else if cte.columns.len() == cols.len() {
                        cte.columns.clone()
                    } else {
                        return invalid(format!(
                            "WITH {} names {} columns but its query has {}",
                            cte.name,
                            cte.columns.len(),
                            cols.len()
                        ));
                    };
                    let scope_cols = names
                        .into_iter()
                        .zip(&cols)
                        .map(|(n, c)| ScopeColumn {
                            table: Some(alias_name.clone()),
                            name: n,
                            ty: c.ty,
                        })
                        .collect::<Vec<_>>();
                    let width = scope_cols.len();
                    return Ok((
                        Relation {
                            plan,
                            width,
                            estimate: 1000.0,
                            rows: 1000.0,
                        },
                        scope_cols,
                    ));
                }
                let table = self.table(name)?;
                // `t AS x (a, b)` renames the columns too.
                let renames: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| c.name.value.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                if !renames.is_empty() && renames.len() != table.columns.len() {
                    return invalid(format!(
                        "alias {alias_name} names {} columns but table \"{}\" has {}",
                        renames.len(),
                        table.name,
                        table.columns.len()
                    ));
                }
                let cols: Vec<ScopeColumn> = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ScopeColumn {
                        table: Some(alias_name.clone()),
                        name: renames.get(i).cloned().unwrap_or_else(|| c.name.clone()),
                        ty: c.ty,
                    })
                    .collect();
                let estimate = self.stats.row_count(table.id).max(1) as f64;
                let width = cols.len();
                Ok((
                    Relation {
                        // A view of partial rows reads as its merged rows.
                        plan: crate::views::merged_scan(table),
                        width,
                        estimate,
                        rows: estimate,
                    },
                    cols,
                ))
            }
            ast::TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if *lateral {
                    return unsupported("LATERAL");
                }
                if sample.is_some() {
                    return unsupported("TABLESAMPLE");
                }
                let (plan, cols) = self.query_same_level(subquery)?;
                let alias_name = alias.as_ref().map(|a| a.name.value.to_ascii_uppercase());
                if let Some(a) = &alias_name {
                    self.from_aliases.push(a.clone());
                }
                let renames: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| c.name.value.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                if !renames.is_empty() && renames.len() != cols.len() {
                    return invalid("the alias names a different number of columns than the subquery returns");
                }
                let scope_cols: Vec<ScopeColumn> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ScopeColumn {
                        table: alias_name.clone(),
                        name: renames.get(i).cloned().unwrap_or_else(|| c.name.clone()),
                        ty: c.ty,
                    })
                    .collect();
                let width = scope_cols.len();
                Ok((
                    Relation {
                        plan,
                        width,
                        estimate: 1000.0,
                        rows: 1000.0,
                    },
                    scope_cols,
                ))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let (rel, mut cols) = self.join_tree(table_with_joins)?;
                if let Some(a) = alias {
                    let n = a.name.value.to_ascii_uppercase();
                    for c in &mut cols {
                        c.table = Some(n.clone());
                    }
                }
                Ok((rel, cols))
            }
            other => unsupported(format!("FROM item {other}")),
        }
    }
}

fn is_inner(op: &ast::JoinOperator) -> bool {
    matches!(
        op,
        ast::JoinOperator::Join(_) | ast::JoinOperator::Inner(_) | ast::JoinOperator::CrossJoin(_)
    )
}

fn constraint(op: &ast::JoinOperator) -> Option<&ast::JoinConstraint> {
    use ast::JoinOperator as J;
    match op {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c) => Some(c),
        _ => None,
    }
}

/// Splits an outer join's ON into hash keys (left column = right column equalities) and the rest.
fn split_keys(on: Option<Expr>, left_width: usize) -> (Vec<(Expr, Expr)>, Option<Expr>) {
    let Some(on) = on else {
        return (Vec::new(), None);
    };
    let mut parts = Vec::new();
    on.into_conjuncts(&mut parts);
    let mut keys = Vec::new();
    let mut rest = Vec::new();
    for p in parts {
        let split = match &p.kind {
            ExprKind::Binary {
                op: crate::expr::BinOp::Eq,
                left,
                right,
            } if !p.has_subquery() => {
                let side = |e: &Expr| {
                    let mut c = Vec::new();
                    e.columns_used(&mut c);
                    if c.is_empty() {
                        0
                    } else if c.iter().all(|i| *i < left_width) {
                        1
                    } else if c.iter().all(|i| *i >= left_width) {
                        2
                    } else {
                        3
                    }
                };
                match (side(left), side(right)) {
                    (1, 2) => Some(((**left).clone(), (**right).clone())),
                    (2, 1) => Some(((**right).clone(), (**left).clone())),
                    _ => None,
                }
            }
            _ => None,
        };
        match split {
            Some((l, mut r)) => {
                r.remap_columns(&|i| i - left_width);
                keys.push((l, r));
            }
            None => rest.push(p),
        }
    }
    (keys, Expr::conjunction(rest))
}

/// Two FROM items may not share a name (`FROM t a, t a`): their columns could not be told
/// apart.
fn check_unique_aliases(aliases: &[String]) -> Result<()> {
    for (i, a) in aliases.iter().enumerate() {
        if aliases[..i].contains(a) {
            return invalid(format!("table name \"{a}\" specified more than once in FROM"));
        }
    }
    Ok(())
}

/// `USING (c, ...)` or `NATURAL`: equalities between the named (or all shared) columns of
/// the left side and the new relation. Both copies of each column stay visible.
fn using_condition(left: &[ScopeColumn], right: &[ScopeColumn], c: &ast::JoinConstraint) -> Result<ast::Expr> {
    let names: Vec<String> = match c {
        ast::JoinConstraint::Using(list) => list
            .iter()
            .map(|n| {
                n.0.last()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_ascii_uppercase()
            })
            .collect(),
        _ => right
            .iter()
            .filter(|r| left.iter().any(|l| l.name == r.name))
            .map(|r| r.name.clone())
            .collect(),
    };
    if names.is_empty() {
        return invalid("NATURAL JOIN of relations with no column in common");
    }
    let qualified = |side: &[ScopeColumn], name: &str, which: &str| -> Result<ast::Expr> {
        let hits: Vec<&ScopeColumn> = side.iter().filter(|c| c.name == name).collect();
        match hits.as_slice() {
            [one] => match &one.table {
                Some(t) => Ok(ast::Expr::CompoundIdentifier(vec![
                    ast::Ident::new(t.clone()),
                    ast::Ident::new(name),
                ])),
                None => unsupported("USING with a derived table that has no alias"),
            },
            [] => Err(Error::Name(format!(
                "column \"{name}\" of USING is not in the {which} side of the join"
            ))),
            _ => Err(Error::Name(format!(
                "column \"{name}\" of USING is ambiguous in the {which} side of the join"
            ))),
        }
    };
    let mut cond: Option<ast::Expr> = None;
    for n in &names {
        let eq = ast::Expr::BinaryOp {
            left: Box::new(qualified(left, n, "left")?),
            op: ast::BinaryOperator::Eq,
            right: Box::new(qualified(right, n, "right")?),
        };
        cond = Some(match cond {
            None => eq,
            Some(c) => ast::Expr::BinaryOp {
                left: Box::new(c),
                op: ast::BinaryOperator::And,
                right: Box::new(eq),
            },
        });
    }
    cond.ok_or_else(|| Error::Invalid("empty USING list".into()))
}
