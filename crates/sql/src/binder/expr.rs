//! Expression binding: sqlparser expressions to typed [`Expr`]s (aggregate and window mode
//! are in [`super::aggregate`]).

use sqlparser::ast;
use voltrs_storage::{DataType, Value};

use super::call::check_comparable;
use super::literal::{convert_type, literal, number_literal};
use super::{Binder, MAX_EXPR_CHAIN, Scope};
use crate::catalog::{Catalog, Namespace};
use crate::error::{Result, invalid, name_err, type_err, unsupported};
use crate::expr::{BinOp, Expr, ExprKind};

/// Binds an expression over a single table's row (DEFAULT values, index keys, CHECK-like
/// predicates), with no subqueries allowed.
pub fn bind_standalone_expr(
    catalog: &Catalog,
    ns: &Namespace,
    columns: &[(String, DataType)],
    table: &str,
    expr: &ast::Expr,
) -> Result<Expr> {
    struct NoStats;
    impl super::Stats for NoStats {
        fn row_count(&self, _: voltrs_storage::TableId) -> usize {
            0
        }
    }
    let mut b = Binder::new(catalog, ns, &NoStats);
    b.scopes.push(Scope {
        columns: columns
            .iter()
            .map(|(name, ty)| super::ScopeColumn {
                table: Some(table.to_string()),
                name: name.clone(),
                ty: *ty,
            })
            .collect(),
    });
    b.correlated.push(false);
    let e = b.expr(expr)?;
    if e.has_subquery() {
        return invalid("subqueries are not allowed here");
    }
    Ok(e)
}

pub(super) fn bool_operand(e: &Expr, what: &str) -> Result<()> {
    if matches!(e.ty, DataType::Boolean | DataType::Null) {
        Ok(())
    } else {
        type_err(format!(
            "argument of {what} must be a boolean expression, not {}",
            e.ty.name()
        ))
    }
}

impl Binder<'_> {
    /// Sets aggregate / window mode for the current query level.
    /// Binds an expression in the current scope (and mode).
    pub(crate) fn expr(&mut self, e: &ast::Expr) -> Result<Expr> {
        self.enter()?;
        let r = self.expr_in_mode(e);
        self.leave();
        r
    }

    pub(super) fn expr_plain(&mut self, e: &ast::Expr) -> Result<Expr> {
        use ast::Expr as E;
        match e {
            E::Identifier(id) => self.column_ref(std::slice::from_ref(id)),
            E::CompoundIdentifier(ids) => self.column_ref(ids),
            E::Value(v) => literal(&v.value, self),
            E::Nested(inner) => self.expr(inner),
            E::UnaryOp { op, expr } => self.unary(*op, expr),
            E::BinaryOp { .. } => self.binary_chain(e),
            E::IsNull(x) | E::IsNotNull(x) => {
                let inner = self.expr(x)?;
                Ok(Expr::new(
                    ExprKind::IsNull {
                        expr: Box::new(inner),
                        negated: matches!(e, E::IsNotNull(_)),
                    },
                    DataType::Boolean,
                ))
            }
            E::IsUnknown(x) | E::IsNotUnknown(x) => {
                let inner = self.expr(x)?;
                bool_operand(&inner, "IS UNKNOWN")?;
                Ok(Expr::new(
                    ExprKind::IsNull {
                        expr: Box::new(inner),
                        negated: matches!(e, E::IsNotUnknown(_)),
                    },
                    DataType::Boolean,
                ))
            }
            E::IsTrue(x) | E::IsFalse(x) | E::IsNotTrue(x) | E::IsNotFalse(x) => {
                let inner = self.expr(x)?;
                bool_operand(&inner, "IS TRUE")?;
                let want = matches!(e, E::IsTrue(_) | E::IsNotTrue(_));
                let negated = matches!(e, E::IsNotTrue(_) | E::IsNotFalse(_));
                Ok(Expr::new(
                    ExprKind::IsDistinct {
                        left: Box::new(inner),
                        right: Box::new(Expr::boolean(want)),
                        negated: !negated,
                    },
                    DataType::Boolean,
                ))
            }
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let l = self.expr(a)?;
                let r = self.expr(b)?;
                check_comparable(&l, &r)?;
                Ok(Expr::new(
                    ExprKind::IsDistinct {
                        left: Box::new(l),
                        right: Box::new(r),
                        negated: matches!(e, E::IsNotDistinctFrom(..)),
                    },
                    DataType::Boolean,
                ))
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr)?;
                let lo = self.expr(low)?;
                let hi = self.expr(high)?;
                let ge = self.compare(BinOp::GtEq, x.clone(), lo)?;
                let le = self.compare(BinOp::LtEq, x, hi)?;
                let both = Expr::and(ge, le);
                Ok(if *negated {
                    Expr::new(ExprKind::Not(Box::new(both)), DataType::Boolean)
                } else {
                    both
                })
            }
            E::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                let mut x = self.expr(expr)?;
                let mut p = self.expr(pattern)?;
                self.infer_param(&mut x, DataType::VARCHAR_MAX);
                self.infer_param(&mut p, DataType::VARCHAR_MAX);
                for side in [&x, &p] {
                    if !(side.ty.is_string() || side.ty == DataType::Null) {
                        return type_err(format!("LIKE needs VARCHAR operands, not {}", side.ty.name()));
                    }
                }
                let escape = match escape_char {
                    Some(c) => Some(Box::new(self.expr(c)?)),
                    None => None,
                };
                let marker = crate::parser::STARTS_WITH_MARKER;
                if let Some(ExprKind::Literal(Value::Varchar(m))) = escape.as_ref().map(|e| &e.kind)
                    && &**m == marker
                {
                    let sw = Expr::new(
                        ExprKind::StartsWith {
                            expr: Box::new(x),
                            prefix: Box::new(p),
                        },
                        DataType::Boolean,
                    );
                    return Ok(if *negated {
                        Expr::new(ExprKind::Not(Box::new(sw)), DataType::Boolean)
                    } else {
                        sw
                    });
                }
                Ok(Expr::new(
                    ExprKind::Like {
                        expr: Box::new(x),
                        pattern: Box::new(p),
                        escape,
                        negated: *negated,
                    },
                    DataType::Boolean,
                ))
            }
            E::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => self.quantified(left, compare_op, right, false),
            E::AllOp {
                left,
                compare_op,
                right,
            } => self.quantified(left, compare_op, right, true),
            E::In {
                expr, target, negated, ..
            } => self.in_expr(expr, target, *negated),
            E::Exists { subquery, negated } => {
                let sub = self.subquery(subquery)?;
                Ok(Expr::new(
                    ExprKind::Exists {
                        subquery: Box::new(sub),
                        negated: *negated,
                    },
                    DataType::Boolean,
                ))
            }
            E::Subquery(q) => {
                let sub = self.subquery(q)?;
                let types = sub.plan.output_types();
                if types.len() != 1 {
                    return invalid(format!("a scalar subquery must return one column, not {}", types.len()));
                }
                Ok(Expr::new(ExprKind::ScalarSubquery(Box::new(sub)), types[0]))
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand, conditions, else_result),
            E::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if !matches!(kind, ast::CastKind::Cast | ast::CastKind::DoubleColon) {
                    return unsupported("TRY_CAST / SAFE_CAST");
                }
                if format.is_some() {
                    return unsupported("CAST ... FORMAT");
                }
                let mut x = self.expr(expr)?;
                let ty = convert_type(data_type)?;
                self.infer_param(&mut x, ty);
                Ok(Expr::new(ExprKind::Cast(Box::new(x)), ty))
            }
            E::Function(f) => self.function(f),
            E::Extract { field, expr, .. } => {
                let field_name = field.to_string().to_ascii_uppercase();
                let x = self.expr(expr)?;
                // Each field is also a one-argument function with its exact result type.
                if crate::functions::DatePart::parse(&field_name).is_some() {
                    return self.call_scalar(&field_name, vec![x]);
                }
                let unit = Expr::literal(Value::str(&field_name), DataType::VARCHAR_MAX);
                self.call_scalar("EXTRACT", vec![unit, x])
            }
            E::Ceil { expr, .. } => {
                let x = self.expr(expr)?;
                self.call_scalar("CEILING", vec![x])
            }
            E::Floor { expr, .. } => {
                let x = self.expr(expr)?;
                self.call_scalar("FLOOR", vec![x])
            }
            E::Position { expr, r#in } => {
                let needle = self.expr(expr)?;
                let hay = self.expr(r#in)?;
                self.call_scalar("POSITION", vec![needle, hay])
            }
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.expr(expr)?];
                match substring_from {
                    Some(from) => args.push(self.expr(from)?),
                    None => return invalid("function SUBSTRING takes 2 or 3 arguments"),
                }
                if let Some(len) = substring_for {
                    args.push(self.expr(len)?);
                }
                self.call_scalar("SUBSTRING", args)
            }
            E::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "LTRIM",
                    Some(ast::TrimWhereField::Trailing) => "RTRIM",
                    _ => "TRIM",
                };
                let mut args = vec![self.expr(expr)?];
                if let Some(what) = trim_what {
                    args.push(self.expr(what)?);
                }
                // The comma form TRIM(s, chars).
                for c in trim_characters.iter().flatten() {
                    args.push(self.expr(c)?);
                }
                self.call_scalar(name, args)
            }
            E::TypedString(ts) => {
                let ty = convert_type(&ts.data_type)?;
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                let v = crate::cast::cast(&Value::str(&text), ty)?;
                Ok(Expr::literal(v, ty))
            }
            other => unsupported(format!("expression {other}")),
        }
    }

    fn column_ref(&mut self, ids: &[ast::Ident]) -> Result<Expr> {
        for id in ids {
            reject_reserved(id)?;
        }
        let parts: Vec<String> = ids.iter().map(|i| i.value.to_ascii_uppercase()).collect();
        let (table, name) = match parts.as_slice() {
            [name] => (None, name.as_str()),
            [table, name] => (Some(table.as_str()), name.as_str()),
            [_, _, _] => {
                return unsupported(format!(
                    "column reference {}: qualify a column with its table's name or alias, not with a database",
                    parts.join(".")
                ));
            }
            _ => return name_err(format!("invalid column reference {}", parts.join("."))),
        };
        let levels = self.scopes.len();
        for level in (0..levels).rev() {
            let scope = &self.scopes[level];
            let mut found: Option<usize> = None;
            for (i, c) in scope.columns.iter().enumerate() {
                let table_ok = match table {
                    Some(t) => c.table.as_deref() == Some(t),
                    None => true,
                };
                if table_ok && c.name == name {
                    if found.is_some() {
                        return name_err(format!("column reference \"{}\" is ambiguous", parts.join(".")));
                    }
                    found = Some(i);
                }
            }
            if let Some(i) = found {
                let ty = scope.columns[i].ty;
                let depth = levels - 1 - level;
                if depth == 0 {
                    return Ok(Expr::column(i, ty));
                }
                for c in &mut self.correlated[level + 1..] {
                    *c = true;
                }
                return Ok(Expr::new(ExprKind::Outer { depth, index: i }, ty));
            }
        }
        // A column of an aggregated enclosing query that is neither grouped nor aggregated.
        let hidden = self.hidden_from_scopes.iter().any(|s| {
            s.columns
                .iter()
                .any(|c| c.name == name && table.is_none_or(|t| c.table.as_deref() == Some(t)))
        });
        if hidden {
            return Err(crate::error::Error::Invalid(format!(
                "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                parts.join(".")
            )));
        }
        // NOW and CURRENT_TIMESTAMP may be written without parentheses.
        if table.is_none() && (name == "NOW" || name == "CURRENT_TIMESTAMP") {
            return self.call_scalar("NOW", Vec::new());
        }
        match table {
            Some(t)
                if !self
                    .scopes
                    .iter()
                    .any(|s| s.columns.iter().any(|c| c.table.as_deref() == Some(t))) =>
            {
                name_err(format!(
                    "object not found: table or alias \"{t}\" is not in the FROM clause"
                ))
            }
            _ => name_err(format!("column \"{}\" not found", parts.join("."))),
        }
    }

    fn unary(&mut self, op: ast::UnaryOperator, x: &ast::Expr) -> Result<Expr> {
        use ast::UnaryOperator as U;
        match op {
            U::Plus => {
                let e = self.expr(x)?;
                if !(e.ty.is_numeric() || e.ty == DataType::Null) {
                    return type_err(format!("unary + needs a number, not {}", e.ty.name()));
                }
                Ok(e)
            }
            U::Minus => {
                // Fold -literal so that the smallest BIGINT can be written.
                if let ast::Expr::Value(v) = x
                    && let ast::Value::Number(n, _) = &v.value
                {
                    return number_literal(&format!("-{n}"));
                }
                let e = self.expr(x)?;
                if !(e.ty.is_numeric() || e.ty == DataType::Null) {
                    return type_err(format!("unary - needs a number, not {}", e.ty.name()));
                }
                let ty = if e.ty.is_integer() || e.ty == DataType::Null {
                    DataType::BigInt
                } else {
                    e.ty
                };
                Ok(Expr::new(ExprKind::Neg(Box::new(e)), ty))
            }
            U::Not => {
                let e = self.expr(x)?;
                bool_operand(&e, "NOT")?;
                Ok(Expr::new(ExprKind::Not(Box::new(e)), DataType::Boolean))
            }
            other => unsupported(format!("operator {other}")),
        }
    }

    /// Binds a chain of binary operators without recursing down its left spine, so long
    /// generated chains (`a OR b OR c ...`, `1+1+...`) bind in constant stack. AND / OR chains
    /// become balanced trees (same result and evaluation order, logarithmic depth); other
    /// operators keep their left-deep shape, bounded by [`MAX_EXPR_CHAIN`].
    fn binary_chain(&mut self, e: &ast::Expr) -> Result<Expr> {
        let logic = |op: &ast::BinaryOperator| matches!(op, ast::BinaryOperator::And | ast::BinaryOperator::Or);
        let ast::Expr::BinaryOp { op: top, .. } = e else {
            return self.expr(e);
        };
        // Walk the left spine while the operator continues the chain: the same logical
        // operator for AND / OR, any non-logical operator otherwise.
        let continues = |op: &ast::BinaryOperator| if logic(top) { op == top } else { !logic(op) };
        // Each spine entry keeps its whole node too: in aggregate mode a prefix of the chain
        // (`a + b` of `a + b + c`) may itself be a GROUP BY key.
        let mut spine: Vec<(&ast::BinaryOperator, &ast::Expr, &ast::Expr)> = Vec::new();
        let mut leftmost = e;
        while let ast::Expr::BinaryOp { left, op, right } = leftmost {
            if !continues(op) {
                break;
            }
            spine.push((op, right, leftmost));
            leftmost = left;
        }
        spine.reverse();
        if logic(top) {
            let mut terms = Vec::with_capacity(spine.len() + 1);
            terms.push(self.expr(leftmost)?);
            for (_, right, _) in &spine {
                terms.push(self.expr(right)?);
            }
            return self.balanced(top, terms);
        }
        if spine.len() > MAX_EXPR_CHAIN {
            return invalid(format!(
                "expression has a chain of {} operators (limit {MAX_EXPR_CHAIN})",
                spine.len()
            ));
        }
        // In aggregate mode, start from the longest prefix of the chain that is a GROUP BY key.
        let mut start = 0;
        let mut acc = None;
        if self.in_agg_mode() {
            for k in (0..spine.len()).rev() {
                if let Some(key) = self.group_key_for(spine[k].2) {
                    acc = Some(key);
                    start = k + 1;
                    break;
                }
            }
        }
        let mut acc = match acc {
            Some(a) => a,
            None => self.expr(leftmost)?,
        };
        for (op, right, _) in &spine[start..] {
            let r = self.expr(right)?;
            acc = self.binary(op, acc, r)?;
        }
        Ok(acc)
    }

    /// Combines terms with one associative logical operator as a balanced tree.
    fn balanced(&mut self, op: &ast::BinaryOperator, mut terms: Vec<Expr>) -> Result<Expr> {
        while terms.len() > 1 {
            let mut next = Vec::with_capacity(terms.len().div_ceil(2));
            let mut it = terms.into_iter();
            while let Some(a) = it.next() {
                match it.next() {
                    Some(b) => next.push(self.binary(op, a, b)?),
                    None => next.push(a),
                }
            }
            terms = next;
        }
        terms
            .pop()
            .ok_or_else(|| crate::error::Error::Invalid("internal: empty operator chain".into()))
    }

    pub(crate) fn binary(&mut self, op: &ast::BinaryOperator, mut l: Expr, mut r: Expr) -> Result<Expr> {
        use ast::BinaryOperator as B;
        let op = match op {
            B::Plus => BinOp::Add,
            B::Minus => BinOp::Sub,
            B::Multiply => BinOp::Mul,
            B::Divide => BinOp::Div,
            B::Modulo => BinOp::Mod,
            B::StringConcat => BinOp::Concat,
            B::Eq => BinOp::Eq,
            B::NotEq => BinOp::NotEq,
            B::Lt => BinOp::Lt,
            B::LtEq => BinOp::LtEq,
            B::Gt => BinOp::Gt,
            B::GtEq => BinOp::GtEq,
            B::And => BinOp::And,
            B::Or => BinOp::Or,
            other => return unsupported(format!("operator {other}")),
        };
        if op.is_comparison() {
            return self.compare(op, l, r);
        }
        if matches!(op, BinOp::And | BinOp::Or) {
            bool_operand(&l, op.symbol())?;
            bool_operand(&r, op.symbol())?;
            return Ok(Expr::new(
                ExprKind::Binary {
                    op,
                    left: Box::new(l),
                    right: Box::new(r),
                },
                DataType::Boolean,
            ));
        }
        if op == BinOp::Concat {
            self.infer_param(&mut l, DataType::VARCHAR_MAX);
            self.infer_param(&mut r, DataType::VARCHAR_MAX);
        } else {
            self.infer_param(&mut l, r.ty);
            self.infer_param(&mut r, l.ty);
        }
        let ty = crate::arith::arith_type(op, l.ty, r.ty)?;
        Ok(Expr::new(
            ExprKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            ty,
        ))
    }

    /// A comparison, converting a string literal compared with a TIMESTAMP.
    pub(crate) fn compare(&mut self, op: BinOp, l: Expr, r: Expr) -> Result<Expr> {
        let (l, r) = self.coerce_pair(l, r)?;
        check_comparable(&l, &r)?;
        Ok(Expr::new(
            ExprKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            DataType::Boolean,
        ))
    }
}

/// Words that cannot be unquoted names: sqlparser's generic dialect lets some through as
/// identifiers (`SELECT 1 + FROM t`), which would turn a syntax error into a confusing
/// "column FROM not found".
const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CROSS",
    "DELETE",
    "DISTINCT",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "RIGHT",
    "SELECT",
    "SET",
    "THEN",
    "UNION",
    "UPDATE",
    "VALUES",
    "WHEN",
    "WHERE",
    "WITH",
];

pub(crate) fn reject_reserved(id: &ast::Ident) -> Result<()> {
    if id.quote_style.is_none() && RESERVED.iter().any(|r| id.value.eq_ignore_ascii_case(r)) {
        return Err(crate::error::Error::Syntax {
            message: format!("unexpected keyword {}", id.value.to_ascii_uppercase()),
            line: id.span.start.line,
            column: id.span.start.column,
        });
    }
    Ok(())
}
