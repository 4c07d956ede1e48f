//! Aggregate and window mode: how the select list, HAVING and ORDER BY of an aggregated
//! or windowed query bind.
//!
//! Inside an aggregated query an expression equal to a GROUP BY key becomes a reference to
//! that key's column of the aggregate output, an aggregate call becomes a reference to its
//! result column, and any other column reference is an error naming the column. Window
//! calls become references to the columns a Window node appends.

use sqlparser::ast;
use voltrs_storage::DataType;

use super::ast_walk::{contains_aggregate, contains_window, function_name, is_aggregate_name};
use super::{Binder, Scope, ScopeColumn};
use crate::error::{Error, Result, invalid, type_err, unsupported};
use crate::expr::{Expr, ExprKind};
use crate::plan::{AggCall, AggFunc, SortKey, WindowCall, WindowFunc};

/// State of aggregate mode: the bound GROUP BY keys and the aggregates found so far.
#[derive(Debug, Default)]
pub(crate) struct AggContext {
    pub keys: Vec<Expr>,
    key_text: Vec<String>,
    pub aggs: Vec<AggCall>,
    agg_text: Vec<String>,
}

impl AggContext {
    pub fn new(keys: Vec<Expr>) -> AggContext {
        let key_text = keys.iter().map(|k| format!("{k:?}")).collect();
        AggContext {
            keys,
            key_text,
            aggs: Vec::new(),
            agg_text: Vec::new(),
        }
    }
}

/// Window functions found in a select list; their results follow the `base` input columns.
#[derive(Debug, Default)]
pub(crate) struct WindowContext {
    pub base: usize,
    pub funcs: Vec<WindowCall>,
}

impl Binder<'_> {
    /// In aggregate mode, the scope a subquery sees for the current level: the aggregate
    /// output, where GROUP BY keys that are plain columns keep their names.
    pub(crate) fn post_aggregate_scope(&mut self) -> Option<Scope> {
        let from = self.current_scope().clone();
        self.with_mode(|agg, _| {
            let agg = agg.as_ref()?;
            let mut columns: Vec<ScopeColumn> = agg
                .keys
                .iter()
                .map(|k| match k.kind {
                    ExprKind::Column(i) if i < from.columns.len() => from.columns[i].clone(),
                    _ => ScopeColumn {
                        table: None,
                        name: String::new(),
                        ty: k.ty,
                    },
                })
                .collect();
            columns.extend(agg.aggs.iter().map(|a| ScopeColumn {
                table: None,
                name: String::new(),
                ty: a.ty,
            }));
            Some(Scope { columns })
        })
    }

    pub(crate) fn set_mode(&mut self, agg: Option<AggContext>, window: Option<WindowContext>) {
        let level = self.scopes.len();
        if level == 0 {
            return;
        }
        if self.modes.len() < level {
            self.modes.resize_with(level, Default::default);
        }
        self.modes[level - 1] = (agg, window);
    }

    /// Takes the current level's mode out (leaving plain mode).
    pub(crate) fn take_mode(&mut self) -> (Option<AggContext>, Option<WindowContext>) {
        let level = self.scopes.len();
        if level > 0 && self.modes.len() >= level {
            std::mem::take(&mut self.modes[level - 1])
        } else {
            (None, None)
        }
    }

    fn with_mode<R>(&mut self, f: impl FnOnce(&mut Option<AggContext>, &mut Option<WindowContext>) -> R) -> R {
        let level = self.scopes.len();
        if level == 0 {
            return f(&mut None, &mut None);
        }
        if self.modes.len() < level {
            self.modes.resize_with(level, Default::default);
        }
        let (a, w) = &mut self.modes[level - 1];
        f(a, w)
    }

    pub(super) fn in_agg_mode(&mut self) -> bool {
        self.with_mode(|a, _| a.is_some())
    }

    pub(super) fn expr_in_mode(&mut self, e: &ast::Expr) -> Result<Expr> {
        let is_call = matches!(e, ast::Expr::Function(f) if f.over.is_some() || is_aggregate_name(&function_name(f)));
        if !is_call && self.in_agg_mode() && !contains_aggregate(e) && !contains_window(e) {
            let saved = self.take_mode();
            let trial = self.expr_plain(e);
            let keys_match = |b: &Expr, agg: &AggContext| agg.key_text.iter().position(|k| *k == format!("{b:?}"));
            let agg_ref = saved.0.as_ref();
            let result = match (&trial, agg_ref) {
                (Ok(b), Some(agg)) => {
                    if let Some(i) = keys_match(b, agg) {
                        Some(Ok(Expr::column(i, b.ty)))
                    } else if b.has_correlated_subquery() {
                        // Bind it again structurally: its subqueries then see the aggregate
                        // output (see `Binder::subquery`).
                        None
                    } else if !b.uses_columns() {
                        Some(Ok(b.clone()))
                    } else if matches!(e, ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)) {
                        Some(Err(Error::Invalid(format!(
                            "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                            e.to_string().to_ascii_uppercase()
                        ))))
                    } else {
                        None
                    }
                }
                _ => None,
            };
            self.set_mode(saved.0, saved.1);
            if let Some(r) = result {
                return r;
            }
            if let Err(err) = trial
                && !matches!(err, Error::Name(_))
            {
                return Err(err);
            }
        }
        self.expr_plain(e)
    }

    /// In aggregate mode: the reference to the GROUP BY key that `e` is, if it is one and
    /// holds no aggregate or window call.
    pub(super) fn group_key_for(&mut self, e: &ast::Expr) -> Option<Expr> {
        if contains_aggregate(e) || contains_window(e) {
            return None;
        }
        let saved = self.take_mode();
        let trial = self.expr_plain(e);
        let found = match (&trial, saved.0.as_ref()) {
            (Ok(b), Some(agg)) => {
                let text = format!("{b:?}");
                agg.key_text
                    .iter()
                    .position(|k| *k == text)
                    .map(|i| Expr::column(i, b.ty))
            }
            _ => None,
        };
        self.set_mode(saved.0, saved.1);
        found
    }
    pub(super) fn aggregate_call(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        star: bool,
        distinct: bool,
    ) -> Result<Expr> {
        if !self.in_agg_mode() {
            return invalid(format!("aggregate function {name} is not allowed here"));
        }
        let (agg, window) = self.take_mode();
        // Arguments see the input row, not the aggregate output.
        let arg = if star {
            if name != "COUNT" {
                self.set_mode(agg, window);
                return invalid(format!("{name}(*) is not a valid call"));
            }
            None
        } else {
            if args.len() != 1 {
                self.set_mode(agg, window);
                return invalid(format!("aggregate function {name} takes one argument"));
            }
            if contains_aggregate(&args[0]) {
                self.set_mode(agg, window);
                return invalid(format!("aggregate calls cannot be nested inside {name}"));
            }
            let r = self.expr(&args[0]);
            match r {
                // SQL makes an aggregate of only enclosing-query columns an aggregate of that
                // query; voltrs does not move it there, so it refuses rather than compute it
                // per outer row.
                Ok(a) if a.uses_outer() && !a.uses_columns() => {
                    self.set_mode(agg, window);
                    return unsupported(format!("{name} over columns of an enclosing query only"));
                }
                Ok(a) => Some(a),
                Err(e) => {
                    self.set_mode(agg, window);
                    return Err(e);
                }
            }
        };
        let mut agg = agg.unwrap_or_default();
        let call = match agg_call(name, arg, distinct) {
            Ok(c) => c,
            Err(e) => {
                self.set_mode(Some(agg), window);
                return Err(e);
            }
        };
        let text = format!("{call:?}");
        let ty = call.ty;
        let idx = match agg.agg_text.iter().position(|t| *t == text) {
            Some(i) => i,
            None => {
                agg.aggs.push(call);
                agg.agg_text.push(text);
                agg.aggs.len() - 1
            }
        };
        let col = agg.keys.len() + idx;
        self.set_mode(Some(agg), window);
        Ok(Expr::column(col, ty))
    }

    pub(super) fn window_call(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        star: bool,
        distinct: bool,
        over: &ast::WindowType,
    ) -> Result<Expr> {
        let ast::WindowType::WindowSpec(spec) = over else {
            return unsupported("named windows");
        };
        if spec.window_frame.is_some() {
            return unsupported("window frames (ROWS / RANGE)");
        }
        if distinct {
            return unsupported("DISTINCT in a window function");
        }
        if self.with_mode(|_, w| w.is_none()) {
            return invalid(format!("window function {name} is only allowed in the select list"));
        }
        let mut partition_by = Vec::new();
        for p in &spec.partition_by {
            partition_by.push(self.expr(p)?);
        }
        let mut order_by = Vec::new();
        for o in &spec.order_by {
            let desc = o.options.sort == Some(ast::OrderBySort::Desc);
            order_by.push(SortKey {
                expr: self.expr(&o.expr)?,
                desc,
                nulls_first: o.options.nulls_first.unwrap_or(!desc),
            });
        }
        let (func, arg, ty) = match name {
            "RANK" | "DENSE_RANK" | "ROW_NUMBER" => {
                if !args.is_empty() || star {
                    return invalid(format!("{name}() takes no arguments"));
                }
                if name != "ROW_NUMBER" && order_by.is_empty() {
                    return invalid(format!("{name}() needs an ORDER BY in its OVER clause"));
                }
                let f = match name {
                    "RANK" => WindowFunc::Rank,
                    "DENSE_RANK" => WindowFunc::DenseRank,
                    _ => WindowFunc::RowNumber,
                };
                (f, None, DataType::BigInt)
            }
            n if is_aggregate_name(n) => {
                let arg = if star {
                    None
                } else if args.len() == 1 {
                    Some(self.expr(&args[0])?)
                } else {
                    return invalid(format!("{n} takes one argument"));
                };
                let call = agg_call(n, arg, false)?;
                (WindowFunc::Agg(call.func), call.arg, call.ty)
            }
            other => return unsupported(format!("window function {other}")),
        };
        let index = self.with_mode(|_, w| {
            let w = w.get_or_insert_with(WindowContext::default);
            w.funcs.push(WindowCall {
                func,
                arg,
                partition_by,
                order_by,
                ty,
            });
            w.base + w.funcs.len() - 1
        });
        Ok(Expr::column(index, ty))
    }
}

/// Builds an aggregate call and its result type (VoltDB: SUM of integers is BIGINT, AVG of
/// integers is the integer type of the argument, COUNT is BIGINT).
pub(crate) fn agg_call(name: &str, arg: Option<Expr>, distinct: bool) -> Result<AggCall> {
    let arg_ty = arg.as_ref().map(|a| a.ty).unwrap_or(DataType::BigInt);
    let numeric = |what: &str| -> Result<()> {
        if arg_ty.is_numeric() || arg_ty == DataType::Null {
            Ok(())
        } else {
            type_err(format!("{what} needs a numeric argument, not {}", arg_ty.name()))
        }
    };
    let (func, ty) = match (name, &arg) {
        ("COUNT", None) => (AggFunc::CountStar, DataType::BigInt),
        ("COUNT", Some(_)) => (AggFunc::Count, DataType::BigInt),
        ("SUM", _) => {
            numeric("SUM")?;
            let ty = if arg_ty.is_integer() || arg_ty == DataType::Null {
                DataType::BigInt
            } else {
                arg_ty
            };
            (AggFunc::Sum, ty)
        }
        ("AVG", _) => {
            numeric("AVG")?;
            (
                AggFunc::Avg,
                if arg_ty == DataType::Null {
                    DataType::Float
                } else {
                    arg_ty
                },
            )
        }
        ("MIN", _) => (AggFunc::Min, arg_ty),
        ("MAX", _) => (AggFunc::Max, arg_ty),
        _ => return unsupported(format!("aggregate {name}")),
    };
    Ok(AggCall {
        func,
        arg,
        distinct,
        ty,
    })
}
