//! UNION, INTERSECT and EXCEPT, with and without ALL. Rows are identical when their values
//! are equal by Value's `Eq` (so NULL matches NULL). Output follows the left input's order,
//! then (for UNION) the right's.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use voltrs_storage::Value;

use super::{Row, distinct};
use crate::plan::SetOpKind;

pub(super) fn set_op(op: SetOpKind, all: bool, left: Vec<Row>, right: Vec<Row>) -> Vec<Row> {
    match (op, all) {
        (SetOpKind::Union, true) => {
            let mut out = left;
            out.extend(right);
            out
        }
        (SetOpKind::Union, false) => {
            let mut out = left;
            out.extend(right);
            distinct(out)
        }
        (SetOpKind::Intersect, false) | (SetOpKind::Except, false) => {
            let keep_present = op == SetOpKind::Intersect;
            let keep: Vec<bool> = {
                let right_set: HashSet<&[Value]> = right.iter().map(Vec::as_slice).collect();
                let mut emitted: HashSet<&[Value]> = HashSet::default();
                left.iter()
                    .map(|r| right_set.contains(r.as_slice()) == keep_present && emitted.insert(r.as_slice()))
                    .collect()
            };
            filter(left, keep)
        }
        (SetOpKind::Intersect, true) | (SetOpKind::Except, true) => {
            let intersect = op == SetOpKind::Intersect;
            let keep: Vec<bool> = {
                let mut counts: HashMap<&[Value], usize> = HashMap::default();
                for r in &right {
                    *counts.entry(r.as_slice()).or_default() += 1;
                }
                left.iter()
                    .map(|r| {
                        // Whether this copy is matched by a remaining copy on the right.
                        let matched = match counts.get_mut(r.as_slice()) {
                            Some(n) if *n > 0 => {
                                *n -= 1;
                                true
                            }
                            _ => false,
                        };
                        matched == intersect
                    })
                    .collect()
            };
            filter(left, keep)
        }
    }
}

fn filter(rows: Vec<Row>, keep: Vec<bool>) -> Vec<Row> {
    rows.into_iter().zip(keep).filter_map(|(r, k)| k.then_some(r)).collect()
}
