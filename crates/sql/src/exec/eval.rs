//! Expression evaluation with SQL's three-valued logic.

use std::cmp::Ordering;
use std::rc::Rc;

use voltrs_storage::Value;

use super::{Env, ExecContext, Row, execute, internal, is_true, like};
use crate::error::{Error, Result};
use crate::expr::{BinOp, Expr, ExprKind, Subquery};

pub(super) fn eval(expr: &Expr, env: &Env, ctx: &ExecContext) -> Result<Value> {
    match &expr.kind {
        ExprKind::Literal(v) => Ok(v.clone()),
        ExprKind::Column(i) => match env.row.get(*i) {
            Some(v) => Ok(v.clone()),
            None => internal(format!("column {i} out of range for a row of {} values", env.row.len())),
        },
        ExprKind::Outer { depth, index } => outer(env, *depth, *index),
        ExprKind::Param(i) => match ctx.params.get(*i) {
            Some(v) => Ok(v.clone()),
            None => Err(Error::Invalid(format!("parameter {} not supplied", i + 1))),
        },
        ExprKind::Neg(e) => crate::arith::negate(&eval(e, env, ctx)?),
        ExprKind::Not(e) => Ok(match truth(&eval(e, env, ctx)?, "NOT")? {
            Some(b) => Value::Boolean(!b),
            None => Value::Null,
        }),
        ExprKind::Binary { op, left, right } => binary(*op, left, right, expr, env, ctx),
        ExprKind::IsNull { expr: e, negated } => Ok(Value::Boolean(eval(e, env, ctx)?.is_null() != *negated)),
        ExprKind::IsDistinct { left, right, negated } => {
            let l = eval(left, env, ctx)?;
            let r = eval(right, env, ctx)?;
            let distinct = match (l.is_null(), r.is_null()) {
                (true, true) => false,
                (true, false) | (false, true) => true,
                (false, false) => compare(&l, &r)? != Some(Ordering::Equal),
            };
            Ok(Value::Boolean(distinct != *negated))
        }
        ExprKind::Like {
            expr: e,
            pattern,
            escape,
            negated,
        } => {
            let text = eval(e, env, ctx)?;
            let pat = eval(pattern, env, ctx)?;
            let esc = match escape {
                Some(x) => Some(eval(x, env, ctx)?),
                None => None,
            };
            if text.is_null() || pat.is_null() || esc.as_ref().is_some_and(Value::is_null) {
                return Ok(Value::Null);
            }
            let text = as_str(&text, "LIKE")?;
            let pat = as_str(&pat, "LIKE pattern")?;
            let esc = match &esc {
                Some(v) => {
                    let s = as_str(v, "LIKE escape")?;
                    let mut chars = s.chars();
                    match (chars.next(), chars.next()) {
                        (None, _) => None,
                        (Some(c), None) => Some(c),
                        _ => {
                            return Err(Error::Invalid(format!(
                                "invalid LIKE escape string '{s}': must be one character"
                            )));
                        }
                    }
                }
                None => None,
            };
            let matched = like::like(text, pat, esc)?;
            Ok(Value::Boolean(matched != *negated))
        }
        ExprKind::StartsWith { expr: e, prefix } => {
            let text = eval(e, env, ctx)?;
            let prefix = eval(prefix, env, ctx)?;
            if text.is_null() || prefix.is_null() {
                return Ok(Value::Null);
            }
            Ok(Value::Boolean(
                as_str(&text, "STARTS WITH")?.starts_with(as_str(&prefix, "STARTS WITH")?),
            ))
        }
        ExprKind::InList { expr: e, list, negated } => {
            let left = eval(e, env, ctx)?;
            let (found, saw_null) = find_equal(&left, list.iter().map(|item| eval(item, env, ctx)))?;
            Ok(in_result(found, saw_null, *negated))
        }
        ExprKind::InSubquery {
            expr: e,
            subquery,
            negated,
        } => {
            let left = eval(e, env, ctx)?;
            let rows = subquery_rows(subquery, env, ctx)?;
            if rows.is_empty() {
                return Ok(Value::Boolean(*negated));
            }
            let values = rows.iter().map(|row| match row.first() {
                Some(v) => Ok(v.clone()),
                None => internal("IN subquery returned a row without columns"),
            });
            let (found, saw_null) = find_equal(&left, values)?;
            Ok(in_result(found, saw_null, *negated))
        }
        ExprKind::Quantified {
            expr: e,
            op,
            subquery,
            all,
        } => {
            let left = eval(e, env, ctx)?;
            let rows = subquery_rows(subquery, env, ctx)?;
            // ANY: TRUE if some comparison is TRUE, else NULL if some is NULL, else FALSE.
            // ALL: FALSE if some comparison is FALSE, else NULL if some is NULL, else TRUE.
            let mut saw_null = false;
            for row in rows.iter() {
                let Some(v) = row.first() else {
                    return internal("quantified subquery returned a row without columns");
                };
                match compare(&left, v)? {
                    None => saw_null = true,
                    Some(ord) => {
                        let holds = match op {
                            BinOp::Eq => ord == Ordering::Equal,
                            BinOp::NotEq => ord != Ordering::Equal,
                            BinOp::Lt => ord == Ordering::Less,
                            BinOp::LtEq => ord != Ordering::Greater,
                            BinOp::Gt => ord == Ordering::Greater,
                            BinOp::GtEq => ord != Ordering::Less,
                            _ => return internal("quantified comparison with a non-comparison operator"),
                        };
                        if holds != *all {
                            return Ok(Value::Boolean(holds));
                        }
                    }
                }
            }
            Ok(if saw_null { Value::Null } else { Value::Boolean(*all) })
        }
        ExprKind::Exists { subquery, negated } => {
            let rows = subquery_rows(subquery, env, ctx)?;
            Ok(Value::Boolean(rows.is_empty() == *negated))
        }
        ExprKind::ScalarSubquery(subquery) => {
            let rows = subquery_rows(subquery, env, ctx)?;
            match rows.as_slice() {
                [] => Ok(Value::Null),
                [row] => match row.first() {
                    Some(v) => Ok(v.clone()),
                    None => internal("scalar subquery returned a row without columns"),
                },
                _ => Err(Error::Invalid("scalar subquery returned more than one row".to_string())),
            }
        }
        ExprKind::Case { operand, whens, else_ } => {
            match operand {
                Some(op) => {
                    let v = eval(op, env, ctx)?;
                    for (when, then) in whens {
                        let w = eval(when, env, ctx)?;
                        if compare(&v, &w)? == Some(Ordering::Equal) {
                            return eval(then, env, ctx);
                        }
                    }
                }
                None => {
                    for (when, then) in whens {
                        if is_true(&eval(when, env, ctx)?) {
                            return eval(then, env, ctx);
                        }
                    }
                }
            }
            match else_ {
                Some(e) => eval(e, env, ctx),
                None => Ok(Value::Null),
            }
        }
        ExprKind::Cast(e) => crate::cast::cast(&eval(e, env, ctx)?, expr.ty),
        ExprKind::Func { func, args } => {
            let values = args.iter().map(|a| eval(a, env, ctx)).collect::<Result<Vec<_>>>()?;
            crate::functions::call(*func, &values, &ctx.func)
        }
    }
}

/// A column of an enclosing query's row: `depth` steps up the parent chain.
fn outer(env: &Env, depth: usize, index: usize) -> Result<Value> {
    let mut e = env;
    for _ in 0..depth {
        match e.parent {
            Some(p) => e = p,
            None => {
                return internal(format!("outer reference at depth {depth} has no enclosing row"));
            }
        }
    }
    match e.row.get(index) {
        Some(v) => Ok(v.clone()),
        None => internal(format!(
            "outer column {index} out of range for a row of {} values",
            e.row.len()
        )),
    }
}

fn binary(op: BinOp, left: &Expr, right: &Expr, expr: &Expr, env: &Env, ctx: &ExecContext) -> Result<Value> {
    match op {
        BinOp::And | BinOp::Or => {
            let name = op.symbol();
            // FALSE AND x is FALSE, TRUE OR x is TRUE, without evaluating x.
            let decisive = op == BinOp::Or;
            let l = truth(&eval(left, env, ctx)?, name)?;
            if l == Some(decisive) {
                return Ok(Value::Boolean(decisive));
            }
            let r = truth(&eval(right, env, ctx)?, name)?;
            Ok(match (l, r) {
                (_, Some(b)) if b == decisive => Value::Boolean(decisive),
                (Some(_), Some(_)) => Value::Boolean(!decisive),
                _ => Value::Null,
            })
        }
        BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => {
            let l = eval(left, env, ctx)?;
            let r = eval(right, env, ctx)?;
            Ok(match compare(&l, &r)? {
                None => Value::Null,
                Some(ord) => Value::Boolean(match op {
                    BinOp::Eq => ord == Ordering::Equal,
                    BinOp::NotEq => ord != Ordering::Equal,
                    BinOp::Lt => ord == Ordering::Less,
                    BinOp::LtEq => ord != Ordering::Greater,
                    BinOp::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                }),
            })
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Concat => {
            let l = eval(left, env, ctx)?;
            let r = eval(right, env, ctx)?;
            crate::arith::arith(op, &l, &r, expr.ty)
        }
    }
}

/// SQL comparison: `None` when either side is NULL; a type error for values that cannot be
/// compared. NaN compares as VoltDB (Java) does: equal to itself, above every number.
pub(super) fn compare(l: &Value, r: &Value) -> Result<Option<Ordering>> {
    if l.is_null() || r.is_null() {
        return Ok(None);
    }
    match l.sql_cmp(r) {
        Some(ord) => Ok(Some(ord)),
        None if l.as_f64().is_some() && r.as_f64().is_some() => Ok(Some(l.cmp(r))),
        None => Err(Error::Type(format!(
            "incompatible data types in comparison: {} and {}",
            crate::cast::value_type_name(l),
            crate::cast::value_type_name(r)
        ))),
    }
}

/// A boolean operand: `Some(b)`, `None` for NULL, a type error otherwise.
fn truth(v: &Value, op: &str) -> Result<Option<bool>> {
    match v {
        Value::Boolean(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(Error::Type(format!(
            "{op} requires a boolean operand, got {}",
            crate::cast::value_type_name(other)
        ))),
    }
}

/// Looks for a value equal to `left` (SQL `=`): (found, whether a comparison was NULL).
/// A NULL `left` compares as NULL with everything, so nothing is evaluated.
fn find_equal(left: &Value, values: impl Iterator<Item = Result<Value>>) -> Result<(bool, bool)> {
    if left.is_null() {
        return Ok((false, true));
    }
    let mut saw_null = false;
    for v in values {
        match compare(left, &v?)? {
            Some(Ordering::Equal) => return Ok((true, saw_null)),
            Some(_) => {}
            None => saw_null = true,
        }
    }
    Ok((false, saw_null))
}

fn in_result(found: bool, saw_null: bool, negated: bool) -> Value {
    if found {
        Value::Boolean(!negated)
    } else if saw_null {
        Value::Null
    } else {
        Value::Boolean(negated)
    }
}

fn as_str<'v>(v: &'v Value, what: &str) -> Result<&'v str> {
    match v {
        Value::Varchar(s) => Ok(s),
        other => Err(Error::Type(format!(
            "{what} requires a VARCHAR operand, got {}",
            crate::cast::value_type_name(other)
        ))),
    }
}

/// The rows of a subquery run with the current row as its nearest enclosing row.
/// Uncorrelated subqueries run once per statement and are cached by id.
fn subquery_rows(sub: &Subquery, env: &Env, ctx: &ExecContext) -> Result<Rc<Vec<Row>>> {
    if sub.correlated {
        return Ok(Rc::new(execute(&sub.plan, ctx, Some(env))?));
    }
    // The borrow ends before executing: the subquery may itself consult the cache.
    let cached = ctx.subquery_cache.borrow().get(&sub.id).cloned();
    if let Some(rows) = cached {
        return Ok(rows);
    }
    let rows = Rc::new(execute(&sub.plan, ctx, Some(env))?);
    ctx.subquery_cache.borrow_mut().insert(sub.id, Rc::clone(&rows));
    Ok(rows)
}
