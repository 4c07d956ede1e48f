//! Parameter typing: `?` / `$n` markers written by the client, and the `$k` markers that
//! [`crate::parameterize`] puts in place of literals for the plan cache.
//!
//! 1. An explicit marker binds untyped (`DataType::Null`); its context gives it a type the
//!    first time one is known ([`Binder::infer_param`]): the other side of a comparison,
//!    BETWEEN or IN, the partner of arithmetic, the column of INSERT ... VALUES or
//!    UPDATE ... SET, VARCHAR for LIKE and `||`, the target of CAST, BIGINT for LIMIT and
//!    OFFSET. A marker whose type no context gives is an error ([`Binder::param_types`]).
//! 2. An auto parameter ([`ParamMode::Auto`]) binds with its literal's type. The one
//!    value-dependent step of literal binding, a string compared with a TIMESTAMP or
//!    VARBINARY turning into a value of that type, becomes a retyped parameter that the
//!    engine converts with [`crate::cast::cast`] before executing, as the binder would have
//!    converted the literal; if that parameter is used in more than one place the binding is
//!    refused (the engine then binds the statement with its literals).

use voltrs_storage::DataType;

use super::Binder;
use crate::error::{Error, Result};
use crate::expr::{Expr, ExprKind};

/// Where the binder's parameters come from.
#[derive(Debug, Clone, Default)]
pub enum ParamMode {
    /// `?` / `$n` written in the statement: types are inferred from context.
    #[default]
    Explicit,
    /// Literals turned into parameters: `uses[i]` is how many places use parameter i.
    Auto { uses: Vec<usize> },
}

impl Binder<'_> {
    /// Binds the statement's `$k` markers as literals turned into parameters, with the given
    /// types and use counts (from [`crate::parameterize::AutoParam`]).
    pub fn with_auto_params(mut self, params: &[crate::parameterize::AutoParam]) -> Self {
        self.params = params.iter().map(|p| p.ty).collect();
        self.param_mode = ParamMode::Auto {
            uses: params.iter().map(|p| p.uses).collect(),
        };
        self
    }

    /// The type of each parameter after binding; an explicit marker that no context typed is
    /// an error.
    pub fn param_types(&self) -> Result<Vec<DataType>> {
        if let Some(i) = self.params.iter().position(|t| *t == DataType::Null) {
            let n = i + 1;
            return Err(Error::Type(format!(
                "cannot infer the type of parameter ${n}: compare it with a column, insert it into one, \
                 or write CAST(${n} AS <type>)"
            )));
        }
        Ok(self.params.clone())
    }

    /// Gives an untyped parameter the type `ty` its context expects (the first context that
    /// knows one wins; later uses of the same marker take that type).
    pub(crate) fn infer_param(&mut self, e: &mut Expr, ty: DataType) {
        if e.ty != DataType::Null || ty == DataType::Null || ty == DataType::Boolean {
            return;
        }
        if let ExprKind::Param(i) = e.kind
            && let Some(slot) = self.params.get_mut(i)
        {
            if *slot == DataType::Null {
                *slot = ty;
            }
            e.ty = *slot;
        }
    }

    /// Types both sides of a comparison from each other, then converts a string literal (or
    /// an auto parameter that stands for one) compared with a TIMESTAMP or VARBINARY.
    pub(crate) fn coerce_pair(&mut self, mut l: Expr, mut r: Expr) -> Result<(Expr, Expr)> {
        self.infer_param(&mut l, r.ty);
        self.infer_param(&mut r, l.ty);
        self.retarget(&mut l, r.ty)?;
        self.retarget(&mut r, l.ty)?;
        super::call::coerce_literal_pair(l, r)
    }

    fn retarget(&mut self, e: &mut Expr, other: DataType) -> Result<()> {
        let target = match other {
            DataType::Timestamp => DataType::Timestamp,
            DataType::Varbinary { .. } => DataType::VARBINARY_MAX,
            _ => return Ok(()),
        };
        let ParamMode::Auto { uses } = &self.param_mode else {
            return Ok(());
        };
        if let ExprKind::Param(i) = e.kind
            && e.ty.is_string()
        {
            if uses.get(i) != Some(&1) {
                return Err(Error::Unsupported(
                    "a literal used both as text and as a converted value cannot be a parameter".into(),
                ));
            }
            if let Some(slot) = self.params.get_mut(i) {
                *slot = target;
            }
            e.ty = target;
        }
        Ok(())
    }
}
