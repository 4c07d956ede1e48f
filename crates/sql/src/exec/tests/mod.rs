//! Executor tests over hand-built plans. Helpers live here; the cases are split by topic.

use std::sync::Arc;

use voltrs_storage::{DataType, Partition, Value};
use voltrs_wire::Hashinator;

use super::{ExecContext, Row, execute};
use crate::catalog::{ColumnDef, TableDef};
use crate::error::Result;
use crate::expr::{BinOp, Expr, ExprKind};
use crate::functions::FuncContext;
use crate::plan::{AggCall, AggFunc, JoinKind, Plan, SetOpKind, SortKey};

mod exprs;
mod nodes;
mod relational;

pub(super) const N: Value = Value::Null;

pub(super) fn int(i: i64) -> Value {
    Value::Integer(i)
}

pub(super) fn s(x: &str) -> Value {
    Value::str(x)
}

pub(super) fn ty_of(v: &Value) -> DataType {
    match v {
        Value::Null => DataType::Null,
        Value::Integer(_) => DataType::BigInt,
        Value::Float(_) => DataType::Float,
        Value::Decimal(_) => DataType::Decimal,
        Value::Varchar(_) => DataType::VARCHAR_MAX,
        Value::Varbinary(_) => DataType::VARBINARY_MAX,
        Value::Timestamp(_) => DataType::Timestamp,
        Value::Boolean(_) => DataType::Boolean,
    }
}

pub(super) fn lit(v: Value) -> Expr {
    let ty = ty_of(&v);
    Expr::literal(v, ty)
}

pub(super) fn col(i: usize) -> Expr {
    Expr::column(i, DataType::BigInt)
}

pub(super) fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    let ty = if op.is_comparison() || matches!(op, BinOp::And | BinOp::Or) {
        DataType::Boolean
    } else {
        l.ty
    };
    Expr::new(
        ExprKind::Binary {
            op,
            left: Box::new(l),
            right: Box::new(r),
        },
        ty,
    )
}

/// Literal rows; column types come from the first row (BIGINT for NULLs).
pub(super) fn values(rows: Vec<Vec<Value>>) -> Plan {
    let types = rows
        .first()
        .map(|r| {
            r.iter()
                .map(|v| if v.is_null() { DataType::BigInt } else { ty_of(v) })
                .collect()
        })
        .unwrap_or_default();
    Plan::Values {
        rows: rows.into_iter().map(|r| r.into_iter().map(lit).collect()).collect(),
        types,
    }
}

/// Literal rows of a given width (for empty inputs).
pub(super) fn values_w(rows: Vec<Vec<Value>>, width: usize) -> Plan {
    Plan::Values {
        rows: rows.into_iter().map(|r| r.into_iter().map(lit).collect()).collect(),
        types: vec![DataType::BigInt; width],
    }
}

pub(super) fn table_def(id: u32, name: &str, partition_column: Option<usize>) -> Arc<TableDef> {
    let column = |n: &str, ty| ColumnDef {
        name: n.to_string(),
        ty,
        nullable: true,
        default: None,
    };
    Arc::new(TableDef {
        id,
        name: name.to_string(),
        columns: vec![column("ID", DataType::BigInt), column("NAME", DataType::VARCHAR_MAX)],
        partition_column,
        uniques: Vec::new(),
        row_limit: None,
        row_limit_name: None,
        view: None,
        views: Vec::new(),
    })
}

/// Two partitions, a hashinator and parameters; [`Fixture::ctx`] borrows them.
pub(super) struct Fixture {
    pub parts: Vec<Partition>,
    pub hash: Hashinator,
    pub params: Vec<Value>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            parts: vec![Partition::default(), Partition::default()],
            hash: Hashinator::new(2),
            params: Vec::new(),
        }
    }

    pub fn ctx(&self) -> ExecContext<'_> {
        ExecContext::new(
            &self.parts,
            &self.hash,
            &self.params,
            FuncContext { now: 0, seed: 0 },
            None,
        )
    }

    /// Adds a table to every partition.
    pub fn create(&mut self, def: &TableDef) {
        for p in &mut self.parts {
            p.tables.insert(def.id, def.new_storage());
        }
    }

    /// Inserts a row where it belongs: by the hashinator for a partitioned table, into every
    /// partition for a replicated one.
    pub fn insert(&mut self, def: &TableDef, row: Vec<Value>) {
        let targets: Vec<usize> = match def.partition_column {
            Some(pc) => match row.get(pc) {
                Some(Value::Integer(i)) => vec![self.hash.partition_for_integer(*i) as usize],
                _ => vec![0],
            },
            None => (0..self.parts.len()).collect(),
        };
        for t in targets {
            if let Some(table) = self.parts.get_mut(t).and_then(|p| p.table_mut(def.id)) {
                table.insert(&row).expect("row fits");
            }
        }
    }

    pub fn run(&self, plan: &Plan) -> Result<Vec<Row>> {
        execute(plan, &self.ctx(), None)
    }
}

pub(super) fn run(plan: &Plan) -> Result<Vec<Row>> {
    Fixture::new().run(plan)
}

/// Runs a plan that must succeed.
pub(super) fn rows(plan: &Plan) -> Vec<Row> {
    match run(plan) {
        Ok(r) => r,
        Err(e) => panic!("plan failed: {e}"),
    }
}

pub(super) fn join(left: Plan, right: Plan, kind: JoinKind, keys: Vec<(Expr, Expr)>, on: Option<Expr>) -> Plan {
    Plan::Join {
        left: Box::new(left),
        right: Box::new(right),
        kind,
        keys,
        on,
    }
}

pub(super) fn agg(func: AggFunc, arg: Option<Expr>, distinct: bool, ty: DataType) -> AggCall {
    AggCall {
        func,
        arg,
        distinct,
        ty,
    }
}

pub(super) fn sort_key(i: usize, desc: bool, nulls_first: bool) -> SortKey {
    SortKey {
        expr: col(i),
        desc,
        nulls_first,
    }
}

pub(super) fn set_op(op: SetOpKind, all: bool, l: Plan, r: Plan) -> Plan {
    Plan::SetOp {
        op,
        all,
        left: Box::new(l),
        right: Box::new(r),
    }
}

/// Sorts rows by Value's total order (for order-insensitive comparisons).
pub(super) fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort();
    rows
}
