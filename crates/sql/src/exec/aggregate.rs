//! Grouped aggregation, and the accumulators shared with window functions.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use voltrs_storage::{DataType, Decimal, Value};

use super::{Env, ExecContext, Row, Ticker, eval, internal};
use crate::error::{Error, Result};
use crate::plan::{AggCall, AggFunc};

/// Groups `rows` by the `group_by` values (NULLs group together) and computes `aggs` per
/// group. Groups come out in the order they were first seen. Without `group_by`, exactly one
/// row comes out even for no input.
pub(super) fn aggregate(
    rows: Vec<Row>,
    group_by: &[crate::expr::Expr],
    aggs: &[AggCall],
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Vec<Row>> {
    let mut groups = Groups::new(group_by, aggs);
    groups.accumulate(&rows, group_by, aggs, ctx, outer)?;
    groups.finish(aggs)
}

/// Two-phase aggregation of a partitioned table read directly: each partition's fragment
/// aggregates its own rows (one partition per call) and the coordinator merges the partial
/// states in partition order, as VoltDB does. `None` when the plan does not qualify (a
/// replicated table, or a DISTINCT aggregate, whose partial states do not merge).
pub(super) fn two_phase(
    scan: &crate::plan::Plan,
    group_by: &[crate::expr::Expr],
    aggs: &[AggCall],
    ctx: &ExecContext,
    outer: Option<&Env>,
) -> Result<Option<Vec<Row>>> {
    let crate::plan::Plan::Scan { table, .. } = scan else {
        return Ok(None);
    };
    if !table.is_partitioned() || aggs.iter().any(|a| a.distinct) {
        return Ok(None);
    }
    let mut total = Groups::new(group_by, aggs);
    let mut ticker = Ticker::new(ctx);
    for p in super::access::visible(table, ctx) {
        // The fragment folds each row as the scan reads it: no row is copied out.
        let mut partial = Groups::new(group_by, aggs);
        super::access::for_each_match(scan, p, ctx, outer, &mut ticker, &mut |_, row| {
            partial.accumulate_row(row, group_by, aggs, ctx, outer)?;
            Ok(true)
        })?;
        total.merge(partial, aggs)?;
    }
    total.finish(aggs).map(Some)
}

/// Groups in first-seen order with their accumulators.
struct Groups {
    index: FxHashMap<Vec<Value>, usize>,
    groups: Vec<(Vec<Value>, Vec<Acc>)>,
    /// Scratch space for the current row's key.
    key: Vec<Value>,
}

impl Groups {
    fn new(group_by: &[crate::expr::Expr], aggs: &[AggCall]) -> Groups {
        let mut groups = Vec::new();
        if group_by.is_empty() {
            groups.push((Vec::new(), aggs.iter().map(|a| Acc::new(a.func, a.distinct)).collect()));
        }
        Groups {
            index: FxHashMap::default(),
            groups,
            key: Vec::new(),
        }
    }

    fn slot(&mut self, key: Vec<Value>, aggs: &[AggCall]) -> usize {
        if key.is_empty() && !self.groups.is_empty() && self.index.is_empty() {
            return 0;
        }
        match self.index.get(&key) {
            Some(&gi) => gi,
            None => {
                let gi = self.groups.len();
                self.index.insert(key.clone(), gi);
                self.groups
                    .push((key, aggs.iter().map(|a| Acc::new(a.func, a.distinct)).collect()));
                gi
            }
        }
    }

    /// The coordinator half: folds another fragment's partial groups into these.
    fn merge(&mut self, other: Groups, aggs: &[AggCall]) -> Result<()> {
        for (key, accs) in other.groups {
            let gi = self.slot(key, aggs);
            let Some((_, mine)) = self.groups.get_mut(gi) else {
                return internal("aggregate group index out of range");
            };
            for (m, o) in mine.iter_mut().zip(accs) {
                m.merge(o)?;
            }
        }
        Ok(())
    }

    fn finish(self, aggs: &[AggCall]) -> Result<Vec<Row>> {
        let mut out = Vec::with_capacity(self.groups.len());
        for (key, accs) in self.groups {
            let mut row = key;
            for (acc, call) in accs.iter().zip(aggs) {
                row.push(acc.finish(call.ty)?);
            }
            out.push(row);
        }
        Ok(out)
    }

    fn accumulate(
        &mut self,
        rows: &[Row],
        group_by: &[crate::expr::Expr],
        aggs: &[AggCall],
        ctx: &ExecContext,
        outer: Option<&Env>,
    ) -> Result<()> {
        let mut ticker = Ticker::new(ctx);
        for row in rows {
            ticker.tick()?;
            self.accumulate_row(row, group_by, aggs, ctx, outer)?;
        }
        Ok(())
    }

    /// Adds one input row to its group.
    fn accumulate_row(
        &mut self,
        row: &[Value],
        group_by: &[crate::expr::Expr],
        aggs: &[AggCall],
        ctx: &ExecContext,
        outer: Option<&Env>,
    ) -> Result<()> {
        let env = Env { row, parent: outer };
        let gi = if group_by.is_empty() {
            0
        } else {
            // The key is built in a reused buffer and copied only for a new group.
            let mut key = std::mem::take(&mut self.key);
            key.clear();
            for e in group_by {
                key.push(eval(e, &env, ctx)?);
            }
            let gi = match self.index.get(key.as_slice()) {
                Some(&gi) => gi,
                None => {
                    let gi = self.groups.len();
                    self.index.insert(key.clone(), gi);
                    self.groups
                        .push((key.clone(), aggs.iter().map(|a| Acc::new(a.func, a.distinct)).collect()));
                    gi
                }
            };
            self.key = key;
            gi
        };
        let Some((_, accs)) = self.groups.get_mut(gi) else {
            return internal("aggregate group index out of range");
        };
        for (acc, call) in accs.iter_mut().zip(aggs) {
            let arg = match &call.arg {
                Some(e) => Some(eval(e, &env, ctx)?),
                None => None,
            };
            acc.add(arg.as_ref())?;
        }
        Ok(())
    }
}

/// The running state of one aggregate function.
#[derive(Debug, Clone)]
pub(super) struct Acc {
    func: AggFunc,
    /// Rows (COUNT(*)) or non-NULL values seen.
    count: i64,
    sum: Sum,
    best: Option<Value>,
    /// Values already aggregated, for DISTINCT.
    seen: Option<HashSet<Value>>,
}

#[derive(Debug, Clone, Copy)]
enum Sum {
    Empty,
    Int(i64),
    Dec(Decimal),
    Float(f64),
}

impl Acc {
    pub(super) fn new(func: AggFunc, distinct: bool) -> Acc {
        Acc {
            func,
            count: 0,
            sum: Sum::Empty,
            best: None,
            seen: distinct.then(HashSet::new),
        }
    }

    /// Adds one input: the argument's value, or `None` for COUNT(*).
    pub(super) fn add(&mut self, v: Option<&Value>) -> Result<()> {
        if self.func == AggFunc::CountStar {
            self.count += 1;
            return Ok(());
        }
        let Some(v) = v else {
            return internal(format!("{:?} aggregate without an argument", self.func));
        };
        if v.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(v.clone())
        {
            return Ok(());
        }
        self.count += 1;
        match self.func {
            AggFunc::CountStar | AggFunc::Count => {}
            AggFunc::Sum | AggFunc::Avg => self.sum = self.sum.add(v)?,
            AggFunc::Min => {
                if self.best.as_ref().is_none_or(|b| v < b) {
                    self.best = Some(v.clone());
                }
            }
            AggFunc::Max => {
                if self.best.as_ref().is_none_or(|b| v > b) {
                    self.best = Some(v.clone());
                }
            }
        }
        Ok(())
    }

    /// Folds another partition's partial state of the same (non-DISTINCT) aggregate in.
    fn merge(&mut self, other: Acc) -> Result<()> {
        if self.seen.is_some() || other.seen.is_some() {
            return internal("DISTINCT aggregates are not merged across partitions");
        }
        self.count += other.count;
        self.sum = match (self.sum, other.sum) {
            (s, Sum::Empty) => s,
            (Sum::Empty, o) => o,
            (s, Sum::Int(i)) => s.add(&Value::Integer(i))?,
            (s, Sum::Dec(d)) => s.add(&Value::Decimal(d))?,
            (s, Sum::Float(f)) => s.add(&Value::Float(f))?,
        };
        if let Some(o) = other.best {
            let better = match (&self.best, self.func) {
                (None, _) => true,
                (Some(b), AggFunc::Min) => o < *b,
                (Some(b), AggFunc::Max) => o > *b,
                _ => false,
            };
            if better {
                self.best = Some(o);
            }
        }
        Ok(())
    }

    /// The aggregate's value so far, as `ty` (SUM and AVG are converted to it).
    pub(super) fn finish(&self, ty: DataType) -> Result<Value> {
        match self.func {
            AggFunc::CountStar | AggFunc::Count => Ok(Value::Integer(self.count)),
            AggFunc::Min | AggFunc::Max => Ok(self.best.clone().unwrap_or(Value::Null)),
            AggFunc::Sum => {
                let v = match self.sum {
                    Sum::Empty => return Ok(Value::Null),
                    Sum::Int(i) => Value::Integer(i),
                    Sum::Dec(d) => Value::Decimal(d),
                    Sum::Float(f) => Value::Float(f),
                };
                crate::cast::cast(&v, ty)
            }
            AggFunc::Avg => {
                let n = self.count;
                let v = match self.sum {
                    Sum::Empty => return Ok(Value::Null),
                    _ if n == 0 => return Ok(Value::Null),
                    // Integer input: VoltDB's integer average truncates toward zero.
                    Sum::Int(s) if ty.is_integer() => Value::Integer(s / n),
                    Sum::Int(s) if ty == DataType::Decimal => {
                        Value::Decimal(Decimal::from_i64(s).checked_div(Decimal::from_i64(n))?)
                    }
                    Sum::Int(s) => Value::Float(s as f64 / n as f64),
                    Sum::Dec(d) => Value::Decimal(d.checked_div(Decimal::from_i64(n))?),
                    Sum::Float(f) => Value::Float(f / n as f64),
                };
                crate::cast::cast(&v, ty)
            }
        }
    }
}

impl Sum {
    fn add(self, v: &Value) -> Result<Sum> {
        Ok(match (self, v) {
            (Sum::Empty, Value::Integer(i)) => Sum::Int(*i),
            (Sum::Empty, Value::Decimal(d)) => Sum::Dec(*d),
            (Sum::Empty, Value::Float(f)) => Sum::Float(*f),
            (Sum::Int(a), Value::Integer(b)) => match a.checked_add(*b) {
                Some(s) => Sum::Int(s),
                None => {
                    return Err(Error::Range(
                        "numeric overflow in SUM/AVG: the sum exceeds BIGINT".to_string(),
                    ));
                }
            },
            (Sum::Int(a), Value::Decimal(b)) => Sum::Dec(Decimal::from_i64(a).checked_add(*b)?),
            (Sum::Dec(a), Value::Integer(b)) => Sum::Dec(a.checked_add(Decimal::from_i64(*b))?),
            (Sum::Dec(a), Value::Decimal(b)) => Sum::Dec(a.checked_add(*b)?),
            (Sum::Int(a), Value::Float(b)) => Sum::Float(a as f64 + b),
            (Sum::Dec(a), Value::Float(b)) => Sum::Float(a.to_f64() + b),
            (Sum::Float(a), Value::Integer(_) | Value::Decimal(_) | Value::Float(_)) => {
                Sum::Float(a + v.as_f64().unwrap_or(f64::NAN))
            }
            (_, other) => {
                return Err(Error::Type(format!(
                    "SUM and AVG need a numeric argument, got {other:?}"
                )));
            }
        })
    }
}
