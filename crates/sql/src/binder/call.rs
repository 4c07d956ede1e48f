//! Binding of calls, subqueries, CASE and IN, and the type rules they share.

use sqlparser::ast;
use voltrs_storage::{DataType, Value};

use super::Binder;
use super::ast_walk::{function_name, is_aggregate_name};
use super::expr::bool_operand;
use crate::error::{Result, invalid, name_err, type_err, unsupported};
use crate::expr::{BinOp, Expr, ExprKind, Subquery};

impl Binder<'_> {
    pub(super) fn in_expr(&mut self, x: &ast::Expr, target: &ast::InTarget, negated: bool) -> Result<Expr> {
        let mut left = self.expr(x)?;
        match target {
            ast::InTarget::List(items) => {
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    let it = self.expr(item)?;
                    self.infer_param(&mut left, it.ty);
                    let (l, it) = self.coerce_pair(left.clone(), it)?;
                    check_comparable(&l, &it)?;
                    list.push(it);
                }
                if list.is_empty() {
                    return invalid("IN list must not be empty");
                }
                Ok(Expr::new(
                    ExprKind::InList {
                        expr: Box::new(left),
                        list,
                        negated,
                    },
                    DataType::Boolean,
                ))
            }
            ast::InTarget::Subquery(q) => {
                let sub = self.subquery(q)?;
                let types = sub.plan.output_types();
                if types.len() != 1 {
                    return invalid(format!(
                        "the subquery of IN must return one column, not {}",
                        types.len()
                    ));
                }
                check_comparable(&left, &Expr::literal(Value::Null, types[0]))?;
                Ok(Expr::new(
                    ExprKind::InSubquery {
                        expr: Box::new(left),
                        subquery: Box::new(sub),
                        negated,
                    },
                    DataType::Boolean,
                ))
            }
            _ => unsupported("this form of IN"),
        }
    }

    /// `x op ANY (subquery)` / `x op ALL (subquery)`.
    pub(super) fn quantified(
        &mut self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        all: bool,
    ) -> Result<Expr> {
        let q = match right {
            ast::Expr::Subquery(q) => q,
            ast::Expr::Nested(inner) => match inner.as_ref() {
                ast::Expr::Subquery(q) => q,
                _ => return unsupported("ANY / ALL over something other than a subquery"),
            },
            _ => return unsupported("ANY / ALL over something other than a subquery"),
        };
        let op = match op {
            ast::BinaryOperator::Eq => BinOp::Eq,
            ast::BinaryOperator::NotEq => BinOp::NotEq,
            ast::BinaryOperator::Lt => BinOp::Lt,
            ast::BinaryOperator::LtEq => BinOp::LtEq,
            ast::BinaryOperator::Gt => BinOp::Gt,
            ast::BinaryOperator::GtEq => BinOp::GtEq,
            other => return unsupported(format!("{other} with ANY / ALL")),
        };
        let x = self.expr(left)?;
        let sub = self.subquery(q)?;
        let types = sub.plan.output_types();
        if types.len() != 1 {
            return invalid(format!(
                "the subquery of ANY / ALL must return one column, not {}",
                types.len()
            ));
        }
        check_comparable(&x, &Expr::literal(Value::Null, types[0]))?;
        Ok(Expr::new(
            ExprKind::Quantified {
                expr: Box::new(x),
                op,
                subquery: Box::new(sub),
                all,
            },
            DataType::Boolean,
        ))
    }

    /// Binds a subquery one scope level down.
    pub(crate) fn subquery(&mut self, q: &ast::Query) -> Result<Subquery> {
        self.enter()?;
        // Inside an aggregated query the subquery runs on aggregate output rows, so its outer
        // references must resolve against that row's layout.
        let swapped = match self.post_aggregate_scope() {
            Some(post) => self.scopes.last_mut().map(|s| std::mem::replace(s, post)),
            None => None,
        };
        let hidden = swapped.is_some();
        if let Some(from) = &swapped {
            self.hidden_from_scopes.push(from.clone());
        }
        let r = self.query(q);
        if hidden {
            self.hidden_from_scopes.pop();
        }
        if let (Some(from), Some(slot)) = (swapped, self.scopes.last_mut()) {
            *slot = from;
        }
        self.leave();
        let (plan, _cols, correlated) = r?;
        let id = self.next_subquery_id;
        self.next_subquery_id += 1;
        Ok(Subquery { plan, correlated, id })
    }

    pub(super) fn case(
        &mut self,
        operand: &Option<Box<ast::Expr>>,
        conditions: &[ast::CaseWhen],
        else_result: &Option<Box<ast::Expr>>,
    ) -> Result<Expr> {
        let operand = match operand {
            Some(o) => Some(Box::new(self.expr(o)?)),
            None => None,
        };
        let mut whens = Vec::with_capacity(conditions.len());
        let mut ty = DataType::Null;
        for c in conditions {
            let cond = self.expr(&c.condition)?;
            match &operand {
                Some(o) => check_comparable(o, &cond)?,
                None => bool_operand(&cond, "WHEN")?,
            }
            let result = self.expr(&c.result)?;
            ty = unify(ty, result.ty, "CASE")?;
            whens.push((cond, result));
        }
        let else_ = match else_result {
            Some(e) => {
                let x = self.expr(e)?;
                ty = unify(ty, x.ty, "CASE")?;
                Some(Box::new(x))
            }
            None => None,
        };
        Ok(Expr::new(ExprKind::Case { operand, whens, else_ }, ty))
    }

    pub(super) fn function(&mut self, f: &ast::Function) -> Result<Expr> {
        let name = function_name(f);
        // Clauses voltrs does not implement are refused, never ignored.
        if f.filter.is_some() {
            return unsupported(format!("FILTER (WHERE ...) on {name}"));
        }
        if f.null_treatment.is_some() {
            return unsupported(format!("IGNORE / RESPECT NULLS on {name}"));
        }
        if !f.within_group.is_empty() {
            return unsupported(format!("WITHIN GROUP on {name}"));
        }
        if !matches!(f.parameters, ast::FunctionArguments::None) {
            return unsupported(format!("parameters of {name}"));
        }
        if let ast::FunctionArguments::List(list) = &f.args
            && !list.clauses.is_empty()
        {
            return unsupported(format!("ORDER BY / LIMIT / other clauses inside {name}(...)"));
        }
        let (args, distinct, star) = match &f.args {
            ast::FunctionArguments::None => (Vec::new(), false, false),
            ast::FunctionArguments::Subquery(_) => {
                return unsupported(format!("subquery as argument of {name}"));
            }
            ast::FunctionArguments::List(list) => {
                let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
                let mut args = Vec::new();
                let mut star = false;
                for a in &list.args {
                    match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => args.push(e.clone()),
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => star = true,
                        other => return unsupported(format!("argument {other} of {name}")),
                    }
                }
                (args, distinct, star)
            }
        };
        if let Some(over) = &f.over {
            return self.window_call(&name, &args, star, distinct, over);
        }
        if is_aggregate_name(&name) {
            return self.aggregate_call(&name, &args, star, distinct);
        }
        if star {
            return invalid(format!("{name}(*) is not a valid call"));
        }
        // Functions whose first argument is a unit keyword (DATEADD(DAY, ...)).
        let unit_first = matches!(
            name.as_str(),
            "DATEADD" | "DATEDIFF" | "TRUNCATE" | "SINCE_EPOCH" | "TO_TIMESTAMP" | "EXTRACT"
        );
        let mut bound = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if unit_first
                && i == 0
                && let ast::Expr::Identifier(id) = a
            {
                bound.push(Expr::literal(
                    Value::str(&id.value.to_ascii_uppercase()),
                    DataType::VARCHAR_MAX,
                ));
                continue;
            }
            bound.push(self.expr(a)?);
        }
        self.call_scalar(&name, bound)
    }

    pub(crate) fn call_scalar(&mut self, name: &str, args: Vec<Expr>) -> Result<Expr> {
        let types: Vec<DataType> = args.iter().map(|a| a.ty).collect();
        match crate::functions::resolve(name, &types)? {
            Some((func, ty)) => Ok(Expr::new(ExprKind::Func { func, args }, ty)),
            None => name_err(format!("unknown function {name}")),
        }
    }
}

pub(super) fn unify(a: DataType, b: DataType, what: &str) -> Result<DataType> {
    crate::cast::common_type(a, b).map_or_else(
        || type_err(format!("incompatible types {} and {} in {what}", a.name(), b.name())),
        Ok,
    )
}

pub(crate) fn check_comparable(l: &Expr, r: &Expr) -> Result<()> {
    if crate::cast::common_type(l.ty, r.ty).is_some() || l.ty == r.ty {
        Ok(())
    } else {
        type_err(format!(
            "incompatible data types in comparison: {} and {}",
            l.ty.name(),
            r.ty.name()
        ))
    }
}

/// A VARCHAR literal compared with a TIMESTAMP or VARBINARY becomes a literal of that type
/// (a timestamp text, or hex digits), as it would when stored into such a column.
pub(crate) fn coerce_literal_pair(l: Expr, r: Expr) -> Result<(Expr, Expr)> {
    let fix = |lit: Expr, other: &Expr| -> Result<Expr> {
        let target = match other.ty {
            DataType::Timestamp => DataType::Timestamp,
            DataType::Varbinary { .. } => DataType::VARBINARY_MAX,
            _ => return Ok(lit),
        };
        if lit.ty.is_string()
            && let ExprKind::Literal(v) = &lit.kind
        {
            return Ok(Expr::literal(crate::cast::cast(v, target)?, target));
        }
        Ok(lit)
    };
    let l2 = fix(l, &r)?;
    let r2 = fix(r, &l2)?;
    Ok((l2, r2))
}
