//! The joined source rows a view aggregates, in one partition: a nested loop over the
//! sources that probes an index of the next source when the view's equality conditions
//! bind a prefix of its key from the sources already joined, and scans it otherwise.
//!
//! Invariant: the result is exactly the joined rows (in the concatenated FROM-order layout)
//! that pass every conjunct of the view's filter; a probe only narrows the candidates, every
//! conjunct is still evaluated. The table being written is never probed: mid-statement (an
//! UPDATE of several rows) its indexes may lag its rows.

use voltrs_storage::{DataType, IndexMethod, Partition, RowId, TableId, Value};

use super::{ViewDef, ViewSource};
use crate::binder::join::inputs_read;
use crate::error::{Error, Result};
use crate::exec::{Env, ExecContext, eval};
use crate::expr::{BinOp, Expr, ExprKind};
use crate::planner::same;

/// What to join: all rows, or one source fixed to one row, minus one excluded slot.
pub(super) struct JoinInput<'a> {
    /// Source `i` contributes only this row (it is joined first).
    pub fixed: Option<(usize, &'a [Value])>,
    /// Source `i` skips this slot.
    pub exclude: Option<(usize, RowId)>,
    /// The table being written (never probed through its indexes).
    pub writing: Option<TableId>,
}

/// A probe of one source's index: the index's position, and per key component of the probed
/// prefix the expression (over the joined row) that gives its value.
struct Probe<'e> {
    index: usize,
    values: Vec<&'e Expr>,
}

/// The joined source rows of partition `p` that pass the view's filter. Each conjunct is
/// checked as soon as the sources it reads are joined.
pub(super) fn joined(
    partition: Option<&Partition>,
    def: &ViewDef,
    p: usize,
    input: &JoinInput,
    ctx: &ExecContext,
) -> Result<Vec<Vec<Value>>> {
    let conjuncts = &def.filter;
    let mut offsets = Vec::with_capacity(def.sources.len());
    let mut width = 0;
    for s in &def.sources {
        offsets.push(width);
        width += s.width;
    }
    let reads: Vec<Vec<usize>> = conjuncts.iter().map(|e| inputs_read(e, &offsets)).collect();
    let mut order: Vec<usize> = Vec::with_capacity(def.sources.len());
    if let Some((fi, _)) = input.fixed {
        order.push(fi);
    }
    let first = input.fixed.map(|(fi, _)| fi);
    order.extend((0..def.sources.len()).filter(|&i| Some(i) != first));
    let mut bound = vec![false; def.sources.len()];
    let mut checked = vec![false; conjuncts.len()];
    let mut rows: Vec<Vec<Value>> = vec![vec![Value::Null; width]];
    for i in order {
        let Some(src) = def.sources.get(i) else { continue };
        let off = offsets.get(i).copied().unwrap_or(0);
        let fixed_row = input.fixed.filter(|(fi, _)| *fi == i).map(|(_, r)| r);
        let table = match fixed_row {
            Some(_) => None,
            None => match partition.and_then(|part| part.table(src.id)) {
                Some(t) => Some(t),
                None => {
                    return Err(Error::Invalid(format!(
                        "internal: view source \"{}\" missing in partition {p}",
                        src.name
                    )));
                }
            },
        };
        let probe = match table {
            Some(_) if input.writing != Some(src.id) && bound.iter().any(|b| *b) => {
                find_probe(src, conjuncts, &reads, &bound, i, off)
            }
            _ => None,
        };
        bound[i] = true;
        let now: Vec<usize> = (0..conjuncts.len())
            .filter(|&c| !checked[c] && reads[c].iter().all(|&s| bound[s]))
            .collect();
        let excluded = |id: RowId| input.exclude == Some((i, id));
        // Without a probe every prefix meets the same rows: read them once.
        let all: Vec<Box<[Value]>> = match (fixed_row, table, &probe) {
            (Some(r), _, _) => vec![r.into()],
            (None, Some(t), None) => t.scan().filter(|(id, _)| !excluded(*id)).map(|(_, r)| r).collect(),
            _ => Vec::new(),
        };
        let mut next = Vec::new();
        let mut ids = Vec::new();
        for prefix in &rows {
            let probed: Vec<Box<[Value]>>;
            let candidates = match (table, &probe) {
                (Some(t), Some(pr)) => {
                    let env = Env {
                        row: prefix,
                        parent: None,
                    };
                    let key = pr
                        .values
                        .iter()
                        .map(|e| eval(e, &env, ctx))
                        .collect::<Result<Vec<Value>>>()?;
                    if key.iter().any(Value::is_null) {
                        continue; // `= NULL` is never TRUE
                    }
                    ids.clear();
                    if let Some(ix) = t.indexes.get(pr.index) {
                        ix.prefix(&key, &mut ids);
                    }
                    probed = ids
                        .iter()
                        .filter(|&&id| !excluded(id))
                        .filter_map(|&id| t.get(id))
                        .collect();
                    &probed
                }
                _ => &all,
            };
            for r in candidates {
                let mut row = prefix.clone();
                if let Some(dst) = row.get_mut(off..off + r.len()) {
                    dst.clone_from_slice(r);
                }
                if passes(&row, &now, conjuncts, ctx)? {
                    next.push(row);
                }
            }
        }
        for c in now {
            checked[c] = true;
        }
        rows = next;
        if rows.is_empty() {
            break;
        }
    }
    Ok(rows)
}

/// An index of source `i` (columns `off..off + width` of the joined row) whose key prefix
/// is bound by equality conjuncts to expressions over the sources already joined; the
/// longest such prefix. The rest of the key must be NOT NULL columns (a row with a NULL key
/// component is not in the index), and a hash index needs the whole key.
fn find_probe<'e>(
    src: &ViewSource,
    conjuncts: &'e [Expr],
    reads: &[Vec<usize>],
    bound: &[bool],
    i: usize,
    off: usize,
) -> Option<Probe<'e>> {
    let width = src.width;
    // (local form of the side over source i, the other side) of each usable equality.
    let mut pairs: Vec<(Expr, &Expr)> = Vec::new();
    for (c, e) in conjuncts.iter().enumerate() {
        let ExprKind::Binary {
            op: BinOp::Eq,
            left,
            right,
        } = &e.kind
        else {
            continue;
        };
        if !reads[c].contains(&i) {
            continue;
        }
        for (mine, other) in [(left, right), (right, left)] {
            let mut cols = Vec::new();
            mine.columns_used(&mut cols);
            let mine_local = !cols.is_empty() && cols.iter().all(|&c| c >= off && c < off + width);
            let mut ocols = Vec::new();
            other.columns_used(&mut ocols);
            let other_bound =
                ocols.iter().all(|&c| !(off..off + width).contains(&c)) && reads[c].iter().all(|&s| s == i || bound[s]);
            if mine_local && other_bound && !other.has_subquery() && comparable(mine.ty, other.ty) {
                let mut local = (**mine).clone();
                local.remap_columns(&|c| c - off);
                pairs.push((local, other));
            }
        }
    }
    let mut best: Option<Probe> = None;
    for (index, u) in src.uniques.iter().enumerate() {
        if u.predicate.is_some() {
            continue;
        }
        let mut values = Vec::new();
        for k in &u.exprs {
            match pairs.iter().find(|(local, _)| same(local, k)) {
                Some((_, other)) => values.push(*other),
                None => break,
            }
        }
        let hash = u.storage_spec().method == IndexMethod::Hash;
        let rest = u.exprs.get(values.len()..).unwrap_or_default();
        let rest_not_null = rest.iter().all(|e| match e.kind {
            ExprKind::Column(c) => src.not_null.get(c).copied().unwrap_or(false),
            _ => false,
        });
        if values.is_empty() || !rest_not_null || (hash && !rest.is_empty()) {
            continue;
        }
        if best.as_ref().is_none_or(|b| values.len() > b.values.len()) {
            best = Some(Probe { index, values });
        }
    }
    best
}

/// Whether an index key of type `a` is found by probing with a value of type `b` whenever
/// `a = b` holds.
fn comparable(a: DataType, b: DataType) -> bool {
    a == b || (a.is_numeric() && b.is_numeric())
}

pub(super) fn passes(row: &[Value], which: &[usize], conjuncts: &[Expr], ctx: &ExecContext) -> Result<bool> {
    let env = Env { row, parent: None };
    for &c in which {
        if !matches!(eval(&conjuncts[c], &env, ctx)?, Value::Boolean(true)) {
            return Ok(false);
        }
    }
    Ok(true)
}
