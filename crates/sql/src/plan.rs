//! Executable query plans.
//!
//! A plan is a tree whose leaves read tables. Every node produces rows whose layout is given
//! by [`Plan::output_types`]. Table scans are the per-partition fragments: the executor calls
//! them once per partition (one partition per call) and the nodes above them form the
//! coordinator fragment that merges.

use std::sync::Arc;

use voltrs_storage::DataType;

use crate::catalog::TableDef;
use crate::expr::Expr;

#[derive(Debug, Clone)]
pub enum Plan {
    /// Reads a table's rows that pass `filter` (all partitions of a partitioned table, one
    /// copy of a replicated one), walking the arena or an index (`access`). With `pin`, the
    /// filter holds `partition column = pin`, so only the partition that value hashes to is
    /// read.
    Scan {
        table: Arc<TableDef>,
        filter: Option<Expr>,
        access: Access,
        pin: Option<Expr>,
    },
    /// Index nested-loop join: for each `left` row, `keys` (evaluated on it) are looked up
    /// as a prefix of `index` of `table`; matches that pass `filter` (on the table's row) and
    /// `on` (on the joined row) join. Output: left columns then the table's. Inner or left.
    IndexJoin {
        left: Box<Plan>,
        table: Arc<TableDef>,
        index: usize,
        keys: Vec<Expr>,
        filter: Option<Expr>,
        on: Option<Expr>,
        kind: JoinKind,
    },
    /// Literal rows (`VALUES`, or one empty row for a SELECT without FROM).
    Values {
        rows: Vec<Vec<Expr>>,
        types: Vec<DataType>,
    },
    Filter {
        input: Box<Plan>,
        predicate: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
    },
    /// Output: left columns then right columns. `keys` are equality pairs evaluated on the
    /// left and right rows (a hash join when non-empty); `on` is checked on the joined row.
    Join {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        keys: Vec<(Expr, Expr)>,
        on: Option<Expr>,
    },
    /// Output: the group-by values, then one value per aggregate.
    Aggregate {
        input: Box<Plan>,
        group_by: Vec<Expr>,
        aggs: Vec<AggCall>,
    },
    /// Output: the input columns, then one value per window function.
    Window {
        input: Box<Plan>,
        funcs: Vec<WindowCall>,
    },
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
    },
    /// `limit` and `offset` are constant expressions (literals or parameters).
    Limit {
        input: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    Distinct {
        input: Box<Plan>,
    },
    SetOp {
        op: SetOpKind,
        all: bool,
        left: Box<Plan>,
        right: Box<Plan>,
    },
}

/// How a scan finds rows.
#[derive(Debug, Clone, Default)]
pub enum Access {
    /// Walk every slot of the arena.
    #[default]
    Full,
    Index(Box<IndexScan>),
}

/// A walk of one index (position in `TableDef::uniques`). The scan's filter is still
/// applied to every row found, so the bounds only narrow the walk.
#[derive(Debug, Clone)]
pub struct IndexScan {
    pub index: usize,
    /// Values of the leading key expressions (constants or parameters).
    pub eq: Vec<Expr>,
    /// When not empty: one probe per value for the key expression after `eq` (an IN list).
    pub any_of: Vec<Expr>,
    /// Bounds of the key expression after `eq`: (value, inclusive).
    pub lo: Option<(Expr, bool)>,
    pub hi: Option<(Expr, bool)>,
    /// Walk in descending key order.
    pub desc: bool,
    /// When set, each partition stops after this many rows that pass the filter (the
    /// consumer takes the first rows in index order: ORDER BY ... LIMIT).
    pub limit: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    Union,
    Intersect,
    Except,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

#[derive(Debug, Clone)]
pub struct AggCall {
    pub func: AggFunc,
    pub arg: Option<Expr>,
    pub distinct: bool,
    /// Result type.
    pub ty: DataType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFunc {
    Rank,
    DenseRank,
    RowNumber,
    Agg(AggFunc),
}

#[derive(Debug, Clone)]
pub struct WindowCall {
    pub func: WindowFunc,
    pub arg: Option<Expr>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortKey>,
    pub ty: DataType,
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    /// NULLs sort first ascending and last descending unless stated (VoltDB: NULL is smallest).
    pub nulls_first: bool,
}

impl Plan {
    pub fn output_types(&self) -> Vec<DataType> {
        match self {
            Plan::Scan { table, .. } => table.columns.iter().map(|c| c.ty).collect(),
            Plan::IndexJoin { left, table, .. } => {
                let mut t = left.output_types();
                t.extend(table.columns.iter().map(|c| c.ty));
                t
            }
            Plan::Values { types, .. } => types.clone(),
            Plan::Filter { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input } => input.output_types(),
            Plan::Project { exprs, .. } => exprs.iter().map(|e| e.ty).collect(),
            Plan::Join { left, right, .. } => {
                let mut t = left.output_types();
                t.extend(right.output_types());
                t
            }
            Plan::Aggregate { group_by, aggs, .. } => {
                group_by.iter().map(|e| e.ty).chain(aggs.iter().map(|a| a.ty)).collect()
            }
            Plan::Window { input, funcs } => {
                let mut t = input.output_types();
                t.extend(funcs.iter().map(|f| f.ty));
                t
            }
            Plan::SetOp { left, .. } => left.output_types(),
        }
    }

    pub fn width(&self) -> usize {
        self.output_types().len()
    }
}
