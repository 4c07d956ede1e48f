//! Bound expressions: names resolved to column positions, every node typed.
//!
//! An expression is evaluated against one input row (`Column(i)` is its i-th value) and a
//! chain of enclosing rows for correlated subqueries (`Outer { depth, index }`).

use voltrs_storage::{DataType, Value};

use crate::plan::Plan;

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: DataType,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Literal(Value),
    /// The i-th value of the input row.
    Column(usize),
    /// A column of an enclosing query's row: depth 1 is the nearest enclosing query.
    Outer {
        depth: usize,
        index: usize,
    },
    /// The i-th statement parameter (`?` or `$n`), 0-based.
    Param(usize),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `a IS [NOT] DISTINCT FROM b`.
    IsDistinct {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
        negated: bool,
    },
    StartsWith {
        expr: Box<Expr>,
        prefix: Box<Expr>,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    InSubquery {
        expr: Box<Expr>,
        subquery: Box<Subquery>,
        negated: bool,
    },
    Exists {
        subquery: Box<Subquery>,
        negated: bool,
    },
    /// `expr op ANY (subquery)` (`all: false`) or `expr op ALL (subquery)`.
    Quantified {
        expr: Box<Expr>,
        op: BinOp,
        subquery: Box<Subquery>,
        all: bool,
    },
    ScalarSubquery(Box<Subquery>),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    /// Conversion to `Expr::ty`.
    Cast(Box<Expr>),
    Func {
        func: crate::functions::Func,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq
        )
    }

    /// The comparison with its operands swapped (`a < b` is `b > a`).
    pub fn flip(self) -> BinOp {
        match self {
            BinOp::Lt => BinOp::Gt,
            BinOp::LtEq => BinOp::GtEq,
            BinOp::Gt => BinOp::Lt,
            BinOp::GtEq => BinOp::LtEq,
            other => other,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Concat => "||",
            BinOp::Eq => "=",
            BinOp::NotEq => "<>",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

/// A subquery inside an expression. Uncorrelated ones are evaluated once per statement
/// and cached under `id`.
#[derive(Debug, Clone)]
pub struct Subquery {
    pub plan: Plan,
    pub correlated: bool,
    pub id: usize,
}

impl Expr {
    pub fn new(kind: ExprKind, ty: DataType) -> Expr {
        Expr { kind, ty }
    }

    pub fn literal(value: Value, ty: DataType) -> Expr {
        Expr {
            kind: ExprKind::Literal(value),
            ty,
        }
    }

    pub fn column(index: usize, ty: DataType) -> Expr {
        Expr {
            kind: ExprKind::Column(index),
            ty,
        }
    }

    pub fn boolean(b: bool) -> Expr {
        Expr::literal(Value::Boolean(b), DataType::Boolean)
    }

    pub fn and(left: Expr, right: Expr) -> Expr {
        Expr::new(
            ExprKind::Binary {
                op: BinOp::And,
                left: Box::new(left),
                right: Box::new(right),
            },
            DataType::Boolean,
        )
    }

    /// Joins predicates with AND; `None` for an empty list.
    pub fn conjunction(mut preds: Vec<Expr>) -> Option<Expr> {
        let first = if preds.is_empty() {
            return None;
        } else {
            preds.remove(0)
        };
        Some(preds.into_iter().fold(first, Expr::and))
    }

    /// Splits a predicate into its AND-ed parts.
    pub fn into_conjuncts(self, out: &mut Vec<Expr>) {
        match self.kind {
            ExprKind::Binary {
                op: BinOp::And,
                left,
                right,
            } => {
                left.into_conjuncts(out);
                right.into_conjuncts(out);
            }
            kind => out.push(Expr { kind, ty: self.ty }),
        }
    }

    /// Whether two expressions are the same tree over the same row layout: same nodes,
    /// types and literals (a literal equals only one of its own class and value). Subqueries
    /// never compare equal. Used to match conditions against index and view expressions.
    pub fn same_tree(&self, other: &Expr) -> bool {
        use ExprKind as K;
        if self.ty != other.ty {
            return false;
        }
        let node_equal = match (&self.kind, &other.kind) {
            (K::Literal(a), K::Literal(b)) => same_value(a, b),
            (K::Column(a), K::Column(b)) | (K::Param(a), K::Param(b)) => a == b,
            (K::Outer { depth: d1, index: i1 }, K::Outer { depth: d2, index: i2 }) => d1 == d2 && i1 == i2,
            (K::Neg(_), K::Neg(_)) | (K::Not(_), K::Not(_)) | (K::Cast(_), K::Cast(_)) => true,
            (K::StartsWith { .. }, K::StartsWith { .. }) => true,
            (K::Binary { op: a, .. }, K::Binary { op: b, .. }) => a == b,
            (K::IsNull { negated: a, .. }, K::IsNull { negated: b, .. })
            | (K::IsDistinct { negated: a, .. }, K::IsDistinct { negated: b, .. }) => a == b,
            (
                K::Like {
                    escape: e1,
                    negated: n1,
                    ..
                },
                K::Like {
                    escape: e2,
                    negated: n2,
                    ..
                },
            ) => n1 == n2 && e1.is_some() == e2.is_some(),
            (
                K::InList {
                    list: l1, negated: n1, ..
                },
                K::InList {
                    list: l2, negated: n2, ..
                },
            ) => n1 == n2 && l1.len() == l2.len(),
            (
                K::Case {
                    operand: o1,
                    whens: w1,
                    else_: e1,
                },
                K::Case {
                    operand: o2,
                    whens: w2,
                    else_: e2,
                },
            ) => o1.is_some() == o2.is_some() && w1.len() == w2.len() && e1.is_some() == e2.is_some(),
            (K::Func { func: f1, args: a1 }, K::Func { func: f2, args: a2 }) => f1 == f2 && a1.len() == a2.len(),
            _ => false,
        };
        if !node_equal {
            return false;
        }
        // Same node shape: both have their children in the same order.
        let (mut mine, mut theirs) = (Vec::new(), Vec::new());
        self.for_each_child(&mut |c| mine.push(c));
        other.for_each_child(&mut |c| theirs.push(c));
        mine.len() == theirs.len() && mine.iter().zip(&theirs).all(|(a, b)| a.same_tree(b))
    }

    /// Calls `f` on every direct child expression (not into subquery plans).
    pub fn for_each_child<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Column(_) | ExprKind::Outer { .. } | ExprKind::Param(_) => {}
            ExprKind::Neg(e) | ExprKind::Not(e) | ExprKind::Cast(e) | ExprKind::IsNull { expr: e, .. } => f(e),
            ExprKind::Binary { left, right, .. } | ExprKind::IsDistinct { left, right, .. } => {
                f(left);
                f(right);
            }
            ExprKind::Like {
                expr, pattern, escape, ..
            } => {
                f(expr);
                f(pattern);
                if let Some(e) = escape {
                    f(e);
                }
            }
            ExprKind::StartsWith { expr, prefix } => {
                f(expr);
                f(prefix);
            }
            ExprKind::InList { expr, list, .. } => {
                f(expr);
                list.iter().for_each(f);
            }
            ExprKind::InSubquery { expr, .. } | ExprKind::Quantified { expr, .. } => f(expr),
            ExprKind::Exists { .. } | ExprKind::ScalarSubquery(_) => {}
            ExprKind::Case { operand, whens, else_ } => {
                if let Some(o) = operand {
                    f(o);
                }
                for (w, t) in whens {
                    f(w);
                    f(t);
                }
                if let Some(e) = else_ {
                    f(e);
                }
            }
            ExprKind::Func { args, .. } => args.iter().for_each(f),
        }
    }

    /// Mutable version of [`Expr::for_each_child`].
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match &mut self.kind {
            ExprKind::Literal(_) | ExprKind::Column(_) | ExprKind::Outer { .. } | ExprKind::Param(_) => {}
            ExprKind::Neg(e) | ExprKind::Not(e) | ExprKind::Cast(e) | ExprKind::IsNull { expr: e, .. } => f(e),
            ExprKind::Binary { left, right, .. } | ExprKind::IsDistinct { left, right, .. } => {
                f(left);
                f(right);
            }
            ExprKind::Like {
                expr, pattern, escape, ..
            } => {
                f(expr);
                f(pattern);
                if let Some(e) = escape {
                    f(e);
                }
            }
            ExprKind::StartsWith { expr, prefix } => {
                f(expr);
                f(prefix);
            }
            ExprKind::InList { expr, list, .. } => {
                f(expr);
                list.iter_mut().for_each(f);
            }
            ExprKind::InSubquery { expr, .. } | ExprKind::Quantified { expr, .. } => f(expr),
            ExprKind::Exists { .. } | ExprKind::ScalarSubquery(_) => {}
            ExprKind::Case { operand, whens, else_ } => {
                if let Some(o) = operand {
                    f(o);
                }
                for (w, t) in whens {
                    f(w);
                    f(t);
                }
                if let Some(e) = else_ {
                    f(e);
                }
            }
            ExprKind::Func { args, .. } => args.iter_mut().for_each(f),
        }
    }

    /// The set of input columns this expression reads (not counting outer references).
    pub fn columns_used(&self, out: &mut Vec<usize>) {
        if let ExprKind::Column(i) = self.kind
            && !out.contains(&i)
        {
            out.push(i);
        }
        self.for_each_child(&mut |c| c.columns_used(out));
    }

    /// Whether the expression (outside subqueries) reads any input column.
    pub fn uses_columns(&self) -> bool {
        let mut v = Vec::new();
        self.columns_used(&mut v);
        !v.is_empty()
    }

    /// Whether the expression (outside subqueries) reads a column of an enclosing query.
    pub fn uses_outer(&self) -> bool {
        if matches!(self.kind, ExprKind::Outer { .. }) {
            return true;
        }
        let mut found = false;
        self.for_each_child(&mut |c| found |= c.uses_outer());
        found
    }

    /// Whether the expression contains a subquery (whose cost or correlation is unknown).
    pub fn has_subquery(&self) -> bool {
        if matches!(
            self.kind,
            ExprKind::InSubquery { .. }
                | ExprKind::Exists { .. }
                | ExprKind::ScalarSubquery(_)
                | ExprKind::Quantified { .. }
        ) {
            return true;
        }
        let mut found = false;
        self.for_each_child(&mut |c| found |= c.has_subquery());
        found
    }

    /// Whether the expression holds a subquery that references an enclosing query.
    pub fn has_correlated_subquery(&self) -> bool {
        let here = match &self.kind {
            ExprKind::InSubquery { subquery, .. }
            | ExprKind::Exists { subquery, .. }
            | ExprKind::ScalarSubquery(subquery)
            | ExprKind::Quantified { subquery, .. } => subquery.correlated,
            _ => false,
        };
        let mut found = here;
        self.for_each_child(&mut |c| found |= c.has_correlated_subquery());
        found
    }

    /// Renumbers input columns with `map` (old index → new index).
    pub fn remap_columns(&mut self, map: &dyn Fn(usize) -> usize) {
        if let ExprKind::Column(i) = &mut self.kind {
            *i = map(*i);
        }
        self.for_each_child_mut(&mut |c| c.remap_columns(map));
    }
}

/// Literal identity for [`Expr::same_tree`]: same class and same value (FLOAT by its bits).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Integer(x), Value::Integer(y)) | (Value::Timestamp(x), Value::Timestamp(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Decimal(x), Value::Decimal(y)) => x == y,
        (Value::Varchar(x), Value::Varchar(y)) => x == y,
        (Value::Varbinary(x), Value::Varbinary(y)) => x == y,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        _ => false,
    }
}
