//! Table access: the per-partition scan fragment (arena walk or index walk), partition
//! pinning, and the index nested-loop join.
//!
//! Every row an index finds still passes the scan's whole filter, so index bounds only
//! narrow the walk and can never change a result. When a probe value's class does not match
//! the key (a string probed against a numeric key, say), the scan falls back to walking the
//! arena, so the filter reports the same error or result it would without an index.

use std::ops::Bound;

use voltrs_storage::{DataType, Row as StoredRow, RowId, Table, Value};

use super::{Env, ExecContext, Row, Ticker, constant_count, eval, internal, is_true};
use crate::apply::partition_of;
use crate::catalog::TableDef;
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::{Access, IndexScan, JoinKind, Plan};

/// Where a pinned scan goes: `None` when the pin value can match no row (NULL, or a
/// fraction probed against an integer column).
type Target = Option<usize>;

/// The partitions a read of `table` visits, in order.
pub(super) fn visible(table: &TableDef, ctx: &ExecContext) -> Vec<usize> {
    match ctx.local {
        Some(p) => vec![p],
        None if table.is_partitioned() => ctx.fragment_partitions().collect(),
        None => vec![0],
    }
}

/// Evaluates a scan's pin: `Ok(None)` when the scan is not pinned or the value cannot be
/// placed (then every partition is read and the filter decides).
pub(super) fn pin_target(
    table: &TableDef,
    pin: Option<&Expr>,
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Option<Target>> {
    let (Some(pin), Some(col)) = (pin, table.partition_column) else {
        return Ok(None);
    };
    // A pin that fails to evaluate reads every partition: the filter then reports the
    // error, or not (no rows, or a conjunct before it is false), as an unpinned scan does.
    let Ok(v) = eval(
        pin,
        &Env {
            row: &[],
            parent: outer,
        },
        ctx,
    ) else {
        return Ok(None);
    };
    let ty = table.columns.get(col).map_or(DataType::Null, |c| c.ty);
    Ok(placement(ty, &v)
        .map(|key| key.map(|k| partition_of(&k, ctx.hashinator).min(ctx.partition_count().saturating_sub(1)))))
}

/// The partition a row of `table` whose partition column equals `v` lives in: `Some(None)`
/// when no row can (NULL), `None` when the value cannot be placed (every partition may hold
/// an equal value) or the table is not partitioned by a column.
pub fn place_value(table: &TableDef, v: &Value, hashinator: &voltrs_wire::Hashinator) -> Option<Option<usize>> {
    let col = table.partition_column?;
    let ty = table.columns.get(col).map_or(DataType::Null, |c| c.ty);
    let count = hashinator.partition_count() as usize;
    placement(ty, v).map(|key| key.map(|k| partition_of(&k, hashinator).min(count.saturating_sub(1))))
}

/// The partition-column value that a value equal to it would be stored as, for hashing:
/// `Some(None)` when no row can hold an equal value (NULL), `None` when it cannot be placed
/// (a fraction or a string probed against an integer column: every partition is read).
fn placement(ty: DataType, v: &Value) -> Option<Option<Value>> {
    Some(Some(match (v, ty.is_integer()) {
        (Value::Null, _) => return Some(None),
        (Value::Integer(_), true) | (Value::Varchar(_), false) | (Value::Varbinary(_), false) => v.clone(),
        (Value::Decimal(d), true) => Value::Integer(d.to_i64_exact()?),
        (Value::Float(f), true) if f.fract() == 0.0 && f.abs() < 9.0e18 => Value::Integer(*f as i64),
        _ => return None,
    }))
}

/// Reads a table: the visible partitions (one, if pinned), each through `access`.
pub(super) fn scan(plan: &Plan, ctx: &ExecContext, outer: Option<&Env>) -> Result<Vec<Row>> {
    let Plan::Scan { table, .. } = plan else {
        return internal("scan of a plan that is not a scan");
    };
    let mut ticker = Ticker::new(ctx);
    let mut out = Vec::new();
    for p in visible(table, ctx) {
        scan_partition(plan, p, ctx, outer, &mut ticker, &mut out)?;
    }
    Ok(out)
}

/// The per-partition fragment of a scan: partition `p`'s rows that pass the filter
/// (nothing if the scan is pinned to another partition).
pub(super) fn scan_partition(
    plan: &Plan,
    p: usize,
    ctx: &ExecContext,
    outer: Option<&Env>,
    ticker: &mut Ticker,
    out: &mut Vec<Row>,
) -> Result<()> {
    for_each_match(plan, p, ctx, outer, ticker, &mut |_, row| {
        out.push(row.to_vec());
        Ok(true)
    })
}

/// Row ids and images of partition `p`'s rows that a scan plan selects (the read phase
/// of UPDATE and DELETE; `p` is read even for a replicated table, whose every copy changes).
pub fn matching_rows(plan: &Plan, p: usize, ctx: &ExecContext) -> Result<Vec<(RowId, StoredRow)>> {
    let mut ticker = Ticker::new(ctx);
    let mut out = Vec::new();
    for_each_match(plan, p, ctx, None, &mut ticker, &mut |id, row| {
        out.push((id, row.into()));
        Ok(true)
    })?;
    Ok(out)
}

/// Calls `emit` with each row of partition `p` that the scan selects, in access order,
/// until it returns false (or the index walk's limit is reached).
pub(super) fn for_each_match(
    plan: &Plan,
    p: usize,
    ctx: &ExecContext,
    outer: Option<&Env>,
    ticker: &mut Ticker,
    emit: &mut dyn FnMut(RowId, &[Value]) -> Result<bool>,
) -> Result<()> {
    let Plan::Scan {
        table,
        filter,
        access,
        pin,
    } = plan
    else {
        return internal("scan of a plan that is not a scan");
    };
    if let Some(target) = pin_target(table, pin.as_ref(), ctx, outer)?
        && target != Some(p)
    {
        return Ok(());
    }
    let stored = stored(table, p, ctx)?;
    let filter = filter.as_ref();
    let keep = |row: &[Value], ticker: &mut Ticker| -> Result<bool> {
        ticker.tick()?;
        Ok(match filter {
            Some(f) => is_true(&eval(f, &Env { row, parent: outer }, ctx)?),
            None => true,
        })
    };
    if let Access::Index(ix) = access
        && let Some(walk) = index_walk(table, ix, ctx, outer)?
    {
        let limit = match &ix.limit {
            Some(e) => constant_count(e, "LIMIT", ctx, outer)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            None => None,
        };
        if limit == Some(0) {
            return Ok(());
        }
        // Rows are read while the index is walked, so a LIMIT stops the walk itself.
        let mut taken = 0usize;
        let mut row = Vec::new();
        let mut failed = None;
        walk.visit(stored, ix, &mut |id| {
            row.clear();
            if !stored.read_into(id, &mut row) {
                return true;
            }
            let step = keep(&row, ticker).and_then(|k| {
                if k {
                    emit(id, &row).map(|go| (true, go))
                } else {
                    Ok((false, true))
                }
            });
            match step {
                Ok((kept, go)) => {
                    taken += usize::from(kept);
                    go && limit.is_none_or(|n| taken < n)
                }
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        return match failed {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    stored.for_each(|id, row| Ok(!keep(row, ticker)? || emit(id, row)?))
}

fn stored<'p>(table: &TableDef, p: usize, ctx: &ExecContext<'p>) -> Result<&'p Table> {
    match ctx.partition(p).and_then(|part| part.table(table.id)) {
        Some(t) => Ok(t),
        None => internal(format!(
            "table {} (id {}) is missing in partition {p}",
            table.name, table.id
        )),
    }
}

/// An index walk with its probe values evaluated.
struct Walk {
    eq: Vec<Value>,
    /// Probes for the key expression after `eq` (sorted, distinct); empty: no IN list.
    any_of: Vec<Value>,
    lo: Option<(Value, bool)>,
    hi: Option<(Value, bool)>,
    /// A NULL probe or bound: no row can match.
    empty: bool,
}

impl Walk {
    /// Calls `push` with row ids in index order until it returns false.
    fn visit(&self, t: &Table, ix: &IndexScan, push: &mut dyn FnMut(RowId) -> bool) -> Result<()> {
        if self.empty {
            return Ok(());
        }
        let Some(index) = t.indexes.get(ix.index) else {
            return internal(format!("index {} is missing", ix.index));
        };
        let bound = |b: &Option<(Value, bool)>| -> Bound<Value> {
            match b {
                Some((v, true)) => Bound::Included(v.clone()),
                Some((v, false)) => Bound::Excluded(v.clone()),
                None => Bound::Unbounded,
            }
        };
        let (lo, hi) = (bound(&self.lo), bound(&self.hi));
        if self.any_of.is_empty() {
            index.scan(&self.eq, lo.as_ref(), hi.as_ref(), ix.desc, push);
        } else {
            let mut probes: Vec<&Value> = self.any_of.iter().collect();
            if ix.desc {
                probes.reverse();
            }
            let mut prefix = self.eq.clone();
            let mut more = true;
            for v in probes {
                prefix.push(v.clone());
                index.scan(&prefix, Bound::Unbounded, Bound::Unbounded, ix.desc, &mut |id| {
                    more = push(id);
                    more
                });
                prefix.pop();
                if !more {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Evaluates an index scan's probes; `None` when the arena must be walked instead: a
/// probe fails to evaluate (the filter then reports the error, or not, as it would without
/// the index), a value's class does not fit its key expression, or an equality cannot be
/// answered exactly by the index (see [`Probe`]).
fn index_walk(table: &TableDef, ix: &IndexScan, ctx: &ExecContext, outer: Option<&Env>) -> Result<Option<Walk>> {
    let Some(key) = table.uniques.get(ix.index) else {
        return internal(format!("index {} of table {} is missing", ix.index, table.name));
    };
    let hash = key.storage_spec().method == voltrs_storage::IndexMethod::Hash;
    let env = Env {
        row: &[],
        parent: outer,
    };
    let key_ty = |i: usize| key.exprs.get(i).map_or(DataType::Null, |e| e.ty);
    let mut walk = Walk {
        eq: Vec::with_capacity(ix.eq.len()),
        any_of: Vec::new(),
        lo: None,
        hi: None,
        empty: false,
    };
    for (i, e) in ix.eq.iter().enumerate() {
        let Ok(v) = eval(e, &env, ctx) else { return Ok(None) };
        match fits(key_ty(i), &v) {
            None => walk.empty = true,
            Some(false) => return Ok(None),
            Some(true) => match equality_probe(key_ty(i), v, hash) {
                Probe::Key(v) => walk.eq.push(v),
                Probe::Nothing => walk.empty = true,
                Probe::Walk => return Ok(None),
            },
        }
    }
    let next = key_ty(ix.eq.len());
    for e in &ix.any_of {
        let Ok(v) = eval(e, &env, ctx) else { return Ok(None) };
        match fits(next, &v) {
            None => {}
            Some(false) => return Ok(None),
            Some(true) => match equality_probe(next, v, hash) {
                Probe::Key(v) => walk.any_of.push(v),
                Probe::Nothing => {}
                Probe::Walk => return Ok(None),
            },
        }
    }
    if !ix.any_of.is_empty() {
        walk.any_of.sort();
        walk.any_of.dedup();
        walk.empty |= walk.any_of.is_empty();
    }
    for (bound, slot) in [(&ix.lo, &mut walk.lo), (&ix.hi, &mut walk.hi)] {
        if let Some((e, inclusive)) = bound {
            let Ok(v) = eval(e, &env, ctx) else { return Ok(None) };
            match fits(next, &v) {
                None => walk.empty = true,
                Some(false) => return Ok(None),
                Some(true) => *slot = Some((v, *inclusive)),
            }
        }
    }
    Ok(Some(walk))
}

/// How an equality probe finds its keys.
enum Probe {
    /// Look this value up: every key equal to the probe equals it, hashes like it and
    /// sorts next to it.
    Key(Value),
    /// No key can equal the probe (a fraction probed against integer keys).
    Nothing,
    /// Several non-adjacent keys may equal the probe: walk the arena.
    Walk,
}

/// An equality probe against keys of type `ty`, in the keys' own class when they differ.
///
/// Numbers of different classes compare equal across classes and hash alike (by their
/// nearest double), but a hash index is still probed with a value of the key's class: the
/// conversion also decides when no key can match, and keeps the probe independent of how
/// `Value` hashes. A FLOAT probe against DECIMAL keys compares through the nearest
/// double, so many DECIMAL keys can equal it, and in a multi-column key they are not
/// adjacent to the probe's position in the tree: the arena is walked instead.
fn equality_probe(ty: DataType, v: Value, hash: bool) -> Probe {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match (v, ty) {
        (Value::Float(_), DataType::Decimal) => Probe::Walk,
        (v, _) if !hash => Probe::Key(v),
        (Value::Float(f), t) if t.is_integer() => {
            if f.is_nan() || f.fract() != 0.0 {
                // No integer equals a fraction, an infinity or NaN.
                Probe::Nothing
            } else if (-TWO_63..TWO_63).contains(&f) {
                Probe::Key(Value::Integer(f as i64))
            } else {
                // Integers near 2^63 round to it: several may equal the probe.
                Probe::Walk
            }
        }
        (Value::Decimal(d), t) if t.is_integer() => match d.to_i64_exact() {
            Some(i) => Probe::Key(Value::Integer(i)),
            None => Probe::Nothing,
        },
        (Value::Integer(i), DataType::Float) => {
            let g = i as f64;
            if (-TWO_63..TWO_63).contains(&g) && g as i64 != i {
                // The nearest double is another integer: no FLOAT equals `i` exactly.
                Probe::Nothing
            } else {
                Probe::Key(Value::Float(g))
            }
        }
        (Value::Decimal(d), DataType::Float) => Probe::Key(Value::Float(d.to_f64())),
        (Value::Integer(i), DataType::Decimal) => Probe::Key(Value::Decimal(voltrs_storage::Decimal::from_i64(i))),
        (v, _) => Probe::Key(v),
    }
}

/// Whether a probe value can be compared with index keys of type `ty` by the index's
/// order: `None` for NULL (matches nothing), `Some(false)` for another class.
fn fits(ty: DataType, v: &Value) -> Option<bool> {
    Some(match v {
        Value::Null => return None,
        Value::Integer(_) | Value::Float(_) | Value::Decimal(_) => ty.is_numeric(),
        Value::Varchar(_) => ty.is_string(),
        Value::Varbinary(_) => matches!(ty, DataType::Varbinary { .. }),
        Value::Timestamp(_) => ty == DataType::Timestamp,
        Value::Boolean(_) => ty == DataType::Boolean,
    })
}

/// Index nested-loop join (see [`Plan::IndexJoin`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn index_join(
    left: &Plan,
    table: &TableDef,
    index: usize,
    keys: &[Expr],
    filter: Option<&Expr>,
    on: Option<&Expr>,
    kind: JoinKind,
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Vec<Row>> {
    let left_rows = super::execute(left, ctx, outer)?;
    let Some(key) = table.uniques.get(index) else {
        return internal(format!("index {index} of table {} is missing", table.name));
    };
    // The key position of the partition column, when the lookup pins a partition.
    let pin_at = table.partition_column.and_then(|pc| {
        key.exprs
            .iter()
            .take(keys.len())
            .position(|e| matches!(e.kind, crate::expr::ExprKind::Column(c) if c == pc))
    });
    let hash = key.storage_spec().method == voltrs_storage::IndexMethod::Hash;
    let pin_ty = table
        .partition_column
        .and_then(|pc| table.columns.get(pc))
        .map_or(DataType::Null, |c| c.ty);
    let parts = visible(table, ctx);
    let mut ticker = Ticker::new(ctx);
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for lrow in left_rows {
        let env = Env {
            row: &lrow,
            parent: outer,
        };
        let mut probe = Vec::with_capacity(keys.len());
        // `Some(false)`: no row can match; `None`: walk every row (the join condition
        // decides, see `equality_probe`).
        let mut fit = Some(true);
        let mut targets = None;
        for (i, k) in keys.iter().enumerate() {
            let v = eval(k, &env, ctx)?;
            let ty = key.exprs.get(i).map_or(DataType::Null, |e| e.ty);
            if pin_at == Some(i) && ctx.local.is_none() {
                // Place the probe as the row holding an equal value was placed.
                targets = placement(pin_ty, &v).map(|key| {
                    key.map(|k| partition_of(&k, ctx.hashinator).min(ctx.partition_count().saturating_sub(1)))
                });
            }
            match fits(ty, &v) {
                Some(true) => match equality_probe(ty, v, hash) {
                    Probe::Key(v) => probe.push(v),
                    Probe::Nothing => fit = Some(false),
                    Probe::Walk => {
                        if fit == Some(true) {
                            fit = None;
                        }
                    }
                },
                _ => fit = Some(false),
            }
        }
        let mut matched = false;
        if fit != Some(false) {
            let one;
            let probed: &[usize] = match targets {
                None => &parts,
                Some(None) => &[],
                Some(Some(p)) => {
                    one = [p];
                    &one
                }
            };
            for &p in probed {
                let t = stored(table, p, ctx)?;
                let Some(ix) = t.indexes.get(index) else {
                    return internal(format!("index {index} of table {} is missing", table.name));
                };
                ids.clear();
                if fit.is_some() {
                    ix.prefix(&probe, &mut ids);
                } else {
                    ids.extend(t.ids());
                }
                for id in &ids {
                    ticker.tick()?;
                    let Some(row) = t.get(*id) else { continue };
                    let row = &*row;
                    if let Some(f) = filter
                        && !is_true(&eval(f, &Env { row, parent: outer }, ctx)?)
                    {
                        continue;
                    }
                    let mut joined = lrow.clone();
                    joined.extend(row.iter().cloned());
                    if let Some(o) = on
                        && !is_true(&eval(
                            o,
                            &Env {
                                row: &joined,
                                parent: outer,
                            },
                            ctx,
                        )?)
                    {
                        continue;
                    }
                    matched = true;
                    ctx.charge(&joined)?;
                    out.push(joined);
                }
            }
        }
        if !matched && kind == JoinKind::Left {
            let mut joined = lrow;
            joined.extend(std::iter::repeat_n(Value::Null, table.columns.len()));
            out.push(joined);
        }
    }
    Ok(out)
}
