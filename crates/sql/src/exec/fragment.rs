//! Per-partition fragments for DISTINCT and LIMIT (with or without ORDER BY).
//!
//! When the input of DISTINCT or LIMIT is a chain of Filter / Project nodes over one
//! partitioned table, with no subqueries, each partition runs the chain and the
//! DISTINCT / ORDER BY / LIMIT on its own rows (the fragment sees only its partition), and the
//! coordinator merges: DISTINCT again, or sorts the partial top rows and applies LIMIT and
//! OFFSET again. The result equals the single-phase one row for row: rows reach the
//! coordinator in partition order and every step is stable.

use super::{Env, ExecContext, Row, distinct, execute, sort};
use crate::error::Result;
use crate::plan::{Plan, SortKey};

/// Whether `plan` is Filter / Project nodes over a scan of a partitioned table, free of
/// subqueries (so one partition's rows are all a fragment needs).
fn partition_local(plan: &Plan) -> bool {
    match plan {
        Plan::Scan { table, filter, .. } => table.is_partitioned() && filter.as_ref().is_none_or(|f| !f.has_subquery()),
        Plan::Filter { input, predicate } => !predicate.has_subquery() && partition_local(input),
        Plan::Project { input, exprs } => exprs.iter().all(|e| !e.has_subquery()) && partition_local(input),
        _ => false,
    }
}

/// Runs `f` once per partition with a context that sees only that partition.
fn per_partition(ctx: &ExecContext, mut f: impl FnMut(&ExecContext) -> Result<Vec<Row>>) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for p in ctx.fragment_partitions() {
        let local = ExecContext {
            local: Some(p),
            first: ctx.first,
            temp_limit: ctx.temp_limit,
            ..ExecContext::new(ctx.partitions, ctx.hashinator, ctx.params, ctx.func, ctx.deadline)
        };
        out.extend(f(&local)?);
    }
    Ok(out)
}

/// DISTINCT as fragments plus a merge; `None` when the input does not qualify.
pub(super) fn distinct_fragments(input: &Plan, ctx: &ExecContext, outer: Option<&Env>) -> Result<Option<Vec<Row>>> {
    if ctx.fragment_partitions().len() < 2 || !partition_local(input) {
        return Ok(None);
    }
    let partial = per_partition(ctx, |local| Ok(distinct(execute(input, local, outer)?)))?;
    Ok(Some(distinct(partial)))
}

/// `[ORDER BY] LIMIT / OFFSET` as fragments (each keeps its first `limit + offset` rows)
/// plus a merge; `None` when the input does not qualify. `input` is below the Sort, if any.
pub(super) fn limit_fragments(
    input: &Plan,
    keys: Option<&[SortKey]>,
    keep: usize,
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Option<Vec<Row>>> {
    if ctx.fragment_partitions().len() < 2
        || !partition_local(input)
        || keys.is_some_and(|k| k.iter().any(|s| s.expr.has_subquery()))
    {
        return Ok(None);
    }
    let partial = per_partition(ctx, |local| {
        let rows = execute(input, local, outer)?;
        let rows = match keys {
            Some(k) => sort::sort(rows, k, local, outer)?,
            None => rows,
        };
        Ok(rows.into_iter().take(keep).collect())
    })?;
    let merged = match keys {
        Some(k) => sort::sort(partial, k, ctx, outer)?,
        None => partial,
    };
    Ok(Some(merged))
}
