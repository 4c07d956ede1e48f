//! Preparing a query or DML statement: the bound plan (from the plan cache or the binder)
//! and the parameter values to run it with.
//!
//! 1. Statements with `?` / `$n` markers are keyed by their text; the binder infers the
//!    markers' types and the client's values are converted to them ([`coerce_explicit`]).
//! 2. Other statements are parameterized ([`voltrs_sql::parameterize`]): a hit reuses the
//!    plan with this statement's literal values; a miss binds the parameterized statement.
//!    If the binder refuses it, the original statement is bound and cached under its
//!    literal text, and the parameterized key remembers to go there directly next time.
//! 3. With the cache off, every statement is bound as written.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use voltrs_sql::binder::{Binder, Bound, BoundWrite, Stats};
use voltrs_sql::catalog::{Catalog, Namespace};
use voltrs_sql::parameterize::{parameterize, statement_text};
use voltrs_sql::parser::Statement;
use voltrs_sql::plan::Plan;
use voltrs_storage::{DataType, TableId, Value};

use crate::Error;
use crate::plan_cache::{CachedPlan, Entry, Key, PlanCache};

/// Deepest operator chain ([`voltrs_sql::parser::Parsed::operator_depth`]) of a statement
/// that goes through the cache; deeper ones are bound as written, since parameterizing and
/// keying them recurse over their syntax tree.
pub(crate) const MAX_CACHED_DEPTH: usize = 256;

/// What [`prepare`] needs to know about the session and the database.
pub(crate) struct Context<'a> {
    pub plan_cache: &'a mut PlanCache,
    pub stats: &'a dyn Stats,
    pub catalog: &'a Catalog,
    pub ns: &'a Namespace,
    pub database: &'a str,
    pub cache: bool,
}

/// Row counts the binder asked for, to guard a cached join order.
struct Recording<'a> {
    stats: &'a dyn Stats,
    seen: RefCell<Vec<(TableId, usize)>>,
}

impl Stats for Recording<'_> {
    fn row_count(&self, table: TableId) -> usize {
        let n = self.stats.row_count(table);
        self.seen.borrow_mut().push((table, n));
        n
    }
}

enum Mode<'p> {
    Explicit,
    Auto(&'p [voltrs_sql::parameterize::AutoParam]),
}

/// Binds a statement as written (its `?` / `$n` markers stay parameters).
pub(crate) fn bind_as_written(cx: &Context, stmt: &Statement) -> Result<CachedPlan, Error> {
    bind(cx, stmt, Mode::Explicit)
}

fn bind(cx: &Context, stmt: &Statement, mode: Mode) -> Result<CachedPlan, Error> {
    let rec = Recording {
        stats: cx.stats,
        seen: RefCell::new(Vec::new()),
    };
    let mut b = Binder::new(cx.catalog, cx.ns, &rec);
    if let Mode::Auto(params) = mode {
        b = b.with_auto_params(params);
    }
    let bound = match stmt {
        Statement::Query(q) => b.bind_query(q)?,
        Statement::Insert { insert, upsert } => Bound::Write(b.bind_insert(insert, *upsert)?),
        Statement::Update(u) => Bound::Write(b.bind_update(u)?),
        Statement::Delete(d) => Bound::Write(b.bind_delete(d)?),
        _ => return Err(Error::Invalid("internal: statement is not a query or DML".into())),
    };
    let param_types = b.param_types()?;
    // The join order depends on row counts; a statement that read one table's count has no
    // join order to guard.
    let seen = rec.seen.into_inner();
    let guard = if seen.len() > 1 { seen } else { Vec::new() };
    Ok(CachedPlan {
        bound,
        param_types,
        guard,
    })
}

/// Binds `stmt` (or finds its plan) and returns it with the values to run it with.
pub(crate) fn prepare(
    cx: &mut Context,
    stmt: &Statement,
    markers: usize,
    explicit: &[Value],
) -> Result<(Arc<CachedPlan>, Vec<Value>), Error> {
    if !cx.cache {
        let plan = bind(cx, stmt, Mode::Explicit)?;
        let values = coerce_explicit(explicit, &plan.param_types)?;
        return Ok((Arc::new(plan), values));
    }
    let version = cx.catalog.version;
    let key = |text: String, types: Vec<DataType>| Key {
        database: cx.database.to_string(),
        text,
        types,
    };
    let auto = if markers > 0 || !explicit.is_empty() {
        None
    } else {
        parameterize(stmt)
    };
    if let Some(p) = &auto {
        let k = key(p.text.clone(), p.params.iter().map(|a| a.ty).collect());
        let values = |plan: &CachedPlan| auto_values(p, &plan.param_types);
        match cx.plan_cache.get(version, &k) {
            Some(Entry::Plan(plan)) if guard_holds(cx.stats, &plan) => {
                cx.plan_cache.hit();
                let v = values(&plan)?;
                return Ok((plan, v));
            }
            Some(Entry::Literal) => {}
            _ => {
                cx.plan_cache.miss();
                if let Ok(plan) = bind(cx, &p.statement, Mode::Auto(&p.params))
                    && !reads_partial_index(&plan.bound)
                {
                    let plan = Arc::new(plan);
                    cx.plan_cache.insert(version, k, Entry::Plan(plan.clone()));
                    let v = values(&plan)?;
                    return Ok((plan, v));
                }
                // Bound as written below; remember that this shape needs its literals (it does
                // not bind with parameters, or a partial index's predicate may match only its
                // literals).
                let plan = Arc::new(bind(cx, stmt, Mode::Explicit)?);
                cx.plan_cache.insert(version, k, Entry::Literal);
                if let Some(text) = statement_text(stmt) {
                    cx.plan_cache
                        .insert(version, key(text, Vec::new()), Entry::Plan(plan.clone()));
                }
                let values = coerce_explicit(explicit, &plan.param_types)?;
                return Ok((plan, values));
            }
        }
    }
    // Keyed by the text as written: `?` / `$n` markers, or literals that must stay.
    let Some(text) = statement_text(stmt) else {
        return Err(Error::Invalid("internal: statement is not a query or DML".into()));
    };
    let k = key(text, Vec::new());
    let plan = match cx.plan_cache.get(version, &k) {
        Some(Entry::Plan(plan)) if guard_holds(cx.stats, &plan) => {
            cx.plan_cache.hit();
            plan
        }
        _ => {
            cx.plan_cache.miss();
            let plan = Arc::new(bind(cx, stmt, Mode::Explicit)?);
            cx.plan_cache.insert(version, k, Entry::Plan(plan.clone()));
            plan
        }
    };
    let values = coerce_explicit(explicit, &plan.param_types)?;
    Ok((plan, values))
}

/// Whether a statement's top-level plan reads a table that has a partial index: such a
/// plan must see the literals, since `WHERE w > 0` implies an index's `w > 0` predicate
/// while `w > $1` does not.
fn reads_partial_index(bound: &Bound) -> bool {
    fn partial(t: &voltrs_sql::catalog::TableDef) -> bool {
        t.uniques.iter().any(|u| u.predicate.is_some())
    }
    fn walk(p: &Plan) -> bool {
        match p {
            Plan::Scan { table, .. } => partial(table),
            Plan::IndexJoin { left, table, .. } => partial(table) || walk(left),
            Plan::Values { .. } => false,
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Aggregate { input, .. }
            | Plan::Window { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input } => walk(input),
            Plan::Join { left, right, .. } | Plan::SetOp { left, right, .. } => walk(left) || walk(right),
        }
    }
    match bound {
        Bound::Query { plan, .. } => walk(plan),
        Bound::Write(BoundWrite::Insert { source, .. }) => walk(source),
        Bound::Write(BoundWrite::Update { scan, .. } | BoundWrite::Delete { scan, .. }) => walk(scan),
    }
}

fn guard_holds(stats: &dyn Stats, plan: &CachedPlan) -> bool {
    plan.guard.iter().all(|&(t, n)| stats.row_count(t) == n)
}

/// The literal values of a parameterized statement, converted where the binder retyped a
/// string compared with a TIMESTAMP or VARBINARY (as it converts such a literal).
fn auto_values(p: &voltrs_sql::parameterize::Parameterized, types: &[DataType]) -> Result<Vec<Value>, Error> {
    p.params
        .iter()
        .zip(types)
        .map(|(a, &ty)| match (&a.value, ty) {
            (Value::Varchar(_), DataType::Timestamp | DataType::Varbinary { .. }) => {
                voltrs_sql::cast::cast(&a.value, ty)
            }
            _ => Ok(a.value.clone()),
        })
        .collect()
}

/// Converts client-supplied parameter values to the types the binder inferred.
pub(crate) fn coerce_explicit(values: &[Value], types: &[DataType]) -> Result<Vec<Value>, Error> {
    coerce_borrowed(values, types).map(Cow::into_owned)
}

/// [`coerce_explicit`] that copies nothing when every value already has its marker's type
/// (a stored procedure's statements usually get values its call already converted): then
/// the values themselves.
pub(crate) fn coerce_borrowed<'v>(values: &'v [Value], types: &[DataType]) -> Result<Cow<'v, [Value]>, Error> {
    if values.len() != types.len() {
        return Err(Error::Invalid(format!(
            "the statement takes {} parameter{} but {} value{} given",
            types.len(),
            if types.len() == 1 { "" } else { "s" },
            values.len(),
            if values.len() == 1 { " was" } else { "s were" }
        )));
    }
    if values.iter().zip(types).all(|(v, &ty)| unchanged_by_cast(v, ty)) {
        return Ok(Cow::Borrowed(values));
    }
    values
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (v, &ty))| {
            convert_param(v, ty)
                .map_err(|e| Error::Type(format!("parameter ${} cannot be used as {}: {e}", i + 1, ty.name())))
        })
        .collect::<Result<Vec<Value>, Error>>()
        .map(Cow::Owned)
}

/// Whether `cast(v, ty)` would return `v` as it is; `false` when unsure (it is then cast).
fn unchanged_by_cast(v: &Value, ty: DataType) -> bool {
    match (v, ty) {
        (Value::Null, _) => true,
        (Value::Integer(i), t) => t.integer_range().is_some_and(|(min, max)| (min..=max).contains(i)),
        (Value::Float(_), DataType::Float) => true,
        // Within the limit in bytes fits VARCHAR(n) and VARCHAR(n BYTES) alike.
        (Value::Varchar(s), DataType::Varchar { len, .. }) => s.len() <= len as usize,
        _ => false,
    }
}

/// Converts a client's parameter value to a parameter's type: SQL's `CAST`, except that a
/// number with a fractional part is refused for an integer type rather than truncated (as
/// VoltDB's `ParameterConverter` refuses it: `WHERE id = ?` given 1.8 must not match 1).
pub(crate) fn convert_param(v: &Value, ty: DataType) -> Result<Value, Error> {
    let fractional = match v {
        Value::Float(f) => f.fract() != 0.0,
        Value::Decimal(d) => d.to_i64_exact().is_none() && d.to_i64_trunc().is_some(),
        _ => false,
    };
    if ty.is_integer() && fractional {
        return Err(Error::Type(format!(
            "{} has a fractional part and cannot be converted to {}",
            voltrs_sql::cast::show_value(v),
            ty.name()
        )));
    }
    voltrs_sql::cast::cast(v, ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_the_right_type_are_not_copied() {
        let types = [
            DataType::SmallInt,
            DataType::Varchar { len: 2, bytes: false },
            DataType::Float,
        ];
        let values = [Value::Integer(305), Value::str("MA"), Value::Float(1.5)];
        assert!(matches!(coerce_borrowed(&values, &types), Ok(Cow::Borrowed(_))));
        let nulls = [Value::Null, Value::Null, Value::Null];
        assert!(matches!(coerce_borrowed(&nulls, &types), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn other_values_are_cast_or_refused_as_before() {
        let types = [
            DataType::SmallInt,
            DataType::Varchar { len: 2, bytes: false },
            DataType::Float,
        ];
        let given = [Value::str("7"), Value::str("MA"), Value::Integer(2)];
        let converted = coerce_borrowed(&given, &types);
        assert_eq!(
            converted.map(Cow::into_owned).ok(),
            Some(vec![Value::Integer(7), Value::str("MA"), Value::Float(2.0)])
        );
        assert!(coerce_borrowed(&[Value::Integer(40_000), Value::Null, Value::Null], &types).is_err());
        assert!(coerce_borrowed(&[Value::Null, Value::str("MAS"), Value::Null], &types).is_err());
        assert!(coerce_borrowed(&[Value::Null], &types).is_err());
    }
}
