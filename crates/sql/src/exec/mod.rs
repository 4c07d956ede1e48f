//! The executor: runs [`Plan`]s and evaluates [`Expr`]s.
//!
//! Execution is materializing: every plan node produces its whole output as a `Vec<Row>`.
//! Output order is deterministic for every node (hash tables are only used for lookups,
//! never iterated to produce output).
//!
//! Layout: this file holds the contract types, the node dispatch and the simple nodes;
//! [`eval`](self::eval) evaluates expressions, and the other modules hold one kind of node
//! each (joins, aggregation, window functions, sorting, set operations).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use voltrs_storage::{Partition, Value};
use voltrs_wire::Hashinator;

use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::functions::FuncContext;
use crate::plan::Plan;

mod access;
pub use access::{matching_rows, place_value};
mod aggregate;
mod eval;
mod fragment;
mod join;
mod like;
mod set_op;
mod sort;
mod window;

#[cfg(test)]
mod tests;

/// A row flowing between plan nodes.
pub type Row = Vec<Value>;

/// Everything a read needs: the partitions (touched one per call), the statement's
/// parameters and determinism inputs, and the time limit.
///
/// `partitions` is a window: `partitions[0]` is partition `first`. A multi-partition
/// statement sees every partition (`first` 0); a site running single-partition work sees
/// only its own (`first` = its partition, `local` set).
pub struct ExecContext<'a> {
    pub partitions: &'a [Partition],
    /// The partition number of `partitions[0]`.
    pub first: usize,
    pub hashinator: &'a Hashinator,
    pub params: &'a [Value],
    pub func: FuncContext,
    /// When the statement must stop with `Error::Timeout`.
    pub deadline: Option<(Instant, u64)>,
    /// Set by another thread to stop the statement with `Error::Cancelled` (checked where
    /// the deadline is).
    pub cancel: Option<&'a AtomicBool>,
    /// Results of uncorrelated subqueries, by `Subquery::id`, computed once per statement.
    pub subquery_cache: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    /// Set in a per-partition fragment: the one partition this context reads (its copy of
    /// a replicated table too).
    pub local: Option<usize>,
    /// Bytes of rows the statement's joins have produced so far (an estimate) and the most
    /// they may produce (VoltDB's temp table limit). Base-table scans are not counted (their
    /// size is bounded by the table's); the engine also checks each statement's result.
    pub temp: std::cell::Cell<usize>,
    pub temp_limit: usize,
}

impl ExecContext<'static> {
    /// A context for expressions that read only the row in front of them (index keys,
    /// view groups): no tables, no parameters, a fixed clock.
    pub fn row_only() -> ExecContext<'static> {
        static NO_ROUTING: std::sync::OnceLock<Hashinator> = std::sync::OnceLock::new();
        ExecContext::new(
            &[],
            NO_ROUTING.get_or_init(|| Hashinator::new(1)),
            &[],
            FuncContext { now: 0, seed: 0 },
            None,
        )
    }
}

impl<'a> ExecContext<'a> {
    /// A context for one statement over all partitions.
    pub fn new(
        partitions: &'a [Partition],
        hashinator: &'a Hashinator,
        params: &'a [Value],
        func: FuncContext,
        deadline: Option<(Instant, u64)>,
    ) -> ExecContext<'a> {
        ExecContext {
            partitions,
            first: 0,
            hashinator,
            params,
            func,
            deadline,
            cancel: None,
            subquery_cache: RefCell::new(HashMap::new()),
            local: None,
            temp: std::cell::Cell::new(0),
            temp_limit: usize::MAX,
        }
    }

    /// Counts a row a join produced against the temp table limit.
    #[inline]
    pub fn charge(&self, row: &[Value]) -> Result<()> {
        if self.temp_limit == usize::MAX {
            return Ok(());
        }
        let total = self.temp.get() + row_bytes(row);
        self.temp.set(total);
        if total > self.temp_limit {
            return Err(temp_limit_exceeded(self.temp_limit));
        }
        Ok(())
    }

    /// A context for single-partition work on partition `p`, whose storage is the only
    /// one present: every read sees that partition (its copy of a replicated table too).
    pub fn single(
        partition: &'a Partition,
        p: usize,
        hashinator: &'a Hashinator,
        params: &'a [Value],
        func: FuncContext,
        deadline: Option<(Instant, u64)>,
    ) -> ExecContext<'a> {
        ExecContext {
            first: p,
            local: Some(p),
            ..ExecContext::new(std::slice::from_ref(partition), hashinator, params, func, deadline)
        }
    }

    /// Partition `p`'s storage, if this context's window holds it.
    pub fn partition(&self, p: usize) -> Option<&'a Partition> {
        self.partitions.get(p.checked_sub(self.first)?)
    }

    /// How many partitions the database has (not how many this context sees).
    pub fn partition_count(&self) -> usize {
        self.hashinator.partition_count() as usize
    }

    /// The partitions a fragment loop visits: the local one, or all of them.
    pub fn fragment_partitions(&self) -> std::ops::Range<usize> {
        match self.local {
            Some(p) => p..p + 1,
            None => 0..self.partition_count(),
        }
    }
}

/// The estimated bytes a row takes in a temporary result (16 per value, plus its string or
/// binary bytes): what the temp table limit counts.
pub fn row_bytes(row: &[Value]) -> usize {
    let mut bytes = 16 * row.len();
    for v in row {
        bytes += match v {
            Value::Varchar(s) => s.len(),
            Value::Varbinary(b) => b.len(),
            _ => 0,
        };
    }
    bytes
}

/// The error of a statement whose temporary results passed `limit` bytes.
pub fn temp_limit_exceeded(limit: usize) -> Error {
    Error::Invalid(format!(
        "the statement's temporary results exceeded the limit of {}: narrow it with WHERE or LIMIT",
        voltrs_storage::text::byte_size(limit)
    ))
}

/// The rows an expression sees: the current row and the enclosing queries' rows.
#[derive(Clone, Copy)]
pub struct Env<'r> {
    pub row: &'r [Value],
    pub parent: Option<&'r Env<'r>>,
}

/// Runs a plan to completion; `outer` is the enclosing query's row chain (for correlated
/// subqueries), `None` at the top level.
pub fn execute(plan: &Plan, ctx: &ExecContext, outer: Option<&Env>) -> Result<Vec<Row>> {
    match plan {
        Plan::Scan { .. } => access::scan(plan, ctx, outer),
        Plan::IndexJoin {
            left,
            table,
            index,
            keys,
            filter,
            on,
            kind,
        } => access::index_join(
            left,
            table,
            *index,
            keys,
            filter.as_ref(),
            on.as_ref(),
            *kind,
            ctx,
            outer,
        ),
        Plan::Values { rows, .. } => {
            let env = Env {
                row: &[],
                parent: outer,
            };
            rows.iter()
                .map(|exprs| exprs.iter().map(|e| eval(e, &env, ctx)).collect())
                .collect()
        }
        Plan::Filter { input, predicate } => {
            let rows = execute(input, ctx, outer)?;
            let mut ticker = Ticker::new(ctx);
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                ticker.tick()?;
                if is_true(&eval(
                    predicate,
                    &Env {
                        row: &row,
                        parent: outer,
                    },
                    ctx,
                )?) {
                    out.push(row);
                }
            }
            Ok(out)
        }
        Plan::Project { input, exprs } => {
            let rows = execute(input, ctx, outer)?;
            let mut ticker = Ticker::new(ctx);
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                ticker.tick()?;
                let env = Env { row, parent: outer };
                out.push(exprs.iter().map(|e| eval(e, &env, ctx)).collect::<Result<Row>>()?);
            }
            Ok(out)
        }
        Plan::Join {
            left,
            right,
            kind,
            keys,
            on,
        } => join::join(left, right, *kind, keys, on.as_ref(), ctx, outer),
        Plan::Aggregate { input, group_by, aggs } => {
            if let Plan::Scan { .. } = input.as_ref()
                && let Some(rows) = aggregate::two_phase(input, group_by, aggs, ctx, outer)?
            {
                return Ok(rows);
            }
            let rows = execute(input, ctx, outer)?;
            aggregate::aggregate(rows, group_by, aggs, ctx, outer)
        }
        Plan::Window { input, funcs } => {
            let rows = execute(input, ctx, outer)?;
            window::window(rows, funcs, ctx, outer)
        }
        Plan::Sort { input, keys } => {
            let rows = execute(input, ctx, outer)?;
            sort::sort(rows, keys, ctx, outer)
        }
        Plan::Limit { input, limit, offset } => {
            let limit = match limit {
                Some(e) => constant_count(e, "LIMIT", ctx, outer)?,
                None => None,
            };
            let offset = match offset {
                Some(e) => constant_count(e, "OFFSET", ctx, outer)?.unwrap_or(0),
                None => 0,
            };
            if limit == Some(0) {
                return Ok(Vec::new());
            }
            let skip = usize::try_from(offset).unwrap_or(usize::MAX);
            let take = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
            let pushed = match (limit, input.as_ref()) {
                (Some(_), Plan::Sort { input: below, keys }) => {
                    fragment::limit_fragments(below, Some(keys), skip.saturating_add(take), ctx, outer)?
                }
                (Some(_), below) => fragment::limit_fragments(below, None, skip.saturating_add(take), ctx, outer)?,
                (None, _) => None,
            };
            let rows = match pushed {
                Some(rows) => rows,
                None => execute(input, ctx, outer)?,
            };
            Ok(rows.into_iter().skip(skip).take(take).collect())
        }
        Plan::Distinct { input } => match fragment::distinct_fragments(input, ctx, outer)? {
            Some(rows) => Ok(rows),
            None => Ok(distinct(execute(input, ctx, outer)?)),
        },
        Plan::SetOp { op, all, left, right } => {
            let l = execute(left, ctx, outer)?;
            let r = execute(right, ctx, outer)?;
            Ok(set_op::set_op(*op, *all, l, r))
        }
    }
}

/// Evaluates an expression. Comparisons and logic return `Value::Boolean` or `Value::Null`.
pub fn eval(expr: &Expr, env: &Env, ctx: &ExecContext) -> Result<Value> {
    eval::eval(expr, env, ctx)
}

/// Evaluates a LIMIT or OFFSET expression: `None` for NULL, an error when negative.
fn constant_count(expr: &Expr, what: &str, ctx: &ExecContext, outer: Option<&Env>) -> Result<Option<i64>> {
    let n = match eval(
        expr,
        &Env {
            row: &[],
            parent: outer,
        },
        ctx,
    )? {
        Value::Null => return Ok(None),
        Value::Integer(i) => i,
        Value::Decimal(d) => match d.to_i64_exact() {
            Some(i) => i,
            None => return Err(Error::Type(format!("{what} must be an integer, got {d}"))),
        },
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => f as i64,
        other => {
            return Err(Error::Type(format!("{what} must be an integer, got {other:?}")));
        }
    };
    if n < 0 {
        return Err(Error::Invalid(format!("{what} must not be negative, got {n}")));
    }
    Ok(Some(n))
}

/// Keeps the first occurrence of every row, in input order.
fn distinct(rows: Vec<Row>) -> Vec<Row> {
    let keep: Vec<bool> = {
        let mut seen: rustc_hash::FxHashSet<&[Value]> = rustc_hash::FxHashSet::default();
        seen.reserve(rows.len());
        rows.iter().map(|r| seen.insert(r.as_slice())).collect()
    };
    rows.into_iter().zip(keep).filter_map(|(r, k)| k.then_some(r)).collect()
}

/// Whether a predicate result is SQL TRUE (NULL and FALSE both reject).
fn is_true(v: &Value) -> bool {
    matches!(v, Value::Boolean(true))
}

/// An internal error: the plan is inconsistent (a bug elsewhere, never user input).
fn internal<T>(msg: impl std::fmt::Display) -> Result<T> {
    Err(Error::Invalid(format!("internal: {msg}")))
}

/// Checks the statement's deadline and cancel flag cheaply: on the first tick, then every
/// 1024 ticks.
struct Ticker<'a> {
    deadline: Option<(Instant, u64)>,
    cancel: Option<&'a AtomicBool>,
    count: u32,
}

impl<'a> Ticker<'a> {
    fn new(ctx: &ExecContext<'a>) -> Ticker<'a> {
        Ticker {
            deadline: ctx.deadline,
            cancel: ctx.cancel,
            count: 0,
        }
    }

    #[inline]
    fn tick(&mut self) -> Result<()> {
        if self.deadline.is_none() && self.cancel.is_none() {
            return Ok(());
        }
        if self.count & 1023 == 0 {
            if let Some((at, ms)) = self.deadline
                && Instant::now() > at
            {
                return Err(Error::Timeout(ms));
            }
            if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Cancelled);
            }
        }
        self.count = self.count.wrapping_add(1);
        Ok(())
    }
}
