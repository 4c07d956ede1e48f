//! Walks over sqlparser expressions (not entering subqueries).

use sqlparser::ast;

pub(crate) fn is_aggregate_name(name: &str) -> bool {
    matches!(name, "COUNT" | "SUM" | "AVG" | "MIN" | "MAX")
}

pub(crate) fn function_name(f: &ast::Function) -> String {
    f.name
        .0
        .last()
        .map(|p| p.to_string())
        .unwrap_or_default()
        .trim_matches('"')
        .to_ascii_uppercase()
}

/// Whether the expression contains an aggregate call (outside subqueries).
pub(crate) fn contains_aggregate(e: &ast::Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| {
        if let ast::Expr::Function(f) = x
            && f.over.is_none()
            && is_aggregate_name(&function_name(f))
        {
            found = true;
        }
    });
    found
}

/// Whether the expression contains a window function call.
pub(crate) fn contains_window(e: &ast::Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| {
        if let ast::Expr::Function(f) = x
            && f.over.is_some()
        {
            found = true;
        }
    });
    found
}

/// Visits an expression tree (not entering subqueries).
fn visit(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    use ast::Expr as E;
    f(e);
    match e {
        E::BinaryOp { left, right, .. } | E::IsDistinctFrom(left, right) | E::IsNotDistinctFrom(left, right) => {
            visit(left, f);
            visit(right, f);
        }
        E::UnaryOp { expr, .. }
        | E::Nested(expr)
        | E::IsNull(expr)
        | E::IsNotNull(expr)
        | E::IsTrue(expr)
        | E::IsFalse(expr)
        | E::IsNotTrue(expr)
        | E::IsNotFalse(expr)
        | E::Cast { expr, .. }
        | E::Extract { expr, .. }
        | E::Ceil { expr, .. }
        | E::Floor { expr, .. }
        | E::Collate { expr, .. } => visit(expr, f),
        E::Between { expr, low, high, .. } => {
            visit(expr, f);
            visit(low, f);
            visit(high, f);
        }
        E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => {
            visit(expr, f);
            visit(pattern, f);
        }
        E::In { expr, target, .. } => {
            visit(expr, f);
            if let ast::InTarget::List(list) = target {
                list.iter().for_each(|x| visit(x, f));
            }
        }
        E::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                visit(o, f);
            }
            for c in conditions {
                visit(&c.condition, f);
                visit(&c.result, f);
            }
            if let Some(e) = else_result {
                visit(e, f);
            }
        }
        E::Function(func) => {
            if let ast::FunctionArguments::List(list) = &func.args {
                for a in &list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                        visit(x, f);
                    }
                }
            }
        }
        E::Position { expr, r#in } => {
            visit(expr, f);
            visit(r#in, f);
        }
        E::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            visit(expr, f);
            if let Some(x) = substring_from {
                visit(x, f);
            }
            if let Some(x) = substring_for {
                visit(x, f);
            }
        }
        E::Trim { expr, trim_what, .. } => {
            visit(expr, f);
            if let Some(x) = trim_what {
                visit(x, f);
            }
        }
        E::Tuple(items) => items.iter().for_each(|x| visit(x, f)),
        _ => {}
    }
}
