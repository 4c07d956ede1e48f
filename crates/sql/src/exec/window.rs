//! Window functions: RANK, DENSE_RANK, ROW_NUMBER and aggregates OVER (PARTITION BY …
//! ORDER BY …).
//!
//! With an ORDER BY, an aggregate's frame is RANGE UNBOUNDED PRECEDING to CURRENT ROW: the
//! running value up to and including the current row's peers. Without one, every row of the
//! partition is a peer, so the frame is the whole partition. Rows come out in input order.

use rustc_hash::FxHashMap as HashMap;

use voltrs_storage::Value;

use super::aggregate::Acc;
use super::sort::{compare_keys, sort_values};
use super::{Env, ExecContext, Row, Ticker, eval, internal};
use crate::error::Result;
use crate::plan::{WindowCall, WindowFunc};

pub(super) fn window(
    mut rows: Vec<Row>,
    funcs: &[WindowCall],
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Vec<Row>> {
    let mut ticker = Ticker::new(ctx);
    let mut results: Vec<Vec<Value>> = Vec::with_capacity(funcs.len());
    for call in funcs {
        results.push(compute(&rows, call, ctx, outer, &mut ticker)?);
    }
    for (i, row) in rows.iter_mut().enumerate() {
        for values in &mut results {
            match values.get_mut(i) {
                Some(v) => row.push(std::mem::replace(v, Value::Null)),
                None => return internal("window function result missing for a row"),
            }
        }
    }
    Ok(rows)
}

/// One window function's value for every input row (indexed like `rows`).
fn compute(
    rows: &[Row],
    call: &WindowCall,
    ctx: &ExecContext,
    outer: Option<&Env>,
    ticker: &mut Ticker,
) -> Result<Vec<Value>> {
    // Partition the rows (partitions in order of first appearance) and compute order keys.
    let mut index: HashMap<Vec<Value>, usize> = HashMap::default();
    let mut partitions: Vec<Vec<usize>> = Vec::new();
    let mut order: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        ticker.tick()?;
        let env = Env { row, parent: outer };
        let key = call
            .partition_by
            .iter()
            .map(|e| eval(e, &env, ctx))
            .collect::<Result<Vec<Value>>>()?;
        let pi = *index.entry(key).or_insert_with(|| {
            partitions.push(Vec::new());
            partitions.len() - 1
        });
        if let Some(p) = partitions.get_mut(pi) {
            p.push(i);
        }
        order.push(sort_values(&call.order_by, row, ctx, outer)?);
    }

    let mut out = vec![Value::Null; rows.len()];
    let empty: Vec<Value> = Vec::new();
    let key_of = |i: usize| order.get(i).unwrap_or(&empty);
    for mut part in partitions {
        part.sort_by(|&a, &b| compare_keys(key_of(a), key_of(b), &call.order_by));
        // Walk peer groups: rows whose order keys are all equal.
        let mut start = 0;
        let mut dense = 0i64;
        let mut acc = match call.func {
            WindowFunc::Agg(f) => Some(Acc::new(f, false)),
            _ => None,
        };
        while start < part.len() {
            ticker.tick()?;
            let first = key_of(part[start]);
            let mut end = start + 1;
            while end < part.len() && compare_keys(first, key_of(part[end]), &call.order_by).is_eq() {
                end += 1;
            }
            let group = &part[start..end];
            dense += 1;
            let shared = match (&call.func, &mut acc) {
                (WindowFunc::Rank, _) => Some(Value::Integer(start as i64 + 1)),
                (WindowFunc::DenseRank, _) => Some(Value::Integer(dense)),
                (WindowFunc::RowNumber, _) => None,
                (WindowFunc::Agg(_), Some(acc)) => {
                    for &ri in group {
                        let arg = match &call.arg {
                            Some(e) => match rows.get(ri) {
                                Some(row) => Some(eval(e, &Env { row, parent: outer }, ctx)?),
                                None => return internal("window row index out of range"),
                            },
                            None => None,
                        };
                        acc.add(arg.as_ref())?;
                    }
                    Some(acc.finish(call.ty)?)
                }
                (WindowFunc::Agg(_), None) => {
                    return internal("window aggregate without accumulator");
                }
            };
            for (k, &ri) in group.iter().enumerate() {
                let v = match &shared {
                    Some(v) => v.clone(),
                    None => Value::Integer((start + k) as i64 + 1),
                };
                if let Some(slot) = out.get_mut(ri) {
                    *slot = v;
                }
            }
            start = end;
        }
    }
    Ok(out)
}
