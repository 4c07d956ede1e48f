//! ORDER BY: a stable sort on precomputed key values.

use std::cmp::Ordering;

use voltrs_storage::Value;

use super::{Env, ExecContext, Row, Ticker, eval};
use crate::error::Result;
use crate::plan::SortKey;

pub(super) fn sort(rows: Vec<Row>, keys: &[SortKey], ctx: &ExecContext, outer: Option<&Env>) -> Result<Vec<Row>> {
    if keys.is_empty() || rows.len() < 2 {
        return Ok(rows);
    }
    let mut ticker = Ticker::new(ctx);
    let mut keyed: Vec<(Vec<Value>, Row)> = Vec::with_capacity(rows.len());
    for row in rows {
        ticker.tick()?;
        let k = sort_values(keys, &row, ctx, outer)?;
        keyed.push((k, row));
    }
    keyed.sort_by(|a, b| compare_keys(&a.0, &b.0, keys));
    // The sort itself cannot stop midway; check once more after it.
    Ticker::new(ctx).tick()?;
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

/// The values of `keys` for one row.
pub(super) fn sort_values(
    keys: &[SortKey],
    row: &[Value],
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Vec<Value>> {
    let env = Env { row, parent: outer };
    keys.iter().map(|k| eval(&k.expr, &env, ctx)).collect()
}

/// Orders two rows' key values: each key by Value's total order, reversed when `desc`;
/// NULL goes first or last by `nulls_first` whatever the direction.
pub(super) fn compare_keys(a: &[Value], b: &[Value], keys: &[SortKey]) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if key.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if key.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let o = x.cmp(y);
                if key.desc { o.reverse() } else { o }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
