//! Parameterization for the plan cache: literals of a DML or query statement become
//! parameters, so that `WHERE id = 5` and `WHERE id = 7` share one bound plan.
//!
//! Owns: deciding which literals may become parameters and the cache-key text. Must not
//! touch: binding (the binder gives the parameters their types, see `binder::ParamMode`), the
//! cache itself (`voltrs-engine`).
//!
//! 1. [`parameterize`] walks a parsed [`Statement`] (queries, INSERT / UPSERT, UPDATE,
//!    DELETE; never DDL or a statement with its own `?` / `$n` markers) and replaces each
//!    eligible literal with a `$k` marker, recording its value and the type the binder would
//!    give it ([`AutoParam`]). Equal literals of equal type share one marker, so that
//!    `SELECT a + 1 ... GROUP BY a + 1` still matches its GROUP BY key.
//! 2. The key is the rewritten statement's text plus the parameter types: `1` (INTEGER),
//!    `3000000000` (BIGINT), `1.5` (DECIMAL), `1e0` (FLOAT), `'x'` (VARCHAR) and `X'AB'`
//!    (VARBINARY) give different keys; NULL and TRUE / FALSE are never parameterized, so they
//!    stay in the text.
//! 3. Literals whose value (not only its type) decides the binding stay literal:
//!    `ORDER BY 1` / `GROUP BY 1` positions, LIMIT / OFFSET / TOP, the ESCAPE of LIKE (it
//!    carries the STARTS WITH marker), the unit argument of DATEADD-like functions, INTERVAL
//!    values. A string's length decides its VARCHAR(n) type, so a string is keyed with its
//!    length unless it sits where the length cannot show: a comparison, BETWEEN, IN list or
//!    LIKE operand, a value of INSERT ... VALUES, or an UPDATE ... SET value (there it binds
//!    as VARCHAR of the largest length). A string compared with a TIMESTAMP or VARBINARY is
//!    converted the way the binder converts the literal (see `binder::ParamMode::Auto`).
//!
//! Anything the binder still refuses with parameters is bound again from the original
//! statement by the engine, which then caches that shape by its literal text.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{self, VisitMut, VisitorMut};
use voltrs_storage::{DataType, Value};

use crate::parser::Statement;

/// One literal turned into a parameter.
#[derive(Debug, Clone)]
pub struct AutoParam {
    /// The literal's value, as the binder would build it.
    pub value: Value,
    /// The type the parameter binds with (and is keyed by).
    pub ty: DataType,
    /// How many places of the statement use this parameter.
    pub uses: usize,
}

/// A statement with its literals replaced by `$k` markers.
#[derive(Debug, Clone)]
pub struct Parameterized {
    pub statement: Statement,
    /// The rewritten statement's text: with [`AutoParam::ty`] of each parameter, the cache key.
    pub text: String,
    pub params: Vec<AutoParam>,
}

/// The cache-key text of a statement as written (no parameterization), or `None` for a
/// statement that is never cached (DDL, TRUNCATE, USE, ...).
pub fn statement_text(stmt: &Statement) -> Option<String> {
    Some(match stmt {
        Statement::Query(q) => format!("Q {q}"),
        Statement::Insert { insert, upsert } => format!("{} {insert}", if *upsert { "U" } else { "I" }),
        Statement::Update(s) | Statement::Delete(s) => format!("W {s}"),
        _ => return None,
    })
}

/// Replaces the eligible literals of a cacheable statement with parameters; `None` for a
/// statement that is never cached.
pub fn parameterize(stmt: &Statement) -> Option<Parameterized> {
    let mut statement = stmt.clone();
    let mut w = Walker::default();
    let _ = match &mut statement {
        Statement::Query(q) => q.visit(&mut w),
        Statement::Insert { insert, .. } => {
            if let Some(source) = &insert.source
                && source.with.is_none()
                && source.order_by.is_none()
                && source.limit_clause.is_none()
                && let ast::SetExpr::Values(v) = source.body.as_ref()
            {
                for row in &v.rows {
                    for e in row.iter() {
                        w.loose.insert(addr(e));
                    }
                }
            }
            insert.visit(&mut w)
        }
        Statement::Update(s) => {
            if let ast::Statement::Update(u) = s.as_ref() {
                for a in &u.assignments {
                    w.loose.insert(addr(&a.value));
                }
            }
            s.visit(&mut w)
        }
        Statement::Delete(s) => s.visit(&mut w),
        _ => return None,
    };
    let text = statement_text(&statement)?;
    Some(Parameterized {
        statement,
        text,
        params: w.params,
    })
}

fn addr(e: &ast::Expr) -> usize {
    e as *const ast::Expr as usize
}

/// Functions whose first argument is a unit (`DATEADD(DAY, ...)`, `TRUNCATE('DAY', ...)`).
const UNIT_FIRST: &[&str] = &[
    "DATEADD",
    "DATEDIFF",
    "TRUNCATE",
    "SINCE_EPOCH",
    "TO_TIMESTAMP",
    "EXTRACT",
];

#[derive(Default)]
struct Walker {
    params: Vec<AutoParam>,
    /// (type, value) of each parameter, to share one marker between equal literals.
    seen: HashMap<(DataType, String), usize>,
    /// Nodes whose literals stay literal, with everything below them.
    skip_tree: HashSet<usize>,
    /// Open skipped subtrees.
    skipping: usize,
    /// Single nodes that stay literal (positions).
    skip: HashSet<usize>,
    /// Nodes where a string's length cannot matter.
    loose: HashSet<usize>,
}

impl Walker {
    fn param(&mut self, value: Value, ty: DataType) -> String {
        let key = (ty, format!("{value:?}"));
        let i = match self.seen.get(&key) {
            Some(&i) => i,
            None => {
                self.params.push(AutoParam { value, ty, uses: 0 });
                self.seen.insert(key, self.params.len() - 1);
                self.params.len() - 1
            }
        };
        if let Some(p) = self.params.get_mut(i) {
            p.uses += 1;
        }
        format!("${}", i + 1)
    }

    /// The parameter a literal becomes, if it becomes one.
    fn literal(&mut self, v: &ast::Value, loose: bool, negate: bool) -> Option<String> {
        use ast::Value as V;
        let (value, ty) = match v {
            V::Number(n, _) => {
                let text = if negate { format!("-{n}") } else { n.clone() };
                let e = crate::binder::number_literal(&text).ok()?;
                let crate::expr::ExprKind::Literal(value) = e.kind else {
                    return None;
                };
                (value, e.ty)
            }
            _ if negate => return None,
            V::SingleQuotedString(s) | V::EscapedStringLiteral(s) | V::NationalStringLiteral(s) => {
                let ty = if loose {
                    DataType::VARCHAR_MAX
                } else {
                    DataType::Varchar {
                        len: s.chars().count().max(1) as u32,
                        bytes: false,
                    }
                };
                (Value::str(s), ty)
            }
            V::HexStringLiteral(h) => {
                let bytes = voltrs_storage::text::parse_hex(h)?;
                let ty = DataType::Varbinary {
                    len: bytes.len().max(1) as u32,
                };
                (Value::bytes(&bytes), ty)
            }
            // NULL, booleans, markers and dialect oddities stay in the text.
            _ => return None,
        };
        Some(self.param(value, ty))
    }

    fn mark_loose(&mut self, e: &ast::Expr) {
        self.loose.insert(addr(e));
    }
}

fn placeholder(p: String) -> ast::Expr {
    ast::Expr::Value(ast::Value::Placeholder(p).into())
}

fn is_comparison(op: &ast::BinaryOperator) -> bool {
    use ast::BinaryOperator as B;
    matches!(op, B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq)
}

impl VisitorMut for Walker {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
        if let Some(ob) = &q.order_by
            && let ast::OrderByKind::Expressions(list) = &ob.kind
        {
            for o in list {
                if matches!(o.expr, ast::Expr::Value(_)) {
                    self.skip.insert(addr(&o.expr));
                }
            }
        }
        match &q.limit_clause {
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
                ..
            }) => {
                for e in limit.iter().chain(offset.as_ref().map(|o| &o.value)).chain(limit_by) {
                    self.skip_tree.insert(addr(e));
                }
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.skip_tree.insert(addr(offset));
                self.skip_tree.insert(addr(limit));
            }
            None => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &mut ast::Select) -> ControlFlow<()> {
        if let ast::GroupByExpr::Expressions(list, _) = &s.group_by {
            for g in list {
                if matches!(g, ast::Expr::Value(_)) {
                    self.skip.insert(addr(g));
                }
            }
        }
        if let Some(ast::Top {
            quantity: Some(ast::TopQuantity::Expr(e)),
            ..
        }) = &s.top
        {
            self.skip_tree.insert(addr(e));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut ast::Expr) -> ControlFlow<()> {
        use ast::Expr as E;
        let here = addr(e);
        if self.skip_tree.contains(&here) || matches!(e, E::Interval(_)) {
            self.skip_tree.insert(here);
            self.skipping += 1;
            return ControlFlow::Continue(());
        }
        if self.skipping > 0 || self.skip.contains(&here) {
            return ControlFlow::Continue(());
        }
        let loose = self.loose.contains(&here);
        match e {
            E::Value(v) => {
                if let Some(p) = self.literal(&v.value, loose, false) {
                    *e = placeholder(p);
                }
            }
            E::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr,
            } => {
                // The binder folds `-<number>` into one literal (so the smallest BIGINT can
                // be written): keep that shape as one parameter.
                if let E::Value(v) = expr.as_ref() {
                    match self.literal(&v.value, loose, true) {
                        Some(p) => *e = placeholder(p),
                        // Out of range (or not a number): the binder reports it as written.
                        None => {
                            self.skip.insert(addr(expr));
                        }
                    }
                }
            }
            E::BinaryOp { left, op, right } if is_comparison(op) => {
                self.mark_loose(left);
                self.mark_loose(right);
            }
            E::Between { expr, low, high, .. } => {
                self.mark_loose(expr);
                self.mark_loose(low);
                self.mark_loose(high);
            }
            E::In { expr, target, .. } => {
                self.mark_loose(expr);
                if let ast::InTarget::List(list) = target {
                    for x in list.iter() {
                        self.mark_loose(x);
                    }
                }
            }
            E::Like {
                expr,
                pattern,
                escape_char,
                ..
            }
            | E::ILike {
                expr,
                pattern,
                escape_char,
                ..
            } => {
                self.mark_loose(expr);
                self.mark_loose(pattern);
                if let Some(esc) = escape_char {
                    self.skip_tree.insert(addr(esc));
                }
            }
            E::Function(f) => {
                let name = f.name.to_string().to_ascii_uppercase();
                if UNIT_FIRST.contains(&name.as_str())
                    && let ast::FunctionArguments::List(list) = &f.args
                    && let Some(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(first))) = list.args.first()
                {
                    self.skip_tree.insert(addr(first));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut ast::Expr) -> ControlFlow<()> {
        if self.skip_tree.contains(&addr(e)) {
            self.skipping = self.skipping.saturating_sub(1);
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
#[path = "parameterize/tests.rs"]
mod tests;
