//! `EXPLAIN`: a plan as indented text, one line per node, children below their parent.
//!
//! Each scan says how it reads (arena walk, or which index and how), which partitions it
//! touches (all of them merged at the coordinator, one pinned by a value or parameter, or
//! a replicated table's local copy), and the filter it applies; joins say their method.

use crate::binder::BoundWrite;
use crate::catalog::TableDef;
use crate::expr::{Expr, ExprKind};
use crate::plan::{Access, IndexScan, JoinKind, Plan};

/// The plan of a bound query or write as lines of text.
pub fn explain(plan: Option<&Plan>, write: Option<&BoundWrite>) -> Vec<String> {
    let mut out = Vec::new();
    match (plan, write) {
        (Some(p), _) => node(p, 0, &mut out),
        (None, Some(w)) => match w {
            BoundWrite::Insert {
                table, source, upsert, ..
            } => {
                let verb = if *upsert { "UPSERT" } else { "INSERT" };
                let route = if table.partition_column.is_some() {
                    "each row to the partition its partition column hashes to"
                } else {
                    "every partition (replicated)"
                };
                out.push(format!("{verb} INTO {}: {route}", table.name));
                node(source, 1, &mut out);
            }
            BoundWrite::Update { table, scan, .. } => {
                out.push(format!("UPDATE {}", table.name));
                node(scan, 1, &mut out);
            }
            BoundWrite::Delete { table, scan } => {
                out.push(format!("DELETE FROM {}", table.name));
                node(scan, 1, &mut out);
            }
        },
        (None, None) => {}
    }
    out
}

fn line(out: &mut Vec<String>, depth: usize, text: String) {
    out.push(format!("{}{text}", "  ".repeat(depth)));
}

fn node(plan: &Plan, depth: usize, out: &mut Vec<String>) {
    match plan {
        Plan::Scan {
            table,
            filter,
            access,
            pin,
        } => {
            let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
            let how = match access {
                Access::Full => format!("SEQUENTIAL SCAN of {}", table.name),
                Access::Index(ix) => index_text(table, ix, &names),
            };
            line(out, depth, format!("{how}, {}", partitions(table, pin.as_ref())));
            if let Some(f) = filter {
                line(out, depth + 1, format!("filter: {}", expr(f, &names)));
            }
        }
        Plan::IndexJoin {
            left,
            table,
            index,
            keys,
            filter,
            on,
            kind,
        } => {
            let name = table.uniques.get(*index).map_or("?", |k| k.name.as_str());
            let keys: Vec<String> = keys.iter().map(|k| expr(k, &[])).collect();
            let pinned = match table.partition_column {
                None if !table.is_partitioned() => "replicated, local copy".to_string(),
                None => "all partitions probed".to_string(),
                Some(pc)
                    if table.uniques.get(*index).is_some_and(|k| {
                        k.exprs
                            .iter()
                            .take(keys.len())
                            .any(|e| matches!(e.kind, ExprKind::Column(c) if c == pc))
                    }) =>
                {
                    "one partition per probe: from the partition column's key".to_string()
                }
                Some(_) => "all partitions probed".to_string(),
            };
            line(
                out,
                depth,
                format!(
                    "INDEX NESTED LOOP JOIN ({}) probing {} using index {name} on ({}), {pinned}",
                    join_kind(*kind),
                    table.name,
                    keys.join(", ")
                ),
            );
            let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
            if let Some(f) = filter {
                line(out, depth + 1, format!("filter on {}: {}", table.name, expr(f, &names)));
            }
            if let Some(o) = on {
                line(out, depth + 1, format!("join condition: {}", expr(o, &[])));
            }
            node(left, depth + 1, out);
        }
        Plan::Join {
            left,
            right,
            kind,
            keys,
            on,
        } => {
            let method = if keys.is_empty() {
                "NESTED LOOP JOIN"
            } else {
                "HASH JOIN"
            };
            let mut text = format!("{method} ({})", join_kind(*kind));
            if !keys.is_empty() {
                let k: Vec<String> = keys
                    .iter()
                    .map(|(l, r)| format!("{} = right.{}", expr(l, &[]), expr(r, &[])))
                    .collect();
                text.push_str(&format!(" on {}", k.join(" AND ")));
            }
            line(out, depth, text);
            if let Some(o) = on {
                line(out, depth + 1, format!("join condition: {}", expr(o, &[])));
            }
            node(left, depth + 1, out);
            node(right, depth + 1, out);
        }
        Plan::Values { rows, .. } => line(out, depth, format!("VALUES ({} rows)", rows.len())),
        Plan::Filter { input, predicate } => {
            line(out, depth, format!("FILTER {}", expr(predicate, &[])));
            node(input, depth + 1, out);
        }
        Plan::Project { input, exprs } => {
            let e: Vec<String> = exprs.iter().map(|e| expr(e, &[])).collect();
            line(out, depth, format!("PROJECT {}", e.join(", ")));
            node(input, depth + 1, out);
        }
        Plan::Aggregate { input, group_by, aggs } => {
            let two_phase = matches!(input.as_ref(), Plan::Scan { table, pin: None, .. } if table.is_partitioned())
                && aggs.iter().all(|a| !a.distinct);
            let g: Vec<String> = group_by.iter().map(|e| expr(e, &[])).collect();
            let mut text = format!("AGGREGATE {} function(s)", aggs.len());
            if !g.is_empty() {
                text.push_str(&format!(" GROUP BY {}", g.join(", ")));
            }
            if two_phase {
                text.push_str(": partial per partition, merged at the coordinator");
            }
            line(out, depth, text);
            node(input, depth + 1, out);
        }
        Plan::Window { input, funcs } => {
            line(out, depth, format!("WINDOW {} function(s)", funcs.len()));
            node(input, depth + 1, out);
        }
        Plan::Sort { input, keys } => {
            let k: Vec<String> = keys
                .iter()
                .map(|k| format!("{}{}", expr(&k.expr, &[]), if k.desc { " DESC" } else { "" }))
                .collect();
            line(out, depth, format!("ORDER BY {}", k.join(", ")));
            node(input, depth + 1, out);
        }
        Plan::Limit { input, limit, offset } => {
            let mut text = "LIMIT".to_string();
            if let Some(l) = limit {
                text.push_str(&format!(" {}", expr(l, &[])));
            }
            if let Some(o) = offset {
                text.push_str(&format!(" OFFSET {}", expr(o, &[])));
            }
            line(out, depth, text);
            node(input, depth + 1, out);
        }
        Plan::Distinct { input } => {
            line(out, depth, "DISTINCT".into());
            node(input, depth + 1, out);
        }
        Plan::SetOp { op, all, left, right } => {
            line(
                out,
                depth,
                format!("{op:?}{}", if *all { " ALL" } else { "" }).to_uppercase(),
            );
            node(left, depth + 1, out);
            node(right, depth + 1, out);
        }
    }
}

fn join_kind(k: JoinKind) -> &'static str {
    match k {
        JoinKind::Inner => "inner",
        JoinKind::Left => "left outer",
        JoinKind::Right => "right outer",
        JoinKind::Full => "full outer",
    }
}

/// Which partitions a scan reads.
fn partitions(table: &TableDef, pin: Option<&Expr>) -> String {
    match (table.partition_column, pin) {
        (None, _) if !table.is_partitioned() => "replicated: local copy".into(),
        (None, _) => "all partitions (partial view rows), merged at the coordinator".into(),
        (Some(_), None) => "all partitions, merged at the coordinator".into(),
        (Some(_), Some(p)) => match &p.kind {
            ExprKind::Param(i) => format!("one partition: from parameter {}", i + 1),
            _ => format!("one partition: from value {}", expr(p, &[])),
        },
    }
}

fn index_text(table: &TableDef, ix: &IndexScan, names: &[String]) -> String {
    let Some(key) = table.uniques.get(ix.index) else {
        return format!("INDEX SCAN of {} using a missing index", table.name);
    };
    let kind = if ix.eq.len() == key.exprs.len() && key.kind.is_unique() {
        "UNIQUE INDEX LOOKUP"
    } else {
        "INDEX SCAN"
    };
    let mut parts = Vec::new();
    for (k, v) in key.exprs.iter().zip(&ix.eq) {
        parts.push(format!("{} = {}", expr(k, names), expr(v, &[])));
    }
    let next = key.exprs.get(ix.eq.len());
    if let Some(next) = next {
        if !ix.any_of.is_empty() {
            let v: Vec<String> = ix.any_of.iter().map(|v| expr(v, &[])).collect();
            parts.push(format!("{} IN ({})", expr(next, names), v.join(", ")));
        }
        if let Some((v, inc)) = &ix.lo {
            parts.push(format!(
                "{} {} {}",
                expr(next, names),
                if *inc { ">=" } else { ">" },
                expr(v, &[])
            ));
        }
        if let Some((v, inc)) = &ix.hi {
            parts.push(format!(
                "{} {} {}",
                expr(next, names),
                if *inc { "<=" } else { "<" },
                expr(v, &[])
            ));
        }
    }
    let mut text = format!("{kind} of {} using index {}", table.name, key.name);
    if !parts.is_empty() {
        text.push_str(&format!(" ({})", parts.join(" AND ")));
    }
    if let Some(l) = &ix.limit {
        let dir = if ix.desc { "descending" } else { "ascending" };
        text.push_str(&format!(", in {dir} key order, first {} per partition", expr(l, &[])));
    }
    text
}

/// An expression as text: `names` name the columns of the row it reads (else `#i`).
pub(crate) fn expr(e: &Expr, names: &[String]) -> String {
    match &e.kind {
        ExprKind::Literal(v) => match v {
            voltrs_storage::Value::Varchar(s) => format!("'{}'", s.replace('\'', "''")),
            other => voltrs_storage::text::render(other).unwrap_or_else(|| "NULL".into()),
        },
        ExprKind::Column(i) => names.get(*i).cloned().unwrap_or_else(|| format!("#{}", i + 1)),
        ExprKind::Outer { depth, index } => format!("outer{depth}.#{}", index + 1),
        ExprKind::Param(i) => format!("?{}", i + 1),
        ExprKind::Neg(x) => format!("-{}", expr(x, names)),
        ExprKind::Not(x) => format!("NOT {}", expr(x, names)),
        ExprKind::Binary { op, left, right } => {
            format!("({} {} {})", expr(left, names), op.symbol(), expr(right, names))
        }
        ExprKind::IsNull { expr: x, negated } => {
            format!("{} IS {}NULL", expr(x, names), if *negated { "NOT " } else { "" })
        }
        ExprKind::InList { expr: x, list, negated } => {
            let l: Vec<String> = list.iter().map(|v| expr(v, names)).collect();
            format!(
                "{} {}IN ({})",
                expr(x, names),
                if *negated { "NOT " } else { "" },
                l.join(", ")
            )
        }
        ExprKind::InSubquery { .. }
        | ExprKind::Exists { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::ScalarSubquery(_) => "(subquery)".into(),
        _ => "(expression)".into(),
    }
}
