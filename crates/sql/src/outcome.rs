//! What a statement returns.

use voltrs_storage::{DataType, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumn {
    pub name: String,
    pub ty: DataType,
}

/// Rows of a query: named, typed columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultTable {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A query's rows.
    Rows(ResultTable),
    /// DML: the number of rows inserted, updated or deleted.
    Modified(u64),
    /// DDL or a session statement: its command tag (`CREATE TABLE`, `USE`, ...).
    Done(String),
}
