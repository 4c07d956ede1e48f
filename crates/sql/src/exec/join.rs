//! Joins: a hash join on equality keys, or a nested loop.
//!
//! Output order is deterministic: left rows in input order, each followed by its matches in
//! right input order (plus its NULL-padded row for LEFT/FULL when unmatched), then the
//! unmatched right rows in input order for RIGHT/FULL.

use rustc_hash::FxHashMap as HashMap;

use voltrs_storage::Value;

use super::{Env, ExecContext, Row, Ticker, eval, execute, is_true};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::{JoinKind, Plan};

pub(super) fn join(
    left: &Plan,
    right: &Plan,
    kind: JoinKind,
    keys: &[(Expr, Expr)],
    on: Option<&Expr>,
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Vec<Row>> {
    let left_rows = execute(left, ctx, outer)?;
    let right_rows = execute(right, ctx, outer)?;
    let left_width = left.width();
    let right_width = right.width();
    let pad_right = matches!(kind, JoinKind::Left | JoinKind::Full);
    let pad_left = matches!(kind, JoinKind::Right | JoinKind::Full);

    let mut ticker = Ticker::new(ctx);
    let mut right_matched = vec![false; right_rows.len()];
    let mut out = Vec::new();
    let mut joined: Row = Vec::with_capacity(left_width + right_width);

    // The right rows each left row may match, in right input order.
    let index = if keys.is_empty() {
        None
    } else {
        Some(build(&right_rows, keys, ctx, outer, &mut ticker)?)
    };
    let all_right: Vec<usize> = if index.is_none() {
        (0..right_rows.len()).collect()
    } else {
        Vec::new()
    };

    for l in &left_rows {
        ticker.tick()?;
        let candidates: &[usize] = match &index {
            None => &all_right,
            Some(map) => match probe_key(l, keys, ctx, outer)? {
                Some(key) => map.get(&key).map_or(&[], Vec::as_slice),
                None => &[],
            },
        };
        let mut matched = false;
        for &ri in candidates {
            let Some(r) = right_rows.get(ri) else {
                continue;
            };
            ticker.tick()?;
            joined.clear();
            joined.extend_from_slice(l);
            joined.extend_from_slice(r);
            let pass = match on {
                None => true,
                Some(pred) => is_true(&eval(
                    pred,
                    &Env {
                        row: &joined,
                        parent: outer,
                    },
                    ctx,
                )?),
            };
            if pass {
                matched = true;
                if let Some(m) = right_matched.get_mut(ri) {
                    *m = true;
                }
                ctx.charge(&joined)?;
                out.push(joined.clone());
            }
        }
        if !matched && pad_right {
            let mut row = Vec::with_capacity(left_width + right_width);
            row.extend_from_slice(l);
            row.resize(l.len() + right_width, Value::Null);
            out.push(row);
        }
    }

    if pad_left {
        for (r, matched) in right_rows.iter().zip(&right_matched) {
            if !matched {
                let mut row = vec![Value::Null; left_width];
                row.extend_from_slice(r);
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// Hashes the right rows by their key values; rows with a NULL key are left out.
fn build(
    rows: &[Row],
    keys: &[(Expr, Expr)],
    ctx: &ExecContext,
    outer: Option<&Env>,
    ticker: &mut Ticker,
) -> Result<HashMap<Vec<Value>, Vec<usize>>> {
    let mut map: HashMap<Vec<Value>, Vec<usize>> = HashMap::default();
    for (i, row) in rows.iter().enumerate() {
        ticker.tick()?;
        let env = Env { row, parent: outer };
        let key = keys
            .iter()
            .map(|(_, r)| eval(r, &env, ctx))
            .collect::<Result<Vec<Value>>>()?;
        if key.iter().any(Value::is_null) {
            continue;
        }
        map.entry(key).or_default().push(i);
    }
    Ok(map)
}

/// The left row's key values; `None` when any is NULL (it can match nothing).
fn probe_key(
    row: &[Value],
    keys: &[(Expr, Expr)],
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Option<Vec<Value>>> {
    let env = Env { row, parent: outer };
    let mut key = Vec::with_capacity(keys.len());
    for (l, _) in keys {
        let v = eval(l, &env, ctx)?;
        if v.is_null() {
            return Ok(None);
        }
        key.push(v);
    }
    Ok(Some(key))
}
